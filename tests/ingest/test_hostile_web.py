"""What a hostile page or feed can do to the index: replace nothing, plant nothing, stay bounded.

Every server here is a real one on 127.0.0.1 (tests/ingest/conftest.py). Links to other
addresses appear only as text in pages and feeds: the fetcher must refuse them before any socket
opens, and the conftest's `_loopback_only` fails a test that looks up a name or connects
anywhere else.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.discord.render import passages_pages, source_field
from bot.texts import answer_text
from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.formats import parse_html
from ingest.parse import ParseError, parse_source
from ingest.pipeline import ingest_articles, ingest_urls
from ingest.subscriptions import SEEN_KEEP_DAYS, Feed, FeedRegistry, entry_token
from retrieval.models import Answer, Citation, Passage
from retrieval.urls import same_site, web_url
from tests.helpers import FEED_LIMITS, FEED_NOW, FERRY_STORY, FakeSink, article, poll

NOW, LIMITS = FEED_NOW, FEED_LIMITS
HTML = "text/html; charset=utf-8"
STORY = FERRY_STORY
LIE = [
    "The harbour authority cancelled every ferry route to the islands on Monday and will sell "
    "its boats, the port director told reporters, blaming a lack of passengers.",
    "Islanders were told to make their own arrangements from next week, the director added, "
    "and refunds will not be paid for tickets that were already sold.",
]
SUMMARY = " ".join(f"<p>{paragraph}</p>" for paragraph in LIE)


def page(title: str, paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title>{head}</head><body><nav>Home · World</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© 2024</footer></body></html>"
    )


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """Return an RSS feed of (title, link, summary HTML) items, newest first."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link>"
        f"<description><![CDATA[{summary}]]></description></item>"
        for t, link, summary in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://127.0.0.1/</link><description>d</description>{entries}</channel></rss>"
    )


def requests_to(httpserver: HTTPServer, prefix: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path.startswith(prefix))


def text_of(sink: FakeSink, article_id: str) -> str:
    return " ".join(sink.texts[article_id])


# Provenance of fetched pages


