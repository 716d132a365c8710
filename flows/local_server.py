"""The local Prefect server: started once in the background, reused by later runs.

Without a Prefect API (no `PREFECT_API_URL`), Prefect starts a temporary server for
every process that runs a flow: the process imports Prefect's server code (~2 s), starts
the server on the SQLite file in `PREFECT_HOME` (~5 s; ~12 s on a fresh `PREFECT_HOME`,
where database migrations take ~5 s and block registration ~1 s) and stops it at exit
(~1 s); so every run paid 8-15 s before its first upload (measured on an idle 2-core
machine). `flickr-ingest run` and `demo` use this server instead: the first run starts
it, later runs find it and pay nothing.

It is Prefect's own server, started as `prefect server start --background` starts one
(uvicorn with `prefect.server.api.server:create_app`), on 127.0.0.1 at
`PREFECT_SERVER_API_PORT` (4200) or, if that port is taken, a free one (bound here and
handed over, so no other process can take it first); with the
dashboard and the usual services, on the same database as the temporary servers. A
record file in `PREFECT_HOME` says where it is (pid, URL, log), so that a user can see
it (`flickr-ingest server status`, the dashboard) and stop it (`flickr-ingest server
stop`); runs print its address and how to stop it.

Nobody else drives it. Prefect's own settings: API auth (`PREFECT_SERVER_API_AUTH_STRING`,
a random secret made on first start, kept owner-only in `PREFECT_HOME`), CORS for its
own origin only, CSRF protection on. Prefect has no setting for the `Host` header, so the
app it serves is Prefect's behind a check that the Host is a loopback name with the
server's port (`flows/local_server_app.py`): a web page that renames its host to
127.0.0.1 (DNS rebinding) is refused. Its log, record and secret are owner-only, and the
server itself runs with umask 077 (its database holds the Secret blocks' key). The
active Prefect profile is pointed at it (`flows/prefect_profile.py`). A Prefect API
configured with its secret, or at its address, is this server; any other is one the
user chose (`chosen_api_url`), and only such a one is trusted with credentials.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import prefect
from prefect.context import refresh_global_settings_context
from prefect.settings import (
    PREFECT_API_AUTH_STRING,
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_API_PORT,
)

from flickr_ingest.errors import FlickrIngestError
from flows.local_server_app import LOOPBACK_NAMES
from flows.prefect_profile import forget_in_profile, point_profile_at

RECORD_NAME = "flickr-ingest-server.json"
LOG_NAME = "flickr-ingest-server.log"
LOCK_NAME = "flickr-ingest-server.lock"
AUTH_NAME = "flickr-ingest-server.auth"
#: Prefect's API auth string is "user:password" (Basic auth); the dashboard asks for all of it.
AUTH_USER = "flickr-ingest"
#: In the server's command line: how a recorded pid is told from an unrelated process
#: that reuses the number (after a reboot, say). Servers started before the app had its
#: Host check ran Prefect's own factory: they are found too, and replaced.
APP_FACTORY = "flows.local_server_app:create_app"
SERVER_APPS = (APP_FACTORY, "prefect.server.api.server:create_app")
HOST = "127.0.0.1"
#: Cross-origin requests are answered for the server's own origins only (the dashboard at
#: localhost calling the API at 127.0.0.1), with the methods and headers Prefect's
#: dashboard and clients send.
CORS_METHODS = "GET,POST,PUT,PATCH,DELETE"
CORS_HEADERS = "Authorization,Content-Type,Prefect-Csrf-Token,Prefect-Csrf-Client"
#: A first start (database migrations included) takes ~12 s on an idle 2-core machine
#: and was seen to take 30 s on a busy one.
STARTUP_TIMEOUT_SECONDS = 120.0

logger = logging.getLogger(__name__)


class ServerError(FlickrIngestError):
    """The local Prefect server did not start, or did not stop."""


@dataclass(frozen=True)
class ServerRecord:
    """Where a started local server is: its process, address and log file."""

    pid: int
    url: str  # the dashboard; the API is under /api
    log: str
    started_at: str
    prefect_version: str = ""  # the server runs the Prefect that was installed then
    #: Started with API auth, CORS for its own origin, CSRF protection and the Host check.
    #: A record without it is an earlier flickr-ingest's open server: it is replaced.
    closed: bool = False

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def configured_api_url() -> str | None:
    """The Prefect API named by Prefect's settings (environment or profile), if any."""
    return PREFECT_API_URL.value() or None


