"""The real `newsbot` command in subprocesses: what a user at a terminal sees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.runner import CITATION_KEYS, NEWSBOT, newsbot


def test_help_answers_without_loading_heavy_libraries() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from bot.cli import app;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('torch', 'chromadb', 'sentence_transformers', 'langchain',"
        " 'trafilatura') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.model
def test_canonical_question_quotes_putin_with_citations(seeded: Path) -> None:
    result = newsbot("ask", "what did Putin say about India's oil?", "--json")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["grounded"] is True
    assert "why should India be deprived of this right?" in answer["answer"]
    assert "proceeding at a completely normal pace" in answer["answer"]
    citations = answer["citations"]
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    # every [n] names a listed source, and every listed source is cited
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} == {
        c["n"] for c in citations
    }
    for c in citations:
        assert f"[{c['n']}]" in answer["answer"]
        assert c["outlet"] == "MENAFN" and c["published_at"] == "2025-12-06"
        assert c["title"].startswith("Putin says Russia hasn’t received G7")
        assert set(c) == CITATION_KEYS


@pytest.mark.model
def test_text_answer_lists_sources_and_unknown_topics_are_refused(seeded: Path) -> None:
    g7 = newsbot("ask", "What did Putin say about the G7?")
    macron = newsbot("ask", "What did Macron say about Brazil?", "--json")

    assert g7.returncode == 0, g7.stderr
    assert "I explained to Mr. Witkoff why I stopped attending these G7 events" in g7.stdout
    assert "Sources:" in g7.stdout
    assert (
        "[1] Putin says Russia hasn’t received G7 reinstatement offer from US — MENAFN"
        in (g7.stdout.replace("\n", " "))
        or "[1] Putin says Russia hasn’t received G7" in g7.stdout
    )
    refused = json.loads(macron.stdout)
    assert refused["grounded"] is False
    assert refused["citations"] == []
    assert "doesn't say" in refused["answer"]


@pytest.mark.model
def test_date_options_take_plain_words_and_filter_by_publication_day(seeded: Path) -> None:
    question = "what did Putin say about India's oil?"
    before = newsbot("ask", question, "--until", "November 2025", "--json")  # published Dec 6
    after = newsbot("ask", question, "--since", "december 2025", "--json")
    unreadable = newsbot("ask", question, "--since", "soon")

    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["citations"] == []
    assert after.returncode == 0, after.stderr
    assert "why should India be deprived of this right?" in json.loads(after.stdout)["answer"]
    assert unreadable.returncode == 2
    assert "--since wants a date like 2025-12-06" in unreadable.stderr
    assert "not “soon”" in unreadable.stderr


@pytest.mark.model
def test_sources_and_forget(seeded: Path) -> None:
    listed = json.loads(newsbot("sources", "--json").stdout)
    assert [(a["outlet"], a["published_at"], a["passages"] > 0) for a in listed] == [
        ("MENAFN", "2025-12-06", True)
    ]

    gone = newsbot("forget", listed[0]["article_id"])
    again = newsbot("forget", listed[0]["article_id"])

    assert gone.returncode == 0 and "Removed" in gone.stdout
    assert again.returncode == 1 and "no article with id" in again.stderr
    assert json.loads(newsbot("sources", "--json").stdout) == []


@pytest.mark.model
def test_a_bad_file_is_reported_and_the_rest_of_the_batch_is_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.txt").write_text("A good headline\n\nThe body of a good article.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 50)
    (folder / "broken.json").write_text('{"title": "x", "body": ')
    (folder / "nobody.json").write_text('{"title": "Only a headline", "body": ""}')
    (folder / "huge.txt").write_text("Big\n\n" + "word " * 300_000)
    os.environ["NEWSBOT_MAX_FILE_MB"] = "1"
    try:
        result = newsbot("ingest", str(folder), "--json")
    finally:
        del os.environ["NEWSBOT_MAX_FILE_MB"]

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["added"] == 1
    reasons = {Path(f["source"]).name: f["reason"] for f in report["failed"]}
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.json", "nobody.json", "huge.txt"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "malformed JSON" in reasons["broken.json"]
    assert "no body" in reasons["nobody.json"]
    assert "1 MB limit" in reasons["huge.txt"]
    assert [a["title"] for a in json.loads(newsbot("sources", "--json").stdout)] == [
        "A good headline"
    ]


@pytest.mark.model
def test_dates_that_cannot_be_read_are_listed_as_warnings(tmp_path: Path) -> None:
    items = [
        {"title": "Odd date", "body": "The council met again.", "date": "2023-02-30"},
        {"title": "Epoch date", "body": "The ferry ran late.", "published_at": 1700000000},
        {"title": "Good date", "body": "The bridge opened.", "date": "2024-03-12"},
    ]
    (tmp_path / "dated.json").write_text(json.dumps(items))

    text = newsbot("ingest", str(tmp_path / "dated.json"))
    listed = json.loads(newsbot("sources", "--json").stdout)

    assert text.returncode == 0, text.stderr
    name = tmp_path / "dated.json"
    assert text.stdout.splitlines()[1:] == [
        f"  ! {name}[0]: date '2023-02-30' cannot be read: stored without a date",
        f"  ! {name}[1]: date 1700000000 is not a written date: stored without a date",
    ]
    assert {a["title"]: a["published_at"] for a in listed} == {
        "Odd date": None,
        "Epoch date": None,
        "Good date": "2024-03-12",
    }


@contextmanager
def _nested(top: Path, depth: int) -> Iterator[None]:
    """Make `top/d/d/…` `depth` levels deep with an article at the bottom, step by step (no
    path too long to pass around), and remove it the same way (pytest's clean-up recurses)."""
    top.mkdir()
    os.chdir(top)
    for _ in range(depth):
        Path("d").mkdir()
        os.chdir("d")
    Path("lost.txt").write_text("Too deep\n\nNobody should nest articles this far down.\n")
    os.chdir(top.parent)
    try:
        yield
    finally:
        os.chdir(top)
        for _ in range(depth):
            os.chdir("d")
        Path("lost.txt").unlink()
        for _ in range(depth):
            os.chdir("..")
            Path("d").rmdir()
        os.chdir(top.parent)


@pytest.mark.model
def test_a_deep_folder_and_link_loops_fail_alone_and_the_rest_is_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.txt").write_text("A good headline\n\nThe body of a good article.\n")
    (folder / "loop_a.txt").symlink_to(folder / "loop_b.txt")
    (folder / "loop_b.txt").symlink_to(folder / "loop_a.txt")
    (folder / "parent").symlink_to(folder)  # a linked folder is not followed

    with _nested(folder / "deep", 1_300):
        text = newsbot("ingest", str(folder), str(folder / "loop_a.txt"))
        result = newsbot("ingest", str(folder), str(folder / "loop_a.txt"), "--json")

    assert "Traceback" not in text.stderr + text.stdout and "RecursionError" not in text.stderr
    assert text.returncode == 1 and result.returncode == 1
    assert text.stdout.splitlines()[0].startswith("1 file(s): 1 added")
    report = json.loads(result.stdout)
    failed = [(f["source"], f["reason"]) for f in report["failed"]]
    loop = "cannot read: Too many levels of symbolic links"
    assert failed == [
        (failed[0][0], "folder nested more than 64 levels deep: skipped"),
        (str(folder / "loop_a.txt"), loop),
        (str(folder / "loop_b.txt"), loop),
        (str(folder / "loop_a.txt"), "a broken or looping symbolic link"),  # named directly
    ]
    shown = failed[0][0]  # by its two ends
    assert "…" in shown and shown.endswith("/d/d/d") and len(shown) <= 160
    assert len(text.stdout.strip().splitlines()) == 1 + len(failed)  # one line each
    assert [a["title"] for a in json.loads(newsbot("sources", "--json").stdout)] == [
        "A good headline"
    ]


@pytest.mark.model
def test_a_second_process_on_the_same_data_directory_is_refused(seeded: Path) -> None:
    holder = subprocess.Popen(
        [*NEWSBOT, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        deadline = time.monotonic() + 120
        line = ""
        while "indexed" not in line and time.monotonic() < deadline:
            line = holder.stdout.readline()
        assert "1 article(s) indexed" in line

        second = newsbot("sources")

        assert second.returncode == 2
        assert "in use by another newsbot process" in second.stderr
        assert "NEWSBOT_CHROMA_HOST" in second.stderr
    finally:
        holder.communicate("exit\n", timeout=60)
    assert newsbot("sources", "--json").returncode == 0  # free again once the chat ended


@pytest.mark.model
def test_chat_answers_in_the_terminal(seeded: Path) -> None:
    result = subprocess.run(
        [*NEWSBOT, "chat"],
        input="What did Putin say about the G7?\nexit\n",
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "I explained to Mr. Witkoff" in result.stdout
    assert "Sources:" in result.stdout


@pytest.mark.model
def test_markup_in_paths_titles_and_outlets_is_printed_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # a wide terminal: table cells are not wrapped
    folder = tmp_path / "odd[/x]"  # "[/x]" closes a Rich tag that was never opened
    folder.mkdir(parents=True)
    title = "Budget [/] talks [bold red]collapse[/bold red] at midnight"
    outlet = "Evil](https://evil.example/phish) [x"
    (folder / "story.txt").write_text(
        f"outlet: {outlet}\npublished_at: 2025-03-02\n\n{title}\n\n"
        "Negotiators left the building at midnight without a deal on the budget, officials said."
    )
    (folder / "broken [red].json").write_text('{"title": ')
    # One stray byte in UTF-8 text: decoded as UTF-8, the byte replaced and counted.
    (folder / "stray.txt").write_bytes(
        "Caf\u00e9 owners \u201cworried\u201d\n\nThe owners of the caf\u00e9 on the square said "
        "trade had halved since the works began.".encode()
        + b" \xff"
    )

    ingested = newsbot("ingest", str(folder))
    listed = newsbot("sources")

    assert ingested.returncode == 1, ingested.stderr  # one file failed, the rest stored
    assert "Traceback" not in ingested.stderr + listed.stderr
    assert f"✗ {folder / 'broken [red].json'}: malformed JSON" in ingested.stdout
    assert f"! {folder / 'stray.txt'}: 1 invalid UTF-8 byte(s) replaced" in ingested.stdout
    assert listed.returncode == 0, listed.stderr
    assert "Budget [/] talks [bold red]collapse[/bold red] at midnight" in listed.stdout
    assert "Café owners “worried”" in listed.stdout
    assert "Evil](https://evil.example/phish) [x" in listed.stdout
