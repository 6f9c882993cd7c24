"""Feed subscriptions: the registry, and polling real RSS/Atom feeds served on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ingest.chunk import ChunkLimits
from ingest.feeds import feed_outlet, poll_feed
from ingest.fetch import Fetched, FetchPolicy, fetch
from ingest.subscriptions import Feed, FeedRegistry, entry_token, parse_interval
from tests.helpers import FEED_LIMITS, FEED_NOW, FakeSink, poll

NOW, LIMITS = FEED_NOW, FEED_LIMITS

PARAGRAPHS = [
    "The city council voted 7 to 2 on Wednesday to approve a new pedestrian bridge over the"
    " river, ending a debate that has lasted more than a decade.",
    "“This bridge will connect two neighbourhoods that have been separated for too long,” said"
    " Mayor Ana Lopez after the vote. Construction is expected to start in the autumn.",
    "The project will cost an estimated 12 million euros, most of which will come from a"
    " regional infrastructure fund. Opponents argued the money would be better spent on roads.",
]
LONG_SUMMARY = (
    "<p>The regional rail operator announced on Tuesday that night trains between the capital"
    " and the coast will run again from July, after a pause of four years.</p>"
    "<p>Tickets go on sale next week. The operator said demand had grown steadily since the"
    " pandemic, and that new sleeper carriages &amp; a refurbished dining car would be added"
    " to the service by the end of the year.</p>"
)


def page(title: str, *, site: str | None = "The Riverside Gazette", day: str = "14") -> str:
    """Return a realistic article page: navigation, an <article>, metadata, a footer."""
    site_meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | {site or "News"}</title>
<meta property="og:title" content="{title}">
{site_meta}
<meta property="article:published_time" content="2024-03-{day}T09:30:00+00:00">
</head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<article><h1>{title}</h1><p class="byline">By Jane Doe</p>
{body}
</article>
<footer><p>© 2024 The Riverside Gazette. All rights reserved.</p></footer>
</body></html>"""


def rss(base: str, items: list[tuple[str, str, str]]) -> str:
    """Return an RSS 2.0 feed; items are (title, path, description HTML), newest first."""
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>Thu, {20 - i:02d} Mar 2024 10:00:00 GMT</pubDate>"
        f"<description><![CDATA[{summary}]]></description></item>"
        for i, (title, path, summary) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Gazette Headlines</title><link>{base}/</link><description>News</description>"
        f"{entries}</channel></rss>"
    )


def seen(registry: FeedRegistry, url: str) -> set[str]:
    """Return the tokens of the entries the registry remembers as handled for a feed."""
    feed = registry.get(url)
    assert feed is not None
    return set(feed.seen)


def tokens(*keys: str) -> set[str]:
    return {entry_token(key) for key in keys}


