"""Pacing shared by workers: Flickr's "slow down" on one worker slows every worker on the
key, which then recover; the REST budget holds across processes. Workers are separate
processes (tests/flows/pacing_worker.py) sharing the test's Prefect server and sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from prefect.variables import Variable

from flickr_ingest.sandbox import SandboxServer
from flows.pacing import VariableThrottleBoard
from tests.conftest import flickr_environment
from tests.photos import jpeg_bytes

WAIT = 4  # the seconds Flickr's signal names (Retry-After, or error 14's wait time)
IN_FLIGHT, RECOVERY = 4, 4.0  # as in the worker
PHOTOS_PER_WORKER = 300


def _env(sandbox: SandboxServer, prefect_api: str) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": prefect_api, **flickr_environment(sandbox)}


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.flows.pacing_worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _in_flight(sends: list[list[float]], at: float) -> int:
    return sum(1 for started, finished in sends if started <= at < finished)


def test_a_throttle_signal_slows_every_worker_and_they_recover(
    prefect_server: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Error 14 with its wait time reaches one worker; both wait it out, start again at
    half and recover (which answers are signals, and the gate's arithmetic, are unit
    tested in tests/test_pacing_core.py; HTTP 429's wait in test_reliability.py)."""
    signal = "14"
    Variable.unset(VariableThrottleBoard(sandbox.account.api_key).name)
    folders = []
    for worker in range(2):
        folder = tmp_path / f"worker{worker}"
        folder.mkdir()
        for n in range(PHOTOS_PER_WORKER):
            (folder / f"{n:03d}.jpg").write_bytes(jpeg_bytes(worker * 1000 + n))
        folders.append(folder)
    sandbox.traffic.update(latency_ms=100, retry_after_seconds=WAIT, capacity_wait_seconds=WAIT)
    env = _env(sandbox, prefect_server)
    workers = [_start(env, "uploads", str(folder)) for folder in folders]
    while len(sandbox.state.photos.all_photos()) < 60:
        assert all(w.poll() is None for w in workers), "a worker ended early"
    sandbox.traffic.update(next_faults=(signal,))  # exactly one upload hears "slow down"
    results = [_result(w) for w in workers]

    throttled = [e for e in sandbox.traffic.entries_since(0) if e["fault"] == signal]
    assert len(throttled) == 1
    heard = throttled[0]["time"] + throttled[0]["duration_ms"] / 1000
    assert sorted(r["signals"] for r in results) == [0, 1]  # one worker heard it
    other = next(r for r in results if r["signals"] == 0)
    assert any(heard - 1 <= started <= heard for started, _ in other["sends"])  # it was busy
    for result in results:
        starts = [started for started, _ in result["sends"]]
        # Every worker waits out the named time (the other learns of it within a second
        # of the board being written; a busy Prefect server may take some more)...
        assert not [s - heard for s in starts if heard + 1.6 <= s <= heard + WAIT - 0.1]
        # ...then starts again at half the uploads in flight...
        after = [s for s in starts if heard + WAIT <= s <= heard + WAIT + 1.5]
        assert after and max(_in_flight(result["sends"], s) for s in after) <= IN_FLIGHT // 2
        # ...and is back to all of them once it has recovered.
        late = [s for s in starts if s >= heard + WAIT + RECOVERY + 0.3]
        assert late and max(_in_flight(result["sends"], s) for s in late) == IN_FLIGHT
    photos = sandbox.state.photos.all_photos()
    assert len({p["sha256"] for p in photos}) == len(photos) == 2 * PHOTOS_PER_WORKER


def test_the_rest_budget_holds_across_two_processes(
    prefect_server: str, sandbox: SandboxServer
) -> None:
    """720 calls an hour: a burst of 90, then 0.175 a second. Two processes calling as
    fast as they can for 8 s get the burst and the refill between them, no more."""
    name = f"flickr-api-test-{uuid.uuid4().hex[:8]}"
    env = _env(sandbox, prefect_server)
    workers = [_start(env, "rest", "8", "720", name) for _ in range(2)]
    results = [_result(w) for w in workers]
    made = [len(r["calls"]) for r in results]
    echoes = sum(
        1 for e in sandbox.traffic.entries_since(0) if e["api_method"] == "flickr.test.echo"
    )
    assert all(n > 0 for n in made), made  # both were served from the one budget
    # burst + 8 s of refill; each process may be one batch (10) ahead of its payments
    assert echoes == sum(made) and 80 <= echoes <= 90 + 2 * 10, made
