"""/feeds add|list|remove for admins, and the background poller of subscribed feeds.

The poller must outlive anything one round meets: `discord.ext.tasks` ends a loop for good on
an exception that escapes its body, so a failing feed, a failing registry read or a refused
announcement is logged and the round goes on; the next round comes on schedule. The registry
is a JSON file behind file locks, so every call to it runs in a worker thread, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.checks import admins_only
from bot.discord.render import REPLY, bare_link, clip, fit_lines, plain
from bot.texts import interval
from ingest.feeds import PollLimits, PollReport, poll_feed
from ingest.fetch import FetchPolicy
from ingest.subscriptions import Feed, FeedRegistry, parse_interval

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)


def announce_line(title: str, report: PollReport) -> str:
    """Return "📰 Feed: 2 new article(s) — Headline; Headline", the feed's words escaped."""
    heads = "; ".join(plain(clip(head, 300)) for head in report.titles[:3])
    more = " …" if len(report.titles) > 3 else ""
    line = f"📰 {plain(clip(title, 200))}: {report.added} new article(s) — {heads}{more}"
    return clip(line, REPLY)


@app_commands.default_permissions(manage_guild=True)  # shown to server managers; checked below
class FeedsCog(commands.GroupCog, group_name="feeds", group_description="RSS/Atom feeds (admins)"):
    def __init__(
        self, bot: NewsBot, registry: FeedRegistry, policy: FetchPolicy, limits: PollLimits
    ):
        self.bot = bot
        self.registry = registry
        self.policy = policy
        self.limits = limits
        super().__init__()

    async def cog_load(self) -> None:
        self.poller.change_interval(seconds=self.bot.config.feed_check_seconds)
        self.poller.start()

    async def cog_unload(self) -> None:
        self.poller.cancel()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admins_only(self.bot, interaction)

    @app_commands.command(name="add", description="Subscribe to a feed.")
    @app_commands.describe(
        url="The feed's URL", every="How often to poll: 30m, 2h, 1d (default: the bot's setting)"
    )
    async def add(
        self, interaction: discord.Interaction, url: str, every: str | None = None
    ) -> None:
        every = every or self.bot.config.feed_default_every  # NEWSBOT_FEED_DEFAULT_EVERY
        try:
            feed = await asyncio.to_thread(self.registry.add, url, parse_interval(every))
        except ValueError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        logger.info(
            "admin %s subscribed to %s every %ss", interaction.user.id, url, feed.every_seconds
        )
        await interaction.response.send_message(
            f"Subscribed to {bare_link(feed.url)}; it is polled every {every}.", ephemeral=True
        )

    @app_commands.command(name="list", description="List subscribed feeds.")
    async def list_feeds(self, interaction: discord.Interaction) -> None:
        feeds = await asyncio.to_thread(self.registry.list)
        lines = [
            f"{bare_link(f.url)} {plain(f.title or '')} · every {interval(f.every_seconds)} · "
            f"last polled {f.last_polled or 'never'}"
            for f in feeds
        ]
        await interaction.response.send_message(fit_lines(lines) or "No feeds yet.", ephemeral=True)

    @app_commands.command(name="remove", description="Unsubscribe from a feed.")
    async def remove(self, interaction: discord.Interaction, url: str) -> None:
        removed = await asyncio.to_thread(self.registry.remove, url)
        logger.info("admin %s unsubscribed from %s: %s", interaction.user.id, url, removed)
        link = bare_link(url)
        text = f"Unsubscribed from {link}." if removed else f"Not subscribed to {link}."
        await interaction.response.send_message(text, ephemeral=True)

    @tasks.loop(seconds=60)
    async def poller(self) -> None:
        """One round: poll every feed that is due. No exception ends the loop (see the top)."""
        try:
            await self.poll_round()
        except Exception:  # whatever it was, the next round must still come
            logger.exception("feed poller round failed; the next round comes on schedule")

    async def poll_round(self) -> None:
        """Poll the due feeds one after another; one feed's failure does not stop the others."""
        try:
            due = await asyncio.to_thread(self.registry.due, datetime.now(UTC))
        except Exception:
            logger.exception("cannot read the feed registry; feeds are polled next round")
            return
        for feed in due:
            await self._poll(feed)

    async def _poll(self, feed: Feed) -> None:
        try:
            report = await self.bot.work(
                poll_feed,
                self.registry,
                feed.url,
                sink=self.bot.index,
                limits=self.bot.config.chunk_limits,
                policy=self.policy,
                poll_limits=self.limits,
            )
        except Exception:
            logger.exception("polling %s failed", feed.url)
            return
        logger.info("polled %s: %d added, %d failed", feed.url, report.added, len(report.failed))
        await self.bot.catch_up_follows()
        if report.added and self.bot.config.announce_channel_id:
            await self.bot.announce(announce_line(report.title or feed.title or feed.url, report))

    @poller.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @poller.error
    async def _poller_failed(self, error: BaseException) -> None:
        # Not reached while `poller` catches every Exception; kept so that, should one ever
        # escape, the log says the poller stopped (discord.py ends the loop after this).
        logger.error("feed poller stopped", exc_info=error)
