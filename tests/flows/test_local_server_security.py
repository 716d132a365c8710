"""The local Prefect server that flickr-ingest starts is closed to everyone but its user
(issue #28): its API requires the auth string kept owner-only in PREFECT_HOME, CORS
answers its own origin only, a foreign `Host` is refused, CSRF protection is on. The
project's own runs, `flickr-ingest setup` and plain `prefect` commands (through the
Prefect profile) reach it; a Secret block planted on it is not a source of credentials.

One real server for the module, started as a user starts it (`flickr-ingest server
start`), where an earlier flickr-ingest left an open one running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import prefect
import pytest
import requests

from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes

pytestmark = pytest.mark.integration  # starts flickr-ingest's local Prefect server

EVIL_ORIGIN = "http://evil.example"


@dataclass(frozen=True)
class LocalServer:
    home: Path
    url: str
    auth: str
    env: dict[str, str]  # a user's: no PREFECT_API_URL, no Flickr credentials
    start_output: str

    @property
    def api(self) -> str:
        return f"{self.url}/api"


def _cli(*args: str, env: dict[str, str], cwd: Path, program: str = "flows.cli"):
    return subprocess.run(
        [sys.executable, "-m", program, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("local-server")
    home = folder / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_API_PORT="0",  # a free port: never a user's 4200
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        FLICKR_INGEST_SANDBOX_PORT="0",
        FLICKR_INGEST_API_CALLS_PER_HOUR="0",
        FLICKR_INGEST_CREDENTIALS_FILE=str(folder / "no-credentials.json"),
    )
    # The open server an earlier flickr-ingest left running (Prefect's own app, no auth):
    # a process that looks like it to the record's checks.
    earlier = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(600)",
            "prefect.server.api.server:create_app",
        ]
    )
    record = home / "flickr-ingest-server.json"
    record.write_text(
        json.dumps(
            {
                "pid": earlier.pid,
                "url": "http://127.0.0.1:9",
                "log": str(home / "flickr-ingest-server.log"),
                "started_at": "2026-01-01T00:00:00+0000",
                "prefect_version": prefect.__version__,
            }
        )
    )
    try:
        start = _cli("server", "start", env=env, cwd=folder)
        assert start.returncode == 0, start.stdout + start.stderr
        earlier.wait(timeout=30)  # stopped by the start
        recorded = json.loads(record.read_text())
        auth = (home / "flickr-ingest-server.auth").read_text().strip()
        yield LocalServer(home, recorded["url"], auth, env, start.stdout)
    finally:
        earlier.kill()
        earlier.wait()
        with contextlib.suppress(Exception):
            _cli("server", "stop", env=env, cwd=folder)
        if record.exists():  # never leave a server behind, whatever failed
            with contextlib.suppress(ProcessLookupError, ValueError, KeyError):
                os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)


def test_an_open_server_left_by_an_earlier_version_is_replaced(local_server: LocalServer) -> None:
    assert "Stopping the local Prefect server at http://127.0.0.1:9" in local_server.start_output
    assert "started without API auth" in local_server.start_output
    assert "API auth: on" in local_server.start_output


def test_the_api_answers_only_with_its_auth(local_server: LocalServer) -> None:
    refused = requests.get(f"{local_server.api}/admin/version", timeout=10)
    assert refused.status_code == 401
    # A change request is refused sooner still, by the CSRF check in front of the auth.
    change = requests.post(f"{local_server.api}/flow_runs/filter", json={}, timeout=10)
    assert change.status_code in (401, 403) and "[" not in change.text
    read = requests.get(
        f"{local_server.api}/block_documents/00000000-0000-0000-0000-000000000000",
        params={"include_secrets": "true"},
        timeout=10,
    )
    assert read.status_code == 401
    wrong = requests.get(f"{local_server.api}/admin/version", auth=("flickr-ingest", "guess"))
    assert wrong.status_code == 401
    answered = requests.get(f"{local_server.api}/admin/version", auth=_basic(local_server))
    assert answered.status_code == 200 and answered.json() == prefect.__version__
    assert requests.get(f"{local_server.api}/health", timeout=10).ok  # probes need none


def test_cors_answers_its_own_origin_only(local_server: LocalServer) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    evil = requests.options(
        f"{local_server.api}/block_documents/",
        headers={"Origin": EVIL_ORIGIN, **preflight},
        timeout=10,
    )
    assert "access-control-allow-origin" not in evil.headers
    simple = requests.get(f"{local_server.api}/health", headers={"Origin": EVIL_ORIGIN})
    assert "access-control-allow-origin" not in simple.headers
    port = local_server.url.rsplit(":", 1)[1]
    own = f"http://localhost:{port}"  # the dashboard opened at localhost calls 127.0.0.1
    allowed = requests.options(
        f"{local_server.api}/block_documents/", headers={"Origin": own, **preflight}
    )
    assert allowed.headers.get("access-control-allow-origin") == own


def test_a_foreign_host_is_refused(local_server: LocalServer) -> None:
    port = local_server.url.rsplit(":", 1)[1]
    for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1:1"):
        answer = requests.get(
            f"{local_server.api}/admin/version",
            headers={"Host": host},
            auth=_basic(local_server),
            timeout=10,
        )
        assert answer.status_code == 403 and answer.text == "Host not allowed", host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        answer = requests.get(
            f"{local_server.api}/admin/version",
            headers={"Host": host},
            auth=_basic(local_server),
            timeout=10,
        )
        assert answer.status_code == 200, host


def test_csrf_protection_is_on(local_server: LocalServer) -> None:
    answer = requests.post(
        f"{local_server.api}/flow_runs/filter", json={}, auth=_basic(local_server), timeout=10
    )
    assert answer.status_code == 403 and "CSRF" in answer.text


def test_its_log_record_secret_and_database_are_owner_only(local_server: LocalServer) -> None:
    for name in (
        "flickr-ingest-server.log",
        "flickr-ingest-server.json",
        "flickr-ingest-server.auth",
        "profiles.toml",  # holds the auth string for plain `prefect` commands
        "prefect.db",
    ):
        mode = stat.S_IMODE((local_server.home / name).stat().st_mode)
        assert mode == 0o600, f"{name}: {mode:o}"
    status = _cli("server", "status", env=local_server.env, cwd=local_server.home)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "API auth: on" in status.stdout
    assert local_server.auth not in status.stdout + status.stderr  # only where it is


def test_setup_and_plain_prefect_commands_reach_it_with_its_auth(
    local_server: LocalServer,
) -> None:
    """Without PREFECT_API_URL: no temporary server on the same database (which printed a
    'database is locked' traceback), but the local server, through the Prefect profile."""
    setup = _cli("setup", env=local_server.env, cwd=local_server.home)
    output = setup.stdout + setup.stderr
    assert setup.returncode == 0, output
    assert f"Using the local Prefect server at {local_server.url}" in setup.stdout
    assert "database is locked" not in output and "Traceback" not in output
    pools = _cli(
        "work-pool",
        "inspect",
        "flickr-ingest",
        env=local_server.env,
        cwd=local_server.home,
        program="prefect",
    )
    output = pools.stdout + pools.stderr
    assert pools.returncode == 0, output
    assert "temporary server" not in output and "name='flickr-ingest'" in pools.stdout


def test_a_temporary_server_run_is_refused_while_the_profile_names_it(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Prefect would use the profile's server instead (and a temporary server beside it
    would lock its database): one clear line says what to do."""
    (tmp_path / "photos").mkdir()
    run = _cli("run", "photos", "--temporary-server", env=local_server.env, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.startswith("Error: --temporary-server: the active Prefect profile names")
    assert "Traceback" not in run.stderr


def test_the_projects_runs_use_it_and_a_planted_secret_block_is_not_used(
    local_server: LocalServer, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Someone on the machine writes a Secret block with their own server's credentials
    into the local server (here with its auth, as before auth existed anyone could). The
    next run uses no block: it has no credentials of the user's, so the embedded sandbox.
    Named on purpose, the block is used only with FLICKR_BASE_URL naming its server."""
    planter = sandbox  # the planter's Flickr-compatible server
    account = planter.account
    planted = {
        "api_key": account.api_key,
        "api_secret": account.api_secret,
        "oauth_token": account.oauth_token,
        "oauth_token_secret": account.oauth_token_secret,
        "base_url": planter.url,
    }
    plant = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from prefect.blocks.system import Secret; "
            "Secret(value=sys.argv[1]).save('flickr-ingest-credentials', overwrite=True)",
            json.dumps(planted),
        ],
        env={
            **local_server.env,
            "PREFECT_API_URL": local_server.api,
            "PREFECT_API_AUTH_STRING": local_server.auth,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plant.returncode == 0, plant.stderr
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "private.jpg").write_bytes(jpeg_bytes(28))

    run = _cli("run", str(folder), env=local_server.env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Using the local Prefect server at {local_server.url}" in run.stdout
    assert "No Flickr credentials: uploading to the embedded sandbox" in run.stdout
    assert planter.traffic.entries_since(0) == [] and planter.state.photos.all_photos() == []

    named = {**local_server.env, "FLICKR_INGEST_SECRET_BLOCK": "flickr-ingest-credentials"}
    refused = _cli("run", str(folder), "--state-dir", "named", env=named, cwd=tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"made on {planter.url!r}, not on Flickr" in refused.stderr
    assert planter.traffic.entries_since(0) == []

    agreed = {**named, "FLICKR_BASE_URL": planter.url}
    used = _cli("run", str(folder), "--state-dir", "named", env=agreed, cwd=tmp_path)
    assert used.returncode == 0, used.stdout + used.stderr
    assert [p["owner"] for p in planter.state.photos.all_photos()] == [account.user_nsid]

    flow_runs = requests.post(
        f"{local_server.api}/flow_runs/filter",
        json={},
        auth=_basic(local_server),
        headers=_csrf(local_server),
        timeout=10,
    ).json()
    assert sorted(r["state_type"] for r in flow_runs).count("COMPLETED") >= 2


def _basic(server: LocalServer) -> tuple[str, str]:
    user, password = server.auth.split(":", 1)
    return user, password


def _csrf(server: LocalServer) -> dict[str, str]:
    """The headers Prefect's own client sends with a change request: a CSRF token."""
    client = "00000000-0000-4000-8000-000000000028"
    token = requests.get(
        f"{server.api}/csrf-token", params={"client": client}, auth=_basic(server), timeout=10
    ).json()["token"]
    return {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": client}


def test_the_secret_is_kept_across_starts_and_made_anew_once_others_could_read_it(
    tmp_path: Path,
) -> None:
    from flows.local_server import LocalServer as Server

    server = Server(tmp_path)
    first = server._auth_string_to_start_with()
    secret = tmp_path / "flickr-ingest-server.auth"
    assert first.startswith("flickr-ingest:") and len(first) > 40
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert server._auth_string_to_start_with() == first == server.auth_string()
    secret.chmod(0o644)  # seen by others: no secret any more
    second = server._auth_string_to_start_with()
    assert second != first and stat.S_IMODE(secret.stat().st_mode) == 0o600
    secret.unlink()
    secret.symlink_to(tmp_path / "elsewhere")  # never written through a planted link
    third = server._auth_string_to_start_with()
    assert not secret.is_symlink() and not (tmp_path / "elsewhere").exists()
    assert third not in (first, second)
