"""B2, per-photo overhead (and B3's many-files memory): many small photos against an
unshaped sandbox, wall and CPU milliseconds per photo and peak memory, for the Prefect
flow and for the same core code without Prefect (the baseline, measured in the same run).
The difference is Prefect's share.

    python3 -m benchmarks.overhead [--photos 2000 10000] [--concurrency 8]

Each measurement runs in a fresh process (so its peak RSS is its own) and the sandbox in
another. Targets (issue 8): at most 15 ms per photo; at most 500 MB for 10,000 files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import point_pipeline_at, reset, sandbox_process, write_result
from benchmarks.peak_rss import high_water_mark
from tests.photos import jpeg_bytes

MB = 1024 * 1024


def core_only(folder: Path, concurrency: int) -> None:
    """The same run without Prefect: the library's pipeline on its local steps."""
    from flickr_ingest import pipeline
    from flickr_ingest.settings import IngestSettings

    settings = IngestSettings.from_environment(source=str(folder), concurrency=concurrency)
    report, _ = pipeline.ingest(settings, "bench-core")
    uploaded = len(list(folder.iterdir()))
    assert report.totals == {"uploaded": uploaded}, report.totals


def with_prefect(folder: Path, concurrency: int) -> None:
    from flows.ingest import ingest

    summary = ingest({"source": str(folder), "concurrency": concurrency})
    assert summary["totals"]["uploaded"] == len(list(folder.iterdir())), summary["totals"]


def measure_here(variant: str, folder: Path, concurrency: int) -> dict[str, Any]:
    """One measurement in this process (called in a fresh one by `measure`)."""
    job = {"core": core_only, "prefect": with_prefect}[variant]
    if variant == "prefect":
        from prefect.testing.utilities import prefect_test_harness

        harness = prefect_test_harness(server_startup_timeout=180)
        harness.__enter__()
        import flows.ingest  # noqa: F401  (imported before the idle reading, as core's are)
    else:
        import flickr_ingest.pipeline  # noqa: F401
    idle = psutil.Process().memory_info().rss
    wall, cpu = time.perf_counter(), time.process_time()
    job(folder, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = high_water_mark()
    if variant == "prefect":
        harness.__exit__(None, None, None)
    return {"wall": wall, "cpu": cpu, "idle_rss": idle, "peak_rss": peak}


def measure(variant: str, folder: Path, concurrency: int, account: dict) -> dict[str, Any]:
    reset(account)
    point_pipeline_at(account, folder.parent / f"work-{variant}")
    done = subprocess.run(  # noqa: S603  (this module, fixed arguments)
        [
            sys.executable,
            "-m",
            "benchmarks.overhead",
            "--one",
            variant,
            "--folder",
            str(folder),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    photos = len(list(folder.iterdir()))
    return {
        "wall_ms_per_photo": round(1000 * raw["wall"] / photos, 2),
        "cpu_ms_per_photo": round(1000 * raw["cpu"] / photos, 2),
        "wall_seconds": round(raw["wall"], 1),
        "peak_rss_mb": round(raw["peak_rss"] / MB, 1),
        "peak_over_idle_mb": round((raw["peak_rss"] - raw["idle_rss"]) / MB, 1),
    }


def run(photo_counts: list[int], concurrency: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    results: dict[str, Any] = {}
    with sandbox_process() as account:
        for count in photo_counts:
            folder = work / f"{count}" / "photos"
            folder.mkdir(parents=True)
            for number in range(count):
                (folder / f"{number:05d}.jpg").write_bytes(jpeg_bytes(count * 100_000 + number))
            measured = {}
            for variant in ("core", "prefect"):
                # The sandbox is reset and each variant has its own ledger: nothing is
                # "already there" for either.
                measured[variant] = measure(variant, folder, concurrency, account)
                print(f"  B2 {count} {variant}: {measured[variant]}", file=sys.stderr)
            share = {
                key: round(measured["prefect"][key] - measured["core"][key], 2)
                for key in ("wall_ms_per_photo", "cpu_ms_per_photo")
            }
            results[str(count)] = {**measured, "prefect_share": share}
    return {"concurrency": concurrency, "runs": results}


def table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"| B2: small photos, {result['concurrency']} at once | wall ms/photo | CPU ms/photo "
        "| peak RSS over idle |",
        "|---|---|---|---|",
    ]
    for count, measured in result["runs"].items():
        for variant, label in (("prefect", "ingest flow"), ("core", "core code alone")):
            m = measured[variant]
            lines.append(
                f"| {int(count):,} photos, {label} | {m['wall_ms_per_photo']} "
                f"| {m['cpu_ms_per_photo']} | {m['peak_over_idle_mb']} MB |"
            )
        share = measured["prefect_share"]
        lines.append(
            f"| {int(count):,} photos, Prefect's share | {share['wall_ms_per_photo']} "
            f"| {share['cpu_ms_per_photo']} | |"
        )
    return lines


def targets_met(result: dict[str, Any]) -> bool:
    runs = result["runs"]
    fast = all(m["prefect"]["wall_ms_per_photo"] <= 15 for m in runs.values())
    small = all(
        m["prefect"]["peak_over_idle_mb"] <= 500 for c, m in runs.items() if int(c) >= 10_000
    )
    return fast and small


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--one", choices=["core", "prefect"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # the measured process
        print(json.dumps(measure_here(args.one, args.folder, args.concurrency)))
        return 0
    result = run(args.photos, args.concurrency)
    path = write_result("overhead", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
