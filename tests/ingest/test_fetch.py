"""Fetching user-given URLs safely: decoding, content types, limits and the SSRF guard.

Only loopback traffic is allowed from these tests. The guard must refuse every other address
before connecting; `_loopback_only` fails any test that tries, and names that should resolve to
other addresses come from a patched `ingest.fetch_guard.resolve`, never from DNS.
"""

from __future__ import annotations

import gzip
import logging
import selectors
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import httpcore
import pytest
import werkzeug.serving
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingest import fetch as fetch_module
from ingest import fetch_guard
from ingest.fetch import FetchError, FetchPolicy, FetchRefused, check_address, fetch, resolve

HTML = "text/html"
WANT_HTML = "(wanted an HTML page)"
TLS_HOST = "news.example.test"
PAGE = "<html><head><title>Today</title></head><body><p>Caf\u00e9 news</p></body></html>"
RSS = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>'
    "<rss><channel><title>Caf\u00e9 feed</title><item><title>One</title></item></channel></rss>"
)


@pytest.fixture
def policy(httpserver: HTTPServer) -> FetchPolicy:
    """Return a policy that allows only the test server's loopback port, with small limits."""
    return FetchPolicy(
        allow_loopback=True,
        loopback_ports=frozenset({httpserver.port}),
        total_timeout=2,
        max_bytes=100_000,
    )


def other_port(httpserver: HTTPServer) -> int:
    """Return a port number that is not the test server's."""
    return httpserver.port + 1 if httpserver.port < 65535 else httpserver.port - 1


def refusal(url: str, policy: FetchPolicy, kind: str = "html") -> str:
    """Return the reason `fetch` gives for refusing or failing on `url`."""
    with pytest.raises(FetchError) as caught:
        fetch(url, policy, kind=kind)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.fixture
def measured_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str, FetchPolicy], tuple[str, int, float]]:
    """Return a function giving the reason `fetch` gives for a URL, its peak memory and seconds.

    tracemalloc sees every allocation in the process, the test server's thread included, so the
    peak is an upper bound on what the fetch held. One server allocation is kept out of it:
    after responding, werkzeug drains the connection with rfile.read(10_000_000), a 10 MB buffer
    whenever the client has already closed. These GET requests have nothing to drain.
    """

    class NoDrain(selectors.DefaultSelector):
        def select(self, timeout: float | None = None) -> list[Any]:
            return []

    monkeypatch.setattr(
        werkzeug.serving,
        "selectors",
        SimpleNamespace(DefaultSelector=NoDrain, EVENT_READ=selectors.EVENT_READ),
    )

    def measure(url: str, policy: FetchPolicy) -> tuple[str, int, float]:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            started = time.monotonic()
            reason = refusal(url, policy)
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        return reason, peak, elapsed

    return measure


# Decoding and headers


def test_html_page_is_decoded_with_the_charset_from_the_header(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/page").respond_with_data(
        PAGE.encode("utf-8"), content_type="text/html; charset=UTF-8"
    )

    page = fetch(httpserver.url_for("/page"), policy, kind="html")

    assert page.text == PAGE
    assert (page.status, page.content_type, page.encoding) == (200, "text/html", "utf-8")
    assert page.url == httpserver.url_for("/page")


