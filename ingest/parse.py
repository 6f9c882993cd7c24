"""Turn the raw bytes of one source file into `Article`s.

`parse_source` checks what every format needs (a known suffix, some text, a readable encoding)
and hands the decoded text to the parser for the suffix in `ingest.formats`. The helpers here
(`clean_paragraphs`, `normalize_date`, `build_article`) are shared by all format parsers so that
every source yields articles cleaned the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import PurePath

from retrieval.types import Article, web_url

logger = logging.getLogger(__name__)


class ParseError(ValueError):
    """A whole source could not be read; str(e) is a one-line reason for the user."""


@dataclass(frozen=True)
class ParsedSource:
    """The articles read from one source, and the items inside it that could not be read."""

    articles: list[Article]
    errors: list[tuple[str, str]]  # (origin, one-line reason), e.g. ("corpus.json[12]", "...")
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (origin, what was repaired)


SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})

_SPACE = re.compile(r"\s+")
# C0 controls other than tab, newline, vertical tab, form feed, carriage return and escape.
_CONTROL_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}) | {0x7F}
_C1_CONTROLS = re.compile(r"[\x80-\x9f]")
# Control characters other than whitespace (which clean_text collapses): never kept in text.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_STRAY_BYTES = 16  # at most this many invalid bytes in text that is otherwise UTF-8
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_BINARY_SAMPLE = 8192

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
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


def supported_list() -> str:
    """Return the supported suffixes as a comma-separated list for messages."""
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def parse_source(data: bytes, name: str) -> ParsedSource:
    """Parse one source file's bytes into articles, choosing the format by the suffix of `name`.

    Raises ParseError when nothing in the source can be read; problems with single items of
    a multi-article file (JSON lists, JSON lines) are returned in `errors` instead.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "without a suffix"
        raise ParseError(f"unsupported file type {shown} (supported: {supported_list()})")
    if not data.strip():
        raise ParseError("file is empty")
    text, replaced = _decode(data)
    if not text.strip():
        raise ParseError("file is empty")
    parsed = _parse_text(text, name, suffix)
    if replaced:
        parsed.warnings.append((name, f"{replaced} invalid UTF-8 byte(s) replaced with U+FFFD"))
    return parsed


def _parse_text(text: str, name: str, suffix: str) -> ParsedSource:
    # Imported here because `ingest.formats` builds on the helpers of this module.
    from ingest import formats

    if suffix in {".json", ".jsonl"}:
        parse_json = formats.parse_json_lines if suffix == ".jsonl" else formats.parse_json
        return parse_json(text, name)
    if suffix in {".html", ".htm"}:
        return ParsedSource([formats.parse_html(text, name)], [])
    if suffix == ".txt" and formats.is_seed(text):
        return ParsedSource([formats.parse_seed(text, name)], [])
    return ParsedSource([formats.parse_plain(text, name, markdown=suffix == ".md")], [])


def decode_text(data: bytes) -> str:
    """Decode a text file's bytes, guessing the encoding; raise ParseError for binary data.

    UTF-8 (with or without a BOM) is tried first, UTF-16 only when its BOM says so, then
    cp1252 (what Windows editors save "ANSI" text as), then latin-1 as the last resort.
    """
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, int]:
    """Return decode_text's text and how many invalid UTF-8 bytes in it were replaced."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ParseError(f"cannot decode UTF-16 text: {error.reason}") from error
        if "\x00" in text:
            raise ParseError("looks like a binary file, not text")
        return text, 0
    if _looks_binary(data):
        raise ParseError("looks like a binary file, not text")
    text = data.decode("utf-8-sig", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    # A few stray bytes in UTF-8 text are damage to replace, not a sign of another charset:
    # read as cp1252, every ’ “ ” of the file would become mojibake.
    if invalid == 0 or (invalid <= _STRAY_BYTES and _has_utf8_multibyte(data)):
        return text, invalid
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), 0
        except UnicodeDecodeError:
            continue
    text = data.decode("latin-1")
    # latin-1 decodes any byte; C1 controls in the result mean the bytes were not latin-1 text.
    if len(_C1_CONTROLS.findall(text)) > max(2, len(text) // 100):
        raise ParseError("cannot decode text (tried utf-8, cp1252, latin-1)")
    return text, 0


def _has_utf8_multibyte(data: bytes) -> bool:
    """Return whether the bytes hold well-formed UTF-8 sequences of two or more bytes."""
    return _UTF8_SEQUENCE.search(data) is not None


def _looks_binary(data: bytes) -> bool:
    """Return whether the bytes hold NULs or mostly control characters, as binary files do."""
    sample = data[:_BINARY_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return controls > len(sample) * 0.1


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


def normalize_date(value: object) -> str | None:
    """Return a publication date as an ISO string, or None when it cannot be understood.

    ISO dates and datetimes are kept as given, so a time and zone survive; other common forms
    ("Nov 27, 2023", "27 November 2023", RFC 2822) become `YYYY-MM-DD`.
    """
    text = optional_text(value)
    if text is None:
        return None
    iso = _ISO_DATE.match(text)
    if iso is None:
        return _parse_written_date(text)
    try:
        day = date.fromisoformat(iso[0])
    except ValueError:
        return None
    try:
        datetime.fromisoformat(text)
    except ValueError:
        # A valid day followed by a time Python cannot read: keep the day only.
        return day.isoformat()
    return text


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
) -> Article:
    """Return a cleaned Article; raise ParseError when it has no headline or no body.

    A url that is not an absolute http(s) address (`javascript:`, `file:`, a bare path) is
    dropped: readers are only ever linked to web pages.
    """
    headline = optional_text(title)
    if headline is None:
        raise ParseError("article has no title")
    body = clean_paragraphs(paragraphs)
    if not body:
        raise ParseError("article has no body")
    return Article(
        title=headline,
        paragraphs=body,
        outlet=optional_text(outlet),
        published_at=normalize_date(published_at),
        url=web_url(url),
        author=optional_text(author),
        origin=origin,
        item_key=item_key,
        canonical_url=web_url(canonical_url),
    )
