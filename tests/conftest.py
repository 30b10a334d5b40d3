"""Shared test set-up: MPI ordering, one report under mpirun, the communicator fixture."""

from __future__ import annotations

import meshes  # noqa: F401  (orders MPI before dolfinx for every test module)
import pytest
from mpi4py import MPI


def pytest_configure(config: pytest.Config) -> None:
    if MPI.COMM_WORLD.rank > 0:  # one report is enough; failures still set the exit code
        config.option.verbose = -2


@pytest.fixture
def comm() -> MPI.Comm:
    return MPI.COMM_WORLD
