"""Run settings: every option of `flickr-ingest run` and of the `ingest` flow, with its
default, also settable as an environment variable `FLICKR_INGEST_<NAME>`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flickr_ingest.bandwidth import Timetable
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.metadata import MappingOptions
from flickr_ingest.outcomes import OnChange
from flickr_ingest.state import default_state_dir

ENV_PREFIX = "FLICKR_INGEST_"
#: What happens to a file edited at a path sent before (`on_change`).
ON_CHANGE_CHOICES = tuple(choice.value for choice in OnChange)  # plain: argparse shows repr()
#: What happens to a file whose image data is damaged (`on_damaged`).
ON_DAMAGED_CHOICES = ("upload", "skip")
#: A camera RAW without a JPEG twin (`raw`): send its embedded full-size JPEG preview, or skip it.
RAW_CHOICES = ("upload-preview", "skip")
#: A Live Photo's short video beside its still (`live_photo_videos`).
LIVE_PHOTO_VIDEO_CHOICES = ("skip", "upload")


@dataclass(frozen=True)
class IngestSettings:
    source: str = ""
    keys: tuple[str, ...] | None = None  # explicit S3 keys (event-triggered runs)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    follow_links: bool = False  # follow symbolic links that lead outside a local source
    report_dir: str = "flickr-ingest-reports"
    # The upload ledger, run claims and the embedded sandbox; "" = the per-user state folder
    # (flickr_ingest/state.py), the same wherever a run starts
    state_dir: str = ""
    ledger: str = ""  # "" = a SQLite file in state_dir; s3://bucket/prefix = shared by all workers
    concurrency: int = 8
    # Above this many files to upload, the run splits them into chunks of this size, each
    # a flow run of `chunk_deployment` that any worker of its pool picks up (0 = never).
    chunk_size: int = 0
    chunk_deployment: str = "ingest/batch"
    dry_run: bool = False
    # A file edited at a path sent before: "replace" its photo (same id, albums, comments,
    # faves), "upload" it as a new photo, or "skip" it (reported as changed)
    on_change: str = OnChange.REPLACE.value
    update_metadata: bool = False  # on replace, also set title, description and tags anew
    # A photo whose image data is damaged (a truncated JPEG): "upload" it all the same (it
    # is often the only copy; its reason says it is damaged) or "skip" it
    on_damaged: str = "upload"
    # A RAW with no JPEG twin: "upload-preview" sends its embedded full-size JPEG preview
    # (with the RAW's EXIF), "skip" skips it (Flickr takes no RAW)
    raw: str = "upload-preview"
    # The video of a Live Photo (same stem as a still, 3 s or less): "skip" or "upload"
    live_photo_videos: str = "skip"
    retries: int = 6
    retry_backoff_seconds: float = 2.0
    # Flickr's budget of REST calls per API key, shared by every worker; 0 = no limit
    api_calls_per_hour: int = 3600
    # A hard cap on uploads and replaces per key (0 = none: Flickr's own signals pace them)
    uploads_per_hour: int = 0
    # A cap on upload bytes a second, rclone's form: "2M", "512k", or a timetable such as
    # "08:00,2M 23:00,off" ("" = none); flickr_ingest/bandwidth.py
    bwlimit: str = ""
    is_public: bool | None = None  # None = the account's default
    is_friend: bool | None = None
    is_family: bool | None = None
    safety_level: int | None = None
    hidden: int | None = None
    title_template: str | None = None
    description_template: str | None = None
    camera_tags: bool = True
    lens_tags: bool = True
    year_tags: bool = True
    path_tags: bool = False
    extra_tags: tuple[str, ...] = ()
    # albums: "none", "folder" (the file's folder), "path" (its folders joined by
    # album_separator) or a fixed album name ("name:folder" for an album called "folder")
    album: str = "none"
    album_separator: str = " / "
    s3_endpoint_url: str | None = None
    aws_credentials_block: str | None = None  # a Prefect AwsCredentials block for S3
    secret_block: str = "flickr-ingest-credentials"
    sandbox: bool = False  # use the embedded sandbox even when credentials are set
    sandbox_port: int = 8470  # the embedded sandbox's port, so its pages open again later

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            problem = check(getattr(self, name))
            if problem:
                raise ConfigurationError(f"{name} {problem}")
        self.mapping_options()  # templates fail here, before anything runs

    def mapping_options(self) -> MappingOptions:
        """The metadata-mapping settings (the same names here and in MappingOptions)."""
        return MappingOptions(**{f.name: getattr(self, f.name) for f in fields(MappingOptions)})

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir).expanduser() if self.state_dir else default_state_dir()

    @classmethod
    def from_environment(
        cls, *, option_name: Callable[[str], str] | None = None, **overrides: Any
    ) -> IngestSettings:
        """Defaults, then `FLICKR_INGEST_*` variables, then `overrides` (None = not given).
        A wrong value is refused naming where it came from: the variable, or the option
        `option_name(setting)` says (the CLI's `--concurrency`)."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = os.environ.get(ENV_PREFIX + spec.name.upper())
            if raw is not None:
                values[spec.name] = value = _parse(spec.name, raw, spec.type)
                _check(spec.name, value, f"{ENV_PREFIX}{spec.name.upper()}={raw!r}")
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                _check(name, value, f"{option_name(name)} {value!r}" if option_name else None)
        return cls(**values)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> IngestSettings:
        """The settings a flow run was given (`as_parameters`' form, or any part of it:
        what is not given comes from the `FLICKR_INGEST_*` environment, then the
        defaults). An unknown name or a value of the wrong kind is refused by name."""
        known = {spec.name: spec.type for spec in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in parameters.items():
            if name not in known:
                raise ConfigurationError(
                    f"settings: no setting is called {name!r} (see flickr_ingest/settings.py)"
                )
            values[name] = _of_kind(name, value, str(known[name]))
        return cls.from_environment(option_name=lambda name: f"settings.{name}", **values)

    def as_parameters(self) -> dict[str, Any]:
        """Every setting as a flow run's parameter shows it (JSON: lists, not tuples);
        `from_parameters` reads it back to the same settings, so the dashboard shows what
        the run did and a re-run does it again."""
        return {
            spec.name: list(value) if isinstance(value, tuple) else value
            for spec in fields(self)
            for value in [getattr(self, spec.name)]
        }

    def with_changes(self, **changes: Any) -> IngestSettings:
        return replace(self, **changes)


def _of_kind(name: str, value: Any, kind: str) -> Any:
    """A parameter's value as its setting's kind (`kind`: the field's annotation);
    text is read as the environment's is (a dashboard form sends "8" as well as 8)."""
    if value is None:
        return None
    if isinstance(value, str) and not kind.startswith("str"):
        return _parse(name, value, kind, where=f"settings.{name}={value!r}")
    if "tuple" in kind:
        fits = isinstance(value, list | tuple) and all(isinstance(part, str) for part in value)
        value = tuple(value) if fits else value
    elif kind.startswith("float"):
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if fits else value
    else:  # bool, int, str (True is an int to Python, not to a setting)
        expected = {"bool": bool, "int": int, "str": str}[kind.split(" ")[0]]
        fits = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
    if not fits:
        raise ConfigurationError(f"settings.{name}={value!r}: expected {kind}")
    return value


def _check(name: str, value: Any, where: str | None) -> None:
    """Refuse a wrong value of the setting `name`, saying `where` it was given."""
    check = _CHECKS.get(name)
    problem = check(value) if check else None
    if problem:
        raise ConfigurationError(f"{where}: {problem}" if where else f"{name} {problem}")


def _concurrency(value: int) -> str | None:
    return None if 1 <= value <= 64 else "must be between 1 and 64"


def _not_negative(value: int) -> str | None:
    return "cannot be negative (0 = none)" if value < 0 else None


def _bwlimit(value: str) -> str | None:
    try:
        Timetable.parse(value)
    except ConfigurationError as error:
        return str(error)
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"

    return check


def _album(value: str) -> str | None:
    if value.strip():
        return None
    return "is empty: give 'folder', 'path', a fixed album name, or 'none'"


def _s3_endpoint(value: str | None) -> str | None:
    if value is None or _is_http_url(value):
        return None
    return f"{value!r} is not an http(s) URL, e.g. http://127.0.0.1:9000"


#: Each setting's check: None when the value is fine, else what is wrong with it.
_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "concurrency": _concurrency,
    "chunk_size": _not_negative,
    "retries": _not_negative,
    "api_calls_per_hour": _not_negative,
    "uploads_per_hour": _not_negative,
    "on_change": _one_of(ON_CHANGE_CHOICES),
    "on_damaged": _one_of(ON_DAMAGED_CHOICES),
    "album": _album,
    "raw": _one_of(RAW_CHOICES),
    "live_photo_videos": _one_of(LIVE_PHOTO_VIDEO_CHOICES),
    "bwlimit": _bwlimit,
    "s3_endpoint_url": _s3_endpoint,
}


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises for a port that is not a number in range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _parse(name: str, raw: str, annotation: Any, *, where: str | None = None) -> Any:
    """A setting's value from text; `where` names it in a refusal (by default, its
    environment variable)."""
    kind = str(annotation)
    text = raw.strip()
    where = where or f"{ENV_PREFIX}{name.upper()}={raw!r}"
    if "tuple" in kind:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if kind.startswith("bool"):
        if text.lower() in ("", "none", "default"):
            return None
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigurationError(f"{where} is not a yes/no value")
    if kind.startswith("int"):
        if text.lower() in ("", "none") and "None" in kind:
            return None
        try:
            return int(text)
        except ValueError:
            raise ConfigurationError(f"{where} is not a number") from None
    if kind.startswith("float"):
        try:
            return float(text)
        except ValueError:
            raise ConfigurationError(f"{where} is not a number") from None
    return text or None if "None" in kind else text
