"""Article → passages: paragraph-sized, never cutting a sentence, within the model's limit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from retrieval import Article, Passage, passage_id, split_sentences

CountTokens = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class ChunkLimits:
    max_tokens: int = 256  # hard limit on a passage's word-piece tokens
    target_tokens: int = 160  # short paragraphs are merged up to about this size
    context_tokens: int = 48  # tokens of the previous passage embedded with a passage
    # Passages embedded per article; the rest of a longer text is reported, not embedded. The
    # longest article of the MultiHop-RAG corpus (609 articles) makes 145 passages, its median
    # 14; 300 holds a 40,000-word long-read, and embeds in well under a minute.
    max_passages: int = 300

    def __post_init__(self) -> None:
        if not self.max_tokens >= 16:
            raise ValueError("max_tokens must be at least 16")
        if self.target_tokens > self.max_tokens:
            # A lowered max_tokens alone (NEWSBOT_CHUNK_MAX_TOKENS=128) lowers the target too.
            object.__setattr__(self, "target_tokens", self.max_tokens)
        if self.target_tokens < 1:
            raise ValueError("target_tokens must be at least 1")
        if self.max_passages < 1:
            raise ValueError("max_passages must be at least 1")


@dataclass(frozen=True)
class _Unit:
    text: str
    paragraph: int
    tokens: int


def _split_words(sentence: str, budget: int, count: CountTokens) -> list[_Unit]:
    # Last resort for a "sentence" longer than a passage (a list or table with no full stop):
    # cut between words, at clause punctuation where possible, so nothing is truncated.
    words = re.findall(r"\S+\s*", sentence)
    sizes = count(words)
    pieces: list[_Unit] = []
    current: list[str] = []
    used = 0
    for word, size in zip(words, sizes, strict=True):
        if current and used + size > budget:
            pieces.append(_Unit("".join(current).strip(), 0, used))
            current, used = [], 0
        current.append(word)
        used += size
    if current:
        pieces.append(_Unit("".join(current).strip(), 0, used))
    return pieces


def _pack(units: list[_Unit], budget: int) -> list[_Unit]:
    packed: list[_Unit] = []
    for unit in units:
        last = packed[-1] if packed else None
        if last is not None and last.tokens + unit.tokens <= budget:
            packed[-1] = _Unit(
                f"{last.text} {unit.text}", last.paragraph, last.tokens + unit.tokens
            )
        else:
            packed.append(unit)
    return packed


def _paragraph_units(article: Article, budget: int, count: CountTokens) -> list[_Unit]:
    """Return one unit per paragraph, or sentence-packed pieces of a paragraph over budget."""
    sizes = count(list(article.paragraphs))
    units: list[_Unit] = []
    for index, (text, size) in enumerate(zip(article.paragraphs, sizes, strict=True)):
        if size <= budget:
            units.append(_Unit(text, index, size))
            continue
        sentences = split_sentences(text)
        pieces: list[_Unit] = []
        for sentence, n in zip(sentences, count(sentences), strict=True):
            if n <= budget:
                pieces.append(_Unit(sentence, index, n))
            else:
                pieces.extend(
                    _Unit(p.text, index, p.tokens) for p in _split_words(sentence, budget, count)
                )
        units.extend(_pack(pieces, budget))
    return units


def _merge_short(units: list[_Unit], limits: ChunkLimits, budget: int) -> list[_Unit]:
    merged: list[_Unit] = []
    for unit in units:
        last = merged[-1] if merged else None
        if last is not None and last.tokens + unit.tokens <= min(limits.target_tokens, budget):
            merged[-1] = _Unit(
                f"{last.text}\n\n{unit.text}", last.paragraph, last.tokens + unit.tokens
            )
        else:
            merged.append(unit)
    return merged


def _context(previous: str, room: int, count: CountTokens) -> str:
    """Return the last sentences of the previous passage that fit in `room` tokens."""
    if room <= 0:
        return ""
    sentences = split_sentences(previous.replace("\n\n", " "))
    chosen: list[str] = []
    used = 0
    for sentence, n in zip(reversed(sentences), reversed(count(sentences)), strict=True):
        if used + n > room:
            break
        chosen.insert(0, sentence)
        used += n
    return " ".join(chosen)


def capped_passages(
    article: Article, count: CountTokens, limits: ChunkLimits
) -> tuple[list[Passage], str | None]:
    """Return the article's first `limits.max_passages` passages, and a note when it had more.

    Text that cannot fit is cut before it is chunked (at most max_passages × max_tokens tokens
    are ever split into sentences), so a megabyte of prose costs what the cap allows, not more.
    The note says how much was left out, for the ingest report.
    """
    capacity = limits.max_passages * limits.max_tokens
    sizes = count(list(article.paragraphs))
    kept: list[str] = []
    used = 0
    for text, size in zip(article.paragraphs, sizes, strict=True):
        if used + size > capacity:
            room = capacity - used
            if room > 0:  # the part of this paragraph that may still fit, cut between words
                kept.append(text[: len(text) * room // size].rsplit(" ", 1)[0])
            break
        kept.append(text)
        used += size
    cut = kept != list(article.paragraphs)
    shortened = replace(article, paragraphs=tuple(p for p in kept if p)) if cut else article
    passages = chunk_article(shortened, count, limits) if shortened.paragraphs else []
    if not cut and len(passages) <= limits.max_passages:
        return passages, None
    passages = passages[: limits.max_passages]
    total = sum(len(p) for p in article.paragraphs)
    indexed = sum(len(p.text) for p in passages)
    note = (
        f"only the first {len(passages)} passages were indexed (about {indexed * 100 // total}% "
        f"of its text): at most {limits.max_passages} per article (NEWSBOT_MAX_PASSAGES)"
    )
    return passages, note


def chunk_article(article: Article, count: CountTokens, limits: ChunkLimits) -> list[Passage]:
    """Split an article into passages with stable ids, each within `limits.max_tokens`.

    The headline and the end of the previous passage travel with each passage as context for
    the embedding, in the room the passage leaves, so a quote whose paragraph never names its
    topic is still found by it.
    """
    title_tokens = count([article.title])[0] if article.title else 0
    # Reserve room for the headline in what gets embedded, but never starve the text.
    budget = max(limits.max_tokens // 2, limits.max_tokens - title_tokens - 1)
    units = _merge_short(_paragraph_units(article, budget, count), limits, budget)
    aid = article.article_id
    passages = []
    for position, unit in enumerate(units):
        context = ""
        if position > 0:
            room = min(limits.context_tokens, limits.max_tokens - title_tokens - unit.tokens - 2)
            context = _context(units[position - 1].text, room, count)
        passages.append(
            Passage(
                passage_id=passage_id(aid, article.revision, position),
                article_id=aid,
                position=position,
                text=unit.text,
                title=article.title,
                outlet=article.outlet,
                published_at=article.published_at,
                url=article.url,
                author=article.author,
                paragraph=unit.paragraph,
                context=context,
            )
        )
    return passages
