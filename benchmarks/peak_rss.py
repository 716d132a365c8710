"""Run a module as `python -m` does and, when the process ends, write its peak RSS
(bytes) to a file:

    python3 benchmarks/peak_rss.py OUT_FILE MODULE [ARGS...]

Why not `wait4`'s ru_maxrss: Linux carries a process's high-water mark across exec, so a
child started by a large benchmark process "peaks" at least at its parent's size (a
500-file run read as 547 MB). VmHWM belongs to the memory of the program now running:
it starts afresh at exec. Self-contained (run by path, before any package is imported).
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys
from pathlib import Path


def high_water_mark() -> int:
    """This process's peak RSS in bytes since its last exec (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main() -> None:
    out, module, *args = sys.argv[1:]
    # Registered first, so it runs last: after the program's own exit handlers.
    atexit.register(lambda: Path(out).write_text(str(high_water_mark())))
    sys.argv = [module, *args]
    sys.path[0] = os.getcwd()  # as `python -m` sets it, not this file's folder
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
