"""The extractive answerer's rules, with a bag-of-words stand-in for the model (fast)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from retrieval.answer.extractive import ExtractiveAnswerer, ExtractiveConfig
from retrieval.answer.sentences import split_sentences
from retrieval.models import Passage, SearchHit
from retrieval.question.speakers import speaker_of
from retrieval.storage.tokenizer import Tokenizer

VOCAB: dict[str, int] = {}
tokenize = Tokenizer()


def embed(texts: list[str]) -> np.ndarray:
    rows = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        for token in tokenize(text):
            rows[i, VOCAB.setdefault(token, len(VOCAB) % 512)] += 1.0
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


def hit(text: str, position: int, dense: float, article: str = "a1") -> SearchHit:
    passage = Passage(f"{article}-{position}", article, position, text, "Mayor on the bridge")
    return SearchHit(passage, score=1.0 / (position + 1), dense=dense)


def answerer(**config: Any) -> ExtractiveAnswerer:  # ExtractiveConfig's fields
    return ExtractiveAnswerer(
        embed, tokenize, lambda term: 1.0, split_sentences, ExtractiveConfig(**config)
    )


def test_speaker_is_read_from_what_did_x_say_questions() -> None:
    assert speaker_of("What did Vladimir Putin say about the G7?") == "Vladimir Putin"
    assert speaker_of("how has the mayor responded to the bridge closure") == "the mayor"
    assert speaker_of("When does the bridge reopen?") is None


def test_a_quote_is_kept_whole_up_to_its_attribution_and_cited() -> None:
    hits = [
        hit(
            "The council met on Monday. “The bridge will reopen. Safety comes first.” "
            "Mayor Lee said.",
            0,
            0.8,
        ),
        hit("Traffic was diverted through the old town for the whole week.", 1, 0.5),
    ]

    answer = answerer().answer("What did Lee say about the bridge?", hits)

    assert answer.grounded
    assert "“The bridge will reopen. Safety comes first.” Mayor Lee said. [1]" in answer.text
    assert [c.passage.passage_id for c in answer.citations] == ["a1-0"]


def test_citations_are_numbered_in_order_of_first_use_and_all_cited() -> None:
    hits = [
        hit("The bridge reopens on Friday after repairs to its cables.", 3, 0.9),
        hit("Repairs to the bridge cables cost four million euros.", 1, 0.85),
    ]

    answer = answerer(margin=1.0).answer("When does the bridge reopen after cable repairs?", hits)

    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(set(numbers)) == [c.n for c in answer.citations] == [1, 2]
    # passages of one article read in article order, whatever their rank
    assert answer.citations[0].passage.position == 1


def test_reader_call_outs_are_never_quoted() -> None:
    hits = [hit("Do you know more about the bridge? The bridge reopens on Friday.", 0, 0.9)]

    answer = answerer().answer("When does the bridge reopen?", hits)

    assert "Do you know more" not in answer.text
    assert "The bridge reopens on Friday." in answer.text


def test_unrelated_passages_get_a_plain_refusal_naming_the_nearest_article() -> None:
    hits = [hit("The bridge reopens on Friday.", 0, 0.2)]

    answer = answerer().answer("What did Macron say about Brazil?", hits)

    assert not answer.grounded
    assert answer.citations == ()
    assert "doesn't say" in answer.text and "Mayor on the bridge" in answer.text


def test_a_quote_whose_sentence_does_not_name_the_speaker_is_attributed() -> None:
    hits = [
        hit(
            "Mayor Lee said the bridge would reopen on Friday after the cable work. "
            "“Nobody crosses until the last cable is tested.”",
            0,
            0.8,
        )
    ]

    answer = answerer().answer("What did Mayor Lee say about the bridge cable work?", hits)

    # Credited by name, or quoted straight after the sentence that names him (one line).
    line = next(li for li in answer.text.splitlines() if "Nobody crosses" in li)
    assert line.startswith(("Mayor Lee: “Nobody crosses", "Mayor Lee said the bridge"))


def test_an_unattributed_quote_gets_no_speaker_it_might_not_have() -> None:
    hits = [
        hit(
            "The bridge cable work ends on Friday. “Nobody crosses until the last cable is "
            "tested,” an engineer said. Mayor Lee visited the site.",
            0,
            0.8,
        )
    ]

    answer = answerer().answer("What did Mayor Lee say about the bridge cable work?", hits)

    assert "Mayor Lee: “" not in answer.text


# -- a question naming several outlets: one line per outlet ----------------------------------
def outlet_hit(text: str, article: str, dense: float, outlet: str) -> SearchHit:
    passage = Passage(f"{article}-0", article, 0, text, article, outlet=outlet)
    return SearchHit(passage, score=dense, dense=dense)


FORTUNE = [
    outlet_hit("Engineers finished the repair of the bridge cables on Monday.", "f1", 0.45, "F"),
    outlet_hit("The bridge cables repair cost the city four million euros.", "f2", 0.44, "F"),
]
VERGE = [outlet_hit("A new phone was launched with a larger screen.", "v1", 0.2, "V")]
VERGE_BRIDGE = [outlet_hit("Crews closed the bridge for the cables repair.", "v2", 0.4, "V")]
FORTUNE_TWO_LINES = outlet_hit(
    "Engineers finished the repair of the bridge cables on Monday. The bridge cables repair had "
    "taken two years.",
    "f1",
    0.46,
    "F",
)


def test_an_outlets_lines_come_from_different_articles_of_it() -> None:
    question = "How did Fortune and The Verge cover the bridge cables repair?"
    fortune = [
        FORTUNE_TWO_LINES,
        *FORTUNE[1:],
    ]
    parts = [("Fortune", "How did cover the bridge cables repair", fortune)]
    parts.append(("The Verge", "cover the bridge cables repair", VERGE))

    answer = answerer().answer_parts(question, fortune + VERGE, parts)

    assert {c.passage.article_id for c in answer.citations} == {"f1", "f2"}


def test_the_parts_of_a_question_are_judged_in_one_embedding_call_each_line_on_its_own() -> None:
    # Embedding is most of an answer's time: the parts' likeliest lines go in one call, and
    # without the sentence before each (an answer's own lines are also judged with it): two
    # outlets cost about what one answer does.
    calls: list[list[str]] = []

    def counted(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return embed(texts)

    fortune = [
        outlet_hit(
            "Was it safe? Engineers finished the repair of the bridge cables.",
            "f1",
            0.45,
            "F",
        ),
        FORTUNE[1],
    ]
    verge = [outlet_hit("Who knew? Crews closed the bridge for the cables repair.", "v2", 0.4, "V")]
    parts = [
        ("Fortune", "How did cover the bridge cables repair", fortune),
        ("The Verge", "cover the bridge cables repair", verge),
    ]
    question = "How did Fortune and The Verge cover the bridge cables repair?"
    judge = ExtractiveAnswerer(counted, tokenize, lambda term: 1.0, split_sentences)

    answer = judge.answer_parts(question, fortune + verge, parts)

    assert "Fortune: " in answer.text and "The Verge: " in answer.text
    assert len(calls) == 1
    # a question the article asks is never quoted: here only a sentence before
    assert not {"Was it safe?", "Who knew?"} & set(calls[0])


def test_a_second_part_on_an_answered_outlet_adds_no_nothing_line() -> None:
    question = (
        "Did Fortune report the bridge cables repair, while The Verge covered the bridge "
        "cables repair, and did the other Fortune article report what the repair cost?"
    )
    parts = [
        ("Fortune", "Did report the bridge cables repair", FORTUNE),
        ("The Verge", "while covered the bridge cables repair", VERGE_BRIDGE),
        ("Fortune", "and did the other article report what the repair cost?", VERGE),
    ]

    answer = answerer().answer_parts(question, FORTUNE + VERGE_BRIDGE + VERGE, parts)

    assert answer.text.startswith("Fortune: ") and "The Verge: " in answer.text
    assert "Nothing from Fortune" not in answer.text


def test_an_outlet_with_one_article_on_it_gets_that_articles_two_best_lines() -> None:
    question = "How did Fortune and The Verge cover the bridge cables repair?"
    fortune = [
        FORTUNE_TWO_LINES,
        outlet_hit("A new phone was launched with a larger screen.", "f3", 0.1, "F"),
    ]
    parts = [
        ("Fortune", "How did cover the bridge cables repair", fortune),
        ("The Verge", "cover the bridge cables repair", VERGE_BRIDGE),
    ]

    answer = answerer().answer_parts(question, fortune + VERGE_BRIDGE, parts)

    fortune_line = answer.text.splitlines()[0]
    assert "on Monday." in fortune_line and "taken two years." in fortune_line


def test_an_outlets_passages_on_another_person_of_the_same_first_name_are_not_its_answer() -> None:
    # The Verge's passage shares "Sam", "return", the meaning of a return, but not Altman or
    # OpenAI: the part is about someone else, so The Verge gets a plain "nothing" line.
    question = "How did TechCrunch and The Verge cover Sam Altman's return to OpenAI?"
    techcrunch = [
        outlet_hit("Sam Altman will return to OpenAI as its chief executive.", "t1", 0.7, "TC")
    ]
    verge = [
        outlet_hit(
            "Sam Bankman-Fried said the return on the trades was large, so Sam kept trading.",
            "v1",
            0.7,
            "V",
        )
    ]
    parts = [
        ("TechCrunch", "How did and cover Sam Altman's return to OpenAI?", techcrunch),
        ("The Verge", "and cover Sam Altman's return to OpenAI?", verge),
    ]

    answer = answerer().answer_parts(question, techcrunch + verge, parts)

    assert answer.text.startswith("TechCrunch: Sam Altman will return")
    assert answer.text.splitlines()[1] == "Nothing from The Verge on this in the coverage."
    assert [c.passage.article_id for c in answer.citations] == ["t1"]


def test_an_outlet_meeting_one_clause_of_a_question_listing_facts_keeps_its_line() -> None:
    # Each fact of such a question often comes from a different report: The Verge's passage
    # meets the first clause (it names no one), not the Jane Street one, and still answers.
    question = (
        "Who is accused of fraud for personal gain, convinced a former Jane Street colleague "
        "to join him, as reported by both TechCrunch and The Verge?"
    )
    techcrunch = [
        outlet_hit("He convinced a former Jane Street colleague to join him.", "t1", 0.7, "TC")
    ]
    verge = [outlet_hit("He is accused of fraud for personal gain by prosecutors.", "v1", 0.7, "V")]
    text = (
        "Who is accused of fraud for personal gain, convinced a former Jane Street colleague "
        "to join him, as reported by both and ?"
    )
    parts = [("TechCrunch", text, techcrunch), ("The Verge", text, verge)]

    answer = answerer().answer_parts(question, techcrunch + verge, parts)

    assert "The Verge: He is accused of fraud" in answer.text


def test_a_word_in_quotes_is_not_credited_to_the_speaker_named_before_it() -> None:
    hits = [
        hit(
            "Mayor Lee said the weather at the harbour was fine. The council called the repair "
            "an “urgent” job for the bridge cables.",
            0,
            0.8,
        )
    ]

    answer = answerer().answer("What did Mayor Lee say about the bridge cables?", hits)

    # the council's quoted word is not made Lee's words
    assert "Mayor Lee: " not in answer.text


def test_what_someone_said_on_the_topic_comes_before_their_other_words() -> None:
    hits = [
        hit("Mayor Lee said the weather at the harbour was fine on the day.", 0, 0.9),
        hit("Mayor Lee said the bridge cables would all be replaced by May.", 1, 0.5, "a2"),
    ]

    answer = answerer().answer("What did Mayor Lee say about the bridge cables?", hits)

    assert answer.text.startswith("Mayor Lee said the bridge cables would all be replaced")
    assert "weather" not in answer.text
