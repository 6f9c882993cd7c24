"""An ingest's chunking waits while a question is being answered (on few cores the two would
share the CPU and Python's lock)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ingest.chunk import ChunkLimits
from ingest.pipeline import ingest_articles
from retrieval.storage.questions_first import QuestionsFirst
from tests.helpers import FakeSink, article


class _Sink(FakeSink):
    """A sink whose questions are real: `give_way` waits for those being answered."""

    def __init__(self, questions: QuestionsFirst, asking: threading.Event) -> None:
        super().__init__()
        self.questions = questions
        self.asking = asking
        self.chunked_while_asked: list[bool] = []

    def give_way(self) -> bool:
        return self.questions.give_way()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        self.chunked_while_asked.append(self.asking.is_set())
        return super().count_tokens(texts)


def test_an_article_is_chunked_after_the_question_being_answered() -> None:
    questions, asking, answered = QuestionsFirst(), threading.Event(), threading.Event()
    sink = _Sink(questions, asking)

    def question() -> None:
        with questions.answering():
            asking.set()
            answered.wait(10)
            asking.clear()  # before the question is done: nothing may chunk while it is set

    asker = threading.Thread(target=question)
    asker.start()
    assert asking.wait(10)
    reports = []
    ingest = threading.Thread(
        target=lambda: reports.append(
            ingest_articles(
                sink, [article("Dam repairs", ["Crews began work."])], limits=ChunkLimits()
            )
        )
    )
    ingest.start()
    ingest.join(0.5)
    assert ingest.is_alive() and sink.chunked_while_asked == []  # waiting for the question

    answered.set()
    asker.join(10)
    ingest.join(10)

    assert reports and reports[0].added == 1
    assert sink.chunked_while_asked and not any(sink.chunked_while_asked)
