"""The only place a fetch opens sockets: every address is checked before it is dialled.

Anyone on Discord chooses the URL, so every connection is guarded against SSRF: no connection to
loopback, private, link-local (cloud metadata at 169.254.169.254), multicast, reserved or otherwise
non-global addresses (`check_address`).

How DNS rebinding is avoided: the check runs inside a custom `httpcore` network backend
(`_GuardedBackend`) used through a small httpx transport (`GuardedTransport`). When httpcore asks
it to dial `host:port`, it resolves the host once, refuses unless *every* address passes
`check_address`, and then dials those same IP strings. There is no second lookup between the check
and the connect for a rebinding DNS server to answer differently, while the URL keeps its hostname,
so the Host header, SNI and certificate verification all use the name as usual. Because the guard
sits at the dialer, it also covers redirects and anything else httpx might connect for.

DNS lookups run in daemon threads (at most 16 at once, all fetches together) because getaddrinfo
has no timeout of its own, and every socket wait is capped by the fetch's deadline.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator

import certifi
import httpcore
import httpx

from ingest.fetch_policy import FetchError, FetchPolicy, FetchRefused, oneline

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOKUP_SLOTS = 16
_LOOKUPS = threading.BoundedSemaphore(_LOOKUP_SLOTS)  # DNS lookups running at once, all fetches


def resolve(host: str, port: int) -> list[str]:
    """Return the IP addresses `host` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchError(f"cannot resolve {host}: {oneline(error)}") from None
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


class GuardedTransport(httpx.BaseTransport):
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
