"""Fixtures for the meshes tests: a mesh cache and temporary directories shared by all ranks,
and session-memoised builds of the standard geometries (see mesh_helpers.CASES)."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
from pathlib import Path

import pytest
from mesh_helpers import CASES
from mpi4py import MPI

from ionslit.meshes.build import build_slit_mesh


@pytest.fixture(scope="session")
def comm():
    return MPI.COMM_WORLD


def _shared_directory(factory, name: str) -> Path:
    """A fresh directory made by rank 0 and known to every rank."""
    path = str(factory.mktemp(name)) if MPI.COMM_WORLD.rank == 0 else None
    return Path(MPI.COMM_WORLD.bcast(path, root=0))


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """Mesh cache directory shared by the whole session (and by all ranks)."""
    return _shared_directory(tmp_path_factory, "mesh-cache")


@pytest.fixture
def shared_tmp(tmp_path_factory) -> Path:
    """A fresh directory per test, the same on every rank."""
    return _shared_directory(tmp_path_factory, "shared")


@pytest.fixture(scope="session")
def build(shared_cache):
    """build(geometry, spec) -> SlitMesh, memoised for the session."""
    built = {}

    def _build(geometry, spec):
        if (geometry, spec) not in built:
            built[geometry, spec] = build_slit_mesh(geometry, spec, cache_dir=shared_cache)
        return built[geometry, spec]

    return _build


@pytest.fixture(scope="session")
def standard(build):
    """standard(kind) -> SlitMesh of CASES[kind]."""
    return lambda kind: build(*CASES[kind])
