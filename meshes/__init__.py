"""Gmsh-generated slit geometries, distributed as dolfinx meshes with named physical groups.

Public API (SI units throughout):
- ``build_slit_mesh(geometry, spec, comm, cache_dir)`` -> ``SlitMesh`` (cached ``.msh`` files);
- ``estimate_cell_count(geometry, spec)``: cheap cell count, no meshing;
- ``adequacy_report(slit_mesh, spec)`` -> ``MeshReport`` (sizes, quality, cells per Debye length);
- ``write_mesh_xdmf(slit_mesh, path)``: mesh and tags to XDMF/HDF5, group names to JSON;
- ``validate_geometry`` / ``validate_mesh_spec`` raising ``GeometryError`` / ``MeshSpecError``.
Group names per geometry kind: ``ionslit.meshes.kinds``; shapes and coordinates: ``ionslit.meshes.layout``.

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
    "build_slit_mesh": "ionslit.meshes.distribute",
    "estimate_cell_count": "ionslit.meshes.estimate",
    "adequacy_report": "ionslit.meshes.report",
    "MeshReport": "ionslit.meshes.report",
    "WallResolution": "ionslit.meshes.report",
    "write_mesh_xdmf": "ionslit.meshes.xdmf",
    "validate_geometry": "ionslit.meshes.validation",
    "validate_mesh_spec": "ionslit.meshes.validation",
    "GeometryError": "ionslit.meshes.validation",
    "MeshSpecError": "ionslit.meshes.validation",
    "SlitMesh": "ionslit.meshes.slit_mesh",
    "SlitGeometry": "ionslit.meshes.geometry",
    "ConeGeometry": "ionslit.meshes.geometry",
    "SlitPlaneGeometry": "ionslit.meshes.geometry",
    "Slit3DGeometry": "ionslit.meshes.geometry",
    "Geometry": "ionslit.meshes.geometry",
    "MeshSpec": "ionslit.meshes.geometry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'meshes' has no attribute {name!r}")
