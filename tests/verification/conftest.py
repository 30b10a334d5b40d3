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

import pytest


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
