"""Sentence splitting: pysbd's sentences, verbatim, found back in the text without its regexes."""

import pysbd
import pytest

from retrieval.answer.sentences import PIECE_CHARS, split_sentences

PARAGRAPHS = [
    "Mr. Smith met Dr. Jones at 5 p.m. in the U.S. on Jan. 5. They talked for an hour.",
    "Yes. Yes. Yes.  No.\nYes.",  # the same sentence again: each found once, in order
    '"We will not back down," he said. "Never." Then he left.',
    "Oil rose 3.5% to $81.20 a barrel... Analysts expect more!  Will it last?   ",
    "1. First point. 2. Second point. 3. Third point.",
    "The U.N. said (in a statement) that talks would resume. E.g. in Geneva.",
    "   Leading spaces. Trailing tabs.\t\t",
    "No end punctuation at all",
    # pysbd's abbreviations, searched only where they stand before a "." (sentences.py)
    "No. 5 seed Gonzaga lost. Gov. Newsom and Sen. Padilla spoke at approx. 3 p.m. today.",
    "They moved to St. Louis, then Ft. Worth.\nGen. Milley and Lt. Col. Vindman testified.",
    "The Jets vs. the Bills ended 20-17. Acme Inc. said sales rose. ex. the U.S. Dept. of Energy.",
    "Case no. 12 went to the Supreme Ct. on Tuesday. Fig. 3 shows it. pp. 4-5 list them.",
    "İstanbul's Gov. Yerlikaya spoke. ſt. Kelvin's K. no. 5 is ok. Then ıt. ended.",
]


@pytest.mark.parametrize("text", PARAGRAPHS)
def test_the_sentences_are_pysbds_own(text: str) -> None:
    segmenter = pysbd.Segmenter(language="en", clean=False)
    expected = [s.strip() for s in segmenter.segment(text) if s.strip()]
    assert split_sentences(text) == expected


def test_a_repeated_sentence_is_kept_each_time_it_occurs() -> None:
    assert split_sentences("Yes. Yes. Yes.  No.\nYes.") == ["Yes.", "Yes.", "Yes.", "No.", "Yes."]


def test_a_long_text_is_split_in_pieces_and_loses_no_sentence() -> None:
    sentence = "The minister said the talks went well on Monday. "
    text = sentence * (3 * PIECE_CHARS // len(sentence))
    sentences = split_sentences(text)
    assert sentences == [sentence.strip()] * text.count(sentence)
