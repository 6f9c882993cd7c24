"""Parsers for each supported file format, from decoded text to `Article`s.

Every parser raises `ParseError` when the whole source is unusable; the JSON parsers collect
failures of single items instead, so one bad record does not cost the rest of the file.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit

from ingest.article import ParsedSource, ParseError, build_article, clean_text, optional_text
from ingest.extract import MIN_PROSE_WORDS
from retrieval import Article, normalize_url, same_site, web_url

logger = logging.getLogger(__name__)

# A domain name or a port inside a claimed site name (`_names_no_other_site`).
_DOMAIN = re.compile(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*")
_PORT = re.compile(r":\s*\d")
_SEED_FIRST_LINE = re.compile(r"^\s*date (?P<date>\d{4}-\d{2}-\d{2})( \d+)?\s*$")
# "(MENAFN) Russian President..." — the outlet name opening a wire-style first paragraph.
_OUTLET_MARKER = re.compile(r"^\(\s*(?P<outlet>[A-Za-z][^()]{0,39}?)\s*\)\s*(?:[-–—]\s+)?")

_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z_ -]*?)\s*:\s*(?P<value>.*?)\s*$")
_FRONT_MATTER_KEYS = {
    "date": "published_at",
    "published": "published_at",
    "published_at": "published_at",
    "outlet": "outlet",
    "source": "outlet",
    "url": "url",
    "author": "author",
    "title": "title",
}
_FENCE = "---"

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)(?:\s+#+)?\s*$")
_MD_RULE = re.compile(r"^\s*(?:[-*_=]\s*){3,}$")
_MD_IMAGE = re.compile(r"^\s*!\[[^\]]*\]\([^)]*\)\s*$")
_MD_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_MD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\([^)]*\)")
_MD_STRONG = re.compile(r"\*\*|__")
_HEADLINE_MARKS = re.compile(r"^\s*#+\s*")
_BLANK_LINE = re.compile(r"\n\s*\n")

NO_ARTICLE = "no article text found"
# How long reading one HTML file may take when no fetch budget bounds it (a file on disk).
FILE_PARSE_SECONDS = 60.0
TOO_DEEP = "malformed JSON: nested too deeply"
# An article body: at least this much text in paragraphs of at least MIN_PROSE_WORDS words.
MIN_BODY_CHARS = 120
_NOT_A_LETTER = re.compile(r"[\W_]+")


def is_seed(text: str) -> bool:
    """Return whether the text is in the seed layout: a `date YYYY-MM-DD [id]` first line."""
    first_line = text.split("\n", 1)[0]
    return _SEED_FIRST_LINE.match(first_line) is not None


def parse_seed(text: str, name: str, *, notes: list[tuple[str, str]] | None = None) -> Article:
    """Parse the seed layout: date line, headline line, then one paragraph per line."""
    lines = text.splitlines()
    match = _SEED_FIRST_LINE.match(lines[0])
    published_at = match["date"] if match else None
    headline = lines[1] if len(lines) > 1 else None
    paragraphs = [line.strip() for line in lines[2:] if line.strip()]
    outlet = None
    if paragraphs:
        marker = _OUTLET_MARKER.match(paragraphs[0])
        if marker:
            outlet = marker["outlet"]
            paragraphs[0] = paragraphs[0][marker.end() :]
    return build_article(
        headline, paragraphs, name, outlet=outlet, published_at=published_at, notes=notes
    )


def parse_plain(
    text: str, name: str, *, markdown: bool, notes: list[tuple[str, str]] | None = None
) -> Article:
    """Parse plain text or Markdown: optional front matter, a headline, blank-line paragraphs."""
    meta, lines = _split_front_matter(text.splitlines())
    if markdown:
        lines = _markdown_lines(lines)
    title = meta.get("title")
    if not title:
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None:
            title = _HEADLINE_MARKS.sub("", lines[first])
            lines = lines[first + 1 :]
    paragraphs = _join_blocks(lines)
    if paragraphs and title and clean_text(paragraphs[0]).lower() == clean_text(title).lower():
        paragraphs = paragraphs[1:]  # the headline repeated under front matter that named it
    return build_article(
        title,
        paragraphs,
        name,
        outlet=meta.get("outlet"),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        author=meta.get("author"),
        notes=notes,
    )


def _split_front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return the known `key: value` fields at the top of a document and the lines after them."""
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if lines[start:] and lines[start].strip() == _FENCE:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == _FENCE), None)
        if end is not None:
            return _fields(lines[start + 1 : end]), lines[end + 1 :]
    meta: dict[str, str] = {}
    position = start
    while position < len(lines) and (field := _front_matter_field(lines[position])):
        meta[field[0]] = field[1]
        position += 1
    return meta, lines[position:]


