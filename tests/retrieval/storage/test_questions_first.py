"""Questions before bulk work: Python switches threads often while a question is answered, and
bulk work waits for the questions of other threads, never for its own."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from retrieval.storage import questions_first
from retrieval.storage.questions_first import SWITCH_INTERVAL_S, QuestionsFirst


@pytest.fixture
def default_interval() -> Iterator[float]:
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(saved)


def test_threads_switch_often_while_any_question_is_answered_then_as_before(
    default_interval: float,
) -> None:
    questions = QuestionsFirst()
    inside = threading.Event()
    leave = threading.Event()

    def other_question() -> None:
        with questions.answering():
            inside.set()
            leave.wait(timeout=30)

    with questions.answering():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S, rel=0.05)
        other = threading.Thread(target=other_question)
        other.start()
        assert inside.wait(timeout=30)
        with questions.answering():  # a search inside an ask
            pass
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S, rel=0.05)  # one answers
    leave.set()
    other.join(timeout=30)
    assert sys.getswitchinterval() == pytest.approx(default_interval, rel=0.05)


def test_an_interval_already_shorter_is_kept(default_interval: float) -> None:
    sys.setswitchinterval(0.0001)
    with QuestionsFirst().answering():
        assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)


def test_bulk_work_waits_for_another_threads_question_not_for_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(questions_first, "GIVE_WAY_S", 60.0)
    questions = QuestionsFirst()
    assert questions.give_way() is False  # no question yet: full speed
    went_on: list[bool] = []
    bulk = threading.Thread(target=lambda: went_on.append(questions.give_way()))
    with questions.answering():
        bulk.start()
        bulk.join(timeout=0.5)
        assert bulk.is_alive() and not went_on  # waits while the question is answered
        assert questions.give_way() is True  # the question's own work: at once
    bulk.join(timeout=30)
    assert went_on == [True]  # and then goes on, in small pieces (questions came lately)
