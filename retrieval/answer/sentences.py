"""Sentence splitting for news text (pysbd: rule-based, no data download).

pysbd's time grows faster than linearly with the length of one paragraph (a 200 KB paragraph
took 27 s, a 2 MB one did not finish in 20 minutes), and scraped pages and exports often hold
long unbroken text. So text longer than PIECE_CHARS is first cut into pieces of at most that
size, each ending where a sentence most likely ends (end punctuation and a space), else at a
space; each piece is then split on its own. Time is then linear in the length of the text.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

PIECE_CHARS = 4000
# A likely sentence end: . ! ? (maybe followed by a closing quote or bracket), then a space.
_END = re.compile(r"[.!?][\"'”’)\]]*\s")
_local = threading.local()
# Characters that re.IGNORECASE matches to ASCII letters but str.lower() does not lower to them
_FOLDED = re.compile("[\u0130\u0131\u017f\u212a]")
_SPACE = re.compile(r"\s")


def _segmenter() -> Any:
    # One per thread: a Segmenter keeps the text it is working on in its own attributes.
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        import pysbd

        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
        segmenter.language_module = _english()
    return segmenter


@functools.cache
def _english() -> type:
    """pysbd's English, with its search for abbreviations made cheap (same sentences out).

    For each line, pysbd runs a regular expression for every one of its 188 abbreviations
    whose letters occur anywhere in the line ("a", "no", "st" occur in almost every line), and
    then, for each place it matches, rewrites the line once more: 40 searches and 8 rewrites
    a paragraph, most of pysbd's time. All that can come of it is a "." after the abbreviation
    turned into "∯", so an abbreviation of letters is searched only where it stands at the
    line's start or after whitespace with a "." after it; the rest is pysbd's own loop.
    """
    from pysbd.lang.english import English

    abbreviations = [a.strip() for a in English.Abbreviation.ABBREVIATIONS]
    # pysbd's pattern puts the abbreviation in unescaped ("u.s": "." is any character): those
    # with anything but letters are left to pysbd's own search.
    letters = {a for a in abbreviations if a.isascii() and a.isalpha()}
    lengths = sorted({len(a) for a in letters})
    search = English.AbbreviationReplacer.search_for_abbreviations_in_string

    class AbbreviationReplacer(English.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text: str) -> str:
            lowered = text.lower()
            if len(lowered) != len(text) or _FOLDED.search(text):
                return search(self, text)  # letters that lower() and re.I match differently
            starts = [0, *(m.end() for m in _SPACE.finditer(text))]
            # What pysbd does with an abbreviation found is put "∯" for the "." after it: one
            # never followed by "." changes nothing (and no "." is ever added).
            present = {
                lowered[at : at + n]
                for at in starts
                for n in lengths
                if text[at + n : at + n + 1] == "."
            } & letters
            # pysbd's loop (0.3.4), each abbreviation in its order, skipping those not present
            for abbr in abbreviations:
                if abbr not in lowered or (abbr in letters and abbr not in present):
                    continue
                found = re.findall(rf"(?:^|\s|\r|\n){abbr}", text, flags=re.IGNORECASE)
                if not found:
                    continue
                next_letters = re.findall(r"(?<={" + re.escape(abbr) + "} ).{1}", text)
                for i, match in enumerate(found):
                    text = self.scan_for_replacements(text, match, i, next_letters)
            return text

    class FastEnglish(English):
        pass

    FastEnglish.AbbreviationReplacer = AbbreviationReplacer
    return FastEnglish


def split_sentences(text: str) -> list[str]:
    """Return the sentences of a paragraph, verbatim, without surrounding whitespace."""
    segmenter = _segmenter()
    found = (s.strip() for piece in _pieces(text) for s in _segment(segmenter, piece))
    return [s for s in found if s]


def _segment(segmenter: Any, text: str) -> list[str]:
    """Return what `segmenter.segment(text)` returns, without its regular expressions.

    pysbd finds each sentence back in the text with a regular expression made of the sentence
    itself: one new pattern per sentence, each compiled, and each pushing pysbd's own rules out
    of `re`'s cache of 512 (200 articles: 19,000 patterns), so that they are compiled again
    too. Here each sentence is found with `str.find`, matched as pysbd matches it (the first
    occurrence, with the whitespace after it, that ends past the previous sentence): the same
    sentences (checked on the MultiHop-RAG corpus), in a third less time.
    """
    if not text:
        return []
    sentences = []
    prior_end = 0
    for sentence in segmenter.processor(text).process():
        if not sentence:
            continue
        start = text.find(sentence)
        while start >= 0:
            end = start + len(sentence)
            while end < len(text) and text[end].isspace():
                end += 1
            if end > prior_end:
                sentences.append(text[start:end])
                prior_end = end
                break
            start = text.find(sentence, end)
    return sentences


def _pieces(text: str) -> list[str]:
    """Cut text into pieces of at most PIECE_CHARS, at likely sentence ends where possible."""
    pieces = []
    while len(text) > PIECE_CHARS:
        window = text[:PIECE_CHARS]
        ends = [m.end() for m in _END.finditer(window, PIECE_CHARS // 2)]
        cut = ends[-1] if ends else window.rfind(" ", PIECE_CHARS // 2) + 1 or PIECE_CHARS
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces
