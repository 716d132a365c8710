"""Put a written report where the user asked: it stays in its local folder, or is copied
under an `s3://bucket/prefix/<run>/` prefix."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from flickr_ingest.paths import check_run_id, child
from flickr_ingest.report.writers import RECORDS_FILE, REPORT_FILES
from flickr_ingest.sources.s3 import parse_s3_uri


def publish(
    folder: Path, destination: str, run_id: str, *, s3_client: Any = None
) -> dict[str, str]:
    """Where each report file now is, by kind (json, markdown, html)."""
    if not destination.startswith("s3://"):
        return {kind: str(folder / name) for kind, name in REPORT_FILES.items()}
    bucket, prefix = parse_s3_uri(destination)
    base = _base(prefix, run_id)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = f"{base}/{path.relative_to(folder).as_posix()}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3_client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
    return {kind: f"s3://{bucket}/{base}/{name}" for kind, name in REPORT_FILES.items()}


def load_report_json(
    destination: str, run_id: str, *, s3_client: Any = None
) -> dict[str, Any] | None:
    """The report.json a run published under `destination`, or None if it wrote none;
    with its every file, from records.jsonl when a big run's report.json points there."""
    data = _read_text(destination, run_id, REPORT_FILES["json"], s3_client)
    if data is None:
        return None
    report: dict[str, Any] = json.loads(data)  # the report.json a run wrote
    if report.get("records") == RECORDS_FILE:
        lines = _read_text(destination, run_id, RECORDS_FILE, s3_client) or ""
        # One record a line, split on "\n" only: a path may hold U+2028 and the like,
        # which JSON leaves as they are and str.splitlines() would split on.
        report["files"] = [json.loads(line) for line in lines.split("\n") if line.strip()]
    return report


def _read_text(destination: str, run_id: str, name: str, s3_client: Any) -> str | None:
    if not destination.startswith("s3://"):
        path = child(Path(destination).expanduser(), run_id) / name
        return path.read_text(encoding="utf-8") if path.exists() else None
    bucket, prefix = parse_s3_uri(destination)
    try:
        body = s3_client.get_object(Bucket=bucket, Key=f"{_base(prefix, run_id)}/{name}")["Body"]
    except s3_client.exceptions.NoSuchKey:
        return None
    text: str = body.read().decode("utf-8")
    return text


def _base(prefix: str, run_id: str) -> str:
    """The run's key prefix under the report prefix (the run id checked: no `..` here)."""
    run_id = check_run_id(run_id)
    return f"{prefix.rstrip('/')}/{run_id}" if prefix.strip("/") else run_id
