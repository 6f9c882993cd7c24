"""The running bot over a Chroma server that stops and comes back: members get a plain
"try again" reply (privately), the log gets one line, and answers resume with the server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import simcord

from bot.discord.checks import INDEX_UNAVAILABLE
from retrieval.index import NewsIndex
from tests.bot.conftest import COOLDOWN, World, seed_articles
from tests.conftest import ChromaProcess, IndexFactory
from tests.helpers import put

pytestmark = [pytest.mark.model, pytest.mark.server]

QUESTION = "what did Putin say about India's oil?"
QUOTE = "why should India be deprived of this right?"


@pytest.fixture
def index(make_index: IndexFactory, own_chroma: ChromaProcess, tmp_path: Path) -> NewsIndex:
    """The real index over a Chroma server of the test's own, holding the example seed article."""
    index = make_index(own_chroma.location)
    assert put(index, *seed_articles()).added == 1
    return index


def _texts(result: simcord.InteractionResult) -> list[str]:
    messages = [*([result.response] if result.response else []), *result.followups]
    return [m.content or "" for m in messages] + [
        e.description or "" for m in messages for e in m.embeds
    ]


async def test_the_bot_says_try_again_while_chroma_is_down_and_answers_when_it_is_back(
    world: World, own_chroma: ChromaProcess, caplog: pytest.LogCaptureFixture
) -> None:
    assert any(
        QUOTE in t for t in _texts(await world.alice.slash(world.general, "ask", question=QUESTION))
    )

    own_chroma.stop()
    assert world.bot.user is not None
    with caplog.at_level(logging.WARNING, logger="bot"):
        down = await world.bob.slash(world.general, "ask", question=QUESTION)
        await world.mod.send(world.general, f"{world.bot.user.mention} {QUESTION}")

    (reply,) = [m for m in [*([down.response] if down.response else []), *down.followups]]
    assert reply.content == INDEX_UNAVAILABLE and reply.ephemeral
    (thread,) = world.general.threads  # a mention gets the same words in its thread
    assert [m.content for m in thread.history()] == [INDEX_UNAVAILABLE]
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 2
    for record in logged:
        assert "Chroma server" in record.getMessage() and "\n" not in record.getMessage()
        assert record.exc_info is None

    own_chroma.start()
    await world.env.advance_time(COOLDOWN)
    back = await world.bob.slash(world.general, "ask", question=QUESTION)
    assert any(QUOTE in t for t in _texts(back))
