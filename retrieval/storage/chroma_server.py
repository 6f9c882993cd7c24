"""A Chroma server client that gives up in time and says in one line what went wrong.

chromadb's HTTP client waits forever (its httpx client has no timeout) and lets transport errors
through as long tracebacks. Here the server is first asked for its heartbeat with our own time
limits, so a stopped server, a listener that never answers and a port serving something else
are each told apart in one line before chromadb is involved; then the client's session gets the
same limits, and every later transport failure becomes `StoreUnavailable` (a `StoreError`).
Nothing is retried here: a caller that keeps running (the bot) just tries again later, and the
HTTP client opens a fresh connection when the server is back.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx

from retrieval.errors import StoreUnavailable, first_line

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the server
DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds to wait for any part of an answer


def open_server_client(
    host: str,
    port: int,
    ssl: bool,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> Any:
    """Return a chromadb HttpClient whose every request is bounded by the two time limits."""
    import chromadb
    from chromadb.config import Settings

    where = f"{'https' if ssl else 'http'}://{host}:{port}"
    timeout = httpx.Timeout(request_timeout, connect=connect_timeout)
    translate = functools.partial(_unavailable, where, timeout)
    try:
        with httpx.Client(timeout=timeout) as probe:
            response = probe.get(f"{where}/api/v2/heartbeat")
        _check_heartbeat(where, response)
    except httpx.HTTPError as exc:
        raise translate(exc) from exc
    try:
        client = chromadb.HttpClient(
            host=host, port=port, ssl=ssl, settings=Settings(anonymized_telemetry=False)
        )
    except httpx.HTTPError as exc:
        raise translate(exc) from exc
    _bound(client, timeout, translate)
    return client


def _check_heartbeat(where: str, response: httpx.Response) -> None:
    try:
        answer = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        answer = None
    if response.status_code != 200 or not (
        isinstance(answer, dict) and "nanosecond heartbeat" in answer
    ):
        what = "a web page" if "html" in response.headers.get("content-type", "") else "something"
        raise StoreUnavailable(
            f"{where} answered with {what} (HTTP {response.status_code}), not Chroma's API: "
            "is NEWSBOT_CHROMA_HOST/NEWSBOT_CHROMA_PORT the Chroma server's address?"
        )


def _bound(
    client: Any, timeout: httpx.Timeout, translate: Callable[[Exception], Exception]
) -> None:
    """Give the client's HTTP session our limits and turn its transport errors into one line.

    This reaches into chromadb's FastAPI client (`_server._session`, `_server._make_request`),
    which has no public setting for either; the tests with a silent listener fail if it moves.
    """
    server = getattr(client, "_server", None)
    session = getattr(server, "_session", None)
    request = getattr(server, "_make_request", None)
    if server is None or not isinstance(session, httpx.Client) or request is None:
        logger.warning("this chromadb version hides its HTTP session: no time limit on requests")
        return
    session.timeout = timeout

    @functools.wraps(request)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            return request(*args, **kwargs)
        except httpx.HTTPError as exc:
            raise translate(exc) from exc
        except json.JSONDecodeError as exc:  # orjson's error is a JSONDecodeError too
            raise translate(exc) from exc
        except Exception as exc:
            if type(exc) is Exception:  # chromadb's error for an HTTP error that isn't Chroma's
                raise translate(exc) from exc
            raise

    server._make_request = bounded


def _unavailable(where: str, timeout: httpx.Timeout, error: Exception) -> StoreUnavailable:
    """Return the one-line error for a transport failure talking to the server at `where`."""
    if isinstance(error, httpx.ConnectTimeout):
        return StoreUnavailable(
            f"Chroma server {where} did not accept a connection within {timeout.connect:g} s "
            "(NEWSBOT_CHROMA_CONNECT_TIMEOUT): check the host, the port and the network"
        )
    if isinstance(error, httpx.TimeoutException):
        return StoreUnavailable(
            f"Chroma server {where} did not answer within {timeout.read:g} s "
            "(NEWSBOT_CHROMA_TIMEOUT): check that it is healthy, or raise the limit"
        )
    if isinstance(error, httpx.ConnectError):
        return StoreUnavailable(
            f"cannot reach the Chroma server {where} ({_reason(error)}): start it "
            "(chroma run --path DIR --port PORT) or fix NEWSBOT_CHROMA_HOST/NEWSBOT_CHROMA_PORT"
        )
    if isinstance(error, httpx.TransportError):
        return StoreUnavailable(
            f"the Chroma server {where} broke off ({_reason(error)}): check that it is running; "
            "what was committed is whole, run the command again to finish"
        )
    if isinstance(error, json.JSONDecodeError):
        return StoreUnavailable(
            f"{where} answered with something that is not Chroma's API: is "
            "NEWSBOT_CHROMA_HOST/NEWSBOT_CHROMA_PORT the Chroma server's address?"
        )
    return StoreUnavailable(f"the Chroma server {where} failed: {_reason(error)}")


def _reason(error: Exception) -> str:
    """Return the exception's first line, short ("connection refused" for any refusal)."""
    text = first_line(error, 120)
    return "connection refused" if "refused" in text.lower() else text
