"""A run id is held by one run at a time on a machine (flickr_ingest/claims.py)."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flickr_ingest.claims import RunClaim, RunIdInUse
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.runs import open_run
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from tests.conftest import flickr_environment


def test_a_run_id_is_held_by_one_claim_at_a_time(tmp_path: Path) -> None:
    first = RunClaim(tmp_path, "nightly")
    with pytest.raises(RunIdInUse, match="'nightly' is in use by another run in this process"):
        RunClaim(tmp_path, "nightly")
    other = RunClaim(tmp_path, "weekly")  # other ids are free
    first.release()
    first.release()  # twice is harmless
    again = RunClaim(tmp_path, "nightly")
    again.release()
    other.release()
    assert list(tmp_path.iterdir()) == []  # nothing left behind


@pytest.mark.integration  # the holder is a process of its own
def test_a_killed_holder_leaves_no_claim(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from flickr_ingest.claims import RunClaim;"
            f"RunClaim(Path({str(tmp_path)!r}), 'nightly'); print('held', flush=True);"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunIdInUse, match="another run on this machine"):
            RunClaim(tmp_path, "nightly")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    RunClaim(tmp_path, "nightly").release()  # the kernel dropped the dead run's lock


def test_a_file_system_without_locks_is_said_and_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    open_before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(ConfigurationError, match=r"No locks available.*on a local disk"):
            RunClaim(tmp_path, "nightly")
    assert len(os.listdir("/proc/self/fd")) == open_before
    monkeypatch.undo()
    RunClaim(tmp_path, "nightly").release()  # nothing was left held


def test_a_claim_cannot_be_named_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "claims").mkdir()
    with pytest.raises(ConfigurationError, match="not allowed"):
        RunClaim(tmp_path / "claims", "../victim")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims"]


def test_a_second_run_of_an_id_in_this_process_is_refused(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in flickr_environment(sandbox).items():
        monkeypatch.setenv(name, value)
    folder = tmp_path / "archive"
    folder.mkdir()
    settings = IngestSettings(
        source=str(folder), state_dir=str(tmp_path / "state"), report_dir=str(tmp_path / "r")
    )
    in_use = "'twice' is in use by another run in this process"
    with open_run(settings, "twice"), pytest.raises(RunIdInUse, match=in_use):
        open_run(settings, "twice")
    with open_run(settings, "twice"):  # the first one closed: free again
        pass
    assert list((tmp_path / "state" / "claims").iterdir()) == []
