"""A sick data directory, through the real `newsbot` command: a full disk (a small tmpfs in a
mount namespace), a read-only mount, a damaged or missing `chroma.sqlite3`. Each says in one
line what is wrong and what to do, exit code 2, `{"error": ...}` under `--json`, and nothing
committed is lost."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SEED
from tests.e2e.runner import NEWSBOT, newsbot

pytestmark = pytest.mark.model


def _namespaces_work() -> str | None:
    """Return why a mount namespace cannot be used here (None: it can)."""
    if shutil.which("unshare") is None:
        return "no unshare command"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if probe.returncode == 0 else f"no mount namespace: {probe.stderr.strip()}"


NO_NAMESPACE = _namespaces_work()
needs_namespace = pytest.mark.skipif(NO_NAMESPACE is not None, reason=str(NO_NAMESPACE))


def _in_namespace(script: str) -> None:
    """Run a shell script in a mount namespace of its own (its mounts vanish with it)."""
    done = subprocess.run(
        ["unshare", "-m", "sh", "-ec", script],
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _cli(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in [*NEWSBOT, *args])


def _one_line_error(stderr: str, *expected: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def _items(folder: Path, n: int, sentences: int = 1) -> Path:
    folder.mkdir()
    for i in range(n):
        body = " ".join(
            f"The harbour master logged vessel {i}-{j} at berth {j} with {i * j} containers."
            for j in range(sentences)
        )
        (folder / f"item{i:04}.txt").write_text(f"Harbour report {i}\n\n{body}\n")
    return folder


@needs_namespace
def test_a_full_disk_stops_at_the_first_failed_write_and_keeps_what_was_committed(
    tmp_path: Path,
) -> None:
    folder = _items(tmp_path / "items", 150, sentences=30)
    mount, out = tmp_path / "small", tmp_path / "out"
    mount.mkdir()
    out.mkdir()
    data = mount / "data"
    _in_namespace(
        f"""
        mount -t tmpfs -o size=3m tmpfs {mount}
        export NEWSBOT_DATA_DIR={data}
        {_cli("ingest", str(folder), "--json")} > {out}/full.json 2> {out}/full.err \
            || echo $? > {out}/full.rc
        {_cli("ingest", str(folder))} > {out}/text.out 2> {out}/text.err || true
        {_cli("sources", "--json")} > {out}/kept.json
        mount -o remount,size=256m {mount}
        {_cli("ingest", str(folder), "--json")} > {out}/rerun.json
        {_cli("sources", "--json")} > {out}/all.json
        """
    )

    assert (out / "full.rc").read_text().strip() == "2"
    report = json.loads((out / "full.json").read_text())
    assert report["error"].startswith(f"disk full at {data}: free some space (stopped after ")
    assert "Traceback" not in (out / "full.err").read_text()
    assert 0 < report["added"] < 150
    # Stopped at the first failed write: one batch failed, the files after it were not read.
    assert {f["reason"] for f in report["failed"]} == {"not stored: the disk is full"}
    assert report["added"] + len(report["failed"]) < 150
    _one_line_error((out / "text.err").read_text(), f"disk full at {data}")
    kept = json.loads((out / "kept.json").read_text())
    assert len(kept) == report["added"]  # what was committed is whole and listed
    rerun = json.loads((out / "rerun.json").read_text())
    assert rerun["error"] is None and rerun["failed"] == []
    assert rerun["unchanged"] >= report["added"]
    assert rerun["added"] + rerun["unchanged"] == 150
    assert len(json.loads((out / "all.json").read_text())) == 150


@needs_namespace
def test_a_read_only_data_dir_is_read_and_writing_commands_refuse_in_one_line(
    tmp_path: Path,
) -> None:
    folder = _items(tmp_path / "items", 5)
    assert newsbot("ingest", str(folder)).returncode == 0
    assert newsbot("follow", "add", "harbour vessels").returncode == 0
    before = json.loads(newsbot("sources", "--json").stdout)
    data, out = Path(os.environ["NEWSBOT_DATA_DIR"]), tmp_path / "out"
    out.mkdir()
    more = _items(tmp_path / "more", 1)

    _in_namespace(
        f"""
        mount --bind -o ro {data} {data}
        touch {data}/probe 2> /dev/null && exit 9  # the mount must really be read-only
        run() {{
            name=$1; shift
            "$@" > {out}/$name.out 2> {out}/$name.err && echo 0 > {out}/$name.rc \
                || echo $? > {out}/$name.rc
        }}
        run sources {_cli("sources", "--json")}
        run ask {_cli("ask", "Which vessel was at berth 0?", "--json")}
        run brief {_cli("brief", "--since", "2000-01-01", "--json")}
        run follows {_cli("follow", "list", "--json")}
        run ingest {_cli("ingest", str(more), "--json")}
        run ingest_text {_cli("ingest", str(more))}
        run forget {_cli("forget", before[0]["article_id"])}
        run follow {_cli("follow", "add", "school budget")}
        run feeds_add {_cli("feeds", "add", "http://127.0.0.1:9/feed.xml")}
        """
    )

    def result(name: str) -> tuple[int, str, str]:
        return (
            int((out / f"{name}.rc").read_text()),
            (out / f"{name}.out").read_text(),
            (out / f"{name}.err").read_text(),
        )

    for reader in ("sources", "ask", "brief", "follows"):
        rc, stdout, stderr = result(reader)
        assert rc == 0, (reader, stderr[-2000:])
        assert "Traceback" not in stderr
        json.loads(stdout)
    assert json.loads(result("sources")[1]) == before
    assert json.loads(result("ask")[1])["citations"]
    assert [f["topic"] for f in json.loads(result("follows")[1])] == ["harbour vessels"]

    rc, stdout, _ = result("ingest")
    assert rc == 2 and "is read-only" in json.loads(stdout)["error"]
    for writer in ("ingest", "ingest_text", "forget"):  # refused before the index is copied
        assert "reading a copy" not in result(writer)[2], writer
    assert "reading a copy" in result("sources")[2]  # (readers read one)
    for writer in ("ingest_text", "forget", "follow"):
        rc, _, stderr = result(writer)
        assert rc == 2, writer
        _one_line_error(stderr, "read-only", "writable")
    rc, _, stderr = result("feeds_add")
    assert rc == 2
    _one_line_error(stderr, "cannot save the feed list", "Read-only file system")
    assert json.loads(newsbot("sources", "--json").stdout) == before  # nothing changed


@pytest.mark.parametrize("damage", ["random bytes at the start", "a table's pages", "truncated"])
def test_a_damaged_chroma_database_is_one_line_that_says_what_to_do(
    seeded: Path, damage: str
) -> None:
    database = Path(os.environ["NEWSBOT_DATA_DIR"]) / "chroma" / "chroma.sqlite3"
    if damage == "truncated":
        os.truncate(database, database.stat().st_size // 2)
    else:
        at = 0
        if damage == "a table's pages":  # Chroma opens the file and fails only reading there
            with sqlite3.connect(database) as db:
                page_size = db.execute("PRAGMA page_size").fetchone()[0]
                root = db.execute(
                    "SELECT rootpage FROM sqlite_master WHERE name = 'embedding_metadata'"
                ).fetchone()[0]
            at = (root - 1) * page_size
        with database.open("r+b") as file:
            file.seek(at)
            file.write(os.urandom(16_384))

    text = newsbot("sources")
    as_json = newsbot("ask", "What did Putin say?", "--json")

    assert text.returncode == 2 and as_json.returncode == 2
    line = _one_line_error(text.stderr, str(database), "is damaged", "backup", "ingest")
    assert json.loads(as_json.stdout)["error"] == line.removeprefix("error: ")


def test_damage_that_only_writes_meet_stops_an_ingest_in_one_line(
    seeded: Path, tmp_path: Path
) -> None:
    """Chroma's full-text table is written by every ingest and read by no newsbot command:
    damage there lets `sources` and `ask` work and shows at the first write, as Chroma's
    'Failed to apply logs' (each batch failed alone with a traceback, exit 1)."""
    database = Path(os.environ["NEWSBOT_DATA_DIR"]) / "chroma" / "chroma.sqlite3"
    (stored,) = json.loads(newsbot("sources", "--json").stdout)
    with sqlite3.connect(database) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'embedding_fulltext_search_content'"
        ).fetchone()[0]
    with database.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(os.urandom(page_size))
    more = _items(tmp_path / "more", 3)

    as_json = newsbot("ingest", str(more), "--json")
    text = newsbot("ingest", str(more))
    forget = newsbot("forget", stored["article_id"])

    assert as_json.returncode == 2 and "Traceback" not in as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["error"].startswith(
        f"the Chroma database {database} is damaged (malformed): restore the folder from a "
        "backup, or move it aside and ingest your sources again (stopped after "
    )
    assert "run the same command again" not in report["error"]  # it meets the same damage
    assert report["added"] == 0
    assert {f["reason"] for f in report["failed"]} == {"not stored: the index is damaged"}
    assert text.returncode == 2
    _one_line_error(text.stderr, str(database), "is damaged", "backup")
    assert forget.returncode == 2
    _one_line_error(forget.stderr, str(database), "is damaged", "backup")
    assert json.loads(newsbot("sources", "--json").stdout) == [stored]  # reading still works


def test_a_missing_chroma_database_is_never_served_as_an_empty_index(seeded: Path) -> None:
    data = Path(os.environ["NEWSBOT_DATA_DIR"])
    (data / "chroma" / "chroma.sqlite3").unlink()

    text = newsbot("sources")
    as_json = newsbot("ask", "What did Putin say?", "--json")
    ingest = newsbot("ingest", str(EXAMPLE_SEED), "--json")

    assert text.returncode == 2
    line = _one_line_error(text.stderr, "chroma.sqlite3 is missing", "backup", "rebuild")
    assert str(data / "lexical") in line
    assert as_json.returncode == 2 and "is missing" in json.loads(as_json.stdout)["error"]
    assert ingest.returncode == 2  # no fresh empty store is started under the old data
    assert not (data / "chroma" / "chroma.sqlite3").exists()
