"""The keyword index (BM25): derived from the store, persisted beside it, rebuilt when stale.

Chroma's own sparse index exists only in Chroma Cloud, so this one is ours. It never holds
anything the store does not: it remembers the store generation it was built from and is rebuilt
whenever that differs, so processes sharing one Chroma server answer from the same data.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.types import Passage, SearchFilters, date_number

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves say said says tell told""".split()  # noqa: SIM905 - a word list reads better as text
)


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which would print on every rebuild.
    logging.getLogger("bm25s").setLevel(max(logging.WARNING, logging.getLogger().level))
    return bm25s


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class Tokenizer:
    """Lowercase, drop stopwords, stem: the same for passages and questions."""

    def __init__(self) -> None:
        self._stem = _stemmer()

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower().replace("’", "'")) if w not in _STOPWORDS]
        return list(self._stem.stemWords(words))


class LexicalIndex:
    """BM25 over committed passages, with per-passage dates and outlets for filtering."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.tokenize = Tokenizer()
        self.generation: str | None = None
        self.ids: list[str] = []
        self._ts = np.zeros(0, dtype=np.int64)
        self._outlets: list[str] = []
        self._outlets_np: np.ndarray | None = None
        self._rows: dict[str, int] | None = None
        self._retriever: Any = None
        self._vocab: dict[str, int] = {}
        self._idf: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self.ids)

    # -- building ---------------------------------------------------------------------------
    def build(self, passages: Iterable[Passage], generation: str) -> None:
        """Index the passages from scratch and remember the store generation they came from."""
        bm25s = _bm25s()
        items = list(passages)
        tokens = [self.tokenize(p.contextual_text) for p in items]
        self.ids = [p.passage_id for p in items]
        self._ts = np.array([date_number(p.published_at) for p in items], dtype=np.int64)
        self._outlets = [(p.outlet or "").lower() for p in items]
        self._outlets_np = None
        self._rows = None
        self._retriever = None
        self._vocab = {}
        if items:
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
            self._retriever = retriever
            self._vocab = vocab
        self._idf = self._document_idf(tokens)
        self.generation = generation
        logger.info("keyword index built: %d passages", len(items))
        self.save()

    @staticmethod
    def _document_idf(tokens: list[list[str]]) -> dict[str, float]:
        df: dict[str, int] = {}
        for doc in tokens:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        n = max(1, len(tokens))
        return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def idf(self, term: str) -> float:
        """Return the inverse document frequency of a (stemmed) term; unseen terms get the most."""
        if term in self._idf:
            return self._idf[term]
        n = max(1, len(self.ids))
        return math.log(1 + (n + 0.5) / 0.5)

    # -- search -----------------------------------------------------------------------------
    def _mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.empty:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if filters.outlets:
            wanted = {o.lower() for o in filters.outlets}
            mask &= np.isin(self._outlet_array(), list(wanted))
        if filters.since:
            mask &= self._ts >= date_number(filters.since)
        if filters.until:
            mask &= self._ts <= date_number(filters.until)
        return mask

    def admitted(self, ids: list[str], filters: SearchFilters) -> list[str]:
        """Return the ids (in order) of indexed passages that pass the filters."""
        if self._rows is None or len(self._rows) != len(self.ids):
            self._rows = {pid: i for i, pid in enumerate(self.ids)}
        mask = self._mask(filters)
        rows = self._rows
        return [pid for pid in ids if pid in rows and (mask is None or bool(mask[rows[pid]]))]

    def _outlet_array(self) -> np.ndarray:
        """Return the passages' outlets as an array (built once: filters compare vectorised)."""
        if self._outlets_np is None or len(self._outlets_np) != len(self._outlets):
            self._outlets_np = np.array(self._outlets, dtype=object)
        return self._outlets_np

    def search(
        self, query: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (passage id, BM25 score) pairs with a positive score, best first."""
        if self._retriever is None or k <= 0:
            return []
        terms = [t for t in self.tokenize(query) if t in self._vocab]
        if not terms:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
        mask = self._mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # -- persistence ------------------------------------------------------------------------
    def save(self) -> None:
        """Write the index atomically into its directory (a no-op without one)."""
        if self.directory is None or self.generation is None:
            return
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lexical-", dir=self.directory.parent))
        try:
            if self._retriever is not None:
                self._retriever.save(str(staging / "bm25"), show_progress=False)
            np.save(staging / "ts.npy", self._ts)
            state = {
                "generation": self.generation,
                "ids": self.ids,
                "outlets": self._outlets,
                "vocab": self._vocab,
                "idf": self._idf,
            }
            (staging / "state.json").write_text(json.dumps(state), encoding="utf-8")
            old = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.directory.exists():
                self.directory.replace(old)
            staging.replace(self.directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def load(self) -> bool:
        """Read a saved index; return False when there is none or it cannot be read."""
        if self.directory is None or not (self.directory / "state.json").exists():
            return False
        bm25s = _bm25s()
        try:
            state = json.loads((self.directory / "state.json").read_text(encoding="utf-8"))
            retriever = None
            if (self.directory / "bm25").exists():
                retriever = bm25s.BM25.load(str(self.directory / "bm25"), show_progress=False)
            self._ts = np.load(self.directory / "ts.npy")
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("keyword index unreadable, it will be rebuilt: %s", exc)
            return False
        self._retriever = retriever
        self.ids = list(state["ids"])
        self._outlets = list(state["outlets"])
        self._outlets_np = None
        self._rows = None
        self._vocab = dict(state["vocab"])
        self._idf = dict(state["idf"])
        self.generation = str(state["generation"])
        return True
