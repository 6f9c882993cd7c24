"""The discord.py bot: built from its dependencies, it acknowledges, delegates and renders.

Everything slow (the model, Chroma, a chat model) runs in worker threads bounded by a semaphore,
so the event loop always acknowledges interactions within Discord's three seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import BotConfig
from bot.feedback import FeedbackStore
from ingest.subscriptions import FeedRegistry
from retrieval import NewsIndex, StoreUnavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


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


class NewsBot(commands.Bot):
    """The Discord front end of newsbot."""

    def __init__(
        self,
        index: NewsIndex,
        feedback: FeedbackStore,
        config: BotConfig,
        feeds: FeedRegistry | None = None,
    ):
        intents = discord.Intents.default()
        intents.message_content = True  # questions arrive in mentions and thread messages
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            # Text from articles or users must never ping @everyone, roles or users.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.index = index
        self.feedback = feedback
        self.feeds = feeds
        self.config = config
        self.cooldown = Cooldown(config.cooldown_seconds)
        self._work = asyncio.Semaphore(config.max_concurrent)

    async def setup_hook(self) -> None:
        from bot.cogs.admin import AdminCog
        from bot.cogs.ask import AskCog
        from bot.views import PassagesButton, VoteButton

        await self.add_cog(AskCog(self))
        await self.add_cog(AdminCog(self))
        policy, limits = self.config.fetch_policy, self.config.poll_limits
        if self.feeds is not None and policy is not None and limits is not None:
            from bot.cogs.feeds import FeedsCog

            await self.add_cog(FeedsCog(self, self.feeds, policy, limits))
        elif self.feeds is not None:
            logger.warning("feeds are not polled: no fetch policy or poll limits configured")
        # Buttons carry the answer id in their custom_id, so they work after a restart.
        self.add_dynamic_items(PassagesButton, VoteButton)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        if self.config.guild_id:
            guild = discord.Object(id=self.config.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        logger.info("synced %d slash commands", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        """Leave messages to the cogs: the bot has no text commands to look for."""

    async def on_ready(self) -> None:
        logger.info("logged in as %s (%s)", self.user, getattr(self.user, "id", "?"))

    async def work(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking work in a thread, at most `max_concurrent` at once."""
        async with self._work:
            return await asyncio.to_thread(fn, *args, **kwargs)

    # -- who may do what ---------------------------------------------------------------------
    def is_admin(self, user: discord.abc.User) -> bool:
        if user.id in self.config.admin_user_ids:
            return True
        if isinstance(user, discord.Member):
            if user.guild_permissions.manage_guild:
                return True
            return any(role.id in self.config.admin_role_ids for role in user.roles)
        return False

    def allowed_channel(self, channel: Any) -> bool:
        if not self.config.channel_ids:
            return True
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return bool(ids & self.config.channel_ids)

    # -- one place where errors become replies ------------------------------------------------
    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CheckFailure):
            return  # the check already told the user why (e.g. admin commands)
        original = getattr(error, "original", error)
        if isinstance(original, StoreUnavailable):  # the server's trouble, not a bug: one line
            logger.warning("command %s: %s", getattr(interaction.command, "name", "?"), original)
            await reply_ephemeral(interaction, INDEX_UNAVAILABLE)
            return
        logger.error(
            "command %s by user %s failed:\n%s",
            interaction.command.name if interaction.command else "?",
            interaction.user.id,
            "".join(traceback.format_exception(original)),
        )
        await reply_ephemeral(interaction, "Sorry, something went wrong. It has been logged.")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        logger.exception("error in %s", event_method)


ADMINS_ONLY = "Only server managers (or configured admins) can do that."
INDEX_UNAVAILABLE = (
    "The news index isn't answering right now (its database server can't be reached). "
    "Please try again in a minute."
)


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


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at a Discord-compatible server instead of discord.com."""
    import yarl

    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
