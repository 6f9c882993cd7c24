"""The keyword index on disk: a tantivy index, its schema, and newsbot's own state file beside it.

The state file (`newsbot.json`) says which schema the index was built with, whether the build
finished, and the latest change-feed stamp it holds (the watermark); it is written atomically,
and only after the tantivy commit it describes. Writers and readers here cope with the other
processes that share the directory: a file another process's commit removed is read again, a
writer's lock just dropped is tried again.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from retrieval.days import date_number
from retrieval.errors import first_line
from retrieval.models import Passage

logger = logging.getLogger(__name__)

SCHEMA = "tantivy-1"  # change when the tokens or the fields change: the index is then rebuilt
STATE = "newsbot.json"
_WRITER_HEAP = 15_000_000  # bytes; tantivy's minimum for one thread is 3 MB
_REBUILD_HEAP = 200_000_000
_OPEN_TRIES = 3


def tantivy() -> Any:
    import tantivy

    return tantivy


def schema() -> Any:
    builder = tantivy().SchemaBuilder()
    builder.add_text_field("pid", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("revision", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("seq", stored=True)
    builder.add_text_field("outlet", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("ts", indexed=True, fast=True)
    # Our own stems, joined by spaces: split on whitespace, nothing else done to them.
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


def document(
    passage: Passage, revision: str, seq: int, tokenize: Callable[[str], list[str]]
) -> Any:
    """Return the tantivy document of a passage of a committed revision stamped `seq`."""
    return tantivy().Document(
        pid=passage.passage_id,
        article=passage.article_id,
        revision=revision,
        seq=seq,
        outlet=(passage.outlet or "").lower(),
        ts=date_number(passage.published_at),
        body=" ".join(tokenize(passage.contextual_text)),
    )


def read_state(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / STATE).read_text(encoding="utf-8")))


def write_state(directory: Path, state: dict[str, Any]) -> None:
    """Write the index's own state file atomically."""
    temp = directory / f"{STATE}.tmp"
    temp.write_text(json.dumps(state), encoding="utf-8")
    temp.replace(directory / STATE)


def write_whole(
    directory: Path,
    documents: Iterable[Any],
    watermark: int,
) -> int:
    """Build a complete index of the documents in an empty `directory`; return how many.

    Its state file, written last, names the schema and the change-feed stamp from which a
    reader must catch up (the build saw everything committed before it).
    """
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    index = tantivy().Index(schema(), path=str(directory))
    writer = index.writer(_REBUILD_HEAP, 1)
    count = 0
    for doc in documents:
        writer.add_document(doc)
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    write_state(directory, {"schema": SCHEMA, "complete": True, "watermark": watermark})
    return count


def new_writer(index: Any) -> Any:
    """Return a writer; a writer just dropped (here or elsewhere) may hold tantivy's lock a
    moment longer than our file lock, so a busy lock is tried again for a few seconds."""
    for attempt in range(50):
        try:
            return index.writer(_WRITER_HEAP, 1)
        except ValueError as error:
            if "LockBusy" not in str(error) or attempt == 49:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def merge(writer: Any) -> None:
    """Let the merges a commit started finish, then drop the writer.

    They run on the writer's threads: dropping it kills them, and then every commit leaves its
    segments for good (150 commits: 350 segments, a one-article commit 1.4 s, a search 80 ms;
    waiting: 13 segments, 15 ms and 0.1 ms). Only writers wait for the merges; a merge that
    fails leaves the committed segments as they are, searchable.
    """
    try:
        writer.wait_merging_threads()
    except (ValueError, OSError) as error:
        logger.warning("keyword index: segments not merged this time (%s)", first_line(error))


def open_index(path: Path) -> Any:
    """Open a tantivy index and read its segments, trying again a moment later on failure.

    Another process's commit may delete a file between listing and opening it: only an index
    that fails three times running is unreadable.
    """
    for attempt in range(_OPEN_TRIES):
        try:
            index = tantivy().Index.open(str(path))
            index.searcher().num_docs  # noqa: B018 - reads the segments: fails if they are broken
            return index
        except (ValueError, OSError):
            if attempt == _OPEN_TRIES - 1:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")
