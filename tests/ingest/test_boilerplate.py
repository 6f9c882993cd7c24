"""Boilerplate is judged by where text sits in a page, not by its words.

Cookie banners, paywalls and sign-in prompts, in several wordings (none of them with the words
a list would look for), are served by a real server on 127.0.0.1 (tests/ingest/conftest.py)
and ingested as a user's `newsbot ingest URL` would.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from ingest.article import ParseError
from ingest.chunk import ChunkLimits
from ingest.fetch import FetchPolicy
from ingest.formats import parse_html
from ingest.pipeline import ingest_urls
from tests.helpers import FERRY_STORY, FakeSink

HTML = "text/html; charset=utf-8"
STORY = FERRY_STORY


def consent(text: str) -> str:
    """A consent banner as consent platforms build it: a modal dialog with its buttons."""
    return (
        '<div id="b1" role="dialog" aria-modal="true" aria-label="x"><div class="c1">'
        f"<h2>Your choices</h2><p>{text}</p><div class='c2'><button>Accept all</button>"
        "<button>Manage options</button></div></div></div>"
    )


def wall(heading: str, text: str) -> str:
    """A paywall or registration wall: a box with a heading, its text and two links."""
    return (
        f'<div class="w-3x"><h2>{heading}</h2><p>{text}</p>'
        '<a href="/offers">See offers</a> <a href="/account">Continue</a></div>'
    )


def sign_in(text: str) -> str:
    """A sign-in prompt: a form with its fields."""
    return (
        f'<form action="/s" method="post"><h2>Welcome back</h2><p>{text}</p>'
        '<label>E-mail</label><input type="email" name="e"><input type="password" name="p">'
        "<button>Continue</button></form>"
    )


def site(title: str, *parts: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><header><a href='/'>{title}</a>"
        "</header><div class='m7'>" + "".join(parts) + "</div>"
        "<div class='f'>© 2025</div></body></html>"
    )


WORDINGS = [
    # The rewording: no "cookie", "subscribe" or "sign in" in any of them.
    site(
        "Example News",
        wall(
            "One more thing",
            "You have reached your limit of free articles for this month, and more of our "
            "reporting is waiting for you once you choose one of the plans.",
        ),
        wall(
            "Keep reading",
            "Register for a free account to read this story and get access to our "
            "journalism, our daily briefings and the full archive of reporting.",
        ),
        consent(
            "We use small tracking files to improve your experience on our site, to analyse "
            "traffic and to show you content and offers that are relevant to you.",
        ),
    ),
    site(
        "Daily Harbour",
        consent(
            "This site and our partners store and read information on your device, such as "
            "unique identifiers, to measure audiences and personalise what you see here.",
        ),
        sign_in(
            "Enter the e-mail address and the password of your profile to continue to the "
            "story you asked for and to everything else we have published today.",
        ),
    ),
    site(
        "The Quay Times",
        wall(
            "You've read all your complimentary stories",
            "Readers like you make this journalism possible: choose a plan today and get "
            "unlimited access on every device, with the first month at half the price.",
        ),
    ),
]


@pytest.mark.parametrize("page", WORDINGS, ids=["limit-register-tracking", "device-form", "plan"])
def test_a_page_of_notices_is_refused_whatever_their_words(
    httpserver: HTTPServer, policy: FetchPolicy, page: str
) -> None:
    httpserver.expect_request("/n").respond_with_data(page, content_type=HTML)
    sink = FakeSink()

    report = ingest_urls(sink, [httpserver.url_for("/n")], policy=policy, limits=ChunkLimits())

    assert report.failed == [(httpserver.url_for("/n"), "no article text found")]
    assert sink.articles == {}


def test_an_article_keeps_its_text_and_loses_the_notices_around_it(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    banner = (
        "We use small tracking files to improve your experience on our site, to analyse "
        "traffic and to show you content and offers that are relevant to you."
    )
    article = (
        "<article><h1>Ferry route approved</h1>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "<button>Share</button></article>"
    )
    page = site("Harbour News", consent(banner), article)
    httpserver.expect_request("/story").respond_with_data(page, content_type=HTML)
    sink = FakeSink()

    report = ingest_urls(sink, [httpserver.url_for("/story")], policy=policy, limits=ChunkLimits())

    assert (report.added, report.failed) == (1, [])
    [info] = sink.articles.values()
    text = " ".join(sink.texts[info.article_id])
    assert info.title == "Ferry route approved"
    assert STORY[0] in text and STORY[1] in text  # a share button beside them changes nothing
    assert "tracking files" not in text


def test_a_one_paragraph_brief_is_still_an_article(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    article = f"<article><h1>Ferry route approved</h1><p>{STORY[0]}</p></article>"
    brief = site("Harbour News", article)
    httpserver.expect_request("/brief").respond_with_data(brief, content_type=HTML)
    sink = FakeSink()

    report = ingest_urls(sink, [httpserver.url_for("/brief")], policy=policy, limits=ChunkLimits())

    assert (report.added, report.failed) == (1, [])
    [info] = sink.articles.values()
    assert sink.texts[info.article_id] == [STORY[0]]


def test_an_untitled_page_of_only_a_notice_is_refused_in_one_line() -> None:
    page = (
        '<html><body><div role="dialog"><p>We use small tracking files to improve your '
        "experience on our site and to show you offers.</p></div></body></html>"
    )

    with pytest.raises(ParseError, match=r"^no article text found$"):
        parse_html(page, "untitled.html")
