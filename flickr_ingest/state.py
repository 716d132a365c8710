"""Where a user's state lives: the upload ledger, run claims, the embedded sandbox.

One folder per user, not per working directory: the same account and source find the
same ledger wherever the command runs (a relative `./flickr-ingest-state` made every
other working directory, and every deployment's temporary folder, start from nothing and
send the whole archive again). Ledgers that earlier versions kept in
`./flickr-ingest-state` are merged into it when a run finds one, so nothing already
recorded is forgotten.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from flickr_ingest.ledger.sqlite import LEDGER_FILE, SqliteLedger

#: The folder, relative to the working directory, that versions before 0.9 kept state in.
LEGACY_STATE_DIR = "flickr-ingest-state"
#: Left in a legacy folder once its ledger is merged: the next run does not merge again.
MERGED_NOTE = "MERGED.txt"


def default_state_dir() -> Path:
    """The per-user state folder: `$XDG_STATE_HOME/flickr-ingest` (an absolute
    `XDG_STATE_HOME` only, as the XDG spec says), else the platform's place for it."""
    xdg = os.environ.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "flickr-ingest"
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "flickr-ingest"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA", "")
        return (Path(local) if local else home / "AppData" / "Local") / "flickr-ingest"
    return home / ".local" / "state" / "flickr-ingest"


def merge_legacy_state(state_dir: Path, working_dir: Path) -> str | None:
    """Merge the ledger an earlier version left in `working_dir/flickr-ingest-state` into
    the one in `state_dir` (records already there win), and take its embedded sandbox's
    photos along when `state_dir` has none. The legacy folder is left as it was, with a
    note saying where its records went. Returns the line that tells the user, or None
    when there was nothing to merge."""
    legacy = working_dir / LEGACY_STATE_DIR
    legacy_ledger = legacy / LEDGER_FILE
    if not legacy_ledger.is_file() or (legacy / MERGED_NOTE).exists():
        return None
    if legacy.resolve() == state_dir.resolve():
        return None
    ledger = SqliteLedger(state_dir / LEDGER_FILE)
    try:
        merged = ledger.merge_from(legacy_ledger)
    finally:
        ledger.close()
    if (legacy / "sandbox").is_dir() and not (state_dir / "sandbox").exists():
        shutil.copytree(legacy / "sandbox", state_dir / "sandbox", symlinks=True)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    (legacy / MERGED_NOTE).write_text(
        f"On {when} flickr-ingest merged this folder's ledger ({merged} record(s)) into\n"
        f"{state_dir}, where every run now keeps its state. This folder is no longer read.\n",
        encoding="utf-8",
    )
    return (
        f"Merged {merged} record(s) of the ledger in {legacy} into {state_dir}"
        " (state is now kept per user, not per folder)"
    )
