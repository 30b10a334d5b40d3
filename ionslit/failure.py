"""Ending a failed run on every rank promptly, whether all ranks failed or only one.

A failure that every rank sees (a diverged solve: the SNES reason is global) is recorded by
rank 0 and all ranks exit normally. A failure on one rank only (an exception in rank-local
code, a NaN in a rank's part) would leave the other ranks waiting forever in their next
collective call; so the failing ranks wait a short while for the others on a separate
communicator and, if they do not come, record the failure themselves and abort the job.
"""

from __future__ import annotations

import os
import time

from mpi4py import MPI

# Seconds a failed rank waits for the other ranks before it aborts the job
# (environment variable IONSLIT_FAILURE_TIMEOUT overrides).
DEFAULT_TIMEOUT = 10.0


class FailureAgreement:
    """Built collectively at the start of a run (it duplicates the communicator)."""

    def __init__(self, comm: MPI.Comm):
        self.comm = comm.Dup()

    def all_ranks_failed(self, timeout: float | None = None) -> bool:
        """True when every rank reaches this call within ``timeout`` seconds (a collective
        failure); False when some rank does not (it is still working or waiting elsewhere)."""
        if self.comm.size == 1:
            return True
        if timeout is None:
            timeout = float(os.environ.get("IONSLIT_FAILURE_TIMEOUT", DEFAULT_TIMEOUT))
        request = self.comm.Ibarrier()
        deadline = time.monotonic() + timeout
        while not request.Test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def abort(self, code: int = 1) -> None:
        """End every rank of the job now (after this rank has recorded why)."""
        MPI.COMM_WORLD.Abort(code)
