"""The same case on 1 and 2 ranks: currents, profiles, inventories and the clamp voltage
agree to 1e-8 relative (Newton converged to 1e-11, so differences are round-off of the
different LU orderings).

``test_case_*``: case files from cases/ run with the ``ionslit run`` command on 1 and on 2
ranks (``mpirun -n 2``): every column of series.csv and of every profiles/<name>.csv agrees to
1e-8 relative to the column's largest magnitude. ``test_one_and_two_ranks_agree``: a steady,
transient and clamp case through the API (parallel_case.py).
"""

import ionslit.meshes  # noqa: F401

# isort: split
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

HERE = Path(__file__).parent


def close(a, b, scale=None, rtol=1e-8):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.max(np.abs(b)) if scale is None else scale
    return np.all(np.abs(a - b) <= rtol * scale)


@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="launches its own 2-rank run")
def test_one_and_two_ranks_agree(tmp_path):
    import parallel_case

    serial = parallel_case.run(MPI.COMM_SELF)
    out = tmp_path / "two_ranks.json"
    mpirun = Path(sys.executable).parent / "mpirun"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "MPI_", "HYDRA_"))}  # a fresh MPI job, not ours
    env["OMP_NUM_THREADS"] = "1"
    subprocess.run([str(mpirun), "-n", "2", sys.executable, str(HERE / "parallel_case.py"),
                    str(out)], check=True, timeout=600, env=env, cwd=HERE)
    two = json.loads(out.read_text())
    assert two["ranks"] == 2 and serial["ranks"] == 1
    assert close(two["steady_current"], serial["steady_current"])
    for key in serial["profile"]:
        assert close(two["profile"][key], serial["profile"][key]), key
    for key in serial["inventory"]:
        assert close(two["inventory"][key], serial["inventory"][key]), key
    t2, t1 = np.array(two["transient"]), np.array(serial["transient"])
    assert np.array_equal(t2[:, 0], t1[:, 0])
    assert close(t2[:, 1:], t1[:, 1:])
    assert close(two["clamp_voltage"], serial["clamp_voltage"])


@pytest.mark.mpi
def test_profiles_identical_on_all_ranks(comm):
    """Line profiles are gathered and broadcast: every rank holds the same arrays."""
    import parallel_case

    result = parallel_case.run(comm)
    mine = np.array(result["profile"]["potential"])
    everyone = comm.allgather(mine)
    assert all(np.array_equal(mine, other) for other in everyone)
    assert np.all(np.isfinite(mine))


# ------------------------------------------------------------------------------------------
# Case-driven: `ionslit run` on 1 and 2 ranks.
from cli_helpers import CASES, run_ionslit  # noqa: E402

from ionslit.output import read_csv  # noqa: E402

# Newton to 1e-11 (relative and absolute, scaled units) so that what remains is round-off.
TIGHT_PETSC = "-snes_rtol 1e-11 -snes_atol 1e-11 -snes_stol 1e-14"


# A clamped current of 0 A comes out as round-off (~1e-17 A), whose relative differences mean
# nothing: currents (and I / V) are compared relative to at least what ~V_T drives through these
# slits (1e-4 A, 1e-3 S per metre of depth), i.e. to 1e-12 A absolute.
FLOORS = {"current_A": 1e-4, "current_right_A": 1e-4, "ionic_current_A": 1e-4,
          "ionic_current_right_A": 1e-4, "conductance_S": 1e-3}


def run_on(ranks, case, directory):
    result = run_ionslit("run", str(CASES / f"{case}.toml"), "--output", str(directory),
                         "--set", "output.fields=[]", "--petsc", TIGHT_PETSC, ranks=ranks,
                         cwd=directory.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["mpi_ranks"] == ranks
    tables = {"series": read_csv(directory / "series.csv")}
    for path in sorted((directory / "profiles").glob("*.csv")):
        tables[f"profiles/{path.name}"] = read_csv(path)
    return tables


@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="launches its own 1- and 2-rank runs")
@pytest.mark.parametrize("case", [
    "dukhin_slit",  # steady, biased: currents, conductance, inventories, profiles
    pytest.param("nernst_selectivity", marks=pytest.mark.slow),  # current clamp: the voltage
])
def test_case_one_and_two_ranks_agree(case, tmp_path):
    """Measured largest relative differences (every column of every file): dukhin_slit 8e-15,
    nernst_selectivity 2e-14 (with the current floors below), i.e. round-off."""
    one = run_on(1, case, tmp_path / "one")
    two = run_on(2, case, tmp_path / "two")
    assert one.keys() == two.keys()
    worst = 0.0
    for name, table in one.items():
        assert list(table) == list(two[name]), name
        for column, values in table.items():
            a, b = np.asarray(two[name][column], float), np.asarray(values, float)
            finite = np.isfinite(b)
            assert np.array_equal(finite, np.isfinite(a)), (name, column)
            scale = max(np.max(np.abs(b[finite]), initial=0.0), FLOORS.get(column, 0.0))
            if scale == 0.0:
                assert np.all(a[finite] == 0.0), (name, column)
                continue
            difference = np.max(np.abs(a[finite] - b[finite])) / scale
            worst = max(worst, difference)
            assert difference <= 1e-8, (name, column, difference)
    print(f"{case}: largest relative difference 1 vs 2 ranks {worst:.1e}")
