"""retrieval — the news index: articles in, cited answers out. Front ends import from here.

Start with `index.py` (`NewsIndex`): a question goes through `question/` (outlets, dates and
speakers read from it), `search.py` (dense + keyword, fused) over `storage/` (Chroma, the
tantivy keyword index, the embedding model), and `answer/` (extractive, or a chat model's
answer with checked citations). `models.py` holds the values that cross package lines,
`errors.py` the errors a user can act on.

Names are loaded on first use, so `newsbot --help` starts without importing Chroma or torch.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.answer.chain import ChatModelConfig
    from retrieval.answer.extractive import ExtractiveConfig
    from retrieval.answer.sentences import split_sentences
    from retrieval.days import iso_date, utc_now
    from retrieval.errors import (
        DamagedStoreError,
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
    from retrieval.index import (
        CopyFinder,
        EmbeddingPrecision,
        EmbeddingRuntime,
        IndexConfig,
        NewsIndex,
        QuestionPrecision,
    )
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
    from retrieval.runtime import configure_process
    from retrieval.storage.changes import Commit, FeedPosition, next_seq
    from retrieval.storage.chroma_server import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT
    from retrieval.storage.location import ChromaLocation
    from retrieval.storage.signatures import SIGNATURE_LENGTH, best_match
    from retrieval.stories.build import StoryConfig
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
    from retrieval.urls import normalize_url, same_site, web_url


def _exports() -> dict[str, str]:
    """Map each name imported under TYPE_CHECKING above to its module.

    That block is the one list of the front door's names: type checkers and editors read it as
    imports, and this reads it (the file's own syntax tree) to know where to load each name
    from on first use, as lazy_loader's stubs are read.
    """
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    ]
    return {
        alias.asname or alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


_WHERE = _exports()
__all__ = sorted(_WHERE)  # noqa: PLE0605 - built from the imports above, not written again


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