def test_requests_describe_the_bot_and_ask_for_the_kind_and_gzip(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")

    fetch(httpserver.url_for("/feed"), policy, kind="feed")

    request = httpserver.log[0][0]
    assert request.headers["User-Agent"] == policy.user_agent
    assert request.headers["Accept"].startswith("application/rss+xml")
    assert request.headers["Accept-Encoding"] == "gzip"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1252">',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    ],
)
def test_charset_from_a_meta_tag_decodes_windows_1252_smart_quotes(
    httpserver: HTTPServer, policy: FetchPolicy, meta: str
) -> None:
    html = f"<html><head>{meta}</head><body>\u201cQuoted\u201d \u2014 it\u2019s news</body></html>"
    httpserver.expect_request("/page").respond_with_data(html.encode("cp1252"), content_type=HTML)

    page = fetch(httpserver.url_for("/page"), policy, kind="html")

    assert page.text == html
    assert page.encoding == "cp1252"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        # Browsers read latin-1 labels as windows-1252, and so do we.
        ("text/html; charset=iso-8859-1", b"\x93hi\x94", ("\u201chi\u201d", "cp1252")),
        (HTML, b"caf\xc3\xa9", ("caf\u00e9", "utf-8")),  # nothing declared: UTF-8
        (HTML, b"bad \xff byte", ("bad \ufffd byte", "utf-8")),  # undecodable bytes replaced
        (HTML, b"\xef\xbb\xbfcaf\xc3\xa9", ("caf\u00e9", "utf-8")),  # the BOM wins
        ("text/html; charset=windows-1251", b"\xef\xbb\xbfok", ("ok", "utf-8")),  # even so
        # A document readable as ASCII is not in UTF-16 or UTF-32, whatever it says.
        (
            HTML,
            b'<meta charset="utf-16">caf\xc3\xa9',
            ('<meta charset="utf-16">caf\u00e9', "utf-8"),
        ),
        (
            HTML,
            b'<meta charset="UTF-32LE">caf\xc3\xa9',
            ('<meta charset="UTF-32LE">caf\u00e9', "utf-8"),
        ),
        # The header's charset wins, so a document's own (even a refused one) is not used.
        (
            "text/html; charset=utf-8",
            b'<meta charset="punycode">caf\xc3\xa9',
            ('<meta charset="punycode">caf\u00e9', "utf-8"),
        ),
    ],
)
def test_charset_fallbacks(
    httpserver: HTTPServer,
    policy: FetchPolicy,
    content_type: str,
    body: bytes,
    expected: tuple[str, str],
) -> None:
    httpserver.expect_request("/page").respond_with_data(body, content_type=content_type)

    page = fetch(httpserver.url_for("/page"), policy, kind="html")

    assert (page.text, page.encoding) == expected


@pytest.mark.parametrize(
    ("label", "text", "encoding"),
    [
        # WHATWG labels: latin-1 and ascii mean windows-1252, as in browsers.
        ("latin1", "\u201cCaf\u00e9\u201d \u2014 news", "cp1252"),
        ("US-ASCII", "\u201cquoted\u201d", "cp1252"),
        ("windows-1251", "\u041d\u043e\u0432\u043e\u0441\u0442\u0438", "cp1251"),
        ("shift_jis", "\u30cb\u30e5\u30fc\u30b9", "cp932"),
        ("gbk", "\u65b0\u95fb", "gbk"),
        ("utf8", "caf\u00e9 \u2713", "utf-8"),
    ],
)
def test_whatwg_charset_labels_are_decoded(
    httpserver: HTTPServer, policy: FetchPolicy, label: str, text: str, encoding: str
) -> None:
    html = f"<html><body><p>{text}</p></body></html>"
    httpserver.expect_request("/page").respond_with_data(
        html.encode(encoding), content_type=f"text/html; charset={label}"
    )

    page = fetch(httpserver.url_for("/page"), policy, kind="html")

    assert (page.text, page.encoding) == (html, encoding)


@pytest.mark.parametrize(
    "label",
    [
        # Python codecs that are not WHATWG encodings: punycode is quadratic (5 KB took minutes),
        # the others turn plain bytes into markup or are not text codecs at all.
        "punycode",
        "utf-7",
        "unicode_escape",
        "idna",
        "base64",
        "no-such-charset",
        # WHATWG labels for encodings that are not text ("replacement", x-user-defined).
        "x-user-defined",
        "iso-2022-kr",
        "hz-gb-2312",
    ],
)
def test_charsets_that_are_not_whatwg_text_encodings_are_refused_quickly(
    httpserver: HTTPServer, policy: FetchPolicy, label: str
) -> None:
    body = b"<p>" + b"caf\xc3\xa9 news " * 400 + b"</p>"  # about 5 KB
    httpserver.expect_request("/page").respond_with_data(
        body, content_type=f"text/html; charset={label}"
    )

    started = time.monotonic()
    reason = refusal(httpserver.url_for("/page"), policy)

    assert reason == f"unsupported charset '{label}'"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("kind", "content_type", "body"),
    [
        ("html", HTML, b'<html><head><meta charset="punycode"></head><body>caf\xc3\xa9</body>'),
        (
            "feed",
            "application/rss+xml",
            b'<?xml version="1.0" encoding="punycode"?><rss><channel></channel></rss>',
        ),
    ],
)
def test_a_document_declaring_a_charset_that_is_not_allowed_is_refused(
    httpserver: HTTPServer, policy: FetchPolicy, kind: str, content_type: str, body: bytes
) -> None:
    httpserver.expect_request("/doc").respond_with_data(body, content_type=content_type)

    assert refusal(httpserver.url_for("/doc"), policy, kind) == "unsupported charset 'punycode'"


