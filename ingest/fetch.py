"""Fetch a web page or feed that a Discord user named, without letting them reach our network.

Anyone on Discord chooses the URL, so every connection is guarded against SSRF: only http and
https, no credentials in the URL, and no connection to loopback, private, link-local (cloud
metadata at 169.254.169.254), multicast, reserved or otherwise non-global addresses. Redirects are
followed by hand so that each hop is checked the same way.

How DNS rebinding is avoided: the check runs inside the only place that opens sockets, a custom
`httpcore` network backend (`_GuardedBackend`) used through a small httpx transport. When httpcore
asks it to dial `host:port`, it resolves the host once, refuses unless *every* address passes
`check_address`, and then dials those same IP strings. There is no second lookup between the check
and the connect for a rebinding DNS server to answer differently, while the URL keeps its hostname,
so the Host header, SNI and certificate verification all use the name as usual. Because the guard
sits at the dialer, it also covers redirects and anything else httpx might connect for; the client
ignores proxy and .netrc settings from the environment (`trust_env=False`) so nothing bypasses it.
Refusals by this policy raise `FetchRefused`, a `FetchError`; every other failure a plain one.

Bounds on what a hostile server can make a fetch do. The body is read raw (httpx decodes nothing)
and may be identity or exactly one layer of gzip (`x-gzip` too), the only coding asked for; zstd,
br, deflate, stacked ("gzip, gzip") and unknown codings are refused before the body is read. The
bytes received and the bytes decoded are both capped at `max_bytes`, the decoded ones while
decoding: zlib is asked for at most 64 KiB at a time and never past `max_bytes` + 1, so a gzip
bomb stops there. A charset from the header, `<meta charset>` or an XML declaration (a byte-order
mark wins over them all) must be a WHATWG Encoding Standard label, as browsers use, looked up
with `webencodings`; other Python codecs (punycode is quadratic, utf-7 and unicode_escape turn
bytes into markup) are refused, and no declaration means UTF-8. Every allowed codec decodes in
linear time, and decoding counts towards `total_timeout`, as do DNS lookups, run in daemon
threads (at most 16 at once, all fetches together) because getaddrinfo has no timeout of its
own. So a fetch ends within `total_timeout` plus the time to decode one body (0.34 s for 5 MB in
the slowest codec, measured), and holds at most the decoded body plus its text (and, while
decoding, the codec's draft of it). Measured peaks (tracemalloc) at the default 5 MB: 6 MB for a
gzip bomb, 11 MB for an ASCII page, 21 MB for windows-1252 text, and 32 MB, the worst case, for
UTF-8 with one character outside the BMP, which makes the str 4 bytes a character: about
6 × `max_bytes`.
"""

from __future__ import annotations

import codecs
import functools
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal, NamedTuple

import certifi
import httpcore
import httpx
import webencodings

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SNIFF_BYTES = 4096
_STATUSES = frozenset(status.value for status in HTTPStatus)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
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
_LOOKUP_SLOTS = 16
_LOOKUPS = threading.BoundedSemaphore(_LOOKUP_SLOTS)  # DNS lookups running at once, all fetches


class FetchError(Exception):
    """A URL could not be fetched or was refused; str(e) is a one-line reason for an admin."""


class FetchRefused(FetchError):  # noqa: N818 - a kind of FetchError; callers import this name
    """The URL or an address was refused by policy (scheme, credentials, no host, a non-public
    address); it was never connected to."""


@dataclass(frozen=True)
class FetchPolicy:
    """What `fetch` may connect to and how long and how much it may read."""

    allow_loopback: bool = False  # NEWSBOT_FETCH_ALLOW_LOOPBACK: 127.0.0.0/8 and ::1 only
    loopback_ports: frozenset[int] | None = None  # when set, loopback only on these ports
    max_redirects: int = 5
    connect_timeout: float = 5.0
    total_timeout: float = 20.0  # the whole fetch, redirects and body included
    max_bytes: int = 5 * _MB
    user_agent: str = "newsbot/0.1 (news Q&A bot; +https://github.com/newsbot)"


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
        (_META_CHARSET, _XML_ENCODING),
    ),
    "feed": _Kind(
        frozenset(
            {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
            | {"application/xml", "text/xml"}
        ),
        "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
        "application/xml;q=0.8, text/xml;q=0.8",
        "an RSS or Atom feed",
        (_XML_ENCODING,),
    ),
}


