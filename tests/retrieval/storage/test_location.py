"""What the user is told when Chroma's database is gone but index data is left beside it."""

from __future__ import annotations

from pathlib import Path

from retrieval.storage.location import ChromaLocation, missing_store


def _keyword_index(tmp_path: Path) -> Path:
    keywords = tmp_path / "lexical" / "newsbot-0a1b2c3d.tantivy"
    keywords.mkdir(parents=True)
    (keywords / "meta.json").write_text("{}")
    return keywords


def test_a_whole_chroma_folder_gone_is_refused_naming_only_what_is_left(tmp_path: Path) -> None:
    chroma, keywords = tmp_path / "chroma", _keyword_index(tmp_path)

    error = missing_store(ChromaLocation(path=chroma), keywords)

    assert error is not None
    text = str(error)
    assert f"{chroma / 'chroma.sqlite3'} is missing, but {keywords} still holds index data" in text
    assert f"to rebuild move {keywords} aside and ingest" in text  # not the folder that is gone


def test_chroma_folders_and_a_keyword_index_left_are_both_named(tmp_path: Path) -> None:
    chroma, keywords = tmp_path / "chroma", _keyword_index(tmp_path)
    (chroma / "5b76e668-fe96-4633-bcb3-e319980de1a2").mkdir(parents=True)

    error = missing_store(ChromaLocation(path=chroma), keywords)

    assert error is not None
    assert f"{chroma} and {keywords} still hold index data" in str(error)
    assert f"move {chroma} and {keywords} aside" in str(error)


def test_a_new_data_dir_or_a_whole_database_is_not_an_error(tmp_path: Path) -> None:
    chroma = tmp_path / "chroma"
    assert missing_store(ChromaLocation(path=chroma), tmp_path / "lexical" / "x.tantivy") is None
    chroma.mkdir()
    (chroma / "chroma.sqlite3").write_bytes(b"")
    assert missing_store(ChromaLocation(path=chroma), _keyword_index(tmp_path)) is None
