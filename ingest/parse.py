"""Turn the raw bytes of one source file into `Article`s.

`parse_source` checks what every format needs (a known suffix, some text, a readable encoding)
and hands the decoded text to the parser for the suffix in `ingest.formats`; the pieces every
parser shares are in `ingest.article`.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePath

from ingest import formats
from ingest.article import ParsedSource, ParseError

logger = logging.getLogger(__name__)


SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})

# C0 controls other than tab, newline, vertical tab, form feed, carriage return and escape.
_CONTROL_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}) | {0x7F}
_C1_CONTROLS = re.compile(r"[\x80-\x9f]")
_STRAY_BYTES = 16  # at most this many invalid bytes in text that is otherwise UTF-8
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_BINARY_SAMPLE = 8192


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
    if suffix in {".json", ".jsonl"}:
        parse_json = formats.parse_json_lines if suffix == ".jsonl" else formats.parse_json
        return parse_json(text, name)
    notes: list[tuple[str, str]] = []  # a date dropped or cut: shown among the warnings
    if suffix in {".html", ".htm"}:
        return ParsedSource([formats.parse_html(text, name, notes=notes)], [], notes)
    if suffix == ".txt" and formats.is_seed(text):
        return ParsedSource([formats.parse_seed(text, name, notes=notes)], [], notes)
    article = formats.parse_plain(text, name, markdown=suffix == ".md", notes=notes)
    return ParsedSource([article], [], notes)


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
