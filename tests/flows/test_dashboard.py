"""The Prefect dashboard as the monitor: a browser (Debian's chromium, driven by
Playwright) opens a finished run and finds the report table and the organize link."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.prefect_servers import running_prefect_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.integration,  # a Prefect server and Chromium
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def ui_server() -> Iterator[str]:
    """Prefect's server with its dashboard, on a fresh database; yields the dashboard's
    URL."""
    home = Path(tempfile.mkdtemp(prefix="prefect-ui-"))
    try:
        with running_prefect_server(home) as (api_url, _):
            yield api_url.removesuffix("/api")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_the_run_page_shows_the_report_table_and_the_organize_link(
    ui_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith("FLICKR_")}
    env.update(
        PREFECT_API_URL=f"{ui_server}/api",
        FLICKR_INGEST_SANDBOX_PORT="0",
        FLICKR_INGEST_API_CALLS_PER_HOUR="360000",
        FLICKR_INGEST_CREDENTIALS_FILE=str(tmp_path / "none.json"),
    )
    demo = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    runs = requests.post(f"{ui_server}/api/flow_runs/filter", json={}, timeout=10).json()
    run_id = runs[0]["id"]
    screenshot = tmp_path / "dashboard-report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})

        def open_artifact(name: str) -> None:
            page.goto(f"{ui_server}/runs/flow-run/{run_id}")
            page.get_by_text("Parameters", exact=True).first.wait_for(timeout=60000)
            page.get_by_text("Artifacts", exact=True).first.click()
            page.get_by_text(name, exact=True).first.click()

        open_artifact("organize-on-flickr")
        link = page.get_by_role("link", name="Organize on Flickr (1/1)")
        link.wait_for(timeout=60000)
        assert "/photos/upload/edit/?ids=" in link.get_attribute("href")
        open_artifact("ingest-files")
        page.get_by_text("2019 Lisbon/IMG_1001.jpg").first.wait_for(timeout=60000)
        body = page.inner_text("body")
        assert "15 file(s): 12 uploaded, 1 duplicate, 2 skipped" in body
        assert "empty file (0 bytes)" in body
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
    print(f"dashboard screenshot: {screenshot}")
