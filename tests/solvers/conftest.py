"""Fixtures for the solvers tests: electrolytes and small structured SlitMeshes.

The meshes come from ``solvers.structured_mesh`` (graded tensor-product meshes with the
standard group names), so these tests do not depend on gmsh.
"""

import meshes  # noqa: F401  (MPI before dolfinx)

import numpy as np
import pytest
from mpi4py import MPI

from solvers import Electrolyte, Species
from solvers import structured_mesh

D_K, D_CL = 1.957e-9, 2.032e-9  # m^2/s, K+ and Cl- in water at 25 C


def kcl(concentration: float, left: float | None = None, right: float | None = None,
        equal_diffusivities: bool = False) -> Electrolyte:
    """1:1 KCl at ``concentration`` mol/m^3 (or different left/right reservoirs)."""
    cl = concentration if left is None else left
    cr = concentration if right is None else right
    d_cl = D_K if equal_diffusivities else D_CL
    return Electrolyte((Species("K", 1, D_K, cl, cr), Species("Cl", -1, d_cl, cl, cr)))


@pytest.fixture
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def kcl_10mM():
    return kcl(10.0)


@pytest.fixture
def small_slit(comm):
    """A 40 nm x 4 nm slit between 20 nm x 40 nm reservoirs (~2000 vertices)."""
    return structured_mesh.slit_with_reservoirs(
        comm, length=40e-9, height=4e-9, reservoir_length=20e-9, reservoir_height=40e-9,
        wall_size=0.25e-9, mouth_size=0.5e-9, max_size=4e-9, growth=1.3)


def uniform_interval(comm, length=20e-9, cells=40, **kwargs):
    return structured_mesh.interval(comm, np.linspace(0.0, length, cells + 1), **kwargs)
