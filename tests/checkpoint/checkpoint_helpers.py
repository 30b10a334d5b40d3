"""Helpers for the checkpoint/restart tests: a small transient slit case, runs in the background
(own session, so the whole mpirun job can be signalled), and series comparison."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from cli_helpers import MPIRUN

from ionslit.output import read_csv

# A 20 nm x 4 nm charged slit under one cycle of a 20 MHz sine (~125 adaptive BDF2 steps with
# chord iterations, 326 nodes: about 1.5 s on 1 rank, 3 s on 2), fields every 10 ns, a
# checkpoint every 20 accepted steps.
CASE = """
name = "checkpoint_slit"
[geometry]
kind = "slit"
length = "20 nm"
height = "4 nm"
reservoir_length = "10 nm"
reservoir_height = "20 nm"
[mesh]
max_size = "4 nm"
wall_size = "1 nm"
cells_across_slit = 4
[[electrolyte.species]]
name = "K"
valence = 1
diffusivity = "2e-9 m^2/s"
concentration = "10 mM"
[[electrolyte.species]]
name = "Cl"
valence = -1
diffusivity = "2e-9 m^2/s"
concentration = "10 mM"
[boundary.walls.slit_wall_top]
surface_charge = "-0.02 C/m^2"
[boundary.walls.slit_wall_bottom]
surface_charge = "-0.02 C/m^2"
[protocol]
kind = "sine"
amplitude = "0.2 V"
frequency = "20 MHz"
cycles = 1
[solver]
max_step = "0.5 ns"
[output]
field_every = "10 ns"
checkpoint_steps = 20
"""

#: Acceptance: restarted series equal the uninterrupted one within this (relative, per element).
RTOL = 1e-10


def write_case(folder: Path, text: str = CASE, name: str = "case.toml") -> Path:
    path = Path(folder) / name
    path.write_text(text)
    return path


def environment() -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for variable in [v for v in env if v.startswith(("PMI_", "MPI_", "HYDRA_"))]:
        del env[variable]  # a nested mpirun must not join the test's own MPI job
    return env


def start_run(*args: str, ranks: int = 2) -> subprocess.Popen:
    """``ionslit ARGS`` under mpirun in its own session (signal it with ``signal_job``)."""
    command = [str(MPIRUN), "-n", str(ranks), sys.executable, "-P", "-m", "ionslit", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment(), start_new_session=True)


def signal_job(process: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to mpirun and every rank (as a batch system does to a job)."""
    os.killpg(process.pid, signum)


def wait_for_checkpoint(directory: Path, process: subprocess.Popen, timeout: float = 120) -> dict:
    """Poll until DIR/checkpoint/checkpoint.json exists; its content."""
    info = Path(directory) / "checkpoint" / "checkpoint.json"
    deadline = time.monotonic() + timeout
    while not info.is_file():
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"run ended ({process.returncode}) before a checkpoint:\n{err}")
        if time.monotonic() > deadline:
            signal_job(process, signal.SIGKILL)
            raise AssertionError("no checkpoint in time")
        time.sleep(0.02)
    return json.loads(info.read_text())


def manifest(directory: Path) -> dict:
    return json.loads((Path(directory) / "manifest.json").read_text())


def series_difference(reference: Path, other: Path) -> float:
    """Largest element-wise difference of two series.csv files relative to
    max(|a|, |b|, 1e-3 max|column|) (scale-aware: entries crossing zero compare with their
    column's scale); same columns, rows and NaN pattern required."""
    a, b = read_csv(reference), read_csv(other)
    assert list(a) == list(b), (list(a), list(b))
    worst = 0.0
    for name in a:
        x, y = a[name], b[name]
        assert x.shape == y.shape, f"{name}: {x.shape} rows vs {y.shape}"
        assert np.array_equal(np.isnan(x), np.isnan(y)), f"{name}: NaN pattern differs"
        finite = ~np.isnan(x)
        x, y = x[finite], y[finite]
        if not x.size:
            continue
        column = np.max(np.abs(x))
        scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-3 * column)
        scale[scale == 0] = 1.0
        worst = max(worst, float(np.max(np.abs(x - y) / scale)))
    return worst
