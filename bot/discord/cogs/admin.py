"""Admin commands: /ingest, /sources, /forget, /stats — Manage Server or a configured id."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.checks import admins_only
from bot.discord.render import bare_link, clip, fit_lines, plain
from bot.texts import article_row, ingest_counts
from ingest.fetch_policy import MB
from ingest.parse import SUPPORTED_SUFFIXES, ParseError, parse_source
from ingest.pipeline import IngestReport, ingest_articles, ingest_urls

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)

PAGE = 10


def report_text(report: IngestReport) -> str:
    lines = [ingest_counts(report)] + [
        f"✗ {plain(clip(f'{origin}: {reason}', 300))}" for origin, reason in report.failed[:10]
    ]
    if len(report.failed) > 10:
        lines.append(f"… and {len(report.failed) - 10} more")
    return fit_lines(lines)


class SourcesPager(discord.ui.View):
    """Page through the article list (private to the admin who asked)."""

    def __init__(self, rows: list[dict[str, Any]], title: str):
        super().__init__(timeout=600)
        self.rows = rows
        self.title = title
        self.page = 0
        self._update_buttons()

    @property
    def pages(self) -> int:
        return max(1, (len(self.rows) + PAGE - 1) // PAGE)

    def embed(self) -> discord.Embed:
        chunk = self.rows[self.page * PAGE : (self.page + 1) * PAGE]
        lines = [
            f"`{r['article_id']}` {str(r['published_at'] or '')[:10]} · "
            f"{plain(str(r['outlet'] or '—'))} · {plain(clip(str(r['title']), 120))}"
            for r in chunk
        ]
        embed = discord.Embed(title=self.title, description="\n".join(lines) or "No articles.")
        embed.set_footer(text=f"Page {self.page + 1}/{self.pages} · {len(self.rows)} article(s)")
        return embed

    def _update_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        self.page -= 1
        self._update_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.page += 1
        self._update_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)


class ConfirmForget(discord.ui.View):
    def __init__(self, bot: NewsBot, article_id: str, admin_id: int):
        super().__init__(timeout=120)
        self.bot = bot
        self.article_id = article_id
        self.admin_id = admin_id

    @discord.ui.button(label="Forget it", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        removed = await self.bot.work(self.bot.index.forget, self.article_id)
        if removed:
            await self.bot.work(self.bot.index.refresh)
        logger.info("admin %s forgot article %s: %s", self.admin_id, self.article_id, removed)
        text = f"Forgot article `{self.article_id}`." if removed else "It was already gone."
        await interaction.response.edit_message(content=text, view=None)
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content="Nothing was removed.", view=None)
        self.stop()


class AdminCog(commands.Cog):
    """Admin commands. Discord shows them only to members with Manage Server (a server can
    grant them to others in its integration settings); `interaction_check` still refuses
    anyone who is not an admin by newsbot's own rules, whatever Discord shows."""

    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admins_only(self.bot, interaction)

    @app_commands.default_permissions(manage_guild=True)
    @app_commands.command(
        name="ingest", description="Add an article from a URL or a file (admins)."
    )
    @app_commands.describe(
        url="An article's web address", file="A .txt, .md, .html, .json or .jsonl file"
    )
    async def ingest(
        self,
        interaction: discord.Interaction,
        url: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        if (url is None) == (file is None):
            await interaction.response.send_message("Give either `url` or `file`.", ephemeral=True)
            return
        if url is not None:
            await self._ingest_url(interaction, url)
            return
        assert file is not None
        suffix = PurePath(file.filename).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            await interaction.response.send_message(
                f"`{file.filename}`: unsupported file type "
                f"(use {', '.join(sorted(SUPPORTED_SUFFIXES))}).",
                ephemeral=True,
            )
            return
        if file.size > self.bot.config.max_upload_bytes:
            limit = self.bot.config.max_upload_bytes / MB
            await interaction.response.send_message(
                f"`{file.filename}` is larger than the {limit:g} MB limit.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        report = await self.bot.work(self._ingest_bytes, data, file.filename)
        await self.bot.catch_up_follows()
        logger.info(
            "admin %s ingested %s: %s", interaction.user.id, file.filename, report.as_dict()
        )
        await interaction.followup.send(f"`{file.filename}`: {report_text(report)}", ephemeral=True)

    async def _ingest_url(self, interaction: discord.Interaction, url: str) -> None:
        policy = self.bot.config.fetch_policy
        if policy is None:
            await interaction.response.send_message(
                "Ingesting from a URL is not configured; attach the article as a file.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.bot.work(
            ingest_urls,
            self.bot.index,
            [url],
            policy=policy,
            limits=self.bot.config.chunk_limits,
        )
        await self.bot.catch_up_follows()
        logger.info("admin %s ingested %s: %s", interaction.user.id, url, report.as_dict())
        await interaction.followup.send(f"{bare_link(url)}: {report_text(report)}", ephemeral=True)

    def _ingest_bytes(self, data: bytes, name: str) -> IngestReport:
        try:
            parsed = parse_source(data, name)
        except ParseError as exc:
            return IngestReport(failed=[(name, str(exc))])
        report = ingest_articles(
            self.bot.index, parsed.articles, limits=self.bot.config.chunk_limits
        )
        report.failed[:0] = parsed.errors
        return report

    @app_commands.default_permissions(manage_guild=True)
    @app_commands.command(name="sources", description="List ingested articles (admins).")
    @app_commands.describe(query="Only articles whose headline or outlet contains this")
    async def sources(self, interaction: discord.Interaction, query: str | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        logger.info("admin %s listed sources (query %r)", interaction.user.id, query)
        infos = await self.bot.work(self.bot.index.articles)
        rows = [article_row(i) for i in infos]
        if query:
            needle = query.lower()
            rows = [r for r in rows if needle in f"{r['title']} {r['outlet'] or ''}".lower()]
        title = f"Articles matching “{query}”" if query else "Articles, newest first"
        pager = SourcesPager(rows, title)
        await interaction.followup.send(embed=pager.embed(), view=pager, ephemeral=True)

    @app_commands.default_permissions(manage_guild=True)
    @app_commands.command(name="forget", description="Remove an article and its passages (admins).")
    @app_commands.describe(article_id="The id shown by /sources")
    async def forget(self, interaction: discord.Interaction, article_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        logger.info("admin %s asked to forget article %s", interaction.user.id, article_id)
        infos = await self.bot.work(self.bot.index.articles)
        match = next((i for i in infos if i.article_id == article_id), None)
        if match is None:
            await interaction.followup.send(
                f"No article with id `{article_id}` (see /sources).", ephemeral=True
            )
            return
        await interaction.followup.send(
            f"Forget “{plain(match.title)}” ({plain(match.outlet or 'unknown outlet')}) and its "
            f"{match.passages} passage(s)?",
            view=ConfirmForget(self.bot, article_id, interaction.user.id),
            ephemeral=True,
        )

    @app_commands.default_permissions(manage_guild=True)
    @app_commands.command(name="stats", description="What the index holds, and feedback (admins).")
    async def stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        logger.info("admin %s asked for stats", interaction.user.id)
        infos = await self.bot.work(self.bot.index.articles)
        votes = await self.bot.work(self.bot.feedback.counts)
        dates = sorted(str(i.published_at)[:10] for i in infos if i.published_at)
        outlets = {i.outlet for i in infos if i.outlet}
        lines = [
            f"Articles: {len(infos)}",
            f"Passages: {sum(i.passages for i in infos)}",
            f"Outlets: {len(outlets)}",
            f"Oldest: {dates[0] if dates else '—'} · Newest: {dates[-1] if dates else '—'}",
            f"Answers given (story views and briefs included): {votes['answers']} · "
            f"👍 {votes['up']} · 👎 {votes['down']}",
        ]
        await interaction.followup.send("\n".join(lines), ephemeral=True)
