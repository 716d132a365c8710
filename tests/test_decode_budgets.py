"""Thumbnails bounded in CPU and in memory (issue #29): a JPEG padded with scans is not
decoded (a warning says so), and the decodes of many upload lanes share one memory
budget, so a process's peak does not grow with --concurrency."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from flickr_ingest.report.thumbnails import MAX_SCANS, small_picture, too_costly_to_decode


def _scan_padded_jpeg(scans: int) -> bytes:
    """A progressive JPEG of noise whose last scan is repeated `scans` times with no
    data: each costs libjpeg a pass over the image."""
    rng = random.Random(1)
    image = Image.frombytes("RGB", (1600, 1200), rng.randbytes(1600 * 1200 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, progressive=True)
    data = out.getvalue()
    start = data.rfind(b"\xff\xda")
    header = data[start : start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")]
    return data[:-2] + header * scans + b"\xff\xd9"


def test_a_scan_padded_jpeg_costs_under_two_seconds_of_cpu() -> None:
    padded = io.BytesIO(_scan_padded_jpeg(20_000))
    started = time.process_time()
    picture = small_picture(padded, camera_thumbnail=False)
    spent = time.process_time() - started
    assert picture is None and spent < 2.0, spent
    assert f"more than {MAX_SCANS} scans" in (too_costly_to_decode(padded) or "")
    # An ordinary progressive JPEG still gets its thumbnail.
    assert too_costly_to_decode(io.BytesIO(_scan_padded_jpeg(0))) is None
    assert small_picture(io.BytesIO(_scan_padded_jpeg(0)), camera_thumbnail=False) is not None


_SIXTEEN_LANES = """
import sys, threading
from flickr_ingest.report.thumbnails import small_picture
path = sys.argv[1]
def lane():
    with open(path, "rb") as stream:
        assert small_picture(stream, camera_thumbnail=False) is not None
lanes = [threading.Thread(target=lane) for _ in range(16)]
for t in lanes: t.start()
for t in lanes: t.join()
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(int(peak.split()[1]) // 1024)
"""


@pytest.mark.integration  # measures memory in a Python process of its own
def test_sixteen_lanes_of_giant_pngs_stay_under_600_mb(tmp_path: Path) -> None:
    """A 6,000 x 6,000 PNG decodes to 144 MB: 16 lanes at once took 2.3 GB."""
    png = tmp_path / "giant.png"
    Image.new("RGB", (6000, 6000), (30, 120, 200)).save(png, compress_level=1)
    run = subprocess.run(
        [sys.executable, "-c", _SIXTEEN_LANES, str(png)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    peak_mb = int(run.stdout.strip())
    print(f"16 lanes of a 6000x6000 PNG: peak {peak_mb} MB")
    assert peak_mb < 600, peak_mb
