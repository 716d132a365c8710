"""Every benchmark in one command: prints one table per benchmark and writes
benchmarks/results/all.json (with the machine it ran on).

    python3 -m benchmarks            # about 12 minutes on a 2-core machine
    python3 -m benchmarks --quick    # small sizes, to check the benchmarks themselves

Exit status 0 when every target of issue 8 is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from benchmarks import albums, cpu, discovery, memory, metadata, overhead, scale, throughput
from benchmarks.common import write_result


def _plan(quick: bool) -> list[tuple[str, ModuleType, Callable[[], dict[str, Any]]]]:
    return [
        ("B1 throughput", throughput, lambda: throughput.run(20 if quick else 100, 16)),
        (
            "B2 per-photo overhead, B3 many files",
            overhead,
            lambda: overhead.run([300] if quick else [2000, 10000], 8),
        ),
        ("B3 one big file", memory, lambda: memory.run(100 if quick else 1000)),
        ("B4 discovery at scale", discovery, lambda: discovery.run(1000 if quick else 10000)),
        ("metadata", metadata, lambda: metadata.run(200 if quick else 1000)),
        ("B5 REST calls with albums", albums, lambda: albums.run(200 if quick else 2000, 10)),
        ("CPU per photo", cpu, lambda: cpu.run(30 if quick else 120, 1 if quick else 2)),
        # The sizes (a million, 100,000) take `python3 -m benchmarks.scale
        # --dry-files 1000000 --real-files 100000`, about 25 minutes alone.
        (
            "B6 at scale",
            scale,
            lambda: scale.run(5000, 500) if quick else scale.run(100_000, 10_000),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (not the targets')")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    tables: list[str] = []
    met: dict[str, bool] = {}
    for name, module, run in _plan(args.quick):
        print(f"{name} …", file=sys.stderr)
        start = time.perf_counter()
        result = run()
        result["benchmark_seconds"] = round(time.perf_counter() - start, 1)
        results[name] = result
        met[name] = module.targets_met(result)
        tables += [
            *module.table(result),
            f"*{name}: targets {'met' if met[name] else 'MISSED'};"
            f" took {result['benchmark_seconds']} s*",
            "",
        ]
    path = write_result("all", {"quick": args.quick, "targets_met": met, "results": results})
    print("\n".join(tables))
    print(f"results: {path}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