def _fields(lines: list[str]) -> dict[str, str]:
    """Return the known fields among the lines of a fenced front matter block."""
    pairs = (_front_matter_field(line) for line in lines)
    return dict(pair for pair in pairs if pair is not None)


def _front_matter_field(line: str) -> tuple[str, str] | None:
    """Return (field, value) when the line is `key: value` with a known key, else None."""
    match = _FIELD.match(line)
    if match is None:
        return None
    key = match["key"].lower().replace(" ", "_").replace("-", "_")
    if key not in _FRONT_MATTER_KEYS:
        return None
    value = match["value"]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]  # YAML-style quoting
    return _FRONT_MATTER_KEYS[key], value


def _markdown_lines(lines: list[str]) -> list[str]:
    """Return the lines with Markdown syntax removed; blank lines mark block boundaries."""
    result: list[str] = []
    for line in lines:
        heading = _MD_HEADING.match(line)
        if heading:
            result += ["", heading["text"], ""]  # a heading is a block of its own
        elif _MD_RULE.match(line) or _MD_IMAGE.match(line):
            result.append("")
        else:
            content = _MD_QUOTE.sub("", line)
            if _MD_LIST_ITEM.match(content):
                result.append("")  # each list item starts a new paragraph
            result.append(_MD_STRONG.sub("", _MD_LINK.sub(r"\1", content)))
    return result


def _join_blocks(lines: list[str]) -> list[str]:
    """Return the blank-line separated blocks, each with its hard-wrapped lines joined."""
    return [clean_text(block) for block in _BLANK_LINE.split("\n".join(lines))]


def parse_html(
    text: str,
    name: str,
    *,
    page_url: str | None = None,
    deadline: float | None = None,
    outlet_names: Mapping[str, str] | None = None,
    notes: list[tuple[str, str]] | None = None,
) -> Article:
    """Extract the article of a web page with trafilatura: headline, metadata, paragraphs.

    `page_url` is the address the page was fetched from (after redirects). The page's own
    canonical URL then replaces it only when it is on the same site (`same_site`): a page
    cannot file itself under another outlet's article. A cross-site canonical is kept as
    metadata. Without `page_url` (a file on disk) the canonical URL is the article's address.
    The outlet of a fetched page is decided by `outlet_name`.

    The extraction runs in a worker process (`ingest.worker`) stopped at `deadline` (a
    `time.monotonic()` value; default FILE_PARSE_SECONDS from now), so no page can hold the
    caller longer: it fails with a one-line ParseError instead.
    """
    from ingest import worker

    if deadline is None:
        deadline = time.monotonic() + FILE_PARSE_SECONDS
    document = worker.run("html", (text,), deadline=deadline, what="the page")
    if not document or not (document["text"] or "").strip():
        raise ParseError(NO_ARTICLE)
    # Paragraphs the page's structure shows to be notices (ingest.extract.notice_texts) are
    # dropped, even where trafilatura kept them beside an article.
    notices = {_text_key(notice) for notice in document["notices"]}
    paragraphs = [clean_text(line) for line in document["text"].split("\n")]
    paragraphs = [p for p in paragraphs if p and _text_key(p) not in notices]
    title = clean_text(document["title"] or "")
    if not title and paragraphs:
        title = paragraphs.pop(0)
    # trafilatura keeps the page's <h1> as the first line of the text.
    if paragraphs and paragraphs[0].lower() == title.lower():
        paragraphs.pop(0)
    if not has_article_body(paragraphs):
        raise ParseError(NO_ARTICLE)
    url, canonical = _page_address(document["url"], page_url)
    outlet = document["sitename"]
    if page_url is not None:
        outlet = outlet_name(outlet, page_url, outlet_names)
    return build_article(
        title,
        paragraphs,
        name,
        outlet=outlet or host_name(url),
        published_at=document["date"],
        url=url,
        author=document["author"],
        canonical_url=canonical,
        notes=notes,
    )


