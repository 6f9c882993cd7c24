"""A sick Chroma server, through the real `newsbot` command: stopped before or during the work,
a listener that never answers, a port serving something else. Each is one line and exit code 2
within the time limits, `--json` still prints JSON, and a re-run finishes what was cut short."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import ChromaProcess
from tests.e2e.runner import NEWSBOT, newsbot

pytestmark = pytest.mark.server


def _point_at(monkeypatch: pytest.MonkeyPatch, port: int, *, timeout: float = 30) -> None:
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSBOT_CHROMA_PORT", str(port))
    monkeypatch.setenv("NEWSBOT_CHROMA_TIMEOUT", str(timeout))


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def _json_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    error = json.loads(result.stdout)["error"]
    assert isinstance(error, str) and "\n" not in error
    return error


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (in the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield int(s.getsockname()[1])


@pytest.fixture
def web_page_port() -> Iterator[int]:
    """A port on 127.0.0.1 serving an HTML page for every request (another service, not Chroma)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><head><title>Router login</title></head><body>" + b"x" * 5000
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body) + 14))
            self.end_headers()
            self.wfile.write(body + b"</body></html>")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_a_stopped_server_is_one_line_exit_2_and_json_still_prints(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _point_at(monkeypatch, closed_port)
    where = f"http://127.0.0.1:{closed_port}"
    (tmp_path / "a.txt").write_text("A headline\n\nA paragraph of news text that is long enough.")

    for args in (["ask", "what happened?"], ["sources"], ["ingest", str(tmp_path / "a.txt")]):
        line = _assert_one_line_error(newsbot(*args), f"cannot reach the Chroma server {where}")
        assert "connection refused" in line and "NEWSBOT_CHROMA_PORT" in line
        assert f"cannot reach the Chroma server {where}" in _json_error(newsbot(*args, "--json"))


def test_a_listener_that_never_answers_times_out_within_the_limit(
    silent_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, silent_listener, timeout=2)

    started = time.monotonic()
    result = newsbot("sources", timeout=120)  # with no time limit this never returned
    elapsed = time.monotonic() - started

    _assert_one_line_error(result, "did not answer within 2 s", "NEWSBOT_CHROMA_TIMEOUT")
    # The limit, plus starting Python and importing the libraries (well under the old "forever").
    assert elapsed < 2 + 30


def test_a_port_serving_something_else_is_named_without_printing_its_page(
    web_page_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, web_page_port)

    line = _assert_one_line_error(newsbot("sources"), "answered with a web page (HTTP 404)")

    assert "not Chroma's API" in line and "<html" not in line and len(line) < 300


@pytest.mark.model
def test_a_server_stopped_mid_ingest_keeps_what_was_stored_and_a_rerun_finishes(
    own_chroma: ChromaProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _point_at(monkeypatch, own_chroma.port, timeout=5)
    folder = tmp_path / "items"
    folder.mkdir()
    total = 700  # one-paragraph items: several batches, so the server can stop between them
    for i in range(total):
        (folder / f"item{i:04}.txt").write_text(
            f"Harbour report number {i}\n\nThe harbour master logged vessel {i} arriving at "
            f"berth {i % 40} with a cargo of {i * 3} containers on a calm morning."
        )
    ingest = subprocess.Popen(
        [*NEWSBOT, "ingest", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        _wait_until_some_are_committed(own_chroma, ingest)
        own_chroma.stop()  # mid-ingest: at least one batch committed, more to come
        stdout, stderr = ingest.communicate(timeout=120)
    finally:
        ingest.kill()

    assert ingest.returncode == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    first = json.loads(stdout)
    assert first["error"] and "Chroma server" in first["error"]
    assert "run the same command again" in first["error"]
    assert first["added"] < total and first["failed"]  # cut short, the rest listed

    own_chroma.start()  # the server is back: the same command finishes the job
    second = newsbot("ingest", str(folder), "--json")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["error"] is None and report["failed"] == []
    # Every article is stored once: what the first run committed is found whole ("unchanged";
    # that can be more than it reported if the server died between a batch's commit and its
    # clean-up), the rest is added now.
    assert report["added"] + report["unchanged"] == total
    assert report["unchanged"] >= first["added"]
    listed = json.loads(newsbot("sources", "--json").stdout)
    assert len(listed) == total


def _wait_until_some_are_committed(server: ChromaProcess, ingest: subprocess.Popen[str]) -> None:
    import chromadb

    client = chromadb.HttpClient(host=server.host, port=server.port)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert ingest.poll() is None, "the ingest finished before the server could be stopped"
        try:
            if client.get_collection("newsbot_articles").count() > 0:
                return
        except Exception:  # not created yet
            pass
        time.sleep(0.1)
    raise AssertionError("nothing was committed in time")


def test_a_server_stopped_mid_poll_is_one_line_exit_2_and_the_next_feeds_wait(
    own_chroma: ChromaProcess, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    """`feeds poll` as `ingest`: the server stops while the first feed's article is fetched
    (the page's handler stops it), so that feed reports the error, the second feed is not
    polled (it stays due), and the command ends with the one-line error and exit code 2."""
    _point_at(monkeypatch, own_chroma.port, timeout=5)
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_LOOPBACK", "true")

    def stop_then_page(request: Request) -> Response:
        own_chroma.stop()
        html = (
            "<html><head><title>Harbour dredging starts</title></head><body><article>"
            "<h1>Harbour dredging starts</h1><p>Dredgers began deepening the harbour channel on "
            "Monday so that larger ferries can dock, the port authority said.</p><p>The work "
            "will last six weeks and the channel stays open to fishing boats in the mornings, "
            "when the dredgers stop to let them through.</p><p>Residents near the quay were "
            "warned of noise at night while the deepest stretch is dug.</p></article>"
            "</body></html>"
        )
        return Response(html, content_type="text/html")

    httpserver.expect_request("/dredging").respond_with_handler(stop_then_page)
    for name in ("first", "second"):
        item = (
            f"<item><title>Harbour dredging starts</title>"
            f"<link>{httpserver.url_for('/dredging')}</link><guid>{name}-1</guid></item>"
        )
        httpserver.expect_request(f"/{name}.xml").respond_with_data(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Port news</title>'
            f"<link>http://example.invalid/</link><description>d</description>{item}"
            "</channel></rss>",
            content_type="application/rss+xml",
        )
    for name in ("first", "second"):
        added = newsbot("feeds", "add", httpserver.url_for(f"/{name}.xml"))
        assert added.returncode == 0, added.stderr

    result = newsbot("feeds", "poll")

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    line = result.stderr.strip().splitlines()[-1]  # after the pipeline's logged error, as ingest
    assert line.startswith("error: cannot reach the Chroma server"), result.stderr
    assert "run the same command again" in line
    assert f"{httpserver.url_for('/first.xml')}: 0 added" in result.stdout
    assert "second.xml" not in result.stdout
    polled = [r.path for r, _ in httpserver.log]
    assert polled.count("/first.xml") == 1 and "/second.xml" not in polled
