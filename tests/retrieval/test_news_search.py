"""Search that understands outlets, dates and speakers, with the real model and Chroma."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.index import NewsIndex
from retrieval.storage.location import ChromaLocation
from tests.conftest import IndexFactory
from tests.helpers import article, put

CLOSURE = article(
    "Harbour bridge closed for repairs",
    [
        "The harbour bridge closed on Sunday after inspectors found cracks in two of its steel "
        "cables, and traffic was diverted through the tunnel.",
        "Engineers expect the repairs to the bridge cables to take at least three weeks.",
    ],
    outlet="Harbour Times",
    date="2023-10-01",
)
REOPENING = article(
    "Bridge to reopen early, council says",
    [
        "The council said the harbour bridge would reopen to cars a week early because the cable "
        "work went faster than planned.",
        "Buses will return to the bridge route from Monday.",
    ],
    outlet="Valley Herald",
    date="2023-10-07",
)
TOLLS = article(
    "Harbour bridge tolls to rise",
    [
        "Tolls on the harbour bridge will rise by a fifth next year to pay for the cable repairs, "
        "the Harbour Times has learned.",
        "Commuters crossing the bridge twice a day will pay about 300 euros more a year.",
    ],
    outlet="Harbour Times",
    date="2023-11-20",
)
VISIT = article(
    "Mayor tours the bridge repairs",
    [
        "Mayor Anna Lind toured the harbour bridge repairs on Tuesday with the city's engineers, "
        "who showed her the bridge deck, the new bridge cables and the bridge approach roads.",
    ],
    outlet="City Wire",
    date="2023-10-03",
)
PROMISE = article(
    "No lanes until it is safe",
    [
        "“We will not reopen a single lane until every one of them is safe,” Lind told "
        "reporters at city hall on Wednesday.",
    ],
    outlet="City Wire",
    date="2023-10-04",
)


@pytest.fixture
def index(make_index: IndexFactory, tmp_path: Path) -> NewsIndex:
    idx = make_index(ChromaLocation(path=tmp_path / "chroma"), as_of=date(2023, 11, 24))
    put(idx, CLOSURE, REOPENING, TOLLS, VISIT, PROMISE)
    return idx


def _titles(index: NewsIndex, question: str, k: int = 2) -> list[str]:
    return [h.passage.title for h in index.search(question, k=k)]


def test_a_question_about_two_outlets_finds_both_reports(index: NewsIndex) -> None:
    top = _titles(
        index,
        "Did the Harbour Times say the harbour bridge cable repairs would raise tolls for "
        "commuters, while the Valley Herald said buses return?",
    )
    assert set(top) == {TOLLS.title, REOPENING.title}


def test_a_named_day_prefers_that_days_report(index: NewsIndex) -> None:
    question = "What did the Harbour Times report about the harbour bridge cable repairs on {}?"
    assert _titles(index, question.format("October 1, 2023"), k=1) == [CLOSURE.title]
    assert _titles(index, question.format("November 20, 2023"), k=1) == [TOLLS.title]


def test_last_week_means_the_week_before_the_as_of_day(index: NewsIndex) -> None:
    assert _titles(index, "What happened with the harbour bridge last week?", k=1) == [TOLLS.title]


def test_what_someone_said_puts_their_quoted_words_first(index: NewsIndex) -> None:
    hits = index.search("What did Anna Lind say about the bridge cables?", k=1)
    assert "“We will not reopen a single lane" in hits[0].passage.text

    answer = index.ask("What did Anna Lind say about the bridge cables?")
    assert answer.grounded and "We will not reopen a single lane" in answer.text


BOILERPLATE = (
    "About the harbour bridge: the harbour bridge opened in 1932 and carries about 160,000 "
    "vehicles a day across the harbour between the city centre and the northern suburbs. It is "
    "maintained by the harbour bridge authority, which publishes traffic updates for the bridge "
    "every morning, lists lane closures for the bridge a week ahead, and answers questions from "
    "drivers, cyclists and walkers who cross the bridge on its website and by telephone. The "
    "authority's office on the northern side of the bridge is open to visitors on weekdays from "
    "nine until five, and its annual report, with traffic counts, toll income and the cost of "
    "repairs to the deck, the cables and the approach roads, is published every spring."
)


def test_the_same_boilerplate_in_two_articles_is_shown_once(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    first = article(
        "Ferry strike ends",
        [
            "Ferry crews returned to work on Thursday after the union accepted a pay offer of "
            "four per cent, ending a strike that had stranded island commuters for nine days.",
            BOILERPLATE,
        ],
        outlet="Harbour Times",
        date="2023-10-02",
    )
    second = article(
        "Cycle lane plan approved",
        [
            "The council approved a protected cycle lane along the waterfront promenade, to be "
            "built over the winter at a cost of twelve million euros.",
            BOILERPLATE.replace("every morning", "each morning"),
        ],
        outlet="Valley Herald",
        date="2023-10-03",
    )
    put(index, first, second)
    assert index.store.count_passages() == 4  # boilerplate is its own passage in each article

    hits = index.search("How many vehicles cross the harbour bridge each day?", k=3)

    assert sum("160,000 vehicles" in h.passage.text for h in hits) == 1
    assert len(hits) == 3
