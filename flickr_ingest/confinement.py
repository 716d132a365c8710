"""What a run started by a deployment may touch, and where it must keep its state.

A person at a terminal may point a run anywhere. A run started by a deployment runs on a
worker with the worker's files and credentials, with parameters that whoever can create
a flow run chooses: its source must lie under what the deployment watches (or an
allow-list the worker's owner sets), its report under the configured report location,
and its ledger and reports somewhere that outlives the run (a process worker runs each
flow run in a temporary folder it deletes afterwards: a relative ledger there starts
empty every time and the whole archive is sent again).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.settings import IngestSettings

#: Sources a deployment run may read besides the deployment's own `source` (the worker's
#: environment, comma-separated folders or s3:// prefixes).
ALLOWED_SOURCES_VARIABLE = "FLICKR_INGEST_ALLOWED_SOURCES"


def within(location: str, root: str) -> bool:
    """Whether `location` (a folder, file or s3:// URI) lies under `root`. Local paths
    are compared with links resolved; S3 keys by prefix at a '/' boundary."""
    if root.startswith("s3://") or location.startswith("s3://"):
        if not (root.startswith("s3://") and location.startswith("s3://")):
            return False
        bucket, key = _bucket_and_key(location)
        root_bucket, root_key = _bucket_and_key(root)
        return bucket == root_bucket and _key_under(key, root_key)
    path = Path(location).expanduser().resolve()
    return path.is_relative_to(Path(root).expanduser().resolve())


def check_confined(settings: IngestSettings, *, sources: Sequence[str], report_root: str) -> None:
    """Refuse a deployment run whose source, keys or report folder lie outside what the
    deployment was set up for, before anything is read or written."""
    allowed = [root for root in sources if root]
    if not allowed:
        raise ConfigurationError(
            "this deployment names no source and the worker allows none: give the"
            f" deployment a `source` parameter or set {ALLOWED_SOURCES_VARIABLE} on the worker"
        )
    if not any(within(settings.source, root) for root in allowed):
        raise ConfigurationError(
            f"source {settings.source!r} is outside what this deployment may read"
            f" ({', '.join(allowed)}); to allow more, set {ALLOWED_SOURCES_VARIABLE}"
            " on the worker"
        )
    if settings.source.startswith("s3://") and settings.keys:
        _, prefix = _bucket_and_key(settings.source)
        for key in settings.keys:
            if not _key_under(key, prefix):
                raise ConfigurationError(f"key {key!r} is outside the source {settings.source!r}")
    if not within(settings.report_dir, report_root):
        raise ConfigurationError(
            f"report_dir {settings.report_dir!r} is outside the configured report location"
            f" {report_root!r}"
        )


def check_durable(settings: IngestSettings, *, working_dir: Path) -> None:
    """Refuse a deployment run whose ledger or reports would not outlive it: a relative
    location, or one inside a temporary working folder (a process worker's)."""
    checks = [  # what, the setting that moves it, where it is
        ("the report folder", "FLICKR_INGEST_REPORT_DIR", settings.report_dir),
        ("the ledger", "FLICKR_INGEST_LEDGER", settings.ledger),
        ("the state folder", "FLICKR_INGEST_STATE_DIR", settings.state_dir),
    ]
    temporary = _is_temporary(working_dir)
    for what, setting, location in checks:
        if not location or location.startswith("s3://"):  # "": a per-user default
            continue
        path = Path(location).expanduser()
        if not path.is_absolute():
            raise ConfigurationError(
                f"{what} is {location!r}, relative to this flow run's working folder, which"
                f" the worker deletes after the run: set {setting} to an absolute path or"
                " an s3:// prefix"
            )
        if temporary and path.resolve().is_relative_to(working_dir.resolve()):
            raise ConfigurationError(
                f"{what} {location!r} is inside this flow run's temporary working folder,"
                f" which the worker deletes after the run: set {setting} to a lasting place"
            )


def checked_report_location(value: str, *, setting: str, watched: str | None) -> str:
    """A deployment's report location as a person set it (`setting` names where): an
    absolute folder on the workers or an s3:// prefix, never under the `watched` prefix
    (each report would start another run; None: none is set yet). A worker runs each
    flow run in a temporary folder, so a relative one would be deleted with the run."""
    text = value.strip()
    if not text:
        raise ConfigurationError(
            f"{setting} is not set: set it to where reports go, an absolute folder on the"
            " workers (e.g. /srv/flickr-ingest/reports) or an s3:// prefix"
        )
    if not text.startswith("s3://") and not Path(text).is_absolute():
        raise ConfigurationError(
            f"{setting}={text!r} is relative: a worker runs each flow run in a temporary"
            " folder, deleted afterwards; give an absolute folder or an s3:// prefix"
        )
    if watched and within(text, watched):
        raise ConfigurationError(
            f"{setting}={text!r} is under the watched prefix {watched}: every report would"
            " start another run"
        )
    return text


def _is_temporary(folder: Path) -> bool:
    return folder.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())


def _key_under(key: str, prefix: str) -> bool:
    """Whether the S3 key lies under `prefix`, at a '/' boundary ("inbox" holds
    "inbox/a.jpg", not "inbox-old/a.jpg")."""
    if not prefix or key == prefix:
        return True
    return key.startswith(prefix if prefix.endswith("/") else prefix + "/")


def _bucket_and_key(uri: str) -> tuple[str, str]:
    """s3://bucket/key as it names its object: one '/' after the bucket, nothing else
    stripped, '.' and '..' kept as the literal key characters they are in S3."""
    parts = urlsplit(uri)
    path = unquote(parts.path)
    return parts.netloc, path[1:] if path.startswith("/") else path


def allowed_sources() -> list[str]:
    """The worker's allow-list of sources (comma-separated)."""
    text = os.environ.get(ALLOWED_SOURCES_VARIABLE, "")
    return [part.strip() for part in text.split(",") if part.strip()]