def has_article_body(paragraphs: list[str]) -> bool:
    """Return whether extracted text holds an article, not only navigation and boilerplate.

    A body needs MIN_BODY_CHARS of prose: paragraphs of at least MIN_PROSE_WORDS words.
    Menus, link lists and footers are short lines, so a page of only those has none; notices
    (cookie banners, paywalls, sign-in prompts) were removed before, by their place in the
    page, whatever their wording (`ingest.extract.notice_texts`).
    """
    prose = [paragraph for paragraph in paragraphs if len(paragraph.split()) >= MIN_PROSE_WORDS]
    return sum(len(paragraph) for paragraph in prose) >= MIN_BODY_CHARS


def _text_key(text: str) -> str:
    """Return text as compared with a notice's: letters and digits only, lowercased."""
    return _NOT_A_LETTER.sub("", text).lower()


def _page_address(canonical: str | None, page_url: str | None) -> tuple[str | None, str | None]:
    """Return (url to store the article under, canonical url kept only as metadata)."""
    if page_url is None:
        return canonical, None
    if canonical and web_url(canonical) and same_site(canonical, page_url):
        return canonical, None
    if canonical and normalize_url(canonical) != normalize_url(page_url):
        logger.info("%s names %s as canonical: another site, kept as metadata", page_url, canonical)
        return page_url, canonical
    return page_url, None


def host_name(url: str | None) -> str | None:
    """Return the host of a url without a leading `www.`, a port or credentials, or None."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def outlet_name(
    claimed: object, page_url: str, names: Mapping[str, str] | None = None
) -> str | None:
    """Return the outlet of a page fetched from `page_url`, which no page can choose freely.

    An admin's name for the host (`names`, from NEWSBOT_OUTLET_NAMES: "reuters.com" also
    covers "www.reuters.com") wins. Otherwise the page's claimed site name is kept only when it
    belongs to the fetched site: its words, run together from the first (a leading "The" may
    be skipped, as may a "the" the domain starts with), spell the registrable domain's label
    ("Reuters" on reuters.com, "BBC News" on bbc.co.uk, "Guardian" on theguardian.com), as
    the public-suffix list draws it (`tld`; a name under no known suffix, such as legit.test,
    uses the label before the last). Anything else, and any page on an IP
    address, is filed under the fetched host: no port, no credentials, no leading `www.`.
    """
    host = host_name(page_url)
    if host is None:
        return None
    for known, given in (names or {}).items():
        if host == known.lower().removeprefix("www."):
            return given
    name = optional_text(claimed)
    label = _site_label(host)
    if name and label and _names_no_other_site(name, host):
        spellings = _name_spellings(name)
        if label in spellings or (label.startswith("the") and label[3:] in spellings):
            return name
    return host


def _registrable_domain(host: str) -> tuple[str, str] | None:
    """Return (label, registrable domain) of a host: ("bbc", "bbc.co.uk") for news.bbc.co.uk.

    Only the ICANN part of the public-suffix list counts: under a suffix anyone can take a
    name in for free (github.io, blogspot.com) the registrable domain is the host's own
    (github.io), so `reuters.github.io` cannot call itself Reuters. A host under no known
    suffix (legit.test, localhost) uses its last two labels. None for an IP address.
    """
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    from tld import get_tld

    found = get_tld(
        host, fix_protocol=True, as_object=True, fail_silently=True, search_private=False
    )
    if found is not None and not isinstance(found, str):
        return found.domain, found.fld
    labels = host.split(".")
    return labels[-2 if len(labels) > 1 else 0], ".".join(labels[-2:])


def _site_label(host: str) -> str | None:
    """Return the label of a host's registrable domain ("bbc" for news.bbc.co.uk), or None."""
    found = _registrable_domain(host)
    return (found[0].replace("-", "") or None) if found else None


