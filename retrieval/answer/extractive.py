"""The offline answerer: quote the sentences that answer, each cited to its passage.

No language model: sentences of the best passages are scored against the question (meaning,
shared rare words, the passage's own rank, and quotation when the question asks what someone
said), the best are quoted verbatim, and each carries [n] for the passage it came from. When the
passages do not cover the question's distinctive words, it says the coverage doesn't contain
the answer rather than quote something unrelated.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from retrieval.answer.prompts import NOT_FOUND
from retrieval.answer.reporting import is_heading, is_reporting
from retrieval.models import Answer, Citation, Passage, SearchHit
from retrieval.question.intent import (
    intent_of,
    reports_development,
    search_words,
    states_figure,
)
from retrieval.question.names import clauses_of, names_in
from retrieval.question.speakers import (
    ATTRIBUTION,
    is_attribution,
    speaker_of,
    spoken_about,
    spoken_by,
    surname_of,
)

logger = logging.getLogger(__name__)

_OPEN, _CLOSE = "“", "”"
_WORD = re.compile(r"\w+")
# Quoted words that are someone's speech, not a term in quotes: three words or more.
_SPEECH = re.compile(r"[“\"][^\s“”\"]+(?:\s+[^\s“”\"]+){2,}\s*[”\"]")
_READ_KEPT = 4096  # passages whose sentences are kept (a few MB)


@dataclass(frozen=True)
class SentenceWeights:
    """How a candidate sentence (or whole quotation) is scored. The values are the hand-set ones
    the answerer has always used (the seed article's "what did Putin say" questions guided
    them; docs/measurements.md's figures came from them); unlike `min_relevance`, they were not
    fitted on the MultiHop-RAG dev split.

    A unit's score = `words` × its share of the question's words (half alone, half with the
    sentence before it) + `rank` × its passage's dense score relative to the best passage,
    then + `meaning` × its cosine to the question (half alone, half with the sentence before;
    an outlet's part of an answer: alone) for the `ExtractiveConfig.embedded_units` best-scored
    units, which alone are embedded.
    """

    words: float = 0.25
    rank: float = 0.30
    meaning: float = 0.45  # the largest: a unit far behind on words and rank rarely wins
    before_share: float = 0.5  # how much the sentence before counts, for words and meaning
    # "What did X say": X's own quotation gains `said`; a unit not naming X loses `unnamed`.
    said: float = 0.15
    reported: float = 0.0  # X's words reported, not quoted, count as X's, without the gain
    unnamed: float = 0.10
    # An outcome or "latest" question (retrieval/question/intent.py): a unit gains up to
    # `recent` by how new its article is among the passages read. A figure question: a unit
    # stating a number gains `figure`.
    recent: float = 0.12
    figure: float = 0.10
    # A timeline's lines: a unit reporting something that happened gains `development`.
    development: float = 0.10
    # A passage is read for sentences when this share of the question's words is in it (else
    # only the best passage is).
    passage_coverage: float = 0.3
    relevance_passages: int = 3  # the best passages whose words count toward relevance


@dataclass(frozen=True)
class ExtractiveConfig:
    passages: int = 6  # how many of the best passages the relevance gate reads
    read: int = 10  # how many of the best passages are read for sentences to quote
    max_sentences: int = 4
    per_article: int = 2  # at most this many of them from one article
    margin: float = 0.18  # sentences scoring within this of the best one are quoted
    # Relevance = the best passage's cosine similarity + coverage_weight × the share (by rarity)
    # of the question's words found in the top three passages. Below min_relevance the answer is
    # "the coverage doesn't say". Calibrated for all-MiniLM-L6-v2 on the MultiHop-RAG dev split:
    # 97% of answerable questions pass, 84% of unanswerable ones are refused.
    min_relevance: float = 0.67
    coverage_weight: float = 0.5
    embedded_units: int = 8  # the units (sentences, whole quotations) embedded per answer
    # A question naming several outlets: an outlet's part is answered from its own passages
    # unless they fall this far below min_relevance ("nothing from X on this").
    part_slack: float = 0.15
    # ... and unless they hold less than this share (by rarity) of the proper names in the
    # part's words: a Verge passage on Sam Bankman-Fried is not The Verge on Sam Altman.
    part_names: float = 0.5
    weights: SentenceWeights = field(default_factory=SentenceWeights)

    @property
    def part_units(self) -> int:
        """The units embedded for one line of a larger whole (an outlet's part of an answer,
        or of a comparison): half an answer's, so two parts cost about one answer."""
        return max(2, self.embedded_units // 2)


@dataclass(frozen=True)
class _Unit:
    hit: int  # index of the passage among the hits
    start: int  # first and last sentence of the unit in its passage
    end: int
    text: str
    before: str  # the sentence before it (or the passage's context): what "it" refers to


def _quote_balance(text: str) -> int:
    straight = text.count('"')
    return text.count(_OPEN) - text.count(_CLOSE) + (straight % 2)


class ExtractiveAnswerer:
    """Answer from passages alone, quoting their sentences verbatim with citations."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        tokenize: Callable[[str], list[str]],
        term_weight: Callable[[str], float],
        split_sentences: Callable[[str], list[str]],
        config: ExtractiveConfig | None = None,
    ):
        self.embed = embed
        self.tokenize = tokenize
        self.term_weight = term_weight
        self.split_sentences = split_sentences
        self.config = config or ExtractiveConfig()
        self._read: OrderedDict[str, tuple[list[str], list[bool]]] = OrderedDict()
        self._read_lock = threading.Lock()

    # -- relevance --------------------------------------------------------------------------
    def _relevance(self, coverage: _Coverage, hits: Sequence[SearchHit]) -> float:
        """Return how well the best passages match the question (see ExtractiveConfig)."""
        if not hits:
            return 0.0
        best_hits = hits[: self.config.weights.relevance_passages]
        texts = [f"{h.passage.outlet or ''}\n{h.passage.contextual_text}" for h in best_hits]
        best = max(h.dense for h in hits)
        return best + self.config.coverage_weight * coverage.of(*texts)

    def names_share(self, text: str, hits: Sequence[SearchHit]) -> float:
        """Return the share (by rarity) of the proper names in one clause of `text` that these
        passages mention, the best clause's: a question listing several facts ("…, convinced
        a Jane Street colleague to join him, and is accused of …") often has each from a
        different report, so one clause met is enough; 1.0 when a clause asking something
        names nothing."""
        if not names_in(text):
            return 1.0
        texts = [h.passage.contextual_text for h in hits]
        best = 0.0
        for clause in clauses_of(text):
            names = _Coverage(" ".join(names_in(clause)), self.tokenize, self.term_weight)
            if names.total:
                best = max(best, names.of(*texts))
            elif len(self.tokenize(clause)) >= 2:  # asks something ("and what did they say" no)
                best = 1.0
        return best

    # -- answering --------------------------------------------------------------------------
    def _gate(self, question: str, top: list[SearchHit]) -> _Coverage | None:
        """Return the question's words to weigh sentences by, or None when these best
        passages don't match the question well enough to answer from (min_relevance)."""
        coverage = _Coverage(search_words(question), self.tokenize, self.term_weight)
        relevance = self._relevance(coverage, top)
        if not top or relevance < self.config.min_relevance:
            logger.info("no relevant coverage (relevance %.2f)", relevance)
            return None
        return coverage

    def answer(self, question: str, hits: Sequence[SearchHit]) -> Answer:
        """Return a cited, quoted answer, or a plain "the coverage doesn't say" when unrelated.

        For "what did X say", X's own words (quoted, or reported as X's); when the passages
        hold none, the answer says so first and quotes the nearest sentences."""
        cfg = self.config
        top = list(hits[: cfg.passages])
        coverage = self._gate(question, top)
        if coverage is None:
            return self._not_found(top)
        enough = cfg.weights.passage_coverage
        read = hits[: cfg.read]
        relevant = [h for h in read if coverage.of(h.passage.contextual_text) >= enough] or top[:1]
        speaker = speaker_of(question)
        choice = self._choose(question, coverage, speaker, relevant)
        if not choice.units:
            return self._not_found(top)
        citer = _Citer()
        lines = self._runs(choice.units, relevant, speaker, citer)
        if speaker and not choice.by_speaker:
            lines.insert(0, f"I found no words of {speaker} on this. The nearest passages:")
        return Answer("\n".join(lines), tuple(citer.citations), grounded=True)

    def answer_parts(
        self,
        question: str,
        hits: Sequence[SearchHit],
        parts: Sequence[tuple[str, str, Sequence[SearchHit]]],
    ) -> Answer:
        """Answer a question that names several outlets (or days) part by part: one cited
        line for each `(label, part's words, part's passages)`, or "Nothing from LABEL on this
        in the coverage." when its passages don't speak to it."""
        cfg = self.config
        top = list(hits[: cfg.passages])
        if self._gate(question, top) is None:
            return self._not_found(top)
        judged = []  # each part with its own passages, its words and how well they match
        for label, text, found in parts:
            own = list(found[: cfg.passages])
            part_coverage = _Coverage(text, self.tokenize, self.term_weight)
            relevance = self._relevance(part_coverage, own)
            if self.names_share(text, own) < cfg.part_names:
                relevance = 0.0  # not about the part's subject, however close in meaning
            judged.append((label, text, own, part_coverage, relevance))
        bar = cfg.min_relevance - cfg.part_slack
        speaker = speaker_of(question)
        # Every part's likeliest units are judged by meaning in one embedding call, each unit
        # on its own: a part's lines are judged against the part's words, whose passages are
        # already the outlet's own on them (the sentence before, as an answer judges it, made
        # half of a part's embedding for no better line: docs/measurements.md#outlet-parts).
        candidates = [
            self._candidates(
                text, part_coverage, speaker, own, embedded=cfg.part_units, before=False
            )
            if relevance >= bar
            else _Candidates(text, [], False, False)
            for _, text, own, part_coverage, relevance in judged
        ]
        meanings = self._meanings(candidates)
        citer = _Citer()
        lines = []
        answered: set[str] = set()
        quoted: set[tuple[str, int]] = set()  # (passage, sentence): each quoted once
        for (label, _, own, _, _), part, meaning in zip(judged, candidates, meanings, strict=True):
            # An outlet's lines come from different articles of it (as a comparison's do), or,
            # when no other article of it comes close, from its best one.
            units = self._judged(part, meaning, own, limit=2, each_article=1, fill=True).units
            units = [
                (u, score)
                for u, score in units
                if (own[u.hit].passage.passage_id, u.start) not in quoted
            ]
            if not units:
                if label not in answered:  # a second part on the same outlet: no "nothing"
                    lines.append(f"Nothing from {label} on this in the coverage.")
                continue
            answered.add(label)
            quoted.update((own[u.hit].passage.passage_id, u.start) for u, _ in units)
            lines.append(f"{label}: " + " ".join(self._runs(units, own, speaker, citer)))
        if not citer.citations:
            return self.answer(question, hits)
        return Answer("\n".join(lines), tuple(citer.citations), grounded=True)

    def relevance(self, question: str, hits: Sequence[SearchHit]) -> float:
        """Return how well the best of these passages match the question; `answer` refuses
        below `ExtractiveConfig.min_relevance`."""
        coverage = _Coverage(search_words(question), self.tokenize, self.term_weight)
        return self._relevance(coverage, list(hits[: self.config.passages]))

    def quotes(
        self,
        question: str,
        hits: Sequence[SearchHit],
        limit: int = 1,
        *,
        developments: bool = False,
        each_article: int | None = None,
        embedded: int | None = None,
        embedded_each: int = 0,
        margin: float | None = None,
    ) -> list[tuple[str, Passage]]:
        """Return up to `limit` sentences (or whole quotations) of these passages that best
        answer the question, best first, each with its passage; no relevance gate (the caller
        has one). Used to pick one line per article for timelines, comparisons and briefs;
        `developments` favours sentences reporting what happened (a timeline's lines);
        `each_article` caps the sentences taken from one article; `embedded` how many of the
        likeliest units are embedded and judged by meaning (default `embedded_units`), and
        `embedded_each` how many of each article's likeliest are, besides; `margin`: how far
        below the best sentence the others may score (default `ExtractiveConfig.margin`)."""
        top = list(hits[: self.config.passages])
        if not top:
            return []
        coverage = _Coverage(search_words(question), self.tokenize, self.term_weight)
        speaker = speaker_of(question)
        chosen = self._choose(
            question,
            coverage,
            speaker,
            top,
            limit=limit,
            developments=developments,
            each_article=each_article,
            embedded=embedded,
            embedded_each=embedded_each,
            margin=margin,
        ).units
        return [(_attributed(unit, speaker), top[unit.hit].passage) for unit, _ in chosen]

    def _units(self, hits: list[SearchHit]) -> list[_Unit]:
        """Return the quotable units of the passages: sentences, with cut quotes made whole.

        Page furniture (link lines, captions, headings, embeds, bylines: `reporting.py`) is
        never a unit, nor is a sentence that only introduces what follows ("Here is his
        email:"): what it introduced (an embed, a list) is often not in the text at all.
        """
        units = []
        seen: set[str] = set()  # pages repeat a line (a call-out box, a standfirst): once
        for h_index, hit in enumerate(hits):
            sentences, quotable = self._sentences(hit.passage.text)
            i = 0
            while i < len(sentences):
                if not quotable[i] or _same_words(sentences[i]) in seen:
                    i += 1
                    continue
                end = i
                # A quotation spread over sentences is one unit, up to its attribution.
                while (
                    _quote_balance(" ".join(sentences[i : end + 1])) > 0
                    and end + 1 < len(sentences)
                    and end - i < 3
                ):
                    end += 1
                if end + 1 < len(sentences) and is_attribution(sentences[end + 1]):
                    end += 1  # “...?” Putin added.
                seen.update(_same_words(s) for s in sentences[i : end + 1])
                before = sentences[i - 1] if i > 0 else hit.passage.context
                units.append(_Unit(h_index, i, end, " ".join(sentences[i : end + 1]), before))
                i = end + 1
        return units

    def _sentences(self, text: str) -> tuple[list[str], list[bool]]:
        """Return a passage's sentences, paragraph by paragraph, and which may be quoted.

        Kept for the passages read most recently: popular passages come back question after
        question, and splitting them (pysbd) was a fifth of an answer's time."""
        with self._read_lock:  # questions are answered in several threads at once
            found = self._read.get(text)
            if found is not None:
                self._read.move_to_end(text)
                return found
        sentences: list[str] = []
        quotable: list[bool] = []
        for paragraph in text.split("\n\n"):
            said = self.split_sentences(paragraph)
            heading = len(said) == 1 and is_heading(paragraph)
            sentences += said
            quotable += [not heading and is_reporting(s) for s in said]
        with self._read_lock:
            self._read[text] = (sentences, quotable)
            while len(self._read) > _READ_KEPT:
                self._read.popitem(last=False)
        return sentences, quotable

    def _choose(
        self,
        question: str,
        coverage: _Coverage,
        speaker: str | None,
        hits: list[SearchHit],
        *,
        limit: int | None = None,
        developments: bool = False,
        embedded: int | None = None,
        embedded_each: int = 0,
        each_article: int | None = None,
        fill: bool = False,
        margin: float | None = None,
    ) -> _Choice:
        found = self._candidates(
            question,
            coverage,
            speaker,
            hits,
            developments=developments,
            embedded=embedded,
            embedded_each=embedded_each,
        )
        (meanings,) = self._meanings([found])
        return self._judged(
            found, meanings, hits, limit=limit, each_article=each_article, fill=fill, margin=margin
        )

    def _candidates(
        self,
        question: str,
        coverage: _Coverage,
        speaker: str | None,
        hits: list[SearchHit],
        *,
        developments: bool = False,
        embedded: int | None = None,
        embedded_each: int = 0,
        before: bool = True,
    ) -> _Candidates:
        """Score the passages' units on what costs nothing and return the likeliest, to be
        judged by meaning (`_meanings`) and chosen from (`_judged`)."""
        cfg, w = self.config, self.config.weights
        best_passage = max(h.dense for h in hits) or 1.0
        surname = surname_of(speaker) if speaker else ""
        intent = intent_of(question)
        newness = _newness(hits) if intent.latest else [0.0] * len(hits)
        # First what costs nothing: the question's words in the unit (alone and with the
        # sentence before it), the passage's rank, and, for "what did X say", X's quotations.
        weighed: list[tuple[_Unit, float]] = []
        said: list[tuple[_Unit, float]] = []
        for unit in self._units(hits):
            quoted = bool(_SPEECH.search(unit.text))
            if unit.text.endswith("?") and not quoted:
                continue  # the article asking (a reader call-out, a rhetorical question)
            covered = (1 - w.before_share) * coverage.of(unit.text) + w.before_share * coverage.of(
                unit.before, unit.text
            )
            score = w.words * covered + w.rank * hits[unit.hit].dense / best_passage
            score += w.recent * newness[unit.hit]
            if intent.figure and states_figure(unit.text, money=intent.money):
                score += w.figure
            if developments and reports_development(unit.text):
                score += w.development
            if speaker:
                if quoted and (
                    spoken_by(surname, unit.text)
                    or ATTRIBUTION.search(unit.text)
                    or spoken_by(surname, unit.before)  # "Lee said: …" then the quotation
                ):
                    said.append((unit, score + w.said))
                elif spoken_by(surname, unit.text):  # reported speech: "Ellison said she …"
                    said.append((unit, score + w.reported))
                elif surname not in unit.text.lower():
                    score -= w.unnamed
            weighed.append((unit, score))
        # "What did X say": X's quoted words, not what others wrote about X; and of those, the
        # ones naming what was asked ("…about the bridge cables") when there are any (a quote
        # may say "them" for it: the others are kept when none names it).
        topic = _Coverage(spoken_about(question), self.tokenize, self.term_weight)
        if speaker and topic.total:
            said = [(u, score) for u, score in said if topic.of(u.text) > 0] or said
        by_speaker = bool(said)
        weighed = said or weighed
        # Only the likeliest units are embedded (see SentenceWeights.meaning): embedding is most
        # of an answer's time. With `embedded_each`, each article's likeliest units too: lines
        # meant to come from different articles must judge each article's best by meaning (a
        # roundup's one paragraph on the story ranks low as a passage, and its sentence would
        # otherwise never be read).
        ranked = sorted(weighed, key=lambda us: -us[1])
        weighed = ranked[: embedded or cfg.embedded_units]
        if embedded_each:
            weighed += _likeliest_of_each(ranked, hits, embedded_each, weighed)
        return _Candidates(question, weighed, by_speaker, before)

    def _meanings(self, found: Sequence[_Candidates]) -> list[list[float]]:
        """Return each candidate's closeness in meaning to its question, all in one embedding
        call.

        A unit's meaning is judged on its own and, half as much, with the sentence before it
        (on its own only where the candidates say `before=False`): enough to find "why should
        India be deprived of this right?" for a question about India's oil, not enough for a
        sentence to borrow its neighbour's answer. The pair's vector is the sum of the two
        sentences' vectors, so each distinct text is embedded once (the sentence before is
        usually the previous unit)."""
        share = self.config.weights.before_share
        texts = []
        for f in found:
            if f.weighed:
                units = [unit for unit, _ in f.weighed]
                texts += [f.question, *(u.text for u in units)]
                texts += [u.before for u in units if u.before and f.before]
        if not texts:
            return [[] for _ in found]
        row = {text: i for i, text in enumerate(dict.fromkeys(texts))}
        vectors = self.embed(list(row))
        meanings: list[list[float]] = []
        for f in found:
            if not f.weighed:
                meanings.append([])
                continue
            asked = vectors[row[f.question]]
            closeness = []
            for unit, _ in f.weighed:
                alone = vectors[row[unit.text]]
                if not (unit.before and f.before):
                    closeness.append(float(alone @ asked))
                    continue
                paired = alone + vectors[row[unit.before]]
                closeness.append(
                    (1 - share) * float(alone @ asked)
                    + share * float(paired @ asked / (np.linalg.norm(paired) or 1.0))
                )
            meanings.append(closeness)
        return meanings

    def _judged(
        self,
        found: _Candidates,
        meanings: list[float],
        hits: list[SearchHit],
        *,
        limit: int | None = None,
        each_article: int | None = None,
        fill: bool = False,
        margin: float | None = None,
    ) -> _Choice:
        """Return the units to quote: the best by score and meaning, within the margin."""
        cfg = self.config
        if not found.weighed:
            return _Choice([], found.by_speaker)
        scored = [
            (unit, score + cfg.weights.meaning * closeness)
            for (unit, score), closeness in zip(found.weighed, meanings, strict=True)
        ]
        scored.sort(key=lambda us: -us[1])
        articles = [hits[unit.hit].passage.article_id for unit, _ in scored]
        kept = _pick(
            [score for _, score in scored],
            articles,
            margin=cfg.margin if margin is None else margin,
            most=each_article or cfg.per_article,
            want=limit or cfg.max_sentences,
            fill=cfg.per_article if fill else 0,
        )
        return _Choice([scored[i] for i in kept], found.by_speaker)

    def _runs(
        self,
        chosen: list[tuple[_Unit, float]],
        hits: Sequence[SearchHit],
        speaker: str | None,
        citer: _Citer,
    ) -> list[str]:
        """Return the chosen units as cited lines, "text [n]", in reading order."""
        units = [u for u, _ in chosen]
        # Read like the articles: the best article first, each article's units in their order.
        first_rank: dict[str, int] = {}
        for unit in sorted(units, key=lambda u: u.hit):
            first_rank.setdefault(hits[unit.hit].passage.article_id, unit.hit)
        units.sort(
            key=lambda u: (
                first_rank[hits[u.hit].passage.article_id],
                hits[u.hit].passage.position,
                u.start,
            )
        )
        runs: list[tuple[list[str], int, tuple[int, int]]] = []  # texts, [n], (hit, last)
        for unit in units:
            n = citer.number(hits[unit.hit].passage)
            if runs and runs[-1][2] == (unit.hit, unit.start - 1):
                # Adjacent sentences of one passage read as one quotation.
                runs[-1][0].append(unit.text)
                runs[-1] = (runs[-1][0], runs[-1][1], (unit.hit, unit.end))
            else:
                runs.append(([_attributed(unit, speaker)], n, (unit.hit, unit.end)))
        return [f"{' '.join(texts)} [{n}]" for texts, n, _ in runs]

    @staticmethod
    def _not_found(hits: Sequence[SearchHit]) -> Answer:
        text = NOT_FOUND
        nearest = _distinct_articles([h.passage for h in hits])[:3]
        if nearest:
            names = "; ".join(
                f"“{p.title}” ({', '.join(x for x in (p.outlet, p.published_date) if x)})"
                for p in nearest
            )
            text += f" The nearest articles I have are: {names}."
        return Answer(text, (), grounded=False)


@dataclass(frozen=True)
class _Candidates:
    question: str  # what they are judged against
    weighed: list[tuple[_Unit, float]]  # the units to judge by meaning, with their scores
    by_speaker: bool  # the units are the asked-about speaker's words
    before: bool  # whether a unit's meaning is also judged with the sentence before it


@dataclass(frozen=True)
class _Choice:
    units: list[tuple[_Unit, float]]
    by_speaker: bool  # the units are the asked-about speaker's words


class _Citer:
    """Numbers passages [1], [2]… in the order an answer first quotes them."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._numbers: dict[str, int] = {}

    def number(self, passage: Passage) -> int:
        if passage.passage_id not in self._numbers:
            self._numbers[passage.passage_id] = len(self._numbers) + 1
            self.citations.append(Citation(self._numbers[passage.passage_id], passage))
        return self._numbers[passage.passage_id]


def _likeliest_of_each(
    ranked: list[tuple[_Unit, float]],
    hits: Sequence[SearchHit],
    most: int,
    taken: list[tuple[_Unit, float]],
) -> list[tuple[_Unit, float]]:
    """Each article's `most` likeliest units (ranked best first) not already `taken`."""
    chosen = {id(unit) for unit, _ in taken}
    seen: dict[str, int] = {}
    more = []
    for unit, score in ranked:
        article = hits[unit.hit].passage.article_id
        seen[article] = seen.get(article, 0) + 1
        if seen[article] <= most and id(unit) not in chosen:
            more.append((unit, score))
    return more


def _pick(
    scores: list[float], articles: list[str], *, margin: float, most: int, want: int, fill: int
) -> list[int]:
    """Return the indexes of the units to quote (scores best first): those within `margin` of
    the best, at most `most` from one article, no article filling the answer alone; with
    `fill`, places left are filled with more of the same articles' units (up to `fill` each)."""
    chosen: list[int] = []
    per_article: dict[str, int] = {}
    for cap in (most, fill) if fill else (most,):
        for i, (score, article) in enumerate(zip(scores, articles, strict=True)):
            if len(chosen) == want:
                return chosen
            if i in chosen or score < scores[0] - margin or per_article.get(article, 0) >= cap:
                continue
            per_article[article] = per_article.get(article, 0) + 1
            chosen.append(i)
    return chosen


def _newness(hits: Sequence[SearchHit]) -> list[float]:
    """Each passage's article's date among the passages' dates: 0 the oldest, 1 the newest."""
    days = [h.passage.published_date or "" for h in hits]
    known = sorted({d for d in days if d})
    if len(known) < 2:
        return [0.0] * len(hits)
    rank = {d: i / (len(known) - 1) for i, d in enumerate(known)}
    return [rank.get(d, 0.0) for d in days]


class _Coverage:
    """The share of a question's words, weighted by rarity, that texts hold; each text is
    tokenized once however often it is asked about."""

    def __init__(
        self,
        question: str,
        tokenize: Callable[[str], list[str]],
        term_weight: Callable[[str], float],
    ):
        self.tokenize = tokenize
        self.weights = {term: term_weight(term) for term in set(tokenize(question))}
        self.total = sum(self.weights.values())
        self._tokens: dict[str, frozenset[str]] = {}

    def of(self, *texts: str) -> float:
        if not self.total:
            return 0.0
        present: set[str] = set()
        for text in texts:
            if text not in self._tokens:
                self._tokens[text] = frozenset(self.tokenize(text))
            present.update(self._tokens[text])
        return sum(w for term, w in self.weights.items() if term in present) / self.total


def _same_words(sentence: str) -> str:
    """Return what two copies of a sentence share, whatever their case and punctuation."""
    return " ".join(_WORD.findall(sentence.casefold()))


def _attributed(unit: _Unit, speaker: str | None) -> str:
    """Name the speaker before a quotation whose sentence doesn't, when the one before does.

    Only the sentence before counts, so a quote is never credited to someone named further off.
    """
    if not speaker or not _SPEECH.search(unit.text):
        return unit.text  # no quotation, or only a word or two in quotes ("an “urgent” warning")
    surname = surname_of(speaker)
    if surname in unit.text.lower():
        return unit.text
    # "Putin said: …" then the quotation; or "…,” he said." just after a sentence naming Putin
    named_before = spoken_by(surname, unit.before) or (
        ATTRIBUTION.search(unit.text) is not None and surname in unit.before.lower()
    )
    return f"{speaker}: {unit.text}" if named_before else unit.text


def _distinct_articles(passages: list[Passage]) -> list[Passage]:
    seen: set[str] = set()
    unique = []
    for p in passages:
        if p.article_id not in seen:
            seen.add(p.article_id)
            unique.append(p)
    return unique
