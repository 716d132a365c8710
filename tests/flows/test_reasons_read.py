"""Reasons name files as people know them (issue #34): a duplicate's reason names the
first copy by its path in the source, not as a percent-encoded absolute URI."""

from __future__ import annotations

import json
from pathlib import Path

from flows.ingest import ingest
from tests.photos import jpeg_bytes


def test_a_duplicates_reason_names_the_first_copy_by_its_path(flow_env: Path, sandbox) -> None:
    folder = flow_env / "archive"
    body = jpeg_bytes(4242)
    for name in ("2019/Trip to Porto/Nikon D70.jpg", "2020/Family/Copy of Nikon D70.jpg"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    summary = ingest({"source": str(folder)})
    files = json.loads(Path(summary["report"]["json"]).read_text("utf-8"))["files"]
    [duplicate] = [f for f in files if f["status"] == "duplicate"]
    assert duplicate["relative_path"] == "2020/Family/Copy of Nikon D70.jpg"
    assert duplicate["reason"].startswith("same bytes as 2019/Trip to Porto/Nikon D70.jpg,")
    assert "file://" not in duplicate["reason"] and "%20" not in duplicate["reason"]
