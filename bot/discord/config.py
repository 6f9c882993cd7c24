"""What the Discord bot is told at start: who may do what, where, and how much at once.

Kept apart from `bot.discord.app` (which imports discord.py) so that the settings can take their
defaults from here without loading Discord's library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.fetch_policy import MB
from ingest.subscriptions import DEFAULT_EVERY


@dataclass(frozen=True)
class BotConfig:
    guild_id: int | None = None
    admin_role_ids: frozenset[int] = frozenset()
    admin_user_ids: frozenset[int] = frozenset()
    channel_ids: frozenset[int] = frozenset()  # empty: every channel
    cooldown_seconds: float = 10.0
    max_concurrent: int = 4
    max_upload_bytes: int = 5 * MB
    chunk_limits: ChunkLimits = field(default_factory=ChunkLimits)
    fetch_policy: FetchPolicy | None = None  # None: /ingest url: answers it is not configured
    poll_limits: PollLimits | None = None  # None (with fetch_policy None): no feed poller
    announce_channel_id: int | None = None
    feed_check_seconds: float = 60.0  # how often due feeds are looked for
    feed_default_every: str = DEFAULT_EVERY  # `/feeds add` without `every`
    brief_at: time | None = None  # the daily brief in the announce channel (a zone-aware time)
