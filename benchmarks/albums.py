"""B5, REST calls per photo with albums: 2,000 small photos in 10 folders, each folder
an album (`--album folder`), taken on dates that run against their file names. Default
settings (the REST budget of 3,600 calls an hour included). Counts the REST calls from
the sandbox's request log and checks that every photo ends up in its album, in
date-taken order.

    python3 -m benchmarks.albums [--photos 2000] [--albums 10]

Target (issue 14): at most 0.05 REST calls per uploaded photo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import admin, point_pipeline_at, sandbox_process, write_result
from tests.photos import jpeg_bytes


def make_archive(root: Path, photos: int, albums: int) -> dict[str, list[str]]:
    """Folders of photos whose dates taken run backwards against their names; returns
    each folder's file names in date-taken order."""
    taken: dict[str, list[tuple[str, str]]] = {}
    for number in range(photos):
        folder = f"Album {number % albums:02d}"
        (root / folder).mkdir(parents=True, exist_ok=True)
        name = f"img{number:05d}.jpg"
        minutes = photos - number  # later names were taken earlier
        stamp = time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime(1_500_000_000 + minutes * 60))
        (root / folder / name).write_bytes(jpeg_bytes(number, taken=stamp))
        taken.setdefault(folder, []).append((stamp, name))
    return {folder: [name for _, name in sorted(pairs)] for folder, pairs in taken.items()}


def run(photos: int, albums: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-albums-"))
    expected = make_archive(work / "archive", photos, albums)
    with sandbox_process() as account:
        point_pipeline_at(account, work)
        from prefect.testing.utilities import prefect_test_harness

        from flows.ingest import ingest

        with prefect_test_harness(server_startup_timeout=180):
            start = time.perf_counter()
            summary = ingest({"source": str(work / "archive"), "concurrency": 8, "album": "folder"})
            seconds = time.perf_counter() - start
        log = requests.get(
            f"{account['url']}/sandbox/requests", headers=admin(account), timeout=60
        ).json()["requests"]
        stored = requests.get(
            f"{account['url']}/sandbox/albums", headers=admin(account), timeout=60
        ).json()["albums"]
        files = requests.get(
            f"{account['url']}/sandbox/photos", headers=admin(account), timeout=60
        ).json()["photos"]
    names = {photo["id"]: photo["filename"] for photo in files if photo["status"] == "active"}
    in_order = sorted(a["title"] for a in stored) == sorted(expected) and all(
        [names[i] for i in album["photo_ids"]] == expected[album["title"]] for album in stored
    )
    rest = Counter(e["api_method"] for e in log if e["path"].startswith("/services/rest"))
    uploaded = summary["totals"]["uploaded"]
    return {
        "photos": photos,
        "albums": albums,
        "seconds": round(seconds, 1),
        "uploaded": uploaded,
        "rest_calls": sum(rest.values()),
        "rest_calls_by_method": dict(sorted(rest.items())),
        "rest_calls_per_photo": round(sum(rest.values()) / max(uploaded, 1), 4),
        "report_api_calls": summary["api_calls"],
        "every_photo_in_its_album_in_date_order": in_order,
    }


def table(result: dict[str, Any]) -> list[str]:
    methods = ", ".join(
        f"{method.removeprefix('flickr.')} {n}"
        for method, n in result["rest_calls_by_method"].items()
    )
    return [
        f"| B5: {result['photos']} photos into {result['albums']} albums | |",
        "|---|---|",
        f"| run time | {result['seconds']} s |",
        f"| REST calls (sandbox log) | {result['rest_calls']}: {methods} |",
        f"| REST calls per uploaded photo | **{result['rest_calls_per_photo']}** (target ≤ 0.05) |",
        "| every photo in its album, date-taken order | "
        f"{'yes' if result['every_photo_in_its_album_in_date_order'] else 'NO'} |",
    ]


def targets_met(result: dict[str, Any]) -> bool:
    return (
        result["rest_calls_per_photo"] <= 0.05
        and result["uploaded"] == result["photos"]
        and result["every_photo_in_its_album_in_date_order"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--albums", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(args.photos, args.albums)
    path = write_result("albums", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
