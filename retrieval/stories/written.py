"""Story views in a chat model's words, when one is configured.

The views are chosen, dated, grouped and cited by `Stories` exactly as without a model; the
model then writes each line again from that line's own cited passages only (`ChatAnswerer.
write_lines`), and its citations are checked the way an answer's are. A line it cannot write —
the model failed or was late, refused, or cited none of those passages — keeps its quoted text,
so every line stays cited. A written line cites what it used, under the view's own numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from retrieval.answer.chain import ChatAnswerer
from retrieval.models import Citation
from retrieval.stories.models import Brief, Comparison, Timeline

_MARK = re.compile(r"\[(\d+)\]")


def written_timeline(view: Timeline, chat: ChatAnswerer) -> Timeline:
    tasks = [
        (f"what happened in the story “{view.topic}” on {event.date}, in one sentence.", event)
        for event in view.events
    ]
    lines = _write(chat, [(task, e.citations) for task, e in tasks])
    events = tuple(
        replace(event, text=line[0], citations=line[1]) if line else event
        for (_, event), line in zip(tasks, lines, strict=True)
    )
    return replace(view, events=events)


def written_comparison(view: Comparison, chat: ChatAnswerer) -> Comparison:
    reports = [r for r in view.outlets if r.citations]
    lines = _write(
        chat,
        [
            (f"what {r.outlet} reported or quoted about “{view.topic}”.", r.citations)
            for r in reports
        ],
    )
    rewritten = {
        r.outlet: replace(r, text=line[0], citations=line[1])
        for r, line in zip(reports, lines, strict=True)
        if line
    }
    return replace(view, outlets=tuple(rewritten.get(r.outlet, r) for r in view.outlets))


def written_brief(view: Brief, chat: ChatAnswerer) -> Brief:
    lines = _write(
        chat,
        [
            (f"what the story “{s.title}” is about, in one sentence.", s.citations)
            for s in view.stories
        ],
    )
    stories = tuple(
        replace(story, text=line[0], citations=line[1]) if line else story
        for story, line in zip(view.stories, lines, strict=True)
    )
    return replace(view, stories=stories)


def _write(
    chat: ChatAnswerer, tasks: Sequence[tuple[str, tuple[Citation, ...]]]
) -> list[tuple[str, tuple[Citation, ...]] | None]:
    """Return each line as the model wrote it, marked with the view's numbers, and the
    citations it used; None where the line keeps its own text."""
    if not tasks:
        return []
    written = chat.write_lines([(task, [c.passage for c in cites]) for task, cites in tasks])
    lines: list[tuple[str, tuple[Citation, ...]] | None] = []
    for (_, cites), result in zip(tasks, written, strict=True):
        if result is None:
            lines.append(None)
            continue
        text, used = result  # marked [1]…[m] in order of first use; used[k - 1] is [k]
        by_passage = {c.passage.passage_id: c for c in cites}
        ours = [by_passage[p.passage_id] for p in used]
        lines.append((_renumber(text, ours), tuple(sorted(ours, key=lambda c: c.n))))
    return lines


def _renumber(text: str, ours: Sequence[Citation]) -> str:
    """Turn the line's marks [k] into the view's numbers: [k] cites ours[k - 1]."""
    return _MARK.sub(lambda m: f"[{ours[int(m[1]) - 1].n}]", text)
