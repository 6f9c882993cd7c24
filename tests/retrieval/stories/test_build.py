"""Timeline, compare, brief and follow matching on a small story with known dates and outlets,
with the real model and embedded Chroma."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from retrieval import Citation, NewsIndex, Topic
from retrieval.answer.prompts import NOT_FOUND
from retrieval.models import SearchFilters
from retrieval.storage.location import ChromaLocation
from tests.conftest import IndexFactory
from tests.helpers import put
from tests.retrieval.stories.corpus import (
    ALL,
    BAKERY,
    CRACKS_TIMES,
    CRACKS_WIRE,
    DAM_STORY,
    DRAIN,
    FINE,
    FOOTBALL,
    REOPENED,
    REPAIRS,
)


@pytest.fixture
def index(make_index: IndexFactory, tmp_path: Path) -> NewsIndex:
    idx = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(idx, *ALL)
    return idx


def _marks(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def _titles(citations: tuple[Citation, ...]) -> set[str]:
    return {c.passage.title for c in citations}


def test_timeline_is_oldest_first_merges_one_development_and_cites_every_line(
    index: NewsIndex,
) -> None:
    timeline = index.timeline("Riverside dam spillway")

    dates = [e.date for e in timeline.events]
    assert dates == sorted(dates)
    cited = [_titles(e.citations) for e in timeline.events]
    # The cracks, reported by City Wire and the Harbour Times a day apart: one line citing both.
    assert {CRACKS_WIRE.title, CRACKS_TIMES.title} in cited
    assert timeline.events[0].date == "2024-03-01"
    for title in (DRAIN.title, REPAIRS.title, REOPENED.title):
        assert any(title in titles for titles in cited), title
    everything = set().union(*cited)
    assert FOOTBALL.title not in everything and BAKERY.title not in everything
    numbers = [c.n for e in timeline.events for c in e.citations]
    # numbered across the timeline, in order (a passage reporting two developments: one [n])
    assert list(dict.fromkeys(numbers)) == list(range(1, len(set(numbers)) + 1))
    for event in timeline.events:
        assert event.citations and _marks(event.text) == {c.n for c in event.citations}


def test_a_timeline_reaches_the_newest_development_beyond_the_passages_searched(
    index: NewsIndex,
) -> None:
    # Searched for only the 3 passages most like the topic (the cracks), the timeline still
    # ends where the story stands: a search of the days after them finds the refilling.
    index.stories.config = replace(index.stories.config, pool=3)

    timeline = index.timeline("Riverside dam spillway cracks")

    assert timeline.events[-1].date == "2024-03-20"
    assert REOPENED.title in _titles(timeline.events[-1].citations)
    everything = set().union(*(_titles(e.citations) for e in timeline.events))
    assert FOOTBALL.title not in everything and BAKERY.title not in everything


def test_timeline_keeps_to_the_dates_asked_and_refuses_an_unknown_story(index: NewsIndex) -> None:
    late = index.timeline(
        "Riverside dam spillway", SearchFilters(since="2024-03-10", until="2024-03-31")
    )
    unknown = index.timeline("volcanic eruption in Iceland")

    assert late.events and all("2024-03-10" <= e.date <= "2024-03-31" for e in late.events)
    assert unknown.events == () and unknown.note == NOT_FOUND


def test_compare_gives_each_named_outlet_its_own_cited_lines_and_marks_the_missing(
    index: NewsIndex,
) -> None:
    result = index.compare(
        "Did both City Wire and Valley Post report the Riverside dam spillway problems?"
    )
    by_outlet = {r.outlet: r for r in result.outlets}

    assert list(by_outlet) == ["City Wire", "Valley Post"]
    for outlet, report in by_outlet.items():
        assert not report.missing and report.citations
        assert {c.passage.outlet for c in report.citations} == {outlet}
        assert _marks(report.text) == {c.n for c in report.citations}
    # Only Valley Post reported the operator's fine.
    assert FINE.title in _titles(by_outlet["Valley Post"].citations)
    fine_line = next(line for line in by_outlet["Valley Post"].text.split("\n") if "fined" in line)
    assert "(only Valley Post)" in fine_line

    missing = index.compare("Riverside dam", ["city wire", "Daily Planet"])
    assert [(r.outlet, r.missing) for r in missing.outlets] == [
        ("City Wire", False),
        ("Daily Planet", True),
    ]
    assert missing.outlets[1].citations == () and missing.outlets[1].text == ""


def test_compare_asks_an_outlet_named_twice_each_of_its_questions(index: NewsIndex) -> None:
    result = index.compare(
        "Did the Valley Post article say the dam operator will be fined for missed inspections, "
        "while City Wire reported the spillway cracks, and did the other Valley Post article "
        "report that the reservoir began refilling after the repairs?"
    )
    post = next(r for r in result.outlets if r.outlet == "Valley Post")

    assert {FINE.title, REOPENED.title} <= _titles(post.citations)


def test_compare_without_outlets_takes_those_that_covered_the_story(index: NewsIndex) -> None:
    result = index.compare("Riverside dam repairs")

    assert {r.outlet for r in result.outlets} == {"City Wire", "Harbour Times", "Valley Post"}
    assert all(r.citations for r in result.outlets)


def test_brief_groups_a_story_biggest_first_each_with_its_outlets_and_one_cited_line(
    index: NewsIndex,
) -> None:
    brief = index.brief(datetime.now(UTC) - timedelta(days=1))

    assert len({a for s in brief.stories for a in s.articles}) == len(ALL)
    biggest = brief.stories[0]
    assert len(biggest.articles) >= 3
    assert set(biggest.articles) <= {a.article_id for a in DAM_STORY}
    assert len(biggest.outlets) >= 2
    alone = {s.articles: s for s in brief.stories if len(s.articles) == 1}
    assert (FOOTBALL.article_id,) in alone and (BAKERY.article_id,) in alone
    for story in brief.stories:
        assert len(story.citations) == 1 and _marks(story.text) == {story.citations[0].n}
        assert story.citations[0].passage.article_id in story.articles

    assert index.brief(datetime.now(UTC) + timedelta(minutes=1)).stories == ()
    recent = index.brief(datetime(2024, 3, 12, tzinfo=UTC), by_published=True)
    assert {a for s in recent.stories for a in s.articles} == {
        REPAIRS.article_id,
        FINE.article_id,
        REOPENED.article_id,
    }


def test_a_followed_topic_matches_its_story_not_unrelated_or_other_outlets_articles(
    index: NewsIndex,
) -> None:
    topics = [
        Topic("dam", "Riverside dam repairs"),
        Topic("dam-post", "Riverside dam", ("Valley Post",)),
        Topic("bread", "bread prices"),
    ]
    matches = index.match_follows(topics, [a.article_id for a in ALL])
    by_topic: dict[str, set[str]] = {}
    for match in matches:
        by_topic.setdefault(match.topic, set()).add(match.article_id)
        assert match.citations and match.citations[0].passage.article_id == match.article_id

    assert by_topic["dam"] == {a.article_id for a in DAM_STORY}
    assert by_topic["dam-post"] <= {FINE.article_id, REOPENED.article_id}
    assert by_topic["dam-post"]
    assert "bread" not in by_topic  # the bakery's centenary is not about bread prices


def test_an_outlets_part_that_names_no_one_is_asked_with_the_topics_names(
    index: NewsIndex,
) -> None:
    # "…his office" is the mayor's: the Valley Post is searched for her, not for anyone's.
    topic = (
        "Does the City Wire article say Mayor Anna Lind closed the Riverside dam, while the "
        "Valley Post article says his office was fined?"
    )

    asked = index.stories._outlet_parts(topic, index.stories._named_outlets(topic)[1])

    assert asked["Valley Post"][0][0][0].startswith("Mayor Anna Lind Riverside ")
    assert asked["City Wire"][0][0][0].count("Anna Lind") == 1


def test_a_part_lent_names_that_find_nothing_is_asked_as_it_stands(index: NewsIndex) -> None:
    # The Harbour Times part names no one, so it is first asked with the topic's names (the
    # bakery's, City Wire's); the Harbour Times has nothing on them, and asked as it stands
    # it has the cracks.
    result = index.compare(
        "Does the City Wire article say the Old Town Bakery on Mill Street gave Sunday's "
        "customers free bread for its Centenary, while the Harbour Times article says engineers "
        "found deep cracks during a routine inspection?"
    )
    by_outlet = {r.outlet: r for r in result.outlets}

    assert not by_outlet["Harbour Times"].missing
    assert CRACKS_TIMES.title in _titles(by_outlet["Harbour Times"].citations)
    assert BAKERY.title in _titles(by_outlet["City Wire"].citations)


def test_the_article_the_search_ranks_first_always_gives_an_outlet_a_line(
    index: NewsIndex,
) -> None:
    # The search ranked the refilling report first for this outlet; the fine's sentence is
    # closer to the words alone and, scored alone, would have been the outlet's only line.
    words = "the dam operator to be fined for missing spillway inspections"
    found = {h.passage.article_id: h for h in index.search(words, 10)}
    refilled, fined = (
        next(h for h in found.values() if h.passage.title == a.title) for a in (REOPENED, FINE)
    )
    hits = [replace(refilled, dense=0.2), replace(fined, dense=0.9)]

    lines = index.stories._outlet_lines(words, words, hits, 3)

    assert [p.title for _, p in lines] == [REOPENED.title, FINE.title]
    alone = index.answerer.quotes(words, hits, 3, each_article=1)
    assert [p.title for _, p in alone] == [FINE.title]  # what the old rule gave


def test_an_outlet_whose_articles_name_someone_else_has_nothing_on_the_topic(
    index: NewsIndex,
) -> None:
    # The Harbour Times quoted Mayor Anna Lind on the dam: that is not Mayor Anna Berg.
    result = index.compare(
        "Did City Wire and Harbour Times report Mayor Anna Berg's plan for the Riverside dam?"
    )
    assert [(r.outlet, r.missing) for r in result.outlets] == [
        ("City Wire", True),
        ("Harbour Times", True),
    ]

    # The outlet that did report what was named still speaks.
    final = index.compare("Did City Wire and Valley Post report on Harbour Rovers' cup final?")
    post = next(r for r in final.outlets if r.outlet == "Valley Post")
    assert _titles(post.citations) == {FOOTBALL.title}


def test_an_outlets_further_article_speaks_only_when_it_is_about_what_was_asked(
    index: NewsIndex,
) -> None:
    # Asked about the fine, Valley Post's refilling report (on the same dam) is not padded in
    # as a second line: it does not answer what was asked.
    result = index.compare(
        "Did Valley Post report the dam operator's fine for missed spillway inspections?"
    )
    post = next(r for r in result.outlets if r.outlet == "Valley Post")

    assert _titles(post.citations) == {FINE.title}


def test_each_of_an_outlets_articles_has_its_likeliest_sentence_judged(
    index: NewsIndex,
) -> None:
    # Only the likeliest sentences by words and rank are judged by meaning (one here): an
    # outlet's further article that answers (a roundup's one paragraph on the story ranks low
    # as a passage) is still read, its own likeliest sentence judged.
    index.answerer.config = replace(index.answerer.config, embedded_units=1)
    words = "work on the Riverside dam spillway"
    hits = index.search(words, 10, SearchFilters(outlets=("Valley Post",)))
    dam = [h for h in hits if h.passage.title in (REOPENED.title, FINE.title)]
    assert {h.passage.title for h in dam} == {REOPENED.title, FINE.title}

    lines = index.stories._outlet_lines(words, words, dam, 3)

    assert {p.title for _, p in lines} == {REOPENED.title, FINE.title}
