"""The discord.py bot: built from its dependencies, it acknowledges, delegates and renders.

Everything slow (the model, Chroma, a chat model) runs in worker threads bounded by a semaphore,
so the event loop always acknowledges interactions within Discord's three seconds.

Followed topics: after every ingest the bot runs (`/ingest`, a feed poll), `catch_up_follows`
matches what was committed since matching last got this far against the follows and delivers
the posts queued for them; the follows cog does the same on a timer, for articles that another
process committed (or a process that died before matching left) and posts `newsbot ingest`
queued meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import traceback
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.checks import INDEX_UNAVAILABLE, SOMETHING_WENT_WRONG, Cooldown, reply_ephemeral
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from bot.discord.render import follow_post_content
from bot.follow_store import FollowPost, FollowStore
from ingest.subscriptions import FeedRegistry
from retrieval import NewsIndex, StoreUnavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

DELIVERY_TRIES = 3  # a post that fails this often for a passing reason (5xx) is dropped


def post_nonce(follow_id: int, article_id: str) -> str:
    """Return the nonce a follow post is always sent with (Discord allows 25 characters).

    A post is marked delivered after Discord accepted it; a bot stopped in between (or a send
    whose reply was lost) sends it again. discord.py asks Discord to enforce the nonce, and
    Discord then returns the message it already created with that nonce in the last few
    minutes instead of posting a second one.
    """
    return "f" + hashlib.sha256(f"{follow_id}:{article_id}".encode()).hexdigest()[:24]


class NewsBot(commands.Bot):
    """The Discord front end of newsbot."""

    def __init__(
        self,
        index: NewsIndex,
        feedback: FeedbackStore,
        config: BotConfig,
        feeds: FeedRegistry | None = None,
        follows: FollowStore | None = None,
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
        self.follows = follows
        self.config = config
        self.cooldown = Cooldown(config.cooldown_seconds)
        self._work = asyncio.Semaphore(config.max_concurrent)
        self._delivering = asyncio.Lock()
        self._failed_tries: dict[tuple[int, str], int] = {}

    async def setup_hook(self) -> None:
        from bot.discord.buttons import PassagesButton, VoteButton
        from bot.discord.cogs.admin import AdminCog
        from bot.discord.cogs.ask import AskCog
        from bot.discord.cogs.follows import FollowsCog
        from bot.discord.cogs.stories import StoriesCog

        await self.add_cog(AskCog(self))
        await self.add_cog(AdminCog(self))
        await self.add_cog(StoriesCog(self))
        await self.add_cog(FollowsCog(self))
        policy, limits = self.config.fetch_policy, self.config.poll_limits
        if self.feeds is not None and policy is not None and limits is not None:
            from bot.discord.cogs.feeds import FeedsCog

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

    async def announce(
        self,
        content: str | None = None,
        *,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
    ) -> bool:
        """Post in the announce channel; return whether it was posted. A failure (no channel
        configured or found, the bot may not post) is logged, never raised."""
        channel_id = self.config.announce_channel_id
        if channel_id is None:
            return False
        channel = self.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            logger.warning("announce channel %s not found", channel_id)
            return False
        try:
            await channel.send(content, embeds=embeds or [], view=view or discord.utils.MISSING)
        except discord.HTTPException as error:  # Forbidden among them: the bot may not post
            logger.warning("cannot announce in channel %s: %s", channel_id, error)
            return False
        except Exception:
            logger.warning("cannot announce in channel %s", channel_id, exc_info=True)
            return False
        return True

    # -- followed topics ---------------------------------------------------------------------
    async def catch_up_follows(self, *, deliver: bool = True) -> None:
        """Queue the posts that articles committed since the last look owe to followed topics,
        then (unless told not to) deliver them. A failure is logged, never raised: the ingest
        that called this has succeeded, and the next look catches up."""
        if self.follows is None:
            return
        try:
            async with self._work:
                await asyncio.to_thread(self.follows.catch_up, self.index)
            if deliver:
                await self.deliver_follows()
        except Exception:
            logger.exception("matching new articles against follows failed")

    async def deliver_follows(self) -> int:
        """Deliver the queued follow posts; return how many were posted.

        A post whose channel or user is gone or refuses the bot is logged and marked delivered
        (never retried); one that fails for a passing reason is tried again next time, at most
        DELIVERY_TRIES times. One post's failure never stops the others.
        """
        store = self.follows
        if store is None:
            return 0
        posted = 0
        async with self._delivering:
            batch = await asyncio.to_thread(store.pending)
            while batch:
                settled = 0
                for post in batch:
                    outcome = await self._deliver(post)
                    if outcome is not None:
                        await asyncio.to_thread(store.delivered, post)
                        settled += 1
                        posted += outcome
                if settled < len(batch):
                    break  # what is left waits for the next round
                batch = await asyncio.to_thread(store.pending)
        return posted

    async def _deliver(self, post: FollowPost) -> int | None:
        """Post one follow post: 1 if posted, 0 if dropped for good, None to try again later."""
        follow = post.follow
        key = (follow.id, post.article_id)
        where = f"channel {follow.channel_id}" if follow.channel_id else f"user {follow.user_id}"
        try:
            target = await self._follow_target(follow.channel_id, follow.user_id)
            if target is None:
                logger.warning("follow #%d: %s cannot be posted to; dropped", follow.id, where)
                return 0
            await target.send(follow_post_content(post), nonce=post_nonce(*key))
        except (discord.NotFound, discord.Forbidden) as error:
            logger.warning("follow #%d: %s refused the post (%s); dropped", follow.id, where, error)
            return 0
        except Exception as error:
            tries = self._failed_tries.get(key, 0) + 1
            if tries >= DELIVERY_TRIES:
                self._failed_tries.pop(key, None)
                logger.warning(
                    "follow #%d: posting to %s failed %d times (%s); dropped",
                    follow.id,
                    where,
                    tries,
                    error,
                )
                return 0
            self._failed_tries[key] = tries
            logger.warning(
                "follow #%d: posting to %s failed (%s); tried again later", follow.id, where, error
            )
            return None
        self._failed_tries.pop(key, None)
        logger.info("follow #%d: posted article %s to %s", follow.id, post.article_id, where)
        return 1

    async def _follow_target(
        self, channel_id: int | None, user_id: int
    ) -> discord.abc.Messageable | None:
        """Return the channel or thread a follow posts to, or its follower for DMs."""
        if channel_id is None:
            return self.get_user(user_id) or await self.fetch_user(user_id)
        channel = self.get_channel(channel_id) or await self.fetch_channel(channel_id)
        return channel if isinstance(channel, discord.abc.Messageable) else None

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
        await reply_ephemeral(interaction, SOMETHING_WENT_WRONG)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        logger.exception("error in %s", event_method)


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at a Discord-compatible server instead of discord.com."""
    import yarl

    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
