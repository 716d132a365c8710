"""B4, discovery and planning at scale: 10,000 objects in moto's S3 (over HTTP), with the
shared S3 ledger: time, bytes read (against the objects' total) and S3 API calls.

    python3 -m benchmarks.discovery [--objects 10000]

Targets (issue 8): at most 60 s and at most 5% of the bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.common import camera_jpeg, moto_s3, write_result
from flickr_ingest.discovery import discover
from flickr_ingest.ledger.s3 import S3Ledger
from flickr_ingest.planning import UPLOAD, Quota, plan
from flickr_ingest.sources import open_source

#: Web-sized JPEGs: small objects are the hard case for "bytes read" and for API calls.
SIZES = (50_000, 250_000)
#: The baseline costs one GET per object; it is measured on the first quarter of the
#: objects (prefix archive/q1) and scaled, to keep the whole command under 15 minutes.


def run(objects: int) -> dict[str, Any]:
    rng = random.Random(4)
    sizes = [rng.randrange(*SIZES) for _ in range(objects)]
    templates = [camera_jpeg(n, SIZES[1]) for n in range(8)]
    with moto_s3() as s3:
        s3.create_bucket(Bucket="bench")

        def put(number: int) -> None:
            body = templates[number % 8][: sizes[number] - 2] + b"\xff\xd9"
            quarter = "q1" if number < objects // 4 else "q2-4"
            key = f"archive/{quarter}/{number // 500:03d}/IMG_{number:05d}.jpg"
            s3.put_object(Bucket="bench", Key=key, Body=body)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(objects)))
        ours = _discover_and_plan(s3, "archive/", objects, by_name=True)
        measured = objects // 4
        baseline = _discover_and_plan(s3, "archive/q1/", measured, by_name=False)
        scale = objects / measured
        baseline = {
            "measured_objects": measured,
            "seconds": round(baseline["seconds"] * scale, 1),
            "bytes_read": round(baseline["bytes_read"] * scale),
            "s3_calls": round(baseline["s3_calls"] * scale),
        }
    total = sum(sizes)
    for measured in (ours, baseline):
        measured["share_of_bytes"] = round(measured["bytes_read"] / total, 5)
    return {
        "objects": objects,
        "total_megabytes": round(total / 1e6, 1),
        **ours,
        "baseline_head_per_object": baseline,
    }


def _discover_and_plan(s3: Any, prefix: str, objects: int, *, by_name: bool) -> dict[str, Any]:
    """Discovery and planning as a run does them; `by_name=False` is the baseline that
    reads each object's first bytes (one ranged GET per object)."""
    calls = {"count": 0}

    def count(**_: Any) -> None:
        calls["count"] += 1

    s3.meta.events.register("before-call.s3", count)
    start = time.perf_counter()
    source = open_source(f"s3://bench/{prefix}", s3_client=s3)
    source.remote = by_name
    ledger = S3Ledger("s3://bench/ledger", s3)  # shared by every worker
    candidates = discover(source, ledger=ledger, account="bench@sandbox", workers=16)
    quota = Quota(200 * 1024 * 1024, 1024 * 1024 * 1024, None, None, None)
    decisions = plan(candidates, quota)
    seconds = time.perf_counter() - start
    s3.meta.events.unregister("before-call.s3", count)
    assert sum(1 for d in decisions if d.action == UPLOAD) == objects
    return {
        "seconds": round(seconds, 1),
        "bytes_read": source.bytes_read,
        "s3_calls": calls["count"],
    }


def table(result: dict[str, Any]) -> list[str]:
    base = result["baseline_head_per_object"]
    return [
        f"| B4: {result['objects']:,} S3 objects ({result['total_megabytes']:,} MB) | ours "
        "| baseline: a GET per object | target |",
        "|---|---|---|---|",
        f"| (baseline measured on {base['measured_objects']:,} objects, scaled) | | | |",
        f"| discovery + planning | {result['seconds']} s | {base['seconds']} s | ≤ 60 s |",
        f"| bytes read | {result['bytes_read']:,} ({result['share_of_bytes']:.2%}) "
        f"| {base['bytes_read']:,} ({base['share_of_bytes']:.2%}) | ≤ 5% |",
        f"| S3 API calls | {result['s3_calls']:,} | {base['s3_calls']:,} | |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=10_000)
    args = parser.parse_args(argv)
    result = run(args.objects)
    path = write_result("discovery", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


def targets_met(result: dict[str, Any]) -> bool:
    return result["seconds"] <= 60 and result["share_of_bytes"] <= 0.05


if __name__ == "__main__":
    sys.exit(main())
