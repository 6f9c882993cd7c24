"""Settings → the services the front ends use (the one place that knows both)."""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.texts import terminal_safe

if TYPE_CHECKING:
    from bot.config import BotConfig
    from bot.follows import FollowStore
    from ingest.chunk import ChunkLimits
    from ingest.feeds import PollLimits
    from ingest.fetch import FetchPolicy
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


def open_index(settings: Settings, *, as_of: date | None = None) -> NewsIndex:
    """Open the index the settings describe (embedded Chroma is locked to this process);
    `as_of` reads relative dates in questions as if today were that day (evaluation)."""
    from retrieval import ChatModelConfig, ChromaLocation, ExtractiveConfig, IndexConfig, NewsIndex

    location = ChromaLocation(
        path=None if settings.chroma_host else settings.chroma_dir,
        host=settings.chroma_host,
        port=settings.chroma_port,
        ssl=settings.chroma_ssl,
        connect_timeout=settings.chroma_connect_timeout,
        request_timeout=settings.chroma_timeout,
    )
    chat = None
    if settings.llm:
        chat = ChatModelConfig(
            model=settings.llm,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            max_tokens=settings.llm_max_tokens,
            max_retries=settings.llm_max_retries,
        )
    config = IndexConfig(
        data_dir=settings.data_dir,
        chroma=location,
        collection=settings.chroma_collection,
        embedding_model=settings.embedding_model,
        embedding_batch_size=settings.embedding_batch_size,
        embedding_precision=settings.embedding_precision,
        embedding_runtime=settings.embedding_runtime,
        embedding_question_precision=settings.embedding_question_precision,
        model_cache_dir=settings.model_cache_dir,
        device=settings.embedding_device,
        top_k=settings.top_k,
        candidates=settings.search_candidates,
        extractive=ExtractiveConfig(
            max_sentences=settings.answer_max_sentences,
            min_relevance=settings.answer_min_relevance,
        ),
        chat=chat,
        as_of=as_of,
    )
    from ingest.syndication import Syndication

    return NewsIndex.open(config, copies=Syndication(settings.dedup_threshold))


def chunk_limits(settings: Settings) -> ChunkLimits:
    from ingest.chunk import ChunkLimits

    return ChunkLimits(
        max_tokens=settings.chunk_max_tokens,
        target_tokens=min(settings.chunk_target_tokens, settings.chunk_max_tokens),
        context_tokens=settings.chunk_context_tokens,
        max_passages=settings.max_passages,
    )


def fetch_policy(settings: Settings) -> FetchPolicy:
    from ingest.fetch import FetchPolicy

    return FetchPolicy(
        allow_loopback=settings.fetch_allow_loopback,
        total_timeout=settings.fetch_timeout,
        max_bytes=int(settings.fetch_max_mb * 1024 * 1024),
        max_redirects=settings.fetch_max_redirects,
        outlet_names=settings.outlet_map,
    )


def poll_limits(settings: Settings) -> PollLimits:
    from ingest.feeds import PollLimits

    return PollLimits(
        budget_seconds=settings.feed_poll_budget, max_new_entries=settings.feed_max_new_entries
    )


def feed_registry(settings: Settings) -> FeedRegistry:
    from ingest.subscriptions import FeedRegistry

    return FeedRegistry(settings.data_dir / "feeds.json")


def follow_store(settings: Settings) -> FollowStore:
    from bot.follows import FollowStore

    return FollowStore(
        settings.data_dir / "follows.sqlite3", max_per_user=settings.follow_max_per_user
    )


def bot_config(settings: Settings) -> BotConfig:
    """Return the Discord bot's configuration (imports discord.py, so only for `run`)."""
    from bot.config import BotConfig

    return BotConfig(
        guild_id=settings.discord_guild_id,
        admin_role_ids=settings.admin_role_ids,
        admin_user_ids=settings.admin_user_ids,
        channel_ids=settings.channel_ids,
        cooldown_seconds=settings.discord_cooldown_seconds,
        max_concurrent=settings.discord_max_concurrent,
        max_upload_bytes=int(settings.discord_max_upload_mb * 1024 * 1024),
        chunk_limits=chunk_limits(settings),
        fetch_policy=fetch_policy(settings),
        poll_limits=poll_limits(settings),
        feed_check_seconds=settings.feed_check_seconds,
        announce_channel_id=settings.discord_announce_channel_id,
        feed_default_every=settings.feed_default_every,
        brief_at=settings.brief_time,
    )
