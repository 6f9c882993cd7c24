"""Shared fixtures: isolated settings, the real model loaded once, Chroma embedded and server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from ingest.syndication import Syndication
from retrieval.answer.chain import ChatModelConfig
from retrieval.index import NewsIndex
from retrieval.runtime import configure_process
from retrieval.storage.embedder import Embedder
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.shards import SHARD_PASSAGES
from retrieval.storage.store import PassageStore
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "data" / "seeds" / "000_ecf542a3148f3069.txt"
EXAMPLE_SEED = ROOT / "examples" / "000_ecf542a3148f3069.txt"
CORPUS = SHARED / "data" / "multihop-rag" / "corpus.json"
QUERIES = SHARED / "data" / "multihop-rag" / "queries-dev.json"


def pytest_configure(config: pytest.Config) -> None:
    """Run as the front ends do (retrieval/runtime.py), before any test loads torch."""
    configure_process()


@pytest.fixture(scope="session")
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the onnxruntime copy of the model: exported once per run, not per test."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _model_cache: Path) -> None:
    """Point all state at tmp_path and ignore the developer's own NEWSBOT_* settings and .env."""
    for key in list(os.environ):
        if key.startswith("NEWSBOT_") and not key.startswith("NEWSBOT_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_MODEL_CACHE_DIR", str(_model_cache))
    # Code that finds no NEWSBOT_MODEL_CACHE_DIR uses the user's cache: the session's, here.
    monkeypatch.setenv("XDG_CACHE_HOME", str(_model_cache / "user-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """Return the real bundled model, loaded once for the whole run."""
    model = Embedder()
    model.embed(["warm up"])
    return model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


class ChromaProcess:
    """A `chroma run` on 127.0.0.1 that a test can stop and start again (same port, same data)."""

    def __init__(self, path: Path, port: int | None = None):
        self.path = path
        self.port = port or _free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def location(self) -> ChromaLocation:
        return ChromaLocation(host=self.host, port=self.port)

    def start(self) -> ChromaProcess:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
        chroma = chroma or shutil.which("chroma")
        assert chroma, "the chroma command (from the chromadb package) is needed for server tests"
        with (self.path / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    chroma,
                    "run",
                    "--host",
                    self.host,
                    "--port",
                    f"{self.port}",
                    "--path",
                    f"{self.path}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        heartbeat = f"http://{self.host}:{self.port}/api/v2/heartbeat"
        assert _wait_for(heartbeat, 60), "chroma did not start"
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """Return (host, port) of a real Chroma server: CI's, or one started here on 127.0.0.1."""
    host = os.environ.get("NEWSBOT_TEST_CHROMA_HOST")
    if host:
        yield host, int(os.environ.get("NEWSBOT_TEST_CHROMA_PORT", "8000"))
        return
    server = ChromaProcess(tmp_path_factory.mktemp("chroma-server")).start()
    try:
        yield server.host, server.port
    finally:
        server.stop()


@pytest.fixture
def own_chroma(tmp_path: Path) -> Iterator[ChromaProcess]:
    """A Chroma server of this test's own, started; the test may stop and restart it."""
    path = tmp_path / "chroma-own"
    path.mkdir()
    server = ChromaProcess(path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["embedded", "server"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> ChromaLocation:
    """Run a test against embedded Chroma and against a Chroma server."""
    if request.param == "embedded":
        return ChromaLocation(path=tmp_path / "chroma")
    host, port = request.getfixturevalue("chroma_server")
    return ChromaLocation(host=host, port=port)


IndexFactory = Callable[..., NewsIndex]


@pytest.fixture
def make_index(
    embedder: Embedder, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[IndexFactory]:
    """Return a factory of NewsIndex objects sharing the loaded model.

    Each test gets its own collection prefix, so tests sharing one Chroma server never meet.
    """
    prefix = f"t{abs(hash(request.node.nodeid)) % 10**10}"
    opened: list[NewsIndex] = []

    def factory(
        location: ChromaLocation,
        *,
        data_dir: Path | None = None,
        chat: ChatModelConfig | None = None,
        as_of: date | None = None,
        shard_passages: int = SHARD_PASSAGES,
    ) -> NewsIndex:
        store = PassageStore(
            open_client(location),
            prefix=prefix,
            embedding_model=embedder.model_name,
            shard_passages=shard_passages,
        )
        lexical = LexicalIndex((data_dir or tmp_path / "data") / "lexical" / prefix)
        index = NewsIndex(store, lexical, embedder, chat=chat, copies=Syndication(), as_of=as_of)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """Serve pytest-httpserver on 127.0.0.1 itself, so no test needs a name lookup."""
    return ("127.0.0.1", 0)


# Fixtures that load the real model or need a Chroma server: a test using one (directly or
# through another fixture) gets the marker, so `-m "not model and not server"` is the fast set.
_MARK_BY_FIXTURE = {
    "embedder": "model",
    "seeded": "model",
    "chroma_server": "server",
    "own_chroma": "server",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if marker := _MARK_BY_FIXTURE.get(fixture):
                item.add_marker(marker)


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    """A scripted OpenAI-compatible chat server on 127.0.0.1 (see tests/fake_openai.py)."""
    server = FakeOpenAI().start()
    yield server
    server.stop()
