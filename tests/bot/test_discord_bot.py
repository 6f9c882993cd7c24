"""The Discord bot as its users see it, driven through SimCord's offline Discord.

Every test acts as a guild member (slash commands, button clicks, messages) and asserts on what
Discord would show: messages, embeds, buttons, ephemerality, threads. The index is the real one
(bundled model, embedded Chroma) holding the example seed article; feedback is real SQLite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import discord
import pytest
import simcord
from simcord import assert_responded

from bot.discord.app import NewsBot
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from bot.discord.render import (
    CHARS_PER_MESSAGE,
    CONTENT,
    DESCRIPTION,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS,
    TITLE,
    answer_pages,
    embed_size,
)
from retrieval.models import Answer, Citation, Passage, SearchFilters, Turn
from tests.bot.conftest import COOLDOWN, GUILD_ID, World, grant_admin_commands

pytestmark = pytest.mark.model

QUESTION = "what did Putin say about India's oil?"
FOLLOW_UP = "and what about the G7?"
HEADLINE = "Putin says Russia hasn’t received G7 reinstatement offer from US"
QUOTE = "why should India be deprived of this right?"
REFUSAL = "Only server managers (or configured admins) can do that."
SORRY = "Sorry, something went wrong"

LIGHTHOUSE = b"""outlet: Harbour Gazette
published_at: 2025-03-02

Volunteers restore the old Kerrow lighthouse

Volunteers finished restoring the Kerrow lighthouse on Saturday, repainting its tower and
repairing the lamp room that had been closed since 1998.

"The light will shine again this summer," said Moira Glen, who led the restoration.
"""

Message = simcord.ResponseMessage | discord.Message


# -- helpers: what a user sees --------------------------------------------------------------------
def buttons(message: Message) -> list[dict[str, Any]]:
    """Return the buttons of a message, in order, as Discord component dicts."""
    rows: list[dict[str, Any]] = (
        message.components
        if isinstance(message, simcord.ResponseMessage)
        else [dict(row.to_dict()) for row in message.components]
    )
    found = []
    for row in rows:
        for component in row.get("components", [row]):
            if component.get("type") == discord.ComponentType.button.value:
                found.append(component)
    return found


def answer_id_of(message: Message) -> str:
    """Return the answer id that the message's buttons carry (all three carry the same one)."""
    ids = {b["custom_id"].rsplit(":", 1)[1] for b in buttons(message)}
    assert len(ids) == 1, ids
    (answer_id,) = ids
    assert re.fullmatch(r"[0-9a-f]{16}", answer_id)
    return answer_id


def replies(result: simcord.InteractionResult) -> list[simcord.ResponseMessage]:
    """Return the original response (unless deleted) and the follow-ups of an interaction."""
    original = [result.response] if result.response is not None else []
    return [*original, *result.followups]


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def descriptions(messages: Sequence[Message]) -> list[str]:
    return [e.description or "" for m in messages for e in m.embeds]


def assert_within_discord_limits(content: str, embeds: Sequence[dict[str, Any]]) -> None:
    """Assert one message respects every Discord limit on content and embeds."""
    assert len(content) <= CONTENT
    assert len(embeds) <= EMBEDS_PER_MESSAGE
    for embed in embeds:
        assert len(embed.get("title", "")) <= TITLE
        assert len(embed.get("description", "")) <= DESCRIPTION
        fields = embed.get("fields", [])
        assert len(fields) <= FIELDS
        for f in fields:
            assert len(f["name"]) <= FIELD_NAME
            assert len(f["value"]) <= FIELD_VALUE
    assert sum(embed_size(e) for e in embeds) <= CHARS_PER_MESSAGE


def message_bodies(requests: Sequence[simcord.HttpLogEntry]) -> list[dict[str, Any]]:
    """Return the bodies of every message the bot sent or edited, from SimCord's HTTP log."""
    bodies = []
    for r in requests:
        if not isinstance(r.json, dict) or r.method not in {"POST", "PATCH"}:
            continue
        if r.path.endswith("/callback"):
            if r.json.get("type") in (4, 7):  # a message, or an update of the clicked one
                bodies.append(r.json.get("data") or {})
        elif {"content", "embeds", "components"} & r.json.keys():
            bodies.append(r.json)
    return bodies


