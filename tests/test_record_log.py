"""A run's records on disk as they are made (issue #18), at small sizes: the log counts
what the report needs as records pass, keeps only the few the pages list, and its file is
readable while the run goes on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from flickr_ingest.report import records as records_module
from flickr_ingest.report.model import RunReport
from flickr_ingest.report.publish import load_report_json
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import INLINE_RECORDS, RECORDS_FILE, write_report
from tests.records import file_record


def test_records_reach_the_file_as_they_are_made(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(records_module, "SYNC_EVERY", 3)
    monkeypatch.setattr(records_module, "SYNC_SECONDS", 3600.0)
    monkeypatch.setattr(records_module.os, "fsync", lambda fd: synced.append(fd))
    log = RecordLog(tmp_path / "journal.jsonl")
    for number in range(7):
        log.add(file_record(number, "uploaded"))
        # Each line is in the file at once (a killed process would leave it there).
        lines = (tmp_path / "journal.jsonl").read_text().splitlines()
        assert json.loads(lines[-1])["relative_path"] == f"{number:06d}.jpg"
    assert len(synced) == 2  # fsynced every third record
    assert [r.relative_path for r in log] == [f"{n:06d}.jpg" for n in range(7)]
    log.close()
    assert len(synced) == 3 and len((tmp_path / "journal.jsonl").read_text().splitlines()) == 7
    with pytest.raises(ValueError, match="closed"):
        log.add(file_record(8, "uploaded"))


def test_a_log_whose_disk_fails_still_closes_and_reads(tmp_path: Path, monkeypatch) -> None:
    log = RecordLog(tmp_path / "journal.jsonl")
    log.add(file_record(1, "uploaded"))

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records_module.os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        log.close()
    log.close()  # closed after all: a second close does not raise again
    assert [r.relative_path for r in log] == ["000001.jpg"]


def test_totals_ids_and_listing_are_kept_as_records_pass(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(records_module, "LISTED_FILES", 5)
    log = RecordLog(tmp_path / "journal.jsonl")
    for number in range(20):  # failures come late: the listing still puts them first
        log.add(file_record(number, "failed" if number >= 17 else "uploaded"))
    log.add(file_record(3, "uploaded"))  # the same photo id twice counts once among the ids
    assert log.totals == {"uploaded": 18, "failed": 3} and len(log) == 21
    assert not log.ok
    assert log.uploaded_photo_ids == [str(50_000 + n) for n in range(17)]
    listing, left_out = log.listing()
    assert [r.status for r in listing] == ["failed"] * 3 + ["uploaded"] * 2
    assert left_out == 16
    # What is kept in memory is the listing's worth, not every record.
    assert len(log._attention) + len(log._quiet) <= 2 * 5


def test_rewriting_keeps_every_record_in_the_same_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    log = RecordLog.of((file_record(n, "uploaded") for n in range(4)), path)
    changed = log.rewritten(lambda r: replace(r, album="Trip"))
    assert changed.path == path and not path.with_name("journal.jsonl.new").exists()
    assert [r.album for r in changed] == ["Trip"] * 4 and changed.totals == {"uploaded": 4}


def test_a_big_report_moves_the_run_s_own_file_and_a_small_one_lists_it_inline(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("flickr_ingest.report.writers.INLINE_RECORDS", 5)
    journal = tmp_path / "work" / "records.jsonl"
    # A name may hold characters str.splitlines() splits on; JSON leaves them as they are.
    odd = replace(file_record(8, "uploaded"), relative_path="line\u2028sep\x85next\u2029.jpg")
    big = RecordLog.of([*(file_record(n, "uploaded") for n in range(8)), odd], journal)
    report = RunReport("big", "t0", "t1", "/archive", True, "me", files=big)
    write_report(report, tmp_path / "big")
    data = json.loads((tmp_path / "big" / "report.json").read_text())
    assert data["records"] == RECORDS_FILE and "files" not in data
    assert not journal.exists()  # moved, not copied
    assert big.path == tmp_path / "big" / RECORDS_FILE and len(list(big)) == 9
    loaded = load_report_json(str(tmp_path), "big")  # how a chunk's report is read
    assert loaded is not None and len(loaded["files"]) == 9
    assert loaded["files"][-1]["relative_path"] == odd.relative_path

    small_journal = tmp_path / "work2" / "records.jsonl"
    backwards = (file_record(n, "uploaded") for n in reversed(range(3)))
    small = RunReport(
        "run", "t0", "t1", "/a", True, "me", files=RecordLog.of(backwards, small_journal)
    )
    write_report(small, tmp_path / "small")
    data = json.loads((tmp_path / "small" / "report.json").read_text())
    assert [f["relative_path"] for f in data["files"]] == ["000000.jpg", "000001.jpg", "000002.jpg"]
    assert not (tmp_path / "small" / RECORDS_FILE).exists()
    assert INLINE_RECORDS >= 5  # the real threshold is not the patched one


def test_records_are_written_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    previous = os.umask(0o022)
    try:
        log = RecordLog.of([file_record(1, "uploaded")], tmp_path / "work" / "records.jsonl")
        assert stat.S_IMODE((tmp_path / "work").stat().st_mode) == 0o700
        assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
        (tmp_path / "report").mkdir()
        log.move_to(tmp_path / "report" / "records.jsonl")
        assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
        in_memory = RecordLog.of([file_record(2, "uploaded")])
        in_memory.move_to(tmp_path / "report" / "memory.jsonl")
        assert stat.S_IMODE((tmp_path / "report" / "memory.jsonl").stat().st_mode) == 0o600
    finally:
        os.umask(previous)
