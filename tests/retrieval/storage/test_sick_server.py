"""The index over a Chroma server that stops and comes back: one-line errors, nothing half
written, and the same index object answers again once the server is back (as the bot needs)."""

from __future__ import annotations

import pytest

from retrieval.errors import StoreUnavailable
from tests.conftest import ChromaProcess, IndexFactory
from tests.helpers import CHESS, VOLCANO, put

pytestmark = [pytest.mark.model, pytest.mark.server]

VOLCANO_Q = "What did Magnus Gudmundsson say about the eruption?"
CHESS_Q = "Who won the national chess championship?"


def test_a_stopped_server_fails_one_line_and_the_same_index_recovers(
    own_chroma: ChromaProcess, make_index: IndexFactory
) -> None:
    index = make_index(own_chroma.location)
    assert put(index, VOLCANO).added == 1
    assert "larger than the previous ones" in index.ask(VOLCANO_Q).text

    own_chroma.stop()
    with pytest.raises(StoreUnavailable) as asked:
        index.ask(VOLCANO_Q)
    written = put(index, CHESS)  # a write while the server is down: reported, never raised

    message = str(asked.value)
    assert "\n" not in message and f"127.0.0.1:{own_chroma.port}" in message
    assert written.added == 0 and written.error and "Chroma server" in written.error
    assert written.failed == [(CHESS.origin, "not stored: the index stopped answering")]

    own_chroma.start()
    assert "larger than the previous ones" in index.ask(VOLCANO_Q).text
    assert put(index, CHESS).added == 1  # nothing half-written blocks the retry
    assert "Leeds" in index.ask(CHESS_Q).text
    assert [a.title for a in index.articles()] == [CHESS.title, VOLCANO.title]
