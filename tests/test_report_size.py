"""Reports that stay usable at any size (issue #18): above INLINE_RECORDS files the
per-file list moves from report.json to records.jsonl, which readers follow; report.md
and report.html list the files that need a look first and LISTED_FILES in all."""

from __future__ import annotations

import json
from pathlib import Path

from flickr_ingest.report.model import RunReport
from flickr_ingest.report.publish import load_report_json
from flickr_ingest.report.records import LISTED_FILES, RecordLog
from flickr_ingest.report.writers import INLINE_RECORDS, write_report
from tests.records import file_record


def _report(uploaded: int, failed: int, skipped: int) -> RunReport:
    statuses = ["uploaded"] * uploaded + ["failed"] * failed + ["skipped"] * skipped
    return RunReport(
        run_id="20261203-120000-abcdef",
        started_at="2026-12-03T12:00:00",
        finished_at="2026-12-03T12:10:00",
        source="/archive",
        sandbox=True,
        account="someone",
        files=RecordLog.of(file_record(n, status) for n, status in enumerate(statuses)),
    )


def test_a_big_run_keeps_its_files_in_records_jsonl_and_lists_what_needs_a_look(
    tmp_path: Path,
) -> None:
    report = _report(uploaded=INLINE_RECORDS + 500, failed=300, skipped=900)
    folder = tmp_path / report.run_id
    write_report(report, folder)

    data = json.loads((folder / "report.json").read_text())
    assert "files" not in data and data["records"] == "records.jsonl"
    assert data["totals"]["uploaded"] == INLINE_RECORDS + 500 and data["totals"]["failed"] == 300
    lines = (folder / "records.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [r.to_json() for r in report.files]
    loaded = load_report_json(str(tmp_path), report.run_id)  # how chunk reports are read
    assert loaded is not None and len(loaded["files"]) == len(report.files)

    html = (folder / "report.html").read_text()
    markdown = (folder / "report.md").read_text()
    assert "that need a look" in html and "every file is in records.jsonl" in html
    assert "that need a look" in markdown and "every file is in records.jsonl" in markdown
    rows = html.count("<tr class=")
    assert rows == LISTED_FILES
    # Every failure first (they need a look), then skipped files, then uploads.
    assert html.count("<tr class='failed'>") == 300 and html.count("<tr class='skipped'>") == 700
    file_rows = [line for line in markdown.splitlines() if line.startswith("| 0")]
    assert len(file_rows) == LISTED_FILES
    assert sum(1 for row in file_rows if "| failed |" in row) == 300
    assert (folder / "report.html").stat().st_size < 2_000_000


def test_a_small_run_keeps_every_file_in_report_json(tmp_path: Path) -> None:
    report = _report(uploaded=20, failed=1, skipped=2)
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["files"]) == 23 and "records" not in data
    assert not (tmp_path / "records.jsonl").exists()
    assert (tmp_path / "report.html").read_text().count("<tr class=") == 23