def configured_auth_string() -> str | None:
    auth = PREFECT_API_AUTH_STRING.value()
    if auth is not None and not isinstance(auth, str):  # a SecretStr
        auth = auth.get_secret_value()
    return auth or None


def chosen_api_url() -> str | None:
    """The Prefect API the user chose (in the environment or a Prefect profile), or None
    when none is configured or the one configured is the local server: the profile entry
    flickr-ingest wrote (its auth string is the server's secret), or the server's address.
    """
    api_url = configured_api_url()
    if api_url is None or LocalServer.of_prefect_home().serves(api_url, configured_auth_string()):
        return None
    return api_url


def use_api(api_url: str, auth_string: str) -> None:
    """Point this process's Prefect at `api_url` with `auth_string` (and any process it
    starts).

    Prefect reads its settings once, at import; `refresh_global_settings_context` is
    Prefect's way of picking up a variable set afterwards."""
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_API_AUTH_STRING"] = auth_string
    refresh_global_settings_context()


class LocalServer:
    """The local server of one `PREFECT_HOME`: start (or find), check, stop."""

    def __init__(self, home: Path) -> None:
        self.home = home.expanduser().absolute()
        self.record_path = self.home / RECORD_NAME
        self.log_path = self.home / LOG_NAME
        self.lock_path = self.home / LOCK_NAME
        self.auth_path = self.home / AUTH_NAME

    @classmethod
    def of_prefect_home(cls) -> LocalServer:
        return cls(Path(PREFECT_HOME.value()))

    def status(self) -> ServerRecord | None:
        """The recorded server if its process is alive (answering or still starting).
        A record whose process is gone is left for `ensure_running` or `stop` to replace
        or remove: they hold the lock, so they never take a server being started for one."""
        record = self._read_record()
        if record is None or not _is_server_process(record.pid):
            return None
        return record

    def auth_string(self) -> str | None:
        """The secret the server requires (and its clients send), if it has one yet."""
        try:
            return self.auth_path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def serves(self, api_url: str, auth_string: str | None) -> bool:
        """Whether a Prefect API configured as `api_url` with `auth_string` is this local
        server: sent with its secret (as the profile entry it wrote is), or at its address."""
        own = self.auth_string()
        if own is not None and auth_string is not None and secrets.compare_digest(own, auth_string):
            return True
        record = self._read_record()
        if record is None:
            return False
        try:
            address = urlsplit(api_url)
            return address.hostname in LOOPBACK_NAMES and address.port == urlsplit(record.url).port
        except ValueError:  # not a URL at all
            return False

    def ensure_running(
        self,
        timeout: float = STARTUP_TIMEOUT_SECONDS,
        *,
        starting: Callable[[ServerRecord], None] | None = None,
        replacing: Callable[[ServerRecord, str], None] | None = None,
    ) -> tuple[ServerRecord, bool]:
        """The running server, started if there is none (`starting` is told before the
        wait); and whether this call started it. A server running another version of
        Prefect (installed since it started), or an open one an earlier flickr-ingest
        started, is stopped and started anew (`replacing` is told first, and why). Runs
        that start at the same time take turns (a lock file), so one server is started,
        not two."""
        with self._lock():
            record, process = self.status(), None
            why = _why_replace(record) if record is not None else None
            if record is not None and why is not None:
                if replacing is not None:
                    replacing(record, why)
                self._stop(record)
                record = None
            if record is None:
                record, process = self._spawn()
                if starting is not None:
                    starting(record)
            self._wait_until_healthy(record, timeout, process)
            return record, process is not None

    def remember_in_profile(self, record: ServerRecord) -> str | None:
        """Point the active Prefect profile at the server, unless it names a Prefect API
        of its own; the profile's name, or None (`flows/prefect_profile.py`). A profiles
        file that cannot be written costs plain `prefect` commands the server, not a run."""
        with self._lock():
            auth = self.auth_string()
            try:
                return point_profile_at(record.api_url, auth) if auth is not None else None
            except OSError as error:
                logger.warning("The Prefect profile was not pointed at the server: %s", error)
                return None

    def stop(self, timeout: float = 20.0) -> ServerRecord | None:
        """Stop the recorded server (SIGTERM, then SIGKILL after `timeout`); returns it,
        or None if none was running."""
        with self._lock():
            record = self.status()
            auth = self.auth_string()
            if auth is not None:  # plain `prefect` commands go back to their own defaults
                try:
                    forget_in_profile(auth)
                except OSError as error:
                    logger.warning("The Prefect profile still names the server: %s", error)
            if record is None:
                self.record_path.unlink(missing_ok=True)
                return None
            self._stop(record, timeout)
            return record

    # -- inside ----------------------------------------------------------------------------

    def _stop(self, record: ServerRecord, timeout: float = 20.0) -> None:
        _signal(record.pid, signal.SIGTERM)  # uvicorn stops Prefect's services cleanly
        if not _wait_for_exit(record.pid, timeout):
            _signal(record.pid, signal.SIGKILL)
            if not _wait_for_exit(record.pid, 5.0):
                raise ServerError(f"the local Prefect server (pid {record.pid}) did not stop")
        self.record_path.unlink(missing_ok=True)

    def _spawn(self) -> tuple[ServerRecord, subprocess.Popen]:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        auth = self._auth_string_to_start_with()
        listener = listening_socket(PREFECT_SERVER_API_PORT.value())
        port = listener.getsockname()[1]
        url = f"http://{HOST}:{port}"
        env = {
            # Not the run's settings and Flickr secrets: the server outlives the run.
            **{k: v for k, v in os.environ.items() if not k.startswith("FLICKR_")},
            "PREFECT_HOME": str(self.home),  # absolute: the server runs in another folder
            "PREFECT__SERVER_FINAL": "1",  # as Prefect's own server start sets it
            # The server's idea of itself: the dashboard calls this API, links point here.
            "PREFECT_API_URL": f"{url}/api",
            "PREFECT_SERVER_API_HOST": HOST,
            "PREFECT_SERVER_API_PORT": str(port),
            # Closed to everyone without the secret: Prefect's own settings for each.
            "PREFECT_SERVER_API_AUTH_STRING": auth,
            "PREFECT_API_AUTH_STRING": auth,  # for any client inside the server
            "PREFECT_SERVER_CORS_ALLOWED_ORIGINS": ",".join(
                f"http://{name}:{port}" for name in LOOPBACK_NAMES
            ),
            "PREFECT_SERVER_CORS_ALLOWED_METHODS": CORS_METHODS,
            "PREFECT_SERVER_CORS_ALLOWED_HEADERS": CORS_HEADERS,
            "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "true",
        }
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline machines
        # Registering every installed block type (prefect-aws's among them) took 4-6 s of
        # a first start. A block's type is registered when a block of it is first saved
        # (`flickr-ingest setup`, `prefect block create`); `prefect block register -m
        # prefect_aws` fills the dashboard's catalog.
        env.setdefault("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")
        with listener, _owner_only_log(self.log_path) as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                server_command(listener),
                cwd=self.home,  # not the user's folder, which may go away while it runs
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this run; Ctrl-C here does not stop it
                pass_fds=(listener.fileno(),),
                umask=0o077,  # its database (the Secret blocks' key in it) is owner-only
            )
        record = ServerRecord(
            pid=process.pid,
            url=url,
            log=str(self.log_path),
            started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            prefect_version=prefect.__version__,
            closed=True,
        )
        self._write_record(record)
        return record, process

    def _auth_string_to_start_with(self) -> str:
        """The secret in `auth_path`, made on the first start; made anew when the file is
        not an owner-only file of this user (a secret others could read is none)."""
        try:
            info = self.auth_path.lstat()
            kept = (
                stat.S_ISREG(info.st_mode)
                and info.st_uid == os.getuid()
                and not stat.S_IMODE(info.st_mode) & 0o077
            )
        except FileNotFoundError:
            kept = False
        auth = self.auth_string() if kept else None
        if auth is None:
            auth = f"{AUTH_USER}:{secrets.token_urlsafe(32)}"
            _write_owner_only(self.auth_path, auth + "\n")
        return auth

    def _wait_until_healthy(
        self, record: ServerRecord, timeout: float, process: subprocess.Popen | None
    ) -> None:
        """Wait until the server answers. `process` when this call started it: then its
        own exit status says whether it lives (just after it starts, /proc may show no
        command line yet, so `_is_server_process` would take it for gone)."""
        deadline = time.monotonic() + timeout
        while not answers(record):
            alive = process.poll() is None if process else _is_server_process(record.pid)
            if not alive:
                self.record_path.unlink(missing_ok=True)
                raise ServerError(
                    f"the local Prefect server stopped while starting; see {record.log}"
                    f"{_tail(Path(record.log))}"
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"the local Prefect server at {record.url} (pid {record.pid}) did not "
                    f"answer within {timeout:.0f} s; see {record.log}; it is still "
                    "starting, or stuck: `flickr-ingest server stop` stops it"
                )
            time.sleep(0.2)

    def _read_record(self) -> ServerRecord | None:
        try:
            return ServerRecord(**json.loads(self.record_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _write_record(self, record: ServerRecord) -> None:
        _write_owner_only(self.record_path, json.dumps(asdict(record), indent=2) + "\n")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        import fcntl  # POSIX, as the detached start is

        self.home.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def listening_socket(preferred: int) -> socket.socket:
    """A socket listening on 127.0.0.1 at `preferred`, or, if that port is taken (or 0),
    at a free one the system picks. The server is handed this socket (`server_command`)
    rather than a port number: a port found free and bound later by the server could be
    taken by another process in between."""
    for port in (preferred, 0):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            listener.bind((HOST, port))
        except OSError:
            listener.close()
            continue
        listener.listen(2048)  # uvicorn's backlog; early requests queue until it serves
        return listener
    raise ServerError("no free port on 127.0.0.1 for the local Prefect server")


def server_command(listener: socket.socket) -> list[str]:
    """Prefect's server as `prefect server start` runs it (uvicorn with `create_app`),
    serving on `listener`, which the process must inherit (`pass_fds`)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(prefect.__module_path__.parent),
        "--factory",
        APP_FACTORY,
        "--fd",
        str(listener.fileno()),
        "--log-level",
        "warning",
        "--no-access-log",  # a run makes hundreds of API calls; the log keeps problems
    ]


def answers(record: ServerRecord) -> bool:
    """Whether the server's API answers its health check."""
    return _health(record.api_url) is None


def requires_auth(record: ServerRecord) -> bool | None:
    """Whether the server refuses an API request without its auth (None: no answer)."""
    try:
        with urllib.request.urlopen(f"{record.api_url}/admin/version", timeout=2):  # noqa: S310
            return False
    except urllib.error.HTTPError as error:
        return True if error.code == 401 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _why_replace(record: ServerRecord) -> str | None:
    """Why a running server must be replaced, if it must."""
    if record.prefect_version != prefect.__version__:
        version = record.prefect_version or "(unknown)"
        return f"it runs Prefect {version}, not the version installed now"
    if not record.closed:
        return "it was started without API auth, by an earlier flickr-ingest"
    return None


def _write_owner_only(path: Path, text: str) -> None:
    """Write `path` whole (a new file put in its place), readable by its owner only."""
    partial = path.with_name(path.name + ".tmp")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    partial.replace(path)


@contextlib.contextmanager
def _owner_only_log(path: Path) -> Iterator[int]:
    """The server's log, opened for appending, owner-only (also one an earlier version
    left readable by others)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        yield descriptor
    finally:
        os.close(descriptor)


def _health(api_url: str) -> str | None:
    """None when the API at `api_url` answers its health check, else why not."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:  # noqa: S310
            return None if answer.status == 200 else f"HTTP {answer.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return str(getattr(reason, "strerror", None) or reason)


def check_configured_api(api_url: str, *, attempts: int = 3, pause: float = 1.0) -> None:
    """Fail in seconds, with one clear line, when the configured Prefect API does not
    answer; a run would otherwise stall in Prefect's own client retries."""
    for attempt in range(1, attempts + 1):
        problem = _health(api_url)
        if problem is None:
            return
        if attempt < attempts:
            time.sleep(pause)
    raise ServerError(
        f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer after {attempts}"
        f" tries over {(attempts - 1) * pause:.0f} s ({problem}): start that server, or unset"
        " PREFECT_API_URL to use the local one"
    )


def _is_server_process(pid: int) -> bool:
    """Whether `pid` is alive and is a Prefect server (where /proc tells; elsewhere,
    alive is taken as enough)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or another user's
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True
    try:
        command = cmdline.read_bytes().decode(errors="replace")
    except OSError:  # gone meanwhile
        return False
    return any(app in command for app in SERVER_APPS)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it stopped by itself meanwhile
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collect the server's exit status if it is this process's child and has exited,
    so that it does not linger as a zombie that still looks alive."""
    with contextlib.suppress(ChildProcessError):  # not our child: started by an earlier run
        os.waitpid(pid, os.WNOHANG)


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not _is_server_process(pid):
            return True
        time.sleep(0.1)
    return False


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return ("; its last lines:\n" + "\n".join(text)) if text else ""
