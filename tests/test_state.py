"""Where state lives: one per-user folder whatever the working directory, and ledgers of
earlier versions (./flickr-ingest-state) merged into it with nothing forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest

from flickr_ingest.ledger.sqlite import LEDGER_FILE, SqliteLedger
from flickr_ingest.settings import IngestSettings
from flickr_ingest.state import LEGACY_STATE_DIR, MERGED_NOTE, default_state_dir, merge_legacy_state


def test_the_default_state_folder_is_per_user_not_per_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FLICKR_INGEST_STATE_DIR", raising=False)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        assert IngestSettings.from_environment().state_path == tmp_path / "xdg" / "flickr-ingest"
    # A relative XDG_STATE_HOME is ignored, as the XDG spec says.
    monkeypatch.setenv("XDG_STATE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / ".local" / "state" / "flickr-ingest"


def _legacy_ledger(folder: Path) -> None:
    ledger = SqliteLedger(folder / LEGACY_STATE_DIR / LEDGER_FILE)
    ledger.record_upload("1@N01@flickr.com", "a" * 64, "111", "file:///p/a.jpg", "2020:01:01")
    ledger.record_upload("1@N01@flickr.com", "b" * 64, "222", "file:///p/b.jpg")
    ledger.record_album("1@N01@flickr.com", "Trip", "72157")
    ledger.close()


def test_a_legacy_ledger_is_merged_once_and_left_in_place(tmp_path: Path) -> None:
    work, state = tmp_path / "work", tmp_path / "state"
    _legacy_ledger(work)
    current = SqliteLedger(state / LEDGER_FILE)  # one record of its own, which wins
    current.record_upload("1@N01@flickr.com", "b" * 64, "999", "file:///q/b.jpg")
    current.close()

    line = merge_legacy_state(state, work)

    assert line is not None and str(work / LEGACY_STATE_DIR) in line and str(state) in line
    merged = SqliteLedger(state / LEDGER_FILE)
    try:
        assert merged.known_photo_id("1@N01@flickr.com", "a" * 64) == "111"
        assert merged.known_photo_id("1@N01@flickr.com", "b" * 64) == "999"
        assert merged.photo_at("1@N01@flickr.com", "file:///p/a.jpg").taken == "2020:01:01"
        assert merged.album_id("1@N01@flickr.com", "Trip") == "72157"
    finally:
        merged.close()
    assert (work / LEGACY_STATE_DIR / LEDGER_FILE).is_file()  # nothing deleted
    assert str(state) in (work / LEGACY_STATE_DIR / MERGED_NOTE).read_text(encoding="utf-8")
    assert merge_legacy_state(state, work) is None  # said once


def test_a_ledger_of_an_older_schema_merges_by_column_name(tmp_path: Path) -> None:
    import sqlite3

    legacy = tmp_path / "work" / LEGACY_STATE_DIR
    legacy.mkdir(parents=True)
    db = sqlite3.connect(legacy / LEDGER_FILE)
    db.execute(  # before path records and their date taken
        "CREATE TABLE uploads (account TEXT, sha256 TEXT, photo_id TEXT, source TEXT,"
        " recorded REAL, PRIMARY KEY (account, sha256))"
    )
    db.execute("INSERT INTO uploads VALUES ('acc', 'c', '333', 'file:///c.jpg', 1.0)")
    db.commit()
    db.close()
    assert merge_legacy_state(tmp_path / "state", tmp_path / "work") is not None
    merged = SqliteLedger(tmp_path / "state" / LEDGER_FILE)
    try:
        assert merged.known_photo_id("acc", "c") == "333"
    finally:
        merged.close()
