"""Files that broke ingest before: deep JSON, one huge paragraph, NULs and stray bytes."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ingest.chunk import ChunkLimits
from ingest.formats import TOO_DEEP
from ingest.parse import decode_text, parse_source
from ingest.pipeline import ingest_paths
from retrieval.answer.sentences import split_sentences
from tests.helpers import FakeSink

GOOD = '{"title": "Bridge approved", "body": "The council approved the bridge on Monday."}'


def test_deeply_nested_json_is_one_files_failure_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_good.json").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b_deep.json").write_text("[" * 100_000, encoding="utf-8")
    (tmp_path / "c_lines.jsonl").write_text(f"{GOOD}\n{'[' * 100_000}\n", encoding="utf-8")
    sink = FakeSink()

    report = ingest_paths(sink, [tmp_path], limits=ChunkLimits(), max_bytes=1 << 20)

    assert report.failed == [
        (str(tmp_path / "b_deep.json"), TOO_DEEP),
        (f"{tmp_path / 'c_lines.jsonl'}:2", TOO_DEEP),
    ]
    assert report.added == 1 and report.unchanged == 1  # the good article, stored once
    assert [info.title for info in sink.articles.values()] == ["Bridge approved"]


def test_one_huge_paragraph_is_split_in_time_linear_in_its_length() -> None:
    sentence = "The council met on Monday and voted to approve the new bridge over the river. "
    small, large = sentence * 1_300, sentence * 5_200  # about 100 KB and 400 KB, one paragraph

    started = time.perf_counter()
    assert len(split_sentences(small)) == 1_300
    small_s = time.perf_counter() - started
    started = time.perf_counter()
    assert len(split_sentences(large)) == 5_200
    large_s = time.perf_counter() - started

    # Four times the text; super-linear splitting took 27 s for 200 KB before.
    assert large_s < 8 * small_s + 1.0


def test_unbroken_text_without_sentence_ends_is_cut_between_words() -> None:
    words = " ".join(f"word{i}" for i in range(5_000))  # 40 KB, no full stop anywhere

    pieces = split_sentences(words)

    assert " ".join(pieces) == words
    assert max(len(piece) for piece in pieces) <= 4_000


def test_nul_and_control_characters_never_reach_the_text() -> None:
    body = "First paragraph." + " filler" * 2_000 + "\x00\x07 after the NULs\x1b."
    data = f"Headline\n\n{body}".encode()

    [article] = parse_source(data, "story.txt").articles

    assert "\x00" not in article.paragraphs[0] and "\x07" not in article.paragraphs[0]
    assert article.paragraphs[0].endswith("after the NULs.")


def test_a_stray_byte_in_utf8_text_is_replaced_not_taken_for_another_charset() -> None:
    data = "“Quoted,” she said — it’s news.".encode() + b" \xff " + "Ça va.".encode()

    assert decode_text(data) == "“Quoted,” she said — it’s news. \ufffd Ça va."
    # Text that is not UTF-8 at all is still read as what it is.
    assert decode_text("café naïve “quoted”".encode("cp1252")) == "café naïve “quoted”"


def test_dates_that_cannot_be_read_or_are_out_of_range_are_warnings_not_silence(
    tmp_path: Path,
) -> None:
    dates: list[object] = [
        "not a date",
        "2023-02-30",
        "99999-01-01",
        1700000000,
        "25:61+99:00",
        "2024-03-12T25:61+99:00",
        "1989-12-31",
        "2100-01-01",
        "2024-03-12",
    ]
    items = [
        {"title": f"Story {i}", "body": f"The council met for the {i}th time.", "date": day}
        for i, day in enumerate(dates)
    ]
    (tmp_path / "dated.json").write_text(json.dumps(items), encoding="utf-8")
    sink = FakeSink()

    report = ingest_paths(sink, [tmp_path], limits=ChunkLimits(), max_bytes=1 << 20)

    assert report.added == len(dates) and report.failed == []  # every article is kept
    stored = {info.title: info.published_at for info in sink.articles.values()}
    assert stored == {f"Story {i}": None for i in range(6)} | {
        "Story 5": "2024-03-12",  # the day is read, its time is not
        "Story 6": None,
        "Story 7": None,
        "Story 8": "2024-03-12",
    }
    name = str(tmp_path / "dated.json")
    assert [origin for origin, _ in report.warnings] == [f"{name}[{i}]" for i in range(8)]
    notes = [note for _, note in report.warnings]
    assert notes[0] == "date 'not a date' cannot be read: stored without a date"
    assert notes[1] == "date '2023-02-30' cannot be read: stored without a date"
    assert notes[3] == "date 1700000000 is not a written date: stored without a date"
    assert notes[5] == "the time in date '2024-03-12T25:61+99:00' cannot be read: kept the day only"
    assert (
        notes[7]
        == "date '2100-01-01' is not between 1990-01-01 and tomorrow: stored without a date"
    )
