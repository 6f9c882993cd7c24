"""Process-wide settings: made once by a front end at start-up, never by importing the library.

The environment, Python's thread switching and its garbage collector belong to the whole
process, so a library import that changed them would change them for every program importing
it (a test runner, a notebook, another service). A front end (the `newsbot` command, which also
starts the Discord bot, and the benchmarks) calls `configure_process` first thing instead, and
from then on the process is newsbot's to tune:

- `OMP_WAIT_POLICY=PASSIVE`: OpenMP threads (torch's, onnxruntime's) spin while they wait for
  work, and on a host where anything else runs the spinning takes the cores a question needs:
  a question's embedding took several times as long beside two busy processes
  (bench/README.md#reading-the-numbers). OpenMP reads it when those libraries load, so it is set
  before any is imported.
- `HF_HUB_OFFLINE=1` when the embedding model is the bundled one: its copy is on disk and
  nothing should reach for the network to load it. huggingface_hub reads it when it is
  imported. Another model's name keeps the user's choice, so it can be downloaded.
- While a question is answered, Python switches threads more often
  (`storage/questions_first.py`), and after `NewsIndex.warm_up` what a long-running process
  has loaded is frozen out of the garbage collector's way (`gc.freeze`).

A variable the user set wins. Without the call the library changes none of these.
"""

from __future__ import annotations

import os

_configured = False


def configure_process(embedding_model: str | None = None) -> None:
    """Make the process-wide settings newsbot runs with (see the module docstring).

    `embedding_model` is the model the process will load (None: the bundled one). Call it
    before anything imports torch, onnxruntime or huggingface_hub.
    """
    global _configured  # noqa: PLW0603 - one process, configured once by its front end
    from retrieval.storage.embedder import is_bundled

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if embedding_model is None or is_bundled(embedding_model):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _configured = True


def process_configured() -> bool:
    """Return whether a front end called `configure_process`: the library may then tune what
    belongs to the whole process (thread switching while a question is answered, the GC)."""
    return _configured
