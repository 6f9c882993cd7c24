"""Fixtures for the ingest tests: one loopback HTTP server per module, and no other network.

Only loopback traffic is allowed here. `_loopback_only` fails any test that looks up a name or
connects anywhere else; names that should resolve to other addresses come from a patched
`ingest.fetch_guard.resolve`, never from DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ingest.fetch import FetchPolicy
from ingest.subscriptions import FeedRegistry


@pytest.fixture(scope="module")
def _server() -> Iterator[HTTPServer]:
    """Run one test server for this module on 127.0.0.1.

    pytest-httpserver's shared server listens on "localhost", which would need a name lookup; this
    one is bound to the literal address so every URL here is a literal loopback one.
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def httpserver(_server: HTTPServer) -> HTTPServer:
    """Return the module's test server with no handlers and an empty log."""
    _server.clear()
    return _server


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Refuse, and fail the test for, any DNS lookup or connection to a non-loopback address."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        host = str(address[0]) if isinstance(address, tuple) else ""
        if not host or not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            attempts.append(address)
            raise ConnectionRefusedError(f"test forbids connecting to {address!r}")
        real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # Names other than IP literals would be looked up by a non-loopback DNS server.
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            attempts.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"test forbids looking up {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert attempts == [], "the fetcher tried to look up a name or reach a non-loopback address"


@pytest.fixture
def registry(tmp_path: Path) -> FeedRegistry:
    return FeedRegistry(tmp_path / "data" / "feeds.json")


@pytest.fixture
def policy(httpserver: HTTPServer) -> FetchPolicy:
    """Return a policy that may fetch from the module's test server only."""
    return FetchPolicy(
        allow_loopback=True, loopback_ports=frozenset({httpserver.port}), total_timeout=5
    )
