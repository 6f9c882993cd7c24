"""/timeline, /compare, /brief — a story across articles — and the daily brief.

The story views answer like /ask: acknowledged at once, the index called in a worker thread, the
lines (each cited) and their sources within Discord's limits, a Passages button for the cited
passages. With `NEWSBOT_BRIEF_AT` set, the brief of the last 24 hours is posted in the announce
channel every day at that time, by a timer that no failure stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.buttons import answer_view, embeds_of
from bot.discord.checks import may_ask
from bot.discord.render import (
    Page,
    brief_pages,
    comparison_pages,
    timeline_pages,
)
from bot.texts import brief_text, comparison_text, timeline_text, view_citations
from ingest.durations import parse_since
from retrieval import Answer, Citation, SearchFilters, option_filters

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)

BRIEF_SPAN = timedelta(hours=24)  # what the daily brief covers
DATE_NAMES = ("`since`", "`until`")


def outlet_list(text: str | None) -> tuple[str, ...]:
    """Return the outlets of a comma-separated option, each once, in order."""
    return tuple(dict.fromkeys(o.strip() for o in (text or "").split(",") if o.strip()))


class StoriesCog(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def cog_load(self) -> None:
        config = self.bot.config
        if config.brief_at is not None and config.announce_channel_id is None:
            logger.warning("NEWSBOT_BRIEF_AT is set but no announce channel: no daily brief")
        elif config.brief_at is not None:
            self.briefer.change_interval(time=config.brief_at)
            self.briefer.start()
            logger.info("the daily brief is posted at %s", config.brief_at)

    async def cog_unload(self) -> None:
        self.briefer.cancel()

    # -- the story views -----------------------------------------------------------------------
    async def _dates_if_may_run(
        self, interaction: discord.Interaction, since: str | None, until: str | None
    ) -> SearchFilters | None:
        """Return the dates as filters, or None when refused (unreadable dates, a channel the
        bot doesn't answer in, the cooldown): the user was told why, privately."""
        try:
            filters = option_filters((), since, until, date.today(), names=DATE_NAMES)
        except ValueError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return None
        return filters if await may_ask(self.bot, interaction) else None

    async def _reply(
        self,
        interaction: discord.Interaction,
        request: str,
        pages: list[Page],
        text: str,
        citations: list[Citation],
    ) -> None:
        """Edit the deferred reply into the first page (with the buttons when something is
        cited) and send the rest as follow-ups."""
        view: discord.ui.View | None = None
        if citations:
            answer = Answer(text, tuple(citations), grounded=True)
            answer_id = await self.bot.work(
                self.bot.feedback.save_answer, request, answer, interaction.user.id
            )
            view = answer_view(answer_id)
        await interaction.edit_original_response(embeds=embeds_of(pages[0]), view=view)
        for page in pages[1:]:
            await interaction.followup.send(embeds=embeds_of(page))

    async def _run_view(
        self,
        interaction: discord.Interaction,
        request: str,
        build: Callable[[], tuple[list[Page], str, list[Citation]]],
    ) -> None:
        await interaction.response.defer(thinking=True)  # at once: Discord allows three seconds
        pages, text, citations = await self.bot.work(build)
        await self._reply(interaction, request, pages, text, citations)

    @app_commands.command(
        name="timeline", description="A story's dated developments, oldest first, each cited."
    )
    @app_commands.describe(
        topic="The story, e.g. Riverside dam repairs",
        since="Published on or after: 2025-12-06, November 2023, last week…",
        until="Published on or before: 2025-12-06, November 2023, yesterday…",
    )
    async def timeline(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 300],
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        filters = await self._dates_if_may_run(interaction, since, until)
        if filters is None:
            return

        def build() -> tuple[list[Page], str, list[Citation]]:
            result = self.bot.index.timeline(topic, _or_none(filters))
            cites = view_citations(e.citations for e in result.events)
            return timeline_pages(result), timeline_text(result), cites

        await self._run_view(interaction, f"/timeline {topic}", build)

    @app_commands.command(
        name="compare", description="What each outlet reported on a story, each line cited."
    )
    @app_commands.describe(
        topic="The story, or 'Did both X and Y report …?'",
        outlets="Outlets to compare, comma-separated (default: those that covered it)",
        since="Published on or after: 2025-12-06, November 2023, last week…",
        until="Published on or before: 2025-12-06, November 2023, yesterday…",
    )
    async def compare(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 300],
        outlets: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        filters = await self._dates_if_may_run(interaction, since, until)
        if filters is None:
            return
        names = outlet_list(outlets)

        def build() -> tuple[list[Page], str, list[Citation]]:
            result = self.bot.index.compare(topic, names, _or_none(filters))
            cites = view_citations(r.citations for r in result.outlets)
            return comparison_pages(result), comparison_text(result), cites

        await self._run_view(interaction, f"/compare {topic}", build)

    @app_commands.command(
        name="brief", description="The stories that came in lately, biggest first, each cited."
    )
    @app_commands.describe(
        since="From when: 24h, 3d, 90m, or a date like 2025-12-06 (default 24h)",
        published="By publication date instead of when articles came in",
    )
    async def brief(
        self, interaction: discord.Interaction, since: str = "24h", published: bool = False
    ) -> None:
        start = parse_since(since)
        if start is None:
            await interaction.response.send_message(
                f"`since` wants 24h, 3d, 90m or a date like 2025-12-06, not “{since}”.",
                ephemeral=True,
            )
            return
        if not await may_ask(self.bot, interaction):
            return

        def build() -> tuple[list[Page], str, list[Citation]]:
            result = self.bot.index.brief(start, by_published=published)
            cites = view_citations(s.citations for s in result.stories)
            return brief_pages(result), brief_text(result), cites

        await self._run_view(interaction, f"/brief {since}", build)

    # -- the daily brief -----------------------------------------------------------------------
    @tasks.loop(hours=24)  # cog_load sets the time of day (NEWSBOT_BRIEF_AT)
    async def briefer(self) -> None:
        """Post the day's brief. No exception ends the loop (a failure is logged)."""
        try:
            await self.post_brief(discord.utils.utcnow() - BRIEF_SPAN)
        except Exception:  # whatever it was, tomorrow's brief must still come
            logger.exception("the daily brief failed; the next one comes tomorrow")

    @briefer.before_loop
    async def _brief_when_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def post_brief(self, since: datetime) -> bool:
        """Post the brief of what came in since `since` in the announce channel, with its
        Passages button; nothing when nothing came in. Return whether it was posted."""
        result = await self.bot.work(self.bot.index.brief, since)
        if not result.stories:
            logger.info("daily brief: nothing came in since %s", result.since)
            return False
        pages = brief_pages(result)
        citations = view_citations(s.citations for s in result.stories)
        answer = Answer(brief_text(result), tuple(citations), grounded=True)
        answer_id = await self.bot.work(
            self.bot.feedback.save_answer, f"daily brief since {result.since}", answer, None
        )
        posted = await self.bot.announce(embeds=embeds_of(pages[0]), view=answer_view(answer_id))
        if posted:
            for page in pages[1:]:
                await self.bot.announce(embeds=embeds_of(page))
        logger.info("daily brief: %d stories, posted: %s", len(result.stories), posted)
        return posted


def _or_none(filters: SearchFilters) -> SearchFilters | None:
    return None if filters.empty else filters
