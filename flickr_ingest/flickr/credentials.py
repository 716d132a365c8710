"""Flickr credentials: where they come from and how they are kept without leaking.

Order of precedence: the `FLICKR_*` environment variables, then what `auth login` stored
(a Prefect Secret block, handled by the Prefect shell, or an owner-only file). Secrets
never appear in a repr, a log line or an exception. Stored credentials made on another
server than Flickr (a sandbox) are used only while FLICKR_BASE_URL names that server too:
a stored base URL alone never sends uploads and secrets elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr.endpoints import FLICKR_BASE_URL_VARIABLE

ENVIRONMENT_VARIABLES = {
    "api_key": "FLICKR_API_KEY",
    "api_secret": "FLICKR_API_SECRET",
    "oauth_token": "FLICKR_OAUTH_TOKEN",
    "oauth_token_secret": "FLICKR_OAUTH_TOKEN_SECRET",
}
CREDENTIALS_FILE_VARIABLE = "FLICKR_INGEST_CREDENTIALS_FILE"
#: Flickr's own hosts: stored credentials naming one of them need no FLICKR_BASE_URL.
FLICKR_HOSTS = frozenset({"flickr.com", "www.flickr.com", "api.flickr.com", "up.flickr.com"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str = field(repr=False)
    oauth_token: str = ""
    oauth_token_secret: str = field(default="", repr=False)
    #: The server these credentials belong to ("" = flickr.com): `auth login` against
    #: FLICKR_BASE_URL keeps it, so later commands and workers talk to the same server.
    base_url: str = ""

    @classmethod
    def from_dict(cls, values: dict[str, str]) -> Credentials:
        missing = [name for name in ("api_key", "api_secret") if not values.get(name)]
        if missing:
            raise ConfigurationError(f"Flickr credentials lack {', '.join(missing)}")
        return cls(
            **{name: str(values.get(name, "")) for name in ENVIRONMENT_VARIABLES},
            base_url=str(values.get("base_url", "") or ""),
        )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown (for scrubbing and for tests)."""
        return tuple(s for s in (self.api_secret, self.oauth_token_secret) if s)


def from_environment() -> Credentials | None:
    """Credentials from `FLICKR_API_KEY` & co., or None when none of them is set."""
    values = {
        name: os.environ.get(variable, "") for name, variable in ENVIRONMENT_VARIABLES.items()
    }
    if not any(values.values()):
        return None
    base_url = os.environ.get(FLICKR_BASE_URL_VARIABLE, "")
    return Credentials.from_dict({**values, "base_url": base_url})


def resolve(stored: Credentials | None = None) -> Credentials | None:
    """FLICKR_* environment variables, else what `auth login` stored (a Prefect Secret
    block, passed in by the Prefect shell as `stored`, or the credentials file), else None."""
    return from_environment() or stored or load_file()


def checked_destination(credentials: Credentials, where: str) -> Credentials:
    """`credentials` from a store (`where`: the file, a Secret block), if they may be
    used: made on Flickr, or on a server FLICKR_BASE_URL names too. Whoever could write
    the store (or a planted Secret block) would otherwise choose where a run sends the
    user's photos and secrets."""
    stored = credentials.base_url.strip().rstrip("/")
    if not stored or _is_flickr(stored):
        return credentials
    configured = os.environ.get(FLICKR_BASE_URL_VARIABLE, "").strip().rstrip("/")
    if configured == stored:
        return credentials
    raise ConfigurationError(
        f"the credentials in {where} were made on {stored!r}, not on Flickr: they are used "
        f"only while {FLICKR_BASE_URL_VARIABLE} names that server too (set it to that URL for "
        "a sandbox you logged in to; `flickr-ingest auth login` again for flickr.com)"
    )


def _is_flickr(base_url: str) -> bool:
    try:
        address = urlsplit(base_url)
        return (
            address.scheme == "https"
            and address.port in (None, 443)
            and (address.hostname in FLICKR_HOSTS)
        )
    except ValueError:  # not a URL
        return False


def default_file() -> Path:
    configured = os.environ.get(CREDENTIALS_FILE_VARIABLE)
    if configured:
        return Path(configured)
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "flickr-ingest" / "credentials.json"


def save_file(credentials: Credentials, path: Path | None = None) -> Path:
    """Write credentials to a file only its owner can read (created 0600, never wider).
    Never through a symbolic link: a link planted at the path would send the secrets
    wherever it points."""
    path = path or default_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        if path.is_symlink():
            raise ConfigurationError(
                f"{path} is a symbolic link: refusing to write credentials through it"
            ) from None
        raise ConfigurationError(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump(credentials.to_dict(), out)
    return path


def load_file(path: Path | None = None) -> Credentials | None:
    path = path or default_file()
    if not path.exists():
        return None
    _tighten(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(
            f"cannot read credentials file {path}: {type(error).__name__}"
        ) from None
    return checked_destination(Credentials.from_dict(values), str(path))


def _tighten(path: Path) -> None:
    """A credentials file others may read is made owner-only, with a warning: its
    secrets may have been seen, and the user should know."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "%s was readable by others (mode %o); made it owner-only (600). Consider"
            " `flickr-ingest auth login` again to get a new token.",
            path,
            mode,
        )
        os.chmod(path, 0o600)
