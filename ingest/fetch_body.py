"""Read a response body within its bounds, and decode it as a browser would, but safely.

The body is read raw (httpx decodes nothing) and may be identity or exactly one layer of gzip
(`x-gzip` too), the only coding asked for; zstd, br, deflate, stacked ("gzip, gzip") and unknown
codings are refused before the body is read. The bytes received and the bytes decoded are both
capped at `max_bytes`, the decoded ones while decoding: zlib is asked for at most 64 KiB at a time
and never past `max_bytes` + 1, so a gzip bomb stops there.

A charset from the header, `<meta charset>` or an XML declaration (a byte-order mark wins over them
all) must be a WHATWG Encoding Standard label, as browsers use, looked up with `webencodings`;
other Python codecs (punycode is quadratic, utf-7 and unicode_escape turn bytes into markup) are
refused, and no declaration means UTF-8. Every allowed codec decodes in linear time.
"""

from __future__ import annotations

import codecs
import re
import time
import zlib
from collections.abc import Iterable

import httpx
import webencodings

from ingest.fetch_policy import FetchError, FetchPolicy, oneline, timed_out, too_large

_SNIFF_BYTES = 4096
HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Encodings that WHATWG labels but that are not text: "replacement" (the hz-gb-2312 and
# iso-2022-kr/-cn labels, stateful encodings that can hide markup) and x-user-defined.
_NOT_TEXT = frozenset({"replacement", "x-user-defined"})
_UTF32 = re.compile(r"\s*utf[-_]?32([-_]?[lb]e)?\s*", re.IGNORECASE)  # not WHATWG; see _codec
_GZIP_CODINGS = frozenset({"gzip", "x-gzip"})
_INFLATE_STEP = 64 * 1024  # the most decoded bytes asked of zlib at once


def is_gzipped(headers: httpx.Headers) -> bool:
    """Return whether the body has one layer of gzip; refuse every other content coding.

    zstd, br, deflate, unknown and stacked codings ("gzip, gzip") are refused, never decoded:
    each layer multiplies what a small body can expand to, and only gzip is asked for.
    """
    value = ", ".join(headers.get_list("content-encoding"))
    codings = [coding.strip().lower() for coding in value.split(",") if coding.strip()]
    if codings in ([], ["identity"]):
        return False
    if len(codings) == 1 and codings[0] in _GZIP_CODINGS:
        return True
    shown = " ".join(value.split())
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    raise FetchError(f"unsupported content encoding '{shown}' (only gzip is accepted)")


def read_body(
    response: httpx.Response, policy: FetchPolicy, deadline: float, *, gzipped: bool
) -> bytearray:
    """Read the raw body, gunzipping it if `gzipped`, and refuse it once past max_bytes.

    Both the bytes received and the bytes decoded are capped, and the decoded size is capped
    while decoding: zlib is asked for at most 64 KiB at a time and never for more than one byte
    past the limit, so a small body that would expand to gigabytes stops at max_bytes + 1
    decoded bytes. Anything after the end of the gzip member is ignored.
    """
    limit = policy.max_bytes
    body = bytearray()
    received = 0
    inflater = zlib.decompressobj(wbits=31) if gzipped else None  # 31: gzip header and trailer
    # iter_raw, not iter_bytes: httpx must not decode anything itself.
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > limit:
            raise too_large(policy)
        pending = chunk
        while inflater is not None and not inflater.eof:
            # At most _INFLATE_STEP bytes at a time and never past limit + 1 in all, so what is
            # held decoded is the body so far plus one small step. room is at least 1 here (a
            # max_length of 0 would mean "no limit").
            room = min(_INFLATE_STEP, limit + 1 - len(body))
            try:
                step = inflater.decompress(pending, room)
            except zlib.error as error:
                raise FetchError(f"corrupt gzip body: {oneline(error)}") from None
            body += step
            if len(body) > limit:
                raise too_large(policy)
            pending = inflater.unconsumed_tail
            if not pending and len(step) < room:
                break  # this chunk is all decoded; zlib needs more input for more output
        if inflater is None:
            body += chunk
        # Each socket read is already capped by the deadline (in ingest.fetch_guard); this also
        # stops a server that keeps the reads short by trickling bytes.
        if time.monotonic() > deadline:
            raise timed_out(policy)
    if inflater is not None and not inflater.eof:
        raise FetchError("corrupt gzip body: the compressed data ends early")
    return body


def decode(
    body: bytearray, header_charset: str | None, patterns: Iterable[re.Pattern[bytes]]
) -> tuple[str, str]:
    """Decode a body by its BOM, the header's charset, the document's own declaration or UTF-8.

    Only WHATWG Encoding Standard labels are allowed; the first declaration found (the header's,
    then the document's) decides, and one that is not allowed refuses the body.
    """
    view = memoryview(body)  # decoded without copying the body first
    for bom, name in _BOMS:
        if body.startswith(bom):
            return str(view[len(bom) :], name, "replace"), name
    if header_charset:
        encoding = _codec(header_charset)
    else:
        head = bytes(view[:_SNIFF_BYTES])
        labels = [m.group(1).decode("ascii") for p in patterns if (m := p.search(head))]
        encoding = _codec(labels[0], declared_in_ascii=True) if labels else "utf-8"
    return str(view, encoding, "replace"), encoding


def _codec(label: str, *, declared_in_ascii: bool = False) -> str:
    """Return Python's codec name for a WHATWG charset label; refuse any other label.

    A document that declares UTF-16 or UTF-32 in a way readable as ASCII is not really in them,
    so such a declaration means UTF-8 (as in the WHATWG HTML standard).
    """
    if declared_in_ascii and _UTF32.fullmatch(label):
        return "utf-8"
    try:
        found = webencodings.lookup(label)
    except LookupError:  # a label webencodings knows but Python has no codec for
        found = None
    if found is None or found.name in _NOT_TEXT:
        shown = label if len(label) <= 40 else label[:39] + "…"
        raise FetchError(f"unsupported charset '{shown}'")
    if declared_in_ascii and found.name in ("utf-16le", "utf-16be"):
        return "utf-8"
    return str(found.codec_info.name)
