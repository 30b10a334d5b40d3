"""Versions of ionslit and the numerical stack, for ``ionslit version`` and every manifest."""

from __future__ import annotations

import platform
from importlib import metadata

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split

import basix
import dolfinx
import ffcx
import gmsh
import petsc4py
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from ionslit.version import __version__


def stack_versions() -> dict[str, str]:
    """Name -> version of everything that decides the numbers a run produces."""
    petsc = ".".join(str(part) for part in PETSc.Sys.getVersion())
    return {
        "ionslit": __version__,
        "python": platform.python_version(),
        "dolfinx": dolfinx.__version__,
        "basix": basix.__version__,
        "ufl": ufl.__version__,
        "ffcx": ffcx.__version__,
        "petsc": petsc,
        "petsc4py": petsc4py.__version__,
        "mpi4py": metadata.version("mpi4py"),
        "mpi_library": MPI.Get_library_version().splitlines()[0].strip(),
        "gmsh": gmsh.__version__,
        "numpy": metadata.version("numpy"),
    }