def test_a_page_cannot_take_over_another_sites_article_with_its_canonical_url(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    legit = article("Ferry route approved", STORY, url="https://legit.test/story/ferry")
    sink = FakeSink()
    ingest_articles(sink, [legit], limits=ChunkLimits())
    canonical = '<link rel="canonical" href="https://legit.test/story/ferry">'
    httpserver.expect_request("/evil").respond_with_data(
        page("Ferry route approved", LIE, canonical), content_type=HTML
    )

    report = ingest_urls(sink, [httpserver.url_for("/evil")], policy=policy, limits=ChunkLimits())

    assert (report.added, report.updated, report.failed) == (1, 0, [])
    assert "approved a new ferry route" in text_of(sink, legit.article_id)
    [planted] = [info for info in sink.articles.values() if info.article_id != legit.article_id]
    assert (planted.url, planted.canonical_url) == (
        httpserver.url_for("/evil"),
        "https://legit.test/story/ferry",
    )
    assert planted.outlet == "127.0.0.1"  # the fetched host, not the claimed one


def test_a_same_site_canonical_url_names_the_article(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    canonical = f'<link rel="canonical" href="{httpserver.url_for("/story/ferry")}">'
    httpserver.expect_request("/amp/ferry").respond_with_data(
        page("Ferry route approved", STORY, canonical), content_type=HTML
    )
    sink = FakeSink()

    ingest_urls(sink, [httpserver.url_for("/amp/ferry")], policy=policy, limits=ChunkLimits())

    [info] = sink.articles.values()
    assert (info.url, info.canonical_url) == (httpserver.url_for("/story/ferry"), None)


def test_same_site_means_the_same_host_give_or_take_www() -> None:
    assert same_site("https://www.example.com/a", "http://EXAMPLE.com/b")
    assert not same_site("https://blog.example.com/a", "https://example.com/a")
    assert not same_site("https://example.com.evil.test/a", "https://example.com/a")
    assert not same_site("/relative", "https://example.com/a")


def test_a_page_of_navigation_and_notices_is_refused(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    nav = (
        "<html><head><title>Example News</title></head><body><nav><ul>"
        + "".join(f"<li><a href='/{s}'>{s.title()}</a></li>" for s in ("world", "tech", "sport"))
        + "</ul></nav><div class='cookies'><p>We use cookies to give you the best experience on"
        " our website. By continuing to browse you agree to our use of cookies.</p>"
        "<button>Accept all</button></div><main><ul><li><a href='/a'>Markets rally</a></li>"
        "<li><a href='/b'>Storm warning</a></li></ul></main><footer><p>Subscribe to our "
        "newsletter for the latest headlines delivered to your inbox every morning.</p>"
        "<p>© 2024 Example News Ltd. All rights reserved.</p></footer></body></html>"
    )
    httpserver.expect_request("/").respond_with_data(nav, content_type=HTML)
    sink = FakeSink()

    report = ingest_urls(sink, [httpserver.url_for("/")], policy=policy, limits=ChunkLimits())

    assert report.failed == [(httpserver.url_for("/"), "no article text found")]
    assert sink.articles == {}


def test_a_short_brief_is_still_an_article() -> None:
    brief = page("Bridge reopens", [STORY[0]])

    assert parse_html(brief, "brief.html").paragraphs == (STORY[0],)
    with pytest.raises(ParseError, match="no article text found"):
        parse_html(page("Bridge reopens", ["Read more", "Share this"]), "teaser.html")


# Feeds


def test_a_feed_summary_never_replaces_a_stored_article(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry
) -> None:
    legit_url = httpserver.url_for("/story/legit")
    legit = article("Ferry route approved", STORY, outlet="Harbour News", url=legit_url)
    sink = FakeSink()
    ingest_articles(sink, [legit], limits=ChunkLimits())
    # The same article id after URL normalisation; the page itself is missing.
    httpserver.expect_request("/story/legit//").respond_with_data("gone", status=404)
    httpserver.expect_request("/evil.xml").respond_with_data(
        rss("Harbour News", [("Ferry route approved", f"{legit_url}//", SUMMARY)]),
        content_type="application/rss+xml",
    )
    registry.add(httpserver.url_for("/evil.xml"), 600)

    report = poll(registry, httpserver.url_for("/evil.xml"), sink, policy)

    assert (report.added, report.updated, report.failed) == (1, 0, [])
    [note] = report.notes
    assert "HTTP 404" in note and "stored the feed's own summary as its item" in note
    assert "approved a new ferry route" in text_of(sink, legit.article_id)
    assert sink.articles[legit.article_id].outlet == "Harbour News"
    [item] = [info for info in sink.articles.values() if info.article_id != legit.article_id]
    assert "cancelled every ferry route" in text_of(sink, item.article_id)
    assert item.url == f"{legit_url}//"  # a httpserver link that passed the checks (it only 404s)


@pytest.mark.parametrize(
    "link",
    [
        "http://10.0.0.5/story",
        "http://169.254.169.254/latest/meta-data/",
        "file://etc/passwd",
        "javascript:alert(1)",
        "http://user:secret@127.0.0.1/story",
    ],
)
def test_a_refused_entry_link_is_never_stored_or_linked(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry, link: str
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Planted", [("Ferry routes cancelled", link, SUMMARY)]),
        content_type="application/rss+xml",
    )
    registry.add(httpserver.url_for("/feed.xml"), 600)
    sink = FakeSink()

    report = poll(registry, httpserver.url_for("/feed.xml"), sink, policy)

    [info] = sink.articles.values()
    assert info.url is None
    [note] = report.notes
    assert note.startswith(f"{link}: link refused (")
    assert requests_to(httpserver, "/story") == 0


def test_a_refused_link_with_a_teaser_is_given_up_at_once(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Planted", [("Teaser", "http://10.0.0.5/story", "Read more")]),
        content_type="application/rss+xml",
    )
    url = httpserver.url_for("/feed.xml")
    registry.add(url, 600)
    sink = FakeSink()

    first = poll(registry, url, sink, policy)
    again = poll(registry, url, sink, policy, now=NOW + timedelta(days=1))

    [(where, reason)] = first.failed
    assert where == "http://10.0.0.5/story"
    assert reason.startswith("link refused (refused: 10.0.0.5 is a private address)")
    assert (again.failed, again.skipped, sink.articles) == ([], 1, {})


def test_a_poll_keeps_to_its_time_budget_and_leaves_the_rest_for_later(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry
) -> None:
    release = threading.Event()
    hung: list[str] = []

    def hang(request: Request) -> Response:
        hung.append(request.full_path)
        release.wait(10)
        return Response("late", status=503)

    httpserver.expect_request("/hang", method="GET").respond_with_handler(hang)
    items = [(f"Story {n}", httpserver.url_for(f"/hang?n={n}"), "Short.") for n in range(30)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Slow", items), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed.xml")
    registry.add(url, 600)
    slow = FetchPolicy(
        allow_loopback=True, loopback_ports=frozenset({httpserver.port}), total_timeout=2
    )
    try:
        started = time.monotonic()
        report = poll(registry, url, FakeSink(), slow, PollLimits(3, 25))
        took = time.monotonic() - started
    finally:
        release.set()

    assert took < 3 + 1.0
    assert len(hung) == 2  # 2 s for the first, the second cut to what was left of the 3 s
    assert report.deferred == 28
    assert any("28 new entries left for the next poll" in note for note in report.notes)
    retried = "(will try again, at most 3 times)"
    assert [reason.endswith(retried) for _, reason in report.failed] == [True, True]


def test_a_huge_feed_of_dead_links_costs_a_bounded_number_of_fetches_per_poll(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry
) -> None:
    httpserver.expect_request("/dead").respond_with_data("gone", status=404)
    items = [(f"Story {n}", httpserver.url_for(f"/dead?n={n}"), "Short.") for n in range(2000)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Dead links", items), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed.xml")
    registry.add(url, 600)
    limits = PollLimits(budget_seconds=60, max_new_entries=25)

    first = poll(registry, url, FakeSink(), policy, limits)
    second = poll(registry, url, FakeSink(), policy, limits)

    assert requests_to(httpserver, "/dead") == 50
    assert (first.deferred, len(first.failed)) == (1975, 25)
    # The 25 that failed wait for their retry; the next 25 are read instead.
    assert (second.deferred, len(second.failed)) == (1975, 25)


def test_the_seen_record_follows_the_feed_not_a_fixed_cap(
    httpserver: HTTPServer, policy: FetchPolicy, registry: FeedRegistry
) -> None:
    links = [httpserver.url_for(f"/old?n={n}") for n in range(6000)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Big", [(f"Story {n}", link, "Short.") for n, link in enumerate(links)]),
        content_type="application/rss+xml",
    )
    url = httpserver.url_for("/feed.xml")
    registry.add(url, 600)
    recent = (NOW - timedelta(days=SEEN_KEEP_DAYS - 5)).date().isoformat()
    stale = (NOW - timedelta(days=SEEN_KEEP_DAYS + 5)).date().isoformat()
    seen = dict.fromkeys((entry_token(link) for link in links), stale)
    seen |= {"dropped-recently": recent, "dropped-long-ago": stale}
    registry.save_feed(Feed(url, 600, seen=seen))

    report = poll(registry, url, FakeSink(), policy)

    assert (report.skipped, report.added, report.failed) == (6000, 0, [])
    assert requests_to(httpserver, "/old") == 0
    feed = registry.get(url)
    assert feed is not None
    assert set(feed.seen) == {entry_token(link) for link in links} | {"dropped-recently"}


def test_an_older_registry_of_raw_entry_keys_is_read(tmp_path: Path) -> None:
    path = tmp_path / "feeds.json"
    path.write_text(
        '{"feeds": [{"url": "https://example.com/rss", "every_seconds": 600, "title": null,'
        ' "last_polled": "2024-05-01T10:00:00+00:00", "seen": ["guid-1", "guid-2"]}]}',
        encoding="utf-8",
    )

    [feed] = FeedRegistry(path).list()

    assert feed.seen == {entry_token("guid-1"): "2024-05-01", entry_token("guid-2"): "2024-05-01"}


# What readers are linked to


def passage(url: str | None) -> Passage:
    return Passage("p1", "a1", 0, "Ferry text.", "Ferry", "Harbour News", "2024-03-01", url)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "//evil.test/x"]
)
def test_renderers_link_only_web_urls(url: str) -> None:
    answer = Answer("Ferry.", (Citation(1, passage(url)),), grounded=True)

    assert url not in source_field(answer.citations[0])["value"]
    assert url not in answer_text(answer)
    [embed] = passages_pages([answer.citations[0].as_dict()])[0].embeds
    assert "url" not in embed


def test_a_link_with_parentheses_stays_one_masked_link() -> None:
    field = source_field(Citation(1, passage("https://news.test/a_(b)")))

    assert "(https://news.test/a_%28b%29)" in field["value"]


def test_files_keep_only_web_urls() -> None:
    data = (
        b'[{"title": "A", "body": "Ferry text.", "url": "javascript:alert(1)"},'
        b' {"title": "B", "body": "Ferry text.", "url": "https://news.test/b"}]'
    )

    parsed = parse_source(data, "items.json")

    assert [a.url for a in parsed.articles] == [None, "https://news.test/b"]
    assert web_url(" https://news.test/b ") == "https://news.test/b"
