"""/ask, mentions and thread follow-ups."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.buttons import answer_view, embeds_of
from bot.discord.checks import INDEX_UNAVAILABLE, asking_refusal, may_ask
from bot.discord.render import answer_pages
from retrieval import Answer, SearchFilters, StoreUnavailable, Turn, option_filters

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)

HISTORY_MESSAGES = 20  # thread messages read as the conversation so far


class AskCog(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def _answer(
        self, question: str, user_id: int, filters: SearchFilters | None, history: list[Turn]
    ) -> tuple[Answer, str]:
        answer = await self.bot.work(self.bot.index.ask, question, filters, history)
        answer_id = await self.bot.work(self.bot.feedback.save_answer, question, answer, user_id)
        return answer, answer_id

    @app_commands.command(
        name="ask", description="Ask about the news coverage; answers cite their sources."
    )
    @app_commands.describe(
        question="Your question",
        outlet="Only this outlet",
        since="Published on or after: 2025-12-06, November 2023, last week, yesterday…",
        until="Published on or before: 2025-12-06, November 2023, yesterday…",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 500],
        outlet: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        if not await may_ask(self.bot, interaction):
            return
        try:
            outlets = (outlet,) if outlet else ()
            names = ("`since`", "`until`")
            filters = option_filters(outlets, since, until, date.today(), names=names)
        except ValueError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)  # at once: Discord allows three seconds
        answer, answer_id = await self._answer(question, interaction.user.id, filters, [])
        pages = answer_pages(answer)
        await interaction.edit_original_response(
            embeds=embeds_of(pages[0]), view=answer_view(answer_id)
        )
        for page in pages[1:]:
            await interaction.followup.send(embeds=embeds_of(page))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or self.bot.user is None:
            return
        channel = message.channel
        in_our_thread = isinstance(channel, discord.Thread) and channel.owner_id == self.bot.user.id
        mentioned = self.bot.user in message.mentions
        if not (in_our_thread or mentioned) or not self.bot.allowed_channel(channel):
            return
        question = self._strip_mention(message.content)
        if not question:
            return
        refusal = asking_refusal(self.bot, channel, message.author.id)  # the cooldown, here
        if refusal is not None:
            await message.reply(refusal, mention_author=False)
            return
        if isinstance(channel, discord.Thread):
            thread = channel
            history = await self._history(thread, before=message)
        else:
            thread = await message.create_thread(name=question[:90] or "question")
            history = []
        try:
            async with thread.typing():
                answer, answer_id = await self._answer(question, message.author.id, None, history)
        except StoreUnavailable as error:
            logger.warning("question in thread %s: %s", thread.id, error)
            await thread.send(INDEX_UNAVAILABLE)
            return
        pages = answer_pages(answer)
        await thread.send(embeds=embeds_of(pages[0]), view=answer_view(answer_id))
        for page in pages[1:]:
            await thread.send(embeds=embeds_of(page))

    def _strip_mention(self, content: str) -> str:
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", "", content).strip()

    async def _history(self, thread: discord.Thread, before: discord.Message) -> list[Turn]:
        """Return the thread so far as conversation turns, oldest first."""
        turns: list[Turn] = []
        starter = thread.starter_message
        if starter is None and isinstance(thread.parent, discord.TextChannel):
            try:
                starter = await thread.parent.fetch_message(thread.id)
            except discord.HTTPException:
                starter = None
        if starter is not None:
            turns.append(("user", self._strip_mention(starter.content)))
        # Newest first, so a long thread keeps its latest turns; then put back in order.
        newest = [m async for m in thread.history(limit=HISTORY_MESSAGES, before=before)]
        for msg in reversed(newest):
            if msg.author.id == getattr(self.bot.user, "id", None):
                text = msg.embeds[0].description if msg.embeds else msg.content
                if text:
                    turns.append(("assistant", text))
            elif not msg.author.bot:
                turns.append(("user", self._strip_mention(msg.content)))
        return turns
