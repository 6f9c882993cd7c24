"""Settings → the services the front ends use (the one place that knows both)."""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.texts import terminal_safe

if TYPE_CHECKING:
    from bot.follow_store import FollowStore
    from ingest.subscriptions import FeedRegistry
    from retrieval import NewsIndex


class _SafeFormatter(logging.Formatter):
    """Format log lines without the control characters a URL or title from the web may carry."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    # Model libraries print progress bars and advice on every load; the user asked a question.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    noisy_libraries = (
        "httpx",
        "httpcore",
        "openai",
        "chromadb",
        "sentence_transformers",
        "transformers",
    )
    for noisy in noisy_libraries:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))


def open_index(
    settings: Settings, *, as_of: date | None = None, writing: bool = False
) -> NewsIndex:
    """Open the index the settings describe (embedded Chroma is locked to this process);
    `as_of` reads relative dates in questions as if today were that day (evaluation);
    `writing`: refuse a read-only data directory at once (ReadOnlyError)."""
    from retrieval import NewsIndex

    return NewsIndex.open(
        settings.index_config(as_of=as_of), copies=settings.copies.build(), writing=writing
    )


def feed_registry(settings: Settings) -> FeedRegistry:
    from ingest.subscriptions import FeedRegistry

    return FeedRegistry(settings.data_dir / "feeds.json")


def follow_store(settings: Settings) -> FollowStore:
    from bot.follow_store import FollowStore

    return FollowStore(
        settings.data_dir / "follows.sqlite3", max_per_user=settings.follow_max_per_user
    )
