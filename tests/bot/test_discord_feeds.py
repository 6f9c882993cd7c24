"""/ingest url:, /feeds and the background feed poller, through SimCord, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import simcord
from pytest_httpserver import HTTPServer
from simcord import assert_responded

from bot.discord.app import NewsBot
from bot.discord.cogs.feeds import FeedsCog
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.subscriptions import FeedRegistry
from retrieval.index import NewsIndex
from retrieval.storage.location import ChromaLocation
from tests.bot.conftest import GUILD_ID, grant_admin_commands
from tests.conftest import IndexFactory

pytestmark = pytest.mark.model

STORY = (
    "<p>The harbour authority approved a new ferry route to the islands on Monday, with daily "
    "crossings starting in the spring, the port director told reporters at the quay.</p>"
    "<p>“This connects families who have waited years for a reliable service,” the director "
    "said, adding that tickets would cost less than the old private boats charged.</p>"
)


def page(title: str) -> str:
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='Harbour News'>"
        "<meta property='article:published_time' content='2025-12-01T08:00:00Z'></head>"
        f"<body><article><h1>{title}</h1>{STORY}</article></body></html>"
    )


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/ferry").respond_with_data(
        page("New ferry route approved"), content_type="text/html"
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour feed</title>'
        "<link>http://example.invalid/</link><description>d</description><item>"
        f"<title>New ferry route approved</title><link>{httpserver.url_for('/ferry')}</link>"
        "<guid>ferry-1</guid></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    return httpserver


@pytest.fixture
async def env(
    make_index: IndexFactory, tmp_path: Path, site: HTTPServer
) -> AsyncIterator[simcord.Env]:
    index: NewsIndex = make_index(ChromaLocation(path=tmp_path / "chroma"))
    policy = FetchPolicy(
        allow_loopback=True, loopback_ports=frozenset({site.port}), total_timeout=5
    )
    config = BotConfig(
        guild_id=GUILD_ID,
        fetch_policy=policy,
        poll_limits=PollLimits(budget_seconds=60, max_new_entries=25),
        feed_check_seconds=3600,
        feed_default_every="6h",  # NEWSBOT_FEED_DEFAULT_EVERY reaches /feeds add
    )
    bot = NewsBot(
        index,
        FeedbackStore(tmp_path / "fb.sqlite3"),
        config,
        feeds=FeedRegistry(tmp_path / "feeds.json"),
    )
    env = simcord.Env(bot, settle_timeout=60.0)
    env.create_guild("Newsroom", id=GUILD_ID)
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        env.raise_errors()


def manager(env: simcord.Env) -> simcord.MemberActor:
    """Return a member with Manage Server (who sees and may run the admin commands)."""
    managers = env.guild.create_role("Managers", permissions=discord.Permissions(manage_guild=True))
    return env.guild.add_member(env.create_user("mod"), roles=[managers])


async def test_an_admin_ingests_a_url_and_subscribes_to_a_feed(
    env: simcord.Env, site: HTTPServer
) -> None:
    guild = env.guild
    mod = manager(env)
    alice = guild.add_member(env.create_user("alice"))
    desk = guild.create_text_channel("desk")
    bot = env.bot
    assert isinstance(bot, NewsBot)

    ingested = await mod.slash(desk, "ingest", url=site.url_for("/ferry"))
    grant_admin_commands(env, guild, alice)  # shown to her; newsbot still refuses her
    refused = await alice.slash(desk, "feeds add", url=site.url_for("/feed.xml"))
    added = await mod.slash(desk, "feeds add", url=site.url_for("/feed.xml"), every="2h")
    listed = await mod.slash(desk, "feeds list")

    assert_responded(ingested, contains="1 added", ephemeral=True)
    assert [a.title for a in bot.index.articles()] == ["New ferry route approved"]
    assert_responded(refused, contains="Only server managers", ephemeral=True)
    assert_responded(added, contains="polled every 2h", ephemeral=True)
    assert_responded(listed, contains="every 2h", ephemeral=True)  # as the CLI writes it

    # One round of the background poller: the feed's only entry is the article already held.
    cog = bot.get_cog("FeedsCog")
    assert isinstance(cog, FeedsCog)
    await cog.poller()
    (feed,) = bot.feeds.list() if bot.feeds else []
    assert (feed.title, len(feed.seen), feed.last_polled is not None) == ("Harbour feed", 1, True)


async def test_feeds_add_without_every_uses_the_configured_default(
    env: simcord.Env, site: HTTPServer
) -> None:
    mod = manager(env)
    desk = env.guild.create_text_channel("desk")

    added = await mod.slash(desk, "feeds add", url=site.url_for("/feed.xml"))

    assert_responded(added, contains="polled every 6h", ephemeral=True)


async def test_a_long_feed_list_shows_whole_lines_and_how_many_more(
    env: simcord.Env, site: HTTPServer
) -> None:
    mod = manager(env)
    desk = env.guild.create_text_channel("desk")
    assert isinstance(env.bot, NewsBot) and env.bot.feeds is not None
    urls = [f"https://outlet{i:02d}.example/news/world/europe/rss/feed.xml" for i in range(60)]
    for url in urls:
        env.bot.feeds.add(url, 3600)

    listed = await mod.slash(desk, "feeds list")

    assert listed.response is not None and listed.response.ephemeral
    *lines, more = (listed.response.content or "").split("\n")
    assert len("\n".join(lines)) <= 1900 and len(lines) < len(urls)
    assert more == f"… and {len(urls) - len(lines)} more"
    assert all(line.startswith("<https://outlet") and "never" in line for line in lines)
