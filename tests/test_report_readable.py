"""Reports people read (issue #34): one sandbox banner, albums in plain words and title
order, and the narrow columns of report.html that never break mid-word."""

from __future__ import annotations

import re

from flickr_ingest.report.model import SANDBOX_NOTICE, AlbumRecord, RunReport
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import to_html, to_markdown
from tests.records import file_record

ALBUM_URL = "http://127.0.0.1:1/photos/x/albums/"


def _report() -> RunReport:
    return RunReport(
        run_id="r1",
        started_at="t0",
        finished_at="t1",
        source="/archive",
        sandbox=True,
        account="demo (1@N09) on the sandbox",
        files=RecordLog.of((file_record(1, "uploaded"), file_record(2, "skipped"))),
        notes=(f"{SANDBOX_NOTICE} (the sandbox keeps its photos in /state/sandbox)", "a note"),
        albums=(
            AlbumRecord("Zoo", "3", ALBUM_URL + "3", 12, 0, False),
            AlbumRecord("harbour", "1", ALBUM_URL + "1", 10, 10, True, created=True),
            AlbumRecord("Mountains", "2", ALBUM_URL + "2", 20, 3, True),
        ),
    )


def test_the_sandbox_is_said_once_with_where_it_keeps_its_photos() -> None:
    page, markdown = to_html(_report()), to_markdown(_report())
    for text in (page, markdown):
        assert text.lower().count("nothing was sent to flickr.com") == 1, text
        assert "/state/sandbox" in text and "a note" in text


def test_albums_in_plain_words_and_title_order() -> None:
    page, markdown = to_html(_report()), to_markdown(_report())
    assert "10 photos, a new album" in page and "10 photos, a new album" in markdown
    assert "20 photos, 3 of them put in by this run" in page
    assert "12 photos, none put in by this run" in markdown
    for text in (page, markdown):
        assert text.index("harbour") < text.index("Mountains") < text.index("Zoo")


def test_status_id_and_size_never_wrap_mid_word() -> None:
    page = to_html(_report())
    row = re.search(r"<tr class='uploaded'>.*?</tr>", page)
    assert row is not None
    cells = re.findall(r"<td([^>]*)>", row.group())
    assert [c for c in cells if "nowrap" in c] and len([c for c in cells if "nowrap" in c]) == 4
    assert "white-space:nowrap" in page
    assert "td,.organize a{overflow-wrap:anywhere}" not in page  # no longer on every cell
