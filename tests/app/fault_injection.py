"""Run ``ionslit`` with a fault injected (for test_failures.py): python fault_injection.py MODE ARGS...

MODE ``exception_rank1``: rank 1 raises in its second time step, the other ranks carry on into
their next collective call. MODE ``nan_rank1``: rank 1's part of the accepted state becomes NaN before
every time step, so every attempt (and every cut-back) fails.
"""

import sys

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split

import numpy as np
from mpi4py import MPI

import ionslit.solvers.model
from ionslit.cli import main

mode, arguments = sys.argv[1], sys.argv[2:]
original_try_step = ionslit.solvers.model.PNPModel.try_step
calls = {"count": 0}


def faulty_try_step(self, dt, voltage=None):
    calls["count"] += 1
    if MPI.COMM_WORLD.rank == 1:
        if mode == "exception_rank1" and calls["count"] == 2:
            raise RuntimeError("fault injected on rank 1")
        if mode == "nan_rank1":
            self.history[0].x.array[:] = np.nan  # the accepted state u^n
    return original_try_step(self, dt, voltage)


ionslit.solvers.model.PNPModel.try_step = faulty_try_step
sys.exit(main(arguments))
