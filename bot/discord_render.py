"""Answer → Discord message payloads that respect every Discord limit.

Pure data (dicts in Discord's embed JSON shape), so the splitting is testable without Discord:
the answer goes in embed descriptions, each source in an embed field, and whatever does not fit
one message (10 embeds, 6000 characters) spills into further messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.texts import publications
from retrieval import Answer, Citation, web_url

CONTENT = 2000
DESCRIPTION = 4096
TITLE = 256
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBEDS_PER_MESSAGE = 10
CHARS_PER_MESSAGE = 6000
EXCERPT = 300  # characters of the cited passage shown under each source
COLOUR = 0x2B6CB0
# Characters Discord reads as markdown: with them an outlet named "Evil](https://x) [x" would
# become a masked link, and a quoted passage could hide one.
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#<])")
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(")  # the start of [text](url)


@dataclass
class Page:
    """One Discord message: content and embeds (as dicts for discord.Embed.from_dict)."""

    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)


def plain(text: str) -> str:
    """Return article text escaped so that Discord shows it as written, never as markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def clip(text: str, limit: int) -> str:
    """Return text cut to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit`, at line, then sentence, then word breaks."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), -1)
        if cut < limit // 2:
            cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "))
            cut = cut + 1 if cut >= limit // 2 else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def embed_size(embed: dict[str, Any]) -> int:
    """Return the characters Discord counts toward the 6000 per message."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    size += len(embed.get("author", {}).get("name", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return size


def source_field(citation: Citation) -> dict[str, Any]:
    """Return the embed field for one source: `[n] Headline` and `Outlet, date` with an excerpt."""
    p = citation.passage
    where = plain(", ".join(x for x in (p.outlet, p.published_date) if x) or "source")
    url = web_url(p.url)
    # Parentheses would end Discord's masked link early; percent-encoded they are the same URL.
    link = f"[{where}]({url.replace('(', '%28').replace(')', '%29')})" if url else where
    excerpt = plain(clip(" ".join(p.text.split()), EXCERPT))
    also = ""
    if citation.also_published:
        also = f"\nalso published by {plain(publications(citation.also_published))}"
    value = clip(f"{link}{also}\n> {excerpt}", FIELD_VALUE)
    name = clip(f"[{citation.n}] {plain(p.title)}", FIELD_NAME)
    return {"name": name, "value": value, "inline": False}


def answer_pages(answer: Answer) -> list[Page]:
    """Return the messages that carry an answer and its sources, each within Discord's limits."""
    embeds: list[dict[str, Any]] = []
    # The answer may quote (or a chat model may write) link syntax: never a live masked link.
    text = _MASKED_LINK.sub(r"\\[\1\\](", answer.text or "…")
    for i, part in enumerate(split_text(text, DESCRIPTION)):
        embed: dict[str, Any] = {"description": part, "color": COLOUR}
        if i == 0:
            embed["title"] = "Answer" if answer.grounded else "Not in the coverage"
        embeds.append(embed)
    fields = [source_field(c) for c in answer.citations]
    for start in range(0, len(fields), FIELDS):
        title = "Sources" if start == 0 else "Sources (continued)"
        embeds.append({"title": title, "fields": fields[start : start + FIELDS], "color": COLOUR})
    if answer.notes:
        embeds[-1]["footer"] = {"text": clip("; ".join(answer.notes), FOOTER)}
    return _pack(embeds)


def _pack(embeds: list[dict[str, Any]]) -> list[Page]:
    pages: list[Page] = [Page()]
    for embed in _fit(embeds):
        page = pages[-1]
        used = sum(embed_size(e) for e in page.embeds)
        if page.embeds and (
            len(page.embeds) >= EMBEDS_PER_MESSAGE or used + embed_size(embed) > CHARS_PER_MESSAGE
        ):
            pages.append(Page())
        pages[-1].embeds.append(embed)
    return pages


def _fit(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split any embed that alone exceeds the per-message total (many long fields)."""
    fitted: list[dict[str, Any]] = []
    for embed in embeds:
        if embed_size(embed) <= CHARS_PER_MESSAGE:
            fitted.append(embed)
            continue
        base = {k: v for k, v in embed.items() if k != "fields"}
        current = dict(base, fields=[])
        for f in embed.get("fields", []):
            if current["fields"] and embed_size(current) + len(f["name"]) + len(f["value"]) > (
                CHARS_PER_MESSAGE
            ):
                fitted.append(current)
                current = {"title": "Sources (continued)", "color": COLOUR, "fields": []}
            current["fields"].append(f)
        fitted.append(current)
    return fitted


def passages_pages(answer_citations: list[dict[str, Any]]) -> list[Page]:
    """Return the full cited passages (for the "Passages" button), within Discord's limits."""
    embeds = []
    for c in answer_citations:
        where = ", ".join(x for x in (c.get("outlet"), c.get("published_at")) if x)
        title = clip(f"[{c['n']}] {c['title']}", TITLE)  # embed titles show no markdown
        for i, part in enumerate(split_text(plain(c["text"]), DESCRIPTION)):
            embed: dict[str, Any] = {"title": title, "description": part, "color": COLOUR}
            if i == 0 and (url := web_url(c.get("url"))):
                embed["url"] = url
            if where:
                embed["footer"] = {"text": where}
            embeds.append(embed)
    return _pack(embeds) if embeds else [Page(content="No passages were cited.")]