def test_decoding_counts_towards_the_time_limit(
    httpserver: HTTPServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_decode = fetch_module.decode

    def slow_decode(*args: Any) -> tuple[str, str]:
        time.sleep(0.6)
        return real_decode(*args)

    monkeypatch.setattr(fetch_module, "decode", slow_decode)
    httpserver.expect_request("/page").respond_with_data(PAGE, content_type=HTML)

    reason = refusal(httpserver.url_for("/page"), replace(policy, total_timeout=0.5))

    assert reason == "timed out after 0.5 s"


# Content encodings

BOMB_SIZE = 64 * 1024 * 1024  # zeros; gzipped, about 64 KB: under the 100,000-byte raw limit


def compressed(compressor: Any, size: int = BOMB_SIZE) -> bytes:
    """Return `size` zero bytes compressed by `compressor`, fed 1 MiB at a time."""
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join([*parts, compressor.flush()])


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """Return 64 MiB of zeros as one gzip member, built once for the module."""
    return compressed(zlib.compressobj(9, zlib.DEFLATED, 31))


@pytest.fixture(scope="module")
def zstd_bomb() -> bytes:
    """Return 64 MiB of zeros as zstd if zstandard is installed (else bytes that are not zstd)."""
    try:
        import zstandard
    except ImportError:
        return b"(zstd) " * 1000
    return compressed(zstandard.ZstdCompressor(level=19).compressobj())


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "GZip", "identity", None], ids=str)
def test_identity_and_one_layer_of_gzip_are_decoded(
    httpserver: HTTPServer, policy: FetchPolicy, coding: str | None
) -> None:
    body = PAGE.encode("utf-8")
    headers = {}
    if coding is not None:
        headers["Content-Encoding"] = coding
        body = body if coding == "identity" else gzip.compress(body)
    httpserver.expect_request("/page").respond_with_data(
        body, content_type="text/html; charset=utf-8", headers=headers
    )

    page = fetch(httpserver.url_for("/page"), policy, kind="html")

    assert page.text == PAGE


def test_gzip_body_larger_than_one_decoding_step_is_decoded_whole(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    html = "<html><body>" + "<p>Caf\u00e9 news, again and again.</p>" * 2600 + "</body></html>"
    body = html.encode("utf-8")
    assert 64 * 1024 < len(body) <= policy.max_bytes  # several 64 KiB steps, under the limit
    httpserver.expect_request("/page").respond_with_data(
        gzip.compress(body), content_type=HTML, headers={"Content-Encoding": "gzip"}
    )

    assert fetch(httpserver.url_for("/page"), policy, kind="html").text == html


def test_data_after_the_gzip_member_is_ignored(httpserver: HTTPServer, policy: FetchPolicy) -> None:
    httpserver.expect_request("/page").respond_with_data(
        gzip.compress(PAGE.encode("utf-8")) + b"trailing garbage",
        content_type="text/html; charset=utf-8",
        headers={"Content-Encoding": "gzip"},
    )

    assert fetch(httpserver.url_for("/page"), policy, kind="html").text == PAGE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not gzip at all", "corrupt gzip body: Error -3 while decompressing data: incorrect"),
        (
            gzip.compress(b"")[:10] + b"\xff" * 20,  # a gzip header, then no valid deflate block
            "corrupt gzip body: Error -3 while decompressing data: invalid block type",
        ),
        (gzip.compress(PAGE.encode())[:-12], "corrupt gzip body: the compressed data ends early"),
    ],
)
def test_corrupt_gzip_is_a_one_line_fetch_error(
    httpserver: HTTPServer, policy: FetchPolicy, body: bytes, reason: str
) -> None:
    httpserver.expect_request("/page").respond_with_data(
        body, content_type=HTML, headers={"Content-Encoding": "gzip"}
    )

    got = refusal(httpserver.url_for("/page"), policy)

    assert got.startswith(reason)
    assert "\n" not in got


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_gzip_bomb_is_refused_while_decoding(
    httpserver: HTTPServer,
    policy: FetchPolicy,
    measured_refusal: Callable[[str, FetchPolicy], tuple[str, int, float]],
    gzip_bomb: bytes,
    chunked: bool,
) -> None:
    # 64 KB that gunzips to 64 MiB: under the raw limit, so only the decoded size can stop it.
    assert len(gzip_bomb) < policy.max_bytes

    def handler(request: Request) -> Response:
        parts = (gzip_bomb[i : i + 8192] for i in range(0, len(gzip_bomb), 8192))
        body: Any = parts if chunked else gzip_bomb
        return Response(body, content_type=HTML, headers={"Content-Encoding": "gzip"})

    httpserver.expect_request("/bomb").respond_with_handler(handler)

    reason, peak, elapsed = measured_refusal(httpserver.url_for("/bomb"), policy)

    assert reason == "response is larger than the 100,000-byte limit"
    # What may be held at once: the decoded body (at most max_bytes + 1, plus bytearray's
    # slack), one 64 KiB step from zlib, a 64 KiB read, zlib's 32 KiB window and state, httpx's
    # and the server's bookkeeping (about 100 KB when no body is read at all). Measured: about
    # 0.6 MB. So 2 * max_bytes + 1 MB; letting httpx decode, as before, held the whole 64 MiB.
    assert peak < 2 * policy.max_bytes + 1024 * 1024, f"peak {peak:,} bytes"
    assert elapsed < 1


