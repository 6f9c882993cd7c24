"""The story commands through the real `newsbot` command: follow, timeline, compare, brief, and
`eval multihop --answers` on a slice of MultiHop-RAG."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from retrieval import Article
from tests.conftest import CORPUS, QUERIES
from tests.e2e.runner import CITATION_KEYS, newsbot
from tests.retrieval.stories.corpus import BAKERY, CRACKS_WIRE, DAM_STORY, FOOTBALL, REPAIRS

pytestmark = pytest.mark.model


def _write(path: Path, *articles: Article) -> Path:
    rows = [
        {
            "title": a.title,
            "body": "\n\n".join(a.paragraphs),
            "source": a.outlet,
            "published_at": a.published_at,
        }
        for a in articles
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def _json(*args: str) -> Any:
    result = newsbot(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _check_cited(text: str, citations: list[dict[str, Any]]) -> None:
    assert citations and all(set(c) == CITATION_KEYS for c in citations)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} == {c["n"] for c in citations}


def test_follow_then_ingest_reports_the_follows_new_articles_triggered(tmp_path: Path) -> None:
    first = _write(tmp_path / "first.json", CRACKS_WIRE, BAKERY)
    later = _write(tmp_path / "later.json", *[a for a in DAM_STORY if a is not CRACKS_WIRE])
    unrelated = _write(tmp_path / "unrelated.json", FOOTBALL)
    assert _json("ingest", str(first), "--json")["follows"] == []  # nothing followed yet

    added = newsbot("follow", "add", "Riverside dam repairs")
    assert added.returncode == 0, added.stderr
    listed = _json("follow", "list", "--json")
    assert [f["topic"] for f in listed] == ["Riverside dam repairs"]

    report = _json("ingest", str(later), "--json")
    assert report["added"] == len(DAM_STORY) - 1
    follows = report["follows"]
    assert {f["topic"] for f in follows} == {"Riverside dam repairs"}
    assert len({f["article_id"] for f in follows}) == len(follows) == len(DAM_STORY) - 1
    by_title = {a.title: a for a in DAM_STORY}
    for post in follows:  # a reader sees which article it is, not only its id
        article = by_title[post["title"]]
        assert (post["outlet"], post["url"]) == (article.outlet, article.url)
        assert post["published_at"].startswith(article.published_at or "")
        _check_cited(post["text"], post["citations"])
    assert _json("ingest", str(unrelated), "--json")["follows"] == []
    assert _json("ingest", str(later), "--json")["follows"] == []  # unchanged: no second post

    follow_id = str(listed[0]["id"])
    assert newsbot("follow", "remove", follow_id).returncode == 0
    gone = newsbot("follow", "remove", follow_id)
    assert gone.returncode == 2 and "no followed topic" in gone.stderr


def test_timeline_compare_and_brief_print_the_documented_json(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "story.json", *DAM_STORY, FOOTBALL, BAKERY)
    assert newsbot("ingest", str(corpus)).returncode == 0

    timeline = _json("timeline", "Riverside dam spillway", "--json")
    assert timeline["topic"] == "Riverside dam spillway"
    dates = [e["date"] for e in timeline["events"]]
    assert dates == sorted(dates) and dates[0] == "2024-03-01"
    for event in timeline["events"]:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", event["date"])
        _check_cited(event["text"], event["citations"])

    compare = _json("compare", "Riverside dam repairs", "--outlet", "Harbour Times", "--json")
    assert [o["outlet"] for o in compare["outlets"]] == ["Harbour Times"]
    _check_cited(compare["outlets"][0]["text"], compare["outlets"][0]["citations"])
    assert REPAIRS.title in {c["title"] for c in compare["outlets"][0]["citations"]}

    brief = _json("brief", "--since", "1h", "--json")
    assert brief["since"] and brief["stories"]
    for story in brief["stories"]:
        assert story["title"] and story["outlets"]
        _check_cited(story["text"], story["citations"])
    text = newsbot("timeline", "Riverside dam spillway")
    assert text.returncode == 0 and "2024-03-01 — " in text.stdout and "Sources:" in text.stdout

    bad = newsbot("brief", "--since", "sometime", "--json")
    assert bad.returncode == 2 and "error" in json.loads(bad.stdout)


@pytest.mark.skipif(not (CORPUS.exists() and QUERIES.exists()), reason="MultiHop-RAG absent")
def test_eval_answers_scores_what_the_answers_cite(tmp_path: Path) -> None:
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))
    picked = [
        next(q for q in queries if q["question_type"] == kind)
        for kind in ("comparison_query", "temporal_query", "inference_query", "null_query")
    ]
    urls = {e["url"] for q in picked for e in q["evidence_list"]}
    articles = [a for a in json.loads(CORPUS.read_text(encoding="utf-8")) if a["url"] in urls]
    (tmp_path / "corpus.json").write_text(json.dumps(articles), encoding="utf-8")
    (tmp_path / "queries.json").write_text(json.dumps(picked), encoding="utf-8")

    result = newsbot(
        "eval",
        "multihop",
        "--corpus",
        str(tmp_path / "corpus.json"),
        "--queries",
        str(tmp_path / "queries.json"),
        "--answers",
    )

    assert result.returncode == 0, result.stderr
    assert "What the answers cite" in result.stdout
    row = re.search(r"gold evidence articles cited, all: ([\d.]+) \(n=(\d+)\)", result.stdout)
    assert row is not None, result.stdout
    assert row[2] == "3" and 0.0 < float(row[1]) <= 1.0
    lines = re.search(r"share of lines with a citation: ([\d.]+) \(n=(\d+)\)", result.stdout)
    assert lines is not None and float(lines[1]) == 1.0
    # Without --index the index was temporary: it is named, then removed with the run.
    named = re.search(r"^index (\S+): ", result.stderr, re.MULTILINE)
    assert named is not None, result.stderr
    assert "newsbot-eval-" in named[1] and not Path(named[1]).exists()
