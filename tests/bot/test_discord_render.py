"""Answers rendered for Discord stay within every limit Discord enforces."""

from __future__ import annotations

from bot.discord_render import (
    CHARS_PER_MESSAGE,
    DESCRIPTION,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME,
    FIELD_VALUE,
    FIELDS,
    Page,
    answer_pages,
    embed_size,
    passages_pages,
    split_text,
)
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
    assert page.embeds[0]["description"] == "He wrote \\[here\\](https://evil.example/login) [1]."
