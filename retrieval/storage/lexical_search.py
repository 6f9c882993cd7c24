"""Keyword queries on the tantivy index: BM25 over a question's stems, restricted to outlets and
dates without changing any passage's score.

Each function takes an open index and raises tantivy's ValueError or an OSError when it fails
(another process's commit removed a file it was reading): the caller decides what that means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from retrieval.days import date_number
from retrieval.models import SearchFilters
from retrieval.storage.lexical_files import tantivy

_FAR = 99_999_999  # a date number after any real one


def search(
    index: Any, schema: Any, terms: Sequence[str], k: int, filters: SearchFilters | None
) -> list[tuple[str, float]]:
    """Return up to k (passage id, BM25 score) pairs with a positive score, best first."""
    t = tantivy()
    words = t.Query.boolean_query(
        [
            (t.Occur.Should, t.Query.term_query(schema, "body", term, index_option="freq"))
            for term in terms
        ]
    )
    searcher = index.searcher()
    hits = searcher.search(filtered(schema, words, filters), limit=k, count=False).hits
    return [
        (str(searcher.doc(address).get_first("pid")), float(score))
        for score, address in hits
        if score > 0
    ]


def admitted(index: Any, schema: Any, ids: list[str], filters: SearchFilters) -> list[str]:
    """Return the ids (in order) of indexed passages that pass the filters."""
    query = filtered(schema, tantivy().Query.term_set_query(schema, "pid", list(ids)), filters)
    searcher = index.searcher()
    hits = searcher.search(query, limit=len(ids), count=False).hits
    found = {str(searcher.doc(address).get_first("pid")) for _, address in hits}
    return [pid for pid in ids if pid in found]


def filtered(schema: Any, query: Any, filters: SearchFilters | None) -> Any:
    """Return the query restricted to the filters' outlets and dates (scores unchanged)."""
    if filters is None or filters.empty:
        return query
    t = tantivy()
    clauses = [(t.Occur.Must, query)]
    if filters.outlets:
        outlets = sorted({o.lower() for o in filters.outlets})
        clauses.append((t.Occur.Must, t.Query.term_set_query(schema, "outlet", outlets)))
    if filters.since or filters.until:
        since = date_number(filters.since) if filters.since else 0
        until = date_number(filters.until) if filters.until else _FAR
        dates = t.Query.range_query(schema, "ts", t.FieldType.Integer, since, until)
        clauses.append((t.Occur.Must, dates))
    # Only the words score: the filters add nothing to a passage's BM25.
    return t.Query.boolean_query(
        [clauses[0]] + [(occur, t.Query.const_score_query(q, 0.0)) for occur, q in clauses[1:]]
    )


def idf(index: Any | None, term: str) -> float:
    """Return the inverse document frequency of a (stemmed) term; unseen terms get the most."""
    n, df = 1, 0
    if index is not None:
        try:
            searcher = index.searcher()
            n, df = max(1, int(searcher.num_docs)), int(searcher.doc_freq("body", term))
        except (ValueError, OSError):
            pass
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
