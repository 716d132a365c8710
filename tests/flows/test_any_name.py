"""Issue #29: no name and no file stops a run. A name that is not UTF-8 (Latin-1 from an
old Windows share) is read, uploaded, titled with replacement characters, shown escaped,
and found again by its URI; whatever goes wrong listing, reading or describing one file
is that file's reason, and the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from flickr_ingest import discovery, pipeline, uploading
from flickr_ingest.planning import source_key
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources import LocalSource
from flickr_ingest.sources import local as local_source
from tests.conftest import flickr_environment
from tests.photos import jpeg_bytes

LATIN1 = b"Ge\xf6rg.jpg"


def _latin1_tree(folder: Path) -> Path:
    (folder / os.fsdecode(b"Fotos \xe9t\xe9")).mkdir(parents=True)
    (folder / os.fsdecode(b"Fotos \xe9t\xe9") / os.fsdecode(LATIN1)).write_bytes(
        jpeg_bytes(291, size=(120, 90))
    )
    (folder / "plain.jpg").write_bytes(jpeg_bytes(292, size=(120, 90)))
    return folder


def test_a_latin1_name_is_listed_with_its_raw_bytes_in_a_stable_uri(tmp_path: Path) -> None:
    _latin1_tree(tmp_path)
    items = {item.relative_path: item for item in LocalSource(tmp_path).list()}
    item = items["Fotos \\xe9t\\xe9/Ge\\xf6rg.jpg"]
    assert item.problem is None and item.size > 0
    assert item.uri.endswith("/Fotos%20%E9t%E9/Ge%F6rg.jpg")
    assert item.uri == next(i.uri for i in LocalSource(tmp_path).list() if i.uri == item.uri)
    assert local_source.uri_to_path(item.uri).read_bytes()[:2] == b"\xff\xd8"
    # A chunk run asks for it by the key planning gives it.
    candidate = next(c for c in discovery.discover(LocalSource(tmp_path)) if c.uri == item.uri)
    again = list(LocalSource(tmp_path, keys=[source_key(candidate)]).list())
    assert [(i.uri, i.relative_path, i.problem) for i in again] == [
        (item.uri, item.relative_path, None)
    ]
    json.dumps(item.relative_path).encode("utf-8")  # JSON and UTF-8 carry it


def test_a_latin1_name_is_uploaded_and_reported_by_the_cli(
    prefect_server: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    folder = _latin1_tree(tmp_path / "archive")
    env = {
        **os.environ,
        **flickr_environment(sandbox),
        "PREFECT_API_URL": prefect_server,
        "FLICKR_INGEST_STATE_DIR": str(tmp_path / "state"),
        "FLICKR_INGEST_REPORT_DIR": str(tmp_path / "reports"),
        "FLICKR_INGEST_API_CALLS_PER_HOUR": "360000",
    }
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        env=env,
        capture_output=True,
        timeout=300,
    )
    output = (run.stdout + run.stderr).decode("utf-8")  # the terminal's text is UTF-8
    assert run.returncode == 0, output
    assert "2 uploaded" in output or "uploaded: 2" in output or "2 file(s)" in output, output
    report_dir = next((tmp_path / "reports").iterdir())
    report = json.loads((report_dir / "report.json").read_text("utf-8"))
    record = next(f for f in report["files"] if "Ge" in f["relative_path"])
    assert record["status"] == "uploaded", record
    assert record["relative_path"] == "Fotos \\xe9t\\xe9/Ge\\xf6rg.jpg"
    assert record["source"].endswith("/Fotos%20%E9t%E9/Ge%F6rg.jpg")
    assert record["title"] == "Ge\ufffdrg"
    assert "Ge\\\\xf6rg.jpg" in (report_dir / "report.md").read_text("utf-8")  # its \\ escaped
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    stored = next(p for p in photos if p["id"] == record["photo_id"])
    assert stored["title"] == "Ge\ufffdrg"


@pytest.fixture
def settings(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> IngestSettings:
    for name, value in flickr_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    folder = _latin1_tree(tmp_path / "archive")
    (folder / "b.jpg").write_bytes(jpeg_bytes(293, size=(120, 90)))
    settings = IngestSettings(
        source=str(folder), state_dir=str(tmp_path / "state"), report_dir=str(tmp_path / "r")
    )
    return settings


def _run_all(settings: IngestSettings) -> dict[str, tuple[str, str | None]]:
    """Every file's (status, reason) after a whole run in this process (the library's
    own steps); the report is written too (JSON, Markdown, HTML) and read back."""
    report, where = pipeline.ingest(settings, "any-name")
    written = json.loads(Path(where["json"]).read_text("utf-8"))
    assert len(written["files"]) == len(report.files)
    return {f["relative_path"]: (f["status"], f["reason"]) for f in written["files"]}


HOSTILE = "no such thing: '/x/Ge\udcf6rg'"  # a message naming a path that is not UTF-8


def test_a_failure_listing_one_entry_skips_that_entry(
    settings: IngestSettings, monkeypatch
) -> None:
    real = local_source.junk_kind

    def failing(relative: str) -> str | None:
        if relative == "b.jpg":
            raise RuntimeError(HOSTILE)
        return real(relative)

    monkeypatch.setattr(local_source, "junk_kind", failing)
    outcome = _run_all(settings)
    status, reason = outcome["b.jpg"]
    assert status == "skipped" and "RuntimeError" in reason and "Ge\\xf6rg" in reason
    assert outcome["plain.jpg"][0] == "uploaded"
    assert outcome["Fotos \\xe9t\\xe9/Ge\\xf6rg.jpg"][0] == "uploaded"


def test_a_failure_reading_one_file_skips_that_file(settings: IngestSettings, monkeypatch) -> None:
    """The head of b.jpg reads as garbage that breaks the sniffer (any bug in a reader)."""
    read_head, sniff = LocalSource.read_head, discovery.sniff

    def garbled(self, item, length: int) -> bytes:
        return b"garbage" if item.name == "b.jpg" else read_head(self, item, length)

    def failing(head: bytes):
        if head == b"garbage":
            raise OSError(5, "Input/output error", "/x/Ge\udcf6rg")
        return sniff(head)

    monkeypatch.setattr(LocalSource, "read_head", garbled)
    monkeypatch.setattr(discovery, "sniff", failing)
    outcome = _run_all(settings)
    status, reason = outcome["b.jpg"]
    assert status == "skipped" and "Input/output error" in reason and "Ge" in reason
    assert outcome["plain.jpg"][0] == "uploaded"


def test_a_failure_describing_one_file_fails_that_file(
    settings: IngestSettings, monkeypatch
) -> None:
    real = uploading.read_file_metadata

    def failing(stream, size):
        if size == (Path(settings.source) / "b.jpg").stat().st_size:
            raise ValueError(HOSTILE)
        return real(stream, size)

    monkeypatch.setattr(uploading, "read_file_metadata", failing)
    outcome = _run_all(settings)
    status, reason = outcome["b.jpg"]
    assert status == "failed" and "ValueError" in reason and "Ge\\xf6rg" in reason
    assert outcome["plain.jpg"][0] == "uploaded"
