"""Issue #29: a damaged photo is visible: a truncated JPEG's warning is on the terminal,
in report.md and in the dashboard's files table; `--on-damaged skip` leaves it. Portrait
thumbnails are upright."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flickr_ingest.report.thumbnails import make_thumbnail
from flows.ingest import ingest
from tests.conftest import flickr_environment
from tests.photos import jpeg_bytes, picture

TRUNCATED = "JPEG is truncated"


def _folder(root: Path) -> Path:
    folder = root / "card"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(jpeg_bytes(801, (160, 120)))
    whole = jpeg_bytes(802, (160, 120))
    (folder / "half.jpg").write_bytes(whole[: len(whole) * 2 // 3])  # a card pulled early
    return folder


def test_a_truncated_jpeg_is_shown_on_the_terminal_and_in_report_md(
    prefect_server: str, sandbox, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    env = {
        **os.environ,
        **flickr_environment(sandbox),
        "PREFECT_API_URL": prefect_server,
        "FLICKR_INGEST_STATE_DIR": str(tmp_path / "state"),
        "FLICKR_INGEST_REPORT_DIR": str(tmp_path / "reports"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr  # uploaded: often the only copy
    terminal = run.stdout + run.stderr  # the progress lines go to stderr
    assert f"damaged: half.jpg (uploaded): {TRUNCATED}" in terminal, terminal
    assert "good.jpg" not in terminal
    report_md = next((tmp_path / "reports").glob("*/report.md")).read_text()
    [row] = [line for line in report_md.splitlines() if "half" in line]
    assert TRUNCATED in row and "uploaded" in row

    env["FLICKR_INGEST_STATE_DIR"] = str(tmp_path / "state-2")
    sandbox.state.reset()
    skipped = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder), "--on-damaged", "skip"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    terminal = skipped.stdout + skipped.stderr
    assert f"damaged: half.jpg (skipped): {TRUNCATED}" in terminal, terminal
    assert len(sandbox.state.photos.all_photos()) == 1


def test_a_truncated_jpeg_is_in_the_dashboards_files_table(flow_env: Path, sandbox) -> None:
    state = ingest({"source": str(_folder(flow_env))}, return_state=True)
    this_run = ArtifactFilter(
        flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
    )
    with get_client(sync_client=True) as client:
        [table] = [
            a for a in client.read_artifacts(artifact_filter=this_run) if a.key == "ingest-files"
        ]
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    [row] = [r for r in rows if "half" in r["file"]]
    assert row["status"] == "uploaded" and TRUNCATED in row["reason"], row


def test_a_portrait_thumbnail_is_upright(tmp_path: Path) -> None:
    """A camera stores a portrait sideways with EXIF orientation 6 (turn 90° clockwise)."""
    sideways = picture(803, (160, 120))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.save(out, "JPEG", quality=90, exif=exif)
    source = tmp_path / "portrait.jpg"
    source.write_bytes(out.getvalue())
    assert make_thumbnail(source, tmp_path / "thumb.jpg")
    with Image.open(tmp_path / "thumb.jpg") as thumb:
        assert thumb.height > thumb.width, thumb.size
        expected = sideways.transpose(Image.Transpose.ROTATE_270).resize(thumb.size)
        assert _close(thumb.convert("RGB"), expected)


def _close(a: Image.Image, b: Image.Image) -> bool:
    pixels = zip(a.getdata(), b.getdata(), strict=True)
    return (
        sum(abs(x - y) for pa, pb in pixels for x, y in zip(pa, pb, strict=True))
        / (a.width * a.height * 3)
        < 20
    )
