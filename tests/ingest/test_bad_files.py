"""Files that broke ingest before: deep JSON, one huge paragraph, NULs and stray bytes."""

from __future__ import annotations

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
