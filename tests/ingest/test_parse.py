"""Parsing each supported format, and the reasons given for sources that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.article import normalize_date
from ingest.parse import ParseError, decode_text, parse_source
from retrieval.models import Article

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SEED = SHARED_DATA / "seeds" / "000_ecf542a3148f3069.txt"
CORPUS = SHARED_DATA / "multihop-rag" / "corpus.json"

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Council approves new river bridge | The Riverside Gazette</title>
<meta property="og:title" content="Council approves new river bridge">
<meta property="og:site_name" content="The Riverside Gazette">
<link rel="canonical" href="https://gazette.example.com/news/river-bridge">
<meta property="article:published_time" content="2024-03-14T09:30:00+00:00">
<meta name="author" content="Jane Doe">
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<article>
<h1>Council approves new river bridge</h1>
<p class="byline">By Jane Doe</p>
<p>The city council voted 7 to 2 on Wednesday to approve a new pedestrian bridge over the
river, ending a debate that has lasted more than a decade.</p>
<p>“This bridge will connect two neighbourhoods that have been separated for too long,” said
Mayor Ana Lopez after the vote. Construction is expected to start in the autumn.</p>
<p>The project will cost an estimated 12 million euros, most of which will come from a regional
infrastructure fund. Opponents argued that the money would be better spent on road repairs.</p>
</article>
<footer><p>© 2024 The Riverside Gazette. All rights reserved.</p></footer>
</body>
</html>
"""


def parse_one(text: str, name: str) -> Article:
    """Parse a single-article source given as text and return its article."""
    parsed = parse_source(text.encode("utf-8"), name)
    assert parsed.errors == []
    assert len(parsed.articles) == 1
    return parsed.articles[0]


def test_seed_article_gives_outlet_date_headline_and_paragraphs() -> None:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    article = parse_one(SEED.read_text(encoding="utf-8"), SEED.name)

    assert article.title == "Putin says Russia hasn’t received G7 reinstatement offer from US"
    assert article.outlet == "MENAFN"
    assert article.published_at == "2025-12-06"
    assert len(article.paragraphs) == 11
    assert article.paragraphs[0].startswith("Russian President Vladimir Putin has stated")
    assert not any("(MENAFN)" in paragraph for paragraph in article.paragraphs)
    assert any(
        "“The US itself still buys nuclear fuel from us" in paragraph
        for paragraph in article.paragraphs
    )
    assert article.origin == SEED.name


def test_seed_layout_ignores_the_id_and_blank_lines() -> None:
    text = " date 2024-01-02 77\nFloods close schools\n(AFP) - Heavy rain fell.\n\nSchools shut.\n"
    article = parse_one(text, "wire.txt")

    assert (article.title, article.outlet, article.published_at) == (
        "Floods close schools",
        "AFP",
        "2024-01-02",
    )
    assert article.paragraphs == ("Heavy rain fell.", "Schools shut.")


def test_text_front_matter_fills_the_metadata() -> None:
    text = (
        "Title: Harbour reopens after storm\n"
        "Source: The Daily Planet\n"
        "Date: March 3, 2024\n"
        "URL: https://planet.example.com/harbour\n"
        "Author: Lois Lane\n"
        "\n"
        "The harbour reopened on Sunday.\n"
        "\n"
        "Ferries resume on Monday.\n"
    )
    article = parse_one(text, "harbour.txt")

    assert article.title == "Harbour reopens after storm"
    assert article.outlet == "The Daily Planet"
    assert article.published_at == "2024-03-03"
    assert article.url == "https://planet.example.com/harbour"
    assert article.author == "Lois Lane"
    assert article.paragraphs == ("The harbour reopened on Sunday.", "Ferries resume on Monday.")


def test_first_line_that_only_looks_like_a_field_is_the_headline() -> None:
    article = parse_one("Breaking: storm hits coast\n\nWinds reached 120 km/h.\n", "b.txt")

    assert article.title == "Breaking: storm hits coast"
    assert article.outlet is None
    assert article.paragraphs == ("Winds reached 120 km/h.",)


def test_markdown_fenced_front_matter_and_repeated_heading() -> None:
    text = (
        "---\n"
        'title: "Rates held at 4%"\n'
        "outlet: Central Wire\n"
        "published_at: 2024-05-01T10:00:00Z\n"
        "tags: [economy]\n"
        "---\n"
        "# Rates held at 4%\n"
        "\n"
        "The bank kept rates unchanged.\n"
    )
    article = parse_one(text, "rates.md")

    assert article.title == "Rates held at 4%"
    assert article.outlet == "Central Wire"
    assert article.published_at == "2024-05-01T10:00:00Z"
    assert article.paragraphs == ("The bank kept rates unchanged.",)


def test_markdown_heading_quotes_links_and_lists() -> None:
    text = (
        "# Big match ends in a draw\n"
        "\n"
        "> “We deserved more,” the coach said.\n"
        "\n"
        "## Reaction\n"
        "Fans read the [club statement](https://club.example.com) and **cheered**.\n"
        "\n"
        "![crowd](crowd.png)\n"
        "- Goals: 2\n"
        "- Cards: 5\n"
    )
    article = parse_one(text, "match.md")

    assert article.title == "Big match ends in a draw"
    assert article.paragraphs == (
        "“We deserved more,” the coach said.",
        "Reaction",
        "Fans read the club statement and cheered.",
        "- Goals: 2",
        "- Cards: 5",
    )