@pytest.fixture(scope="module")
def encoded_bombs(gzip_bomb: bytes, zstd_bomb: bytes) -> dict[str, bytes]:
    """Return a body for each content coding that must be refused, most of them bombs."""
    try:
        import zstandard

        zstd_twice = zstandard.ZstdCompressor().compress(zstd_bomb)
    except ImportError:
        zstd_twice = zstd_bomb
    return {
        "gzip, gzip": gzip.compress(gzip_bomb),
        "gzip,x-gzip": gzip.compress(gzip_bomb),
        "identity, gzip": gzip_bomb,
        "zstd": zstd_bomb,
        "zstd, zstd": zstd_twice,
        "br": b"(brotli) " * 1000,
        "deflate": zlib.compress(bytes(BOMB_SIZE), 9),
        "compress": b"(lzw) " * 1000,
        "x-unknown": b"?" * 1000,
    }


@pytest.mark.parametrize(
    "coding",
    [
        "gzip, gzip",
        "gzip,x-gzip",
        "identity, gzip",
        "zstd",
        "zstd, zstd",
        "br",
        "deflate",
        "compress",
        "x-unknown",
    ],
)
def test_other_content_encodings_are_refused_without_decoding(
    httpserver: HTTPServer,
    policy: FetchPolicy,
    measured_refusal: Callable[[str, FetchPolicy], tuple[str, int, float]],
    encoded_bombs: dict[str, bytes],
    coding: str,
) -> None:
    httpserver.expect_request("/bomb").respond_with_data(
        encoded_bombs[coding], content_type=HTML, headers={"Content-Encoding": coding}
    )

    reason, peak, elapsed = measured_refusal(httpserver.url_for("/bomb"), policy)

    assert reason == f"unsupported content encoding '{coding}' (only gzip is accepted)"
    assert peak < 1024 * 1024, f"peak {peak:,} bytes"  # the body is never read
    assert elapsed < 1


def test_gzip_named_twice_in_separate_headers_is_stacked_and_refused(
    httpserver: HTTPServer, policy: FetchPolicy, encoded_bombs: dict[str, bytes]
) -> None:
    response = Response(encoded_bombs["gzip, gzip"], content_type=HTML)
    response.headers.add("Content-Encoding", "gzip")
    response.headers.add("Content-Encoding", "gzip")
    httpserver.expect_request("/bomb").respond_with_response(response)

    reason = refusal(httpserver.url_for("/bomb"), policy)

    assert reason == "unsupported content encoding 'gzip, gzip' (only gzip is accepted)"


# Content types and statuses


def test_rss_feed_is_accepted_and_decoded_by_its_xml_declaration(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        RSS.encode("iso-8859-1"), content_type="application/rss+xml"
    )

    feed = fetch(httpserver.url_for("/feed"), policy, kind="feed")

    assert feed.text == RSS
    assert (feed.content_type, feed.encoding) == ("application/rss+xml", "cp1252")


