"""Standard test geometries and parallel-safe measurements shared by the meshes tests."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from ionslit.meshes import ConeGeometry, MeshSpec, Slit3DGeometry, SlitGeometry, SlitPlaneGeometry

nm = 1e-9

# Coarse versions of the project's typical devices; each meshes in well under a second.
CASES = {
    "slit": (
        SlitGeometry(
            length=100 * nm, height=2 * nm, reservoir_length=50 * nm, reservoir_height=50 * nm
        ),
        MeshSpec(
            wall_size=0.5 * nm,
            max_size=10 * nm,
            mouth_size=0.3 * nm,
            charged_walls=("slit_wall_top", "slit_wall_bottom"),
            debye_length=3 * nm,
        ),
    ),
    "cone": (
        ConeGeometry(
            length=100 * nm,
            tip_radius=2 * nm,
            base_radius=10 * nm,
            reservoir_length=50 * nm,
            reservoir_radius=50 * nm,
        ),
        MeshSpec(
            wall_size=0.5 * nm,
            max_size=10 * nm,
            mouth_size=0.3 * nm,
            charged_walls=("slit_wall",),
            debye_length=3 * nm,
        ),
    ),
    "slit_plane": (
        SlitPlaneGeometry(
            length=200 * nm,
            width=100 * nm,
            height=0.7 * nm,
            reservoir_length=50 * nm,
            reservoir_width=300 * nm,
        ),
        MeshSpec(
            wall_size=2 * nm,
            max_size=25 * nm,
            mouth_size=1 * nm,
            charged_walls=("slit_wall_top", "slit_wall_bottom"),
            debye_length=12 * nm,
        ),
    ),
    "slit3d": (
        Slit3DGeometry(
            length=20 * nm,
            width=10 * nm,
            height=4 * nm,
            reservoir_length=8 * nm,
            reservoir_width=16 * nm,
            reservoir_height=12 * nm,
        ),
        MeshSpec(
            wall_size=0.6 * nm,
            max_size=4 * nm,
            mouth_size=0.8 * nm,
            charged_walls=("slit_wall_top", "slit_wall_bottom"),
            cells_across_slit=4,
            debye_length=6 * nm,
        ),
    ),
}


def group_integrals(slit_mesh, integral_type: str, revolve: bool = False) -> dict[str, float]:
    """Integral of 1 (or of 2 pi r when ``revolve``) over every group of the measure type
    ``dx``, ``ds`` or ``dS``, assembled with UFL and summed over ranks."""
    mesh = slit_mesh.mesh
    cells = integral_type == "dx"
    groups = slit_mesh.cell_groups if cells else slit_mesh.facet_groups
    tags = sorted({t for group_tags in groups.values() for t in group_tags})
    selector = dolfinx.fem.Constant(mesh, np.zeros(len(tags)))
    measure = ufl.Measure(
        integral_type,
        domain=mesh,
        subdomain_data=slit_mesh.cell_tags if cells else slit_mesh.facet_tags,
    )
    weight = 2 * ufl.pi * ufl.SpatialCoordinate(mesh)[1] if revolve else 1
    if integral_type == "dS" and revolve:
        weight = weight("+")
    form = dolfinx.fem.form(sum(selector[i] * weight * measure(t) for i, t in enumerate(tags)))
    per_tag = {}
    for i, tag in enumerate(tags):
        one_hot = np.zeros(len(tags))
        one_hot[i] = 1.0
        selector.value = one_hot
        per_tag[tag] = mesh.comm.allreduce(dolfinx.fem.assemble_scalar(form), op=MPI.SUM)
    return {name: sum(per_tag[t] for t in group_tags) for name, group_tags in groups.items()}


def global_count(slit_mesh, group: str, cells: bool = False) -> int:
    """Number of owned cells or facets of a group, summed over ranks."""
    mesh = slit_mesh.mesh
    dim = mesh.topology.dim if cells else mesh.topology.dim - 1
    tags = slit_mesh.cell_tags if cells else slit_mesh.facet_tags
    groups = slit_mesh.cell_groups if cells else slit_mesh.facet_groups
    owned = tags.indices < mesh.topology.index_map(dim).size_local
    local = int(np.isin(tags.values[owned], groups[group]).sum())
    return mesh.comm.allreduce(local, op=MPI.SUM)