def test_hard_wrapped_text_is_joined_and_whitespace_normalised() -> None:
    text = (
        "\ufeff# Mayor resigns\n"
        "\n"
        "The mayor resigned on Friday after\n"
        "a week of pressure from\n"
        "her own party.\n"
        "\n"
        "\n"
        "  She will   stay on\tuntil a successor is chosen.  \n"
    )
    article = parse_one(text, "mayor.txt")

    assert article.title == "Mayor resigns"
    assert article.paragraphs == (
        "The mayor resigned on Friday after a week of pressure from her own party.",
        "She will stay on until a successor is chosen.",
    )


def test_html_page_gives_the_article_and_its_metadata() -> None:
    article = parse_one(ARTICLE_PAGE, "bridge.html")

    assert article.title == "Council approves new river bridge"
    assert article.outlet == "The Riverside Gazette"
    assert article.published_at == "2024-03-14"
    assert article.url == "https://gazette.example.com/news/river-bridge"
    assert article.author == "Jane Doe"
    # The <h1> is not repeated as a paragraph; navigation and footer are left out.
    assert len(article.paragraphs) == 3
    assert article.paragraphs[0].startswith("The city council voted 7 to 2 on Wednesday")
    assert "over the river, ending" in article.paragraphs[0]  # source line break joined
    assert article.paragraphs[1].startswith("“This bridge will connect two neighbourhoods")
    assert not any("Home" in p or "rights reserved" in p for p in article.paragraphs)


def test_html_without_site_name_or_date_falls_back_to_the_host() -> None:
    page = ARTICLE_PAGE.replace(
        '<meta property="og:site_name" content="The Riverside Gazette">', ""
    ).replace('<meta property="article:published_time" content="2024-03-14T09:30:00+00:00">', "")
    article = parse_one(page, "bridge.htm")

    assert article.outlet == "gazette.example.com"
    # The "© 2024" footer is not taken for a publication date.
    assert article.published_at is None


def test_json_single_object() -> None:
    item = {
        "headline": "Chip maker beats forecasts",
        "text": ["Revenue rose 12%.", "  Shares   climbed. ", ""],
        "outlet": "Market Watchers",
        "date": "Nov 27, 2023",
        "url": "https://markets.example.com/chips",
        "author": ["Ann Lee", "Bo Chen"],
    }
    article = parse_one(json.dumps(item), "chips.json")

    assert article.title == "Chip maker beats forecasts"
    assert article.paragraphs == ("Revenue rose 12%.", "Shares climbed.")
    assert article.outlet == "Market Watchers"
    assert article.published_at == "2023-11-27"
    assert article.author == "Ann Lee, Bo Chen"
    assert article.origin == "chips.json"


def test_html_entities_in_headlines_and_outlets_are_decoded() -> None:
    item = {
        "title": "&#039;Massive intel failure by Mossad&#039;: Hamas&#039; surprise attack",
        "body": "Hamas carried out the biggest coordinated attack in Israel in decades.",
        "source": "Business Today | Latest &amp; Trending",
    }
    article = parse_one(json.dumps(item), "entities.json")

    assert article.title == "'Massive intel failure by Mossad': Hamas' surprise attack"
    assert article.outlet == "Business Today | Latest & Trending"


def test_json_list_splits_bodies_on_blank_lines_or_else_on_lines() -> None:
    items = [
        {"title": "One", "body": "First part\nstill first.\n\nSecond part.", "source": "A"},
        {"title": "Two", "body": "Line one.\nLine two.", "author": None},
    ]
    parsed = parse_source(json.dumps(items).encode(), "feed.json")

    assert parsed.errors == []
    first, second = parsed.articles
    assert first.paragraphs == ("First part still first.", "Second part.")
    assert second.paragraphs == ("Line one.", "Line two.")
    assert second.author is None
    assert [a.origin for a in parsed.articles] == ["feed.json[0]", "feed.json[1]"]


def test_json_list_reports_bad_items_and_keeps_the_rest() -> None:
    items = [
        {"title": "Good", "body": "Fine."},
        "oops",
        {"title": "Headline only", "body": "  "},
        {"body": "No headline."},
    ]
    parsed = parse_source(json.dumps(items).encode(), "feed.json")

    assert [a.title for a in parsed.articles] == ["Good"]
    assert parsed.errors == [
        ("feed.json[1]", "expected an article object, found a string"),
        ("feed.json[2]", "article has no body"),
        ("feed.json[3]", "article has no title"),
    ]


