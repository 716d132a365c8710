"""A run's report, thumbnails and records are its owner's alone, whatever the umask:
thumbnails of private photos were readable by every local user (0644 with umask 022)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.ingest import ingest
from tests.photos import jpeg_bytes


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_reports_thumbnails_are_not_readable_by_other_users(
    flow_env: Path, sandbox, open_umask: None
) -> None:
    folder = flow_env / "photos"
    folder.mkdir()
    for number in range(2):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(2820 + number))
    summary = ingest({"source": str(folder)})
    run_folder = Path(summary["report"]["json"]).parent
    thumbnails = sorted((run_folder / "thumbs").iterdir())
    assert len(thumbnails) == 2
    for path in (flow_env / "reports", run_folder, run_folder / "thumbs"):
        assert _mode(path) == 0o700, path
    for path in [*thumbnails, *(run_folder / name for name in ("report.json", "report.md"))]:
        assert _mode(path) == 0o600, path
    assert _mode(run_folder / "report.html") == 0o600
