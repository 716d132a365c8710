"""Metadata at scale: bytes fetched from S3 and CPU per JPEG, against naive baselines.

    python3 -m benchmarks.metadata [--objects 1000]

Targets (issue 4): at most 5% of the objects' bytes fetched; at most 5 ms CPU per JPEG.
Baselines in the same run: downloading whole objects (what a naive tool does), and
exifread over the whole file.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import exifread

from benchmarks.common import camera_jpeg, moto_s3, write_result
from flickr_ingest.metadata import head_for_metadata, read_metadata
from flickr_ingest.sources import open_source
from tests.photos import SHARED_PHOTOS


def s3_bytes(objects: int) -> dict:
    rng = random.Random(1)
    with moto_s3() as s3:
        s3.create_bucket(Bucket="bench")
        sizes = [rng.randrange(1_000_000, 5_000_000) for _ in range(objects)]
        templates = [camera_jpeg(n, 5_000_000) for n in range(8)]

        def put(number: int) -> None:
            body = templates[number % 8][: sizes[number] - 2] + b"\xff\xd9"
            s3.put_object(Bucket="bench", Key=f"photos/{number:05d}.jpg", Body=body)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(objects)))
        source = open_source("s3://bench/photos/", s3_client=s3)
        items = list(source.list())
        started = time.perf_counter()

        def read(item):
            head = head_for_metadata(lambda s, n: source.read_range(item, s, n), item.size)
            return read_metadata(head, size=item.size)

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(read, items))
        elapsed = time.perf_counter() - started
        total = sum(item.size for item in items)
        assert all(r.make == "Canon" for r in results)
        return {
            "objects": len(items),
            "total_bytes": total,
            "fetched_bytes": source.bytes_read,
            "fetched_share": source.bytes_read / total,
            "get_requests": source.api_calls,
            "seconds": round(elapsed, 2),
            "baseline_whole_object_bytes": total,
            "baseline_share": 1.0,
        }


def cpu_per_jpeg() -> dict:
    files = sorted((SHARED_PHOTOS / "camera").glob("*.jpg")) + sorted(
        (SHARED_PHOTOS / "gps").glob("*.jpg")
    )
    samples = [path.read_bytes() for path in files] or [
        camera_jpeg(n, 3_000_000) for n in range(10)
    ]
    heads = [head_for_metadata(lambda s, n, d=data: d[s : s + n], len(data)) for data in samples]
    rounds = 20
    started = time.process_time()
    for _ in range(rounds):
        for head, data in zip(heads, samples, strict=True):
            read_metadata(head, size=len(data))
    ours = (time.process_time() - started) / (rounds * len(samples)) * 1000
    started = time.process_time()
    for _ in range(rounds):
        for data in samples:
            exifread.process_file(io.BytesIO(data), details=True)
    baseline = (time.process_time() - started) / (rounds * len(samples)) * 1000
    return {
        "jpegs": len(samples),
        "source": "shared samples" if files else "generated",
        "cpu_ms_per_jpeg": round(ours, 3),
        "baseline_exifread_details_ms": round(baseline, 3),
    }


def run(objects: int) -> dict:
    return {"s3": s3_bytes(objects), "cpu": cpu_per_jpeg()}


def table(result: dict) -> list[str]:
    s3, cpu = result["s3"], result["cpu"]
    fetched = f"{s3['fetched_bytes']:,} of {s3['total_bytes']:,}"
    return [
        "| metadata | value | target | baseline |",
        "|---|---|---|---|",
        f"| bytes fetched for {s3['objects']} objects | {s3['fetched_share']:.2%} ({fetched};"
        f" {s3['get_requests']} GETs, {s3['seconds']} s) | ≤ 5% | 100% (whole objects) |",
        f"| CPU per JPEG ({cpu['jpegs']} {cpu['source']}) | {cpu['cpu_ms_per_jpeg']:.2f} ms"
        f" | ≤ 5 ms | {cpu['baseline_exifread_details_ms']:.2f} ms (exifread, whole file) |",
    ]


def targets_met(result: dict) -> bool:
    return result["s3"]["fetched_share"] <= 0.05 and result["cpu"]["cpu_ms_per_jpeg"] <= 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args(argv)
    result = run(args.objects)
    path = write_result("metadata", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
