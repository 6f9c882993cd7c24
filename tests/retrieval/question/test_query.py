"""Outlet names and the parts of a question (pure: no model, no store)."""

from __future__ import annotations

from datetime import date

from retrieval.question.outlets import OutletNames
from retrieval.question.query import plan_query
from retrieval.question.speakers import surname_of

OUTLETS = OutletNames(
    [
        "TechCrunch",
        "The Verge",
        "The Age",
        "Fortune",
        "FOX News - Health",
        "FOX News - Lifestyle",
        "CBSSports.com",
        "Cnbc | World Business News Leader",
    ]
)
TODAY = date(2026, 11, 27)


def _found(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(text[m.start : m.end], m.outlets) for m in OUTLETS.find(text)]


def test_outlets_are_found_by_name_section_and_short_name() -> None:
    assert _found("according to techcrunch") == [("techcrunch", ("TechCrunch",))]
    assert _found("the FOX News - Health article") == [
        ("FOX News - Health", ("FOX News - Health",))
    ]
    assert _found("what FOX News reported") == [
        ("FOX News", ("FOX News - Health", "FOX News - Lifestyle"))
    ]
    assert _found("the cbssports.com piece") == [("cbssports.com", ("CBSSports.com",))]
    assert _found("CNBC says") == [("CNBC", ("Cnbc | World Business News Leader",))]
    assert _found("the Verge and The Age") == [
        ("the Verge", ("The Verge",)),
        ("The Age", ("The Age",)),
    ]


def test_outlet_names_in_quotes_are_found() -> None:
    assert _found("Does the 'Fortune' article agree with the ‘FOX News - Health’ one?") == [
        ("Fortune", ("Fortune",)),
        ("FOX News - Health", ("FOX News - Health",)),
    ]
    assert _found("l'Fortune") == []  # inside a word, still not a name


def test_outlet_names_that_are_ordinary_words_count_only_capitalised() -> None:
    assert _found("on the verge of a deal, at the age of 30, a fortune spent") == []


def test_a_question_without_outlets_or_dates_is_searched_as_it_is() -> None:
    plan = plan_query("What did Putin say about India's oil?", OUTLETS, TODAY)
    assert plan.parts == ()
    assert plan.speaker == "Putin"
    assert surname_of("Vladimir Putin") == "putin"


def test_a_question_about_what_an_article_said_has_no_speaker() -> None:
    plan = plan_query("What did the Fortune article say about Apple's chips?", OUTLETS, TODAY)
    assert plan.speaker is None
    assert plan.parts[0].filters.outlets == ("Fortune",)


def test_a_question_about_two_outlets_is_two_searches() -> None:
    plan = plan_query(
        "Does the TechCrunch article on GPT-4 suggest lower toxicity, while the Fortune "
        "report on Meta's open source AI warns of disinformation?",
        OUTLETS,
        TODAY,
    )
    assert [p.filters.outlets for p in plan.parts] == [("TechCrunch",), ("Fortune",)]
    first, second = (p.text for p in plan.parts)
    assert "GPT-4" in first and "Meta" not in first
    assert "Meta's open source AI" in second and "GPT-4" not in second
    assert "TechCrunch" not in first and "Fortune" not in second  # filters, not words


def test_each_part_keeps_its_own_day() -> None:
    plan = plan_query(
        "Between the TechCrunch report on the trial published on October 1, 2023, and the "
        "TechCrunch report on the verdict published on October 7, 2023, did the tone change?",
        OUTLETS,
        TODAY,
    )
    assert [(p.filters.outlets, p.filters.since, p.filters.until) for p in plan.parts] == [
        (("TechCrunch",), "2023-10-01", "2023-10-01"),
        (("TechCrunch",), "2023-10-07", "2023-10-07"),
    ]
    assert "trial" in plan.parts[0].text and "verdict" in plan.parts[1].text


def test_an_outlet_that_ends_its_clause_keeps_the_clause_before_it() -> None:
    plan = plan_query(
        "Which company plans new Macs according to TechCrunch, and forces uniform terms on "
        "developers as reported by The Verge?",
        OUTLETS,
        TODAY,
    )
    assert [p.filters.outlets for p in plan.parts] == [("TechCrunch",), ("The Verge",)]
    assert "new Macs" in plan.parts[0].text and "uniform terms" in plan.parts[1].text


def test_outlets_named_together_each_search_the_whole_question() -> None:
    plan = plan_query(
        "Who is the founder on trial for fraud, as reported by TechCrunch and The Verge?",
        OUTLETS,
        TODAY,
    )
    assert [p.filters.outlets for p in plan.parts] == [("TechCrunch",), ("The Verge",)]
    assert all("founder on trial for fraud" in p.text for p in plan.parts)


def test_a_relative_date_narrows_the_question() -> None:
    plan = plan_query("What did the council decide last week about buses?", OUTLETS, TODAY)
    assert [(p.filters.since, p.filters.until) for p in plan.parts] == [
        ("2026-11-20", "2026-11-27")
    ]
    assert plan.parts[0].text.startswith("What did the council decide")
