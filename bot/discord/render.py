"""Answer → Discord message payloads that respect every Discord limit.

Pure data (dicts in Discord's embed JSON shape), so the splitting is testable without Discord:
the answer goes in embed descriptions, each source in an embed field, and whatever does not fit
one message (10 embeds, 6000 characters) spills into further messages. The story views
(timeline, comparison, brief) are laid out the same way, and a followed topic's post is one
plain message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.texts import publications, terminal_safe, view_citations
from retrieval import Answer, Citation, web_url

if TYPE_CHECKING:
    from bot.follow_store import FollowPost
    from retrieval import Brief, Comparison, Timeline

CONTENT = 2000
DESCRIPTION = 4096
TITLE = 256
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBEDS_PER_MESSAGE = 10
CHARS_PER_MESSAGE = 6000
REPLY = 1900  # a plain-text reply's room: under CONTENT, with a margin
EXCERPT = 300  # characters of the cited passage shown under each source
COLOUR = 0x2B6CB0
# Characters Discord reads as markdown: with them an outlet named "Evil](https://x) [x" would
# become a masked link, and a quoted passage could hide one. Escaped with a backslash, each is
# shown as itself (Discord hides the backslash before any punctuation).
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#<])")
# In text that keeps its emphasis (an answer a chat model wrote with **bold**): what makes links,
# mentions, headings, quotes and code. A masked link needs an unescaped "](", so escaping every
# bracket and parenthesis defeats it however its text nests brackets ("[x [y] z](url)").
_LINK_MARKS = re.compile(r"([\\\[\]()<>#`|])")
_ESCAPED_MARK = re.compile(r"\\\[(\d+)\\\]")  # \[3\] as the escaping writes a citation mark
_EVERYONE = re.compile(r"@(?=everyone|here)", re.IGNORECASE)  # pings without <…>
_ZERO_WIDTH_SPACE = "\u200b"


@dataclass
class Page:
    """One Discord message: content and embeds (as dicts for discord.Embed.from_dict)."""

    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)


def discord_text(text: str, *, markdown: bool = False, citations: bool = False) -> str:
    """Return text bound for Discord that shows as written: the one escaping of every message.

    Control characters go first (`bot.texts.terminal_safe`). Then every markdown character is
    escaped, or with `markdown` only what makes links, mentions, headings, quotes and code
    (emphasis stays). `citations` keeps [n] citation marks readable (still never a link: the
    parenthesis after one stays escaped). `<@id>`, `<#id>` and `<@&id>` lose their `<`, and
    @everyone / @here get a zero-width space, so no text is a mention either.
    """
    text = terminal_safe(text)
    text = (_LINK_MARKS if markdown else _MARKDOWN).sub(r"\\\1", text)
    if citations:
        text = _ESCAPED_MARK.sub(r"[\1]", text)
    return _EVERYONE.sub("@" + _ZERO_WIDTH_SPACE, text)


def bare_link(url: str) -> str:
    """Return `<url>`: a link Discord shows without a preview, that no `>` in it can end early."""
    return "<" + terminal_safe(url).replace(">", "%3E").replace(" ", "%20") + ">"


def plain(text: str) -> str:
    """Return article text escaped so that Discord shows it as written, never as markdown."""
    return discord_text(text)


def clip(text: str, limit: int) -> str:
    """Return text cut to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit_lines(lines: Sequence[str], limit: int = REPLY) -> str:
    """Join whole lines within `limit` characters, saying how many did not fit: the one way a
    list (feeds, follows, an ingest's failures) is kept within a plain reply."""
    shown: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        if used + len(line) + 1 > limit - 30:
            shown.append(f"… and {len(lines) - i} more")
            break
        shown.append(line)
        used += len(line) + 1
    return "\n".join(shown)


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
    # The answer may quote (or a chat model may write) link syntax: never a live masked link.
    text = discord_text(answer.text or "…", markdown=True, citations=True)
    title = "Answer" if answer.grounded else "Not in the coverage"
    return view_pages(title, text, answer.citations, answer.notes)


