"""B6, an archive at scale (issue 18): a dry run over a local folder of many tiny files
and a real run of fewer onto the sandbox, each `flickr-ingest run` in its own process
with every setting at its default: wall time, ms per file, the process's peak RSS, and
the sizes of the reports it wrote. The Prefect server is the local one the CLI starts
(its memory is not the run's).

    python3 -m benchmarks.scale [--dry-files 100000] [--real-files 20000]

Then the real run again from nothing, killed (SIGKILL) halfway and run again: each file
must have exactly one record in the rerun's report and one photo on the sandbox. Each
report.html is opened in Debian's chromium (Playwright) and timed.

Targets (issue 18): a 1,000,000-file dry run in at most 10 minutes and 1 GB; a
100,000-file real run at at most 10 ms a file and 1 GB; reports open in under 2 s;
exactly once after the crash.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import admin, point_pipeline_at, reset, sandbox_process, write_result
from flickr_ingest.report.publish import load_report_json
from tests.photos import jpeg_bytes

MB = 1024 * 1024
DRY_TARGET = {"seconds_per_million": 600, "peak_rss_mb": 1024}
REAL_TARGET = {"ms_per_file": 10.0, "peak_rss_mb": 1024}
OPEN_TARGET_SECONDS = 2.0
PEAK_RSS = Path(__file__).with_name("peak_rss.py")


def make_files(folder: Path, count: int) -> None:
    """`count` tiny JPEGs, 1,000 a folder, each with bytes of its own (a comment segment
    after the start marker), so that a real run uploads every one."""
    template = jpeg_bytes(1, size=(16, 16))
    for number in range(count):
        sub = folder / f"{number // 1000:04d}"
        if number % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        note = f"file {number}".encode()
        segment = b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note
        (sub / f"IMG_{number:07d}.jpg").write_bytes(template[:2] + segment + template[2:])


def measure_run(folder: Path, work: Path, *options: str) -> dict[str, Any]:
    """One `flickr-ingest run` in its own process: wall seconds, its peak RSS (VmHWM,
    see `benchmarks.peak_rss`) and its report sizes."""
    reports = work / "reports"
    before = set(reports.glob("*")) if reports.exists() else set()
    peak_file = work / "peak-rss"
    peak_file.unlink(missing_ok=True)
    started = time.perf_counter()
    command = ["flows.cli", "run", str(folder), *options]
    done = subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, str(PEAK_RSS), str(peak_file), *command],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise RuntimeError(f"run failed: {done.stderr.decode()[-3000:]}")
    (report,) = set(reports.glob("*")) - before
    sizes = {
        path.name: round(path.stat().st_size / MB, 2)
        for path in sorted(report.iterdir())
        if path.is_file()
    }
    return {
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(int(peak_file.read_text()) / MB, 1),
        "report_mb": sizes,
        "html_open_seconds": browser_open_seconds(report / "report.html"),
        "report_id": report.name,
    }


def browser_open_seconds(page: Path, opens: int = 3) -> float | None:
    """How long Debian's chromium (driven by Playwright, already started) takes to load
    the page and lay it out, the median of `opens` fresh tabs; None without chromium."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        for _ in range(opens):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.evaluate("document.body.offsetHeight")  # laid out, not only parsed
            seconds.append(time.perf_counter() - started)
            tab.close()
        browser.close()
    return round(statistics.median(seconds), 2)


