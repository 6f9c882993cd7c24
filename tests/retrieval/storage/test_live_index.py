"""A live index: searches during ingest, several writers and readers, crashes, a damaged file.

Real parts: the bundled model, Chroma embedded and as a server, the SQLite keyword index.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.chunk import ChunkLimits, chunk_article
from ingest.pipeline import article_info
from retrieval.models import Article
from retrieval.storage import lexical as lexical_module
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.store import PassageStore
from tests.conftest import ROOT, IndexFactory
from tests.helpers import CHESS, VOLCANO, article, put

pytestmark = pytest.mark.model

TOPICS = ["harbour", "orchard", "glacier", "foundry", "lighthouse", "vineyard", "railway", "bakery"]


def story(n: int) -> Article:
    """Return a distinct four-paragraph article whose headline word is `codeword{n}`."""
    topic = TOPICS[n % len(TOPICS)]
    paragraphs = [
        f"The {topic} project known as codeword{n} reached a milestone on day {n}, officials said "
        f"at a briefing, adding that work on the {topic} would continue through the winter months "
        f"and that the budget of {n + 3} million had been approved by the regional council.",
        f"Residents near the {topic} told reporters that the changes of phase {n} had been "
        "noticeable, with new paths, better lighting and fewer delays than in previous years, "
        "though some complained about noise from the early morning deliveries to the site.",
        f"An independent review of the {topic} is expected in the spring; its authors will look "
        f"at the costs, the timetable and the safety record of stage {n} before a final vote "
        "on the next phase, which could begin as soon as the following autumn if approved.",
        f"Local businesses said the {topic} work number {n} had brought more customers, and a "
        "trade association estimated that footfall had grown by a tenth since the first phase "
        "opened to the public, a figure the council described as encouraging news for the town.",
    ]
    # A tag of its own every few words: no two stories look like syndicated copies.
    tagged = [
        " ".join(w if i % 4 else f"{w} tag{n}x{i}" for i, w in enumerate(p.split()))
        for p in paragraphs
    ]
    return article(f"codeword{n} {topic} update", tagged, url=f"https://local.test/{n}")


def _spy(obj: Any, name: str, calls: list[tuple[Any, ...]]) -> None:
    """Record the calls of obj.name (the instance's own attribute, the method still runs)."""
    real = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    setattr(obj, name, wrapper)


def test_a_search_during_a_long_ingest_is_answered_from_what_is_committed(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    put(index, VOLCANO)
    stories = [story(n) for n in range(90)]  # about 360 passages: three batches to embed
    writer = threading.Thread(target=put, args=(index, *stories))
    writer.start()
    while writer.is_alive() and stories[0].article_id not in index.store.committed_revisions():
        time.sleep(0.01)

    volcano = index.search("lava fountains Reykjanes eruption")
    first = index.search("codeword0 milestone")
    still_writing = writer.is_alive()
    writer.join()

    assert still_writing, "the search waited for the ingest to end"
    assert volcano[0].passage.title == VOLCANO.title and volcano[0].lexical > 0
    # Searchable by keywords as soon as it was committed, not after the whole ingest.
    assert first[0].passage.article_id == stories[0].article_id and first[0].lexical > 0
    assert len(index.store.committed_revisions()) == 91


def test_a_search_while_a_writer_holds_the_keyword_lock_does_not_wait_for_it(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """A writer holds the keyword index's file lock through its commit and the merges it
    waits for (2 s at 100x); a question that reads the change feed must not wait for it."""
    from filelock import FileLock

    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    index.search("warm up")  # the keyword index is open
    put(index, VOLCANO)  # a commit the next search reads from the feed
    answered = threading.Event()

    with FileLock(str(index.lexical.path / "writer.lock")):  # a commit merging
        asker = threading.Thread(
            target=lambda: answered.set() if index.search("lava fountains") else None
        )
        asker.start()
        asker.join(timeout=60)
        assert answered.is_set()  # while the lock is still held

    asker.join()
    assert index.search("lava fountains")[0].passage.article_id == VOLCANO.article_id


def test_a_search_leaves_the_writers_own_new_commits_to_it(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """Between the store's commit and the keyword write, a search in another thread neither
    reads the article back from the store nor waits for the writer beyond
    LEAVE_TO_WRITER_S (2.2 s at 100x)."""
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, VOLCANO)
    committed, release = threading.Event(), threading.Event()
    real_put_many = index.lexical.put_many

    def slow_keyword_write(articles: list[Any]) -> int:
        if articles:  # the writer's (or, wrongly, a search's) write of story 1
            committed.set()  # in the store, not yet in the keyword index
            release.wait(60)
        return real_put_many(articles)

    index.lexical.put_many = slow_keyword_write  # type: ignore[method-assign,assignment]
    writer = threading.Thread(target=put, args=(index, story(1)))
    writer.start()
    assert committed.wait(60)
    read: list[tuple[Any, ...]] = []
    _spy(index.store, "revision_passages", read)
    answered: list[Any] = []
    asker = threading.Thread(target=lambda: answered.append(index.search("lava fountains")))
    asker.start()
    asker.join(timeout=60)
    waited = asker.is_alive()
    release.set()
    writer.join()
    asker.join()

    assert not waited, "the search waited for the writer"
    assert answered[0][0].passage.article_id == VOLCANO.article_id
    assert read == []  # left to the writer
    found = index.search("codeword1 milestone")
    assert found[0].passage.article_id == story(1).article_id and found[0].lexical > 0


def test_a_writer_failing_between_the_store_and_the_keyword_index_loses_nothing(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """The searches it told to leave the article to it index it once it has failed."""
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, VOLCANO)

    real_put_many = index.lexical.put_many

    def failing_keyword_write(articles: list[Any]) -> int:
        if not articles:  # a look at the feed with nothing to write
            return real_put_many(articles)
        index.search("codeword1 milestone")  # a search meanwhile leaves the article alone
        raise RuntimeError("the writer died here")

    index.lexical.put_many = failing_keyword_write  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        passages = chunk_article(story(1), index.count_tokens, ChunkLimits())
        index.put_articles([(article_info(story(1), passages), passages)])
    del index.lexical.put_many  # the real method again

    found = index.search("codeword1 milestone")
    assert found[0].passage.article_id == story(1).article_id and found[0].lexical > 0


def test_two_writers_never_duplicate_or_lose_an_article(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location)
    stories = [story(n) for n in range(12)]
    reports: list[Any] = []
    writers = [
        threading.Thread(target=lambda part=part: reports.append(put(index, *part)))
        for part in (stories[:8], stories[4:])  # an /ingest and a feed poll, overlapping
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    assert sum(r.added for r in reports) == 12
    assert sum(r.unchanged for r in reports) == 4
    assert sorted(index.store.committed_revisions()) == sorted(s.article_id for s in stories)
    assert index.store.count_passages() == sum(
        info.passages for info in index.store.list_articles()
    )
    for n in (0, 5, 11):
        assert index.search(f"codeword{n}")[0].passage.article_id == stories[n].article_id


def test_another_process_follows_adds_and_forgets_without_a_rebuild(
    make_index: IndexFactory, chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_server
    location = ChromaLocation(host=host, port=port)
    writer = make_index(location, data_dir=tmp_path / "bot")
    reader = make_index(location, data_dir=tmp_path / "replica")  # its own catalogue and file
    put(writer, VOLCANO, CHESS)
    assert reader.search("chess championship")[0].passage.title == CHESS.title
    rebuilt: list[tuple[Any, ...]] = []
    read: list[tuple[Any, ...]] = []
    _spy(reader.store, "iter_passages", rebuilt)
    _spy(reader.store, "revision_passages", read)

    put(writer, story(1))
    writer.forget(CHESS.article_id)
    added = reader.search("codeword1 milestone")
    forgotten = reader.search("chess championship")

    assert added[0].passage.article_id == story(1).article_id and added[0].lexical > 0
    assert CHESS.title not in {hit.passage.title for hit in forgotten}
    assert rebuilt == []
    assert [args[0] for args in read] == [story(1).article_id]  # only what changed was read


def _ranked(index: LexicalIndex, query: str) -> list[tuple[str, float]]:
    """Return every hit with its score, in an order that does not depend on ties."""
    return sorted((pid, round(score, 6)) for pid, score in index.search(query, 100_000))


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np
    from retrieval.storage.embedder import Embedder
    from retrieval.storage.lexical import LexicalIndex
    from retrieval.index import NewsIndex
    from retrieval.storage.location import ChromaLocation, open_client
    from retrieval.storage.store import PassageStore
    from retrieval.models import ArticleInfo, Passage, passage_id

    chroma, keywords = Path(sys.argv[1]), Path(sys.argv[2])
    store = PassageStore(open_client(ChromaLocation(path=chroma)), prefix="k", embedding_model="m")
    index = NewsIndex(store, LexicalIndex(keywords), Embedder())  # the model is never loaded
    index.refresh()
    rng = np.random.default_rng(0)
    for n in range(10_000):
        aid, revision = f"a{n}", f"r{n:08d}"
        passages = [
            Passage(passage_id(aid, revision, i), aid, i, f"item{n} word{i} common text", f"t{n}")
            for i in range(3)
        ]
        info = ArticleInfo(aid, f"t{n}", None, None, None, 3, revision)
        vectors = rng.standard_normal((3, 8)).astype(np.float32)
        index.put_embedded([(info, passages, vectors)])
        print(n, flush=True)
    """
)


def test_a_kill_during_keyword_updates_leaves_nothing_missing_after_a_restart(
    tmp_path: Path,
) -> None:
    chroma, keywords = tmp_path / "chroma", tmp_path / "keywords"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(chroma), str(keywords)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    written = -1
    for line in proc.stdout:
        written = int(line)
        if written >= 60:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert written >= 60, "the writer stopped before it was killed"

    store = PassageStore(open_client(ChromaLocation(path=chroma)), prefix="k", embedding_model="m")
    restarted = LexicalIndex(keywords)
    store.sync()
    restarted.catch_up(store)
    clean = LexicalIndex(tmp_path / "clean")
    clean.catch_up(store)  # built from scratch

    committed = set(store.committed_revisions())
    assert len(committed) > 60
    for query in ("common text", "item3 word1", "item60", f"item{len(committed) - 1} word2"):
        assert _ranked(restarted, query) == _ranked(clean, query)
    assert len(restarted) == len(clean) == 3 * len(committed)


def test_a_damaged_keyword_index_is_rebuilt_while_questions_are_answered(
    make_index: IndexFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    location = ChromaLocation(path=tmp_path / "chroma")
    first = make_index(location, data_dir=tmp_path / "data")
    put(first, VOLCANO, CHESS)
    path = first.lexical.path
    first.close()
    (path / "meta.json").write_text("this is not an index", encoding="utf-8")
    monkeypatch.setattr(lexical_module, "SYNC_REBUILD_PASSAGES", 0)  # as for a large store
    index = make_index(location, data_dir=tmp_path / "data")
    release = threading.Event()
    real_iter = index.store.iter_passages

    def slow_iter(*args: Any) -> Any:
        release.wait(30)
        return real_iter(*args)

    monkeypatch.setattr(index.store, "iter_passages", slow_iter)
    caplog.set_level(logging.INFO, logger="retrieval.storage.lexical")

    during = index.ask("What did the geophysicist say about the eruption?")
    release.set()
    index.lexical.wait()
    after = index.search("lava fountains eruption")

    assert during.grounded and "larger than the previous ones" in during.text
    assert all(c.passage.title == VOLCANO.title for c in during.citations)
    assert after[0].passage.title == VOLCANO.title and after[0].lexical > 0
    assert Path(f"{path}.unusable").exists()  # kept for a human to look at
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "unreadable" in messages and "answers use dense search alone" in messages


def _fake_article(n: int) -> tuple[Any, list[Any], Any]:
    import numpy as np

    from retrieval.models import ArticleInfo, Passage, passage_id

    aid, revision = f"a{n}", f"r{n:08d}"
    passages = [
        Passage(passage_id(aid, revision, i), aid, i, f"item{n} word{i} common text", f"t{n}")
        for i in range(3)
    ]
    info = ArticleInfo(aid, f"t{n}", None, None, None, 3, revision)
    return info, passages, np.random.default_rng(n).standard_normal((3, 8)).astype(np.float32)


def test_an_article_committed_before_a_crash_reaches_the_keyword_index(tmp_path: Path) -> None:
    chroma = ChromaLocation(path=tmp_path / "chroma")
    store = PassageStore(open_client(chroma), prefix="c", embedding_model="m")
    lexical = LexicalIndex(tmp_path / "keywords")
    store.sync()
    lexical.catch_up(store)
    info, passages, vectors = _fake_article(1)
    # The commit, then the crash: the keyword index never heard of it.
    store.write_articles([(info, passages, vectors, None)])

    restarted = LexicalIndex(tmp_path / "keywords")
    restarted.catch_up(store)

    assert restarted.search("item1 word2", 5)[0][0] == passages[2].passage_id


READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from retrieval.storage.lexical import LexicalIndex
    from retrieval.storage.location import ChromaLocation, open_client
    from retrieval.storage.store import PassageStore

    host, port, prefix, keywords = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    store = PassageStore(
        open_client(ChromaLocation(host=host, port=port)), prefix=prefix, embedding_model="m"
    )
    lexical = LexicalIndex(keywords)
    found = 0
    deadline = time.monotonic() + float(sys.argv[5])
    while time.monotonic() < deadline:
        store.sync()
        lexical.catch_up(store)
        found = max(found, len(lexical.search("common text", 1000)))
    print(found)
    """
)


def test_processes_sharing_a_data_dir_ask_while_another_writes_without_errors(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    from retrieval.index import NewsIndex
    from retrieval.storage.embedder import Embedder

    host, port = chroma_server
    prefix = f"shared{os.getpid()}"
    keywords = tmp_path / "data" / "keywords"  # one directory for every process
    store = PassageStore(
        open_client(ChromaLocation(host=host, port=port)), prefix=prefix, embedding_model="m"
    )
    writer = NewsIndex(store, LexicalIndex(keywords), Embedder())
    writer.refresh()
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, host, str(port), prefix, str(keywords), "12"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(3)
    ]
    for n in range(40):
        info, passages, vectors = _fake_article(n)
        writer.put_embedded([(info, passages, vectors)])
        if n % 10 == 9:
            writer.forget(f"a{n - 5}")
    results = [reader.communicate(timeout=120) for reader in readers]

    for (out, errors), reader in zip(results, readers, strict=True):
        assert reader.returncode == 0, errors[-2000:]
        assert int(out) > 0
    writer.refresh()
    assert len(writer.lexical.search("common text", 1000)) == 3 * (40 - 4)


def test_own_commits_coming_back_in_the_feed_cost_no_keyword_searches(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, CHESS)  # the keyword index is built from the store on the first write
    batch = [
        article(f"Council notice {i}", [f"The council approved plan {i} for the {i}th ward."])
        for i in range(30)
    ]
    assert put(index, *batch).added == 30
    looked_up: list[str] = []
    held = LexicalIndex._held

    def counting(self: LexicalIndex, searcher: Any, article_id: str) -> tuple[str, int] | None:
        looked_up.append(article_id)
        return held(self, searcher, article_id)

    monkeypatch.setattr(LexicalIndex, "_held", counting)
    # The next question reads the feed again from a little before the last look, so the 30
    # commits come back: this index wrote them, so it knows them without a search each (after
    # a bulk ingest at 10x that was 6,000 searches, ~20 s, in the first question).
    hits = index.search("council plan 7 ward")

    assert not set(looked_up) & {a.article_id for a in batch}
    assert hits and hits[0].passage.title == "Council notice 7"


def test_the_change_feed_is_read_in_pages(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's bulk write can be tens of thousands of commits: read at once, Chroma
    fails ("too many SQL variables", seen at 100x). Pages of 2 here, 5 commits."""
    from retrieval.storage import store as store_module

    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    articles = [
        article(f"Harbour report {i}", [f"Vessel {i} docked at berth {i}."]) for i in range(5)
    ]
    assert put(index, *articles).added == 5
    monkeypatch.setattr(store_module, "_PAGE", 2)

    changes = index.store.changes_since(0)

    assert len({c.article_id for c in changes}) == 5
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)


def _segments(lexical: LexicalIndex) -> int:
    import json

    (meta,) = lexical.path.rglob("meta.json")
    return len(json.loads(meta.read_text(encoding="utf-8"))["segments"])


def test_many_small_commits_leave_few_keyword_segments(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """Feeds commit an article or a few at a time, all day. Tantivy merges segments on the
    writer's threads; a writer dropped right after its commit killed those merges, so every
    commit's segment stayed: commits and searches slowed as segments piled up (at 10x, a
    one-article commit took 1.2 s)."""
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, CHESS)
    for n in range(40):
        put(index, story(n))

    assert _segments(index.lexical) <= 10
    hits = index.search("codeword17 milestone")
    assert hits[0].passage.title == "codeword17 orchard update"


def test_an_index_just_opened_keyword_indexes_its_own_writes_at_commit(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that writes before it ever searched (`newsbot ingest`, a feed poll right after
    start-up) used to leave its articles and forgets to the next search's catch-up through the
    change feed: at 100x, after a bulk write, that was tens of thousands of Chroma reads."""
    location = ChromaLocation(path=tmp_path / "chroma")
    first = make_index(location)
    put(first, CHESS)
    first.close()
    index = make_index(location)
    read_back: list[tuple[Any, ...]] = []
    _spy(index.store, "revision_passages", read_back)

    assert put(index, VOLCANO, story(1)).added == 2
    stored = index.store.count_passages()
    assert len(index.lexical) == stored  # every passage keyword-indexed, before any search
    assert index.forget(story(1).article_id)
    assert len(index.lexical) == index.store.count_passages() < stored
    hits = index.search("codeword1 orchard")

    assert read_back == []  # nothing re-read from the store: it was indexed at commit
    assert all(hit.passage.article_id != story(1).article_id for hit in hits)
