"""The background feed poller survives what one round meets, and keeps its schedule.

The real NewsBot runs in SimCord with its real FeedsCog, FeedRegistry and poll_feed, polling
RSS feeds served on 127.0.0.1; only the index is an in-memory sink (no model needed). SimCord
runs the discord.ext.tasks loop on its virtual clock, so `env.advance_time` is what brings the
next round, and a round that has not come yet is not a race.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import discord
import pytest
import simcord
from pytest_httpserver import HTTPServer
from simcord import assert_responded
from werkzeug import Request, Response

import bot.discord.app as app_module
import bot.discord.cogs.feeds as feeds_module
from bot.discord.app import NewsBot
from bot.discord.cogs.feeds import FeedsCog
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.subscriptions import FeedRegistry
from retrieval.index import NewsIndex
from tests.bot.conftest import GUILD_ID
from tests.helpers import FakeSink

CHECK = 60.0  # feed_check_seconds: the poller's round interval, in SimCord's virtual time
LONG_AGO = "2000-01-01T00:00:00+00:00"

STORIES = {
    "ferry": (
        "New ferry route approved",
        "The harbour authority approved a new ferry route to the islands on Monday, with daily "
        "crossings starting in the spring, the port director told reporters at the quay.",
        "“This connects families who have waited years for a reliable service,” the director "
        "said, adding that tickets would cost less than the old private boats charged.",
    ),
    "market": (
        "Covered market reopens after repairs",
        "The covered market in the old town reopened on Saturday after eighteen months of "
        "repairs to its iron roof, with most of the original stallholders back in place.",
        "“We were afraid the customers would not come back,” said a fishmonger who has traded "
        "there for thirty years, as queues formed outside before the doors opened.",
    ),
    "bridge": (
        "Council backs a footbridge over the river",
        "The city council voted on Wednesday to build a footbridge over the river, ending a "
        "debate that had lasted more than a decade between the two neighbourhoods.",
        "Construction is expected to start in the autumn and to cost twelve million euros, "
        "most of it from a regional fund, the mayor said after the vote.",
    ),
}


def page(slug: str) -> str:
    title, *paragraphs = STORIES[slug]
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='Harbour News'>"
        "<meta property='article:published_time' content='2025-12-01T08:00:00Z'></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


@dataclass
class Site:
    """Feeds served on 127.0.0.1 whose entries a test can add to between rounds."""

    server: HTTPServer
    items: dict[str, list[str]] = field(default_factory=dict)  # feed name → story slugs

    def feed_url(self, name: str) -> str:
        return self.server.url_for(f"/{name}.xml")

    def publish(self, name: str, slug: str) -> None:
        """Add a story to the feed, creating the feed on first use."""
        if name not in self.items:
            self.items[name] = []
            self.server.expect_request(f"/{name}.xml").respond_with_handler(self._feed(name))
        self.items[name].append(slug)
        self.server.expect_request(f"/{slug}").respond_with_data(
            page(slug), content_type="text/html"
        )

    def requests_to(self, name: str) -> int:
        return sum(1 for request, _ in self.server.log if request.path == f"/{name}.xml")

    def _feed(self, name: str) -> Callable[[Request], Response]:
        def respond(_request: Request) -> Response:
            entries = "".join(
                f"<item><title>{STORIES[slug][0]}</title>"
                f"<link>{self.server.url_for('/' + slug)}</link><guid>{slug}</guid></item>"
                for slug in self.items[name]
            )
            text = (
                '<?xml version="1.0"?><rss version="2.0"><channel>'
                f"<title>{name.title()} feed</title><link>http://example.invalid/</link>"
                f"<description>d</description>{entries}</channel></rss>"
            )
            return Response(text, content_type="application/rss+xml")

        return respond


@dataclass
class World:
    env: simcord.Env
    bot: NewsBot
    cog: FeedsCog
    registry: FeedRegistry
    sink: FakeSink
    site: Site

    def subscribe(self, name: str, every_seconds: int) -> str:
        """Subscribe to the feed (never polled, so due now); return its URL."""
        url = self.site.feed_url(name)
        self.registry.add(url, every_seconds)
        return url

    def last_polled(self, url: str) -> str | None:
        feed = self.registry.get(url)
        assert feed is not None
        return feed.last_polled

    def make_due(self, *urls: str) -> None:
        """Pretend the feeds were last polled long ago (the registry reads the wall clock)."""
        for url in urls:
            feed = self.registry.get(url)
            assert feed is not None
            self.registry.save_feed(dataclasses.replace(feed, last_polled=LONG_AGO))

    def announce_in(self, channel: simcord.ChannelHandle) -> None:
        self.bot.config = dataclasses.replace(self.bot.config, announce_channel_id=channel.id)

    def titles(self) -> set[str]:
        return {info.title for info in self.sink.articles.values()}


@pytest.fixture
async def world(httpserver: HTTPServer, tmp_path: Path) -> AsyncIterator[World]:
    policy = FetchPolicy(
        allow_loopback=True, loopback_ports=frozenset({httpserver.port}), total_timeout=5
    )
    config = BotConfig(
        guild_id=GUILD_ID,
        fetch_policy=policy,
        poll_limits=PollLimits(budget_seconds=30, max_new_entries=25),
        feed_check_seconds=CHECK,
    )
    registry = FeedRegistry(tmp_path / "feeds.json")
    sink = FakeSink()
    bot = NewsBot(
        cast(NewsIndex, sink), FeedbackStore(tmp_path / "fb.sqlite3"), config, feeds=registry
    )
    env = simcord.Env(bot, settle_timeout=30.0)
    env.create_guild("Newsroom", id=GUILD_ID)
    # cog_load starts the poller; its first round runs now, with no feeds yet.
    await env.start()
    try:
        cog = bot.get_cog("FeedsCog")
        assert isinstance(cog, FeedsCog)
        assert cog.poller.is_running()
        yield World(env, bot, cog, registry, sink, Site(httpserver))
    finally:
        await env.shutdown()
        # Anything the bot raised and nobody caught (such as an exception that ended the
        # poller's task) fails the test here.
        env.raise_errors()


def cog_logs(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    """What the poller logged, its announcements (posted by the bot) included."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name in (feeds_module.__name__, app_module.__name__) and record.levelno >= level
    ]