def requests_to(httpserver: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


def serve_page(httpserver: HTTPServer, path: str, html: str) -> None:
    httpserver.expect_request(path).respond_with_data(html, content_type="text/html; charset=utf-8")


def test_rss_items_are_ingested_from_their_pages_then_skipped(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    items = [
        ("Ferry strike ends", "/news/ferry", "Short."),
        ("Bridge approved", "/news/bridge", ""),
    ]
    httpserver.expect_request("/rss").respond_with_data(
        rss(base, items), content_type="application/rss+xml"
    )
    serve_page(httpserver, "/news/bridge", page("Council approves new river bridge"))
    serve_page(httpserver, "/news/ferry", page("Ferry strike ends after two weeks", day="15"))
    registry.add(f"{base}/rss", 1800)
    sink = FakeSink()

    report = poll(registry, f"{base}/rss", sink, policy)

    assert (report.added, report.skipped, report.failed, report.notes) == (2, 0, [], [])
    # Oldest entry first: the feed lists the ferry story (20 March) above the bridge (19 March).
    assert report.titles == [
        "Council approves new river bridge",
        "Ferry strike ends after two weeks",
    ]
    stored = sorted(sink.articles.values(), key=lambda info: info.title)
    assert [info.url for info in stored] == [f"{base}/news/bridge", f"{base}/news/ferry"]
    # Neither the pages' og:site_name nor the feed's title is a name of 127.0.0.1
    # (ingest.formats.outlet_name): the pages are filed under the host they came from.
    assert {info.outlet for info in stored} == {"127.0.0.1"}
    assert [info.published_at for info in stored] == ["2024-03-14", "2024-03-15"]
    feed = registry.get(f"{base}/rss")
    assert feed is not None
    assert feed.title == "Gazette Headlines"
    assert feed.last_polled == NOW.isoformat(timespec="seconds")
    assert set(feed.seen) == tokens(f"{base}/news/bridge", f"{base}/news/ferry")

    again = poll(registry, f"{base}/rss", sink, policy)

    assert (again.added, again.updated, again.skipped, again.failed) == (0, 0, 2, [])
    assert requests_to(httpserver, "/rss") == 2
    assert requests_to(httpserver, "/news/bridge") == requests_to(httpserver, "/news/ferry") == 1


def test_atom_entries_are_ingested_under_the_admins_name_for_the_feeds_host(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Harbour Weekly</title><id>urn:harbour</id><updated>2024-03-20T10:00:00Z</updated>
  <entry><title>Storm closes harbour</title><id>urn:harbour:1</id>
    <link href="{base}/a/1"/><updated>2024-03-18T10:00:00Z</updated></entry>
  <entry><title>Harbour reopens</title><id>urn:harbour:2</id>
    <link href="/a/2"/><updated>2024-03-20T10:00:00Z</updated></entry>
</feed>"""
    httpserver.expect_request("/atom").respond_with_data(atom, content_type="application/atom+xml")
    serve_page(httpserver, "/a/1", page("Storm closes harbour", site=None))
    serve_page(httpserver, "/a/2", page("Harbour reopens", site=None))
    registry.add(f"{base}/atom", 3600)
    sink = FakeSink()
    named = dataclasses.replace(policy, outlet_names=(("127.0.0.1", "Harbour Press"),))

    report = poll(registry, f"{base}/atom", sink, named)

    assert (report.added, report.failed) == (2, [])
    assert report.titles == ["Storm closes harbour", "Harbour reopens"]
    assert {info.outlet for info in sink.articles.values()} == {"Harbour Press"}
    # The relative link of the second entry is resolved against the feed's URL.
    assert {info.url for info in sink.articles.values()} == {f"{base}/a/1", f"{base}/a/2"}
    assert seen(registry, f"{base}/atom") == tokens("urn:harbour:1", "urn:harbour:2")

    again = poll(registry, f"{base}/atom", sink, policy)

    assert (again.added, again.skipped) == (0, 2)
    assert requests_to(httpserver, "/a/1") == requests_to(httpserver, "/a/2") == 1


def test_a_missing_page_falls_back_to_a_long_summary_but_a_short_one_is_retried(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    items = [("Night trains return", "/gone/long", LONG_SUMMARY), ("Teaser", "/gone/short", "Hi")]
    httpserver.expect_request("/rss").respond_with_data(rss(base, items), content_type="text/xml")
    httpserver.expect_request("/gone/long").respond_with_data("nope", status=404)
    httpserver.expect_request("/gone/short").respond_with_data("nope", status=404)
    registry.add(f"{base}/rss", 600)
    sink = FakeSink()

    report = poll(registry, f"{base}/rss", sink, policy)

    assert report.added == 1
    assert report.titles == ["Night trains return"]
    assert len(report.notes) == 1
    assert "HTTP 404" in report.notes[0] and "summary" in report.notes[0]
    [(link, reason)] = report.failed
    assert link == f"{base}/gone/short"
    assert "HTTP 404" in reason and "too short" in reason
    [info] = sink.articles.values()
    text = " ".join(sink.texts[info.article_id])
    assert "new sleeper carriages & a refurbished dining car" in text and "<" not in text
    assert (info.url, info.outlet, info.published_at) == (
        f"{base}/gone/long",
        "127.0.0.1",  # the feed's host: its title names no site there
        "2024-03-20T10:00:00+00:00",
    )
    assert seen(registry, f"{base}/rss") == tokens(f"{base}/gone/long")

    # The short one waits one interval before it is tried again, then twice as long; its
    # failure was reported once, and after the third try it is given up.
    at_once = poll(registry, f"{base}/rss", sink, policy)
    assert (at_once.added, at_once.skipped, at_once.deferred, at_once.failed) == (0, 1, 1, [])
    assert requests_to(httpserver, "/gone/short") == 1
    second = poll(registry, f"{base}/rss", sink, policy, now=NOW + timedelta(seconds=600))
    assert (second.failed, second.notes, requests_to(httpserver, "/gone/short")) == ([], [], 2)
    early = poll(registry, f"{base}/rss", sink, policy, now=NOW + timedelta(seconds=1700))
    assert (early.deferred, requests_to(httpserver, "/gone/short")) == (1, 2)
    third = poll(registry, f"{base}/rss", sink, policy, now=NOW + timedelta(seconds=1800))
    assert third.failed == []
    assert third.notes == [f"{base}/gone/short: gave up after 3 tries"]
    assert seen(registry, f"{base}/rss") == tokens(f"{base}/gone/long", f"{base}/gone/short")
    later = poll(registry, f"{base}/rss", sink, policy, now=NOW + timedelta(days=2))
    assert (later.skipped, later.deferred, later.failed) == (2, 0, [])
    assert requests_to(httpserver, "/gone/short") == 3
    assert requests_to(httpserver, "/gone/long") == 1


@pytest.mark.parametrize(
    "body",
    [
        "this is not XML at all {{{",
        "<!DOCTYPE html><html><head><title>Home</title></head>"
        "<body><h1>Welcome</h1><p>Our news site.</p></body></html>",
    ],
    ids=["garbage", "html-page"],
)
def test_a_malformed_feed_is_a_failure_and_nothing_is_added(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy, body: str
) -> None:
    httpserver.expect_request("/feed").respond_with_data(body, content_type="application/xml")
    url = httpserver.url_for("/feed")
    registry.add(url, 600)
    sink = FakeSink()

    report = poll(registry, url, sink, policy)

    [(where, reason)] = report.failed
    assert where == url
    assert reason.startswith("not a valid RSS or Atom feed: ")
    assert (report.added, sink.articles) == (0, {})
    assert registry.get(url).last_polled == NOW.isoformat(timespec="seconds")  # type: ignore[union-attr]


def test_a_feed_that_cannot_be_fetched_is_reported_and_not_hammered(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/feed").respond_with_data("missing", status=404)
    url = httpserver.url_for("/feed")
    registry.add(url, 600)
    sink = FakeSink()

    report = poll(registry, url, sink, policy)

    [(where, reason)] = report.failed
    assert where == url and "HTTP 404" in reason
    assert (report.added, sink.articles, sink.refreshed) == (0, {}, 0)
    assert registry.due(NOW) == []
    assert [feed.url for feed in registry.due(NOW + timedelta(minutes=10))] == [url]


def test_entries_without_link_use_their_content_or_fail(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Notes</title>'
        "<item><title>Empty</title></item>"
        "<item><title>Full text</title>"
        f"<description><![CDATA[{LONG_SUMMARY}]]></description></item>"
        "</channel></rss>"
    )
    httpserver.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    url = httpserver.url_for("/rss")
    registry.add(url, 600)
    sink = FakeSink()

    report = poll(registry, url, sink, policy)

    assert report.titles == ["Full text"]
    assert report.failed == [(url, "entry has neither a link nor content")]
    [info] = sink.articles.values()
    assert (info.outlet, info.url, info.passages > 0) == ("127.0.0.1", None, True)


def test_parse_interval() -> None:
    assert parse_interval("30m") == 1800
    assert parse_interval("2h") == 7200
    assert parse_interval("1d") == 86400
    assert parse_interval(" 90 ") == 90
    assert parse_interval("120S") == 120
    with pytest.raises(ValueError, match="cannot read the interval 'abc'"):
        parse_interval("abc")
    for short in ("10s", "45s", "59"):
        with pytest.raises(ValueError, match="at least 1 minute"):
            parse_interval(short)
    with pytest.raises(ValueError):
        parse_interval("")


def test_registry_add_list_remove_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feeds.json"
    registry = FeedRegistry(path)
    feed = registry.add("https://news.example.com/rss", 1800)
    registry.add("https://other.example.org/atom.xml", 3600)
    again = registry.add("https://NEWS.example.com/rss/", 7200)  # the same feed: new interval

    assert feed == Feed("https://news.example.com/rss", 1800)
    assert again.url == "https://news.example.com/rss" and again.every_seconds == 7200
    assert [f.url for f in registry.list()] == [
        "https://news.example.com/rss",
        "https://other.example.org/atom.xml",
    ]
    for bad in ("ftp://example.com/rss", "file:///etc/passwd", "news.example.com/rss", "https://"):
        with pytest.raises(ValueError, match="http"):
            registry.add(bad, 1800)
    with pytest.raises(ValueError, match="at least 1 minute"):
        registry.add("https://news.example.com/rss", 5)

    changed = registry.get("https://news.example.com/rss")
    assert changed is not None
    changed.seen["guid-1"] = "2024-06-01"
    assert registry.get("https://news.example.com/rss").seen == {}  # type: ignore[union-attr]
    changed.last_polled = NOW.isoformat()
    registry.save_feed(changed)

    assert registry.remove("https://other.example.org/atom.xml") is True
    assert registry.remove("https://other.example.org/atom.xml") is False
    registry.save_feed(Feed("https://other.example.org/atom.xml"))  # removed: not brought back

    reopened = FeedRegistry(path)
    assert reopened.list() == [
        Feed("https://news.example.com/rss", 7200, None, NOW.isoformat(), {"guid-1": "2024-06-01"})
    ]
    assert not list(path.parent.glob("*.tmp"))
    assert json.loads(path.read_text())["feeds"][0]["seen"] == {"guid-1": "2024-06-01"}


def test_registry_knows_a_feed_by_the_same_address_as_its_articles(tmp_path: Path) -> None:
    # One normalisation (retrieval's normalize_url) for feeds and article ids: case of scheme
    # and host, a trailing slash and a fragment don't make a second feed; a query does.
    registry = FeedRegistry(tmp_path / "feeds.json")
    registry.add("https://news.example.com/rss?section=world", 1800)
    registry.add("HTTPS://News.Example.com/rss?section=world#top", 3600)
    registry.add("https://news.example.com/rss?section=sport", 1800)

    assert [(f.url, f.every_seconds) for f in registry.list()] == [
        ("https://news.example.com/rss?section=world", 3600),
        ("https://news.example.com/rss?section=sport", 1800),
    ]
    assert registry.remove("https://NEWS.example.com/rss?section=sport") is True


def test_registries_on_one_file_never_lose_each_others_changes(tmp_path: Path) -> None:
    # The bot's poller and a `newsbot feeds add` in another process each hold a registry.
    path = tmp_path / "feeds.json"
    bot, cli = FeedRegistry(path), FeedRegistry(path)
    bot.add("https://a.example.com/rss", 600)
    polled = bot.get("https://a.example.com/rss")
    assert polled is not None
    cli.add("https://b.example.com/rss", 600)
    polled.seen["guid-1"] = "2024-06-01"
    bot.save_feed(polled)

    assert [(f.url, f.seen) for f in cli.list()] == [
        ("https://a.example.com/rss", {"guid-1": "2024-06-01"}),
        ("https://b.example.com/rss", {}),
    ]

    def subscribe(worker: int) -> None:
        registry = FeedRegistry(path)
        for n in range(15):
            registry.add(f"https://example.com/{worker}/{n}", 600)

    threads = [threading.Thread(target=subscribe, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(FeedRegistry(path).list()) == 2 + 6 * 15


def test_changes_made_during_a_poll_are_kept(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/rss").respond_with_data(rss(base, []), content_type="text/xml")
    for name in ("rss", "gone"):
        registry.add(f"{base}/{name}", 600)

    def fetch_while_an_admin_edits(url: str, policy: FetchPolicy, *, kind: str) -> Fetched:
        registry.add(f"{base}/rss", 7200)
        registry.remove(f"{base}/gone")
        return fetch(url, policy, kind=kind)  # type: ignore[arg-type]

    for name in ("rss", "gone"):
        poll_feed(
            registry,
            f"{base}/{name}",
            sink=FakeSink(),
            limits=ChunkLimits(),
            policy=policy,
            poll_limits=LIMITS,
            now=NOW,
            fetcher=fetch_while_an_admin_edits,
        )

    [feed] = registry.list()
    assert (feed.url, feed.every_seconds, feed.last_polled) == (
        f"{base}/rss",
        7200,
        NOW.isoformat(timespec="seconds"),
    )


def test_a_damaged_registry_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "feeds.json"
    path.write_text("{not json", encoding="utf-8")

    registry = FeedRegistry(path)

    assert registry.list() == []
    assert (tmp_path / "feeds.json.corrupt").read_text(encoding="utf-8") == "{not json"


def test_due_feeds(tmp_path: Path) -> None:
    registry = FeedRegistry(tmp_path / "feeds.json")
    for name, every in (("never", 600), ("recent", 3600), ("old", 600), ("edge", 1800)):
        registry.add(f"https://example.com/{name}", every)
    polled = {"recent": NOW - timedelta(minutes=30), "old": NOW - timedelta(hours=5)}
    polled["edge"] = NOW - timedelta(seconds=1800)  # exactly one interval ago: due
    for name, when in polled.items():
        feed = registry.get(f"https://example.com/{name}")
        assert feed is not None
        feed.last_polled = when.isoformat()
        registry.save_feed(feed)

    due = [feed.url.rsplit("/", 1)[1] for feed in registry.due(NOW)]

    assert due == ["never", "old", "edge"]  # most overdue first
    assert [f.url for f in registry.due(NOW + timedelta(minutes=30))][-1].endswith("recent")
    # A naive `now` is taken as local time rather than failing to compare.
    naive = (NOW + timedelta(days=1)).astimezone().replace(tzinfo=None)
    assert len(registry.due(naive)) == 4


def test_redirected_and_unreadable_pages(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    items = [("Moved story", "/short/1", "Short."), ("Night trains return", "/empty", LONG_SUMMARY)]
    httpserver.expect_request("/rss").respond_with_data(rss(base, items), content_type="text/xml")
    httpserver.expect_request("/short/1").respond_with_data(
        "", status=301, headers={"Location": "/news/moved"}
    )
    serve_page(httpserver, "/news/moved", page("Moved story"))
    serve_page(httpserver, "/empty", "<html><body><nav>Home</nav></body></html>")
    registry.add(f"{base}/rss", 600)
    sink = FakeSink()

    report = poll(registry, f"{base}/rss", sink, policy)

    assert (report.added, report.failed) == (2, [])
    assert {info.url for info in sink.articles.values()} == {f"{base}/news/moved", f"{base}/empty"}
    [note] = report.notes
    assert note.startswith(f"{base}/empty: page could not be read (")
    assert note.endswith("stored the feed's own summary as its item")


def test_entries_that_could_not_be_stored_are_retried(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    items = [("Bridge approved", "/news/bridge", "")]
    httpserver.expect_request("/rss").respond_with_data(rss(base, items), content_type="text/xml")
    serve_page(httpserver, "/news/bridge", page("Council approves new river bridge"))
    registry.add(f"{base}/rss", 600)
    sink = FakeSink()
    sink.broken = True

    report = poll(registry, f"{base}/rss", sink, policy)

    assert report.added == 0
    assert report.failed == [(f"{base}/news/bridge", "could not store the article: disk full")]
    assert seen(registry, f"{base}/rss") == set()

    sink.broken = False
    again = poll(registry, f"{base}/rss", sink, policy)

    assert (again.added, again.skipped, again.titles) == (
        1,
        0,
        ["Council approves new river bridge"],
    )


# -- dates (issue 28.4-28.6): one rule for every source, a feed's date only for its own site -----
def undated_page(title: str) -> str:
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return (
        f"<html><head><title>{title}</title>"
        '<meta property="og:site_name" content="Legit News"></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def dated_rss(base: str, items: list[tuple[str, str, str]]) -> str:
    """Return an RSS feed of (title, link, pubDate) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{day}</pubDate><description>Short.</description></item>"
        for title, link, day in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Evil Wire</title><link>{base}/</link><description>d</description>"
        f"{entries}</channel></rss>"
    )


@pytest.fixture
def two_sites(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Return the bases of two sites, legit.test and evil.test, both served by the test server."""
    from ingest import fetch_guard

    monkeypatch.setattr(fetch_guard, "resolve", lambda host, port: ["127.0.0.1"])
    port = httpserver.port
    return f"http://legit.test:{port}", f"http://evil.test:{port}"


def test_a_feed_cannot_date_another_sites_article(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy, two_sites: tuple[str, str]
) -> None:
    from ingest.pipeline import ingest_urls

    legit, evil = two_sites
    serve_page(httpserver, "/story", undated_page("Ferry route approved"))
    serve_page(httpserver, "/own", undated_page("Evil wire's own story"))
    sink = FakeSink()
    first = ingest_urls(sink, [f"{legit}/story"], policy=policy, limits=ChunkLimits())
    assert first.added == 1
    httpserver.expect_request("/feed").respond_with_data(
        dated_rss(
            evil,
            [
                ("Ferry", f"{legit}/story", "Fri, 01 Jan 1999 10:00:00 GMT"),
                ("Own", f"{evil}/own", "Tue, 12 Mar 2024 10:00:00 GMT"),
            ],
        ),
        content_type="application/rss+xml",
    )
    registry.add(f"{evil}/feed", 1800)

    report = poll(registry, f"{evil}/feed", sink, policy)

    assert (report.added, report.updated, report.unchanged, report.failed) == (1, 0, 1, [])
    dates = {info.title: info.published_at for info in sink.articles.values()}
    # The legit page keeps having no date; the feed's own page takes the feed's date.
    assert dates == {
        "Ferry route approved": None,
        "Evil wire's own story": "2024-03-12T10:00:00+00:00",
    }


def test_an_entry_dated_year_0_or_far_ahead_loses_its_date_alone_with_a_note(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    base = httpserver.url_for("").rstrip("/")
    items = [
        ("Year zero", f"{base}/zero", "0000-01-01T00:00:00Z"),
        ("Far ahead", f"{base}/ahead", "Fri, 31 Dec 9999 10:00:00 GMT"),
        ("Good", f"{base}/good", "Tue, 12 Mar 2024 10:00:00 GMT"),
    ]
    httpserver.expect_request("/feed").respond_with_data(
        dated_rss(base, items), content_type="application/rss+xml"
    )
    for _, link, _ in items:
        serve_page(httpserver, link.removeprefix(base), undated_page(f"Story at {link[-5:]}"))
    registry.add(f"{base}/feed", 1800)
    sink = FakeSink()

    report = poll(registry, f"{base}/feed", sink, policy)

    assert (report.added, report.failed) == (3, [])  # the poll went on past the bad dates
    dates = sorted(str(info.published_at) for info in sink.articles.values())
    assert dates == ["2024-03-12T10:00:00+00:00", "None", "None"]
    assert len(report.notes) == 2
    zero, ahead = sorted(report.notes, key=lambda note: "9999" in note)
    assert zero.startswith(f"{base}/zero: date ") and "cannot be read" in zero
    assert (
        ahead.startswith(f"{base}/ahead: date ") and "not between 1990-01-01 and tomorrow" in ahead
    )
    assert all("\n" not in note for note in report.notes)


def test_a_feed_titled_like_another_outlet_files_its_items_under_its_own_host(
    httpserver: HTTPServer, registry: FeedRegistry, policy: FetchPolicy
) -> None:
    """Issue 28.9, by way of a feed: the title "Reuters" on a feed served from 127.0.0.1 names
    neither its own pages nor its own summaries."""
    base = httpserver.url_for("").rstrip("/")
    items = [("Ferry", "/own/ferry", ""), ("Night trains return", "/gone", LONG_SUMMARY)]
    feed = rss(base, items).replace("Gazette Headlines", "[Reuters](https://evil.test/login)")
    httpserver.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    serve_page(httpserver, "/own/ferry", page("Ferry strike ends after two weeks", site=None))
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    registry.add(f"{base}/rss", 600)
    sink = FakeSink()

    report = poll(registry, f"{base}/rss", sink, policy)

    assert (report.added, report.failed) == (2, [])
    assert {info.outlet for info in sink.articles.values()} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("title", "url", "outlet"),
    [
        ("Reuters", "https://www.reuters.com/rss", "Reuters"),
        ("The Verge", "https://www.theverge.com/rss/index.xml", "The Verge"),
        ("Reuters", "https://evil.test/rss", "evil.test"),
        ("[Reuters](https://evil.test/login)", "https://evil.test/rss", "evil.test"),
        (None, "https://evil.test:8443/rss", "evil.test"),
    ],
)
def test_a_feeds_title_names_its_items_only_where_it_names_the_feeds_site(
    title: str | None, url: str, outlet: str
) -> None:
    feed = Feed(url=url, every_seconds=600, title=title)

    assert feed_outlet(feed, FetchPolicy()) == outlet
