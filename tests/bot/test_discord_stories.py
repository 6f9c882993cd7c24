"""/timeline, /compare, /brief and followed topics as Discord users see them, through SimCord.

The index is the real one (bundled model, embedded Chroma) holding most of the Riverside dam
story and an unrelated football report; follows and feedback are real SQLite. New articles
arrive the way an admin adds them (/ingest with an attached file), or as `newsbot ingest` adds
them while the bot runs (straight into the index and the follow store, the bot's timer
delivering).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import simcord
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from simcord import assert_responded

from bot.discord.app import NewsBot
from bot.discord.cogs import follows
from bot.discord.cogs.feeds import FeedsCog
from bot.discord.cogs.follows import FollowsCog
from bot.discord.cogs.stories import StoriesCog
from bot.discord.config import BotConfig
from bot.discord.feedback import FeedbackStore
from bot.discord.render import CONTENT, brief_pages, timeline_pages
from bot.follow_store import FollowStore
from bot.settings import DiscordSettings, Settings
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.subscriptions import FeedRegistry
from retrieval import Citation, Passage, Timeline, TimelineEvent
from retrieval.index import NewsIndex
from retrieval.models import Article
from retrieval.storage.location import ChromaLocation
from tests.bot.conftest import COOLDOWN, GUILD_ID, World
from tests.bot.test_discord_bot import (
    answer_id_of,
    assert_nothing_can_ping,
    assert_within_discord_limits,
    buttons,
    descriptions,
    markers,
)
from tests.conftest import IndexFactory
from tests.helpers import put
from tests.retrieval.stories.corpus import (
    BAKERY,
    CRACKS_TIMES,
    CRACKS_WIRE,
    DRAIN,
    FINE,
    FOOTBALL,
    REOPENED,
    REPAIRS,
)

pytestmark = pytest.mark.model

HELD = (CRACKS_WIRE, CRACKS_TIMES, DRAIN, FINE, FOOTBALL)  # in the index from the start
TOPIC = "Riverside dam repairs"
REPAIRS_URL = "https://harbour.example/riverside-repairs"
HEADLINES = {a.title for a in (*HELD, REPAIRS, REOPENED, BAKERY)}


def upload(article: Article, *, outlet: str | None = None, url: str | None = None) -> bytes:
    """Return an article as the JSON file an admin attaches to /ingest."""
    return json.dumps(
        {
            "title": article.title,
            "body": list(article.paragraphs),
            "outlet": outlet or article.outlet,
            "published_at": article.published_at,
            "url": url,
        }
    ).encode()


@pytest.fixture
def index(make_index: IndexFactory, tmp_path: Path) -> NewsIndex:
    """The real index holding most of the dam story (not the repairs) and the football final."""
    idx = make_index(ChromaLocation(path=tmp_path / "chroma"))
    assert put(idx, *HELD).added == len(HELD)
    return idx


def story_bot(
    index: NewsIndex, tmp_path: Path, feeds: FeedRegistry | None = None, **config: Any
) -> NewsBot:
    """A bot as `newsbot run` builds it, with its follow store (a restart builds another)."""
    return NewsBot(
        index,
        FeedbackStore(tmp_path / "fb.sqlite3"),
        BotConfig(guild_id=GUILD_ID, cooldown_seconds=COOLDOWN, **config),
        feeds=feeds,
        follows=FollowStore(tmp_path / "follows.sqlite3"),
    )


@pytest.fixture
async def env(
    index: NewsIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[simcord.Env]:
    # The delivery timer's rounds are run by the tests themselves, when they choose.
    monkeypatch.setattr(follows, "DELIVERY_SECONDS", 3600.0)
    env = simcord.Env(story_bot(index, tmp_path), settle_timeout=60.0)
    env.create_guild("Newsroom", id=GUILD_ID)
    await env.start()
    env.bot.cooldown.clock = lambda: env.now().timestamp()  # type: ignore[attr-defined]
    try:
        yield env
    finally:
        await env.shutdown()
        env.raise_errors()


def bot_messages(world: World, channel: simcord.ChannelHandle) -> list[str]:
    assert world.env.bot.user is not None
    return [m.content for m in channel.history() if m.author.id == world.env.bot.user.id]


def cog(world: World) -> FollowsCog:
    bot = world.env.bot
    assert isinstance(bot, NewsBot)
    found = bot.get_cog("FollowsCog")
    assert isinstance(found, FollowsCog)
    return found


async def ingest(world: World, article: Article, **options: Any) -> str:
    """Attach the article to /ingest as the server manager; return the report line."""
    name = re.sub(r"\W+", "-", article.title.lower()) + ".json"
    result = await world.mod.slash(world.general, "ingest", file=(name, upload(article, **options)))
    messages = [m for m in ([result.response] if result.response else []) + result.followups]
    (report,) = [m.content for m in messages if "added" in m.content]
    return report


async def click_passages(world: World, message: Any) -> list[str]:
    """Click Passages as bob; return the titles of the passages shown to him privately."""
    shown = await world.bob.click(message, label="Passages")
    assert_responded(shown, ephemeral=True)
    pages = [p for p in [shown.response, *shown.followups] if p is not None]
    assert all(p.ephemeral for p in pages)
    return [e.title or "" for p in pages for e in p.embeds]


def lines_of(message: Any) -> list[str]:
    return [line for d in descriptions([message]) for line in d.split("\n") if line.strip()]


def sources_of(message: Any) -> dict[int, str]:
    """Return {n: headline} from the Sources fields."""
    found = {}
    for embed in message.embeds:
        for f in embed.fields:
            match = re.fullmatch(r"\[(\d+)\] (.*)", f.name or "")
            assert match, f.name
            found[int(match[1])] = match[2]
    return found


# -- the story views ------------------------------------------------------------------------------
async def test_timeline_lists_dated_cited_lines_with_sources_and_passages(world: World) -> None:
    start = len(world.env.http_requests)

    result = await world.alice.slash(world.general, "timeline", topic="Riverside dam spillway")

    message = result.response
    assert message is not None and not message.ephemeral and result.followups == []
    assert message.embeds[0].title == "Timeline: Riverside dam spillway"
    lines = lines_of(message)
    dates = [re.match(r"\*\*(\d{4}-\d\d-\d\d)\*\* — ", line) for line in lines]
    assert all(dates), lines
    days = [d.group(1) for d in dates if d]
    assert days == sorted(days) and days[0] == "2024-03-01"
    assert all(markers(line) for line in lines)  # every line cited
    sources = sources_of(message)
    cited = {n for line in lines for n in markers(line)}
    assert set(sources) == cited
    assert {CRACKS_WIRE.title, CRACKS_TIMES.title, DRAIN.title} <= set(sources.values())
    assert set(sources.values()) <= {a.title for a in HELD}
    assert [b.get("label") for b in buttons(message)] == ["Passages", None, None]

    titles = await click_passages(world, message)
    assert {int(t.split("]")[0][1:]) for t in titles} == cited
    assert_nothing_can_ping(world.env.http_requests[start:])


async def test_compare_gives_each_outlet_its_cited_lines(world: World) -> None:
    result = await world.alice.slash(
        world.general, "compare", topic="Riverside dam", outlets="City Wire, Valley Post"
    )

    message = result.response
    assert message is not None and not message.ephemeral
    assert message.embeds[0].title == "Compared: Riverside dam"
    lines = lines_of(message)
    headings = [line for line in lines if line.startswith("**")]
    assert [h.split("**")[1] for h in headings] == ["City Wire", "Valley Post"]
    said = [line for line in lines if not line.startswith("**")]
    assert said and all(markers(line) for line in said)
    sources = sources_of(message)
    assert set(sources) == {n for line in said for n in markers(line)}
    assert set(sources.values()) <= {CRACKS_WIRE.title, DRAIN.title, FINE.title}
    titles = await click_passages(world, message)
    assert len(titles) >= len(sources)


async def test_brief_lists_stories_each_with_one_cited_line(world: World) -> None:
    result = await world.alice.slash(world.general, "brief", since="1d")

    message = result.response
    assert message is not None and not message.ephemeral
    assert (message.embeds[0].title or "").startswith("Brief: since ")
    lines = lines_of(message)
    heads = [line for line in lines if re.match(r"\*\*\d+\. ", line)]
    said = [line for line in lines if line not in heads]
    assert len(heads) == len(said) >= 2  # the dam story and the football final
    assert all(len(markers(line)) == 1 for line in said)
    assert any(FOOTBALL.title in h for h in heads)
    assert set(sources_of(message).values()) <= {a.title for a in HELD}
    assert await click_passages(world, message)

    unreadable = await world.bob.slash(world.general, "brief", since="soon")
    assert_responded(unreadable, contains="`since` wants 24h, 3d", ephemeral=True)
    await world.env.advance_time(COOLDOWN)
    nothing = await world.alice.slash(world.general, "brief", since="2099-01-01")
    assert_responded(nothing, embed_title="Brief", ephemeral=False)
    assert nothing.response is not None
    assert "Nothing came in since 2099-01-01" in (nothing.response.embeds[0].description or "")
    assert buttons(nothing.response) == []  # nothing cited, no Passages


async def test_story_commands_share_the_ask_cooldown(world: World) -> None:
    await world.alice.slash(world.general, "brief")
    again = await world.alice.slash(world.general, "timeline", topic="Riverside dam")
    assert_responded(again, contains="You're asking quickly", ephemeral=True)
    others = await world.bob.slash(world.general, "timeline", topic="Riverside dam")
    assert_responded(others, embed_title="Timeline: Riverside dam", ephemeral=False)


def long_timeline(events: int = 80) -> Timeline:
    body = " ".join(f"Paragraph word {i} of a long passage." for i in range(40))
    made = []
    for n in range(1, events + 1):
        passage = Passage(
            passage_id=f"p{n:04d}",
            article_id=f"a{n:04d}",
            position=0,
            text=body,
            title=f"Development number {n} " + "with a very long headline " * 10,
            outlet="Long Wire",
            published_at=f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}",
            url=f"https://long.example/{n}",
        )
        text = f"Event {n}: " + "the story moved on again, as quoted at length here. " * 4
        made.append(
            TimelineEvent(passage.published_at or "", f"{text}[{n}]", (Citation(n, passage),))
        )
    return Timeline("the long story", tuple(made))


async def test_a_long_timeline_is_split_into_messages_within_discord_limits(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = long_timeline()
    assert len(timeline_pages(timeline)) > 1
    monkeypatch.setattr(world.index, "timeline", lambda *args, **kwargs: timeline)

    result = await world.alice.slash(world.general, "timeline", topic="the long story")

    assert result.response is not None
    messages = [result.response, *result.followups]
    assert len(messages) == len(timeline_pages(timeline)) > 1
    for message in messages:
        assert not message.ephemeral
        assert_within_discord_limits(message.content, [dict(e.to_dict()) for e in message.embeds])
    assert len(buttons(messages[0])) == 3 and all(buttons(m) == [] for m in messages[1:])
    lines = [line for m in messages for line in lines_of(m)]
    assert [markers(line) for line in lines] == [[n] for n in range(1, 81)]  # nothing lost
    names = [f.name or "" for m in messages for e in m.embeds for f in e.fields]
    assert [markers(name)[0] for name in names] == list(range(1, 81))
    stored = FeedbackStore(world.feedback_path).answer(answer_id_of(messages[0]))
    assert stored is not None  # what the Passages button shows: every cited passage
    assert [c["n"] for c in stored.citations] == list(range(1, 81))


def test_brief_pages_without_stories_say_so() -> None:
    from retrieval import Brief

    (page,) = brief_pages(Brief("2025-12-06T08:00:00+00:00"))
    assert page.embeds[0]["description"] == "Nothing came in since 2025-12-06 08:00 UTC."


# -- follows --------------------------------------------------------------------------------------
async def test_a_follow_posts_each_new_matching_article_once(world: World) -> None:
    followed = await world.alice.slash(world.general, "follow", topic=TOPIC)
    assert_responded(followed, contains=f"Following “{TOPIC}” (#1)", ephemeral=True)
    dm = await world.bob.slash(world.other, "follow", topic=TOPIC, dm=True)
    assert_responded(dm, contains="posted in your DMs", ephemeral=True)
    start = len(world.env.http_requests)

    report = await ingest(world, REPAIRS, url=REPAIRS_URL)

    assert report.endswith("1 added, 0 updated, 0 unchanged, 0 syndicated copies, 0 failed")
    (post,) = bot_messages(world, world.general)
    lines = post.split("\n")
    assert lines[0] == f"🔔 **{REPAIRS.title}**"
    assert lines[1] == "Harbour Times · 2024-03-12"
    assert lines[2].startswith("> ") and lines[2].endswith("[1]")
    assert "Riverside dam" in lines[2]
    assert lines[3] == f"[1] <{REPAIRS_URL}>"
    assert f"“{TOPIC}”" in lines[4] and "/unfollow id:1" in lines[4]
    assert len(post) <= CONTENT
    assert bot_messages(world, world.other) == []  # bob's go to his DMs
    (dm_post,) = bot_messages(world, world.bob.user.dm_channel)
    assert dm_post.split("\n")[:4] == lines[:4]
    assert_nothing_can_ping(world.env.http_requests[start:])

    unrelated = await ingest(world, BAKERY)
    again = await ingest(world, REPAIRS, url=REPAIRS_URL)
    copy = await ingest(world, REPAIRS, outlet="Valley Post", url="https://valley.example/dam")

    assert unrelated.endswith("1 added, 0 updated, 0 unchanged, 0 syndicated copies, 0 failed")
    assert again.endswith("0 added, 0 updated, 1 unchanged, 0 syndicated copies, 0 failed")
    assert copy.endswith("0 added, 0 updated, 0 unchanged, 1 syndicated copies, 0 failed")
    assert bot_messages(world, world.general) == [post]
    assert bot_messages(world, world.bob.user.dm_channel) == [dm_post]


def repairs_page() -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in REPAIRS.paragraphs)
    return (
        f"<html><head><title>{REPAIRS.title}</title>"
        "<meta property='og:site_name' content='Harbour Times'>"
        "<meta property='article:published_time' content='2024-03-12T08:00:00Z'></head>"
        f"<body><article><h1>{REPAIRS.title}</h1>{paragraphs}</article></body></html>"
    )


async def test_a_feed_poll_posts_a_matching_article_once(
    world: World, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/repairs").respond_with_data(
        repairs_page(), content_type="text/html"
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Times</title>'
        "<link>http://example.invalid/</link><description>d</description><item>"
        f"<title>{REPAIRS.title}</title><link>{httpserver.url_for('/repairs')}</link>"
        "<guid>repairs-1</guid></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    registry = FeedRegistry(tmp_path / "feeds.json")
    # No page or feed can name a loopback host (ingest.formats.outlet_name): the admin does.
    policy = FetchPolicy(
        allow_loopback=True,
        loopback_ports=frozenset({httpserver.port}),
        total_timeout=5,
        outlet_names=(("127.0.0.1", "Harbour Times"),),
    )
    bot = story_bot(
        world.index,
        tmp_path,
        feeds=registry,
        fetch_policy=policy,
        poll_limits=PollLimits(budget_seconds=60, max_new_entries=25),
        feed_check_seconds=3600,
    )
    await world.env.restart_bot(bot)
    await world.alice.slash(world.general, "follow", topic=TOPIC)
    registry.add(httpserver.url_for("/feed.xml"), 3600)
    poller = bot.get_cog("FeedsCog")
    assert isinstance(poller, FeedsCog)

    await poller.poll_round()

    (post,) = bot_messages(world, world.general)
    assert post.startswith(f"🔔 **{REPAIRS.title}**\nHarbour Times · 2024-03-12\n> ")
    assert f"[1] <{httpserver.url_for('/repairs')}>" in post
    (polled,) = registry.list()
    await poller._poll(polled)  # the feed again: its entry is known, nothing is posted
    assert bot_messages(world, world.general) == [post]


async def test_an_outlet_follow_skips_other_outlets(world: World) -> None:
    await world.alice.slash(world.general, "follow", topic="Riverside dam", outlet="Valley Post")

    await ingest(world, REPAIRS)  # Harbour Times
    assert bot_messages(world, world.general) == []
    await ingest(world, REOPENED)  # Valley Post
    (post,) = bot_messages(world, world.general)
    assert post.startswith(f"🔔 **{REOPENED.title}**\nValley Post · 2024-03-20\n")


async def test_follows_survive_a_restart_and_the_timer_delivers_what_the_cli_queued(
    world: World, tmp_path: Path
) -> None:
    await world.alice.slash(world.general, "follow", topic=TOPIC)

    await world.env.restart_bot(story_bot(world.index, tmp_path))
    await ingest(world, REPAIRS)
    assert [p.split("\n")[0] for p in bot_messages(world, world.general)] == [
        f"🔔 **{REPAIRS.title}**"
    ]

    # `newsbot ingest` while the bot runs: another process adds the article and queues its post.
    put(world.index, REOPENED)
    queued = FollowStore(tmp_path / "follows.sqlite3").catch_up(world.index)
    assert len(queued) == 1 and bot_messages(world, world.general)[1:] == []
    await cog(world).deliverer()  # one round of the bot's delivery timer
    posts = bot_messages(world, world.general)
    assert [p.split("\n")[0] for p in posts[1:]] == [f"🔔 **{REOPENED.title}**"]
    await cog(world).deliverer()
    assert bot_messages(world, world.general) == posts  # delivered once


async def test_the_timer_matches_what_a_process_that_died_before_matching_committed(
    world: World, tmp_path: Path
) -> None:
    await world.alice.slash(world.general, "follow", topic=TOPIC)
    # Another process commits the article and is killed before it matches anything.
    put(world.index, REPAIRS)
    assert bot_messages(world, world.general) == []

    await cog(world).deliverer()  # the bot's next look
    (post,) = bot_messages(world, world.general)
    assert post.startswith(f"🔔 **{REPAIRS.title}**")
    await ingest(world, REOPENED)  # later looks match only what is new
    await cog(world).deliverer()
    assert [p.split("\n")[0] for p in bot_messages(world, world.general)] == [
        f"🔔 **{REPAIRS.title}**",
        f"🔔 **{REOPENED.title}**",
    ]
    assert FollowStore(tmp_path / "follows.sqlite3").catch_up(world.index) == []


async def test_only_admins_see_and_remove_other_users_follows(world: World) -> None:
    await world.alice.slash(world.general, "follow", topic=TOPIC)
    await world.bob.slash(world.other, "follow", topic="cup final", dm=True)

    bobs = await world.bob.slash(world.general, "follows")
    assert_responded(bobs, content="`#2` “cup final” → DMs", ephemeral=True)
    refused = await world.bob.slash(world.general, "unfollow", id=1)
    assert_responded(refused, content="You have no follow #1 (see /follows).", ephemeral=True)

    everyone = await world.mod.slash(world.general, "follows")
    assert_responded(everyone, ephemeral=True)
    assert everyone.response is not None
    assert everyone.response.content.split("\n") == [
        f"`#1` “{TOPIC}” → <#{world.general.id}> · <@{world.alice.id}>",
        f"`#2` “cup final” → DMs · <@{world.bob.id}>",
    ]
    removed = await world.mod.slash(world.general, "unfollow", id=1)
    assert_responded(removed, content="Stopped following #1.", ephemeral=True)
    own = await world.bob.slash(world.general, "unfollow", id=2)
    assert_responded(own, content="Stopped following #2.", ephemeral=True)
    alices = await world.alice.slash(world.general, "follows")
    assert_responded(alices, content="You follow no topics yet (/follow).", ephemeral=True)

    await ingest(world, REPAIRS)
    assert bot_messages(world, world.general) == []


async def test_a_refused_delivery_is_dropped_and_delivery_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await world.alice.slash(world.general, "follow", topic=TOPIC)
    await world.bob.slash(world.other, "follow", topic=TOPIC)
    # The bot may no longer post in #general (Discord: 403 Missing Permissions).
    world.env.inject_error(
        "POST",
        f"/channels/{world.general.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )

    with caplog.at_level(logging.WARNING, logger="bot.discord.app"):
        report = await ingest(world, REPAIRS)

    assert "1 added" in report  # the admin's ingest is unaffected
    assert bot_messages(world, world.general) == []
    assert [p.split("\n")[0] for p in bot_messages(world, world.other)] == [
        f"🔔 **{REPAIRS.title}**"
    ]
    assert any(
        "follow #1" in r.getMessage() and "dropped" in r.getMessage() for r in caplog.records
    )

    # A round that fails outright is logged; the timer keeps running and the next round delivers.
    store = world.env.bot.follows  # type: ignore[attr-defined]
    real_pending = store.pending
    failures = [RuntimeError("database is locked")]

    def flaky_pending(limit: int = 50) -> Any:
        if failures:
            raise failures.pop()
        return real_pending(limit)

    monkeypatch.setattr(store, "pending", flaky_pending)
    put(world.index, REOPENED)
    assert len(store.catch_up(world.index)) == 2
    with caplog.at_level(logging.ERROR, logger="bot.discord.cogs.follows"):
        await cog(world).deliverer()
    assert any("delivering follow posts failed" in r.getMessage() for r in caplog.records)
    assert cog(world).deliverer.is_running()
    assert len(bot_messages(world, world.other)) == 1

    world.env.backend.faults.clear()  # #general works again; its dropped post is not retried
    await cog(world).deliverer()
    assert [p.split("\n")[0] for p in bot_messages(world, world.other)][1:] == [
        f"🔔 **{REOPENED.title}**"
    ]
    assert [p.split("\n")[0] for p in bot_messages(world, world.general)] == [
        f"🔔 **{REOPENED.title}**"
    ]


# -- the daily brief ------------------------------------------------------------------------------
async def test_the_daily_brief_is_posted_in_the_announce_channel_at_its_time(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    at = time(8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    bot = story_bot(world.index, tmp_path, announce_channel_id=world.other.id, brief_at=at)
    await world.env.restart_bot(bot)
    briefs = bot.get_cog("StoriesCog")
    assert isinstance(briefs, StoriesCog)
    assert briefs.briefer.is_running()
    now = world.env.now()
    next_at = datetime.combine(now.astimezone(at.tzinfo).date(), at).astimezone(UTC)
    if next_at <= now:
        next_at += timedelta(days=1)

    await world.env.advance_time((next_at - now).total_seconds() - 60)
    assert world.other.history() == []  # not yet
    await world.env.advance_time(120)

    (message,) = world.other.history()
    assert (message.embeds[0].title or "").startswith("Brief: since ")
    lines = lines_of(message)
    heads = [line for line in lines if re.match(r"\*\*\d+\. ", line)]
    assert len(heads) >= 2 and any(FOOTBALL.title in h for h in heads)
    assert all(markers(line) for line in lines if line not in heads)
    assert await click_passages(world, message)
    assert world.general.history() == []

    # An announce channel that refuses: logged, and tomorrow's brief still comes.
    world.env.inject_error(
        "POST",
        f"/channels/{world.other.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=1,
    )
    with caplog.at_level(logging.WARNING, logger="bot.discord.app"):
        await world.env.advance_time(86400)
    assert any("cannot announce" in r.getMessage() for r in caplog.records)
    assert briefs.briefer.is_running()
    assert len(world.other.history()) == 1
    await world.env.advance_time(86400)
    assert len(world.other.history()) == 2


def test_the_brief_time_is_read_in_its_time_zone() -> None:
    brief = DiscordSettings(brief_at="08:30", brief_timezone="America/New_York")
    assert brief.brief_time == time(8, 30, tzinfo=ZoneInfo("America/New_York"))
    assert Settings(discord=brief).bot_config().brief_at == brief.brief_time
    assert DiscordSettings(brief_at="").brief_time is None
    with pytest.raises(ValidationError, match="like 08:00"):
        DiscordSettings(brief_at="8am")
    with pytest.raises(ValidationError, match="unknown time zone"):
        DiscordSettings(brief_at="08:00", brief_timezone="Mars/Olympus")
