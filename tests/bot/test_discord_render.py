"""Answers rendered for Discord stay within every limit Discord enforces."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.cogs.admin import report_text
from bot.discord.cogs.feeds import announce_line
from bot.discord.render import (
    CHARS_PER_MESSAGE,
    DESCRIPTION,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS,
    Page,
    answer_pages,
    cited_plain,
    discord_text,
    embed_size,
    fit_lines,
    passages_pages,
    plain,
    split_text,
)
from ingest.feeds import PollReport
from ingest.pipeline import IngestReport
from retrieval.models import Answer, Citation, Passage


def passage(n: int, text: str = "A cited passage. " * 20) -> Passage:
    return Passage(
        f"a{n}-p",
        f"a{n}",
        0,
        text,
        f"Headline number {n} " + "x" * 300,
        "Outlet",
        "2025-12-06",
        url=f"https://news.example/{n}",
    )


def assert_within_limits(pages: list[Page]) -> None:
    for page in pages:
        assert len(page.content) <= 2000
        assert len(page.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(embed_size(e) for e in page.embeds) <= CHARS_PER_MESSAGE
        for embed in page.embeds:
            assert len(embed.get("title", "")) <= 256
            assert len(embed.get("description", "")) <= DESCRIPTION
            assert len(embed.get("fields", [])) <= FIELDS
            for f in embed.get("fields", []):
                assert len(f["name"]) <= FIELD_NAME and len(f["value"]) <= FIELD_VALUE


def test_a_short_answer_is_one_message_with_sources_as_fields() -> None:
    answer = Answer("He said so [1].", (Citation(1, passage(1)),), grounded=True)

    pages = answer_pages(answer)

    assert len(pages) == 1
    answer_embed, sources = pages[0].embeds
    assert answer_embed["description"] == "He said so [1]."
    field = sources["fields"][0]
    assert field["name"].startswith("[1] Headline number 1")
    assert field["value"].startswith("[Outlet, 2025-12-06](https://news.example/1)\n> A cited")


def test_a_huge_answer_with_many_sources_is_split_across_messages() -> None:
    text = " ".join(f"Sentence number {i} of a very long answer [1]." for i in range(400))
    citations = tuple(Citation(i, passage(i, "word " * 400)) for i in range(1, 41))
    answer = Answer(text, citations, grounded=True, notes=("a note",))

    pages = answer_pages(answer)

    assert len(pages) > 1
    assert_within_limits(pages)
    shown = [f["name"] for p in pages for e in p.embeds for f in e.get("fields", [])]
    assert len(shown) == 40  # every source appears once
    described = " ".join(e.get("description", "") for p in pages for e in p.embeds)
    assert "Sentence number 399" in described and "Sentence number 0 " in described


def test_split_text_prefers_line_then_sentence_breaks() -> None:
    assert split_text("one line\nsecond line", 12) == ["one line", "second line"]
    pieces = split_text("First sentence here. Second one here.", 25)
    assert pieces == ["First sentence here.", "Second one here."]
    assert all(len(p) <= 10 for p in split_text("x" * 35, 10))


def test_full_passages_are_paged_within_limits() -> None:
    cited = [
        {
            "n": i,
            "title": "T" * 300,
            "outlet": "O",
            "published_at": "2025-01-01",
            "url": None,
            "text": "long passage " * 700,
        }
        for i in range(1, 6)
    ]

    pages = passages_pages(cited)

    assert_within_limits(pages)
    assert sum(e["description"].count("long passage") for p in pages for e in p.embeds) == 3500


def test_article_text_with_markdown_is_shown_as_written_never_as_a_link() -> None:
    evil = Passage(
        "e-p",
        "e",
        0,
        "Click [here](https://evil.example/login) to **claim** it.",
        "Title [/] with *stars*",
        "Evil](https://evil.example/phish) [x",
        "2025-12-06",
        url="https://news.example/real",
    )
    answer = Answer("He wrote [here](https://evil.example/login) [1].", (Citation(1, evil),))

    [page] = answer_pages(answer)
    field = page.embeds[1]["fields"][0]

    assert "](https://evil.example" not in field["value"].replace("\\]", "")
    assert field["value"].startswith(
        "[Evil\\]\\(https://evil.example/phish\\) \\[x, 2025-12-06](https://news.example/real)"
    )
    assert "Click \\[here\\]\\(https://evil.example/login\\) to \\*\\*claim\\*\\*" in field["value"]
    assert field["name"] == "[1] Title \\[/\\] with \\*stars\\*"
    written = "He wrote \\[here\\]\\(https://evil.example/login\\) [1]."
    assert page.embeds[0]["description"] == written


# One escaping for every Discord-bound text: no input renders a live masked link or a mention.

_PUNCTUATION = re.compile(r"[^\w\s]")
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|</[^<>\s]+:\d+>|@(?:everyone|here)")


def as_discord_reads(text: str) -> str:
    """Return text with every backslash-escaped character replaced by a placeholder, as
    Discord's markdown reads it: a backslash before punctuation makes it a literal."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and _PUNCTUATION.match(text[i + 1]):
            out.append("\x00")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def live_masked_link(text: str) -> bool:
    # Stricter than Discord: any unescaped "](" counts, whatever precedes it.
    return "](" in as_discord_reads(text)