@pytest.mark.parametrize(
    ("content_type", "kind", "reason"),
    [
        (HTML, "feed", "unexpected content type 'text/html' (wanted an RSS or Atom feed)"),
        ("application/pdf", "html", f"unexpected content type 'application/pdf' {WANT_HTML}"),
        (
            "application/rss+xml",
            "html",
            f"unexpected content type 'application/rss+xml' {WANT_HTML}",
        ),
        ("", "html", f"missing content type {WANT_HTML}"),
    ],
)
def test_wrong_content_types_are_refused(
    httpserver: HTTPServer, policy: FetchPolicy, content_type: str, kind: str, reason: str
) -> None:
    response = Response(b"%PDF-1.7", content_type=content_type)
    if not content_type:
        del response.headers["Content-Type"]
    httpserver.expect_request("/doc").respond_with_response(response)

    assert refusal(httpserver.url_for("/doc"), policy, kind) == reason


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_error_statuses_are_reported(
    httpserver: HTTPServer, policy: FetchPolicy, status: int, reason: str
) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=status, content_type=HTML)

    assert refusal(httpserver.url_for("/gone"), policy) == reason


# Redirects


def test_redirect_chain_is_followed_and_the_final_url_reported(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    final = httpserver.url_for("/news/final")
    httpserver.expect_request("/start").respond_with_data(
        "",
        status=302,
        headers={"Location": "news/middle"},  # relative to the current URL
    )
    httpserver.expect_request("/news/middle").respond_with_data(
        "", status=301, headers={"Location": final}
    )
    httpserver.expect_request("/news/final").respond_with_data(PAGE, content_type=HTML)

    page = fetch(httpserver.url_for("/start"), policy, kind="html")

    assert (page.url, page.text) == (final, PAGE)


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (
            "http://127.0.0.1:{other}/",
            "refused: 127.0.0.1 is a loopback address (port {other} is not allowed)",
        ),
        (
            "http://[::1]:{other}/",
            "refused: ::1 is a loopback address (port {other} is not allowed)",
        ),
        ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is a link-local address",
        ),
        ("ftp://127.0.0.1/file", "only http and https URLs are supported"),
    ],
)
def test_redirects_to_forbidden_places_are_refused_before_connecting(
    httpserver: HTTPServer, policy: FetchPolicy, location: str, reason: str
) -> None:
    other = other_port(httpserver)
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": location.format(other=other)}
    )

    assert refusal(httpserver.url_for("/go"), policy) == reason.format(other=other)
    assert len(httpserver.log) == 1


def test_redirect_loop_stops_after_max_redirects(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )

    assert refusal(httpserver.url_for("/loop"), policy) == "too many redirects (more than 5)"
    assert len(httpserver.log) == 6  # the first request and five redirects


# Addresses and URLs


def test_default_policy_refuses_the_loopback_test_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data(PAGE, content_type=HTML)

    reason = refusal(httpserver.url_for("/page"), FetchPolicy())

    assert reason == "refused: 127.0.0.1 is a loopback address"
    assert httpserver.log == []


def test_a_name_with_any_private_address_is_refused_without_connecting(
    monkeypatch: pytest.MonkeyPatch, policy: FetchPolicy
) -> None:
    dialled: list[str] = []
    monkeypatch.setattr(fetch_guard, "resolve", lambda host, port: ["93.184.216.34", "10.1.2.3"])
    monkeypatch.setattr(
        httpcore.SyncBackend, "connect_tcp", lambda self, host, *a, **k: dialled.append(host)
    )

    reason = refusal("http://news.example.test/article", policy)

    assert reason == "refused: 10.1.2.3 is a private address"
    assert dialled == []


