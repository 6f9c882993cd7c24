"""Answers given on Discord and the 👍 / 👎 they received, in a small SQLite database.

Answers are kept so that buttons under an old message still work after a restart: the button's
custom_id carries only the answer's id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval import Answer, utc_now

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    grounded INTEGER NOT NULL,
    user_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL REFERENCES answers(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class StoredAnswer:
    id: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    grounded: bool
    user_id: int | None


class FeedbackStore:
    """Thread-safe access to the answers and feedback tables."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def save_answer(self, question: str, answer: Answer, user_id: int | None) -> str:
        """Store an answer and return its id (short enough for a button's custom_id)."""
        answer_id = uuid.uuid4().hex[:16]
        citations = json.dumps([c.as_dict() for c in answer.citations], ensure_ascii=False)
        with self._lock, closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    question,
                    answer.text,
                    citations,
                    int(answer.grounded),
                    user_id,
                    utc_now(),
                ),
            )
        return answer_id

    def answer(self, answer_id: str) -> StoredAnswer | None:
        with self._lock, closing(self._connect()) as db:
            row = db.execute(
                "SELECT id, question, answer, citations, grounded, user_id FROM answers "
                "WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], row[2], json.loads(row[3]), bool(row[4]), row[5])

    def record_vote(self, answer_id: str, user_id: int, vote: int) -> bool:
        """Record (or change) a user's vote on an answer; False when the answer is unknown."""
        with self._lock, closing(self._connect()) as db, db:
            known = db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if not known:
                return False
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
                (answer_id, user_id, vote, utc_now()),
            )
        return True

    def counts(self) -> dict[str, int]:
        with self._lock, closing(self._connect()) as db:
            up, down = db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
            ).fetchone()
            answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        return {"answers": int(answers), "up": int(up), "down": int(down)}

    def votes(self, answer_id: str) -> list[tuple[int, int]]:
        with self._lock, closing(self._connect()) as db:
            rows = db.execute(
                "SELECT user_id, vote FROM feedback WHERE answer_id = ? ORDER BY user_id",
                (answer_id,),
            ).fetchall()
        return [(int(u), int(v)) for u, v in rows]