def live_mention(text: str) -> bool:
    return _MENTION.search(as_discord_reads(text)) is not None


_hostile = st.lists(
    st.one_of(
        st.sampled_from(list("[]()<>@#!&\\*_~`|:/-\n ")),
        st.sampled_from(["everyone", "here", "123", "https://evil.example/n", "[1]", "](", "\x1b"]),
        st.sampled_from(["\u202e", "\u200b", "# ", "-# ", "> ", "```", "||", "<@&", "</x:"]),
        st.text(max_size=5),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_hostile)
def test_no_text_renders_a_live_masked_link_or_a_mention(text: str) -> None:
    rendered = [
        plain(text),
        cited_plain(text),
        discord_text(text, markdown=True, citations=True),
        answer_pages(Answer(text, ()))[0].embeds[0]["description"],
        announce_line(text, PollReport(feed="f", added=2, titles=[text, text])),
    ]
    for shown in rendered:
        assert not live_masked_link(shown), shown
        assert not live_mention(shown), shown
        assert "\x1b" not in shown and "\u202e" not in shown


@pytest.mark.parametrize(
    "text",
    [
        "[x [y] z](https://evil.example/n)",
        "[Reuters](https://evil.test/login)",
        "[1](https://evil.example/n)",
        "\\[a](https://evil.example/1)",
        "<@123> <@&456> <#789> @everyone @here",
    ],
)
def test_the_known_tricks_are_shown_as_written(text: str) -> None:
    description = answer_pages(Answer(f"It says {text} [1].", ()))[0].embeds[0]["description"]

    assert not live_masked_link(description) and not live_mention(description)
    assert "[1]" in description  # citation marks stay readable


def test_an_announcement_shows_feed_and_entry_titles_as_written() -> None:
    report = PollReport(feed="f", added=1, titles=["# Big [Reuters](https://evil.test/login)"])

    line = announce_line("[Reuters](https://evil.test/login)", report)

    assert line == (
        "📰 \\[Reuters\\]\\(https://evil.test/login\\): 1 new article(s) — "
        "\\# Big \\[Reuters\\]\\(https://evil.test/login\\)"
    )


def test_lines_that_do_not_fit_a_reply_are_counted_not_cut() -> None:
    lines = [f"line {i}: " + "x" * 90 for i in range(40)]

    text = fit_lines(lines)

    *shown, more = text.split("\n")
    assert len(text) <= 1900 and shown == lines[: len(shown)]
    assert more == f"… and {len(lines) - len(shown)} more"
    assert fit_lines(lines[:3]) == "\n".join(lines[:3])


def test_an_ingest_report_with_many_long_failures_shows_whole_lines() -> None:
    failed = [(f"https://site.example/{i}", "refused: " + "a long reason " * 30) for i in range(12)]

    text = report_text(IngestReport(added=1, failed=failed))

    *lines, more = text.split("\n")
    assert len(text) <= 1900 and lines[0].startswith("1 added")
    for line in lines[1:]:  # each failure clipped to its own length, none cut by the reply's
        assert line.startswith("✗ https://site.example/") and line.endswith("…")
    assert more.startswith("… and ") and more.endswith(" more")
