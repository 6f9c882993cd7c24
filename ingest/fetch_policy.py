"""What a fetch may do, and how it fails: the policy, the errors, and their one-line reasons.

Shared by the fetch itself (`ingest.fetch`), the dialer that guards addresses
(`ingest.fetch_guard`) and the reader that bounds and decodes bodies (`ingest.fetch_body`).
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


class FetchError(Exception):
    """A URL could not be fetched or was refused; str(e) is a one-line reason for an admin."""


class FetchRefused(FetchError):  # noqa: N818 - a kind of FetchError; callers import this name
    """The URL or an address was refused by policy (scheme, credentials, no host, a non-public
    address); it was never connected to."""


@dataclass(frozen=True)
class FetchPolicy:
    """What `fetch` may connect to and how long and how much it may read."""

    allow_loopback: bool = False  # NEWSBOT_FETCH_ALLOW_LOOPBACK: 127.0.0.0/8 and ::1 only
    loopback_ports: frozenset[int] | None = None  # when set, loopback only on these ports
    max_redirects: int = 5
    connect_timeout: float = 5.0
    # The whole fetch, redirects and body included, and the reading of the page it brought.
    total_timeout: float = 20.0
    max_bytes: int = 5 * MB
    user_agent: str = "newsbot/0.1 (news Q&A bot; +https://github.com/newsbot)"
    # An admin's outlet names by host (NEWSBOT_OUTLET_NAMES), e.g. (("reuters.com", "Reuters"),);
    # see ingest.formats.outlet_name.
    outlet_names: tuple[tuple[str, str], ...] = ()


def too_large(policy: FetchPolicy) -> FetchError:
    """The error for a body past `max_bytes`, received or decoded."""
    limit = policy.max_bytes
    size = f"{limit // MB} MB" if limit % MB == 0 else f"{limit:,}-byte"
    return FetchError(f"response is larger than the {size} limit")


def timed_out(policy: FetchPolicy) -> FetchError:
    """The error for a fetch that ran past `total_timeout`."""
    return FetchError(f"timed out after {policy.total_timeout:g} s")


def oneline(value: object) -> str:
    """Return `value` as one line of at most 200 characters."""
    text = " ".join(str(value).split()) or type(value).__name__
    return text if len(text) <= 200 else text[:199] + "…"
