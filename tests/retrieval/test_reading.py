"""A reading test: real questions a news reader asks about six stories of the MultiHop-RAG
corpus (not the benchmark's own queries), each with the words a right answer must contain.

The index holds the 52 articles of the corpus on those stories (the FTX trial, OpenAI and Sam
Altman, Israel and Hamas, Shohei Ohtani, Google's antitrust cases, Tesla's Cybertruck). Every
answer and view is also read for page furniture that must never be quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ingest.chunk import ChunkLimits
from ingest.parse import parse_source
from ingest.pipeline import ingest_articles
from ingest.syndication import Syndication
from retrieval.index import NewsIndex
from retrieval.storage.embedder import Embedder
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.store import PassageStore
from tests.conftest import CORPUS

pytestmark = pytest.mark.model

_STORIES = re.compile(
    r"Bankman-Fried|Altman|Hamas|Ohtani|Epic Games|antitrust.*Google|Google.*antitrust|Cybertruck"
)
_FURNITURE = re.compile(r"\bMORE:|Also Read|Read more|pic\.twitter|Photograph:|:\s*\[\d+\]")


@dataclass(frozen=True)
class Question:
    text: str
    # Every group must be in the answer; a group is satisfied by any one of its words.
    must: tuple[tuple[str, ...], ...]
    view: str = "ask"  # ask, timeline or compare
    outlets: tuple[str, ...] = ()  # for compare
    gap: str = ""  # why newsbot still gets this wrong (an expected failure, checked strictly)


QUESTIONS = [
    # The FTX trial
    Question(
        "What was the verdict in Sam Bankman-Fried's trial?",
        (("has been found guilty", "was found guilty", "conviction"),),
    ),
    Question("How many counts was Sam Bankman-Fried found guilty on?", (("seven",),)),
    Question("What did Caroline Ellison say about Sam Bankman-Fried?", (("directed me",),)),
    Question("How many years in prison could Bankman-Fried face?", (("115",),)),
    Question(
        "How did The Verge and Fortune cover the Sam Bankman-Fried trial?",
        (("The Verge:",), ("Fortune:",)),
    ),
    Question(
        "Sam Bankman-Fried trial",
        (("has been found guilty", "was found guilty", "conviction"),),
        view="timeline",
    ),
    # OpenAI and Sam Altman
    Question("Who became interim CEO of OpenAI after Sam Altman was fired?", (("Murati",),)),
    Question("Who replaced Mira Murati as OpenAI's interim CEO?", (("Shear",),)),
    Question("Did Sam Altman return to OpenAI as CEO?", (("return",), ("agreement", "Taylor"))),
    Question(
        "What happened to Greg Brockman when Altman was fired?",
        (("resign", "quit", "removed from the board"),),
    ),
    Question(
        "How did Fortune and TechCrunch cover Sam Altman's firing?",
        (("Fortune:",), ("TechCrunch:",)),
    ),
    Question(  # The Verge covered the FTX trial, never Altman: its SBF passages are not an answer
        "How did TechCrunch and The Verge cover Sam Altman's return to OpenAI?",
        (("TechCrunch: ",), ("Nothing from The Verge on this",)),
    ),
    Question(
        "Sam Altman's firing from OpenAI",
        (("return",),),
        view="timeline",
        gap="his return is told in articles dated before it (updated explainers)",
    ),
    # Israel and Hamas
    Question(
        "What did the EU warn Elon Musk's X about after the Hamas attacks?",
        (("illegal content", "disinformation"),),
        gap="read as 'what did the EU say': only sentences where the EU speaks are quoted",
    ),
    Question("What fines can the EU's Digital Services Act impose?", (("6%",),)),
    Question(
        "How big is Gaza?",
        (("Philadelphia",),),
        gap="the passage saying 'about the size of Philadelphia' is not among the 10 retrieved",
    ),
    Question(
        "What did Meta say it is prioritizing during the Israel-Hamas war?", (("livestream",),)
    ),
    Question(
        "What did people say about Mossad after the Hamas attack?",
        (("failure", "questioning", "shattered", "ignorant"),),
    ),
    # Shohei Ohtani
    Question("How much is Shohei Ohtani's contract with the Dodgers?", (("$700 million",),)),
    Question("How much of his contract will Ohtani defer?", (("$680 million",),)),
    Question("How long is Shohei Ohtani's deal with the Dodgers?", (("10-year", "10 years"),)),
    Question("Which team did Shohei Ohtani sign with?", (("Dodgers",),)),
    Question("Shohei Ohtani free agency", (("$700 million",),), view="timeline"),
    Question(
        "Ohtani's $700 million contract",
        (("Sporting News",),),
        view="compare",
        outlets=("The New York Times", "Sporting News"),
    ),
    # Google's antitrust cases
    Question(
        "How much did Yahoo pay Mozilla to be Firefox's default search engine?",
        (("$375 million",),),
    ),
    Question("Why did a news publisher sue Google?", (("siphons", "anticompetitive", "AI-based"),)),
    Question(
        "What is Epic v. Google about?",
        (("Play Store", "Google Play", "app store"),),
        # quoted right before this change; now the trial's date and a settlement letter win
        gap="the explainer's summary sentence loses to the trial's date and a settlement letter",
    ),
    Question(
        "How did TechCrunch and The Verge cover Epic's antitrust case against Google?",
        (("TechCrunch:",), ("The Verge:",)),
    ),
    # Tesla's Cybertruck
    Question("How much does the Cybertruck cost?", (("$60,990", "$79,990", "$99,990"),)),
    Question("What is the range of the Cyberbeast?", (("320",),)),
    Question("When will the rear-wheel drive Cybertruck be available?", (("2025",),)),
    Question("Is the Cybertruck dangerous for pedestrians?", (("pedestrian",),)),
    Question("Tesla Cybertruck", (("Cybertruck",),), view="timeline"),
]


@pytest.fixture(scope="module")
def six_stories(
    embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewsIndex]:
    if not CORPUS.exists():
        pytest.skip("the MultiHop-RAG data in ../shared is absent")
    root: Path = tmp_path_factory.mktemp("reading")
    articles = [
        a
        for a in parse_source(CORPUS.read_bytes(), "corpus.json").articles
        if _STORIES.search(a.title) or len(_STORIES.findall("\n".join(a.paragraphs))) >= 3
    ]
    store = PassageStore(
        open_client(ChromaLocation(path=root / "chroma")),
        prefix="reading",
        embedding_model=embedder.model_name,
    )
    index = NewsIndex(
        store,
        LexicalIndex(root / "lexical"),
        embedder,
        copies=Syndication(),
        as_of=date(2023, 12, 31),
    )
    report = ingest_articles(index, articles, limits=ChunkLimits())
    assert report.failed == []
    yield index
    index.close()


def _said(index: NewsIndex, q: Question) -> str:
    if q.view == "timeline":
        timeline = index.timeline(q.text)
        return "\n".join(f"{e.date} — {e.text}" for e in timeline.events) or (timeline.note or "")
    if q.view == "compare":
        comparison = index.compare(q.text, q.outlets)
        return "\n".join(
            f"{r.outlet}: {r.text}" if not r.missing else f"{r.outlet}: nothing"
            for r in comparison.outlets
        )
    return index.ask(q.text).text


@pytest.mark.parametrize(
    "q",
    [
        pytest.param(q, marks=pytest.mark.xfail(strict=True, reason=q.gap)) if q.gap else q
        for q in QUESTIONS
    ],
    ids=[q.text[:60] for q in QUESTIONS],
)
def test_the_answer_says_what_the_coverage_says(six_stories: NewsIndex, q: Question) -> None:
    said = _said(six_stories, q)
    missing = [group for group in q.must if not any(w.lower() in said.lower() for w in group)]
    assert not missing, f"{q.text!r} → {said!r} lacks {missing}"
    assert not _FURNITURE.search(said), f"page furniture quoted: {said!r}"
    for line in said.splitlines():  # what both outlets reported is no outlet's alone
        assert not ("(only" in line and "$700 million" in line), line
