"""Durations and moments as commands write them, read one way for the CLI, Discord and feeds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingest.durations import as_utc, duration_seconds, parse_moment, parse_since
from ingest.subscriptions import FeedRegistry

NOW = datetime(2025, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), (" 2H ", 7200), ("1d", 86400), ("45s", 45), ("90", 90), ("3 h", 10800)],
)
def test_a_duration_is_read_in_seconds(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1w", "-5m", "1.5h", "m", "30 minutes"])
def test_what_is_not_a_duration_is_none(text: str) -> None:
    assert duration_seconds(text) is None


@pytest.mark.parametrize(
    ("text", "ago"),
    [("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)), (" 3D ", timedelta(days=3))],
)
def test_since_a_while_ago(text: str, ago: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - ago


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2025-12-06", datetime(2025, 12, 6, tzinfo=UTC)),
        ("2025-12-06T08:30", datetime(2025, 12, 6, 8, 30, tzinfo=UTC)),
        (
            "2025-12-06T08:30+02:00",
            datetime(2025, 12, 6, 8, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_since_a_date_or_time_is_utc_unless_it_names_a_zone(text: str, moment: datetime) -> None:
    since = parse_since(text, now=NOW)
    assert since == moment and since is not None and since.utcoffset() == moment.utcoffset()


@pytest.mark.parametrize("text", ["yesterday", "45s", "90", "", "2025-13-01"])
def test_since_what_is_neither_is_none(text: str) -> None:
    """Seconds and bare numbers are intervals, never how long ago."""
    assert parse_since(text, now=NOW) is None


@pytest.fixture
def new_york() -> Iterator[None]:
    """This process's local time zone is five hours behind UTC (restored afterwards)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/New_York")
        time.tzset()
        yield
    time.tzset()


def test_naive_times_are_utc_whatever_the_local_zone(new_york: None) -> None:
    assert datetime(2025, 12, 6, 12, 0).astimezone().utcoffset() == timedelta(hours=-5)

    assert as_utc(datetime(2025, 12, 6, 12, 0)) == NOW
    assert parse_moment("2025-12-06T12:00") == NOW
    assert parse_since("2025-12-06T12:00") == NOW


def test_a_feed_is_due_by_utc_whatever_the_local_zone(new_york: None, tmp_path: Path) -> None:
    """A feed polled at noon UTC every hour is not due at half past noon, naive or not (taken
    as local time, a naive 12:30 would be 17:30 UTC: due)."""
    registry = FeedRegistry(tmp_path / "feeds.json")
    feed = registry.add("https://harbour.example/feed.xml", 3600)
    registry.save_feed(dataclasses.replace(feed, last_polled=NOW.isoformat()))

    assert registry.due(datetime(2025, 12, 6, 12, 30)) == []
    assert registry.due(NOW + timedelta(minutes=30)) == []
    assert [f.url for f in registry.due(datetime(2025, 12, 6, 13, 0))] == [feed.url]
