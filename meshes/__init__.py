"""Slit geometries (SI units, metres) and the dolfinx meshes built from them.

The package namespace holds what needs neither gmsh nor dolfinx, so that case checks and cell-count
estimates stay light:

- ``SlitGeometry`` / ``ConeGeometry`` / ``SlitPlaneGeometry`` / ``Slit3DGeometry`` and ``MeshSpec``;
- ``estimate_cell_count(geometry, spec)``: cell count without meshing;
- ``validate_geometry`` / ``validate_mesh_spec`` raising ``GeometryError`` / ``MeshSpecError``.

The finite-element side is imported from its module:

- ``ionslit.meshes.build.build_slit_mesh(geometry, spec, comm, cache_dir)`` -> ``SlitMesh``
  (gmsh on rank 0, cached ``.msh`` files, distributed over ``comm``);
- ``ionslit.meshes.slit_mesh.SlitMesh``: the dolfinx mesh with its named physical groups;
- ``ionslit.meshes.report.adequacy_report(slit_mesh, spec)`` -> ``MeshReport``;
- ``ionslit.meshes.xdmf.write_mesh_xdmf(slit_mesh, path)``;
- ``ionslit.meshes.structured``: structured meshes of simple slits for verification.
Group names per geometry kind: ``ionslit.meshes.kinds``; shapes and coordinates:
``ionslit.meshes.layout``.

MPI before dolfinx: the PyPI wheel ``dolfinx-solver-real`` must be imported before ``dolfinx`` and
``petsc4py``; official dolfinx installations (Docker image, conda, Spack) do not have that module
and need nothing. This package's initialisation is the one place that does it; it runs before any
module of ``ionslit.meshes`` or ``ionslit.solvers`` (``ionslit.solvers`` imports this package
first), hence before their dolfinx imports.
"""

import importlib.util

if importlib.util.find_spec("dolfinx_solver") is not None:
    import dolfinx_solver  # noqa: F401  (loads MPI before the compiled dolfinx/petsc4py modules)

# isort: split
from ionslit.meshes.estimate import estimate_cell_count
from ionslit.meshes.geometry import (
    ConeGeometry,
    Geometry,
    MeshSpec,
    Slit3DGeometry,
    SlitGeometry,
    SlitPlaneGeometry,
)
from ionslit.meshes.validation import (
    GeometryError,
    MeshSpecError,
    validate_geometry,
    validate_mesh_spec,
)

__all__ = [
    "ConeGeometry",
    "Geometry",
    "GeometryError",
    "MeshSpec",
    "MeshSpecError",
    "Slit3DGeometry",
    "SlitGeometry",
    "SlitPlaneGeometry",
    "estimate_cell_count",
    "validate_geometry",
    "validate_mesh_spec",
]
