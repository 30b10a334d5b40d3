"""Gmsh-generated slit geometries, distributed as dolfinx meshes with named physical groups.

This is the one place that orders MPI ahead of dolfinx: the PyPI wheel ``dolfinx-solver-real``
must be imported before ``dolfinx``/``petsc4py``; official dolfinx installations (Docker image,
conda, Spack) do not have that module and need nothing. ``solvers`` imports this package first.
"""

import importlib.util as _importlib_util

if _importlib_util.find_spec("dolfinx_solver") is not None:
    import dolfinx_solver  # noqa: F401  (loads MPI before the compiled dolfinx/petsc4py modules)
