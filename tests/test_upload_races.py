"""Races between discovery and upload (Hardening #8), on the core's own run against the
sandbox over HTTP: a file swapped for a FIFO, rewritten or shrunk after it was hashed,
grown since discovery."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from flickr_ingest import uploading
from flickr_ingest.files import CheckedReader
from flickr_ingest.flickr import errors
from flickr_ingest.planning import UPLOAD
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from tests.conftest import flickr_environment
from tests.connected import Connected, connected
from tests.photos import jpeg_bytes


@pytest.fixture
def run(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connected]:
    for name, value in flickr_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(1, size=(200, 150)))
    settings = IngestSettings(
        source=str(folder), state_dir=str(tmp_path / "state"), report_dir=str(tmp_path / "r")
    )
    with connected(settings, "races") as run:
        yield run


def _decision(run: Connected):
    decisions = run.plan()
    return next(d for d in decisions if d.action == UPLOAD)


def _stored(sandbox: SandboxServer) -> list[dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return [p for p in photos if p["status"] == "active"]


def test_a_file_swapped_for_a_fifo_is_skipped_not_waited_for(run: Connected, sandbox) -> None:
    decision = _decision(run)
    path = Path(run.settings.source) / "a.jpg"
    path.unlink()
    os.mkfifo(path)
    finished: list = []
    worker = threading.Thread(target=lambda: finished.append(run.upload(decision)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert finished, "the upload hung on a FIFO"
    assert finished[0].status == "skipped" and "a FIFO" in finished[0].reason
    assert _stored(sandbox) == []


def _rewrite_after_hashing(monkeypatch: pytest.MonkeyPatch, path: Path, new: bytes) -> None:
    """Make the race happen on purpose: rewrite the file just after it was hashed."""
    claim = uploading._claim_or_known

    def rewrite_then_claim(*args, **kwargs):
        path.write_bytes(new)  # the same open file sees the new bytes (same inode)
        return claim(*args, **kwargs)

    monkeypatch.setattr(uploading, "_claim_or_known", rewrite_then_claim)


def test_a_file_rewritten_after_hashing_is_not_left_on_flickr_under_the_old_hash(
    run: Connected, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    decision = _decision(run)
    path = Path(run.settings.source) / "a.jpg"
    original = path.read_bytes()
    edited = bytearray(original)
    edited[-10] ^= 0xFF  # same size, other bytes
    _rewrite_after_hashing(monkeypatch, path, bytes(edited))
    record = run.upload(decision)
    assert record.status == "failed" and "changed while it was being sent" in record.reason
    assert "was deleted again" in record.reason
    assert _stored(sandbox) == []  # no photo whose bytes disagree with its checksum tag
    assert run.run.ledger.upload_for(run.account.ledger_name, record.sha256) is None
    monkeypatch.undo()
    again = run.upload(_decision(run))  # the next attempt sends the file as it is now
    stored = _stored(sandbox)
    assert again.status == "uploaded" and len(stored) == 1
    assert stored[0]["sha256"] == again.sha256 != record.sha256


def test_a_file_that_shrank_after_hashing_fails_the_send_and_is_retried(
    run: Connected, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    decision = _decision(run)
    path = Path(run.settings.source) / "a.jpg"
    _rewrite_after_hashing(monkeypatch, path, path.read_bytes()[:100])
    with pytest.raises(errors.TransientError, match="shrank"):
        run.upload(decision)
    assert _stored(sandbox) == []


def test_the_record_carries_the_size_read_at_upload_time(run: Connected, sandbox) -> None:
    decision = _decision(run)
    path = Path(run.settings.source) / "a.jpg"
    path.write_bytes(jpeg_bytes(2, size=(400, 300)))  # grew after discovery
    record = run.upload(decision)
    assert record.status == "uploaded" and record.size == path.stat().st_size
    assert record.size != decision.candidate.size


def test_a_send_slower_than_the_minimum_rate_is_given_up(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    with open(path, "rb") as stream:
        reader = CheckedReader(stream, 1000)
        assert reader.read(10) == b"x" * 10
        reader._deadline = 0  # as if the link had crawled past the allowance
        with pytest.raises(errors.TransportError, match="longer than"):
            reader.read(10)


def test_the_bytes_sent_are_told_to_the_contexts_listener(run: Connected, sandbox) -> None:
    """`UploadContext.sent` hears every piece of the file as it goes, by its URI."""
    heard: list[tuple[str, int]] = []
    context = run.run.upload_context(run.account, sent=lambda uri, size: heard.append((uri, size)))
    decision = _decision(run)
    record = uploading.upload_file(decision, context)
    assert record.status == "uploaded"
    assert {uri for uri, _ in heard} == {decision.candidate.uri}
    assert sum(size for _, size in heard) >= record.size  # the file, in its multipart body
