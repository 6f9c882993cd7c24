"""What runs inside the parsing worker (`ingest.worker`): trafilatura on a page, feedparser on a
feed. Each task takes and returns plain, picklable values; the callers in `ingest.formats` and
`ingest.feeds` turn them into articles.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ingest.article import ParseError

# trafilatura's time grows with the square of a page's paragraphs (measured: 20,000 1.6 s,
# 40,000 2.5 s, 80,000 6.7 s). Real article pages have a few thousand elements, the heaviest
# home pages some tens of thousands: a page with more is refused before extraction, in about a
# second, instead of using up its whole deadline.
MAX_ELEMENTS = 50_000


def extract_html(text: str) -> dict[str, Any] | None:
    """Return trafilatura's reading of a page (text and metadata), or None when it found none."""
    import trafilatura
    from trafilatura.settings import Document
    from trafilatura.utils import load_html

    try:
        tree = load_html(text)
    except MemoryError:
        raise
    except Exception as error:
        raise ParseError(f"cannot read the HTML: {error}") from error
    if tree is None:
        return None
    for elements, _ in enumerate(tree.iter(), start=1):
        if elements > MAX_ELEMENTS:
            raise ParseError(f"the page has more than {MAX_ELEMENTS:,} HTML elements; not read")

    # Without extensive search, htmldate does not invent a date from "© 2024" in the footer.
    date_params = {
        "original_date": True,
        "extensive_search": False,
        "max_date": datetime.now().strftime("%Y-%m-%d"),
    }
    try:
        document = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            output_format="python",
            date_extraction_params=date_params,
        )
    except MemoryError:
        raise
    except Exception as error:  # lxml and htmldate raise many kinds of errors on odd pages
        raise ParseError(f"cannot read the HTML: {error}") from error
    if not isinstance(document, Document):
        return None
    fields = ("text", "title", "date", "url", "sitename", "author")
    return {name: getattr(document, name, None) for name in fields}


def parse_feed(data: bytes, url: str) -> Any:
    """Return feedparser's reading of a feed's bytes (UTF-8), relative links resolved to `url`."""
    import feedparser

    # Bytes in a stream, never a str: feedparser would open a str that looks like a URL or path.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,
        },
    )
    if "bozo_exception" in parsed:  # an exception object need not survive pickling
        parsed["bozo_exception"] = str(parsed["bozo_exception"])
    return parsed


TASKS: dict[str, Callable[..., Any]] = {"html": extract_html, "feed": parse_feed}
