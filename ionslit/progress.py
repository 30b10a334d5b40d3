"""Progress of a run, on rank 0: a live line on a terminal, periodic log lines in batch jobs
(where carriage returns would only clutter the log file). Transient runs report their time
steps (``Progress.update``), steady solves their continuation tries (``Progress.continuation``,
a solvers.continuation.ContinuationMonitor; ``continuation_progress`` wires it to a model)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from mpi4py import MPI

from ionslit.logs import get_logger
from ionslit.solvers.model import PNPModel

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
    """Report simulated time, step size, Newton iterations, spikes so far and an ETA of a
    transient run over [``start``, ``end``] (s), or the tries of steady continuations."""

    def __init__(self, start: float = 0.0, end: float = 0.0, comm: MPI.Comm = MPI.COMM_WORLD,
                 stream: TextIO | None = None):
        self.start, self.end = start, end
        self.active = comm.rank == 0
        self.stream = stream or sys.stderr
        self.live = self.active and self.stream.isatty()
        self.interval = TERMINAL_INTERVAL if self.live else BATCH_INTERVAL
        self._wall_start = self._last = time.perf_counter()
        self._shown = False  # a live line is on the terminal

    def line(self, t: float, dt: float, newton_iterations: int, spikes: int | None) -> str:
        fraction = (t - self.start) / (self.end - self.start) if self.end > self.start else 1.0
        elapsed = time.perf_counter() - self._wall_start
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        text = (f"t = {t:.4g} s ({100 * fraction:5.1f} %), dt = {dt:.3g} s, "
                f"Newton {newton_iterations}")
        if spikes is not None:
            text += f", spikes {spikes}"
        return text + (f", ETA {_seconds(eta)}" if fraction > 0 else "")

    @staticmethod
    def continuation_line(fraction: float, step: int, newton_iterations: int) -> str:
        return (f"steady continuation s = {fraction:.4g}, step {step}, "
                f"Newton {newton_iterations}")

    def _due(self) -> bool:
        """Whether a line is due now (on rank 0, ``interval`` after the last one)."""
        if not self.active:
            return False
        now = time.perf_counter()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True

    def _show(self, text: str) -> None:
        if self.live:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
            self._shown = True
        else:
            log.info("%s", text)

    def update(self, t: float, dt: float, newton_iterations: int,
               spikes: int | None = None) -> None:
        """Called after every accepted step (cheap when nothing is printed)."""
        if self._due():
            self._show(self.line(t, dt, newton_iterations, spikes))

    def continuation(self, fraction: float, step: int, newton_iterations: int) -> None:
        """Called after every continuation try (a ContinuationMonitor): the fraction s of the
        way reached, the tries so far, the try's Newton iterations."""
        if self._due():
            self._show(self.continuation_line(fraction, step, newton_iterations))

    def close(self) -> None:
        """End the live line (so the next message starts on a new line)."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


@contextmanager
def continuation_progress(model: PNPModel, comm: MPI.Comm) -> Iterator[Progress]:
    """Report the steady continuations of ``model`` inside the block (a Progress)."""
    progress = Progress(comm=comm)
    model.on_continuation_try = progress.continuation
    try:
        yield progress
    finally:
        model.on_continuation_try = None
        progress.close()
