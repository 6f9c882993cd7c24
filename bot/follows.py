"""Followed topics and the posts they are owed, in SQLite beside the feedback database.

A follow is a saved topic (optionally limited to outlets) with where its posts go: a channel or
thread, or the follower's DMs. Whenever articles are committed (from `/ingest`, a feed poll or
`newsbot ingest`), `notice` checks each new article against every saved topic
(`NewsIndex.match_follows`: per article, no search over the whole index) and queues one post
per article per follow (a UNIQUE key: never two). The bot delivers what is queued and marks it
delivered, so a match made by the CLI while the bot was down is posted when it next runs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval import Topic, utc_now

if TYPE_CHECKING:
    from retrieval import NewsIndex

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
    created_at TEXT NOT NULL
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
"""


class FollowLimitError(ValueError):
    """The user already follows as many topics as allowed."""


@dataclass(frozen=True)
class Follow:
    id: int
    user_id: int
    guild_id: int | None
    channel_id: int | None
    topic: str
    outlets: tuple[str, ...]
    created_at: str

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
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

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
            created = utc_now()
            cursor = db.execute(
                "INSERT INTO follows (user_id, guild_id, channel_id, topic, outlets, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, guild_id, channel_id, topic, json.dumps(list(outlets)), created),
            )
            follow_id = int(cursor.lastrowid or 0)
        return Follow(follow_id, user_id, guild_id, channel_id, topic, outlets, created)

    def follows(self, user_id: int | None = None) -> list[Follow]:
        """A user's follows (None: everyone's), oldest first."""
        query = "SELECT * FROM follows" + (" WHERE user_id = ?" if user_id is not None else "")
        with self._lock, closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY id", (() if user_id is None else (user_id,)))
            return [_follow(row) for row in rows.fetchall()]

    def get(self, follow_id: int) -> Follow | None:
        with self._lock, closing(self._connect()) as db:
            row = db.execute("SELECT * FROM follows WHERE id = ?", (follow_id,)).fetchone()
        return _follow(row) if row else None

    def remove(self, follow_id: int, user_id: int | None = None) -> bool:
        """Remove a follow (only the user's own unless user_id is None: an admin); its queued
        posts go with it."""
        query = "DELETE FROM follows WHERE id = ?" + (
            " AND user_id = ?" if user_id is not None else ""
        )
        args: tuple[int, ...] = (follow_id,) if user_id is None else (follow_id, user_id)
        with self._lock, closing(self._connect()) as db, db:
            return db.execute(query, args).rowcount > 0

    def notice(self, index: NewsIndex, article_ids: Sequence[str]) -> list[FollowPost]:
        """Match newly committed articles against every follow and queue one post per article
        per follow; return the posts queued now (not those queued before)."""
        follows = self.follows()
        if not follows or not article_ids:
            return []
        topics = [Topic(str(f.id), f.topic, f.outlets) for f in follows]
        matches = index.match_follows(topics, article_ids)
        by_id = {str(f.id): f for f in follows}
        queued = []
        with self._lock, closing(self._connect()) as db, db:
            for match in matches:
                follow = by_id[match.topic]
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
            rows = db.execute(
                "SELECT f.*, p.article_id, p.text, p.citations FROM follow_posts p "
                "JOIN follows f ON f.id = p.follow_id WHERE p.delivered_at IS NULL "
                "ORDER BY p.created_at, p.follow_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [FollowPost(_follow(row[:7]), row[7], row[8], json.loads(row[9])) for row in rows]

    def delivered(self, post: FollowPost) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute(
                "UPDATE follow_posts SET delivered_at = ? WHERE follow_id = ? AND article_id = ?",
                (utc_now(), post.follow.id, post.article_id),
            )


def _follow(row: Sequence[Any]) -> Follow:
    return Follow(
        int(row[0]), int(row[1]), row[2], row[3], str(row[4]), tuple(json.loads(row[5])), row[6]
    )