def refused(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [line for line in cog_logs(caplog) if line.startswith("cannot announce")]


async def test_an_announce_channel_that_refuses_does_not_stop_the_poller(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    env, site = world.env, world.site
    # The bot may read the announce channel but not post in it: sending gets a real 403.
    me = env.guild.me
    assert me is not None
    closed = env.guild.create_text_channel(
        "announcements", overwrites={me: discord.PermissionOverwrite(send_messages=False)}
    )
    world.announce_in(closed)
    site.publish("harbour", "ferry")
    site.publish("market", "market")
    harbour = world.subscribe("harbour", 60)  # polled first: the more overdue
    market = world.subscribe("market", 120)

    await env.advance_time(CHECK)

    # Both feeds were polled in that round, although announcing the first one failed.
    assert world.titles() == {"New ferry route approved", "Covered market reopens after repairs"}
    assert world.last_polled(harbour) is not None
    assert world.last_polled(market) is not None
    refusals = refused(caplog)
    assert len(refusals) == 2
    assert all(str(closed.id) in line and "Missing Permissions" in line for line in refusals)
    assert closed.history() == []
    assert world.cog.poller.is_running()

    # The next round comes on schedule, polls again and again tries to announce.
    site.publish("harbour", "bridge")
    world.make_due(harbour, market)
    caplog.clear()
    await env.advance_time(CHECK)

    assert "Council backs a footbridge over the river" in world.titles()
    assert (site.requests_to("harbour"), site.requests_to("market")) == (2, 2)
    assert world.last_polled(harbour) != LONG_AGO
    assert world.last_polled(market) != LONG_AGO
    assert len(refused(caplog)) == 1
    assert cog_logs(caplog) == refused(caplog)  # and nothing else went wrong
    assert world.cog.poller.is_running()


async def test_a_feed_that_raises_does_not_stop_the_round_or_the_poller(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, site = world.env, world.site
    desk = env.guild.create_text_channel("desk")
    world.announce_in(desk)
    site.publish("harbour", "ferry")
    site.publish("market", "market")
    broken = world.subscribe("harbour", 60)  # polled first: the more overdue
    working = world.subscribe("market", 120)
    real_poll_feed = feeds_module.poll_feed
    failing = {broken}

    def poll_feed(registry: FeedRegistry, url: str, **kwargs: Any) -> Any:
        if url in failing:
            raise RuntimeError("the feed parser fell over")
        return real_poll_feed(registry, url, **kwargs)

    monkeypatch.setattr(feeds_module, "poll_feed", poll_feed)

    await env.advance_time(CHECK)

    # The feed after the broken one was polled and announced.
    assert world.last_polled(broken) is None
    assert world.last_polled(working) is not None
    assert world.titles() == {"Covered market reopens after repairs"}
    assert [message.content for message in desk.history()] == [
        "📰 Market feed: 1 new article(s) — Covered market reopens after repairs"
    ]
    (failure,) = [
        record
        for record in caplog.records
        if record.name == feeds_module.__name__ and record.levelno == logging.ERROR
    ]
    assert failure.getMessage() == f"polling {broken} failed"
    assert failure.exc_info is not None
    assert "the feed parser fell over" in str(failure.exc_info[1])
    assert world.cog.poller.is_running()

    # The next round comes on schedule; the feed that failed was never recorded as polled,
    # so it is still due, and now it works.
    failing.clear()
    await env.advance_time(CHECK)

    assert world.last_polled(broken) is not None
    assert "New ferry route approved" in world.titles()
    assert len(desk.history()) == 2
    assert site.requests_to("market") == 1  # not due again: polled a round ago
    assert world.cog.poller.is_running()


async def test_rounds_come_on_schedule_even_after_a_round_fails(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, site, registry = world.env, world.site, world.registry
    site.publish("harbour", "ferry")
    harbour = world.subscribe("harbour", 60)
    rounds: list[float] = []  # the virtual second at which each round asked for due feeds
    real_due = registry.due

    def due(now: Any) -> Any:
        rounds.append(env.now().timestamp())
        if len(rounds) == 1:
            raise OSError("the registry's disk is gone")
        return real_due(now)

    monkeypatch.setattr(registry, "due", due)
    start = env.now().timestamp()

    await env.advance_time(CHECK / 2)
    assert rounds == []  # not before its time

    await env.advance_time(CHECK / 2)
    # The first round could not read the registry: logged, and that round ended there.
    assert rounds == [start + CHECK]
    assert world.last_polled(harbour) is None
    assert any("cannot read the feed registry" in line for line in cog_logs(caplog))
    assert world.cog.poller.is_running()
    assert not world.cog.poller.failed()

    await env.advance_time(CHECK)
    # The next round came on schedule and polled the feed.
    assert rounds == [start + CHECK, start + 2 * CHECK]
    assert world.last_polled(harbour) is not None
    assert world.titles() == {"New ferry route approved"}

    # Even an exception from the round as a whole does not end the loop.
    async def broken_round() -> None:
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(world.cog, "poll_round", broken_round)
    caplog.clear()
    await env.advance_time(CHECK)
    assert any("feed poller round failed" in line for line in cog_logs(caplog))
    assert world.cog.poller.is_running()

    monkeypatch.undo()
    world.make_due(harbour)
    await env.advance_time(CHECK)
    assert world.last_polled(harbour) != LONG_AGO
    assert site.requests_to("harbour") == 2


async def test_feeds_commands_and_rounds_read_the_registry_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, site, registry = world.env, world.site, world.registry
    managers = env.guild.create_role("Managers", permissions=discord.Permissions(manage_guild=True))
    mod = env.guild.add_member(env.create_user("mod"), roles=[managers])
    desk = env.guild.create_text_channel("desk")
    site.publish("harbour", "ferry")
    calls: list[tuple[str, bool]] = []  # (method, whether it ran on the event loop's thread)
    loop_thread = threading.current_thread()

    def watch(name: str) -> None:
        method = getattr(registry, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, threading.current_thread() is loop_thread))
            return method(*args, **kwargs)

        monkeypatch.setattr(registry, name, watched)

    for name in ("add", "list", "remove", "due"):
        watch(name)

    added = await mod.slash(desk, "feeds add", url=site.feed_url("harbour"), every="2h")
    listed = await mod.slash(desk, "feeds list")
    await env.advance_time(CHECK)
    removed = await mod.slash(desk, "feeds remove", url=site.feed_url("harbour"))

    assert_responded(added, contains="polled every 2h", ephemeral=True)
    assert_responded(listed, contains="every 2h", ephemeral=True)
    assert_responded(removed, contains="Unsubscribed from", ephemeral=True)
    assert world.titles() == {"New ferry route approved"}
    assert {name for name, _ in calls} == {"add", "list", "due", "remove"}
    assert not any(on_loop for _, on_loop in calls)
