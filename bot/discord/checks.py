"""Who may do what on Discord, and the words of every refusal.

The cogs and the app both import this module, and it imports neither, so no cog ever imports
the app back. Refusals are private (ephemeral) replies; the texts are written here once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)

ADMINS_ONLY = "Only server managers (or configured admins) can do that."
NOT_HERE = "I don't answer in this channel."
INDEX_UNAVAILABLE = (
    "The news index isn't answering right now (its database server can't be reached). "
    "Please try again in a minute."
)
SOMETHING_WENT_WRONG = "Sorry, something went wrong. It has been logged."


def too_soon(wait: float) -> str:
    """Return the refusal of a question asked within the user's cooldown."""
    return f"You're asking quickly — try again in {wait:.0f} s."


class Cooldown:
    """One question per user every `seconds` (discord.py's cooldown buckets, keyed by user id).

    Buckets of users whose cooldown has passed are dropped as others ask, so the map stays as
    small as the number of users who asked within the last `seconds`.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._buckets: commands.CooldownMapping[int] = commands.CooldownMapping.from_cooldown(
            1, seconds, lambda user_id: user_id
        )

    def retry_after(self, user_id: int) -> float:
        """Return 0 and start the user's cooldown, or the seconds left before they may ask."""
        if self.seconds <= 0:
            return 0.0
        return self._buckets.update_rate_limit(user_id, self.clock()) or 0.0

    @property
    def tracked(self) -> int:
        """How many users' cooldowns are held now."""
        return len(self._buckets._cache)


def asking_refusal(bot: NewsBot, channel: Any, user_id: int) -> str | None:
    """Return why a question may not be answered (a channel the bot doesn't answer in, the
    user's cooldown), or None when it may; a question let through starts the cooldown."""
    if not bot.allowed_channel(channel):
        return NOT_HERE
    wait = bot.cooldown.retry_after(user_id)
    return too_soon(wait) if wait else None


async def may_ask(bot: NewsBot, interaction: discord.Interaction) -> bool:
    """Tell whether a question (/ask, a story view) may be answered; refuse it privately if not."""
    refusal = asking_refusal(bot, interaction.channel, interaction.user.id)
    if refusal is not None:
        await interaction.response.send_message(refusal, ephemeral=True)
    return refusal is None


async def admins_only(bot: NewsBot, interaction: discord.Interaction) -> bool:
    """Tell whether the user may run an admin command; refuse them privately if not.

    Discord hides admin commands from members without Manage Server (`default_permissions`),
    but a server can grant them to anyone: this check is newsbot's own rule, always applied.
    """
    if bot.is_admin(interaction.user):
        return True
    logger.info("refused admin command from user %s", interaction.user.id)
    await interaction.response.send_message(ADMINS_ONLY, ephemeral=True)
    return False


async def reply_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer the interaction privately, whether or not it was acknowledged already."""
    try:
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # The first follow-up after a public "thinking…" would replace it, publicly; so
            # clear the placeholder and then answer privately.
            await interaction.edit_original_response(content="…")
            await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True)
        elif interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        logger.warning("could not send an error reply", exc_info=True)
