"""B1, throughput on a link shaped like a real one: the sandbox adds 100 ms to every
answer and caps uploads at 10 Mbit/s per connection and 100 Mbit/s in all. 100 camera-like
JPEGs of 1–5 MB go up with, in the same run:

- the `ingest` flow (Prefect, `--width` uploads at once);
- the physical floor: all bytes ÷ the total bandwidth;
- a sequential python-flickrapi loop (what people write today; timed on half the
  photos and scaled by bytes);
- python-flickrapi in a thread pool of the same width;
- our client alone, synchronous uploads against asynchronous ones with batched
  checkTickets, with Flickr's processing time (1 s per photo) in the sandbox.

And what a person waits for on the same link, 40 photos of about 0.4 MB, 8 at once:
the whole `flickr-ingest run` process (a Prefect server configured, as `PREFECT_API_URL`)
and how long after its start the first upload reaches the sandbox, the flow inside it, a
sequential python-flickrapi loop and python-flickrapi in 8 threads.

    python3 -m benchmarks.throughput [--photos 100] [--width 16]

Every setting is the default (the REST budget of 3,600 calls an hour included). The
Prefect server is warm, as the local server that runs reuse is: a dry run goes first (a
server's first flow run after it starts is about 2 s slower).
Targets: the flow at ≥ 85% of the floor and ≥ 5× faster than the loop (issue 8); for the
40 photos, the whole process ≥ 2× faster than the loop, its first upload ≤ 3 s after the
command, and the flow ≤ 1.3× the 8 threads (issue 14).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import (
    admin,
    camera_jpeg,
    point_pipeline_at,
    reset,
    sandbox_process,
    shape,
    write_result,
)

#: Issue 14's goal: from `flickr-ingest run` to its first upload (a server configured).
FIRST_UPLOAD_TARGET_SECONDS = 3.0
LINK = {"latency_ms": 100, "per_connection_mbps": 10, "bandwidth_mbps": 100}
PROCESSING_SECONDS = 1.0


SMALL_RUN = {"photos": 40, "width": 8, "min_bytes": 250_000, "max_bytes": 600_000}


def make_photos(
    folder: Path, count: int, min_bytes: int = 1_000_000, max_bytes: int = 5_000_000
) -> list[Path]:
    rng = random.Random(8)
    folder.mkdir(parents=True)
    templates = [camera_jpeg(n, max_bytes) for n in range(8)]
    paths = []
    for number in range(count):
        size = rng.randrange(min_bytes, max_bytes)
        path = folder / f"IMG_{number:04d}.jpg"
        path.write_bytes(templates[number % 8][: size - 2] + b"\xff\xd9")
        paths.append(path)
    return paths


def _timed(job: Callable[[], Any]) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


# -- python-flickrapi, as its users write it ----------------------------------------------


def _flickrapi(account: dict) -> Any:
    import flickrapi
    import flickrapi.auth

    base = account["url"]
    flickrapi.FlickrAPI.REST_URL = f"{base}/services/rest/"
    flickrapi.FlickrAPI.UPLOAD_URL = f"{base}/services/upload/"
    token = flickrapi.auth.FlickrAccessToken(
        account["oauth_token"], account["oauth_token_secret"], "write", "", "bench", "bench"
    )
    return flickrapi.FlickrAPI(
        account["api_key"], account["api_secret"], token=token, store_token=False, format="etree"
    )


def flickrapi_loop(account: dict, paths: list[Path]) -> None:
    api = _flickrapi(account)
    for path in paths:
        api.upload(str(path), title=path.stem, format="etree")


def flickrapi_pool(account: dict, paths: list[Path], width: int) -> None:
    local = __import__("threading").local()

    def upload(path: Path) -> None:
        if not hasattr(local, "api"):
            local.api = _flickrapi(account)
        local.api.upload(str(path), title=path.stem, format="etree")

    with ThreadPoolExecutor(width) as pool:
        list(pool.map(upload, paths))


# -- the pipeline ------------------------------------------------------------------------


def ingest_flow(folder: Path, width: int, state: Path | None = None) -> None:
    from flickr_ingest.progress import RunListener
    from flows.ingest import ingest_in_this_process

    if state is not None:  # a ledger of its own: nothing is already uploaded
        os.environ["FLICKR_INGEST_STATE_DIR"] = str(state)
    summary = ingest_in_this_process(
        RunListener(), settings={"source": str(folder), "concurrency": width}
    )
    assert summary["totals"]["uploaded"] == len(list(folder.iterdir())), summary["totals"]


def cli_run(folder: Path, width: int, state: Path, prefect_api: str) -> None:
    """`flickr-ingest run` as a person types it, in a process of its own."""
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "FLICKR_INGEST_STATE_DIR": str(state)}
    done = subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "flows.cli", "run", str(folder), f"--concurrency={width}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def first_upload_time(account: dict) -> float:
    """When (time.time()) the first upload of the sandbox's request log arrived."""
    log = requests.get(
        f"{account['url']}/sandbox/requests", headers=admin(account), timeout=60
    ).json()["requests"]
    return min(entry["time"] for entry in log if entry["path"] == "/services/upload/")


