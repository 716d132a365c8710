"""The local server in the active Prefect profile: written only where the profile names
no Prefect API of its own, told apart by its auth string, taken out again, and nothing
else of the user's profiles touched. Each case in a process of its own, with its own
PREFECT_HOME (Prefect reads its profile once, at import)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # each case in a Python process of its own

SERVER = "http://127.0.0.1:4321/api"
SECRET = "flickr-ingest:s3cr3t"


def _in_prefect_home(home: Path, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flows.prefect_profile import point_profile_at, forget_in_profile\n" + code,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _profiles(home: Path) -> dict:
    return tomllib.loads((home / "profiles.toml").read_text())


def test_a_fresh_home_gets_the_server_in_its_active_profile_until_stop(tmp_path: Path) -> None:
    named = _in_prefect_home(tmp_path, f"print(point_profile_at({SERVER!r}, {SECRET!r}))")
    assert named == "ephemeral"  # Prefect's default profile, now in the user's file
    profiles = _profiles(tmp_path)
    assert profiles["active"] == "ephemeral"
    assert profiles["profiles"]["ephemeral"] == {
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",  # what Prefect's default held, kept
        "PREFECT_API_URL": SERVER,
        "PREFECT_API_AUTH_STRING": SECRET,
    }
    assert stat.S_IMODE((tmp_path / "profiles.toml").stat().st_mode) == 0o600
    moved = "http://127.0.0.1:4322/api"  # started again on another port: follows it
    _in_prefect_home(tmp_path, f"point_profile_at({moved!r}, {SECRET!r})")
    assert _profiles(tmp_path)["profiles"]["ephemeral"]["PREFECT_API_URL"] == moved
    _in_prefect_home(tmp_path, f"forget_in_profile({SECRET!r})")
    assert _profiles(tmp_path)["profiles"]["ephemeral"] == {
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "true"
    }


def test_a_profile_that_names_its_own_api_is_left_alone(tmp_path: Path) -> None:
    mine = (
        'active = "work"\n\n[profiles.work]\nPREFECT_API_URL = "https://prefect.example/api"\n'
        'PREFECT_LOGGING_LEVEL = "DEBUG"\n'
    )
    (tmp_path / "profiles.toml").write_text(mine)
    assert _in_prefect_home(tmp_path, f"print(point_profile_at({SERVER!r}, {SECRET!r}))") == "None"
    _in_prefect_home(tmp_path, f"forget_in_profile({SECRET!r})")
    assert (tmp_path / "profiles.toml").read_text() == mine


def test_a_users_other_settings_stay_and_only_our_entry_is_taken_out(tmp_path: Path) -> None:
    (tmp_path / "profiles.toml").write_text(
        'active = "mine"\n\n[profiles.mine]\nPREFECT_LOGGING_LEVEL = "DEBUG"\n\n'
        '[profiles.other]\nPREFECT_API_URL = "https://prefect.example/api"\n'
    )
    assert _in_prefect_home(tmp_path, f"print(point_profile_at({SERVER!r}, {SECRET!r}))") == "mine"
    profiles = _profiles(tmp_path)["profiles"]
    assert profiles["mine"] == {
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "PREFECT_API_URL": SERVER,
        "PREFECT_API_AUTH_STRING": SECRET,
    }
    assert profiles["other"] == {"PREFECT_API_URL": "https://prefect.example/api"}
    _in_prefect_home(tmp_path, "forget_in_profile('flickr-ingest:another-secret')")
    assert _profiles(tmp_path)["profiles"]["mine"]["PREFECT_API_URL"] == SERVER  # not ours
    _in_prefect_home(tmp_path, f"forget_in_profile({SECRET!r})")
    assert _profiles(tmp_path)["profiles"]["mine"] == {"PREFECT_LOGGING_LEVEL": "DEBUG"}


def test_a_profiles_file_that_cannot_be_written_costs_a_warning_not_the_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path),
        PREFECT_PROFILES_PATH=str(tmp_path / "a-file" / "profiles.toml"),  # never writable
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path\n"
            "from flows.local_server import LocalServer, ServerRecord\n"
            f"server = LocalServer(Path({str(tmp_path)!r}))\n"
            "server._auth_string_to_start_with()\n"
            "record = ServerRecord(pid=1, url='http://127.0.0.1:9', log='', started_at='')\n"
            "print(server.remember_in_profile(record))\n",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
    assert "The Prefect profile was not pointed at the server" in done.stderr