def test_json_lines_report_a_malformed_line_and_keep_the_rest() -> None:
    text = (
        '{"title": "First", "body": "One."}\n'
        "\n"
        '{"title": "Broken", "body": \n'
        '{"title": "Fourth", "body": "Four.", "published_at": "2023-10-06T21:31:00+00:00"}\n'
    )
    parsed = parse_source(text.encode(), "feed.jsonl")

    assert [a.title for a in parsed.articles] == ["First", "Fourth"]
    assert [a.origin for a in parsed.articles] == ["feed.jsonl:1", "feed.jsonl:4"]
    assert parsed.articles[1].published_at == "2023-10-06T21:31:00+00:00"
    assert parsed.errors == [("feed.jsonl:3", "malformed JSON: Expecting value (column 29)")]


def test_multihop_corpus_loads_every_article() -> None:
    if not CORPUS.exists():
        pytest.skip(f"MultiHop-RAG corpus not found at {CORPUS}")
    parsed = parse_source(CORPUS.read_bytes(), "corpus.json")

    assert parsed.errors == []
    assert len(parsed.articles) == 609
    first = parsed.articles[0]
    assert first.title == "200+ of the best deals from Amazon's Cyber Monday sale"
    assert first.outlet == "Mashable"
    assert first.published_at == "2023-11-27T08:45:59+00:00"
    assert first.url == "https://mashable.com/article/cyber-monday-deals-amazon-2023"
    assert len(first.paragraphs) > 10
    assert all(a.paragraphs and a.outlet for a in parsed.articles)


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "empty.txt", "file is empty"),
        (b" \n\t\n", "blank.md", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.txt", "looks like a binary file, not text"),
        (bytes(range(1, 9)) * 20, "noise.txt", "looks like a binary file, not text"),
        (
            b"Headline\n\n" + bytes(range(0x80, 0xA0)) * 5,
            "garbled.txt",
            "cannot decode text (tried utf-8, cp1252, latin-1)",
        ),
        (
            b'{"title": "x", }',
            "bad.json",
            "malformed JSON: Expecting property name enclosed in double quotes (line 1 column 16)",
        ),
        (
            b'{"title": "a", "body": "b"}\n{"title": "c", "body": "d"}\n',
            "two.json",
            "malformed JSON: Extra data (line 2 column 1); "
            "several objects need a [list] or a .jsonl file",
        ),
        (b"[]", "none.json", "the JSON list holds no articles"),
        (b"42", "number.json", "expected an article object or a list of them, found a number"),
        (b'{"title": "Only a headline"}', "item.json", "article has no body"),
        (b"Only a headline\n\n\n", "short.txt", "article has no body"),
        (
            b"<html><head><title>Empty</title></head><body></body></html>",
            "empty.html",
            "no article text found",
        ),
        (
            b"%PDF-1.7",
            "report.pdf",
            "unsupported file type '.pdf' (supported: .htm, .html, .json, .jsonl, .md, .txt)",
        ),
        (
            b"text",
            "notes",
            "unsupported file type without a suffix "
            "(supported: .htm, .html, .json, .jsonl, .md, .txt)",
        ),
    ],
)
def test_unreadable_sources_give_a_specific_reason(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_source(data, name)

    assert str(raised.value) == reason


def test_cp1252_text_keeps_its_typographic_quotes() -> None:
    quote = "“I’m done,” she said — and left."
    data = f"Minister quits\n\n{quote}\n".encode("cp1252")
    assert b"\x93I\x92m" in data  # what a Windows editor saves

    parsed = parse_source(data, "minister.txt")

    assert parsed.articles[0].paragraphs == (quote,)


def test_utf16_with_bom_is_decoded() -> None:
    data = "Café owners protest\n\nThey marched on Tuesday.\n".encode("utf-16")
    parsed = parse_source(data, "cafe.txt")

    assert parsed.articles[0].title == "Café owners protest"
    assert parsed.articles[0].paragraphs == ("They marched on Tuesday.",)


def test_decode_text_strips_the_utf8_bom_and_falls_back_to_latin1() -> None:
    assert decode_text("\ufeffhello".encode()) == "hello"
    # 0x81 is undefined in cp1252; a single stray one is latin-1 text, not garbage.
    assert decode_text(b"caf\xe9 \x81 au lait") == "café \x81 au lait"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2023-11-27T08:45:59+00:00", "2023-11-27T08:45:59+00:00"),
        ("2023-11-27", "2023-11-27"),
        ("  2023-11-27 08:45  ", "2023-11-27 08:45"),
        ("2023-11-27 at noon", "2023-11-27"),
        ("Nov 27, 2023", "2023-11-27"),
        ("Nov. 27, 2023", "2023-11-27"),
        ("November 27th, 2023", "2023-11-27"),
        ("27 November 2023", "2023-11-27"),
        ("Monday, November 27, 2023", "2023-11-27"),
        ("Mon, 27 Nov 2023 08:45:59 +0000", "2023-11-27"),
        ("2023/11/27", "2023-11-27"),
        ("yesterday", None),
        ("2023-13-45", None),
        ("", None),
        (None, None),
        (20231127, None),
    ],
)
def test_dates_are_normalised_to_iso(given: object, expected: str | None) -> None:
    assert normalize_date(given) == expected


def test_unreadable_date_does_not_fail_the_article() -> None:
    article = parse_one('{"title": "T", "body": "B", "date": "sometime soon"}', "d.json")

    assert article.published_at is None
