"""One article as every parser builds it: cleaned text, a normalised date, a web-only URL.

Shared by all format parsers (`ingest.formats`, feeds), so that every source yields articles
cleaned the same way; `ingest.parse` only decodes a file and picks the parser for its suffix.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

from retrieval import Article, web_url


class ParseError(ValueError):
    """A whole source could not be read; str(e) is a one-line reason for the user."""


@dataclass(frozen=True)
class ParsedSource:
    """The articles read from one source, and the items inside it that could not be read."""

    articles: list[Article]
    errors: list[tuple[str, str]]  # (origin, one-line reason), e.g. ("corpus.json[12]", "...")
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (origin, what was repaired)


_SPACE = re.compile(r"\s+")
# Control characters other than whitespace (which clean_text collapses): never kept in text.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
# Publication dates before this are taken for mistakes (year 0, a 1970 epoch default), as are
# those after tomorrow (a feed dated 2100 would top every list).
EARLIEST_DAY = date(1990, 1, 1)
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_DATE_FORMATS = (
    "%b %d, %Y",  # Nov 27, 2023
    "%B %d, %Y",  # November 27, 2023
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",  # 27 Nov 2023
    "%d %B %Y",  # 27 November 2023
    "%A, %B %d, %Y",  # Monday, November 27, 2023
    "%A, %d %B %Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
)


def clean_text(value: str) -> str:
    """Drop control characters (NUL…), collapse runs of whitespace into one space, strip."""
    return _SPACE.sub(" ", _CONTROLS.sub("", value)).strip()


def clean_paragraphs(paragraphs: Iterable[str]) -> tuple[str, ...]:
    """Return the paragraphs with whitespace normalised and empty ones dropped."""
    cleaned = (clean_text(paragraph) for paragraph in paragraphs)
    return tuple(paragraph for paragraph in cleaned if paragraph)


def optional_text(value: object) -> str | None:
    """Return a cleaned string, or None for anything empty or not a string."""
    if not isinstance(value, str):
        return None
    return clean_text(value) or None


def plain_name(value: object) -> str | None:
    """Return a headline, outlet or author name with HTML entities decoded ("&#039;" → "'"),
    then cleaned: feeds and exports often carry them escaped twice."""
    if not isinstance(value, str):
        return None
    return optional_text(html.unescape(value))


def normalize_date(value: object) -> str | None:
    """Return a publication date as an ISO string, or None when it cannot be understood or is
    outside the sane window (see `read_date`, which also says why a date was dropped)."""
    return read_date(value)[0]


def read_date(value: object, *, today: date | None = None) -> tuple[str | None, str | None]:
    """Return (the publication date as an ISO string or None, a note for the user or None).

    The one place that decides what date an article gets, for files, pages and feeds alike.
    ISO dates and datetimes are kept as given, so a time and zone survive; other common forms
    ("Nov 27, 2023", "27 November 2023", RFC 2822) become `YYYY-MM-DD`. A date that was given
    but cannot be read ("2023-02-30", a bare number), or lies outside the sane window (before
    EARLIEST_DAY, after tomorrow), is dropped, and the note says so: the ingest summary lists
    it among its warnings. A day whose time cannot be read keeps the day, with a note.
    """
    if value is None or value == "":
        return None, None
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:59] + "…"
    if not isinstance(value, str):  # an epoch number, a list: nothing says what it means
        return None, f"date {shown} is not a written date: stored without a date"
    text = clean_text(value)
    if not text:
        return None, None
    iso = _ISO_DATE.match(text)
    note = None
    if iso is None:
        parsed = _parse_written_date(text)
    else:
        try:
            day = date.fromisoformat(iso[0])
        except ValueError:
            parsed = None
        else:
            try:
                datetime.fromisoformat(text)
                parsed = text
            except ValueError:  # a valid day, then a time Python cannot read: keep the day
                parsed = day.isoformat()
                if len(text) > len(iso[0]):
                    note = f"the time in date {shown} cannot be read: kept the day only"
    if parsed is None:
        return None, f"date {shown} cannot be read: stored without a date"
    day = date.fromisoformat(parsed[:10])
    latest = (today or date.today()) + timedelta(days=1)
    if not EARLIEST_DAY <= day <= latest:
        return None, (
            f"date {shown} is not between {EARLIEST_DAY} and tomorrow: stored without a date"
        )
    return parsed, note


def _parse_written_date(text: str) -> str | None:
    """Return `YYYY-MM-DD` for a date written in words or in RFC 2822 form, else None."""
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    bare = _ORDINAL.sub(r"\1", text)
    # "Nov. 27, 2023": the abbreviation's dot is not part of any strptime format.
    for candidate in dict.fromkeys((bare, bare.replace(".", ""))):
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, pattern).date().isoformat()
            except ValueError:
                continue
    return None


def build_article(
    title: object,
    paragraphs: Iterable[str],
    origin: str,
    *,
    outlet: object = None,
    published_at: object = None,
    url: object = None,
    author: object = None,
    item_key: str | None = None,
    canonical_url: object = None,
    notes: list[tuple[str, str]] | None = None,
) -> Article:
    """Return a cleaned Article; raise ParseError when it has no headline or no body.

    A url that is not an absolute http(s) address (`javascript:`, `file:`, a bare path) is
    dropped: readers are only ever linked to web pages. A date that is dropped or cut
    (`read_date`) adds (origin, why) to `notes`, the warnings the user is shown.
    """
    headline = plain_name(title)
    if headline is None:
        raise ParseError("article has no title")
    body = clean_paragraphs(paragraphs)
    if not body:
        raise ParseError("article has no body")
    published, note = read_date(published_at)
    if note and notes is not None:
        notes.append((origin, note))
    return Article(
        title=headline,
        paragraphs=body,
        outlet=plain_name(outlet),
        published_at=published,
        url=web_url(url),
        author=plain_name(author),
        origin=origin,
        item_key=item_key,
        canonical_url=web_url(canonical_url),
    )
