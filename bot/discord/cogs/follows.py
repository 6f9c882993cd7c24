"""/follow, /follows, /unfollow: followed topics, and the delivery of their posts.

A follow posts each new matching article where it was made (a channel or thread) or in the
follower’s DMs. The bot matches and delivers after its own ingests (`NewsBot.catch_up_follows`)
and, for what other processes committed or queued meanwhile, on a timer that no single failure
stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.render import fit_lines, plain
from bot.follow_store import Follow, FollowLimitError

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

logger = logging.getLogger(__name__)

DELIVERY_SECONDS = 60.0  # how often posts queued by `newsbot ingest` are looked for
NOT_SET_UP = "Following topics is not set up on this bot."


def follow_line(follow: Follow, *, owner: bool) -> str:
    """Return "#3 “Riverside dam” (Valley Post) → #general" for /follows."""
    outlets = f" ({plain(', '.join(follow.outlets))})" if follow.outlets else ""
    where = f"<#{follow.channel_id}>" if follow.channel_id else "DMs"
    line = f"`#{follow.id}` “{plain(follow.topic)}”{outlets} → {where}"
    return line + (f" · <@{follow.user_id}>" if owner else "")


class FollowsCog(commands.Cog):
    def __init__(self, bot: NewsBot):
        self.bot = bot

    async def cog_load(self) -> None:
        if self.bot.follows is not None:
            self.deliverer.change_interval(seconds=DELIVERY_SECONDS)
            self.deliverer.start()

    async def cog_unload(self) -> None:
        self.deliverer.cancel()

    # -- the commands ------------------------------------------------------------------------
    @app_commands.command(
        name="follow", description="Get new articles on a topic posted here (or in your DMs)."
    )
    @app_commands.describe(
        topic="The topic, e.g. Riverside dam repairs",
        outlet="Only articles from this outlet",
        dm="Send them to your DMs instead of this channel",
    )
    async def follow(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 300],
        outlet: str | None = None,
        dm: bool = False,
    ) -> None:
        store = self.bot.follows
        if store is None:
            await interaction.response.send_message(NOT_SET_UP, ephemeral=True)
            return
        in_dm = dm or interaction.guild is None
        if not in_dm and not self.bot.allowed_channel(interaction.channel):
            await interaction.response.send_message(
                "I don't post in this channel; use `dm:true` to get them in your DMs.",
                ephemeral=True,
            )
            return
        try:
            follow = await asyncio.to_thread(
                store.add,
                interaction.user.id,
                topic,
                outlets=(outlet,) if outlet else (),
                guild_id=interaction.guild_id,
                channel_id=None if in_dm else interaction.channel_id,
            )
        except ValueError as exc:  # FollowLimitError among them
            text = str(exc)
            if not isinstance(exc, FollowLimitError):
                text = f"Can't follow that: {text}."
            await interaction.response.send_message(text[:1].upper() + text[1:], ephemeral=True)
            return
        logger.info("user %s follows #%d %r", interaction.user.id, follow.id, follow.topic)
        where = "in your DMs" if in_dm else "here"
        only = f" from {plain(follow.outlets[0])}" if follow.outlets else ""
        await interaction.response.send_message(
            f"Following “{plain(follow.topic)}” (#{follow.id}): new articles{only} on it are "
            f"posted {where}. `/unfollow id:{follow.id}` stops it.",
            ephemeral=True,
        )

    @app_commands.command(name="follows", description="The topics you follow (admins: everyone's).")
    async def list_follows(self, interaction: discord.Interaction) -> None:
        store = self.bot.follows
        if store is None:
            await interaction.response.send_message(NOT_SET_UP, ephemeral=True)
            return
        admin = self.bot.is_admin(interaction.user)
        follows = await asyncio.to_thread(store.follows, None if admin else interaction.user.id)
        lines = [follow_line(f, owner=admin) for f in follows]
        empty = "Nobody follows a topic yet." if admin else "You follow no topics yet (/follow)."
        await interaction.response.send_message(fit_lines(lines) or empty, ephemeral=True)

    @app_commands.command(name="unfollow", description="Stop following a topic (see /follows).")
    @app_commands.rename(follow_id="id")
    @app_commands.describe(follow_id="The number shown by /follows")
    async def unfollow(self, interaction: discord.Interaction, follow_id: int) -> None:
        store = self.bot.follows
        if store is None:
            await interaction.response.send_message(NOT_SET_UP, ephemeral=True)
            return
        admin = self.bot.is_admin(interaction.user)
        owner = None if admin else interaction.user.id
        removed = await asyncio.to_thread(store.remove, follow_id, owner)
        logger.info("user %s unfollowed #%d: %s", interaction.user.id, follow_id, removed)
        if removed:
            text = f"Stopped following #{follow_id}."
        elif admin:
            text = f"There is no follow #{follow_id}."
        else:
            text = f"You have no follow #{follow_id} (see /follows)."
        await interaction.response.send_message(text, ephemeral=True)

    # -- delivery ------------------------------------------------------------------------------
    @tasks.loop(seconds=DELIVERY_SECONDS)
    async def deliverer(self) -> None:
        """Match what other processes committed meanwhile (or a dead one left), then deliver
        queued follow posts. No exception ends the loop (a failure is logged)."""
        try:
            await self.bot.catch_up_follows(deliver=False)
            await self.bot.deliver_follows()
        except Exception:  # whatever it was, the next round must still come
            logger.exception("delivering follow posts failed; trying again next round")

    @deliverer.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @deliverer.error
    async def _deliverer_failed(self, error: BaseException) -> None:
        # Not reached while `deliverer` catches every Exception; should one ever escape, the
        # log says the delivery stopped (discord.py ends the loop after this).
        logger.error("follow delivery stopped", exc_info=error)
