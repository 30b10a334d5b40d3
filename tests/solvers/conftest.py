"""Fixtures for the solvers tests: small structured SlitMeshes (ionslit.meshes.structured, graded
tensor-product meshes with the standard group names, so these tests do not need gmsh)."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import pytest

from ionslit.meshes import structured


@pytest.fixture
def small_slit(comm):
    """A 40 nm x 4 nm slit between 20 nm x 40 nm reservoirs (~2000 vertices)."""
    return structured.slit_with_reservoirs(
        comm, length=40e-9, height=4e-9, reservoir_length=20e-9, reservoir_height=40e-9,
        wall_size=0.25e-9, mouth_size=0.5e-9, max_size=4e-9, growth=1.3)