def view_pages(
    title: str, text: str, citations: Sequence[Citation], notes: Sequence[str] = ()
) -> list[Page]:
    """Return the messages for a titled text (markdown, safe already) and its numbered sources:
    the text in embed descriptions split at line breaks, the sources in fields."""
    embeds: list[dict[str, Any]] = []
    for i, part in enumerate(split_text(text, DESCRIPTION) or ["…"]):
        embed: dict[str, Any] = {"description": part, "color": COLOUR}
        if i == 0:
            embed["title"] = clip(title, TITLE)
        embeds.append(embed)
    fields = [source_field(c) for c in citations]
    for start in range(0, len(fields), FIELDS):
        heading = "Sources" if start == 0 else "Sources (continued)"
        embeds.append({"title": heading, "fields": fields[start : start + FIELDS], "color": COLOUR})
    if notes:
        embeds[-1]["footer"] = {"text": clip("; ".join(notes), FOOTER)}
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
        where = terminal_safe(", ".join(x for x in (c.get("outlet"), c.get("published_at")) if x))
        title = clip(f"[{c['n']}] {plain(c['title'])}", TITLE)
        for i, part in enumerate(split_text(plain(c["text"]), DESCRIPTION)):
            embed: dict[str, Any] = {"title": title, "description": part, "color": COLOUR}
            if i == 0 and (url := web_url(c.get("url"))):
                embed["url"] = url
            if where:
                embed["footer"] = {"text": where}
            embeds.append(embed)
    return _pack(embeds) if embeds else [Page(content="No passages were cited.")]


# -- story views ----------------------------------------------------------------------------------
NOT_FOUND_TITLE = "Not in the coverage"


def cited_plain(text: str) -> str:
    """Return article text escaped like `plain`, its [n] citation marks kept readable."""
    return discord_text(text, citations=True)


def timeline_lines(timeline: Timeline) -> list[str]:
    return [f"**{event.date}** — {cited_plain(event.text)}" for event in timeline.events]


def timeline_pages(timeline: Timeline) -> list[Page]:
    """Return a timeline as messages: "date — what happened [n]" lines, then the sources."""
    if not timeline.events:
        return view_pages(
            NOT_FOUND_TITLE, plain(timeline.note or "No dated developments found."), []
        )
    cites = view_citations(e.citations for e in timeline.events)
    title = f"Timeline: {plain(timeline.topic)}"
    return view_pages(title, "\n".join(timeline_lines(timeline)), cites)


def comparison_lines(comparison: Comparison) -> list[str]:
    lines: list[str] = []
    for report in comparison.outlets:
        lines.append(f"**{plain(report.outlet)}**")  # what only it carried says so itself
        if report.missing:
            lines.append("*nothing on this in the coverage I have*")
        lines.extend(cited_plain(line) for line in report.text.split("\n") if line.strip())
    return lines


def comparison_pages(comparison: Comparison) -> list[Page]:
    """Return a comparison as messages: each outlet's cited lines under its name, the sources."""
    if not comparison.outlets:
        text = plain(comparison.note or "No outlet has coverage of this.")
        return view_pages(NOT_FOUND_TITLE, text, [])
    cites = view_citations(r.citations for r in comparison.outlets)
    title = f"Compared: {plain(comparison.topic)}"
    return view_pages(title, "\n".join(comparison_lines(comparison)), cites)


def brief_since(brief: Brief) -> str:
    return brief.since[:16].replace("T", " ")


def brief_lines(brief: Brief) -> list[str]:
    lines: list[str] = []
    for i, story in enumerate(brief.stories, 1):
        outlets = plain(", ".join(story.outlets) or "unknown outlet")
        lines.append(f"**{i}. {plain(story.title)}** ({outlets})")
        lines.append(cited_plain(story.text))
    return lines


def brief_pages(brief: Brief) -> list[Page]:
    """Return a brief as messages: the stories biggest first, one cited line each, the sources."""
    if not brief.stories:
        return view_pages("Brief", f"Nothing came in since {brief_since(brief)} UTC.", [])
    cites = view_citations(s.citations for s in brief.stories)
    title = f"Brief: since {brief_since(brief)} UTC"
    return view_pages(title, "\n".join(brief_lines(brief)), cites)


# -- followed topics ------------------------------------------------------------------------------
def follow_post_content(post: FollowPost) -> str:
    """Return the message for a followed topic's new article: headline, outlet and date, the
    matched sentence with its [n], and the link — one message within the content limit."""
    first = post.citations[0] if post.citations else {}
    headline = clip(str(first.get("title") or "New article"), TITLE)
    where = " · ".join(
        x for x in (first.get("outlet"), str(first.get("published_at") or "")[:10]) if x
    )
    lines = [f"🔔 **{plain(headline)}**"]
    if where:
        lines.append(plain(where))
    lines.append(f"> {cited_plain(clip(' '.join(post.text.split()), 1200))}")
    for c in post.citations:
        if url := web_url(c.get("url")):
            lines.append(f"[{c['n']}] {bare_link(url)}")
    topic = clip(post.follow.topic, 200)
    lines.append(
        f"-# Following #{post.follow.id}: “{plain(topic)}” · /unfollow id:{post.follow.id}"
    )
    return clip("\n".join(lines), CONTENT)
