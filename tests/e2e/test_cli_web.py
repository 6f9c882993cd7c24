"""`newsbot ingest URL` and `newsbot feeds` against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

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
def paper_b() -> Iterator[HTTPServer]:
    """A second site, on another loopback address, for the second outlet."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def web(
    httpserver: HTTPServer, paper_b: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> HTTPServer:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("NEWSBOT_FETCH_TIMEOUT", "5")
    # A page's og:site_name names no loopback host (ingest.formats.outlet_name): the admin does.
    a_host = urlsplit(httpserver.url_for("/")).hostname
    monkeypatch.setenv("NEWSBOT_OUTLET_NAMES", f"{a_host}=Wire A,127.0.0.2=Paper B")
    html = "text/html; charset=utf-8"
    httpserver.expect_request("/a/rates").respond_with_data(
        page("Bank raises rates", "Wire A", "2025-12-04", RATE_RISE), content_type=html
    )
    edited = [RATE_RISE[0].replace("Thursday", "Thursday evening"), RATE_RISE[1], RATE_RISE[2]]
    paper_b.expect_request("/b/rates").respond_with_data(
        page("Rates go up again", "Paper B", "2025-12-04", edited), content_type=html
    )
    httpserver.expect_request("/evil").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                ("Bank raises rates", httpserver.url_for("/a/rates")),
                ("Rates go up again", paper_b.url_for("/b/rates")),
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


FERRY = [
    "The harbour authority approved a new ferry route to the islands on Monday, with daily "
    "crossings starting in the spring, the port director told reporters at the quay.",
    "Tickets will cost less than the old private boats charged, the director said, and the "
    "first ferry is being refitted at the shipyard across the bay this winter.",
]
NO_FERRY = [
    "The harbour authority cancelled every ferry route to the islands on Monday and will sell "
    "its boats, the port director told reporters, blaming a lack of passengers.",
    "Islanders were told to make their own arrangements from next week, the director added, "
    "and refunds will not be paid for tickets that were already sold.",
]

FERRY_TAKEOVER = (
    "<p>A private company will take over the island ferries from January under a ten-year "
    "contract, the regional government announced in a statement on Friday evening.</p>"
    "<p>Fares are expected to double, according to documents seen by the newspaper, and two "
    "of the four weekly sailings to the smaller islands will be dropped.</p>"
)
FERRY_PHISH = (
    "<p>Passengers must confirm their bookings through a new website before Sunday or lose "
    "their seats, an unsigned notice posted at the ferry terminal claimed this week.</p>"
    "<p>The notice asked travellers for their bank details and a copy of their passport, and "
    "said that refunds would be paid within three working days of confirmation.</p>"
)


def test_hostile_pages_and_feeds_add_their_own_items_and_replace_nothing(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("NEWSBOT_FETCH_TIMEOUT", "5")
    html = "text/html; charset=utf-8"
    legit = "https://legit.test/story/ferry"
    (tmp_path / "legit.json").write_text(
        json.dumps(
            {
                "title": "Ferry route approved",
                "source": "Legit Times",
                "url": legit,
                "date": "2025-12-01",
                "body": FERRY,
            }
        ),
        encoding="utf-8",
    )
    canonical = f'<link rel="canonical" href="{legit}">'
    httpserver.expect_request("/evil").respond_with_data(
        page("Ferry route approved", "Evil Daily", "2025-12-02", NO_FERRY).replace(
            "</head>", f"{canonical}</head>"
        ),
        content_type=html,
    )
    httpserver.expect_request("/story/legit").respond_with_data(
        page("Ferry tickets on sale", "Harbour News", "2025-12-01", RATE_RISE), content_type=html
    )
    httpserver.expect_request("/story/legit//").respond_with_data("gone", status=404)
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<description><![CDATA[{summary}]]></description></item>"
        for title, link, summary in [
            ("Ferry tickets on sale", httpserver.url_for("/story/legit//"), FERRY_TAKEOVER),
            ("Ferry routes cancelled", "javascript:alert(1)", FERRY_PHISH),
        ]
    )
    httpserver.expect_request("/evil.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title>'
        f"<link>http://example.invalid/</link><description>d</description>{items}"
        "</channel></rss>",
        content_type="application/rss+xml",
    )

    stored = newsbot("ingest", str(tmp_path / "legit.json"), httpserver.url_for("/story/legit"))
    evil = json.loads(newsbot("ingest", httpserver.url_for("/evil"), "--json").stdout)
    assert newsbot("feeds", "add", httpserver.url_for("/evil.xml")).returncode == 0
    polled = newsbot("feeds", "poll")

    assert stored.returncode == 0, stored.stdout + stored.stderr
    assert (evil["added"], evil["updated"]) == (1, 0)
    assert "2 added, 0 updated" in polled.stdout, polled.stdout
    rows = {
        row["title"] + " @ " + str(row["url"]): row
        for row in json.loads(newsbot("sources", "--json").stdout)
    }
    assert sorted(rows) == sorted(
        [
            f"Ferry route approved @ {legit}",
            f"Ferry route approved @ {httpserver.url_for('/evil')}",
            f"Ferry tickets on sale @ {httpserver.url_for('/story/legit')}",
            f"Ferry tickets on sale @ {httpserver.url_for('/story/legit//')}",
            "Ferry routes cancelled @ None",
        ]
    )
    assert rows[f"Ferry route approved @ {legit}"]["outlet"] == "Legit Times"
    answer = json.loads(
        newsbot("ask", "Which ferry route did the harbour authority approve?", "--json").stdout
    )
    cited = {c["url"]: c["text"] for c in answer["citations"]}
    assert "approved a new ferry route" in cited[legit]
    answer = json.loads(
        newsbot("ask", "What did the governor say about inflation?", "--json").stdout
    )
    cited = {c["url"]: c["text"] for c in answer["citations"]}
    assert "bring inflation back to target" in cited[httpserver.url_for("/story/legit")]
