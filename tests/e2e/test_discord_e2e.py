"""The real `newsbot run` process against our fake Discord on 127.0.0.1 (gateway + REST)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.runner import NEWSBOT

pytestmark = pytest.mark.model
QUESTION = "what did Putin say about India's oil?"


@contextmanager
def bot_process(fake: FakeDiscord, log: Path, **settings: str) -> Iterator[None]:
    """`newsbot run` logged in to the fake Discord, with extra NEWSBOT_ settings; its output
    goes to `log` (printed when it stops)."""
    env = os.environ | {
        "NEWSBOT_DISCORD_TOKEN": "test-token",
        "NEWSBOT_DISCORD_API_BASE": fake.api_base,
        "NEWSBOT_DISCORD_GATEWAY_URL": fake.gateway_url,
        "NEWSBOT_DISCORD_GUILD_ID": str(fake.guild_id),
        "NEWSBOT_DISCORD_COOLDOWN_SECONDS": "0",
        "NEWSBOT_LOG_LEVEL": "INFO",
    }
    env |= {f"NEWSBOT_{name.upper()}": value for name, value in settings.items()}
    identified = len(fake.identifies)
    with log.open("w") as out:
        bot = subprocess.Popen([*NEWSBOT, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(
                lambda: len(fake.identifies) > identified and fake.connected and fake.commands(),
                timeout=120,
            )
            yield
        finally:
            bot.terminate()
            bot.wait(30)
            print(log.read_text())


@contextmanager
def running_bot(tmp_path: Path, **settings: str) -> Iterator[FakeDiscord]:
    """The fake Discord and `newsbot run` logged in to it."""
    fake = FakeDiscord().start()
    try:
        with bot_process(fake, tmp_path / "bot.log", **settings):
            yield fake
            assert fake.unhandled == [], fake.unhandled
            assert fake.rejections == [], fake.rejections
    finally:
        fake.stop()


@pytest.fixture
def discord_bot(seeded: Path, tmp_path: Path) -> Iterator[FakeDiscord]:
    with running_bot(tmp_path) as fake:
        yield fake


def test_the_bot_logs_in_syncs_its_commands_and_answers_ask(discord_bot: FakeDiscord) -> None:
    fake = discord_bot
    assert fake.token == "test-token"
    assert {c["name"] for c in fake.commands(guild=True)} >= {
        "ask",
        "ingest",
        "sources",
        "forget",
        "stats",
    }
    # Admin commands are shown to server managers only (Manage Server = 1 << 5), /ask to all.
    commands = fake.commands(guild=True)
    shown_to: dict[str, Any] = {c["name"]: c.get("default_member_permissions") for c in commands}
    assert {int(shown_to[n]) for n in ("ingest", "sources", "forget", "stats", "feeds")} == {32}
    assert shown_to["ask"] is None

    asked = fake.slash("ask", {"question": QUESTION}, user="user")
    reply = fake.wait_for(lambda: (fake.original_response(asked) or {}).get("embeds"), 60)

    assert fake.ack_latency[asked] < 3
    text = reply[0]["description"]
    assert "why should India be deprived of this right?" in text and "[1]" in text
    sources = reply[1]["fields"]
    assert sources[0]["name"].startswith("[1] Putin says Russia hasn’t received G7")
    assert "MENAFN, 2025-12-06" in sources[0]["value"]
    message = fake.original_response(asked)
    assert message is not None
    labels = [
        c.get("label") or c.get("emoji", {}).get("name")
        for row in message["components"]
        for c in row["components"]
    ]
    assert labels == ["Passages", "👍", "👎"]
    assert message["allowed_mentions"] == {"parse": []}


def test_a_mention_is_answered_in_a_thread(discord_bot: FakeDiscord) -> None:
    fake = discord_bot

    fake.say(f"{QUESTION}", user="user", mention_bot=True)
    thread = fake.wait_for(fake.threads, 60)[0]
    answer = fake.wait_for(
        lambda: [m for m in fake.messages(thread["id"]) if m["author"]["id"] == fake.bot_id], 60
    )

    assert "why should India be deprived of this right?" in answer[0]["embeds"][0]["description"]
    assert answer[0]["allowed_mentions"] == {"parse": []}


def test_a_non_admin_cannot_ingest(discord_bot: FakeDiscord) -> None:
    fake = discord_bot

    refused = fake.slash("ingest", {"url": "https://news.example/a"}, user="user")
    reply = fake.wait_for(lambda: fake.original_response(refused), 30)

    assert "Only server managers" in reply["content"]
    assert reply["flags"] & 64  # ephemeral


def test_twenty_concurrent_questions_are_all_acknowledged_in_time(
    discord_bot: FakeDiscord,
) -> None:
    fake = discord_bot

    asked = [fake.slash("ask", {"question": f"{QUESTION} ({i})"}, user="user") for i in range(20)]

    def embeds_of(interaction: str) -> Callable[[], Any]:
        return lambda: (fake.original_response(interaction) or {}).get("embeds")

    for interaction in asked:
        fake.wait_for(embeds_of(interaction), 120)

    assert max(fake.ack_latency[i] for i in asked) < 3


def test_a_follow_gets_one_post_for_a_new_matching_article(discord_bot: FakeDiscord) -> None:
    fake = discord_bot
    topic = "Riverside dam repairs"
    article = json.dumps(
        {
            "title": "Repairs begin on Riverside dam",
            "body": [
                "Work crews began repairing the Riverside dam spillway on Monday, pouring new "
                "concrete into the cracks.",
                "“We will not refill the reservoir until every crack is sealed,” Mayor Anna Lind "
                "said at the dam.",
            ],
            "outlet": "Harbour Times",
            "published_at": "2024-03-12",
            "url": "https://harbour.example/riverside-repairs",
        }
    ).encode()

    followed = fake.slash("follow", {"topic": topic}, user="user")
    reply = fake.wait_for(lambda: fake.original_response(followed), 30)
    assert f"Following “{topic}” (#1)" in reply["content"]
    assert reply["flags"] & 64  # ephemeral

    def ingest() -> str:
        file = fake.add_attachment("repairs.json", article, "application/json")
        asked = fake.slash("ingest", {"file": file}, user="admin")
        return fake.wait_for(
            lambda: next(
                (m["content"] for m in fake.followups(asked) if "added" in m["content"]), None
            ),
            120,
        )

    def posts() -> list[dict[str, Any]]:
        return [
            m
            for m in fake.messages(fake.channel_id)
            if m["author"]["id"] == fake.bot_id and m["content"].startswith("🔔")
        ]

    assert "1 added" in ingest()
    (post,) = fake.wait_for(posts, 30)
    assert post["content"].split("\n")[:2] == [
        "🔔 **Repairs begin on Riverside dam**",
        "Harbour Times · 2024-03-12",
    ]
    assert "[1] <https://harbour.example/riverside-repairs>" in post["content"]
    assert post["allowed_mentions"] == {"parse": []}

    assert "1 unchanged" in ingest()  # the same article again: no second post
    assert posts() == [post]


def test_a_post_sent_again_after_its_mark_was_lost_is_not_posted_twice(
    discord_bot: FakeDiscord,
) -> None:
    """A bot stopped between posting a follow post and marking it delivered leaves it queued;
    the next delivery sends it again with the same nonce, and Discord (which enforces a nonce
    for a few minutes) returns the first message instead of posting a second."""
    fake = discord_bot
    follows = Path(os.environ["NEWSBOT_DATA_DIR"]) / "follows.sqlite3"
    followed = fake.slash("follow", {"topic": "Riverside dam repairs"}, user="user")
    fake.wait_for(lambda: fake.original_response(followed), 30)

    def ingest(name: str, title: str, *body: str) -> None:
        article = {"title": title, "body": list(body), "outlet": "Harbour Times"}
        file = fake.add_attachment(name, json.dumps(article).encode(), "application/json")
        asked = fake.slash("ingest", {"file": file}, user="admin")
        fake.wait_for(lambda: any("1 added" in m["content"] for m in fake.followups(asked)), 120)

    def posts() -> list[dict[str, Any]]:
        return [m for m in fake.messages(fake.channel_id) if m["content"].startswith("🔔")]

    def sends() -> int:
        path = f"/channels/{fake.channel_id}/messages"
        return sum(
            c.method == "POST" and c.path == path and c.json["content"].startswith("🔔")
            for c in list(fake.calls)
        )

    def undelivered() -> int:
        with sqlite3.connect(follows) as db:
            return int(
                db.execute(
                    "SELECT COUNT(*) FROM follow_posts WHERE delivered_at IS NULL"
                ).fetchone()[0]
            )

    ingest("repairs.json", *REPAIRS)
    (post,) = fake.wait_for(posts, 60)
    fake.wait_for(lambda: undelivered() == 0, 30)
    with sqlite3.connect(follows) as db:  # what a bot killed before marking it leaves
        assert db.execute("UPDATE follow_posts SET delivered_at = NULL").rowcount == 1

    ingest("bakery.json", *BAKERY)  # the ingest's catch-up delivers what is queued

    fake.wait_for(lambda: undelivered() == 0, 60)
    assert sends() == 2  # it was sent again ...
    assert posts() == [post]  # ... and shown once


REPAIRS = (
    "Repairs begin on Riverside dam",
    "Work crews began repairing the Riverside dam spillway on Monday, pouring new concrete into "
    "the cracks.",
    "“We will not refill the reservoir until every crack is sealed,” Mayor Anna Lind said at "
    "the dam.",
)
BAKERY = (
    "Old town bakery wins national bread prize",
    "A family bakery in the old town won the national bread prize on Sunday for its sourdough "
    "rye, beating more than two hundred entries.",
    "The owners said they would keep their prices as they are and open a second oven.",
)


def page(title: str, *paragraphs: str, site: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='{site}'>"
        "<meta property='article:published_time' content='2024-03-12T08:00:00Z'></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def test_a_follow_made_before_a_restart_gets_one_post_from_a_feed_poll(
    seeded: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A topic followed, the bot process stopped and started again; then its own poller (every
    second here) ingests a feed holding an article on the topic, an unrelated one and a
    syndicated copy of the first: one post."""
    pages = {
        "/repairs": page(*REPAIRS, site="Harbour Times"),
        "/bakery": page(*BAKERY, site="Harbour Times"),
        "/copy": page(*REPAIRS, site="Valley Post"),
    }
    for path, html in pages.items():
        httpserver.expect_request(path).respond_with_data(html, content_type="text/html")
    items = "".join(
        f"<item><title>{title}</title><link>{httpserver.url_for(path)}</link>"
        f"<guid>{path}</guid></item>"
        # Newest first, as feeds list them: the copy came last, and is read last.
        for path, title in (("/copy", REPAIRS[0]), ("/bakery", BAKERY[0]), ("/repairs", REPAIRS[0]))
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Times</title>'
        f"<link>http://example.invalid/</link><description>d</description>{items}"
        "</channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )

    fake = FakeDiscord().start()
    # No page or feed can name a loopback host (ingest.formats.outlet_name): the admin does.
    settings = {
        "fetch_allow_loopback": "true",
        "feed_check_seconds": "1",
        "outlet_names": "127.0.0.1=Harbour Times",
    }
    try:
        with bot_process(fake, tmp_path / "before.log", **settings):
            followed = fake.slash("follow", {"topic": "Riverside dam repairs"}, user="user")
            reply = fake.wait_for(lambda: fake.original_response(followed), 30)
            assert "Following" in reply["content"]
        log = tmp_path / "after.log"
        with bot_process(fake, log, **settings):  # a restart: the follow is read from disk
            added = fake.slash(
                "feeds add", {"url": httpserver.url_for("/feed.xml"), "every": "1d"}, user="admin"
            )
            reply = fake.wait_for(lambda: fake.original_response(added), 30)
            assert "Subscribed" in reply["content"]

            def posts() -> list[dict[str, Any]]:
                return [
                    m
                    for m in fake.messages(fake.channel_id)
                    if m["author"]["id"] == fake.bot_id and m["content"].startswith("🔔")
                ]

            (post,) = fake.wait_for(posts, 120)
            assert post["content"].split("\n")[:2] == [
                f"🔔 **{REPAIRS[0]}**",
                "Harbour Times · 2024-03-12",
            ]
            assert f"<{httpserver.url_for('/repairs')}>" in post["content"]
            assert post["allowed_mentions"] == {"parse": []}
            # The poll added the article and the bakery's; the copy was folded into the first.
            # (How many articles the match read depends on the change feed's window: an article
            # from before the restart may be read again, so only the posts are counted.)
            fake.wait_for(lambda: "1 follow post(s) queued" in log.read_text(), 30)
            assert f"{httpserver.url_for('/copy')} is a copy of" in log.read_text()
            assert posts() == [post]
        assert fake.unhandled == [] and fake.rejections == []
    finally:
        fake.stop()
