"""B2, per-photo overhead: many small photos against an unshaped sandbox, wall and CPU
milliseconds per photo, for the Prefect flow and for the same core code without Prefect
(the baseline, measured in the same run). The difference is Prefect's share.

    python3 -m benchmarks.overhead [--photos 2000] [--concurrency 8]

The sandbox runs in its own process, so this process's CPU is the pipeline's alone.
Target (issue 8): at most 15 ms per photo.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.common import write_result
from tests.photos import jpeg_bytes


def _sandbox() -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen(
        [sys.executable, "-m", "flickr_ingest.cli", "sandbox"], stdout=subprocess.PIPE, text=True
    )
    return process, json.loads(process.stdout.readline())


def _environment(account: dict, state: Path) -> None:
    os.environ.update(
        FLICKR_BASE_URL=account["url"],
        FLICKR_API_KEY=account["api_key"],
        FLICKR_API_SECRET=account["api_secret"],
        FLICKR_OAUTH_TOKEN=account["oauth_token"],
        FLICKR_OAUTH_TOKEN_SECRET=account["oauth_token_secret"],
        FLICKR_INGEST_STATE_DIR=str(state / "state"),
        FLICKR_INGEST_REPORT_DIR=str(state / "reports"),
        FLICKR_INGEST_API_CALLS_PER_HOUR="0",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )


def _measure(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def core_only(folder: Path, concurrency: int) -> None:
    """The pipeline's own code, no Prefect: what the tasks wrap, in a thread pool."""
    from flickr_ingest.planning import UPLOAD, Quota, plan
    from flickr_ingest.runs import close_run, open_run
    from flickr_ingest.settings import IngestSettings

    settings = IngestSettings.from_environment(source=str(folder), concurrency=concurrency)
    run = open_run(settings, run_id="bench-core")
    try:
        run.connect()
        decisions = plan(run.discover(), Quota.from_status(run.client.upload_status()))
        with ThreadPoolExecutor(concurrency) as pool:
            records = list(pool.map(run.upload, [d for d in decisions if d.action == UPLOAD]))
        assert all(r.status == "uploaded" for r in records), {r.status for r in records}
        run.save(run.report(records, notes=[]))
    finally:
        close_run("bench-core")


def with_prefect(folder: Path, concurrency: int) -> None:
    from flows.ingest import ingest

    summary = ingest(source=str(folder), concurrency=concurrency)
    assert summary["totals"]["uploaded"] == len(list(folder.iterdir())), summary["totals"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    sandbox, account = _sandbox()
    try:
        results = {}
        for name, runner in (("core", core_only), ("prefect", with_prefect)):
            folder = work / name / "photos"
            folder.mkdir(parents=True)
            for number in range(args.photos):  # different bytes per run: nothing is "already there"
                (folder / f"{number:05d}.jpg").write_bytes(jpeg_bytes(hash((name, number)) % 10**9))
            _environment(account, work / name)
            requests.post(f"{account['url']}/sandbox/reset", timeout=30)
            job = functools.partial(runner, folder, args.concurrency)
            if name == "prefect":
                from prefect.testing.utilities import prefect_test_harness

                with prefect_test_harness(server_startup_timeout=180):
                    wall, cpu = _measure(job)
            else:
                wall, cpu = _measure(job)
            results[name] = {
                "wall_ms_per_photo": round(1000 * wall / args.photos, 2),
                "cpu_ms_per_photo": round(1000 * cpu / args.photos, 2),
                "wall_seconds": round(wall, 1),
            }
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    share = {
        key: round(results["prefect"][key] - results["core"][key], 2)
        for key in ("wall_ms_per_photo", "cpu_ms_per_photo")
    }
    path = write_result(
        f"overhead-{args.photos}",
        {
            "photos": args.photos,
            "concurrency": args.concurrency,
            "core": results["core"],
            "prefect": results["prefect"],
            "prefect_share": share,
        },
    )
    print(
        f"| B2: {args.photos} photos, {args.concurrency} at once | wall ms/photo | CPU ms/photo |"
    )
    print("|---|---|---|")
    for name, label in (
        ("prefect", "ingest flow (Prefect)"),
        ("core", "core code alone (baseline)"),
    ):
        measured = results[name]
        print(f"| {label} | {measured['wall_ms_per_photo']} | {measured['cpu_ms_per_photo']} |")
    print(f"| Prefect's share | {share['wall_ms_per_photo']} | {share['cpu_ms_per_photo']} |")
    print(f"results: {path}")
    return 0 if results["prefect"]["wall_ms_per_photo"] <= 15 else 1


if __name__ == "__main__":
    sys.exit(main())
