"""Date expressions in questions, resolved against a fixed day."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.question.dates import find_dates, option_day, option_filters

TODAY = date(2026, 11, 27)  # a Friday


def _ranges(text: str) -> list[tuple[str, str | None, str | None]]:
    return [
        (
            text[r.start : r.end],
            r.since.isoformat() if r.since else None,
            r.until.isoformat() if r.until else None,
        )
        for r in find_dates(text, TODAY)
    ]


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What was said yesterday about the strike?", "2026-11-26", "2026-11-26"),
        ("What happened last week in Gaza?", "2026-11-20", "2026-11-27"),
        ("Any news this month on rates?", "2026-11-01", "2026-11-27"),
        ("stories from the past 3 days", "2026-11-24", None),
        ("What did the Fed do in November 2023?", "2023-11-01", "2023-11-30"),
        ("articles published on 2023-11-27", "2023-11-27", "2023-11-27"),
        ("the report published on October 1, 2023, said", "2023-10-01", "2023-10-01"),
        ("the 5th of November 2023", "2023-11-05", "2023-11-05"),
        ("coverage before October 5", None, "2026-10-04"),
        ("coverage on or before Nov. 3, 2023", None, "2023-11-03"),
        ("after the 5th of November 2023", "2023-11-06", None),
        ("since November", "2026-11-01", None),
        ("between October 1, 2023 and October 7, 2023", "2023-10-01", "2023-10-07"),
    ],
)
def test_date_expressions_become_ranges(
    question: str, since: str | None, until: str | None
) -> None:
    found = _ranges(question)
    assert len(found) == 1, found
    assert found[0][1:] == (since, until)


def test_a_day_without_a_year_is_the_latest_one_not_in_the_future() -> None:
    assert _ranges("on December 15")[0][1] == "2025-12-15"
    assert _ranges("on November 3")[0][1] == "2026-11-03"


def test_two_days_in_one_question_stay_separate_and_in_order() -> None:
    found = _ranges("TechCrunch reported on October 31, 2023, and then on December 15, 2023")
    assert [f[1] for f in found] == ["2023-10-31", "2023-12-15"]


@pytest.mark.parametrize(
    "question",
    [
        "What may happen to interest rates?",  # "may" is a verb
        "Will the march go ahead?",
        "Was he at the age of 30 when elected?",
        "the 2023-13-45 build",  # not a real date
        "February 30, 2024",
        "What did Putin say about India's oil?",
    ],
)
def test_words_that_are_not_dates_are_left_alone(question: str) -> None:
    assert _ranges(question) == []


@pytest.mark.parametrize(
    ("value", "since", "until"),
    [
        ("2023-11-27", "2023-11-27", "2023-11-27"),
        ("November 2023", "2023-11-01", "2023-11-30"),
        ("november", "2026-11-01", "2026-11-30"),
        ("may", "2026-05-01", "2026-05-31"),
        ("2023", "2023-01-01", "2023-12-31"),
        ("last week", "2026-11-20", "2026-11-27"),
        ("yesterday", "2026-11-26", "2026-11-26"),
        ("in October", "2026-10-01", "2026-10-31"),
        ("before November", None, "2026-10-31"),  # no first day: not a since
    ],
)
def test_a_since_or_until_option_takes_what_a_question_says(
    value: str, since: str | None, until: str | None
) -> None:
    first = option_day(value, TODAY, first=True)
    last = option_day(value, TODAY, first=False)
    assert (first and first.isoformat(), last and last.isoformat()) == (since, until)


@pytest.mark.parametrize("value", ["soon", "last week and more", "2023-02-30", "12/11"])
def test_an_option_that_names_no_date_is_refused_by_name(value: str) -> None:
    assert option_day(value, TODAY, first=True) is None
    with pytest.raises(ValueError, match=f"--until wants a date .* not “{value}”"):
        option_filters((), None, value, TODAY, names=("--since", "--until"))


def test_options_become_the_search_filters() -> None:
    filters = option_filters(("Reuters",), "last week", "yesterday", TODAY)
    assert (filters.outlets, filters.since, filters.until) == (
        ("Reuters",),
        "2026-11-20",
        "2026-11-26",
    )
