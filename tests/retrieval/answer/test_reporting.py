"""Which sentences may be quoted: real lines from news pages (the MultiHop-RAG corpus)."""

from __future__ import annotations

import pytest

from retrieval.answer.reporting import is_furniture, is_heading, is_lead_in, is_reporting

FURNITURE = [
    "MORE: Projecting Shohei Ohtani's contract in free agency",
    "Also Read: ICC World Cup 2023: List of centuries; Most tons in World Cup so far",
    "READ MORE: Referee ripped after Junior Paulo's dominant KO",
    "Related: Could CRISPR cure HIV someday?",
    "CLICK HERE TO GET THE FOX NEWS APP",
    "Photograph: Randy Brooks/AFP/Getty Images",
    "New Zealand played some scintillating rugby in victory (AFP via Getty Images)",
    "Sam Bankman-Fried listens as Assistant U.S. Attorney Nicolas Roos questions Gary Wang "
    "at Federal Court in New York City, U.S., October 6, 2023, in this courtroom sketch.",
    "— Sam Altman (@sama) November 18, 2023",
    "Time to get loose 🏃 pic.twitter.com/fWUbJQQiyp — Canada Soccer (@CanadaSoccerEN) "
    "November 18, 2023",
    "Read more about how we evaluate products.",
    "This article contains affilate links; if you click such a link and make a purchase, "
    "we may earn a commission.",
    "By Jane Doe and John Roe",
    "i loved my time at openai.",
    "3-2.",
    "Save Log in , register or subscribe to save articles for later.",
    "Save articles for later Add articles to your saved list and come back to them any time.",
    "We use Google reCaptcha to protect our website and the Google Privacy Policy and Terms of "
    "Service apply.",
    "For more information see our Privacy Policy .",
    "© Copyright of Globes Publisher Itonut (1983) Ltd., 2023.",
    "Email (required) Sign up By submitting your email, you agree to our Terms and Privacy "
    "Notice .",
    "Was this helpful?",
    "Read this article for free!",
]

LEAD_INS = [
    "There's also this tweet from Sweeney:",
    "Here is an email from Epic CEO Tim Sweeney that, I think, speaks for itself:",
    "Here’s what he sent back:",
    "As the lawsuit puts it:",
]

REPORTING = [
    "Sam Bankman-Fried, the founder of failed cryptocurrency exchange FTX, has been found "
    "guilty on seven counts including charges of wire fraud.",
    "Rather, it relies on affiliate commissions to generate revenue.",
    "By then, Microsoft had already hired Altman and Brockman to head up a new internal AI unit.",
    "“We recognize that the immediacy of Live brings unique challenges,” Meta wrote.",
    "The rear-wheel version — which, reminder isn’t available until 2025 — starts at $60,990.",
    "Watching the trial has been exhausting for everyone involved.",
    "The company updated its privacy policy after the regulator's ruling, Meta said.",
]


@pytest.mark.parametrize("line", FURNITURE)
def test_page_furniture_is_never_quoted(line: str) -> None:
    assert is_furniture(line)
    assert not is_reporting(line)


@pytest.mark.parametrize("line", LEAD_INS)
def test_a_sentence_that_only_introduces_what_follows_is_not_quoted_alone(line: str) -> None:
    assert is_lead_in(line)
    assert not is_reporting(line)


@pytest.mark.parametrize("line", REPORTING)
def test_reporting_sentences_are_quoted(line: str) -> None:
    assert is_reporting(line)


@pytest.mark.parametrize(
    ("paragraph", "heading"),
    [
        ("Murati told of Altman’s firing", True),
        ("Gaza’s blockade and economy", True),
        ("MLB playoff schedule, results", True),
        ("Altman won’t be returning as CEO, according to a report in The Information.", False),
        ("He said it would take “months, not weeks”", False),  # a long quote without a period
    ],
)
def test_headings_are_short_lines_without_a_sentence_end(paragraph: str, heading: bool) -> None:
    assert is_heading(paragraph) is heading
