"""Issue #29: a local file is opened as it was listed. A file swapped for a link after
listing, or whose folder was swapped for a link, is skipped with why, never uploaded (a
private file outside the folder would be); `--follow-links` keeps following them. On the
core's own run against the sandbox over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from flickr_ingest.planning import UPLOAD
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from tests.conftest import flickr_environment
from tests.connected import Connected, connected
from tests.photos import jpeg_bytes

SECRET = jpeg_bytes(4242, size=(100, 80))


def _settings(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch, follow_links: bool
) -> IngestSettings:
    for name, value in flickr_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(jpeg_bytes(1, size=(100, 80)))
    (folder / "sub" / "b.jpg").write_bytes(jpeg_bytes(2, size=(100, 80)))
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.jpg").write_bytes(SECRET)
    (private / "b.jpg").write_bytes(SECRET)
    settings = IngestSettings(
        source=str(folder),
        state_dir=str(tmp_path / "state"),
        report_dir=str(tmp_path / "r"),
        follow_links=follow_links,
    )
    return settings


@pytest.fixture
def run(sandbox: SandboxServer, tmp_path: Path, monkeypatch) -> Iterator[Connected]:
    with connected(
        _settings(sandbox, tmp_path, monkeypatch, follow_links=False), "confined"
    ) as run:
        yield run


def _planned(run: Connected) -> dict[str, object]:
    decisions = run.plan()
    return {d.candidate.relative_path: d for d in decisions if d.action == UPLOAD}


def _swap(folder: Path) -> None:
    """After listing: a.jpg becomes a link to a private file; sub/ a link to a private
    folder holding a b.jpg."""
    private = folder.parent / "private"
    (folder / "a.jpg").unlink()
    os.symlink(private / "secret.jpg", folder / "a.jpg")
    (folder / "sub").rename(folder.parent / "old-sub")
    os.symlink(private, folder / "sub")


def _stored(sandbox: SandboxServer) -> list[dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return [p for p in photos if p["status"] == "active"]


def test_a_file_or_folder_swapped_for_a_link_after_listing_is_skipped(
    run: Connected, sandbox
) -> None:
    planned = _planned(run)
    _swap(Path(run.settings.source))
    a, b = run.upload(planned["a.jpg"]), run.upload(planned["sub/b.jpg"])
    assert a.status == "skipped" and "symbolic link since it was listed" in a.reason
    assert b.status == "skipped" and "outside the source folder" in b.reason
    assert "--follow-links" in a.reason and "--follow-links" in b.reason
    assert _stored(sandbox) == []  # the private file never left


def test_follow_links_keeps_following_them(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch
) -> None:
    settings = _settings(sandbox, tmp_path, monkeypatch, follow_links=True)
    with connected(settings, "confined") as run:
        planned = _planned(run)
        _swap(Path(run.settings.source))
        assert run.upload(planned["a.jpg"]).status == "uploaded"
        assert run.upload(planned["sub/b.jpg"]).status in ("uploaded", "duplicate")
