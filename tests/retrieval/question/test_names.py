"""The proper names a question holds (what an outlet's passages must mention)."""

from retrieval.question.names import clauses_of, names_in


def test_capitalised_words_inside_a_sentence_are_names() -> None:
    assert names_in("How did The Verge cover Sam Altman's return to OpenAI?") == [
        "The",
        "Verge",
        "Sam",
        "Altman's",
        "OpenAI",
    ]


def test_a_sentences_first_word_months_weekdays_and_i_are_not_names() -> None:
    text = "Did Apple sue on Monday in May? Then I asked Google. What did Epic say"
    assert names_in(text) == ["Apple", "Google", "Epic"]


def test_a_question_listing_several_facts_has_a_clause_for_each() -> None:
    text = (
        "Who built a crypto exchange on falsehoods, convinced a Jane Street colleague to join "
        "him, and is accused of fraud while Fortune says so"
    )
    assert clauses_of(text) == [
        "Who built a crypto exchange on falsehoods",
        "convinced a Jane Street colleague to join him",
        "accused of fraud",
        "Fortune says so",
    ]
