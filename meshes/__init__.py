"""Gmsh-generated slit geometries, distributed as dolfinx meshes with named physical groups.

Public API (SI units throughout):
- ``build_slit_mesh(geometry, spec, comm, cache_dir)`` -> ``SlitMesh`` (cached ``.msh`` files);
- ``estimate_cell_count(geometry, spec)``: cheap cell count, no meshing;
- ``adequacy_report(slit_mesh, spec)`` -> ``MeshReport`` (sizes, quality, cells per Debye length);
- ``write_mesh_xdmf(slit_mesh, path)``: mesh and tags to XDMF/HDF5, group names to JSON;
- ``validate_geometry`` / ``validate_mesh_spec`` raising ``GeometryError`` / ``MeshSpecError``.
Group names per geometry kind: ``meshes.kinds``; shapes and coordinates: ``meshes.layout``.

This is the one place that orders MPI ahead of dolfinx: the PyPI wheel ``dolfinx-solver-real``
must be imported before ``dolfinx``/``petsc4py``; official dolfinx installations (Docker image,
conda, Spack) do not have that module and need nothing. ``solvers`` imports this package first.
"""

import importlib.util as _importlib_util

if _importlib_util.find_spec("dolfinx_solver") is not None:
    import dolfinx_solver  # noqa: F401  (loads MPI before the compiled dolfinx/petsc4py modules)

import importlib as _importlib

# Public API, imported on first use so that ``import meshes`` stays light (the cell-count
# estimate and validation need neither dolfinx nor gmsh).
_EXPORTS = {
    "build_slit_mesh": "meshes.distribute",
    "estimate_cell_count": "meshes.estimate",
    "adequacy_report": "meshes.report",
    "MeshReport": "meshes.report",
    "WallResolution": "meshes.report",
    "write_mesh_xdmf": "meshes.xdmf",
    "validate_geometry": "meshes.validation",
    "validate_mesh_spec": "meshes.validation",
    "GeometryError": "meshes.validation",
    "MeshSpecError": "meshes.validation",
    "SlitMesh": "meshes.slit_mesh",
    "SlitGeometry": "meshes.geometry",
    "ConeGeometry": "meshes.geometry",
    "SlitPlaneGeometry": "meshes.geometry",
    "Slit3DGeometry": "meshes.geometry",
    "Geometry": "meshes.geometry",
    "MeshSpec": "meshes.geometry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'meshes' has no attribute {name!r}")
