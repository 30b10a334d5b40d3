"""Shared test set-up: MPI ordering, one report under mpirun, the communicator fixture."""

from __future__ import annotations

import gc

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx for every test module)

# isort: split
import pytest
from mpi4py import MPI


def pytest_configure(config: pytest.Config) -> None:
    if MPI.COMM_WORLD.rank > 0:  # one report is enough; failures still set the exit code
        config.option.verbose = -2


@pytest.fixture
def comm() -> MPI.Comm:
    return MPI.COMM_WORLD


@pytest.fixture(autouse=True)
def collect_garbage_on_every_rank():
    """Destroying PETSc objects is collective: let every rank's garbage collector run at the
    same point (after each test), not whenever one rank's allocator decides."""
    yield
    if MPI.COMM_WORLD.size > 1:
        gc.collect()
        MPI.COMM_WORLD.barrier()
