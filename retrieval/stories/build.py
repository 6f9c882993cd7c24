"""A story seen whole: its timeline, how outlets covered it, the day's brief, followed topics.

Each view is built from the same parts as an answer: the hybrid search finds the articles, the
extractive answerer's relevance gate decides whether the coverage is about the topic at all,
and its sentence scorer picks the one line of each article that speaks to the topic. Stored
passage vectors (no model call) tell which articles are one story; the model embeds only the
chosen lines, to merge the same development reported by several outlets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from retrieval.answer.extractive import ExtractiveAnswerer
from retrieval.answer.prompts import NOT_FOUND
from retrieval.models import (
    Passage,
    Publication,
    SearchFilters,
    SearchHit,
    passage_id,
)
from retrieval.question.names import names_in
from retrieval.question.outlets import OutletNames
from retrieval.question.query import plan_query
from retrieval.search import narrow
from retrieval.storage.store import PassageStore
from retrieval.stories.brief import group_stories
from retrieval.stories.event_dates import event_day
from retrieval.stories.models import (
    Brief,
    BriefStory,
    Comparison,
    FollowMatch,
    Numbering,
    OutletReport,
    Timeline,
    TimelineEvent,
    Topic,
    cited,
)

logger = logging.getLogger(__name__)

# The words around outlet names in "Did both X and Y report …" that are not the topic.
_FRAMING = re.compile(
    r"\b(?:did|does|do|have|has|both|either|all|and|or|report(?:ed|s|ing)?|cover(?:ed|s)?|"
    r"mention(?:ed|s)?|write|wrote|written|say|said)\b",
    re.IGNORECASE,
)

Search = Callable[[str, int, SearchFilters | None], list[SearchHit]]

_WORDS = re.compile(r"\w+")
# The names and figures a line states: capitalised words past its first, numbers, amounts.
_FACT_WORDS = re.compile(r"\$?\d[\d,.]*%?|\b[A-Z][\w'’-]+")
_NOT_NAMES = frozenset(
    """the a an he she it they we i his her its their this that these those but and or so
    if when while after before as at in on of for to by with from mr ms mrs dr""".split()  # noqa: SIM905 - a word list reads better as text
)


def facts_of(line: str) -> set[str]:
    """Return the names and figures a sentence states (casefolded), its first word aside."""
    found = _FACT_WORDS.findall(line)
    first = found[:1] if found and line.lstrip().startswith(found[0]) else []
    return _facts(line) - _facts(" ".join(first)) if first else _facts(line)


def _facts(text: str) -> set[str]:
    found = (re.sub(r"['’]s$", "", w.casefold().rstrip(".,")) for w in _FACT_WORDS.findall(text))
    return set(found) - _NOT_NAMES


@dataclass(frozen=True)
class StoryConfig:
    """How the story views choose and merge; hand-set on the tests' small corpora and checked
    on MultiHop-RAG (docs/measurements.md#answers-and-story-views)."""

    pool: int = 40  # passages searched for a timeline or a comparison
    band: float = 0.15  # an article counts when its best cosine is within this of the best one
    top_ranked: int = 8  # …or when it is among this many best hits of the search
    max_events: int = 15
    later_pool: int = 10  # passages searched among the days after the newest article found
    lines_per_article: int = 2  # developments one article may give a timeline
    merge_days: int = 3  # reports this close in time, saying the same, are one development
    same_line: float = 0.8  # cosine of two lines that say the same thing
    carried_line: float = 0.65  # …and of a line and another outlet's that say much the same
    max_outlets: int = 6
    outlet_lines: int = 2  # a compared outlet's lines, each from another of its articles
    named_outlet_lines: int = 3  # …for an outlet the reader named
    # Of each of an outlet's articles, its likeliest sentences judged by meaning for its lines,
    # and how far below its best line the others may score: more sentences compete than in an
    # answer, so the bar is closer than ExtractiveConfig.margin
    # (docs/measurements.md#compare-lines).
    article_units: int = 2
    line_margin: float = 0.15
    compare_band: float = 0.25  # wider: an outlet's angle on a story may be further off
    named_slack: float = 0.1  # how far below the relevance gate a named outlet may still speak
    same_story: float = 0.6  # cosine of two articles' leads that tell one story (brief)
    max_stories: int = 10
    follow_bar: float = 0.7  # relevance a new article needs to be posted to a follower
    follow_min_cosine: float = 0.35  # topics further than this from every passage: not scored


class Stories:
    """The story views over one index's store, search, answerer and model."""

    def __init__(
        self,
        store: PassageStore,
        search: Search,
        answerer: ExtractiveAnswerer,
        embed: Callable[[list[str]], np.ndarray],
        *,
        outlet_names: Callable[[], OutletNames],
        config: StoryConfig | None = None,
    ):
        self.store = store
        self.search = search
        self.answerer = answerer
        self.embed = embed
        self.outlet_names = outlet_names
        self.config = config or StoryConfig()
        self._topic_vectors: dict[str, np.ndarray] = {}

    # -- timeline ---------------------------------------------------------------------------
    def timeline(self, topic: str, filters: SearchFilters | None = None) -> Timeline:
        """The dated developments of a story, oldest first, one line per development.

        Each article gives up to `lines_per_article` developments (a second only when it
        happened on another day), dated by when they happened (`event_dates.py`); the same
        development reported again, by another outlet or the same, is one line citing all;
        a sentence repeated across one outlet's articles (a series' tagline) is none. The
        `max_events` most relevant developments are kept, then put in order."""
        cfg = self.config
        hits = self.search(topic, cfg.pool, filters)
        if not self._about(topic, hits):
            return Timeline(topic, note=NOT_FOUND)
        candidates: list[tuple[float, str, Passage, str]] = []  # relevance, text, passage, day
        for article_hits in self._on_the_story(topic, hits, filters)[: cfg.max_events * 2]:
            published = article_hits[0].passage.published_date
            if not published:
                continue
            relevance = max(h.dense for h in article_hits)
            for text, passage in self.answerer.quotes(topic, article_hits, 3, developments=True):
                candidates.append((relevance, text, passage, published))
        if not candidates:
            return Timeline(topic, note="None of the articles on this topic is dated.")
        lines = _developments(candidates, cfg.lines_per_article)
        vectors = self.embed([text for _, _, text, _ in lines])
        groups: list[list[int]] = []  # indexes into lines (most relevant first), merged
        for i, (_, day, _, _) in enumerate(lines):
            for group in groups:
                if (
                    min(_days_between(lines[j][1], day) for j in group) <= cfg.merge_days
                    and max(float(vectors[i] @ vectors[j]) for j in group) >= cfg.same_line
                ):
                    group.append(i)
                    break
            else:
                groups.append([i])
        kept = groups[: cfg.max_events]
        newest = max(groups, key=lambda g: max(lines[j][1] for j in g))
        if newest not in kept:  # where the story stands now is always told
            kept[-1] = newest
        kept.sort(key=lambda g: min(lines[j][1] for j in g))
        numbering = Numbering(self._also_published)
        events = []
        for group in kept:
            members = sorted(group, key=lambda j: lines[j][1])
            _, day, text, _ = lines[members[0]]
            citations = tuple(dict.fromkeys(numbering.cite(lines[j][3]) for j in members))
            events.append(TimelineEvent(day, cited(text, citations), citations))
        return Timeline(topic, tuple(events))

    def _on_the_story(
        self, topic: str, hits: list[SearchHit], filters: SearchFilters | None
    ) -> list[list[SearchHit]]:
        """The articles of the story, most relevant first: those the search found, then those
        published after the newest of them (a search of the later days alone: the verdict of
        a trial is one article among dozens on it, and often not among the most alike). That
        narrower search finds what is merely alike too, so its articles must mention the
        topic's names (the answerer's `names_share`): not another Sam, not another trial."""
        cfg = self.config
        articles = self._articles(hits)
        days = [g[0].passage.published_date for g in articles if g[0].passage.published_date]
        if days:
            after = (date.fromisoformat(max(days)) + timedelta(days=1)).isoformat()
            later = self.search(topic, cfg.later_pool, narrow(filters, SearchFilters(since=after)))
            known = {h.passage.passage_id for h in hits}
            fresh = [h for h in later if h.passage.passage_id not in known]
            if fresh and self._about(topic, fresh):
                bar = self.answerer.config.part_names
                articles += [
                    g for g in self._articles(fresh) if self.answerer.names_share(topic, g) >= bar
                ]
        return articles

    # -- compare ----------------------------------------------------------------------------
    def compare(
        self,
        topic: str,
        outlets: Sequence[str] = (),
        filters: SearchFilters | None = None,
    ) -> Comparison:
        """Per outlet, what it reported or quoted on the topic; what only one carried is marked.

        The outlets are those given, else those the topic names ("Did both The Verge and
        TechCrunch…", searched without the names), else the outlets of the articles most about
        the topic. An outlet with nothing on the topic is listed as missing."""
        cfg = self.config
        named, subject = self._named_outlets(topic)
        chosen = self._resolve_outlets(outlets) or named
        if not chosen:
            hits = self.search(subject, cfg.pool, filters)
            if not self._about(subject, hits):
                return Comparison(topic, note=NOT_FOUND)
            found = [g[0].passage.outlet for g in self._articles(hits, cfg.compare_band)]
            chosen = list(dict.fromkeys(o for o in found if o))[: cfg.max_outlets]
        base = filters or SearchFilters()
        # Outlets the reader named are shown unless their passages are plainly off the topic.
        slack = cfg.named_slack if (outlets or named) else 0.0
        # Outlets the reader named (a few) show more of their articles than those chosen here.
        per_outlet = cfg.named_outlet_lines if (outlets or named) else cfg.outlet_lines
        # "Does the X article say A, while the Y article says B?": X is asked about A; an
        # outlet named twice ("…, and does the other X article say C?") is asked both.
        asked = self._outlet_parts(topic, subject) if named else {}
        found_hits: dict[str, list[SearchHit]] = {}
        lines: dict[str, list[tuple[str, Passage]]] = {}
        for outlet in chosen:
            for tries, stated in asked.get(outlet, [((subject,), subject)]):
                where = replace(base, outlets=(outlet,))
                # A part lent the story's names is asked as written when they find nothing: the
                # names may be another outlet's ("…as Liam Neeson told FOX, while people in
                # The Independent…").
                words, own = "", []
                for attempt in tries:
                    hits = self.search(attempt, 10, where)
                    if self._about(attempt, hits, slack):
                        words, own = attempt, hits
                        break
                if not own:
                    continue
                seen = {h.passage.passage_id for h in found_hits.get(outlet, [])}
                found_hits.setdefault(outlet, []).extend(
                    h for h in own if h.passage.passage_id not in seen
                )
                said = lines.setdefault(outlet, [])
                quoted = {text for text, _ in said}
                said += [
                    line
                    for line in self._outlet_lines(words, stated, own, per_outlet)
                    if line[0] not in quoted
                ]
        numbering = Numbering(self._also_published)
        reports = []
        for outlet in chosen:
            if not lines.get(outlet):
                reports.append(OutletReport(outlet, "", missing=True))
                continue
            others = {o: h for o, h in found_hits.items() if o != outlet}
            texts, citations, unique = [], [], []
            for text, passage in lines[outlet]:
                citation = numbering.cite(passage)
                citations.append(citation)
                alone = len(chosen) > 1 and not self._carried_by_others(subject, text, others)
                unique.append(alone)
                mark = f" (only {outlet})" if alone else ""
                texts.append(cited(text, (citation,)) + mark)
            reports.append(
                OutletReport(outlet, "\n".join(texts), tuple(citations), only=all(unique))
            )
        return Comparison(topic, tuple(reports))

    def _outlet_lines(
        self, words: str, stated: str, hits: Sequence[SearchHit], limit: int
    ) -> list[tuple[str, Passage]]:
        """An outlet's lines on `words`: its sentences that answer best (each article's
        likeliest judged by meaning), each from another of its articles and close to the best
        one (`line_margin`), and always one from the article the search ranks first (it weighs
        words, meaning and dates over whole passages, and finds the article a part of a
        question is about more often than a sentence scored alone does).
        Only articles naming half of what the part `stated` names speak, as an answer's part
        must: none is the outlet having nothing on it (a Verge article on Sam Bankman-Fried is
        not The Verge on Sam Altman)."""
        bar = self.answerer.config.part_names
        grouped: dict[str, list[SearchHit]] = {}
        for hit in hits:
            grouped.setdefault(hit.passage.article_id, []).append(hit)
        named = {a for a, g in grouped.items() if self.answerer.names_share(stated, g) >= bar}
        pool = [h for h in hits if h.passage.article_id in named]
        if not pool:
            return []
        cfg = self.config
        lines = self.answerer.quotes(
            words,
            pool,
            limit,
            each_article=1,
            embedded_each=cfg.article_units,
            margin=cfg.line_margin,
        )
        first = pool[0].passage.article_id
        if any(p.article_id == first for _, p in lines):
            return lines
        top = self.answerer.quotes(
            words, grouped[first], 1, embedded=self.answerer.config.part_units
        )
        return (top + lines)[:limit]

    def _carried_by_others(self, topic: str, line: str, others: dict[str, list[SearchHit]]) -> bool:
        """Whether another compared outlet reported what `line` says; in doubt, yes.

        Carried when another outlet's passages on the topic state every figure the line
        states, or a third of its names (the story's own names aside), or when one of its
        sentences says much the same (`carried_line`). A line is its outlet's alone only when
        none of that holds and it states at least two names or figures to check."""
        facts = facts_of(line)
        figures = {f for f in facts if f[:1].isdigit() or f[:1] == "$"}
        names = facts - figures - _facts(topic)  # the story's own names are everyone's
        if len(figures | names) < 2:
            return True  # nothing checkable: no mark
        for hits in others.values():
            words = {w for h in hits for w in _facts(h.passage.text)}
            if (figures and figures <= words) or (names and len(names & words) >= len(names) / 3):
                return True
        counterparts = [
            quoted[0][0] for hits in others.values() if (quoted := self.answerer.quotes(line, hits))
        ]
        if not counterparts:
            return False
        vectors = self.embed([line, *counterparts])
        return bool(float((vectors[1:] @ vectors[0]).max()) >= self.config.carried_line)

    def _resolve_outlets(self, given: Sequence[str]) -> list[str]:
        stored = {o.casefold(): o for o in self.store.outlets()}
        names = self.outlet_names()
        resolved = []
        for name in given:
            if name.casefold() in stored:
                resolved.append(stored[name.casefold()])
            elif mentions := names.find(name) or names.find(name.title()):
                resolved.extend(mentions[0].outlets)
            else:
                resolved.append(name)  # reported as having nothing on the topic
        return list(dict.fromkeys(resolved))

    def _named_outlets(self, topic: str) -> tuple[list[str], str]:
        """The outlets a topic names, and the topic without their names (what to search)."""
        mentions = self.outlet_names().find(topic)
        found = [o for mention in mentions for o in mention.outlets]
        subject = topic
        for mention in reversed(mentions):
            subject = subject[: mention.start] + subject[mention.end :]
        if mentions:  # "Did both X and Y report …": what is left of the framing is not the topic
            subject = _FRAMING.sub(" ", subject)
        return list(dict.fromkeys(found)), " ".join(subject.split()) or topic

    def _outlet_parts(
        self, topic: str, subject: str
    ) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        """What a topic asks of each outlet it names, when it asks each its own part (all of
        them, in order, for an outlet named in several parts): (the words to try, in order;
        the part as stated). A part naming no one is tried first with the names of the
        `subject` (the topic without its outlets), then as stated."""
        plan = plan_query(topic, self.outlet_names(), date.today())
        asked: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for part in plan.parts:
            words = " ".join(_FRAMING.sub(" ", part.text).split())
            tries: tuple[str, ...] = (words,)
            if not names_in(words):  # "…while the TechCrunch article says his wealth …": whose
                lent = " ".join([*dict.fromkeys(names_in(subject)), words])
                tries = (lent, words) if len(words.split()) >= 4 else (lent,)
            if len(tries[0].split()) >= 4:
                for outlet in part.filters.outlets:
                    if (tries, words) not in asked.setdefault(outlet, []):
                        asked[outlet].append((tries, words))
        return asked

    # -- brief ------------------------------------------------------------------------------
    def brief(self, since: datetime, *, by_published: bool = False) -> Brief:
        """The stories that came in since `since`, grouped, biggest first, one cited sentence
        each. `by_published`: by publication date instead of when they were ingested."""
        cfg = self.config
        cutoff = since.isoformat()
        day = since.date().isoformat()
        articles = [
            a
            for a in self.store.list_articles()
            if (
                (a.published_at or "")[:10] >= day
                if by_published
                else (a.ingested_at or "") >= cutoff
            )
        ]
        if not articles:
            return Brief(cutoff)
        leads = self.store.get_passages(
            [passage_id(a.article_id, a.revision, 0) for a in articles], with_embeddings=True
        )
        by_id = {p.article_id: (p, v) for p, v in leads.values() if v is not None}
        articles = [a for a in articles if a.article_id in by_id]
        vectors = {aid: np.asarray(v) for aid, (_, v) in by_id.items()}
        numbering = Numbering(self._also_published)
        result = []
        for story in group_stories(articles, vectors, cfg.same_story)[: cfg.max_stories]:
            named, newest = story.representative, story.newest
            passage = by_id[newest.article_id][0]
            quoted = self.answerer.quotes(
                f"{named.title}\n{newest.title}", [SearchHit(passage, 1.0, dense=1.0)], 1
            ) or [(passage.text.split("\n")[0][:300], passage)]
            text, source = quoted[0]
            citation = numbering.cite(source)
            result.append(
                BriefStory(
                    named.title,
                    story.outlets,
                    cited(text, (citation,)),
                    (citation,),
                    tuple(a.article_id for a in story.articles),
                )
            )
        return Brief(cutoff, tuple(result))

    # -- follow -----------------------------------------------------------------------------
    def match(self, topics: Sequence[Topic], article_ids: Sequence[str]) -> list[FollowMatch]:
        """Which of these newly committed articles match which followed topics: those scoring
        at least `follow_bar` (see `scores`), each with its best sentence for the topic."""
        matches = []
        for topic, article_id, score, hits in self.scores(topics, article_ids):
            if score < self.config.follow_bar:
                continue
            quoted = self.answerer.quotes(topic.text, hits, 1)
            if not quoted:
                continue
            citation = Numbering(self._also_published).cite(quoted[0][1])
            text = cited(quoted[0][0], (citation,))
            matches.append(FollowMatch(topic.key, article_id, score, text, (citation,)))
        return matches

    def prepare(self, topics: Sequence[Topic]) -> None:
        """Embed the topics not embedded yet (kept for the life of the index)."""
        texts = list(dict.fromkeys(t.text for t in topics))
        missing = [t for t in texts if t not in self._topic_vectors]
        if missing:
            self._topic_vectors.update(zip(missing, self.embed(missing), strict=True))

    def scores(
        self, topics: Sequence[Topic], article_ids: Sequence[str]
    ) -> list[tuple[Topic, str, float, list[SearchHit]]]:
        """Score each new article against each topic: (topic, article id, relevance, the
        article's passages as hits, best first), for the pairs whose best passage is within
        `follow_min_cosine` of the topic.

        From the article's stored passage vectors (one matrix product, no search): relevance =
        best cosine + the share of the topic's words in its best passages, as the answer's
        relevance gate computes it."""
        if not topics or not article_ids:
            return []
        self.prepare(topics)
        topic_matrix = np.stack([self._topic_vectors[t.text] for t in topics])
        wanted = [{o.casefold() for o in t.outlets} for t in topics]
        infos = self.store.records(article_ids)
        scored = []
        for article_id in dict.fromkeys(article_ids):
            stored = infos.get(article_id)
            if stored is None:
                continue
            info = stored.info
            ids = [passage_id(article_id, info.revision, i) for i in range(info.passages)]
            found = list(self.store.get_passages(ids, with_embeddings=True).values())
            if not found:
                continue
            passages = [p for p, _ in found]
            cosines = np.stack([np.asarray(v) for _, v in found]) @ topic_matrix.T
            near = np.flatnonzero(cosines.max(axis=0) >= self.config.follow_min_cosine).tolist()
            for t in near:
                topic = topics[t]
                if wanted[t] and (info.outlet or "").casefold() not in wanted[t]:
                    continue
                order = np.argsort(-cosines[:, t])
                hits = [
                    SearchHit(passages[i], float(cosines[i, t]), dense=float(cosines[i, t]))
                    for i in order
                ]
                scored.append((topic, article_id, self.answerer.relevance(topic.text, hits), hits))
        return scored

    # -- shared -----------------------------------------------------------------------------
    def _also_published(self, article_id: str) -> tuple[Publication, ...]:
        info = self.store.article(article_id)
        return info.also_published if info else ()

    def _about(self, topic: str, hits: Sequence[SearchHit], slack: float = 0.0) -> bool:
        """Whether these passages are about the topic at all (the answer's relevance gate,
        lowered by `slack`)."""
        relevance = self.answerer.relevance(topic, hits)
        logger.info("topic %r: relevance %.2f", topic[:80], relevance)
        return bool(hits) and relevance >= self.answerer.config.min_relevance - slack

    def _articles(
        self, hits: Sequence[SearchHit], band: float | None = None
    ) -> list[list[SearchHit]]:
        """The hits grouped by article, best article first, keeping articles whose best passage
        is within `band` of the best one by meaning, or that is among the `top_ranked` hits of
        the search (which weighs the outlets and days a question names) and shares its words."""
        band = self.config.band if band is None else band
        if not hits:
            return []
        best = max(h.dense for h in hits)
        ranked = {h.passage.article_id for h in hits[: self.config.top_ranked] if h.lexical > 0}
        grouped: dict[str, list[SearchHit]] = {}
        for hit in hits:
            grouped.setdefault(hit.passage.article_id, []).append(hit)
        return [
            g
            for aid, g in grouped.items()
            if aid in ranked or max(h.dense for h in g) >= best - band
        ]


def _developments(
    candidates: list[tuple[float, str, Passage, str]], per_article: int
) -> list[tuple[float, str, str, Passage]]:
    """Return (relevance, day it happened, text, passage) of the lines worth a timeline, most
    relevant first: no series tagline, no background, and per article at most `per_article`
    lines, each on a day of its own."""
    articles_saying: dict[tuple[str, str], set[str]] = {}
    for _, text, passage, _ in candidates:
        key = (passage.outlet or "", " ".join(_WORDS.findall(text.casefold())))
        articles_saying.setdefault(key, set()).add(passage.article_id)
    lines = []
    days_of: dict[str, set[str]] = {}
    for relevance, text, passage, published in sorted(candidates, key=lambda c: -c[0]):
        key = (passage.outlet or "", " ".join(_WORDS.findall(text.casefold())))
        if len(articles_saying[key]) > 1:
            continue  # the same words in several of one outlet's articles: a tagline
        day = event_day(text, published)
        taken = days_of.setdefault(passage.article_id, set())
        if day is None or day in taken or len(taken) >= per_article:
            continue
        taken.add(day)
        lines.append((relevance, day, text, passage))
    return lines


def _days_between(first: str, second: str) -> int:
    return abs((datetime.fromisoformat(second) - datetime.fromisoformat(first)).days)
