"""Paths built from names that come from outside (run ids, file names, object keys).

A run id arrives as a flow parameter, which anyone allowed to start a deployment run can
set; it becomes folder names under the report, state, temporary and stop folders, and
`Run.close()` deletes one of them. So a run id is checked against a small alphabet at
every boundary, and every folder made from one is checked to lie inside its parent.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import tempfile
import time
from pathlib import Path

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.private_files import private_folder

#: The longest run id.
MAX_RUN_ID = 100
#: Letters, digits, dot, dash, underscore; no leading dot; at most MAX_RUN_ID characters.
_RUN_ID = re.compile(rf"[A-Za-z0-9_-][A-Za-z0-9._-]{{0,{MAX_RUN_ID - 1}}}")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def check_run_id(run_id: object) -> str:
    """`run_id` itself, or a ConfigurationError saying why it cannot name a folder (any
    value: run ids come from the command line, the environment and flow parameters)."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ConfigurationError(
            f"run_id {run_id!r} is not allowed: use 1-100 letters, digits, '.', '-' or '_',"
            " not starting with '.'"
        )
    return run_id


def chunk_run_id(run_id: str, number: int) -> str:
    """The run id of chunk `number` of the run `run_id`: `<run_id>-chunk001`, always a
    valid run id. A run id too long for the suffix is cut, and a hash of the whole id
    keeps chunks of two long ids with the same start apart."""
    suffix = f"-chunk{number:03d}"
    if len(run_id) + len(suffix) <= MAX_RUN_ID:
        return check_run_id(run_id + suffix)
    digest = hashlib.sha256(check_run_id(run_id).encode()).hexdigest()[:12]
    kept = run_id[: MAX_RUN_ID - len(suffix) - len(digest) - 1]
    return check_run_id(f"{kept}-{digest}{suffix}")


def child(folder: Path, name: str) -> Path:
    """`folder / name` for a single, checked path component that stays inside `folder`."""
    path = folder / check_run_id(name)
    if path.resolve().parent != folder.resolve():  # a symlinked child could lead elsewhere
        raise ConfigurationError(f"{name!r} leads outside {folder}")
    return path


def writable_folder(folder: Path, what: str) -> Path:
    """`folder`, made if missing, once a file could be written in it; else a
    ConfigurationError naming `what` and the system's reason. Checked before any upload,
    so that a run never uploads and then fails to record or report it."""
    try:
        private_folder(folder)  # what a run makes, only its owner reads
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"{what} {str(folder)!r} cannot be written: {error.strerror or error}"
        ) from None
    return folder
