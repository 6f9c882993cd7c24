"""Run the parsers of untrusted documents (HTML pages, feeds) in a worker process with a deadline.

trafilatura's extraction is quadratic in the number of paragraphs (a 5 MB page of `<p>a</p>`
ran for minutes and grew past 850 MB) and nothing inside lxml or feedparser can be interrupted
from another thread. So the work runs in a separate process, started with `python -m
ingest.worker`, that is killed when its deadline passes, and whose address space is capped
(`MEMORY_LIMIT`): whatever the content, a parse returns, fails with a one-line reason, or is
stopped at its deadline, and the memory it can take is bounded.

Idle workers are kept (at most `_MAX_IDLE`) so that a parse costs a round trip, not a start
(a start imports trafilatura: about a second). A worker dies with the process that started it
(PR_SET_PDEATHSIG on Linux; elsewhere at its next read of a closed pipe).

The protocol is length-prefixed pickles over the worker's stdin and stdout. Only the worker's
own code produces its replies; the document is data to it, never code.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import selectors
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.article import ParseError
from ingest.fetch_policy import MB

logger = logging.getLogger(__name__)

# The most address space a worker may map: its interpreter, lxml and trafilatura take about
# 150 MB of it, the largest page it is given (5 MB) about 200 MB more to parse. A page that needs
# more fails with "needed more than … MB", never the process that asked.
MEMORY_LIMIT = 1024 * MB
_HEADER = struct.Struct("!Q")
_MAX_IDLE = 4
_RECYCLE_AFTER = 200  # jobs; a fresh worker returns what lxml's allocator kept
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class _StoppedError(Exception):
    """The worker was killed at the deadline, or died."""


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.worker", str(MEMORY_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.jobs = 0
        self.memory_limit = MEMORY_LIMIT

    def call(self, request: bytes, deadline: float) -> bytes:
        """Send one request and return the reply; raise _StoppedError at the deadline or a death."""
        assert self.process.stdin is not None and self.process.stdout is not None
        to_send = memoryview(_HEADER.pack(len(request)) + request)
        reply = bytearray()
        wanted: int | None = None
        stdin, stdout = self.process.stdin.fileno(), self.process.stdout.fileno()
        os.set_blocking(stdin, False)
        os.set_blocking(stdout, False)
        with selectors.DefaultSelector() as selector:
            selector.register(stdin, selectors.EVENT_WRITE)
            selector.register(stdout, selectors.EVENT_READ)
            while wanted is None or len(reply) < wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _StoppedError("deadline")
                for key, _ in selector.select(left):
                    if key.fd == stdin:
                        try:
                            sent = os.write(stdin, to_send[: 1 << 20])
                        except BrokenPipeError:
                            raise _StoppedError("died") from None
                        to_send = to_send[sent:]
                        if not to_send:
                            selector.unregister(stdin)
                        continue
                    chunk = os.read(stdout, 1 << 20)
                    if not chunk:
                        raise _StoppedError("died")
                    reply += chunk
                    if wanted is None and len(reply) >= _HEADER.size:
                        wanted = _HEADER.size + _HEADER.unpack_from(reply)[0]
        self.jobs += 1
        return bytes(reply[_HEADER.size :])

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


_idle: list[_Worker] = []
_lock = threading.Lock()


def _take() -> _Worker:
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.process.poll() is None:
                return worker
            worker.kill()
    return _Worker()


def _give_back(worker: _Worker) -> None:
    with _lock:
        if len(_idle) < _MAX_IDLE and worker.jobs < _RECYCLE_AFTER:
            _idle.append(worker)
            return
    worker.kill()


@atexit.register
def shut_down() -> None:
    """Stop the idle workers (they would stop anyway when this process ends)."""
    with _lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.kill()


def run(task: str, args: tuple[Any, ...], *, deadline: float, what: str) -> Any:
    """Run `task` (a name in `ingest.extract.TASKS`) on `args` in a worker, by `deadline`.

    Raises ParseError with a one-line reason when the task fails, needs more than
    MEMORY_LIMIT, or is still running at `deadline` (then the worker is killed). `what` names
    the document in those reasons ("the page", "the feed").
    """
    started = time.monotonic()
    if deadline - started <= 0:
        raise ParseError(f"no time left to read {what}")
    request = pickle.dumps((task, args), protocol=pickle.HIGHEST_PROTOCOL)
    worker = _take()
    try:
        reply = worker.call(request, deadline)
    except _StoppedError as stopped:
        worker.kill()
        if str(stopped) == "deadline":
            took = time.monotonic() - started
            raise ParseError(f"reading {what} took too long (stopped after {took:.1f} s)") from None
        raise ParseError(f"reading {what} failed: the parser stopped unexpectedly") from None
    except BaseException:
        worker.kill()
        raise
    _give_back(worker)
    status, value = pickle.loads(reply)
    if status == "ok":
        return value
    if status == "memory":
        raise ParseError(f"reading {what} needed more than {worker.memory_limit // MB} MB")
    raise ParseError(_one_line(str(value)))


def _one_line(text: str) -> str:
    text = " ".join(text.split()) or "cannot read the document"
    return text if len(text) <= 200 else text[:199] + "…"


# -- the worker's side ---------------------------------------------------------------------------
def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the call above
            os._exit(0)


def _serve(memory_limit: int) -> None:
    """Answer requests on stdin until it closes. Library output never reaches the replies."""
    _die_with_parent()
    with contextlib.suppress(ImportError, ValueError, OSError):  # no `resource`: not POSIX
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    replies = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes where stderr goes, not into a reply
    logging.disable(logging.CRITICAL)
    from ingest.extract import TASKS

    tasks: dict[str, Callable[..., Any]] = TASKS
    while True:
        header = _read_exactly(0, _HEADER.size)
        if header is None:
            return
        body = _read_exactly(0, _HEADER.unpack(header)[0])
        if body is None:
            return
        try:
            task, args = pickle.loads(body)
            result: tuple[str, Any] = ("ok", tasks[task](*args))
        except MemoryError:
            result = ("memory", None)
        except ParseError as error:
            result = ("error", str(error))
        except RecursionError:
            result = ("error", "cannot read the document: nested too deeply")
        except Exception as error:
            result = ("error", f"cannot read the document: {type(error).__name__}: {error}")
        try:
            reply = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            reply = pickle.dumps(("memory", None))
        except Exception as error:
            reply = pickle.dumps(("error", f"cannot return the result: {error}"))
        os.write(replies, _HEADER.pack(len(reply)))
        view = memoryview(reply)
        while view:
            view = view[os.write(replies, view) :]


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_LIMIT)
