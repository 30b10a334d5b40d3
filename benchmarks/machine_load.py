"""How busy *other* processes keep the machine while a benchmark runs (Linux /proc/stat).

``foreign_cpu_load``: the CPU seconds that processes other than ours used, per wall second per
core; above ~0.1 the timings of a 2-core machine are spoiled. The benchmarks record it with
every run and say whether all runs stayed below that.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path


def busy_cpu_seconds() -> float | None:
    """CPU time (s) all processes spent busy since boot, from /proc/stat (None elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def foreign_cpu_load(busy_s: float, own_cpu_s: float, wall_s: float) -> float:
    """Others' CPU seconds per wall second per core, from the machine's busy CPU seconds over
    an interval, our own CPU seconds in it and its wall time."""
    return round(max(0.0, busy_s - own_cpu_s) / (wall_s * (os.cpu_count() or 1)), 3)


def run_measured(command: list[str], **run_options) -> tuple[subprocess.CompletedProcess, dict]:
    """``subprocess.run(command, **run_options)``; with it ``process_wall_s`` and (on Linux)
    ``foreign_cpu_load`` while it ran (our share: the CPU time of the child processes)."""
    busy0, children0 = busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, **run_options)
    wall = time.perf_counter() - start
    busy1, children1 = busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = {"process_wall_s": round(wall, 3)}
    if busy0 is not None and busy1 is not None:
        ours = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime
                                                             + children0.ru_stime)
        extra["foreign_cpu_load"] = foreign_cpu_load(busy1 - busy0, ours, wall)
    return done, extra
