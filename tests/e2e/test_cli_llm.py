"""`newsbot ask` and `newsbot chat` use the chat model when one is configured."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.runner import NEWSBOT, newsbot
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.model
API_KEY = "sk-cli-secret-77aa"


@pytest.fixture
def llm(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    monkeypatch.setenv("NEWSBOT_LLM", "openai:gpt-test")
    monkeypatch.setenv("NEWSBOT_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("NEWSBOT_LLM_API_KEY", API_KEY)
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "DEBUG")
    yield server
    server.stop()


def test_ask_answers_through_the_chat_model(llm: FakeOpenAI) -> None:
    llm.then("Putin questioned why India should be deprived of that right [1].")

    result = newsbot("ask", "What did Putin say about India's oil?", "--json")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"] == "Putin questioned why India should be deprived of that right [1]."
    assert answer["grounded"] is True and len(answer["citations"]) == 1
    assert len(llm.requests) == 1
    assert API_KEY not in result.stderr + result.stdout  # not even at DEBUG level


def test_ask_falls_back_with_a_note_when_the_model_fails(llm: FakeOpenAI) -> None:
    os.environ["NEWSBOT_LLM_MAX_RETRIES"] = "0"
    try:
        from tests.fake_openai import Step

        llm.then(Step(status=500))
        result = newsbot("ask", "What did Putin say about India's oil?")
    finally:
        del os.environ["NEWSBOT_LLM_MAX_RETRIES"]

    assert result.returncode == 0, result.stderr
    assert "why should India be deprived of this right?" in result.stdout
    assert "(the chat model was unavailable" in result.stdout


def test_chat_sends_follow_ups_with_their_history(llm: FakeOpenAI) -> None:
    llm.then(
        "Putin questioned US pressure on India [1].",
        "What did Putin say about the G7?",
        "He explained why he stopped attending G7 events [1].",
    )

    result = subprocess.run(
        [*NEWSBOT, "chat"],
        input="What did Putin say about India's oil?\nand about the G7?\nexit\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "He explained why he stopped attending G7 events [1]." in result.stdout
    condense = llm.requests[1]
    assert "India's oil" in condense.text and "and about the G7?" in condense.text
    assert "Question: What did Putin say about the G7?" in llm.requests[2].text