def _client(account: dict) -> Any:
    from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient

    credentials = Credentials(
        account["api_key"],
        account["api_secret"],
        account["oauth_token"],
        account["oauth_token_secret"],
    )
    return FlickrClient(credentials, endpoints=Endpoints.at(account["url"]), pool_size=64)


def client_sync(account: dict, paths: list[Path], width: int) -> None:
    with _client(account) as client, ThreadPoolExecutor(width) as pool:
        results = list(pool.map(lambda p: client.upload(p, title=p.stem), paths))
    assert all(result.photo_id for result in results)


def client_async(account: dict, paths: list[Path], width: int) -> None:
    with _client(account) as client, ThreadPoolExecutor(width) as pool:
        tickets = list(
            pool.map(lambda p: client.upload(p, title=p.stem, asynchronous=True).ticket_id, paths)
        )
        done = client.wait_for_tickets(tickets, poll_seconds=0.5)
    assert all(status.photo_id for status in done.values())


def run(photos: int, width: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    paths = make_photos(work / "photos", photos)
    total_bytes = sum(path.stat().st_size for path in paths)
    floor = total_bytes * 8 / (LINK["bandwidth_mbps"] * 1_000_000)
    seconds: dict[str, float] = {}
    with sandbox_process() as account:
        point_pipeline_at(account, work)

        def measure(name: str, job: Callable[[], Any], **behaviour: Any) -> None:
            reset(account)
            shape(account, **LINK, **behaviour)
            seconds[name] = round(_timed(job), 1)
            print(f"  B1 {name}: {seconds[name]} s", file=sys.stderr)

        from prefect.settings import PREFECT_API_URL
        from prefect.testing.utilities import prefect_test_harness

        small = make_photos(
            work / "small", SMALL_RUN["photos"], SMALL_RUN["min_bytes"], SMALL_RUN["max_bytes"]
        )
        eight = SMALL_RUN["width"]
        with prefect_test_harness(server_startup_timeout=180):
            from flickr_ingest.progress import RunListener
            from flows.ingest import ingest_in_this_process

            ingest_in_this_process(
                RunListener(), settings={"source": str(work / "small"), "dry_run": True}
            )  # warm-up
            measure("ingest", lambda: ingest_flow(work / "photos", width))
            api = str(PREFECT_API_URL.value())
            cli_started = time.time()
            measure("small_cli", lambda: cli_run(work / "small", eight, work / "state-cli", api))
            seconds["small_cli_first_upload"] = round(first_upload_time(account) - cli_started, 1)
            measure("small_flow", lambda: ingest_flow(work / "small", eight, work / "state-flow"))
        measure("small_flickrapi_pool", lambda: flickrapi_pool(account, small, eight))
        measure("small_flickrapi_loop", lambda: flickrapi_loop(account, small))
        measure("flickrapi_pool", lambda: flickrapi_pool(account, paths, width))
        # One upload after another: linear in bytes, so half the photos, scaled, tells the
        # same and keeps the whole benchmark command under 15 minutes.
        half = paths[: len(paths) // 2]
        measure("flickrapi_loop", lambda: flickrapi_loop(account, half))
        seconds["flickrapi_loop"] = round(
            seconds["flickrapi_loop"] * total_bytes / sum(p.stat().st_size for p in half), 1
        )
        processing = {"sync_processing_seconds": PROCESSING_SECONDS}
        measure("client_sync", lambda: client_sync(account, paths, width), **processing)
        delay = {"async_delay_seconds": PROCESSING_SECONDS, "sync_processing_seconds": 0}
        measure("client_async", lambda: client_async(account, paths, width), **delay)
    return {
        "photos": photos,
        "width": width,
        "megabytes": round(total_bytes / 1e6, 1),
        "link": LINK,
        "processing_seconds": PROCESSING_SECONDS,
        "floor_seconds": round(floor, 1),
        "seconds": seconds,
        "ingest_share_of_floor": round(floor / seconds["ingest"], 3),
        "ingest_speedup_over_loop": round(seconds["flickrapi_loop"] / seconds["ingest"], 2),
        "ingest_speedup_over_pool": round(seconds["flickrapi_pool"] / seconds["ingest"], 2),
        "async_speedup_over_sync": round(seconds["client_sync"] / seconds["client_async"], 2),
        "small_run": {
            **SMALL_RUN,
            "megabytes": round(sum(p.stat().st_size for p in small) / 1e6, 1),
            "cli_speedup_over_loop": round(
                seconds["small_flickrapi_loop"] / seconds["small_cli"], 2
            ),
            "flow_over_pool": round(seconds["small_flow"] / seconds["small_flickrapi_pool"], 2),
        },
    }


def table(result: dict[str, Any]) -> list[str]:
    s = result["seconds"]
    floor = result["floor_seconds"]
    rows = [
        (f"ingest flow, {result['width']} at once", s["ingest"]),
        ("physical floor (bytes ÷ 100 Mbit/s)", floor),
        ("python-flickrapi, sequential loop (half the photos, scaled)", s["flickrapi_loop"]),
        (f"python-flickrapi, {result['width']} threads", s["flickrapi_pool"]),
        ("client, sync uploads (1 s processing)", s["client_sync"]),
        ("client, async + batched checkTickets", s["client_async"]),
    ]
    lines = [
        f"| B1: {result['photos']} photos, {result['megabytes']} MB, 100 ms, 10/100 Mbit/s "
        "| seconds | of floor |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {value} | {floor / value:.0%} |" for label, value in rows]
    small = result["small_run"]
    lines += [
        "",
        f"| B1 small: {small['photos']} photos, {small['megabytes']} MB, {small['width']} at once"
        " | seconds |",
        "|---|---|",
        f"| `flickr-ingest run`, whole process (Prefect server configured) | {s['small_cli']} |",
        f"| `flickr-ingest run`, from the command to its first upload reaching the sandbox"
        f" (target ≤ {FIRST_UPLOAD_TARGET_SECONDS:g} s) | {s['small_cli_first_upload']} |",
        f"| ingest flow, inside the process | {s['small_flow']} |",
        f"| python-flickrapi, sequential loop | {s['small_flickrapi_loop']} |",
        f"| python-flickrapi, {small['width']} threads | {s['small_flickrapi_pool']} |",
        f"| whole process vs loop: **{small['cli_speedup_over_loop']}× faster** (target ≥ 2×);"
        f" flow vs threads: **{small['flow_over_pool']}×** (target ≤ 1.3×) | |",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--width", type=int, default=16)
    args = parser.parse_args(argv)
    result = run(args.photos, args.width)
    path = write_result("throughput", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


def targets_met(result: dict[str, Any]) -> bool:
    small = result["small_run"]
    return (
        result["ingest_share_of_floor"] >= 0.85
        and result["ingest_speedup_over_loop"] >= 5
        and small["cli_speedup_over_loop"] >= 2
        and result["seconds"]["small_cli_first_upload"] <= FIRST_UPLOAD_TARGET_SECONDS
        and small["flow_over_pool"] <= 1.3
    )


if __name__ == "__main__":
    sys.exit(main())
