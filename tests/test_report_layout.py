"""Long tags in a browser (Debian's chromium, driven by Playwright): the report's table
stays within the window, with the checksum tag folded away, and the sandbox's organize
page keeps each tag inside its photo's card (issue #17)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from flickr_ingest.report.model import FileRecord, RunReport
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import write_report
from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.integration,  # Chromium
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]
CHECKSUM_TAG = "checksum:sha256=" + "ab" * 32 + "x" * 200  # far wider than a screen
LONG_TAG = "averyveryverylongtagwithoutanyspaceinit" * 6


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser.new_page(viewport={"width": 1000, "height": 800})
        browser.close()


def test_the_report_table_fits_the_window_and_folds_machine_tags(
    tmp_path: Path, browser_page
) -> None:
    record = FileRecord(
        source="file:///in/a.jpg",
        relative_path="deep/" * 20 + "a-file-name-without-breaks" * 5 + ".jpg",
        size=1234,
        kind="photo",
        status="uploaded",
        photo_id="12345678901",
        title="A photo",
        tags=("lisbon", LONG_TAG, CHECKSUM_TAG),
        attempts=1,
    )
    report = RunReport(
        run_id="layout",
        started_at="2026-12-03T00:00:00Z",
        finished_at="2026-12-03T00:00:01Z",
        source="/in",
        sandbox=True,
        account="me",
        dry_run=False,
        files=RecordLog.of([record]),
    )
    paths = write_report(report, tmp_path)
    page = browser_page
    page.goto(paths["html"].resolve().as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000
    assert page.get_by_text("1 machine tag(s)").is_visible()
    assert not page.get_by_text(CHECKSUM_TAG).is_visible()  # folded until asked for
    page.get_by_text("1 machine tag(s)").click()
    assert page.get_by_text(CHECKSUM_TAG).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000


def test_the_sandbox_organize_page_keeps_tags_inside_their_cards(
    sandbox: SandboxServer, client, browser_page
) -> None:
    ids = [
        client.upload(io.BytesIO(jpeg_bytes(n)), filename=f"{n}.jpg", tags=[LONG_TAG, tag]).photo_id
        for n, tag in ((1, CHECKSUM_TAG), (2, "short"))
    ]
    page = browser_page
    page.goto(f"{sandbox.url}/photos/upload/edit/?ids={','.join(ids)}")
    overflowing = page.evaluate(
        "[...document.querySelectorAll('.photo')].filter(c => c.scrollWidth > c.clientWidth).length"
    )
    assert overflowing == 0
