"""What a hostile feed's words look like where they are shown: the terminal and Discord.

The feed is served by a real server on 127.0.0.1 (tests/ingest/conftest.py); the report of a
real poll is printed by the CLI's own function through its own console, as a terminal shows it.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
from pytest_httpserver import HTTPServer

from bot.cli import common, feeds
from bot.cli.common import SafeConsole
from bot.discord.cogs.feeds import announce_line
from bot.wiring import _SafeFormatter
from ingest.fetch import FetchPolicy
from ingest.subscriptions import FeedRegistry
from tests.helpers import FakeSink, poll

ESCAPES = "\x1b[2J\x1b[31mFORGED\x1b]8;;http://evil.test/x\x07click\x1b]8;;\x07\x9b2J\u202eevil"


@pytest.fixture
def hostile_feed(httpserver: HTTPServer, registry: FeedRegistry) -> str:
    link = httpserver.url_for("/gone") + "?" + ESCAPES
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        "<title>[Reuters](https://evil.test/login)</title>"
        f"<link>{httpserver.url_for('/')}</link><description>d</description>"
        f"<item><title># Big</title><link>{link}</link><guid>g1</guid>"
        "<description>Short.</description></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    url = httpserver.url_for("/feed.xml")
    registry.add(url, 600)
    return url


def test_feeds_poll_prints_no_terminal_escapes_from_a_feed(
    hostile_feed: str,
    registry: FeedRegistry,
    policy: FetchPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = poll(registry, hostile_feed, FakeSink(), policy)
    assert any("\x1b" in origin for origin, _ in report.failed)  # the link as the feed gave it
    screen = io.StringIO()
    terminal = SafeConsole(file=screen, force_terminal=True, width=200, color_system="standard")
    monkeypatch.setattr(feeds, "out", terminal)

    feeds.print_poll(hostile_feed, report)

    shown = screen.getvalue()
    # rich's own colour codes (SGR) are the only escapes: no clear-screen, no hyperlink (OSC 8),
    # no C1 CSI, no bidi override; the feed's ESC[31m lost its ESC, so its "[31m" is text.
    assert "\x1b[2J" not in shown and "\x1b]8" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown and "\x07" not in shown
    assert "\x1b[31mFORGED" not in shown
    visible = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert "\x1b" not in visible
    assert "?[2J[31mFORGED]8;;http://evil.test/xclick]8;;" in visible  # shown, inert
    assert "1 failed" in visible


def test_the_cli_consoles_and_log_lines_strip_control_characters() -> None:
    assert isinstance(common.out, SafeConsole) and isinstance(common.err, SafeConsole)
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "giving up on %s", (ESCAPES,), None)

    line = _SafeFormatter("%(message)s").format(record)

    assert line == "giving up on [2J[31mFORGED]8;;http://evil.test/xclick]8;;2Jevil"


def test_a_hostile_feeds_announcement_is_plain_text_on_discord(
    hostile_feed: str, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    report = poll(registry, hostile_feed, FakeSink(), policy)
    report.added, report.titles = 1, ["# Big [x [y] z](https://evil.example/n) @everyone"]

    line = announce_line(report.title or "", report)

    assert line == (
        "📰 \\[Reuters\\]\\(https://evil.test/login\\): 1 new article(s) — "
        "\\# Big \\[x \\[y\\] z\\]\\(https://evil.example/n\\) @\u200beveryone"
    )
