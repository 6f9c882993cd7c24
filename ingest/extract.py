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
    notices = notice_texts(tree)  # before trafilatura, which changes the tree

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
    return {name: getattr(document, name, None) for name in fields} | {"notices": notices}


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


# -- boilerplate, judged by structure -----------------------------------------------------------
# Blocks of text: an element of these with no such element inside it is one paragraph.
_BLOCKS = frozenset(
    {"p", "li", "blockquote", "dd", "dt", "td", "th", "pre", "figcaption", "caption"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article", "main"}
    | {"header", "footer", "aside", "nav", "form", "dialog"}
)
# Parts of a page that are never its article, whatever their words.
_NOT_ARTICLE = frozenset({"nav", "footer", "aside", "form", "dialog", "menu", "button", "label"})
_NOT_ARTICLE_ROLES = frozenset(
    {"dialog", "alertdialog", "navigation", "contentinfo", "complementary", "banner", "menu"}
)
_CONTROLS = frozenset({"button", "input", "select", "textarea"})
_NOTICE_LEVELS = 4  # how far up from a paragraph its notice box (with its buttons) is looked for
MIN_PROSE_WORDS = 8


def notice_texts(tree: Any) -> list[str]:
    """Return the texts of the page's paragraphs that are boilerplate by their place in it.

    A paragraph is boilerplate when it sits in a part of the page that is never an article
    (navigation, footer, aside, a form, a dialog or anything marked as one with `role` or
    `aria-modal`, a hidden element), or when it is the only prose in a box that also holds
    controls (a button, a field, a link standing on its own): a cookie banner, a paywall, a
    sign-in prompt or a teaser, however worded. An article's paragraphs share their container
    with other paragraphs, so a share button beside them does not make them notices. The
    words themselves are never looked at.
    """
    blocks = [el for el in tree.iter() if isinstance(el.tag, str) and el.tag in _BLOCKS]
    inner: set[Any] = set()  # blocks that hold another block: not paragraphs themselves
    for block in blocks:
        parent = block.getparent()
        while parent is not None and parent not in inner:
            if parent.tag in _BLOCKS:
                inner.add(parent)
            parent = parent.getparent()
    paragraphs = [b for b in blocks if b not in inner and _words(b) >= MIN_PROSE_WORDS]
    prose_in: dict[Any, int] = {}
    for paragraph in paragraphs:
        for ancestor in _ancestors(paragraph, _NOTICE_LEVELS):
            prose_in[ancestor] = prose_in.get(ancestor, 0) + 1
    with_controls: set[Any] = set()
    in_prose = set(paragraphs)
    for control in tree.iter(*_CONTROLS, "a"):
        # A link inside a paragraph is part of its text; one standing on its own beside the
        # paragraph ("Register", "Subscribe", "Read more") is a control.
        if control.tag == "a" and in_prose.intersection([control, *_ancestors(control, 8)]):
            continue
        with_controls.update(_ancestors(control, _NOTICE_LEVELS + 1))
    notices = []
    for paragraph in paragraphs:
        boxed = False
        for ancestor in _ancestors(paragraph, _NOTICE_LEVELS):
            if prose_in[ancestor] > 1 or ancestor.tag in ("body", "html"):
                break
            if ancestor in with_controls:
                boxed = True
                break
        if boxed or _outside_article(paragraph):
            notices.append(" ".join(paragraph.text_content().split()))
    return notices


def _words(element: Any) -> int:
    return len(element.text_content().split())


def _ancestors(element: Any, levels: int) -> list[Any]:
    found: list[Any] = []
    parent = element.getparent()
    while parent is not None and len(found) < levels:
        found.append(parent)
        parent = parent.getparent()
    return found


def _outside_article(element: Any) -> bool:
    """Return whether the element or one around it is a part of a page that is no article."""
    node = element
    while node is not None:
        if isinstance(node.tag, str) and (
            node.tag in _NOT_ARTICLE
            or (node.get("role") or "").lower() in _NOT_ARTICLE_ROLES
            or (node.get("aria-modal") or "").lower() == "true"
            or node.get("hidden") is not None
        ):
            return True
        node = node.getparent()
    return False


TASKS: dict[str, Callable[..., Any]] = {"html": extract_html, "feed": parse_feed}
