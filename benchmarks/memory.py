"""B3, memory: peak RSS of an ingest run (Prefect flow, fresh process) that uploads one
1 GB video, over the process's RSS just before the run. The many-files half of B3 (10,000
photos) is measured by `benchmarks.overhead`.

    python3 -m benchmarks.memory [--megabytes 1000]

Target (issue 8): at most 64 MB above idle.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import sandbox_process, write_result
from benchmarks.overhead import measure
from tests.photos import mp4_bytes


def run(megabytes: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-")) / "photos"
    folder.mkdir()
    video = folder / "long-take.mp4"
    with open(video, "wb") as out:  # sparse after the header: no need to write 1 GB
        out.write(mp4_bytes(4096))
        out.truncate(megabytes * 1_000_000)
    with sandbox_process() as account:
        measured = measure("prefect", folder, 1, account)
    video.unlink()
    return {"megabytes": megabytes, **measured}


def table(result: dict[str, Any]) -> list[str]:
    return [
        "| B3: memory | peak RSS over idle | target |",
        "|---|---|---|",
        f"| one {result['megabytes']:,} MB video, ingest flow | {result['peak_over_idle_mb']} MB "
        "| ≤ 64 MB |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=1000)
    args = parser.parse_args(argv)
    result = run(args.megabytes)
    path = write_result("memory", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


def targets_met(result: dict[str, Any]) -> bool:
    return result["peak_over_idle_mb"] <= 64


if __name__ == "__main__":
    sys.exit(main())
