"""The same case on 1 and 2 ranks: currents, profiles, inventories and the clamp voltage
agree to 1e-8 relative (Newton converged to 1e-11, so differences are round-off of the
different LU orderings)."""

import meshes  # noqa: F401

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
