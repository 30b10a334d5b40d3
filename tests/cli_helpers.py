"""Paths and a helper that runs the ``ionslit`` command as users do (in a fresh process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
BIN = Path(sys.executable).parent
MPIRUN = BIN / "mpirun"


def run_ionslit(*args: str, ranks: int = 1, cwd: Path | None = None, timeout: float = 600,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``ionslit ARGS`` in a fresh process (under the venv's mpirun when ``ranks > 1``)."""
    command = [sys.executable, "-P", "-m", "ionslit", *args]
    if ranks > 1:
        command = [str(MPIRUN), "-n", str(ranks), *command]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    for variable in [v for v in environment if v.startswith(("PMI_", "MPI_", "HYDRA_"))]:
        del environment[variable]  # a nested mpirun must not join the test's own MPI job
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment)
