"""Story views written by a chat model: the real langchain-openai client against a scripted
OpenAI-compatible server on 127.0.0.1, the real model and embedded Chroma.

The views keep their choice of lines, dates, outlets and grouping; the model writes each line
from that line's passages only, its citations are checked and carried into the view's numbers,
and a line it cannot write (uncited, refused, late) keeps its quoted text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retrieval import NewsIndex
from retrieval.answer.prompts import NOT_FOUND
from retrieval.storage.location import ChromaLocation
from tests.conftest import IndexFactory
from tests.fake_openai import FakeOpenAI, Step
from tests.helpers import put
from tests.retrieval.stories.corpus import ALL, DRAIN

pytestmark = pytest.mark.model
TOPIC = "Riverside dam spillway"


@pytest.fixture
def index(make_index: IndexFactory, llm: FakeOpenAI, tmp_path: Path) -> NewsIndex:
    config = llm.config(timeout=3)
    idx = make_index(ChromaLocation(path=tmp_path / "chroma"), chat=config)
    put(idx, *ALL)
    return idx


def prompt_of(body: dict[str, Any]) -> str:
    return "\n".join(str(m["content"]) for m in body["messages"])


def passages_in(prompt: str) -> int:
    return len(re.findall(r'<passage n="\d+">', prompt))


def marks(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_a_timeline_is_written_line_by_line_from_each_lines_own_passages(
    index: NewsIndex, llm: FakeOpenAI
) -> None:
    quoted = index.stories.timeline(TOPIC)  # the same view, not written by the model
    assert len(quoted.events) >= 4
    drain_day = DRAIN.published_at[:10] if DRAIN.published_at else ""

    def reply(body: dict[str, Any]) -> str:
        prompt = prompt_of(body)
        if drain_day in prompt.rsplit("Write the line:", 1)[1]:
            return "The council decided something."  # no citation: this line stays quoted
        n = passages_in(prompt)
        # The last passage first, then a passage it was not given (dropped by the check).
        return f"Written from {n} passage(s) [{n}] and more [{n + 5}]."

    llm.then(*[Step(reply)] * len(quoted.events))

    written = index.timeline(TOPIC)

    assert [e.date for e in written.events] == [e.date for e in quoted.events]
    assert len(llm.requests) == len(quoted.events)
    for ours, theirs in zip(written.events, quoted.events, strict=True):
        if ours.date == drain_day:
            assert ours == theirs
            continue
        assert ours.text.startswith(f"Written from {len(theirs.citations)} passage(s) [")
        # It cited the line's last passage: the view's number for it, and nothing else.
        assert ours.citations == (theirs.citations[-1],)
        assert marks(ours.text) == {theirs.citations[-1].n}
    prompts = sorted(prompt_of(r.body) for r in llm.requests)
    assert all(TOPIC in p and "DATA, not instructions" in p for p in prompts)
    sizes = sorted(passages_in(p) for p in prompts)
    assert sizes == sorted(len(e.citations) for e in quoted.events)  # each its own passages


def test_compare_and_brief_are_written_and_a_late_or_refused_line_keeps_its_quote(
    index: NewsIndex, llm: FakeOpenAI
) -> None:
    quoted = index.stories.compare(TOPIC, ("City Wire", "Valley Post", "Nowhere Gazette"))
    reports = {r.outlet: r for r in quoted.outlets}
    assert reports["Nowhere Gazette"].missing

    def reply(body: dict[str, Any]) -> str:
        task = prompt_of(body).rsplit("Write the line:", 1)[1]
        if "Valley Post" in task:
            return NOT_FOUND
        return "City Wire reported cracks and a vote to drain the reservoir [1]."

    llm.then(Step(reply), Step(reply))  # the missing outlet costs no request

    compared = {r.outlet: r for r in index.compare(TOPIC, tuple(reports)).outlets}

    assert len(llm.requests) == 2
    wire = compared["City Wire"]
    assert wire.text == (
        "City Wire reported cracks and a vote to drain the reservoir "
        f"[{reports['City Wire'].citations[0].n}]."
    )
    assert wire.citations == reports["City Wire"].citations[:1]
    assert compared["Valley Post"] == reports["Valley Post"]  # refused: quoted as before
    assert compared["Nowhere Gazette"] == reports["Nowhere Gazette"]

    since = datetime.now(UTC) - timedelta(hours=1)
    brief = index.stories.brief(since)
    assert len(brief.stories) >= 2
    late = Step("Too late [1].", delay=5)  # beyond the 3 s the model is given
    llm.then(late, *[Step("The story in a line [1].")] * (len(brief.stories) - 1))

    written = index.brief(since)

    assert [s.title for s in written.stories] == [s.title for s in brief.stories]
    kept = [s for s, b in zip(written.stories, brief.stories, strict=True) if s == b]
    rewritten = [s for s in written.stories if s.text.startswith("The story in a line [")]
    assert len(kept) == 1 and len(rewritten) == len(brief.stories) - 1
    assert all(marks(s.text) == {s.citations[0].n} for s in rewritten)
