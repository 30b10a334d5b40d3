"""Run control of one run segment: the checkpoint schedule and the SIGTERM stop.

Schedule (case ``[output]``): ``checkpoint`` (default true) turns checkpoints of transient slit
runs and of neuron runs on; one is written every ``checkpoint_interval`` of wall time (default
15 min) and, when given, every ``checkpoint_steps`` accepted steps, and always on SIGTERM (a
neuron run also writes one before each analysis, see ionslit.neuron_study). The default follows
Young's optimum sqrt(2 C M) for a checkpoint costing C ~ seconds and a mean time to a hard kill
(node failure, out of memory, SIGKILL after the scheduler's grace time) M ~ a day; a time limit
itself costs nothing, as SIGTERM writes its own checkpoint. The schedule need not be
deterministic (a restart continues to round-off from any step); ``checkpoint_steps`` gives
reproducible positions when wanted.

SIGTERM (a scheduler's time limit, ``scancel``): every rank's handler only sets a flag; the ranks
combine their flags after every accepted step (one small allreduce), so all stop at the same
step, write a checkpoint and raise ``RunInterrupted``; the run records status ``interrupted``
and can be continued with ``--restart`` (the command line's exit code:
ionslit.exit_codes.EXIT_INTERRUPTED).
"""

from __future__ import annotations

import shlex
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from mpi4py import MPI

from ionslit.case import LoadedCase


class RunInterrupted(RuntimeError):
    """SIGTERM: the run stopped at a step boundary (after writing a checkpoint if it could)."""


@dataclass(frozen=True)
class CheckpointSettings:
    enabled: bool = True
    interval: float = 900.0  # s of wall time
    steps: int | None = None

    @classmethod
    def from_case(cls, loaded: LoadedCase) -> CheckpointSettings:
        output = loaded.case.output
        return cls(output.checkpoint, output.checkpoint_interval, output.checkpoint_steps)


class RunControl:
    """SIGTERM flag and checkpoint schedule of one run segment (all ranks)."""

    SIGTERM_BIT, PERIODIC_BIT = 2, 1

    def __init__(self, comm: MPI.Comm, settings: CheckpointSettings):
        self.comm, self.settings = comm, settings
        self.signalled = False
        self._previous_handler: Callable[[int, FrameType | None], Any] | int | None = None
        self._installed = False
        self._last_write = time.monotonic()

    def install(self) -> None:
        """Catch SIGTERM (main thread only; elsewhere the default action stays). Call again
        after code that replaces the C-level handler: importing petsc4py installs PETSc's
        (which aborts the job) and initialising gmsh restores the default one."""
        try:
            previous = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not the main thread
            return
        if not self._installed:
            self._previous_handler, self._installed = previous, True

    def uninstall(self) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous_handler or signal.SIG_DFL)
            self._installed = False

    def _handler(self, signum, frame) -> None:  # noqa: ARG002
        self.signalled = True

    def any_signalled(self) -> bool:
        """True on every rank if any rank got SIGTERM. Collective."""
        self.signalled = bool(self.comm.allreduce(int(self.signalled), op=MPI.MAX))
        return self.signalled

    def poll(self, steps: int, final: bool) -> tuple[bool, bool]:
        """(write a checkpoint, stop) at this step boundary, the same on every rank (one
        allreduce). ``final``: the last step of the run (then nothing is written or stopped:
        the run finishes)."""
        local = self.SIGTERM_BIT if self.signalled else 0
        if self.comm.rank == 0 and self.settings.enabled \
                and time.monotonic() - self._last_write >= self.settings.interval:
            local |= self.PERIODIC_BIT
        flags = np.array([local], dtype=np.int32)
        self.comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.BOR)
        combined = int(flags[0])
        if combined & self.SIGTERM_BIT:
            self.signalled = True
        if final:
            return False, False
        stop = bool(combined & self.SIGTERM_BIT)
        every = self.settings.steps
        periodic = bool(combined & self.PERIODIC_BIT) or bool(every and steps % every == 0)
        return self.settings.enabled and (stop or periodic), stop

    def wrote(self) -> None:
        self._last_write = time.monotonic()


def restart_command(loaded: LoadedCase, directory: Path, petsc_command_line: str = "") -> str:
    """The command line that continues a run (same case, --set and --petsc)."""
    words = ["ionslit", "run", str(loaded.path), "--restart", str(directory)]
    for override in loaded.overrides:
        words += ["--set", override]
    if petsc_command_line:
        words.append(f"--petsc={petsc_command_line}")
    return shlex.join(words)


def interrupted_reason(time_s: float | None, steps: int | None, written: bool,
                       command: str = "", problem: str = "") -> str:
    """The manifest's reason for a run stopped by SIGTERM; ``command`` continues it."""
    if time_s is None:
        return ("SIGTERM (time limit?) before the first time step: no checkpoint; run the case "
                "again from the start")
    if not written:
        return (f"SIGTERM (time limit?) at t = {time_s:.6g} s (step {steps}): no checkpoint "
                f"written{': ' + problem if problem else ' (checkpoints are off)'}")
    return (f"SIGTERM (time limit?): checkpoint at t = {time_s:.6g} s (step {steps}); continue "
            f"with: {command}")
