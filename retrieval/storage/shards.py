"""The passages' vector collections: written one at a time, read all together.

Chroma persists a collection's whole HNSW index every 1,000 passages written to it
(`hnsw:sync_threshold`), and embedded Chroma holds Python's lock meanwhile, so every question in
flight waits: 180-210 ms at 100 k passages in one collection, 320-420 ms at 300 k (random
vectors; bench/write_pause.py), growing with the collection. A raised threshold is no way out:
each write then re-reads every change not yet persisted (550 ms a write at 100 k).

So passages go to the newest of several collections, each holding up to `capacity` passages
(`SHARD_PASSAGES`): a write, and its pause, costs what the newest collection holds, not what the
index holds. Reads ask every collection and merge; an index of fewer passages than `capacity`
is one collection, read and written as before. Collection n > 0 is `{prefix}_passages_{n}`; a
commit records the collection its passages went to (`shard` in the catalogue record), so a
process that reads another's commit opens the collections it did not know (`open_new`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

# Passages per collection: the pause of a persist grows with it (~0.4 s at 300 k, see above),
# each further collection adds one vector query per search.
SHARD_PASSAGES = 250_000

_FIELDS = ("ids", "documents", "metadatas", "embeddings", "distances")


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
        for collection in collections:
            got = collection.get(**kwargs)
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
        found: list[tuple[str, float, int]] = []
        for number, collection in enumerate(list(self.collections)):
            got = collection.query(
                query_embeddings=[[float(x) for x in vector]],
                n_results=n,
                where=where,
                include=["distances"],
            )
            found += [
                (pid, float(dist), number)
                for pid, dist in zip(got["ids"][0], got["distances"][0], strict=True)
            ]
        nearest: dict[str, tuple[str, float, int]] = {}
        for hit in sorted(found, key=lambda hit: hit[1]):
            nearest.setdefault(hit[0], hit)  # a passage written again after a crash: once
        return list(nearest.values())[:n]

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
        records: dict[str, tuple[str, dict[str, Any]]] = {}
        for number in sorted({shard for _, _, shard in nearest}):
            ids = [pid for pid, _, shard in nearest if shard == number]
            got = collections[number].get(ids=ids, include=["documents", "metadatas"])
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                records[pid] = (doc, dict(meta))
        return [(pid, *records[pid], dist) for pid, dist, _ in nearest if pid in records]
