"""Issue #29: every S3 key is itself through a whole run. `/cat.jpg` and `cat.jpg` in one
bucket are two photos with their own bytes, in the report and in the ledger (SQLite and
S3); `/only-with-slash.jpg` uploads. The core's run against moto and the sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from flickr_ingest.planning import UPLOAD
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from tests.conftest import flickr_environment
from tests.connected import connected
from tests.photos import jpeg_bytes

KEYS = {"cat.jpg": 11, "/cat.jpg": 12, "//cat.jpg": 13, "/only-with-slash.jpg": 14}


@pytest.mark.parametrize("ledger", ["sqlite", "s3"])
def test_keys_with_a_leading_slash_are_their_own_photos(
    ledger: str,
    sandbox: SandboxServer,
    moto_server: str,
    s3,
    bucket: str,
    tmp_path: Path,
    monkeypatch,
) -> None:
    for name, value in flickr_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    for key, seed in KEYS.items():
        s3.put_object(Bucket=bucket, Key=key, Body=jpeg_bytes(seed, size=(90, 60)))
    ledger_bucket = f"ledger-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=ledger_bucket)
    settings = IngestSettings(
        source=f"s3://{bucket}",
        state_dir=str(tmp_path / "state"),
        report_dir=str(tmp_path / "r"),
        s3_endpoint_url=moto_server,
        ledger=f"s3://{ledger_bucket}/ledger" if ledger == "s3" else "",
    )
    with connected(settings, "keys") as run:
        decisions = run.plan()
        assert all(d.action == UPLOAD for d in decisions)
        records = {r.relative_path: r for r in run.upload_group(decisions)}
        assert sorted(records) == sorted(KEYS)
        for key, seed in KEYS.items():
            record = records[key]
            assert record.status == "uploaded", (key, record.reason)
            sent = sandbox.state.store.photo_path(record.photo_id).read_bytes()
            assert sent == jpeg_bytes(seed, size=(90, 60)), key
            at = run.run.ledger.photo_at(run.account.ledger_name, record.source)
            assert at is not None and at.photo_id == record.photo_id, key
        assert len({r.photo_id for r in records.values()}) == len(KEYS)
        # A second run knows each object as its own photo.
        again = run.plan()
        assert {d.candidate.relative_path: d.candidate.photo_id for d in again} == {
            key: records[key].photo_id for key in KEYS
        }
