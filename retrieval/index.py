"""NewsIndex: the façade the front ends call to store, search and answer."""

from __future__ import annotations

import gc
import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from retrieval.answer.chain import ChatAnswerer, ChatModelConfig, make_chat_model
from retrieval.answer.extractive import ExtractiveAnswerer, ExtractiveConfig
from retrieval.answer.sentences import split_sentences
from retrieval.errors import (
    DamagedStoreError,
    DiskFullError,
    ReadOnlyError,
    StoreUnavailable,
)
from retrieval.models import (
    Answer,
    ArticleInfo,
    Citation,
    Passage,
    Publication,
    SearchFilters,
    SearchHit,
    Turn,
)
from retrieval.question.intent import search_words
from retrieval.question.query import QueryPart
from retrieval.runtime import process_configured
from retrieval.search import HybridSearch, narrow, outlet_label
from retrieval.storage.changes import Commit, FeedPosition, next_seq
from retrieval.storage.disk import says_disk_full, short_of_space
from retrieval.storage.embedder import BUNDLED_MODEL, Embedder
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.location import (
    ChromaLocation,
    check_store,
    damaged_store,
    missing_store,
    open_client,
)
from retrieval.storage.lock import DataDirLock
from retrieval.storage.onnx_model import shared_model_cache
from retrieval.storage.shards import SHARD_PASSAGES
from retrieval.storage.signatures import encode
from retrieval.storage.store import PassageStore, passage_setting
from retrieval.stories.build import Stories
from retrieval.stories.models import Brief, Comparison, FollowMatch, Timeline, Topic
from retrieval.stories.written import written_brief, written_comparison, written_timeline

logger = logging.getLogger(__name__)

WriteStatus = Literal["added", "updated", "unchanged", "syndicated"]
# The values the Embedder accepts (see storage/embedder.py), as types the settings can check.
EmbeddingPrecision = Literal["auto", "float32", "bfloat16", "int8"]
EmbeddingRuntime = Literal["auto", "torch", "onnx"]
QuestionPrecision = Literal["int8", "float32"]


class CopyFinder(Protocol):
    """Decides which new articles are copies of stored ones (ingest.syndication.Syndication).

    Asked under the writer lock for each new article; the signature it returns is stored with
    the article (a `SIGNATURE_LENGTH` uint32 vector) and compared with later ones.
    """

    def signature(self, text: str) -> np.ndarray: ...

    def copy_of(
        self, sig: np.ndarray, ids: Sequence[str], matrix: np.ndarray
    ) -> tuple[str, float] | None: ...


@dataclass(frozen=True)
class IndexConfig:
    data_dir: Path
    chroma: ChromaLocation
    collection: str = "newsbot"
    embedding_model: str = BUNDLED_MODEL
    embedding_batch_size: int = Embedder.BATCH_SIZE
    # auto, float32, bfloat16 or int8: what passages embed in (see Embedder); an index keeps
    # the precision of its first passages (see storage/store.py, passage_setting)
    embedding_precision: EmbeddingPrecision = Embedder.PRECISION
    # auto: onnxruntime on a CPU where the model exports (a copy kept in model_cache_dir), else
    # torch; torch; or onnx (an error where it cannot run). See storage/onnx_model.py.
    embedding_runtime: EmbeddingRuntime = Embedder.RUNTIME
    # int8 or float32: what a question's embedding runs in on onnxruntime (see onnx_model.py)
    embedding_question_precision: QuestionPrecision = Embedder.QUESTION_PRECISION
    # where that copy is kept; None: the user's cache (shared_model_cache), made once per
    # machine and user, or data_dir / "models" where that folder cannot be written
    model_cache_dir: Path | None = None
    device: str = Embedder.DEVICE
    top_k: int = 6
    candidates: int = 50
    shard_passages: int = SHARD_PASSAGES  # passages per vector collection (storage/shards.py)
    extractive: ExtractiveConfig = field(default_factory=ExtractiveConfig)
    chat: ChatModelConfig | None = None  # None: the extractive answerer answers
    # Read "last week" and "October 5" in questions as if today were this day (evaluation on a
    # dated corpus); None: the real today.
    as_of: date | None = None


