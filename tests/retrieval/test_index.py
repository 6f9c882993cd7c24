"""The index end to end with the real model and real Chroma (embedded and server)."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest

from retrieval.index import NewsIndex
from retrieval.models import SearchFilters
from retrieval.storage.location import ChromaLocation
from tests.conftest import IndexFactory
from tests.helpers import CHESS, RATE_RISE, VOLCANO, put


def _texts(index: NewsIndex) -> list[str]:
    return [p.text for p in index.store.iter_passages()]


def test_ingest_then_ask_cites_the_right_article(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    report = put(index, VOLCANO, CHESS)
    assert (report.added, report.failed) == (2, [])

    answer = index.ask("What did the geophysicist say about the eruption?")

    assert answer.grounded
    assert "larger than the previous ones" in answer.text
    assert {c.passage.title for c in answer.citations} == {VOLCANO.title}
    assert "[1]" in answer.text


def test_reingesting_the_same_article_changes_nothing(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    put(index, VOLCANO)
    before = sorted(p.passage_id for p in index.store.iter_passages())

    report = put(index, VOLCANO)

    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    assert sorted(p.passage_id for p in index.store.iter_passages()) == before


def test_a_changed_article_replaces_all_its_old_passages(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    put(index, VOLCANO)
    edited = replace(VOLCANO, paragraphs=("Correction: the eruption was small and brief.",))

    report = put(index, edited)

    assert report.updated == 1
    assert _texts(index) == ["Correction: the eruption was small and brief."]
    assert index.store.count_passages() == 1  # no stale passage left, visible or not
    hits = index.search("lava fountains eruption")
    assert [h.passage.text for h in hits] == ["Correction: the eruption was small and brief."]


def test_forget_removes_the_article_from_answers_and_sources(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    put(index, VOLCANO, CHESS)

    assert index.forget(VOLCANO.article_id)
    index.refresh()

    assert [a.title for a in index.articles()] == [CHESS.title]
    assert all(h.passage.article_id != VOLCANO.article_id for h in index.search("volcano lava"))
    assert not index.forget(VOLCANO.article_id)


def test_index_survives_a_restart(make_index: IndexFactory, location: ChromaLocation) -> None:
    first = make_index(location)
    put(first, VOLCANO, CHESS)
    first.close()

    second = make_index(location)

    assert {a.title for a in second.articles()} == {VOLCANO.title, CHESS.title}
    assert second.ask("Who won the chess championship?").citations[0].passage.title == CHESS.title


def test_filters_restrict_by_outlet_and_date(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    put(index, VOLCANO, CHESS)

    by_outlet = index.search("news", filters=SearchFilters(outlets=("daily board",)))
    by_date = index.search("news", filters=SearchFilters(until="2024-01-01"))

    assert {h.passage.outlet for h in by_outlet} == {"Daily Board"}
    assert {h.passage.outlet for h in by_date} == {"Nordic Post"}


def test_a_second_process_sees_writes_through_a_shared_server(
    make_index: IndexFactory, chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_server
    location = ChromaLocation(host=host, port=port)
    bot = make_index(location, data_dir=tmp_path / "bot")
    admin = make_index(location, data_dir=tmp_path / "admin")
    put(bot, CHESS)
    named = "What did the Nordic Post write about the final game?"
    assert bot.search(named)[0].passage.title == CHESS.title
    assert bot.search("volcano eruption lava")[0].passage.title == CHESS.title

    put(admin, VOLCANO)  # the admin's CLI writes; the bot's keyword index is now stale

    # The bot learns of the outlet in the search's own look at the store: named, the outlet's
    # passages lead, though the question's words are the chess game's.
    assert bot.search(named)[0].passage.title == VOLCANO.title
    hits = bot.search("volcano eruption lava")
    assert hits[0].passage.title == VOLCANO.title
    assert hits[0].lexical > 0  # found by the rebuilt keyword index too, not only by Chroma


def test_an_interrupted_update_leaves_the_old_article_whole(
    make_index: IndexFactory, location: ChromaLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = make_index(location)
    put(index, VOLCANO)
    old = _texts(index)
    edited = replace(VOLCANO, paragraphs=("Correction: the eruption was small.", "Second part."))
    commit = index.store.articles.upsert

    def crash(*args: object, **kwargs: object) -> NoReturn:
        raise KeyboardInterrupt  # Ctrl-C after the new passages were written, before the commit

    monkeypatch.setattr(index.store.articles, "upsert", crash)
    with pytest.raises(KeyboardInterrupt):
        put(index, edited)
    index.refresh()
    assert _texts(index) == old
    # The new revision's passages are in the vector index, uncommitted: a search's nearest
    # ids leave them out by their ids alone, before any passage is read.
    near = index.store.nearest_ids(list(index.embedder.embed(["the eruption was small"])), 10)[0]
    committed = {p.passage_id for p in index.store.iter_passages()}
    assert len(near) > len(committed)
    assert {pid for pid, _ in index.store.committed_ids(near)} == committed
    assert (
        "larger than the previous ones"
        in index.ask("What did the geophysicist say about the eruption?").text
    )

    monkeypatch.setattr(index.store.articles, "upsert", commit)
    report = put(index, edited)  # re-running completes the job

    assert report.updated == 1
    assert _texts(index) == ["Correction: the eruption was small.", "Second part."] or _texts(
        index
    ) == ["Correction: the eruption was small.\n\nSecond part."]
    assert index.store.count_passages() == len(_texts(index))


def test_a_syndicated_copy_is_recorded_as_another_publication_not_indexed_twice(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    from tests.helpers import article

    index = make_index(location)
    original = article(
        "Central bank raises rates", RATE_RISE, outlet="Wire A", url="https://a.example/1"
    )
    edited = [
        RATE_RISE[0].replace("Thursday", "Thursday evening"),
        RATE_RISE[1],
        RATE_RISE[2] + " (Reuters)",
    ]
    copy = article("Bank lifts rates again", edited, outlet="Paper B", url="https://b.example/9")
    unrelated = article("Local team wins cup", ["The local team won the cup final 2-1."])

    first = put(index, original)
    second = put(index, copy, unrelated)
    again = put(index, copy)

    assert (first.added, second.added, second.syndicated, again.syndicated) == (1, 1, 1, 1)
    infos = {a.title: a for a in index.articles()}
    assert set(infos) == {"Central bank raises rates", "Local team wins cup"}
    also = infos["Central bank raises rates"].also_published
    assert [(p.outlet, p.url) for p in also] == [("Paper B", "https://b.example/9")]
    answer = index.ask("What did the governor say about inflation and interest rates?")
    assert answer.citations[0].also_published == also


def test_after_warm_up_a_full_garbage_collection_has_little_to_walk(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """A full collection stops every thread (a question in flight too) for as long as it walks
    the tracked objects; what a warmed-up process holds is frozen out of its way."""
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, VOLCANO)
    tracked = len(gc.get_objects())
    try:
        index.warm_up()

        assert len(gc.get_objects()) < tracked / 10
        assert index.ask("What did the geophysicist say about the eruption?").citations
    finally:
        gc.unfreeze()
