"""Release the PETSc solvers a verification test built, at a point every rank reaches together.

A ``ionslit.solvers.nonlinear.NewtonSolver`` registers its bound methods as SNES callbacks; the
SNES keeps them in C, where Python's garbage collector cannot see the cycle solver -> SNES ->
callback -> solver, so a solved model (with its mesh, index maps and their MPI communicators)
lives until its solvers are destroyed: ``PNPModel.close()`` (or ``with PNPModel(...) as model``)
does that. The verification tests build many models (most through the case translation) and
leave them open, so one process would run out of MPI communicators ("Too many communicators", or
PETSc error 98 in MatCreate). So after each test the SNES of every solver the test created is
destroyed explicitly, in creation order (the same on every rank: destroying a MUMPS-factored KSP
is collective), and the remaining cycles are collected.
"""

from __future__ import annotations

import gc
import subprocess
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import run_ionslit

CaseRun = tuple[subprocess.CompletedProcess, Path]


@pytest.fixture(autouse=True)
def release_petsc_solvers():
    from ionslit.solvers.nonlinear import live_solvers

    before = {id(s) for s in live_solvers()}
    yield
    created = [s for s in live_solvers() if id(s) not in before]
    for solver in created:
        solver.close()
        solver.snes.destroy()
    del created
    gc.collect()


@pytest.fixture(scope="session")
def case_results(tmp_path_factory) -> Callable[[Path], CaseRun]:
    """``case_results(case_file)`` -> (the finished process, its results directory) of ``ionslit
    run case_file`` in a fresh process, made once per test session: the output-contract test and
    the checks that read the same case's results share one run. Safe to call from threads."""
    runs: dict[Path, CaseRun] = {}
    locks: defaultdict[Path, threading.Lock] = defaultdict(threading.Lock)
    guard = threading.Lock()

    def run(case_file: Path) -> CaseRun:
        with guard:
            lock = locks[case_file]
        with lock:
            if case_file not in runs:
                directory = tmp_path_factory.mktemp(case_file.stem)
                out = directory / "results"
                done = run_ionslit("run", str(case_file), "--output", str(out), cwd=directory,
                                   timeout=900)
                runs[case_file] = (done, out)
            return runs[case_file]

    return run
