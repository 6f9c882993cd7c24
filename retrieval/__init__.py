"""retrieval — the news index: articles in, cited answers out. Front ends import from here.

Start with `index.py` (`NewsIndex`): a question goes through `question/` (outlets, dates and
speakers read from it), `search.py` (dense + keyword, fused) over `storage/` (Chroma, the
tantivy keyword index, the embedding model), and `answer/` (extractive, or a chat model's
answer with checked citations). `models.py` holds the values that cross package lines,
`errors.py` the errors a user can act on.

Names are loaded on first use, so `newsbot --help` starts without importing Chroma or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.answer.chain import ChatModelConfig
    from retrieval.answer.extractive import ExtractiveConfig
    from retrieval.answer.sentences import split_sentences
    from retrieval.days import iso_date, utc_now
    from retrieval.errors import (
        DataDirBusyError,
        DiskFullError,
        EmbedderError,
        ReadOnlyError,
        RetrievalError,
        StoreError,
        StoreUnavailable,
        first_line,
    )
    from retrieval.evaluation import AnswerScores, Summary, evaluate, evaluate_answers, score_query
    from retrieval.index import CopyFinder, IndexConfig, NewsIndex
    from retrieval.models import (
        Answer,
        Article,
        ArticleInfo,
        Citation,
        Passage,
        Publication,
        SearchFilters,
        SearchHit,
        Turn,
        passage_id,
    )
    from retrieval.question.dates import option_filters
    from retrieval.storage.chroma_server import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT
    from retrieval.storage.signatures import SIGNATURE_LENGTH, best_match
    from retrieval.storage.store import ChromaLocation, Commit, FeedPosition, next_seq
    from retrieval.stories.models import (
        Brief,
        BriefStory,
        Comparison,
        FollowMatch,
        OutletReport,
        Timeline,
        TimelineEvent,
        Topic,
    )
    from retrieval.stories.views import StoryConfig
    from retrieval.urls import normalize_url, same_site, web_url

_EXPORTS = {
    "retrieval.index": ("CopyFinder", "IndexConfig", "NewsIndex"),
    "retrieval.models": (
        "Answer",
        "Article",
        "ArticleInfo",
        "Citation",
        "Passage",
        "Publication",
        "SearchFilters",
        "SearchHit",
        "Turn",
        "passage_id",
    ),
    "retrieval.errors": (
        "DataDirBusyError",
        "DiskFullError",
        "EmbedderError",
        "ReadOnlyError",
        "RetrievalError",
        "StoreError",
        "StoreUnavailable",
        "first_line",
    ),
    "retrieval.storage.store": ("ChromaLocation", "Commit", "FeedPosition", "next_seq"),
    "retrieval.storage.signatures": ("SIGNATURE_LENGTH", "best_match"),
    "retrieval.storage.chroma_server": ("DEFAULT_CONNECT_TIMEOUT", "DEFAULT_REQUEST_TIMEOUT"),
    "retrieval.answer.chain": ("ChatModelConfig",),
    "retrieval.answer.extractive": ("ExtractiveConfig",),
    "retrieval.answer.sentences": ("split_sentences",),
    "retrieval.question.dates": ("option_filters",),
    "retrieval.days": ("iso_date", "utc_now"),
    "retrieval.urls": ("normalize_url", "same_site", "web_url"),
    "retrieval.evaluation": (
        "AnswerScores",
        "Summary",
        "evaluate",
        "evaluate_answers",
        "score_query",
    ),
    "retrieval.stories.models": (
        "Brief",
        "BriefStory",
        "Comparison",
        "FollowMatch",
        "OutletReport",
        "Timeline",
        "TimelineEvent",
        "Topic",
    ),
    "retrieval.stories.views": ("StoryConfig",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_REQUEST_TIMEOUT",
    "SIGNATURE_LENGTH",
    "Answer",
    "AnswerScores",
    "Article",
    "ArticleInfo",
    "Brief",
    "BriefStory",
    "ChatModelConfig",
    "ChromaLocation",
    "Citation",
    "Commit",
    "Comparison",
    "CopyFinder",
    "DataDirBusyError",
    "DiskFullError",
    "EmbedderError",
    "ExtractiveConfig",
    "FeedPosition",
    "FollowMatch",
    "IndexConfig",
    "NewsIndex",
    "OutletReport",
    "Passage",
    "Publication",
    "ReadOnlyError",
    "RetrievalError",
    "SearchFilters",
    "SearchHit",
    "StoreError",
    "StoreUnavailable",
    "StoryConfig",
    "Summary",
    "Timeline",
    "TimelineEvent",
    "Topic",
    "Turn",
    "best_match",
    "evaluate",
    "evaluate_answers",
    "first_line",
    "iso_date",
    "next_seq",
    "normalize_url",
    "option_filters",
    "passage_id",
    "same_site",
    "score_query",
    "split_sentences",
    "utc_now",
    "web_url",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