class NewsIndex:
    """Articles in, cited answers out; owns the store, the keyword index and the model."""

    def __init__(
        self,
        store: PassageStore,
        lexical: LexicalIndex,
        embedder: Embedder,
        *,
        top_k: int = IndexConfig.top_k,
        candidates: int = IndexConfig.candidates,
        extractive: ExtractiveConfig | None = None,
        chat: ChatModelConfig | None = None,
        lock: DataDirLock | None = None,
        copies: CopyFinder | None = None,
        as_of: date | None = None,
    ):
        self.store = store
        self.lexical = lexical
        self.embedder = embedder
        self.top_k = top_k
        self.copies = copies
        self._lock = lock
        # One writer at a time: the bot's commands and its feed poller share this index.
        self._writing = threading.Lock()
        self._owns_client = False  # set by open(): close() then stops the client too
        # Where this index writes on this machine (set by open()): named when the disk is full.
        self.data_dir: Path | None = None
        self.chroma_dir: Path | None = None
        # A read-only data dir is read from a copy in a temporary folder (embedded Chroma cannot
        # open a database it may not write): writes are refused, the copy removed on close.
        self._copy: Path | None = None
        self.searcher = HybridSearch(
            store,
            lexical,
            embedder.embed,
            candidates=candidates,
            today=(lambda: as_of) if as_of else None,
        )
        self.answerer = ExtractiveAnswerer(
            embedder.embed, lexical.tokenize, lexical.idf, split_sentences, extractive
        )
        self.stories = Stories(
            store,
            self.search,
            self.answerer,
            embedder.embed,
            outlet_names=self.searcher.outlet_names,
        )
        self.chat: ChatAnswerer | None = None
        if chat is not None:
            self.chat = ChatAnswerer(
                make_chat_model(chat),
                lambda question, filters: self.search(question, filters=filters),
                self.answerer.answer,
                timeout=chat.timeout,
            )

    @classmethod
    def open(
        cls, config: IndexConfig, *, copies: CopyFinder | None = None, writing: bool = False
    ) -> NewsIndex:
        """Open (creating when needed) the index the configuration describes; `copies` decides
        which new articles are syndicated copies (None: every article is indexed). `writing`:
        a read-only data directory is refused at once (ReadOnlyError), before it is copied."""
        lock = None
        chroma, keywords = config.chroma, config.data_dir / "lexical"
        copy: Path | None = None
        if config.chroma.host is None:
            lock = DataDirLock(config.data_dir)
            lock.acquire()
            kept = keywords / f"{config.collection}-{_where(config.chroma)}.tantivy"
            if (missing := missing_store(config.chroma, kept)) is not None:
                lock.release()
                raise missing
            if lock.read_only and writing:
                raise ReadOnlyError(
                    f"the data directory {config.data_dir} is read-only: adding or forgetting "
                    "articles needs it writable (fix its permissions or mount it read-write)"
                )
            if lock.read_only:
                copy, chroma, keywords = _readable_copy(config.chroma, keywords)
        try:
            client = open_client(chroma)
            store = PassageStore(
                client,
                prefix=config.collection,
                embedding_model=config.embedding_model,
                shard_passages=config.shard_passages,
            )
            # An index keeps the precision its passages were embedded in (passage_setting).
            passages = passage_setting(config.embedding_precision, store.passage_precision)
        except BaseException:
            if lock is not None:
                lock.release()
            if copy is not None:
                shutil.rmtree(copy, ignore_errors=True)
            raise
        where = _where(config.chroma)
        lexical = LexicalIndex(keywords / f"{config.collection}-{where}.tantivy")
        embedder = Embedder(
            config.embedding_model,
            device=config.device,
            batch_size=config.embedding_batch_size,
            precision=passages.precision,
            int8_copy=passages.int8_copy,
            runtime=config.embedding_runtime,
            question_precision=config.embedding_question_precision,
            cache_dir=config.model_cache_dir or shared_model_cache() or config.data_dir / "models",
        )
        index = cls(
            store,
            lexical,
            embedder,
            top_k=config.top_k,
            candidates=config.candidates,
            extractive=config.extractive,
            chat=config.chat,
            lock=lock,
            copies=copies,
            as_of=config.as_of,
        )
        index._owns_client = True
        index.data_dir = config.data_dir
        index.chroma_dir = config.chroma.path
        index._copy = copy
        return index

    def close(self) -> None:
        """Stop the Chroma client this index opened (embedded Chroma writes its files out and
        lets go of them), then release the data directory to other processes."""
        self.searcher.close()
        self.lexical.close()  # a background rebuild still reads the store
        self.store.passages.close()
        if self._owns_client:
            self._owns_client = False
            self.store.client.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._copy is not None:
            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None

    def damage(self, error: BaseException) -> DamagedStoreError | None:
        """Return a one-line error when `error` came from a damaged embedded database (what it
        says, else SQLite's own check of the file), None when it did not."""
        if self.chroma_dir is None:
            return None
        location = ChromaLocation(path=self._copy / "chroma" if self._copy else self.chroma_dir)
        return damaged_store(error, location) or check_store(location)

    @property
    def read_only(self) -> bool:
        """Whether this index can only be read (its data directory is read-only)."""
        return self._copy is not None

    def _check_writable(self) -> None:
        if self._copy is not None:
            raise ReadOnlyError(
                f"the data directory {self.data_dir} is read-only: reading works, but adding "
                "or forgetting articles needs it writable (fix its permissions or mount it "
                "read-write)"
            )

    # -- what the chunker needs to know of the model ----------------------------------------
    @property
    def max_tokens(self) -> int:
        return self.embedder.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def give_way(self) -> bool:
        """Wait while a question is being answered (bulk work goes after it); tell whether
        questions came lately."""
        return self.embedder.give_way()

    # -- writing ----------------------------------------------------------------------------
    def status_of(self, article_id: str, revision: str) -> WriteStatus:
        """Return what writing this revision would do: add, update, or nothing."""
        existing = self.store.article(article_id)
        if existing is None:
            return "added"
        return "unchanged" if existing.revision == revision else "updated"

    def is_current(self, article_id: str, revision: str) -> bool:
        """Tell whether this revision is stored, whole and clean (re-ingesting it is a no-op).

        The in-memory catalogue answers "no" for most articles (new ones) without a Chroma
        call; a "no" that is out of date only sends the article to `put_articles`, which reads
        the store before deciding.
        """
        if self.store.committed_revisions().get(article_id) != revision:
            return False
        existing = self.store.article(article_id)
        return (
            existing is not None
            and existing.revision == revision
            and self.store.is_clean(article_id)
        )

    def put_articles(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage]]]
    ) -> list[WriteStatus]:
        """Embed and store articles (embedding them together), each committed whole.

        A new article that is a near copy of a stored one (a syndicated wire story) is not
        indexed again: it is recorded as another publication of that story. Each article is
        keyword-searchable as soon as it is committed. One writer at a time (others wait).
        """
        self._check_writable()
        with self._writing, self._write_checked():
            self.searcher.refresh()  # the keyword index open and current before writing to it
            return self._put_articles(articles)

    @contextmanager
    def _write_checked(self) -> Iterator[None]:
        """Turn a write that failed for want of disk space into DiskFullError, and one that met
        a damaged database into DamagedStoreError (one line that says where and what to do; the
        caller stops at it), whatever part of the store it came from."""
        try:
            yield
        except StoreUnavailable:
            raise
        except Exception as exc:
            local = [p for p in (self.chroma_dir, self.data_dir) if p is not None]
            if not (says_disk_full(exc) or short_of_space(local)):
                # Damage where reads never go (a table only writes touch) shows only here, as
                # Chroma's "Failed to apply logs": SQLite's check of the file decides.
                if (damaged := self.damage(exc)) is not None:
                    raise damaged from exc
                raise
            if self.chroma_dir is None and not short_of_space(local):
                where = "the Chroma server's disk is full"
            else:
                where = f"disk full at {self.data_dir or self.chroma_dir}"
            raise DiskFullError(f"{where}: free some space") from exc

    def _put_articles(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage]]]
    ) -> list[WriteStatus]:
        stored = self.store.records([info.article_id for info, _ in articles])
        statuses: list[WriteStatus] = []
        for info, _ in articles:
            existing = stored.get(info.article_id)
            if existing is None:
                statuses.append("added")
            elif existing.info.revision != info.revision:
                statuses.append("updated")
            else:
                statuses.append("unchanged")
                if not existing.clean:  # an earlier run was cut off before its clean-up
                    self.store.clean_up(info.article_id, info.revision)
        ids, matrix = self.store.signatures()
        ids = list(ids)
        todo: list[tuple[ArticleInfo, Sequence[Passage], str | None]] = []
        copies: list[tuple[str, Publication]] = []  # recorded once the originals are written
        for i, (info, passages) in enumerate(articles):
            if statuses[i] == "unchanged":
                continue
            if self.copies is None:
                todo.append((info, passages, None))
                continue
            sig = self.copies.signature(" ".join(p.text for p in passages))
            if statuses[i] == "added":
                if copy := self.copies.copy_of(sig, ids, matrix):
                    original, similarity = copy
                    logger.info(
                        "%s is a copy of %s (similarity %.2f)",
                        info.url or info.title,
                        original,
                        similarity,
                    )
                    copies.append((original, _publication(info)))
                    statuses[i] = "syndicated"
                    continue
                ids.append(info.article_id)
                matrix = np.vstack([matrix, sig[None, :]]) if len(matrix) else sig[None, :]
            todo.append((info, passages, encode(sig)))
        texts = [self._embedding_text(p) for _, passages, _ in todo for p in passages]
        vectors = self._embed_passages(texts)
        items = []
        start = 0
        for info, passages, minhash in todo:
            items.append((info, passages, vectors[start : start + len(passages)], minhash))
            start += len(passages)
        self._write(items)
        for original, publication in copies:
            self.store.add_publication(original, publication)
        return statuses

    def put_embedded(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage], np.ndarray]]
    ) -> None:
        """Store articles whose passages are already embedded (an import, a replica).

        No syndication check and no embedding: the caller vouches for the vectors.
        """
        self._check_writable()
        with self._writing, self._write_checked():
            self.searcher.refresh()
            self._write([(info, passages, vectors, None) for info, passages, vectors in articles])

    def _write(
        self, items: Sequence[tuple[ArticleInfo, Sequence[Passage], np.ndarray, str | None]]
    ) -> None:
        """Commit articles to the store, then index them by keywords at once."""
        with self.lexical.committing({info.article_id: info.revision for info, *_ in items}):
            seqs = self.store.write_articles(items, give_way=self.embedder.give_way)
            self.lexical.put_many(
                [
                    (info.article_id, info.revision, seq, passages)
                    for (info, passages, _, _), seq in zip(items, seqs, strict=True)
                ]
            )

    def _embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages; the first ones an index gets record the precision it keeps."""
        vectors = self.embedder.embed(texts)
        if texts:
            self.store.record_passage_precision(self.embedder.passage_precision)
        return vectors

    def _embedding_text(self, passage: Passage) -> str:
        text = passage.contextual_text
        # The chunker leaves room for headline and context; an outsized headline still must
        # not push the passage's own words past the model's limit, so it is dropped then.
        if self.embedder.count_tokens([text])[0] > self.max_tokens:
            return passage.text
        return text

    def forget(self, article_id: str) -> bool:
        """Remove an article and its passages; return whether it was there."""
        self._check_writable()
        with self._writing, self._write_checked():
            self.searcher.refresh()
            with self.lexical.committing({article_id: ""}):
                seq = self.store.delete_article(article_id)
                if seq is not None:
                    self.lexical.remove(article_id, seq)
        return seq is not None

    def articles(self) -> list[ArticleInfo]:
        return sorted(
            self.store.list_articles(),
            key=lambda a: (a.published_at or "", a.title),
            reverse=True,
        )

    def refresh(self) -> None:
        """Catch up with other processes' writes (searches do this by themselves)."""
        self.searcher.refresh()

    def warm_up(self) -> None:
        """Load the embedding model, catch up with the store and search once (which loads each
        collection's vector index: 4 s at a million passages), so that a long-running front
        end's first question costs what every later one does.

        Then, in a process a front end configured (`retrieval.runtime`), what is loaded
        (modules, the model, the catalogue), which lives as long as the process, is moved out
        of the cyclic garbage collector's way (`gc.freeze`): a full collection walked ~480 k
        such objects, 235 ms with every thread stopped, in the middle of whatever question was
        being answered; after the freeze it takes under 1 ms.
        """
        self.embedder.embed(["warm up"])
        self.refresh()
        with self.embedder.answering_question():  # loads what questions embed with
            self.searcher.search("warm up", 1)
        if process_configured():
            gc.collect()  # nothing already garbage is frozen
            gc.freeze()

    # -- reading ----------------------------------------------------------------------------
    def search(
        self, question: str, k: int | None = None, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        with self.embedder.answering_question():  # an ingest's embedding gives way meanwhile
            return self.searcher.search(question, k or self.top_k, filters)

    def ask(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Answer a question from the coverage, with citations.

        With a chat model configured, it writes the answer (and resolves follow-ups against
        the history); otherwise, or when it fails, the extractive answerer quotes the passages.
        """
        question = question.strip()
        if not question:
            return Answer("Ask a question about the news coverage.", (), grounded=False)
        if self.chat is not None:  # its search gives way; the chat model's wait does not
            answer = self.chat.answer(question, history, filters)
        else:
            with self.embedder.answering_question():  # an ingest's embedding gives way
                read = max(self.top_k, self.answerer.config.read)
                plan = self.searcher.plan(question)
                named = [part for part in plan.parts if part.filters.outlets]
                several = len({part.filters.outlets for part in named}) >= 2
                # a question naming several outlets reads twice as far: each needs its own
                hits = self.search(search_words(question), 2 * read if several else read, filters)
                parts = self._outlet_parts(named, hits, filters) if several else []
                answer = (
                    self.answerer.answer_parts(question, hits, parts)
                    if parts
                    else self.answerer.answer(question, hits)
                )
        return self._with_publications(answer)

    def _outlet_parts(
        self, named: Sequence[QueryPart], hits: Sequence[SearchHit], filters: SearchFilters | None
    ) -> list[tuple[str, str, list[SearchHit]]]:
        """For a question naming several outlets ("How did A and B cover …"), each named
        outlet's part: (its name, the part's words, its passages): what the question's search
        found of that outlet (which searched each part within its outlet), else a search of
        the part within that outlet.

        A date the part names ("launching on November 16th") has already lifted that day's
        passages in the search; it does not exclude the outlet's others, since it often says
        when something happened, not when the outlet wrote about it."""
        parts = []
        for part in named:
            where = narrow(filters, replace(part.filters, since=None, until=None))
            own = [h for h in hits if where.admits(h.passage)]
            if not own:
                own = self.searcher.search(part.text, 4, where)
            parts.append((outlet_label(part.filters.outlets), part.text, own))
        # Two outlets of one name ("FOX News - Health" and "FOX News - Lifestyle") keep theirs.
        labels: dict[str, set[tuple[str, ...]]] = {}
        for part, (label, _, _) in zip(named, parts, strict=True):
            labels.setdefault(label, set()).add(part.filters.outlets)
        return [
            (" / ".join(part.filters.outlets) if len(labels[label]) > 1 else label, text, own)
            for part, (label, text, own) in zip(named, parts, strict=True)
        ]

    # -- a story across articles (retrieval/stories) -----------------------------------------
    # With a chat model configured, it writes each line again from the line's own passages
    # (retrieval/stories/written.py); the choice, dates, grouping and citations stay the same.
    def timeline(self, topic: str, filters: SearchFilters | None = None) -> Timeline:
        with self.embedder.answering_question():
            view = self.stories.timeline(topic.strip(), filters)
        return written_timeline(view, self.chat) if self.chat else view

    def compare(
        self, topic: str, outlets: Sequence[str] = (), filters: SearchFilters | None = None
    ) -> Comparison:
        with self.embedder.answering_question():
            view = self.stories.compare(topic.strip(), outlets, filters)
        return written_comparison(view, self.chat) if self.chat else view

    def brief(self, since: datetime, *, by_published: bool = False) -> Brief:
        self.refresh()
        view = self.stories.brief(since, by_published=by_published)
        return written_brief(view, self.chat) if self.chat else view

    def match_follows(
        self, topics: Sequence[Topic], article_ids: Sequence[str]
    ) -> list[FollowMatch]:
        """Which newly committed articles match which followed topics (per article, no
        search over the whole index)."""
        return self.stories.match(topics, article_ids)

    def commits_since(self, position: FeedPosition) -> list[Commit]:
        """Return the articles committed (added or updated) since `position`, oldest first, and
        move the position past them.

        Read from the store's change feed, which every commit stamps as part of the commit: a
        reader that keeps its position durably (the follows' "matched up to") misses no article,
        whatever stopped the process that wrote it. A commit near the position may come again
        in the next call (see `FeedPosition`), so what a caller does with one must be harmless
        done twice.
        """
        looked = next_seq()
        changes = self.store.changes_since(position.since())
        position.advance(changes, looked)
        return [
            Commit(change.article_id, change.seq, int(change.record.get("added_seq", change.seq)))
            for change in changes
            if change.record is not None
        ]

    def _with_publications(self, answer: Answer) -> Answer:
        """Add to each citation the other outlets that published the same story."""
        if not answer.citations:
            return answer
        # one read of the catalogue for all of them (a read per citation was ~1 ms each)
        found = self.store.records([c.passage.article_id for c in answer.citations])
        citations = []
        for citation in answer.citations:
            record = found.get(citation.passage.article_id)
            also = record.info.also_published if record else ()
            citations.append(Citation(citation.n, citation.passage, also))
        return replace(answer, citations=tuple(citations))


def _where(chroma: ChromaLocation) -> str:
    """Return the short name that keeps one Chroma location's keyword index from another's."""
    return hashlib.sha256(chroma.describe().encode()).hexdigest()[:8]


def _readable_copy(chroma: ChromaLocation, keywords: Path) -> tuple[Path, ChromaLocation, Path]:
    """Copy a read-only data dir's Chroma database and keyword index to a temporary folder;
    return (the folder, where Chroma and the keyword index are in it)."""
    if chroma.path is None or not (chroma.path / "chroma.sqlite3").exists():
        raise ReadOnlyError(
            f"the data directory of {chroma.describe()} is read-only and holds no index yet: "
            "make it writable, then ingest"
        )
    copy = Path(tempfile.mkdtemp(prefix="newsbot-read-only-"))
    try:
        shutil.copytree(chroma.path, copy / "chroma")
        if keywords.is_dir():
            shutil.copytree(keywords, copy / "lexical")
    except OSError as exc:
        shutil.rmtree(copy, ignore_errors=True)
        raise ReadOnlyError(
            f"the data directory of {chroma.describe()} is read-only, and Chroma can read it "
            f"only from a writable copy, which failed ({exc.strerror or exc}): make the data "
            "directory writable, or free space in the temporary folder"
        ) from exc
    logger.warning(
        "%s is read-only: reading a copy in %s (writes are refused)", chroma.describe(), copy
    )
    return copy, replace(chroma, path=copy / "chroma"), copy / "lexical"


def _publication(info: ArticleInfo) -> Publication:
    return Publication(
        outlet=info.outlet, url=info.url, published_at=info.published_at, title=info.title
    )
