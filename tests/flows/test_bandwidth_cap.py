"""`--bwlimit` (issue #34): every upload lane of a run draws from one byte bucket, so
the run's upload rate holds at the cap; the progress display hears the bytes as they go."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flickr_ingest import pipeline
from flickr_ingest.progress import RunListener
from flickr_ingest.settings import IngestSettings
from tests.photos import jpeg_bytes

CAP = 256 * 1024  # bytes a second


def _noisy_jpegs(folder: Path, count: int) -> int:
    """JPEGs of about 100 KB (a noisy picture compresses poorly); their total size."""
    folder.mkdir()
    for number in range(count):
        body = jpeg_bytes(9100 + number, size=(400, 300)) + os.urandom(90_000)
        (folder / f"p{number:02d}.jpg").write_bytes(body)
    return sum(path.stat().st_size for path in folder.iterdir())


def test_the_upload_rate_holds_at_the_cap(run_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = _noisy_jpegs(run_env / "photos", 16)  # about 1.5 MB: 6 s at the cap
    monkeypatch.setenv("FLICKR_INGEST_BWLIMIT", "256k")
    sent: list[tuple[float, str]] = []

    class Listener(RunListener):
        def sent(self, uri: str, size: int) -> None:
            sent.append((time.monotonic(), uri))

    settings = IngestSettings.from_environment(source=str(run_env / "photos"), concurrency=8)
    report, _ = pipeline.ingest(settings, "capped", listener=Listener())
    assert report.totals["uploaded"] == 16
    # From the first byte to the last: the cap, within 5% (a quarter second of burst).
    seconds = sent[-1][0] - sent[0][0]
    rate = total / seconds
    assert rate <= CAP * 1.05, f"{rate / 1024:.0f} KiB/s over {seconds:.1f} s"
    assert rate >= CAP * 0.8, f"{rate / 1024:.0f} KiB/s over {seconds:.1f} s"
    assert len({uri for _, uri in sent}) == 16  # every file's bytes were heard as they went
