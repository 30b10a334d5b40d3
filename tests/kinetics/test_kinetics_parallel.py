"""Reactions give the same answer on 1 and 2 ranks (run under `mpirun -n 2`: every rank also
solves the case alone on COMM_SELF and compares)."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import numpy as np
import pytest
from kinetics_parallel_case import run
from mpi4py import MPI


@pytest.mark.mpi
def test_one_and_two_ranks_agree(comm):
    """Currents and pair inventories of a 2D charged slit with pairing under a sine drive agree
    to 1e-8 relative (Newton to 1e-11; differences are round-off of the LU orderings). The
    pairs respond to the field (the slit's pair inventory changes by more than 10 %)."""
    here = np.array(run(comm)["rows"])
    alone = run(MPI.COMM_SELF)
    serial = np.array(alone["rows"])
    assert alone["cutbacks"] == 0  # the smooth drive needs no step cut-back
    assert np.array_equal(here[:, 0], serial[:, 0])
    for column in range(1, here.shape[1]):
        scale = np.max(np.abs(serial[:, column]))
        assert np.max(np.abs(here[:, column] - serial[:, column])) <= 1e-8 * scale, column
    # Current conservation: the left and right electrode currents agree at every step.
    assert np.allclose(here[:, 1], here[:, 2], rtol=1e-6)
    pairs = serial[:, 3]
    assert abs(pairs[-1] / pairs[0] - 1) > 0.1
