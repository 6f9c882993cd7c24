"""`newsbot ingest URL` and `newsbot feeds` against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.runner import newsbot
from tests.helpers import RATE_RISE

pytestmark = pytest.mark.model


def page(title: str, outlet: str, date: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title>"
        f'<meta property="og:site_name" content="{outlet}">'
        f'<meta property="article:published_time" content="{date}T09:00:00Z">'
        f"</head><body><nav>Home · World · Business</nav><article><h1>{title}</h1>{body}"
        "</article><footer>© 2025</footer></body></html>"
    )


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Thu, 04 Dec 2025 09:00:00 GMT</pubDate></item>"
        for t, link in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire feed</title>'
        f"<link>http://example.invalid/</link><description>d</description>{entries}"
        "</channel></rss>"
    )


@pytest.fixture
def web(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> HTTPServer:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("NEWSBOT_FETCH_TIMEOUT", "5")
    html = "text/html; charset=utf-8"
    httpserver.expect_request("/a/rates").respond_with_data(
        page("Bank raises rates", "Wire A", "2025-12-04", RATE_RISE), content_type=html
    )
    edited = [RATE_RISE[0].replace("Thursday", "Thursday evening"), RATE_RISE[1], RATE_RISE[2]]
    httpserver.expect_request("/b/rates").respond_with_data(
        page("Rates go up again", "Paper B", "2025-12-04", edited), content_type=html
    )
    httpserver.expect_request("/evil").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                ("Bank raises rates", httpserver.url_for("/a/rates")),
                ("Rates go up again", httpserver.url_for("/b/rates")),
            ]
        ),
        content_type="application/rss+xml",
    )
    return httpserver


def test_ingesting_a_url_adds_the_article_and_refuses_unsafe_redirects(web: HTTPServer) -> None:
    result = newsbot("ingest", web.url_for("/a/rates"), web.url_for("/evil"), "--json")

    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["added"] == 1
    [(source, reason)] = [(f["source"], f["reason"]) for f in report["failed"]]
    assert source.endswith("/evil") and "169.254.169.254" in reason
    listed = json.loads(newsbot("sources", "--json").stdout)
    assert [(a["title"], a["outlet"], a["published_at"][:10]) for a in listed] == [
        ("Bank raises rates", "Wire A", "2025-12-04")
    ]
    assert listed[0]["url"].endswith("/a/rates")


def test_a_feed_is_polled_once_per_entry_and_syndicated_copies_are_grouped(
    web: HTTPServer,
) -> None:
    assert newsbot("feeds", "add", web.url_for("/feed.xml"), "--every", "30m").returncode == 0

    first = newsbot("feeds", "poll")
    second = newsbot("feeds", "poll")

    assert first.returncode == 0, first.stdout + first.stderr
    assert "1 added" in first.stdout  # the second outlet's copy is not indexed again
    assert "2 seen before" in second.stdout
    listed = json.loads(newsbot("sources", "--json").stdout)
    assert len(listed) == 1
    assert [p["outlet"] for p in listed[0]["also_published"]] == ["Paper B"]
    feeds = json.loads(newsbot("feeds", "list", "--json").stdout)
    assert [(f["title"], f["seen"]) for f in feeds] == [("Wire feed", 2)]
    answer = json.loads(
        newsbot("ask", "What did the governor say about inflation?", "--json").stdout
    )
    assert answer["citations"][0]["also_published"][0]["outlet"] == "Paper B"
