"""The buttons under every answer: "Passages", 👍 and 👎 — persistent across restarts."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord.render import Page, passages_pages

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)


def _bot(interaction: discord.Interaction) -> NewsBot:
    return interaction.client  # type: ignore[return-value]


def embeds_of(page: Page) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in page.embeds]


class PassagesButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"newsbot:passages:(?P<id>[0-9a-f]{16})",
):
    """Show the full cited passages to whoever clicked, privately."""

    def __init__(self, answer_id: str):
        super().__init__(
            discord.ui.Button(
                label="Passages",
                emoji="📄",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:passages:{answer_id}",
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PassagesButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        stored = await bot.work(bot.feedback.answer, self.answer_id)
        if stored is None:
            await interaction.response.send_message(
                "That answer is no longer known.", ephemeral=True
            )
            return
        pages = passages_pages(stored.citations)
        first, rest = pages[0], pages[1:]
        await interaction.response.send_message(
            content=first.content or None, embeds=embeds_of(first), ephemeral=True
        )
        for page in rest:
            await interaction.followup.send(embeds=embeds_of(page), ephemeral=True)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"newsbot:vote:(?P<vote>up|down):(?P<id>[0-9a-f]{16})",
):
    """Record 👍 or 👎 on an answer (one vote per user, changeable)."""

    def __init__(self, answer_id: str, vote: str):
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:vote:{vote}:{answer_id}",
            )
        )
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["id"], match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        value = 1 if self.vote == "up" else -1
        known = await bot.work(bot.feedback.record_vote, self.answer_id, interaction.user.id, value)
        text = "Thanks for the feedback." if known else "That answer is no longer known."
        await interaction.response.send_message(text, ephemeral=True)


def answer_view(answer_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PassagesButton(answer_id))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