def test_resolve_lists_each_address_once_and_reports_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tcp = (socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
    answers = [
        (socket.AF_INET, *tcp, ("10.0.0.1", 80)),
        (socket.AF_INET6, *tcp, ("::1", 80, 0, 0)),
        (socket.AF_INET, *tcp, ("10.0.0.1", 80)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    assert resolve("news.example.test", 80) == ["10.0.0.1", "::1"]

    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(FetchError, match=r"^cannot resolve news\.example\.test: .*not known$"):
        resolve("news.example.test", 80)


@pytest.fixture
def silent_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make `resolve` hang (as a resolver that never answers does); return the names asked for.

    The hung lookups are released at teardown, so their threads end.
    """
    asked: list[str] = []
    release = threading.Event()

    def hang(host: str, port: int) -> list[str]:
        asked.append(host)
        release.wait(30)
        return ["127.0.0.1"]

    monkeypatch.setattr(fetch_guard, "resolve", hang)
    yield asked
    release.set()


def test_a_silent_resolver_times_out_at_the_overall_deadline(
    httpserver: HTTPServer, policy: FetchPolicy, silent_resolver: list[str]
) -> None:
    url = f"http://news.example.test:{httpserver.port}/"

    started = time.monotonic()
    reason = refusal(url, replace(policy, total_timeout=1))
    elapsed = time.monotonic() - started

    assert reason == "timed out after 1 s (resolving news.example.test)"
    assert elapsed < 1.5
    assert silent_resolver == ["news.example.test"]
    assert httpserver.log == []


def test_a_silent_resolver_times_out_at_the_connect_timeout_when_that_is_sooner(
    httpserver: HTTPServer, policy: FetchPolicy, silent_resolver: list[str]
) -> None:
    url = f"http://news.example.test:{httpserver.port}/"

    started = time.monotonic()
    reason = refusal(url, replace(policy, connect_timeout=0.5, total_timeout=5))

    assert reason == "timed out resolving news.example.test after 0.5 s"
    assert time.monotonic() - started < 1


def test_a_fetch_waiting_for_a_free_lookup_slot_times_out_too(
    httpserver: HTTPServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(fetch_guard, "_LOOKUPS", slots)
    monkeypatch.setattr(fetch_guard, "resolve", lambda host, port: ["127.0.0.1"])
    url = f"http://news.example.test:{httpserver.port}/"
    assert slots.acquire(blocking=False)  # every slot is taken by hung lookups
    try:
        started = time.monotonic()
        reason = refusal(url, replace(policy, total_timeout=0.5))
    finally:
        slots.release()

    assert reason == "timed out after 0.5 s (resolving news.example.test)"
    assert time.monotonic() - started < 1
    assert httpserver.log == []


def test_a_lookup_error_in_the_resolver_thread_is_the_usual_reason(
    policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []

    def fail(*args: object, **kwargs: object) -> None:
        threads.append(threading.current_thread())
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    reason = refusal("http://news.example.test/", policy)

    assert reason == "cannot resolve news.example.test: [Errno -2] Name or service not known"
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
    assert threads[0].daemon  # a hung lookup must not keep the process from exiting


def test_refusals_by_policy_are_fetch_refused(
    httpserver: HTTPServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_guard, "resolve", lambda host, port: ["10.1.2.3"])
    httpserver.expect_request("/gone").respond_with_data("no", status=404, content_type=HTML)

    for url, reason in [
        ("ftp://127.0.0.1/file", "only http and https URLs are supported"),
        ("http://news.example.test/", "refused: 10.1.2.3 is a private address"),
    ]:
        with pytest.raises(FetchRefused, match=f"^{reason}$") as caught:
            fetch(url, policy, kind="html")
        assert isinstance(caught.value, FetchError)
    with pytest.raises(FetchRefused):
        check_address("169.254.169.254", 80, FetchPolicy())

    # Failures that are not refusals stay plain FetchErrors.
    for url in (httpserver.url_for("/gone"), "http://[::1/"):
        with pytest.raises(FetchError) as failed:
            fetch(url, policy, kind="html")
        assert not isinstance(failed.value, FetchRefused)


def test_a_name_is_resolved_once_and_its_checked_address_dialled_with_the_original_host(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, policy: FetchPolicy
) -> None:
    # A rebinding resolver would answer differently the second time; there must not be one.
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    lookups: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return next(answers)

    monkeypatch.setattr(fetch_guard, "resolve", resolve)
    httpserver.expect_request("/page").respond_with_data(PAGE, content_type=HTML)
    url = f"http://news.example.test:{httpserver.port}/page"

    page = fetch(url, policy, kind="html")

    assert (page.url, page.text) == (url, PAGE)
    assert lookups == [("news.example.test", httpserver.port)]
    assert httpserver.log[0][0].headers["Host"] == f"news.example.test:{httpserver.port}"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Return a self-signed certificate and key for news.example.test (and no IP address)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={TLS_HOST}", "-addext",
         f"subjectAltName=DNS:{TLS_HOST}", "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_server(
    tls_files: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[HTTPServer]:
    """Serve HTTPS on 127.0.0.1 with the test certificate, which the fetcher is made to trust."""
    cert, key = tls_files
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setattr(
        fetch_guard, "_ssl_context", lambda: ssl.create_default_context(cafile=cert)
    )
    monkeypatch.setattr(fetch_guard, "resolve", lambda host, port: ["127.0.0.1"])
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_https_dials_the_checked_address_but_verifies_the_hostname(
    https_server: HTTPServer, policy: FetchPolicy
) -> None:
    https_server.expect_request("/page").respond_with_data(PAGE, content_type=HTML)
    allowed = replace(policy, loopback_ports=frozenset({https_server.port}))
    url = f"https://{TLS_HOST}:{https_server.port}/page"

    page = fetch(url, allowed, kind="html")

    # The certificate names only the host, so verification passing shows SNI and the
    # hostname check used the name although the socket went to 127.0.0.1.
    assert (page.url, page.text) == (url, PAGE)
    assert https_server.log[0][0].headers["Host"] == f"{TLS_HOST}:{https_server.port}"


def test_tls_errors_are_fetch_errors(https_server: HTTPServer, policy: FetchPolicy) -> None:
    allowed = replace(policy, loopback_ports=frozenset({https_server.port}))

    reason = refusal(f"https://127.0.0.1:{https_server.port}/page", allowed)

    assert reason.startswith("cannot connect: ")
    assert "CERTIFICATE_VERIFY_FAILED" in reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/file.txt", "only http and https URLs are supported"),
        ("file:///etc/passwd", "only http and https URLs are supported"),
        ("127.0.0.1/page", "only http and https URLs are supported"),
        ("http://user:secret@127.0.0.1/", "URLs with credentials (user:password@) are not allowed"),
        ("http:///page", "the URL has no host"),
    ],
)
def test_unsupported_urls_are_refused(url: str, reason: str, policy: FetchPolicy) -> None:
    assert refusal(url, policy) == reason


def test_invalid_url_is_a_fetch_error(policy: FetchPolicy) -> None:
    assert refusal("http://[::1/", policy).startswith("invalid URL: ")


def test_connection_refused_is_a_fetch_error(policy: FetchPolicy) -> None:
    with socket.socket() as listener:  # find a loopback port that nothing listens on
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    closed = replace(policy, loopback_ports=frozenset({port}))

    reason = refusal(f"http://127.0.0.1:{port}/", closed)

    assert reason.startswith("cannot connect: ")
    assert "refused" in reason.lower()


# Size and time limits


def test_body_larger_than_the_limit_by_content_length_is_refused(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 200_000, content_type=HTML)

    reason = refusal(httpserver.url_for("/big"), policy)

    assert reason == "response is larger than the 100,000-byte limit"


def test_chunked_body_is_cut_off_once_past_the_limit(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"x" * 10_000

    def handler(request: Request) -> Response:
        return Response(chunks(), content_type=HTML)  # no Content-Length: sent chunked

    httpserver.expect_request("/big").respond_with_handler(handler)

    reason = refusal(httpserver.url_for("/big"), policy)

    assert reason == "response is larger than the 100,000-byte limit"
    assert "Content-Length" not in httpserver.log[0][1].headers


def test_default_limit_is_named_in_megabytes(httpserver: HTTPServer) -> None:
    small = FetchPolicy(allow_loopback=True, max_bytes=1024 * 1024)
    httpserver.expect_request("/big").respond_with_data(b"x" * 2_000_000, content_type=HTML)

    assert refusal(httpserver.url_for("/big"), small) == "response is larger than the 1 MB limit"


BODY_S = 10.0  # how long the slow bodies below would take: far past the 2-second deadline


def trickle() -> Iterator[bytes]:
    """Yield a byte every 0.2 s: each read is quick, but the body never ends in time."""
    for _ in range(int(BODY_S / 0.2)):
        yield b"."
        time.sleep(0.2)


def stall() -> Iterator[bytes]:
    """Yield a little, then go quiet for longer than the whole deadline."""
    yield b"<html>"
    time.sleep(BODY_S)
    yield b"</html>"


@pytest.mark.parametrize("body", [trickle, stall])
def test_slow_body_fails_at_the_overall_deadline(
    httpserver: HTTPServer, policy: FetchPolicy, body: object
) -> None:
    assert callable(body)
    httpserver.expect_request("/slow").respond_with_handler(
        lambda request: Response(body(), content_type=HTML)
    )

    started = time.monotonic()
    reason = refusal(httpserver.url_for("/slow"), policy)

    assert reason == "timed out after 2 s"
    # Given up at the deadline, long before the body would end (a loaded machine's margin).
    assert time.monotonic() - started < (policy.total_timeout + BODY_S) / 2


def test_deadline_covers_the_whole_fetch_not_each_request(
    httpserver: HTTPServer, policy: FetchPolicy
) -> None:
    """A redirect that takes 1.5 s, then a body that takes 1 s: each request is within the
    2-second deadline, the whole fetch is not (a deadline per request would succeed)."""

    def slow_redirect(request: Request) -> Response:
        time.sleep(1.5)
        return Response(status=302, headers={"Location": "/slow"})

    def short_trickle() -> Iterator[bytes]:
        for _ in range(10):
            yield b"."
            time.sleep(0.1)

    httpserver.expect_request("/first").respond_with_handler(slow_redirect)
    httpserver.expect_request("/slow").respond_with_handler(
        lambda request: Response(short_trickle(), content_type=HTML)
    )

    assert refusal(httpserver.url_for("/first"), policy) == "timed out after 2 s"


# Logging


def test_each_fetch_is_logged_without_headers(
    httpserver: HTTPServer, policy: FetchPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/page").respond_with_data(PAGE, content_type=HTML)
    caplog.set_level(logging.INFO, logger="ingest.fetch")

    fetch(httpserver.url_for("/page"), policy, kind="html")

    size = len(PAGE.encode("utf-8"))
    messages = [r.getMessage() for r in caplog.records if r.name == "ingest.fetch"]
    assert messages == [f"fetched {httpserver.url_for('/page')}: status 200, {size} bytes"]
    assert "newsbot/0.1" not in caplog.text


# check_address


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
        ("10.20.30.40", "refused: 10.20.30.40 is a private address"),
        ("172.16.5.4", "refused: 172.16.5.4 is a private address"),
        ("192.168.1.1", "refused: 192.168.1.1 is a private address"),
        ("169.254.169.254", "refused: 169.254.169.254 is a link-local address"),
        ("100.64.0.1", "refused: 100.64.0.1 is a shared (CGNAT) address"),
        ("224.0.0.1", "refused: 224.0.0.1 is a multicast address"),
        ("0.0.0.0", "refused: 0.0.0.0 is an unspecified address"),
        ("240.0.0.1", "refused: 240.0.0.1 is a reserved address"),
        ("::1", "refused: ::1 is a loopback address"),
        ("::", "refused: :: is an unspecified address"),
        ("fe80::1", "refused: fe80::1 is a link-local address"),
        ("fec0::1", "refused: fec0::1 is a site-local address"),
        ("fc00::1", "refused: fc00::1 is a private address"),
        ("ff02::1", "refused: ff02::1 is a multicast address"),
        ("::ffff:10.0.0.1", "refused: ::ffff:10.0.0.1 is a private address"),
        ("::ffff:169.254.169.254", "refused: ::ffff:169.254.169.254 is a link-local address"),
        ("2002:a00:1::", "refused: 2002:a00:1:: is a private address"),  # 6to4 for 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "refused: 64:ff9b::a9fe:a9fe is a link-local address"),  # NAT64
        ("not-an-ip", "refused: 'not-an-ip' is not an IP address"),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_check_address(ip: str, reason: str | None) -> None:
    if reason is None:
        check_address(ip, 80, FetchPolicy())
    else:
        with pytest.raises(FetchError) as caught:
            check_address(ip, 80, FetchPolicy())
        assert str(caught.value) == reason


def test_allow_loopback_covers_only_loopback_and_the_listed_ports() -> None:
    any_port = FetchPolicy(allow_loopback=True)
    one_port = FetchPolicy(allow_loopback=True, loopback_ports=frozenset({8080}))

    for ip in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"):
        check_address(ip, 1234, any_port)
        check_address(ip, 8080, one_port)
    with pytest.raises(FetchError, match=r"^refused: ::1 is a loopback address \(port 1234 is"):
        check_address("::1", 1234, one_port)
    with pytest.raises(FetchError, match="private"):
        check_address("10.0.0.1", 8080, one_port)
