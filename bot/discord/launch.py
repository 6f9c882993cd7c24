"""The Discord bot put together from the settings and an open index, and run (`newsbot run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.discord.app import NewsBot, point_at
from bot.discord.feedback import FeedbackStore
from bot.wiring import feed_registry, follow_store

if TYPE_CHECKING:
    from bot.settings import Settings
    from retrieval import NewsIndex


def serve(settings: Settings, index: NewsIndex, token: str) -> None:
    """Log in with `token` and answer until stopped; the caller keeps the index open."""
    point_at(settings.discord.api_base, settings.discord.gateway_url)
    index.warm_up()  # the model and the keyword index, before the first question
    feedback = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    bot = NewsBot(
        index,
        feedback,
        settings.bot_config(),
        feeds=feed_registry(settings),
        follows=follow_store(settings),
    )
    bot.run(token, log_handler=None)
