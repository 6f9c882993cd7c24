"""The passages' vector collections: written one at a time, read all together.

Chroma persists a collection's whole HNSW index every 1,000 passages written to it
(`hnsw:sync_threshold`), and embedded Chroma holds Python's lock meanwhile, so every question in
flight waits: 180-210 ms at 100 k passages in one collection, 320-420 ms at 300 k (random
vectors; bench/write_pause.py), growing with the collection. A raised threshold is no way out:
each write then re-reads every change not yet persisted (550 ms a write at 100 k).

So passages go to the newest of several collections, each holding up to `capacity` passages
(`SHARD_PASSAGES`): a write, and its pause, costs what the newest collection holds, not what the
index holds. Reads ask every collection and merge; an index of fewer passages than `capacity`
is one collection, read and written as before. The collections are read side by side (a
thread each: a Chroma read lets go of Python's lock), and the vectors of one search go to each
collection in one query: at a million passages in 5 collections each cuts a dense search's
time by about 40% against reading the collections, or sending the vectors, one at a time
(the dense search's share of a question: docs/measurements.md#time-per-question-1-to-100).

Collection n > 0 is `{prefix}_passages_{n}`; a commit records the collection its passages went
to (`shard` in the catalogue record), so a process that reads another's commit opens the
collections it did not know (`open_new`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

# Passages per collection: the pause of a persist grows with it (~0.4 s at 300 k, see above),
# each further collection adds one vector query per search.
SHARD_PASSAGES = 250_000

_FIELDS = ("ids", "documents", "metadatas", "embeddings", "distances")
_READERS = 8  # threads that read collections side by side (one each, up to this many)

_T = TypeVar("_T")


class Shards:
    """The collections that hold the passages, the newest one written."""

    def __init__(
        self, client: Any, prefix: str, metadata: dict[str, Any], capacity: int = SHARD_PASSAGES
    ):
        self.client = client
        self.prefix = prefix
        self.metadata = metadata
        self.capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._readers: ThreadPoolExecutor | None = None
        first = client.get_or_create_collection(
            self._name(0), embedding_function=None, metadata=metadata
        )
        self.collections: list[Any] = [first]
        self.open_new()

    def _name(self, n: int) -> str:
        return f"{self.prefix}_passages" if n == 0 else f"{self.prefix}_passages_{n}"

    def open_new(self) -> None:
        """Open the collections created since this process last looked (by any process)."""
        from chromadb.errors import NotFoundError

        with self._lock:
            while True:
                name = self._name(len(self.collections))
                try:
                    found = self.client.get_collection(name, embedding_function=None)
                except NotFoundError:
                    return
                self.collections.append(found)

    def knows(self, shard: int) -> bool:
        return shard < len(self.collections)

    def writable(self, incoming: int) -> tuple[int, Any]:
        """Return (number, collection) of the collection the next `incoming` passages go to."""
        last = self.collections[-1]
        if last.count() + incoming <= self.capacity:
            return len(self.collections) - 1, last
        self.open_new()  # another process may have started the next one
        last = self.collections[-1]
        held = last.count()
        if held == 0 or held + incoming <= self.capacity:
            return len(self.collections) - 1, last
        with self._lock:
            self.collections.append(
                self.client.get_or_create_collection(
                    self._name(len(self.collections)),
                    embedding_function=None,
                    metadata=self.metadata,
                )
            )
            return len(self.collections) - 1, self.collections[-1]

    # -- reads and deletes over every collection --------------------------------------------
    def _each(self, read: Callable[[Any], _T], collections: Sequence[Any]) -> list[_T]:
        """Return read(collection) for each collection, in their order; side by side when
        there are several."""
        if len(collections) == 1:
            return [read(collections[0])]
        with self._lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(_READERS, thread_name_prefix="shard-read")
            readers = self._readers
        return list(readers.map(read, collections))

    def close(self) -> None:
        """Let the reading threads go (a later read starts them again)."""
        with self._lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.shutdown(wait=False)

    def count(self) -> int:
        return sum(int(c.count()) for c in self.collections)

    def get(self, *, shard: int | None = None, **kwargs: Any) -> dict[str, list[Any]]:
        """`Collection.get` over every collection, the results one after another; with
        `shard`, over that collection only (when this process knows it)."""
        collections = list(self.collections)
        if shard is not None and 0 <= shard < len(collections):
            collections = [collections[shard]]
        if len(collections) == 1:
            return collections[0].get(**kwargs)
        merged: dict[str, list[Any]] = {"ids": []}
        seen: set[str] = set()
        for got in self._each(lambda collection: collection.get(**kwargs), collections):
            for i, pid in enumerate(got["ids"]):
                if pid in seen:  # written again, into a newer collection, after a crash
                    continue
                seen.add(pid)
                for key in _FIELDS:
                    if got.get(key) is not None:
                        merged.setdefault(key, []).append(got[key][i])
        return merged

    def delete(self, **kwargs: Any) -> None:
        for collection in list(self.collections):
            collection.delete(**kwargs)

    def nearest(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float, int]]:
        """Return up to n (id, distance, collection number) nearest to the vector, nearest first."""
        return self.nearest_each([vector], n, where)[0]

    def nearest_each(
        self, vectors: Sequence[Sequence[float]], n: int, where: dict[str, Any] | None = None
    ) -> list[list[tuple[str, float, int]]]:
        """`nearest` for each vector, all of them in one query of each collection."""
        if not vectors:
            return []
        embeddings = [[float(x) for x in vector] for vector in vectors]

        def read(collection: Any) -> Any:
            return collection.query(
                query_embeddings=embeddings, n_results=n, where=where, include=["distances"]
            )

        answers = self._each(read, list(self.collections))
        result = []
        for i in range(len(embeddings)):
            found = [
                (pid, float(dist), number)
                for number, got in enumerate(answers)
                for pid, dist in zip(got["ids"][i], got["distances"][i], strict=True)
            ]
            nearest: dict[str, tuple[str, float, int]] = {}
            for hit in sorted(found, key=lambda hit: hit[1]):
                nearest.setdefault(hit[0], hit)  # a passage written again after a crash: once
            result.append(list(nearest.values())[:n])
        return result

    def query(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """Return up to n (id, document, metadata, distance) nearest to the vector, nearest first.

        Over several collections: ids and distances from each, then the documents of the n
        nearest only (reading metadata is what makes a wide query slow).
        """
        collections = list(self.collections)
        if len(collections) == 1:
            got = collections[0].query(
                query_embeddings=[[float(x) for x in vector]],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            return [
                (pid, doc, dict(meta), float(dist))
                for pid, doc, meta, dist in zip(
                    got["ids"][0],
                    got["documents"][0],
                    got["metadatas"][0],
                    got["distances"][0],
                    strict=True,
                )
            ]
        nearest = self.nearest(vector, n, where)
        wanted = {
            number: [pid for pid, _, shard in nearest if shard == number]
            for number in sorted({shard for _, _, shard in nearest})
        }

        def read(number: int) -> Any:
            return collections[number].get(ids=wanted[number], include=["documents", "metadatas"])

        records: dict[str, tuple[str, dict[str, Any]]] = {}
        for got in self._each(read, list(wanted)):
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                records[pid] = (doc, dict(meta))
        return [(pid, *records[pid], dist) for pid, dist, _ in nearest if pid in records]
