"""Shared test set-up: MPI ordering, paths, and helpers that run the CLI as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import meshes  # noqa: F401  (orders MPI before dolfinx for every test module)
import pytest
from mpi4py import MPI

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
BIN = Path(sys.executable).parent
MPIRUN = BIN / "mpirun"


def pytest_configure(config: pytest.Config) -> None:
    if MPI.COMM_WORLD.rank > 0:  # one report is enough; failures still set the exit code
        config.option.verbose = -2


def run_ionslit(*args: str, ranks: int = 1, cwd: Path | None = None, timeout: float = 600,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``ionslit ARGS`` in a fresh process (under the venv's mpirun when ``ranks > 1``)."""
    command = [sys.executable, "-m", "ionslit", *args]
    if ranks > 1:
        command = [str(MPIRUN), "-n", str(ranks), *command]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    for variable in [v for v in environment if v.startswith(("PMI_", "MPI_", "HYDRA_"))]:
        del environment[variable]  # a nested mpirun must not join the test's own MPI job
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment)


@pytest.fixture
def comm() -> MPI.Comm:
    return MPI.COMM_WORLD
