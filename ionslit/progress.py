"""Progress of a transient run, on rank 0: a live line on a terminal, periodic log lines in
batch jobs (where carriage returns would only clutter the log file)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from mpi4py import MPI

from ionslit.logs import get_logger

log = get_logger("progress")

# Seconds between two refreshes of the terminal line, and between two log lines in batch jobs.
TERMINAL_INTERVAL = 0.2
BATCH_INTERVAL = 30.0


def _seconds(value: float) -> str:
    """A duration for people: 42 s, 3.5 min, 2.1 h."""
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


class Progress:
    """Report simulated time, step size, Newton iterations, spikes so far and an ETA."""

    def __init__(self, start: float, end: float, comm: MPI.Comm = MPI.COMM_WORLD,
                 stream: TextIO | None = None):
        self.start, self.end = start, end
        self.active = comm.rank == 0
        self.stream = stream or sys.stderr
        self.live = self.active and self.stream.isatty()
        self.interval = TERMINAL_INTERVAL if self.live else BATCH_INTERVAL
        self._wall_start = self._last = time.perf_counter()

    def line(self, t: float, dt: float, newton_iterations: int, spikes: int | None) -> str:
        fraction = (t - self.start) / (self.end - self.start) if self.end > self.start else 1.0
        elapsed = time.perf_counter() - self._wall_start
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        text = (f"t = {t:.4g} s ({100 * fraction:5.1f} %), dt = {dt:.3g} s, "
                f"Newton {newton_iterations}")
        if spikes is not None:
            text += f", spikes {spikes}"
        return text + (f", ETA {_seconds(eta)}" if fraction > 0 else "")

    def update(self, t: float, dt: float, newton_iterations: int,
               spikes: int | None = None) -> None:
        """Called after every accepted step (cheap when nothing is printed)."""
        if not self.active:
            return
        now = time.perf_counter()
        if now - self._last < self.interval:
            return
        self._last = now
        text = self.line(t, dt, newton_iterations, spikes)
        if self.live:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
        else:
            log.info("%s", text)

    def close(self) -> None:
        """End the live line (so the next message starts on a new line)."""
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
