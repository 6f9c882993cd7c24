"""A running SimCord world around the real NewsBot: real model, embedded Chroma, real SQLite.

The virtual Discord holds one guild (pinned to GUILD_ID, so the bot's guild command sync is
the path under test) with two text channels, two plain members and a server manager.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import simcord

from bot.discord.app import NewsBot
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from ingest.parse import parse_source
from retrieval.index import NewsIndex
from retrieval.models import Article
from retrieval.storage.location import ChromaLocation
from tests.conftest import EXAMPLE_SEED, IndexFactory
from tests.helpers import put

GUILD_ID = 1_234_567_890_123_456_789
COOLDOWN = 10.0


def seed_articles() -> list[Article]:
    return list(parse_source(EXAMPLE_SEED.read_bytes(), EXAMPLE_SEED.name).articles)


@dataclass
class World:
    env: simcord.Env
    bot: NewsBot
    index: NewsIndex
    feedback_path: Path
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    other: simcord.ChannelHandle
    alice: simcord.MemberActor  # plain member
    bob: simcord.MemberActor  # plain member
    mod: simcord.MemberActor  # has Manage Server through a role

    def new_bot(self) -> NewsBot:
        """Return a fresh bot over the same index and feedback database (a restart)."""
        return make_bot(self.index, self.feedback_path)


ADMIN_COMMANDS = ("ingest", "sources", "forget", "stats", "feeds")


def grant_admin_commands(env: simcord.Env, guild: simcord.GuildHandle, *members: object) -> None:
    """Let a member see and run the admin commands, as a server can in its integration settings
    (Discord shows them to members with Manage Server only); newsbot's own check still applies."""
    for name in ADMIN_COMMANDS:
        command = env.backend.find_command(name, guild.id)
        if command is not None:
            allowed = dict.fromkeys(members, True)
            guild.set_command_permissions(int(command["id"]), allowed)  # type: ignore[arg-type]


def make_bot(index: NewsIndex, feedback_path: Path) -> NewsBot:
    config = BotConfig(guild_id=GUILD_ID, cooldown_seconds=COOLDOWN)
    return NewsBot(index, FeedbackStore(feedback_path), config)


@pytest.fixture
def index(make_index: IndexFactory, tmp_path: Path) -> NewsIndex:
    """The real index over embedded Chroma, holding the example seed article."""
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    report = put(index, *seed_articles())
    assert report.added == 1
    return index


@pytest.fixture
async def env(index: NewsIndex, tmp_path: Path) -> AsyncIterator[simcord.Env]:
    bot = make_bot(index, tmp_path / "fb.sqlite3")
    # Real model and Chroma calls run in worker threads; give them time to settle.
    env = simcord.Env(bot, settle_timeout=60.0)
    env.create_guild("Newsroom", id=GUILD_ID)
    await env.start()
    # The cooldown reads SimCord's virtual clock, so tests move time with env.advance_time.
    bot.cooldown.clock = lambda: env.now().timestamp()
    try:
        yield env
    finally:
        await env.shutdown()
        # Anything the bot raised and no test inspected fails the test here.
        env.raise_errors()


@pytest.fixture
def world(env: simcord.Env, index: NewsIndex, tmp_path: Path) -> World:
    guild = env.guild
    managers = guild.create_role("Managers", permissions=discord.Permissions(manage_guild=True))
    bot = env.bot
    assert isinstance(bot, NewsBot)
    return World(
        env=env,
        bot=bot,
        index=index,
        feedback_path=tmp_path / "fb.sqlite3",
        guild=guild,
        general=guild.create_text_channel("general"),
        other=guild.create_text_channel("news-desk"),
        alice=guild.add_member(env.create_user("alice")),
        bob=guild.add_member(env.create_user("bob")),
        mod=guild.add_member(env.create_user("mod"), roles=[managers]),
    )
