"""Followed topics and the posts they are owed, in SQLite beside the feedback database.

A follow is a saved topic (optionally limited to outlets) with where its posts go: a channel or
thread, or the follower's DMs. New articles are matched against every saved topic by `catch_up`
(`NewsIndex.match_follows`: per article, no search over the whole index), which queues one post
per article per follow (a UNIQUE key: never two).

What to match comes from the index's change feed, not from the ingest that wrote it: the store
stamps every commit, and this database keeps how far matching has got ("matched up to", saved
in the same transaction as the posts it queued). So an article that reached the index is matched
even when the process that wrote it died right after (kill -9, SIGTERM, a crash): the next
`newsbot ingest`, feed poll or look of the bot (`NewsBot.catch_up_follows`, also on its delivery
timer) catches up. A commit read twice (the feed's window) only finds its posts already queued.
Only an article's first commit counts: an update is not news to a follower.
The bot delivers what is queued and marks it delivered.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval import FeedPosition, Topic, next_seq, utc_now

if TYPE_CHECKING:
    from retrieval import Commit, NewsIndex

logger = logging.getLogger(__name__)

CLI_USER = 0  # follows added with `newsbot follow add` belong to the machine's admin
MAX_PER_USER = 10  # NEWSBOT_FOLLOW_MAX_PER_USER

_SCHEMA = """
CREATE TABLE IF NOT EXISTS follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,          -- a channel or thread; NULL: DM the follower
    topic TEXT NOT NULL,
    outlets TEXT NOT NULL,       -- JSON list
    created_at TEXT NOT NULL,
    since_seq INTEGER NOT NULL DEFAULT 0  -- matches articles first committed from this stamp
);
CREATE TABLE IF NOT EXISTS follow_posts (
    follow_id INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
    article_id TEXT NOT NULL,
    text TEXT NOT NULL,
    citations TEXT NOT NULL,     -- JSON, as `newsbot ask --json` cites
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    PRIMARY KEY (follow_id, article_id)
);
-- How far matching has read the index's change feed (`retrieval.FeedPosition`): one row.
CREATE TABLE IF NOT EXISTS follow_feed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seen INTEGER NOT NULL,
    looked INTEGER NOT NULL
);
"""
_FOLLOW_COLUMNS = "id, user_id, guild_id, channel_id, topic, outlets, created_at, since_seq"
MATCH_BATCH = 500  # articles matched per pass of a long catch-up


class FollowLimitError(ValueError):
    """The user already follows as many topics as allowed."""


class ReadOnlyFollowsError(ValueError):
    """The follows database is on a read-only data directory."""


@dataclass(frozen=True)
class Follow:
    id: int
    user_id: int
    guild_id: int | None
    channel_id: int | None
    topic: str
    outlets: tuple[str, ...]
    created_at: str
    since_seq: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "topic": self.topic,
            "outlets": list(self.outlets),
            "user_id": self.user_id,
            "channel_id": self.channel_id,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class FollowPost:
    follow: Follow
    article_id: str
    text: str
    citations: list[dict[str, Any]]


class FollowStore:
    """Thread-safe access to the follows and the posts queued for them."""

    def __init__(self, path: Path, *, max_per_user: int = MAX_PER_USER):
        self.path = path
        self.max_per_user = max_per_user
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._catching_up = threading.Lock()
        self.read_only = False  # the database can be read but not written (a read-only dir)
        try:
            with closing(self._connect()) as db, db:
                db.executescript(_SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(follows)")}
                if "since_seq" not in columns:  # a database from before the change feed
                    db.execute(
                        "ALTER TABLE follows ADD COLUMN since_seq INTEGER NOT NULL DEFAULT 0"
                    )
                # First use: matching starts now (a follow matches what comes after it anyway).
                db.execute(
                    "INSERT OR IGNORE INTO follow_feed (id, seen, looked) VALUES (1, ?, 0)",
                    (next_seq(),),
                )
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_READONLY:
                raise
            logger.info("%s is read-only: follows can be listed, not changed", path)
            self.read_only = True

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyFollowsError(
                f"{self.path} is read-only: changing follows needs the data directory writable"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def add(
        self,
        user_id: int,
        topic: str,
        *,
        outlets: Sequence[str] = (),
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> Follow:
        """Save a topic for a user; FollowLimitError past the cap, ValueError when empty."""
        self._check_writable()
        topic = " ".join(topic.split())
        if not topic:
            raise ValueError("the topic is empty")
        if len(topic) > 300:
            raise ValueError("the topic is longer than 300 characters")
        outlets = tuple(dict.fromkeys(o.strip() for o in outlets if o.strip()))
        with self._lock, closing(self._connect()) as db, db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM follows WHERE user_id = ?", (user_id,)
            ).fetchone()
            if user_id != CLI_USER and count >= self.max_per_user:
                raise FollowLimitError(
                    f"you already follow {count} topics (at most {self.max_per_user}); "
                    "remove one first"
                )
            created, since = utc_now(), next_seq()
            cursor = db.execute(
                "INSERT INTO follows (user_id, guild_id, channel_id, topic, outlets, created_at, "
                "since_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, guild_id, channel_id, topic, json.dumps(list(outlets)), created, since),
            )
            follow_id = int(cursor.lastrowid or 0)
        return Follow(follow_id, user_id, guild_id, channel_id, topic, outlets, created, since)

    def follows(self, user_id: int | None = None) -> list[Follow]:
        """A user's follows (None: everyone's), oldest first."""
        query = f"SELECT {_FOLLOW_COLUMNS} FROM follows" + (
            " WHERE user_id = ?" if user_id is not None else ""
        )
        with self._lock, closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY id", (() if user_id is None else (user_id,)))
            return [_follow(row) for row in rows.fetchall()]

    def get(self, follow_id: int) -> Follow | None:
        with self._lock, closing(self._connect()) as db:
            row = db.execute(
                f"SELECT {_FOLLOW_COLUMNS} FROM follows WHERE id = ?", (follow_id,)
            ).fetchone()
        return _follow(row) if row else None

    def remove(self, follow_id: int, user_id: int | None = None) -> bool:
        """Remove a follow (only the user's own unless user_id is None: an admin); its queued
        posts go with it."""
        query = "DELETE FROM follows WHERE id = ?" + (
            " AND user_id = ?" if user_id is not None else ""
        )
        args: tuple[int, ...] = (follow_id,) if user_id is None else (follow_id, user_id)
        self._check_writable()
        with self._lock, closing(self._connect()) as db, db:
            return db.execute(query, args).rowcount > 0

    def catch_up(self, index: NewsIndex) -> list[FollowPost]:
        """Match the articles committed since matching last got this far against every follow
        and queue one post per article per follow; return the posts queued now (not those
        queued before, by this or another process)."""
        self._check_writable()
        with self._catching_up:
            with self._lock, closing(self._connect()) as db:
                row = db.execute("SELECT seen, looked FROM follow_feed WHERE id = 1").fetchone()
            position = FeedPosition(seen=int(row[0]), looked=int(row[1]))
            follows = self.follows()
            queued: list[FollowPost] = []
            if not follows:  # nothing to match: a follow made later matches what comes after it
                position = FeedPosition(seen=next_seq())
            else:
                since = position.since()
                commits = index.commits_since(position)
                # Only a first commit is news; one before `since` was matched by an earlier look.
                first = [
                    c for c in {c.article_id: c for c in commits}.values() if c.added_seq >= since
                ]
                for start in range(0, len(first), MATCH_BATCH):
                    queued += self._match(index, follows, first[start : start + MATCH_BATCH])
                if first:  # the feed's window may show an article read before: "read", not "new"
                    logger.info(
                        "%d follow post(s) queued from %d article(s) read", len(queued), len(first)
                    )
            with self._lock, closing(self._connect()) as db, db:
                db.execute(
                    "UPDATE follow_feed SET seen = max(seen, ?), looked = max(looked, ?) "
                    "WHERE id = 1",
                    (position.seen, position.looked),
                )
            return queued

    def _match(
        self, index: NewsIndex, follows: Sequence[Follow], commits: Sequence[Commit]
    ) -> list[FollowPost]:
        """Match these first commits against the follows made before them; queue the posts."""
        added = {c.article_id: c.added_seq for c in commits}
        wanted = [f for f in follows if any(f.since_seq <= seq for seq in added.values())]
        if not wanted:
            return []
        topics = [Topic(str(f.id), f.topic, f.outlets) for f in wanted]
        matches = index.match_follows(topics, list(added))
        by_id = {str(f.id): f for f in wanted}
        queued = []
        with self._lock, closing(self._connect()) as db, db:
            for match in matches:
                follow = by_id[match.topic]
                if follow.since_seq > added[match.article_id]:
                    continue  # the article was there before the follow
                citations = [c.as_dict() for c in match.citations]
                cursor = db.execute(
                    "INSERT OR IGNORE INTO follow_posts (follow_id, article_id, text, citations, "
                    "created_at) VALUES (?, ?, ?, ?, ?)",
                    (follow.id, match.article_id, match.text, json.dumps(citations), utc_now()),
                )
                if cursor.rowcount:
                    queued.append(FollowPost(follow, match.article_id, match.text, citations))
        return queued

    def pending(self, limit: int = 50) -> list[FollowPost]:
        """Posts not yet delivered, oldest first."""
        with self._lock, closing(self._connect()) as db:
            columns = ", ".join(f"f.{c}" for c in _FOLLOW_COLUMNS.split(", "))
            rows = db.execute(
                f"SELECT {columns}, p.article_id, p.text, p.citations FROM follow_posts p "
                "JOIN follows f ON f.id = p.follow_id WHERE p.delivered_at IS NULL "
                "ORDER BY p.created_at, p.follow_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [FollowPost(_follow(row[:8]), row[8], row[9], json.loads(row[10])) for row in rows]

    def delivered(self, post: FollowPost) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute(
                "UPDATE follow_posts SET delivered_at = ? WHERE follow_id = ? AND article_id = ?",
                (utc_now(), post.follow.id, post.article_id),
            )


def _follow(row: Sequence[Any]) -> Follow:
    return Follow(
        int(row[0]),
        int(row[1]),
        row[2],
        row[3],
        str(row[4]),
        tuple(json.loads(row[5])),
        row[6],
        int(row[7] or 0),
    )