def run(dry_files: int, real_files: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    os.environ["PREFECT_HOME"] = str(work / "prefect")  # a local server of its own
    results: dict[str, Any] = {"dry_files": dry_files, "real_files": real_files}
    try:
        with sandbox_process() as account:
            point_pipeline_at(account, work)
            os.environ.pop("PREFECT_API_URL", None)
            _cli("server", "start")  # started before the clock runs: runs reuse it
            dry = work / "dry"
            make_files(dry, dry_files)
            measured = measure_run(dry, work, "--dry-run")
            measured.pop("report_id")
            measured["ms_per_file"] = round(1000 * measured["wall_seconds"] / dry_files, 3)
            results["dry_run"] = measured
            print(f"  B6 dry run, {dry_files:,} files: {measured}", file=sys.stderr)
            real = work / "real"
            make_files(real, real_files)
            measured = measure_run(real, work, "--concurrency", "16")
            measured.pop("report_id")
            measured["ms_per_file"] = round(1000 * measured["wall_seconds"] / real_files, 2)
            results["real_run"] = measured
            print(f"  B6 real run, {real_files:,} files: {measured}", file=sys.stderr)
            results["crash_and_rerun"] = crash_and_rerun(
                account, real, work, kill_after=measured["wall_seconds"] / 2
            )
            print(f"  B6 crash and rerun: {results['crash_and_rerun']}", file=sys.stderr)
    finally:
        _cli("server", "stop")
    return results


def crash_and_rerun(
    account: dict[str, Any], folder: Path, work: Path, *, kill_after: float
) -> dict[str, Any]:
    """The real run again from nothing (the sandbox emptied, a new ledger), killed with
    SIGKILL halfway through (`kill_after` seconds: half the clean run), then run again:
    every file must end up with exactly one record in the rerun's report and exactly one
    photo on the sandbox."""
    reset(account)
    os.environ["FLICKR_INGEST_STATE_DIR"] = str(work / "state-crash")
    killed = subprocess.Popen(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "flows.cli", "run", str(folder), "--concurrency", "16"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(kill_after)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    stored_at_kill = _photo_counts(account).get("active", 0)
    rerun = measure_run(folder, work, "--concurrency", "16")
    report = load_report_json(str(work / "reports"), rerun.pop("report_id"))
    files = (report or {}).get("files", [])
    paths = Counter(record["relative_path"] for record in files)
    photos = requests.get(
        f"{account['url']}/sandbox/photos", headers=admin(account), timeout=600
    ).json()["photos"]
    active = [photo for photo in photos if photo["status"] == "active"]
    expected = sum(1 for path in folder.rglob("*") if path.is_file())
    report_ids = {record["photo_id"] for record in files}
    return {
        "files": expected,
        "photos_when_killed": stored_at_kill,
        "rerun_wall_seconds": rerun["wall_seconds"],
        "rerun_peak_rss_mb": rerun["peak_rss_mb"],
        "records": len(files),
        "photos": len(active),
        "exactly_once": len(paths) == len(files) == expected
        and len(active) == len({photo["sha256"] for photo in active}) == expected
        and report_ids == {photo["id"] for photo in active},
    }


def _photo_counts(account: dict[str, Any]) -> dict[str, int]:
    photos = requests.get(
        f"{account['url']}/sandbox/photos", headers=admin(account), timeout=600
    ).json()
    return photos["counts"]


def _cli(*args: str) -> None:
    subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, check=False
    )


def targets_met(result: dict[str, Any]) -> bool:
    dry, real = result["dry_run"], result["real_run"]
    per_million = dry["wall_seconds"] * 1_000_000 / result["dry_files"]
    return (
        per_million <= DRY_TARGET["seconds_per_million"]
        and dry["peak_rss_mb"] <= DRY_TARGET["peak_rss_mb"]
        and real["ms_per_file"] <= REAL_TARGET["ms_per_file"]
        and real["peak_rss_mb"] <= REAL_TARGET["peak_rss_mb"]
        and all((run["html_open_seconds"] or 0) < OPEN_TARGET_SECONDS for run in (dry, real))
    )


def table(result: dict[str, Any]) -> list[str]:
    dry, real, crash = result["dry_run"], result["real_run"], result["crash_and_rerun"]

    def sizes(measured: dict[str, Any]) -> str:
        files = ", ".join(f"{name} {mb} MB" for name, mb in measured["report_mb"].items())
        return f"{files}; report.html opens in {measured['html_open_seconds']} s"

    return [
        "| B6: at scale | wall | ms/file | peak RSS | reports |",
        "|---|---|---|---|---|",
        f"| dry run, {result['dry_files']:,} files | {dry['wall_seconds']} s "
        f"| {dry['ms_per_file']} | {dry['peak_rss_mb']} MB | {sizes(dry)} |",
        f"| real run, {result['real_files']:,} files, 16 at once | {real['wall_seconds']} s "
        f"| {real['ms_per_file']} | {real['peak_rss_mb']} MB | {sizes(real)} |",
        f"| the real run killed halfway ({crash['photos_when_killed']:,} photos in), then run"
        f" again | {crash['rerun_wall_seconds']} s | | {crash['rerun_peak_rss_mb']} MB"
        f" | {crash['records']:,} records, {crash['photos']:,} photos:"
        f" {'exactly one each' if crash['exactly_once'] else 'NOT exactly once'} |",
        "| target (issue 18) | 1,000,000 files ≤ 600 s | real ≤ 10 | ≤ 1,024 MB | open in < 2 s |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-files", type=int, default=100_000)
    parser.add_argument("--real-files", type=int, default=20_000)
    args = parser.parse_args(argv)
    result = run(args.dry_files, args.real_files)
    path = write_result("scale", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
