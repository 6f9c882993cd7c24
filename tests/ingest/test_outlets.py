"""Whose name an article carries: the fetched site's, never one a page claims for itself.

Pages are served by a real server on 127.0.0.1 (tests/ingest/conftest.py); the names of other
hosts appear only in the rule's own checks, which look nothing up.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from ingest.chunk import ChunkLimits
from ingest.fetch import FetchPolicy
from ingest.formats import outlet_name, parse_html
from ingest.pipeline import ingest_urls
from tests.helpers import FakeSink

HTML = "text/html; charset=utf-8"
STORY = (
    "<p>The harbour authority approved a new ferry route to the islands on Monday, with daily "
    "crossings starting in the spring, the port director told reporters at the quay.</p>"
    "<p>Tickets will cost less than the old private boats charged, the director said, and the "
    "first ferry is being refitted at the shipyard across the bay this winter.</p>"
)


def page(head: str) -> str:
    return (
        f"<html><head><title>Ferry route approved</title>{head}</head><body>"
        f"<article><h1>Ferry route approved</h1>{STORY}</article></body></html>"
    )


CLAIMS = {
    "site-name": '<meta property="og:site_name" content="Reuters">',
    "cross-site-canonical": '<meta property="og:site_name" content="Reuters">'
    '<link rel="canonical" href="https://www.reuters.com/world/ferry">',
    "canonical-with-port": '<link rel="canonical" href="http://legit.test:8080/ferry">',
    "canonical-with-userinfo": '<link rel="canonical" href="http://evil.test@legit.test:8080/f">',
}


@pytest.mark.parametrize("head", CLAIMS.values(), ids=CLAIMS.keys())
def test_a_page_on_another_site_cannot_claim_an_outlets_name(
    httpserver: HTTPServer, policy: FetchPolicy, head: str
) -> None:
    httpserver.expect_request("/ferry").respond_with_data(page(head), content_type=HTML)
    sink = FakeSink()

    report = ingest_urls(sink, [httpserver.url_for("/ferry")], policy=policy, limits=ChunkLimits())

    assert (report.added, report.failed) == (1, [])
    [info] = sink.articles.values()
    assert info.outlet == "127.0.0.1"  # the fetched host: no claimed name, port or userinfo
    assert info.url == httpserver.url_for("/ferry")


def test_an_admins_name_for_a_host_wins(httpserver: HTTPServer, policy: FetchPolicy) -> None:
    httpserver.expect_request("/ferry").respond_with_data(
        page(CLAIMS["site-name"]), content_type=HTML
    )
    named = FetchPolicy(
        allow_loopback=True,
        loopback_ports=policy.loopback_ports,
        total_timeout=policy.total_timeout,
        outlet_names=(("127.0.0.1", "Harbour News"),),
    )
    sink = FakeSink()

    ingest_urls(sink, [httpserver.url_for("/ferry")], policy=named, limits=ChunkLimits())

    assert [info.outlet for info in sink.articles.values()] == ["Harbour News"]


@pytest.mark.parametrize(
    ("claimed", "fetched_from", "outlet"),
    [
        ("Reuters", "https://www.reuters.com/world/x", "Reuters"),
        ("BBC News", "https://www.bbc.co.uk/news/x", "BBC News"),
        ("The Guardian", "https://www.theguardian.com/uk/x", "The Guardian"),
        ("Guardian", "https://www.theguardian.com/uk/x", "Guardian"),
        ("Le Monde", "https://www.lemonde.fr/x", "Le Monde"),
        # Not the registrable domain's name: the fetched host, whatever the claim.
        ("Reuters", "https://evil.test/login", "evil.test"),
        ("Reuters", "https://reuters.evil.example/x", "reuters.evil.example"),
        ("Reuters", "https://reu.com/x", "reu.com"),
        ("News", "https://bbc.co.uk/x", "bbc.co.uk"),
        ("legit.test:8080", "http://user:pw@www.evil.test:8443/x", "evil.test"),
        # A claim that starts with the right word but carries an address: the host.
        ("evil.test@legit.test:8080", "http://evil.test/f", "evil.test"),
        ("evil.test:8080", "http://evil.test/f", "evil.test"),
        ("Evil: reuters.com", "https://evil.com/x", "evil.com"),
        ("Evil/Reuters", "https://evil.com/x", "evil.com"),
        ("BBC.com", "https://www.bbc.com/news/x", "BBC.com"),
        ("Yahoo News 2.0", "https://news.yahoo.com/x", "Yahoo News 2.0"),
        # Under a suffix anyone can take a name in for free, the host is no one's outlet.
        ("Reuters", "https://reuters.github.io/x", "reuters.github.io"),
        ("Reuters", "https://reuters.blogspot.com/x", "reuters.blogspot.com"),
        (None, "http://[::1]:8080/x", "::1"),
        ("127", "http://127.0.0.1:8080/x", "127.0.0.1"),
    ],
)
def test_a_claimed_name_is_kept_only_when_it_spells_the_fetched_domain(
    claimed: str | None, fetched_from: str, outlet: str
) -> None:
    assert outlet_name(claimed, fetched_from) == outlet


def test_a_canonical_with_userinfo_and_port_never_names_the_outlet() -> None:
    """The issue's page, read by the real parser as if fetched from evil.test: trafilatura takes
    the site name from the canonical URL ("evil.test@legit.test:8080"), whose first word spells
    the fetched domain; the address in it still keeps it from being the outlet."""
    html = page(CLAIMS["canonical-with-userinfo"])

    article = parse_html(html, "ferry", page_url="http://evil.test/ferry")

    assert (article.outlet, article.url) == ("evil.test", "http://evil.test/ferry")