def resolve(host: str, port: int) -> list[str]:
    """Return the IP addresses `host` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchError(f"cannot resolve {host}: {_oneline(error)}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no addresses")
    return addresses


def check_address(ip: str, port: int, policy: FetchPolicy) -> None:
    """Raise FetchRefused unless the policy lets `fetch` connect to `ip` on `port`."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise FetchRefused(f"refused: {ip!r} is not an IP address") from None
    kind = _special_kind(address)
    if kind is None:
        return
    if kind == "a loopback" and policy.allow_loopback:
        if policy.loopback_ports is None or port in policy.loopback_ports:
            return
        raise FetchRefused(f"refused: {ip} is a loopback address (port {port} is not allowed)")
    raise FetchRefused(f"refused: {ip} is {kind} address")


def _special_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Return what kind of non-public address this is ("a private", ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4-mapped address reaches the IPv4 host itself, so it is judged as that host.
        if address.ipv4_mapped is not None:
            return _special_kind(address.ipv4_mapped)
        # 6to4 and NAT64 gateways forward to the embedded IPv4 address.
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and (kind := _special_kind(embedded)):
            return kind
    # Order matters: loopback and link-local addresses also count as private, and the more
    # specific name tells an admin more.
    kinds = (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a shared (CGNAT)", address.version == 4 and address in _CGNAT),
        ("a site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private),
        ("a non-global", not address.is_global),
    )
    return next((name for name, matches in kinds if matches), None)


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
            "Accept-Encoding": "gzip",  # the only coding accepted, and decoded by _read_body
        }
        transport = _GuardedTransport(policy, deadline)
        with httpx.Client(
            transport=transport, headers=headers, timeout=timeout, trust_env=False
        ) as client:
            fetched, size = _follow(client, url, policy, kind, deadline)
    except FetchError as error:
        logger.info("fetch %s failed: %s", _oneline(url), error)
        raise
    except Exception as error:
        reason = _describe(error, policy, deadline)
        logger.info("fetch %s failed: %s", _oneline(url), reason)
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
        raise FetchError(f"invalid URL: {_oneline(error)}") from None
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
    gzipped = _is_gzipped(response.headers)
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _too_large(policy)
    body = _read_body(response, policy, deadline, gzipped=gzipped)
    charset = match.group(1) if (match := _CHARSET.search(header)) else None
    text, encoding = _decode(body, charset, _KINDS[kind].charset_patterns)
    # Every allowed codec decodes in linear time, so checking once it is done is a real bound.
    if time.monotonic() > deadline:
        raise _timed_out(policy)
    fetched = Fetched(str(response.url), response.status_code, media_type, text, encoding)
    return fetched, len(body)


def _too_large(policy: FetchPolicy) -> FetchError:
    limit = policy.max_bytes
    size = f"{limit // _MB} MB" if limit % _MB == 0 else f"{limit:,}-byte"
    return FetchError(f"response is larger than the {size} limit")


def _timed_out(policy: FetchPolicy) -> FetchError:
    return FetchError(f"timed out after {policy.total_timeout:g} s")


def _is_gzipped(headers: httpx.Headers) -> bool:
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


def _read_body(
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
            raise _too_large(policy)
        pending = chunk
        while inflater is not None and not inflater.eof:
            # At most _INFLATE_STEP bytes at a time and never past limit + 1 in all, so what is
            # held decoded is the body so far plus one small step. room is at least 1 here (a
            # max_length of 0 would mean "no limit").
            room = min(_INFLATE_STEP, limit + 1 - len(body))
            try:
                step = inflater.decompress(pending, room)
            except zlib.error as error:
                raise FetchError(f"corrupt gzip body: {_oneline(error)}") from None
            body += step
            if len(body) > limit:
                raise _too_large(policy)
            pending = inflater.unconsumed_tail
            if not pending and len(step) < room:
                break  # this chunk is all decoded; zlib needs more input for more output
        if inflater is None:
            body += chunk
        # Each socket read is already capped by the deadline (_DeadlineStream); this also stops a
        # server that keeps the reads short by trickling bytes.
        if time.monotonic() > deadline:
            raise _timed_out(policy)
    if inflater is not None and not inflater.eof:
        raise FetchError("corrupt gzip body: the compressed data ends early")
    return body


def _decode(
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


def _describe(error: Exception, policy: FetchPolicy, deadline: float) -> str:
    """Return a one-line reason for an exception raised by httpx or httpcore."""
    connect_timeout = isinstance(error, httpx.ConnectTimeout | httpcore.ConnectTimeout)
    if connect_timeout and time.monotonic() < deadline:
        return f"connection timed out after {policy.connect_timeout:g} s"
    if isinstance(error, httpx.TimeoutException | httpcore.TimeoutException):
        return f"timed out after {policy.total_timeout:g} s"
    if isinstance(error, httpx.ConnectError | httpcore.ConnectError):
        return f"cannot connect: {_oneline(error)}"
    if isinstance(error, httpx.InvalidURL):
        return f"invalid URL: {_oneline(error)}"
    return f"request failed: {type(error).__name__}: {_oneline(error)}"


def _oneline(value: object) -> str:
    """Return `value` as one line of at most 200 characters."""
    text = " ".join(str(value).split()) or type(value).__name__
    return text if len(text) <= 200 else text[:199] + "…"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Return one verifying TLS context (certifi's CAs, as httpx uses), built on first use."""
    return ssl.create_default_context(cafile=certifi.where())


def _remaining(deadline: float, timeout: float | None) -> float:
    """Return `timeout` capped by the time left before `deadline`; raise once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _GuardedBackend(httpcore.NetworkBackend):
    """Dial only addresses that passed `check_address`, resolving each host exactly once."""

    def __init__(self, policy: FetchPolicy, deadline: float) -> None:
        self._policy = policy
        self._deadline = deadline
        self._dialer = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve `host`, refuse unless every address is allowed, then dial those addresses."""
        addresses = [host] if _is_ip(host) else self._resolve(host, port, timeout)
        for address in addresses:
            check_address(address, port, self._policy)
        failure: Exception = FetchError(f"cannot connect to {host}: no addresses")
        for address in addresses:
            try:
                stream = self._dialer.connect_tcp(
                    address,
                    port,
                    timeout=_remaining(self._deadline, timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error  # try the next address, as browsers do
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """Run `resolve` in a daemon thread, waiting no longer than the connect or fetch limit.

        getaddrinfo has no timeout of its own. A lookup that outlives the wait goes on in its
        thread (a daemon one, so it never holds up the interpreter's exit) and keeps its slot in
        _LOOKUPS until it ends, so a silent resolver ties up at most _LOOKUP_SLOTS threads.
        """
        start = time.monotonic()
        left = self._deadline - start
        wait = left if timeout is None else min(timeout, left)
        if timeout is not None and timeout < left:
            reason = f"timed out resolving {host} after {timeout:g} s"
        else:
            reason = f"timed out after {self._policy.total_timeout:g} s (resolving {host})"
        slots = _LOOKUPS  # the thread releases the very semaphore it was admitted by
        if wait <= 0 or not slots.acquire(timeout=wait):
            raise FetchError(reason)
        outcome: list[list[str] | BaseException] = []
        done = threading.Event()

        def lookup() -> None:
            try:
                outcome.append(resolve(host, port))  # the module's, looked up now (tests patch it)
            except BaseException as error:
                outcome.append(error)
            finally:
                slots.release()
                done.set()

        try:
            threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
        except BaseException:
            slots.release()
            raise
        if not done.wait(max(0.0, start + wait - time.monotonic())):
            raise FetchError(reason)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result


class _DeadlineStream(httpcore.NetworkStream):
    """Cap every socket wait by the fetch's deadline, so a stalled server cannot outlast it."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(self._deadline, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(self._deadline, timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Upgrade to TLS (verifying `server_hostname`, the URL's host), keeping the deadline."""
        timeout = _remaining(self._deadline, timeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, timeout), self._deadline
        )

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _GuardedTransport(httpx.BaseTransport):
    """Send httpx requests through an httpcore pool that dials via `_GuardedBackend`.

    httpx's own HTTPTransport has no public way to choose the network backend, so this does the
    little it does: turn the httpx request into an httpcore one and wrap the response back.
    """

    def __init__(self, policy: FetchPolicy, deadline: float) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            retries=0,
            network_backend=_GuardedBackend(policy, deadline),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request and return its streamed response."""
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("an async request body was given to a sync transport")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseBody(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseBody(httpx.SyncByteStream):
    """An httpcore response body as an httpx stream."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


def _is_ip(host: str) -> bool:
    """Return whether `host` is an IP address literal rather than a name to resolve."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