def assert_nothing_can_ping(requests: Sequence[simcord.HttpLogEntry]) -> None:
    bodies = message_bodies(requests)
    assert bodies
    for body in bodies:
        mentions = body.get("allowed_mentions")
        assert mentions is not None, body
        assert mentions.get("parse") == [], mentions
        assert not mentions.get("users") and not mentions.get("roles"), mentions
        assert mentions.get("replied_user", False) is False, mentions


async def ask(world: World, member: simcord.MemberActor, question: str = QUESTION, **options: Any):
    return await member.slash(world.general, "ask", question=question, **options)


def record_asks(world: World, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """Record the question and history of every call to the real index.ask."""
    calls: list[tuple[str, list[Any]]] = []
    real_ask = world.index.ask

    def recording_ask(
        question: str, filters: SearchFilters | None = None, history: Sequence[Turn] = ()
    ) -> Answer:
        calls.append((question, list(history)))
        return real_ask(question, filters, history)

    monkeypatch.setattr(world.index, "ask", recording_ask)
    return calls


# -- /ask -----------------------------------------------------------------------------------------
async def test_ask_defers_then_answers_with_cited_sources_and_buttons(world: World) -> None:
    start = len(world.env.http_requests)

    result = await ask(world, world.alice)

    requests = world.env.http_requests[start:]
    # Acknowledged at once with "thinking…" (type 5), then the original response is edited.
    assert [(r.method, r.path.rsplit("/", 2)[-1]) for r in requests] == [
        ("POST", "callback"),
        ("PATCH", "@original"),
    ]
    assert requests[0].json == {"type": 5}
    assert result.acknowledged and result.followups == []
    message = result.response
    assert message is not None and not message.ephemeral
    assert message.message.edited_at is not None

    answer, sources = message.embeds
    assert answer.title == "Answer"
    assert answer.description is not None and QUOTE in answer.description
    cited = markers(answer.description)
    assert cited and cited == sorted(set(cited))
    assert sources.title == "Sources"
    assert [f.name for f in sources.fields] == [f"[{n}] {HEADLINE}" for n in cited]
    for f in sources.fields:
        assert f.value is not None and f.value.startswith("MENAFN, 2025-12-06\n> ")

    passages, up, down = buttons(message)
    assert (passages["label"], passages["emoji"]["name"]) == ("Passages", "📄")
    assert up["emoji"]["name"] == "👍" and down["emoji"]["name"] == "👎"
    answer_id = answer_id_of(message)
    assert passages["custom_id"] == f"newsbot:passages:{answer_id}"
    assert up["custom_id"] == f"newsbot:vote:up:{answer_id}"
    assert down["custom_id"] == f"newsbot:vote:down:{answer_id}"
    stored = FeedbackStore(world.feedback_path).answer(answer_id)
    assert stored is not None
    assert (stored.question, stored.user_id) == (QUESTION, world.alice.id)

    assert_nothing_can_ping(requests)


async def test_ask_date_options_take_plain_words_and_filter_the_coverage(world: World) -> None:
    before = await ask(world, world.alice, until="November 2025")  # the article: 2025-12-06
    after = await ask(world, world.bob, since="december 2025")
    unreadable = await ask(world, world.mod, since="soon")

    assert before.response is not None
    refusal = before.response.embeds[0].description or ""
    assert "doesn't say" in refusal and QUOTE not in refusal
    assert after.response is not None
    assert QUOTE in (after.response.embeds[0].description or "")
    assert_responded(unreadable, contains="`since` wants a date like 2025-12-06", ephemeral=True)
    assert_responded(unreadable, contains="not “soon”")


def long_answer(citations: int = 30, text_chars: int = 9000) -> Answer:
    sentence = "The coverage reports another detail of the long story, quoted at length here. "
    text = ""
    n = 0
    while len(text) < text_chars:
        n = n % citations + 1
        text += sentence + f"[{n}] "
    body = " ".join(f"Paragraph word {i} of a long passage." for i in range(200))
    cites = tuple(
        Citation(
            n,
            Passage(
                passage_id=f"p{n:04d}",
                article_id=f"a{n:04d}",
                position=0,
                text=body,
                title=f"Headline number {n} " + "with a very long tail " * 12,
                outlet="Long Wire",
                published_at="2025-01-15",
                url=f"https://long.example/{n}",
            ),
        )
        for n in range(1, citations + 1)
    )
    return Answer(text.strip(), cites, grounded=True, notes=("a note",))


async def test_a_long_answer_is_split_into_messages_within_discord_limits(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = long_answer()
    pages = answer_pages(answer)
    assert len(pages) > 1
    for page in pages:
        assert_within_discord_limits(page.content, page.embeds)
    monkeypatch.setattr(world.index, "ask", lambda *args, **kwargs: answer)

    result = await ask(world, world.alice)

    assert result.response is not None
    messages = [result.response, *result.followups]
    assert len(messages) == len(pages)
    for message in messages:
        assert not message.ephemeral
        assert_within_discord_limits(message.content, [e.to_dict() for e in message.embeds])
    # The buttons go under the first message only; the overflow follows as plain messages.
    assert len(buttons(messages[0])) == 3
    assert all(buttons(m) == [] for m in messages[1:])
    # Nothing is lost: the text reads whole across the messages, every source appears once.
    text = " ".join(d for d in descriptions(messages) if d)
    assert text.split() == answer.text.split()
    names = [f.name or "" for m in messages for e in m.embeds for f in e.fields]
    assert [markers(name)[0] for name in names] == list(range(1, 31))


# -- buttons --------------------------------------------------------------------------------------
async def test_passages_and_votes_work_and_survive_a_restart(world: World) -> None:
    result = await ask(world, world.alice)
    message = result.response
    assert message is not None
    answer_id = answer_id_of(message)
    excerpts = [f.value or "" for f in message.embeds[1].fields]

    shown = await world.bob.click(message, label="Passages")

    assert_responded(shown, ephemeral=True)
    assert shown.response is not None
    full = descriptions([shown.response])
    stored_texts = {p.text for p in world.index.store.iter_passages()}
    assert full and set(full) <= stored_texts  # the whole passages, as indexed
    for excerpt in excerpts:  # each shortened excerpt under Sources is shown in full here
        start = excerpt.split("\n> ", 1)[1].rstrip("…")
        flat = [" ".join(text.split()) for text in full]
        assert any(text.startswith(start) and len(text) > len(start) for text in flat)
    assert all(e.footer.text == "MENAFN, 2025-12-06" for e in shown.response.embeds)
    assert all((e.title or "").endswith(HEADLINE) for e in shown.response.embeds)

    up = await world.alice.click(message, custom_id=f"newsbot:vote:up:{answer_id}")
    assert_responded(up, content="Thanks for the feedback.", ephemeral=True)
    assert FeedbackStore(world.feedback_path).votes(answer_id) == [(world.alice.id, 1)]

    down = await world.alice.click(message, custom_id=f"newsbot:vote:down:{answer_id}")
    assert_responded(down, content="Thanks for the feedback.", ephemeral=True)
    assert FeedbackStore(world.feedback_path).votes(answer_id) == [(world.alice.id, -1)]

    # A restart: a new bot process over the same databases; the old message's buttons still work.
    old_bot = world.bot
    await world.env.restart_bot(world.new_bot())
    assert world.env.bot is not old_bot

    again = await world.bob.click(message, custom_id=f"newsbot:vote:up:{answer_id}")
    assert_responded(again, content="Thanks for the feedback.", ephemeral=True)
    assert FeedbackStore(world.feedback_path).votes(answer_id) == sorted(
        [(world.alice.id, -1), (world.bob.id, 1)]
    )
    reopened = await world.alice.click(message, label="Passages")
    assert_responded(reopened, ephemeral=True)
    assert reopened.response is not None
    assert descriptions([reopened.response]) == full


# -- cooldown -------------------------------------------------------------------------------------
async def test_cooldown_stops_quick_repeats_for_that_user_only(world: World) -> None:
    first = await ask(world, world.alice)
    assert first.response is not None and first.response.embeds

    again = await ask(world, world.alice, FOLLOW_UP)

    assert_responded(again, content="You're asking quickly — try again in 10 s.", ephemeral=True)
    assert again.response is not None and again.response.embeds == []
    assert again.followups == []
    bobs = await ask(world, world.bob)
    assert_responded(bobs, embed_title="Answer", ephemeral=False)

    await world.env.advance_time(4)
    later = await ask(world, world.alice, FOLLOW_UP)
    assert_responded(later, content="You're asking quickly — try again in 6 s.", ephemeral=True)

    await world.env.advance_time(COOLDOWN - 4)
    after = await ask(world, world.alice, FOLLOW_UP)
    assert_responded(after, embed_title="Answer", ephemeral=False)
    assert FeedbackStore(world.feedback_path).counts()["answers"] == 3


# -- admin commands -------------------------------------------------------------------------------
def admin_invocations(article_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("forget", {"article_id": article_id}),
        ("ingest", {"file": ("lighthouse.txt", LIGHTHOUSE)}),
        ("stats", {}),
        ("sources", {}),
    ]


async def test_plain_members_are_refused_admin_commands_and_nothing_changes(
    world: World,
) -> None:
    (seed,) = world.index.articles()
    # Discord shows the admin commands to server managers only...
    assert set(world.alice.available_commands(world.general)) == {
        "ask",
        "timeline",
        "compare",
        "brief",
        "follow",
        "follows",
        "unfollow",
    }
    assert {"ingest", "sources", "forget", "stats"} < set(
        world.mod.available_commands(world.general)
    )
    # ...and a server that grants them to anyone anyway still gets newsbot's own refusal.
    grant_admin_commands(world.env, world.guild, world.alice)

    for name, options in admin_invocations(seed.article_id):
        result = await world.alice.slash(world.general, name, **options)
        assert_responded(result, content=REFUSAL, ephemeral=True)
        assert not result.deferred

    assert [a.article_id for a in world.index.articles()] == [seed.article_id]
    assert FeedbackStore(world.feedback_path).counts()["answers"] == 0


async def test_a_refused_admin_command_gets_only_the_refusal(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    (seed,) = world.index.articles()
    grant_admin_commands(world.env, world.guild, world.alice)
    for name, options in admin_invocations(seed.article_id):
        with caplog.at_level(logging.INFO):
            result = await world.alice.slash(world.general, name, **options)
        assert_responded(result, content=REFUSAL, ephemeral=True)
        assert [m.content for m in result.followups] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_an_admin_ingests_an_attached_article(world: World) -> None:
    result = await world.mod.slash(world.general, "ingest", file=("lighthouse.txt", LIGHTHOUSE))

    assert_responded(
        result,
        content="`lighthouse.txt`: 1 added, 0 updated, 0 unchanged, 0 syndicated copies, 0 failed",
        ephemeral=True,
    )
    titles = [a.title for a in world.index.articles()]
    assert sorted(titles) == sorted([HEADLINE, "Volunteers restore the old Kerrow lighthouse"])

    # It is searchable at once.
    answered = await world.mod.slash(world.general, "ask", question="Who restored the lighthouse?")
    assert answered.response is not None
    assert [f.name for f in answered.response.embeds[1].fields] == [
        "[1] Volunteers restore the old Kerrow lighthouse"
    ]


async def test_ingest_refuses_pdf_url_and_missing_input(world: World) -> None:
    pdf = await world.mod.slash(world.general, "ingest", file=("report.pdf", b"%PDF-1.4 ..."))
    assert_responded(pdf, contains="`report.pdf`: unsupported file type", ephemeral=True)
    assert pdf.response is not None and ".txt" in pdf.response.content

    url = await world.mod.slash(world.general, "ingest", url="https://news.example/story")
    assert_responded(
        url,
        content="Ingesting from a URL is not configured; attach the article as a file.",
        ephemeral=True,
    )

    neither = await world.mod.slash(world.general, "ingest")
    assert_responded(neither, content="Give either `url` or `file`.", ephemeral=True)

    assert [a.title for a in world.index.articles()] == [HEADLINE]


async def test_forget_asks_for_confirmation(world: World) -> None:
    (seed,) = world.index.articles()

    prompt = await world.mod.slash(world.general, "forget", article_id=seed.article_id)

    assert_responded(
        prompt,
        content=f"Forget “{HEADLINE}” (MENAFN) and its {seed.passages} passage(s)?",
        ephemeral=True,
    )
    assert prompt.response is not None
    assert [b["label"] for b in buttons(prompt.response)] == ["Forget it", "Cancel"]

    await world.mod.click(prompt.response, label="Cancel")

    assert prompt.response.content == "Nothing was removed."
    assert buttons(prompt.response) == []
    assert [a.article_id for a in world.index.articles()] == [seed.article_id]

    prompt = await world.mod.slash(world.general, "forget", article_id=seed.article_id)
    assert prompt.response is not None
    await world.mod.click(prompt.response, label="Forget it")

    assert prompt.response.content == f"Forgot article `{seed.article_id}`."
    assert buttons(prompt.response) == []
    assert world.index.articles() == []
    gone = await ask(world, world.alice)
    assert_responded(gone, embed_title="Not in the coverage")

    unknown = await world.mod.slash(world.general, "forget", article_id="0123456789abcdef")
    assert_responded(
        unknown, content="No article with id `0123456789abcdef` (see /sources).", ephemeral=True
    )


async def test_configured_admin_ids_see_stats_and_sources(world: World) -> None:
    config = BotConfig(guild_id=GUILD_ID, admin_user_ids=frozenset({world.alice.id}))
    await world.env.restart_bot(NewsBot(world.index, FeedbackStore(world.feedback_path), config))
    (seed,) = world.index.articles()
    # Shown to both by the server's own settings; only alice is an admin by newsbot's rules.
    grant_admin_commands(world.env, world.guild, world.alice, world.bob)

    stats = await world.alice.slash(world.general, "stats")

    assert_responded(stats, ephemeral=True)
    assert stats.response is not None
    assert stats.response.content.splitlines()[:3] == [
        "Articles: 1",
        f"Passages: {seed.passages}",
        "Outlets: 1",
    ]
    sources = await world.alice.slash(world.general, "sources", query="putin")
    assert_responded(sources, embed_title="Articles matching “putin”", ephemeral=True)
    assert sources.response is not None
    (embed,) = sources.response.embeds
    assert embed.description == f"`{seed.article_id}` 2025-12-06 · MENAFN · {HEADLINE}"
    assert [(b["label"], b.get("disabled")) for b in buttons(sources.response)] == [
        ("◀ Previous", True),
        ("Next ▶", True),
    ]
    refused = await world.bob.slash(world.general, "stats")
    assert_responded(refused, content=REFUSAL, ephemeral=True)


# -- mentions and threads -------------------------------------------------------------------------
async def test_a_mention_opens_a_thread_and_follow_ups_carry_the_history(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_asks(world, monkeypatch)
    assert world.bot.user is not None
    bot_id = world.bot.user.id

    mention = await world.alice.send(world.general, f"{world.bot.user.mention} {QUESTION}")

    (thread,) = world.general.threads
    assert thread.id == mention.id  # started from the member's message
    assert thread.name == QUESTION
    (first,) = thread.history()
    assert first.author.id == bot_id
    assert first.embeds[0].title == "Answer"
    first_text = first.embeds[0].description
    assert first_text is not None and QUOTE in first_text
    assert len(buttons(first)) == 3

    await world.env.advance_time(COOLDOWN)  # the same user again: past the cooldown
    await world.alice.send(thread, FOLLOW_UP)

    assert len(world.general.threads) == 1
    *_, follow_up, second = thread.history()
    assert follow_up.content == FOLLOW_UP
    assert second.author.id == bot_id
    assert second.embeds[0].title == "Answer"
    assert "G7" in (second.embeds[0].description or "")
    assert calls == [
        (QUESTION, []),
        (FOLLOW_UP, [("user", QUESTION), ("assistant", first_text)]),
    ]
    assert_nothing_can_ping(world.env.http_requests)


async def test_a_follow_up_reads_the_thread_backwards_from_itself(world: World) -> None:
    # SimCord answers `after=` with the newest matching messages (real Discord: the oldest), so
    # the lost turns cannot show up here; what the bot asks Discord for is checked instead.
    assert world.bot.user is not None
    await world.alice.send(world.general, f"{world.bot.user.mention} {QUESTION}")
    (thread,) = world.general.threads
    await world.env.advance_time(COOLDOWN)
    start = len(world.env.http_requests)

    follow_up = await world.alice.send(thread, FOLLOW_UP)

    (read,) = [
        r
        for r in world.env.http_requests[start:]
        if r.method == "GET" and r.path == f"/channels/{thread.id}/messages"
    ]
    assert read.params.get("before") == follow_up.id
    assert "after" not in read.params


async def test_messages_in_other_channels_and_threads_are_ignored(world: World) -> None:
    await world.alice.send(world.general, QUESTION)  # no mention, not a thread of the bot

    assert world.general.threads == []
    assert [m.content for m in world.general.history()] == [QUESTION]
    assert FeedbackStore(world.feedback_path).counts()["answers"] == 0


async def test_a_channel_allowlist_limits_where_the_bot_answers(world: World) -> None:
    config = BotConfig(guild_id=GUILD_ID, channel_ids=frozenset({world.other.id}))
    await world.env.restart_bot(NewsBot(world.index, FeedbackStore(world.feedback_path), config))

    elsewhere = await ask(world, world.alice)

    assert_responded(elsewhere, content="I don't answer in this channel.", ephemeral=True)
    assert elsewhere.followups == []
    assert world.env.bot.user is not None
    await world.alice.send(world.general, f"{world.env.bot.user.mention} {QUESTION}")
    assert world.general.threads == []
    # The refusal did not use up the cooldown: the same user is answered in the allowed channel.
    allowed = await world.alice.slash(world.other, "ask", question=QUESTION)
    assert_responded(allowed, embed_title="Answer", ephemeral=False)


# -- failures -------------------------------------------------------------------------------------
def break_the_index(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_ask(*args: object, **kwargs: object) -> Answer:
        raise RuntimeError("the index exploded")

    monkeypatch.setattr(world.index, "ask", broken_ask)


async def test_an_error_is_logged_and_the_user_told(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    break_the_index(world, monkeypatch)

    with caplog.at_level(logging.ERROR, logger="bot.discord.app"):
        result = await ask(world, world.alice)

    (sorry,) = [m for m in replies(result) if SORRY in m.content]
    assert sorry.embeds == [] and len(sorry.content) < 100
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = record.getMessage()
    assert f"command ask by user {world.alice.id} failed" in text
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: the index exploded" in text

    monkeypatch.undo()  # the bot keeps running: the next question is answered
    assert_responded(await ask(world, world.bob), embed_title="Answer")


async def test_an_error_reply_is_private(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    break_the_index(world, monkeypatch)

    result = await ask(world, world.alice)

    seen_by_others = [m for m in world.general.history(viewer=world.bob) if SORRY in m.content]
    assert seen_by_others == []
    sorry = [m for m in replies(result) if SORRY in m.content]
    assert sorry and all(m.ephemeral for m in sorry)