def _names_no_other_site(name: str, host: str) -> bool:
    """Return whether a claimed site name carries no address: no credentials, port or path,
    and no domain name but the fetched host's own ("evil.test@legit.test:8080" on evil.test,
    or "Evil — reuters.com", would pass the spelling check on their first word)."""
    if "@" in name or "/" in name or _PORT.search(name):
        return False
    own = _registrable_domain(host)
    return all(
        own is not None and (_registrable_domain(domain.lower()) or ("", ""))[1] == own[1]
        for domain in _DOMAIN.findall(name)
    )


def _name_spellings(name: str) -> set[str]:
    """Return a site name's words run together from the first: "BBC News" → bbc, bbcnews."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    spellings = {"".join(words[:n]) for n in range(1, len(words) + 1)}
    if words[:1] == ["the"]:
        spellings |= {"".join(words[1:n]) for n in range(2, len(words) + 1)}
    return spellings


def parse_json(text: str, name: str) -> ParsedSource:
    """Parse a JSON file holding one article object or a list of them."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"malformed JSON: {error.msg} (line {error.lineno} column {error.colno})"
        if error.msg == "Extra data":
            reason += "; several objects need a [list] or a .jsonl file"
        raise ParseError(reason) from error
    except RecursionError:
        raise ParseError(TOO_DEEP) from None
    if isinstance(data, dict):
        warnings: list[tuple[str, str]] = []
        return ParsedSource([json_article(data, name, notes=warnings)], [], warnings)
    if not isinstance(data, list):
        raise ParseError(f"expected an article object or a list of them, found {_kind(data)}")
    if not data:
        raise ParseError("the JSON list holds no articles")
    result = ParsedSource([], [])
    for index, item in enumerate(data):
        _collect(result, item, f"{name}[{index}]")
    return result


def parse_json_lines(text: str, name: str) -> ParsedSource:
    """Parse a JSON Lines file: one article object per line, blank lines ignored."""
    result = ParsedSource([], [])
    # Not splitlines(): JSON strings may hold a raw U+2028, which it would split on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        origin = f"{name}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            result.errors.append((origin, f"malformed JSON: {error.msg} (column {error.colno})"))
            continue
        except RecursionError:
            result.errors.append((origin, TOO_DEEP))
            continue
        _collect(result, item, origin)
    return result


def _collect(result: ParsedSource, item: object, origin: str) -> None:
    """Add the item's article to the result, or its reason for failing to the errors."""
    try:
        result.articles.append(json_article(item, origin, notes=result.warnings))
    except ParseError as error:
        result.errors.append((origin, str(error)))


def json_article(
    item: object, origin: str, *, notes: list[tuple[str, str]] | None = None
) -> Article:
    """Return the Article described by one JSON object; raise ParseError if it is unusable."""
    if not isinstance(item, dict):
        raise ParseError(f"expected an article object, found {_kind(item)}")
    outlet = _first(item, "source", "outlet")
    if isinstance(outlet, dict):
        outlet = outlet.get("name")  # NewsAPI style: {"id": ..., "name": ...}
    author = item.get("author")
    if isinstance(author, list):
        author = ", ".join(clean_text(a) for a in author if isinstance(a, str) and a.strip())
    return build_article(
        _first(item, "title", "headline"),
        _body_paragraphs(_first(item, "body", "text")),
        origin,
        outlet=outlet,
        published_at=_first(item, "published_at", "date"),
        url=item.get("url"),
        author=author,
        notes=notes,
    )


def _first(item: dict[str, object], *keys: str) -> object:
    """Return the first of the keys' values that is present and not null."""
    return next((item[key] for key in keys if item.get(key) is not None), None)


def _body_paragraphs(body: object) -> list[str]:
    """Return the paragraphs of a JSON body: a string or a list of paragraph strings."""
    if body is None:
        return []
    if isinstance(body, list) and all(isinstance(p, str) for p in body):
        return list(body)
    if not isinstance(body, str):
        raise ParseError(f"article body must be text or a list of paragraphs, not {_kind(body)}")
    if _BLANK_LINE.search(body):
        return _BLANK_LINE.split(body)
    return body.split("\n")


def _kind(value: object) -> str:
    """Return how a JSON value's type reads in a message."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")
