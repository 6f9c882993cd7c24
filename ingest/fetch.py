"""Fetch a web page or feed that a Discord user named, without letting them reach our network.

Three parts, each in its own module:
- `ingest.fetch_policy`: what a fetch may do (`FetchPolicy`) and how it fails (`FetchError`;
  refusals by policy are `FetchRefused`, the URL or address never connected to).
- `ingest.fetch_guard`: the only place that opens sockets, checking every address it dials
  (SSRF and DNS rebinding), and capping every wait by the fetch's deadline.
- `ingest.fetch_body`: reading the body within `max_bytes` (one layer of gzip at most, a gzip bomb
  stopped while inflating) and decoding it by WHATWG labels only.

This module follows redirects by hand, so that each hop's URL is checked the same way (only http
and https, no credentials, a host), and checks the status and content type. The client ignores
proxy and .netrc settings from the environment (`trust_env=False`) so nothing bypasses the guard.

So a fetch ends within `total_timeout` plus the time to decode one body (0.34 s for 5 MB in the
slowest codec, measured), and holds at most the decoded body plus its text (and, while decoding,
the codec's draft of it). Measured peaks (tracemalloc) at the default 5 MB: 6 MB for a gzip
bomb, 11 MB for an ASCII page, 21 MB for windows-1252 text, and 32 MB, the worst case, for UTF-8
with one character outside the BMP, which makes the str 4 bytes a character: about
6 × `max_bytes`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal, NamedTuple

import httpcore
import httpx

from ingest.fetch_body import (
    HEADER_CHARSET,
    META_CHARSET,
    XML_ENCODING,
    decode,
    is_gzipped,
    read_body,
)
from ingest.fetch_guard import GuardedTransport, check_address, resolve
from ingest.fetch_policy import (
    FetchError,
    FetchPolicy,
    FetchRefused,
    oneline,
    timed_out,
    too_large,
)

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchRefused",
    "Fetched",
    "check_address",
    "fetch",
    "resolve",
]

logger = logging.getLogger(__name__)

_STATUSES = frozenset(status.value for status in HTTPStatus)


@dataclass(frozen=True)
class Fetched:
    """A fetched document, decoded."""

    url: str  # final URL after redirects
    status: int
    content_type: str  # media type without parameters, lowercased
    text: str
    encoding: str


class _Kind(NamedTuple):
    media_types: frozenset[str]
    accept: str
    wanted: str
    charset_patterns: tuple[re.Pattern[bytes], ...]


_KINDS: dict[str, _Kind] = {
    "html": _Kind(
        frozenset({"text/html", "application/xhtml+xml"}),
        "text/html, application/xhtml+xml;q=0.9",
        "an HTML page",
        (META_CHARSET, XML_ENCODING),
    ),
    "feed": _Kind(
        frozenset(
            {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
            | {"application/xml", "text/xml"}
        ),
        "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
        "application/xml;q=0.8, text/xml;q=0.8",
        "an RSS or Atom feed",
        (XML_ENCODING,),
    ),
}


def fetch(url: str, policy: FetchPolicy, *, kind: Literal["html", "feed"]) -> Fetched:
    """Fetch an HTML page or a feed by URL, refusing anything the policy does not allow.

    Every failure, refusal or timeout raises FetchError with a one-line reason.
    """
    deadline = time.monotonic() + policy.total_timeout
    timeout = httpx.Timeout(policy.total_timeout, connect=policy.connect_timeout)
    try:
        headers = {
            "User-Agent": policy.user_agent,
            "Accept": _KINDS[kind].accept,
            "Accept-Encoding": "gzip",  # the only coding accepted, and decoded by read_body
        }
        transport = GuardedTransport(policy, deadline)
        with httpx.Client(
            transport=transport, headers=headers, timeout=timeout, trust_env=False
        ) as client:
            fetched, size = _follow(client, url, policy, kind, deadline)
    except FetchError as error:
        logger.info("fetch %s failed: %s", oneline(url), error)
        raise
    except Exception as error:
        reason = _describe(error, policy, deadline)
        logger.info("fetch %s failed: %s", oneline(url), reason)
        raise FetchError(reason) from error
    logger.info("fetched %s: status %d, %d bytes", fetched.url, fetched.status, size)
    return fetched


def _follow(
    client: httpx.Client, url: str, policy: FetchPolicy, kind: str, deadline: float
) -> tuple[Fetched, int]:
    """Request `url`, following up to max_redirects redirects, and read the final response."""
    current = _checked_url(url)
    for _ in range(policy.max_redirects + 1):
        with client.stream("GET", current) as response:
            if not response.is_redirect:
                return _read(response, policy, kind, deadline)
            location = response.headers["location"]
        current = _checked_url(location, base=current)
    raise FetchError(f"too many redirects (more than {policy.max_redirects})")


def _checked_url(url: str, base: httpx.URL | None = None) -> httpx.URL:
    """Parse `url` (relative to `base`, for redirects) and refuse schemes, credentials, no host.

    A URL that cannot be parsed at all is a plain FetchError; the refusals are FetchRefused.
    """
    try:
        parsed = base.join(url) if base is not None else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise FetchError(f"invalid URL: {oneline(error)}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("only http and https URLs are supported")
    if parsed.userinfo:
        raise FetchRefused("URLs with credentials (user:password@) are not allowed")
    if not parsed.host:
        raise FetchRefused("the URL has no host")
    return parsed


def _read(
    response: httpx.Response, policy: FetchPolicy, kind: str, deadline: float
) -> tuple[Fetched, int]:
    """Check the status, type, coding and size of a final response and decode its body."""
    if not response.is_success:
        phrase = (
            HTTPStatus(response.status_code).phrase if response.status_code in _STATUSES else ""
        )
        raise FetchError(f"HTTP {response.status_code} {phrase}".strip())
    header = response.headers.get("content-type", "")
    media_type = header.partition(";")[0].strip().lower()
    if media_type not in _KINDS[kind].media_types:
        shown = f"content type '{media_type[:80]}'" if media_type else "missing content type"
        prefix = "unexpected " if media_type else ""
        raise FetchError(f"{prefix}{shown} (wanted {_KINDS[kind].wanted})")
    gzipped = is_gzipped(response.headers)
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise too_large(policy)
    body = read_body(response, policy, deadline, gzipped=gzipped)
    charset = match.group(1) if (match := HEADER_CHARSET.search(header)) else None
    text, encoding = decode(body, charset, _KINDS[kind].charset_patterns)
    # Every allowed codec decodes in linear time, so checking once it is done is a real bound.
    if time.monotonic() > deadline:
        raise timed_out(policy)
    fetched = Fetched(str(response.url), response.status_code, media_type, text, encoding)
    return fetched, len(body)


def _describe(error: Exception, policy: FetchPolicy, deadline: float) -> str:
    """Return a one-line reason for an exception raised by httpx or httpcore."""
    connect_timeout = isinstance(error, httpx.ConnectTimeout | httpcore.ConnectTimeout)
    if connect_timeout and time.monotonic() < deadline:
        return f"connection timed out after {policy.connect_timeout:g} s"
    if isinstance(error, httpx.TimeoutException | httpcore.TimeoutException):
        return f"timed out after {policy.total_timeout:g} s"
    if isinstance(error, httpx.ConnectError | httpcore.ConnectError):
        return f"cannot connect: {oneline(error)}"
    if isinstance(error, httpx.InvalidURL):
        return f"invalid URL: {oneline(error)}"
    return f"request failed: {type(error).__name__}: {oneline(error)}"
