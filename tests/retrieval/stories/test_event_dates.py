"""A development is dated by when it happened, as its sentence says, not by its article."""

from __future__ import annotations

import pytest

from retrieval.stories.event_dates import event_day


@pytest.mark.parametrize(
    ("sentence", "published", "day"),
    [
        # a day the sentence names, resolved against the article's date
        ("His conviction landed on Nov. 2 after a monthlong trial.", "2023-11-30", "2023-11-02"),
        ("The trial began on October 3, 2023, in Manhattan.", "2023-10-28", "2023-10-03"),
        # a weekday: the latest such day on or before the article's
        ("Sam Altman was fired late Friday by OpenAI's board.", "2023-11-18", "2023-11-17"),
        ("The council voted on Tuesday to drain the reservoir.", "2024-03-05", "2024-03-05"),
        ("Engineers testified yesterday about the code.", "2023-10-06", "2023-10-05"),
        # nothing said: the article's date
        ("Ohtani agreed to a 10-year, $700 million deal.", "2023-12-09", "2023-12-09"),
    ],
)
def test_a_development_is_dated_by_the_day_its_sentence_names(
    sentence: str, published: str, day: str
) -> None:
    assert event_day(sentence, published) == day


def test_a_sentence_recalling_an_earlier_month_is_background_not_a_development() -> None:
    assert event_day("FTX collapsed in November 2022.", "2023-10-01") is None


def test_a_day_named_in_the_future_is_not_taken_for_when_it_happened() -> None:
    # "will be sentenced on March 28": not yet happened; the article's date stands
    assert event_day("He will be sentenced on March 28, 2024.", "2023-11-03") == "2023-11-03"
