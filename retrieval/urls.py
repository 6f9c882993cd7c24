"""Article addresses: a stable form for ids, and which URLs may be stored or shown as links."""

from __future__ import annotations

from urllib.parse import urlsplit


def normalize_url(url: str) -> str:
    """Return the url in a form stable across trivial variations (case of host, trailing slash)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    path = path.split("#", 1)[0].rstrip("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def web_url(value: object) -> str | None:
    """Return `value` stripped if it is an absolute http(s) URL with a host, else None.

    Only such URLs are stored as an article's address or shown as a link: a `javascript:`,
    `file:` or credential-bearing link from a feed or a file never reaches a reader.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return None
    return url


def same_site(url: str, other: str) -> bool:
    """Return whether two URLs are on the same site: the same host, ignoring case and `www.`.

    Deliberately stricter than "the same registrable domain": a page on one subdomain cannot
    speak for another (blog.example.com for www.example.com), and no public-suffix list is
    needed to decide it.
    """
    try:
        hosts = [urlsplit(u.strip()).hostname or "" for u in (url, other)]
    except ValueError:
        return False
    first, second = (h.lower().removeprefix("www.") for h in hosts)
    return bool(first) and first == second
