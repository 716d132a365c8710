"""The upload ledger: what the account already holds, by content hash (see `base`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flickr_ingest.ledger.base import BUSY, CLAIMED, RECLAIMED, Ledger, Upload
from flickr_ingest.ledger.sqlite import LEDGER_FILE, SqliteLedger

__all__ = ["BUSY", "CLAIMED", "RECLAIMED", "Ledger", "SqliteLedger", "Upload", "open_ledger"]


def open_ledger(location: str, *, state_dir: Path, s3_client: Any = None) -> Ledger:
    """`s3://bucket/prefix` (shared by every worker), else a SQLite file: `location`, or
    `LEDGER_FILE` in the state folder when empty."""
    if location.startswith("s3://"):
        from flickr_ingest.ledger.s3 import S3Ledger
        from flickr_ingest.sources.s3 import make_client

        return S3Ledger(location, s3_client or make_client())
    return SqliteLedger(Path(location) if location else state_dir / LEDGER_FILE)
