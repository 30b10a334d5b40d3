"""A failed run ends promptly on every rank, says why in the manifest, exits 1, and leaves no
output that looks like a finished result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import CASES, MPIRUN, run_ionslit

STEP_CASE = """
name = "step"
[geometry]
kind = "slit"
length = "20 nm"
height = "4 nm"
reservoir_length = "10 nm"
reservoir_height = "20 nm"
[mesh]
max_size = "2 nm"
[[electrolyte.species]]
name = "K"
valence = 1
diffusivity = "2e-9 m^2/s"
concentration = "100 mM"
[[electrolyte.species]]
name = "Cl"
valence = -1
diffusivity = "2e-9 m^2/s"
concentration = "100 mM"
[protocol]
kind = "step"
voltages = ["0 V", "0.1 V"]
durations = ["1 ns", "2 ns"]
"""


def assert_failed_without_result(out: Path, reason_part: str) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert reason_part in manifest["reason"], manifest["reason"]
    assert manifest["finished"] is not None
    assert not (out / "fields").exists()  # only fields.partial, never a finished-looking one
    assert not (out / "plots").exists()
    return manifest


def test_diverging_solve_exits_1_with_the_snes_reason(tmp_path):
    out = tmp_path / "out"
    result = run_ionslit("run", str(CASES / "ohmic_slit.toml"), "--output", str(out),
                         "--petsc=-snes_max_it 1 -snes_rtol 1e-14 -snes_atol 1e-30 -snes_stol 0",
                         "--set", "solver.max_cutbacks=2")
    assert result.returncode == 1, result.stderr
    manifest = assert_failed_without_result(out, "DIVERGED_")
    assert "run failed" in result.stderr and manifest["reason"] in result.stderr
    assert not (out / "series.csv").exists()


@pytest.mark.parametrize("ranks, budget", [(1, []), (2, ["--set", "solver.continuation_max_steps=20"])])
def test_starved_continuation_stops_at_its_step_budget(tmp_path, ranks, budget):
    """With one Newton iteration per try, the steady continuation of pb_slit creeps forward by
    tiny steps; the step budget ends it with exit 1 and a reason that names the limit, the last
    converged parameters and what to loosen (without a budget the run went on for > 10 min). The
    1-rank run has the default budget of 100 tries (about 0.4 s each here: < 60 s); the 2-rank
    run, with a budget of 20, checks that every rank stops. Bound: 180 s, room for a loaded
    machine."""
    out = tmp_path / "out"
    started = time.perf_counter()
    result = run_ionslit("run", str(CASES / "pb_slit.toml"), "--output", str(out),
                         "--petsc=-snes_max_it 1", *budget, ranks=ranks)
    elapsed = time.perf_counter() - started
    assert result.returncode == 1, result.stderr
    manifest = assert_failed_without_result(out, "continuation_max_steps")
    reason = manifest["reason"]
    assert "last converged at V=0 V, sigma[slit_wall_top]=" in reason
    assert "DIVERGED_MAX_IT" in reason
    assert "raise continuation_max_steps" in reason and "-snes_max_it" in reason
    assert elapsed < 180


def run_with_fault(mode: str, out: Path, case: Path) -> subprocess.CompletedProcess:
    script = Path(__file__).with_name("fault_injection.py")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA_"))}
    environment["IONSLIT_FAILURE_TIMEOUT"] = "3"
    return subprocess.run([str(MPIRUN), "-n", "2", sys.executable, str(script), mode, "run",
                           str(case), "--output", str(out)], capture_output=True, text=True,
                          timeout=300, env=environment)


def test_exception_on_one_rank_ends_all_ranks(tmp_path):
    case = tmp_path / "step.toml"
    case.write_text(STEP_CASE)
    started = time.perf_counter()
    result = run_with_fault("exception_rank1", tmp_path / "out", case)
    elapsed = time.perf_counter() - started
    assert result.returncode == 1, result.stderr
    assert_failed_without_result(tmp_path / "out", "rank 1: RuntimeError: fault injected on rank 1")
    # Rank 0 waits in a collective; rank 1 gives it IONSLIT_FAILURE_TIMEOUT = 3 s, then aborts.
    assert elapsed < 60


def test_nan_on_one_rank_fails_the_run(tmp_path):
    case = tmp_path / "step.toml"
    case.write_text(STEP_CASE)
    result = run_with_fault("nan_rank1", tmp_path / "out", case)
    assert result.returncode == 1, result.stderr
    assert_failed_without_result(tmp_path / "out", "DIVERGED_FUNCTION_NANORINF")
