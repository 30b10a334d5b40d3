"""Is the mesh fine enough? Global (all-rank) size, quality and wall-resolution figures.

Definitions (all lengths in m):
- cell size: the cell diameter, i.e. its longest edge (the largest distance between two vertices);
- quality: the normalised radius ratio d * r_in / r_circ (d = 2 for triangles, 3 for tetrahedra),
  1 for an equilateral cell and 0 for a degenerate one;
- normal extent of a wall cell: the distance of its off-wall vertex from the plane of its wall
  facet (2 area / facet length, 3 volume / facet area), i.e. the size that resolves the
  double layer, which varies normal to the wall;
- cells per Debye length at a wall: debye_length / (largest normal extent among the cells that
  have a facet on that wall): the worst cell, not the average, so the figure is conservative.
  The size field makes the normal extent at most MeshSpec.wall_size (sizing.WALL_SIZE_FACTOR),
  so it is >= debye_length / wall_size. The largest diameters of the wall cells are reported too;
- group measures: lengths and areas of the 2D cross-section for planar meshes (not multiplied by
  the depth), surface areas and volumes of the body of revolution for axisymmetric ones (the 2 pi r
  weight; exact for straight facets by Pappus' theorem), areas and volumes in 3D.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import dolfinx
import numpy as np
from mpi4py import MPI

from ionslit.meshes import kinds
from ionslit.meshes.geometry import MeshSpec
from ionslit.meshes.slit_mesh import SlitMesh


@dataclass(frozen=True)
class WallResolution:
    """Resolution of one charged wall group (``None`` where the wall has no facets)."""

    group: str
    facets: int
    max_normal_extent: float | None  # m
    max_cell_diameter: float | None  # m
    mean_cell_diameter: float | None  # m
    cells_per_debye: float | None  # debye_length / max_normal_extent; None without debye_length


@dataclass(frozen=True)
class MeshReport:
    """Global mesh statistics; see the module docstring for the definitions."""

    kind: str
    coordinates: str
    num_cells: int
    num_vertices: int
    min_cell_size: float  # m, smallest cell diameter
    max_cell_size: float  # m, largest cell diameter
    min_quality: float
    mean_quality: float
    debye_length: float | None  # m
    walls: tuple[WallResolution, ...]
    group_measures: dict[str, float]  # m, m^2 or m^3 (see module docstring)

    @property
    def min_cells_per_debye(self) -> float | None:
        """Worst cells-per-Debye-length figure over the charged walls (None if unknown)."""
        values = [w.cells_per_debye for w in self.walls if w.cells_per_debye is not None]
        return min(values) if values else None

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dictionary."""
        return asdict(self)

    def format(self) -> str:
        """Readable multi-line summary."""
        lines = [
            f"mesh: {self.kind} ({self.coordinates}), {self.num_cells} cells, "
            f"{self.num_vertices} vertices",
            f"  cell diameter (longest edge): {self.min_cell_size:.4g} .. "
            f"{self.max_cell_size:.4g} m",
            f"  quality (radius ratio, 1 = equilateral): min {self.min_quality:.3f}, "
            f"mean {self.mean_quality:.3f}",
        ]
        if not self.walls:
            lines.append("  charged walls: none")
        else:
            debye = "not given" if self.debye_length is None else f"{self.debye_length:.4g} m"
            lines.append(
                f"  charged walls (Debye length {debye}; cells per Debye length = Debye length / "
                "largest extent normal to the wall of the cells on it):"
            )
        for w in self.walls:
            if w.max_cell_diameter is None:
                lines.append(f"    {w.group:<22} no facets")
                continue
            per_debye = (
                "" if w.cells_per_debye is None else f", {w.cells_per_debye:.2f} per Debye length"
            )
            lines.append(
                f"    {w.group:<22} {w.facets} facets, normal extent max "
                f"{w.max_normal_extent:.4g} m, cell diameter max {w.max_cell_diameter:.4g} m, "
                f"mean {w.mean_cell_diameter:.4g} m{per_debye}"
            )
        lines.append("  group measures:")
        lines += [f"    {name:<22} {value:.6g}" for name, value in self.group_measures.items()]
        return "\n".join(lines)


def _coordinates(mesh: dolfinx.mesh.Mesh, dim: int, entities: np.ndarray) -> np.ndarray:
    """Vertex coordinates of entities, shape (n, vertices per entity, gdim)."""
    gdim = mesh.geometry.dim
    dofs = dolfinx.mesh.entities_to_geometry(mesh, dim, entities)
    return mesh.geometry.x[dofs][:, :, :gdim]


def _diameters(p: np.ndarray) -> np.ndarray:
    n = p.shape[1]
    pairs = [np.linalg.norm(p[:, i] - p[:, j], axis=1) for i in range(n) for j in range(i + 1, n)]
    return np.max(pairs, axis=0)


def _simplex_measure(p: np.ndarray) -> np.ndarray:
    """Length, area or volume of segments, triangles or tetrahedra (any gdim >= dimension)."""
    edges = p[:, 1:] - p[:, :1]
    gram = np.einsum("nik,njk->nij", edges, edges)
    return np.sqrt(np.abs(np.linalg.det(gram))) / math.factorial(edges.shape[1])


def _quality(p: np.ndarray) -> np.ndarray:
    """Normalised radius ratio of triangles (gdim 2) or tetrahedra."""
    if p.shape[1] == 3:
        a = np.linalg.norm(p[:, 1] - p[:, 2], axis=1)
        b = np.linalg.norm(p[:, 2] - p[:, 0], axis=1)
        c = np.linalg.norm(p[:, 0] - p[:, 1], axis=1)
        area = _simplex_measure(p)
        return 16 * area**2 / ((a + b + c) * a * b * c)
    e1, e2, e3 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    triple = np.einsum("ni,ni->n", e1, np.cross(e2, e3))
    offset = (
        np.sum(e1 * e1, axis=1)[:, None] * np.cross(e2, e3)
        + np.sum(e2 * e2, axis=1)[:, None] * np.cross(e3, e1)
        + np.sum(e3 * e3, axis=1)[:, None] * np.cross(e1, e2)
    ) / (2 * triple[:, None])
    circumradius = np.linalg.norm(offset, axis=1)
    faces = [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]
    surface = sum(_simplex_measure(p[:, list(f)]) for f in faces)
    inradius = 3 * np.abs(triple) / 6 / surface
    return 3 * inradius / circumradius


def _revolved(p: np.ndarray, measure: np.ndarray) -> np.ndarray:
    """Pappus: 2 pi (mean radius of the vertices) x measure, exact for straight simplices."""
    return 2 * math.pi * p[:, :, 1].mean(axis=1) * measure


def _group_measures(sm: SlitMesh) -> dict[str, float]:
    mesh = sm.mesh
    tdim = mesh.topology.dim
    measures = {}
    for dim, tags, groups in (
        (tdim, sm.cell_tags, sm.cell_groups),
        (tdim - 1, sm.facet_tags, sm.facet_groups),
    ):
        owned = tags.indices < mesh.topology.index_map(dim).size_local
        p = _coordinates(mesh, dim, tags.indices[owned])
        local = _simplex_measure(p)
        if sm.coordinates == "axisymmetric":
            local = _revolved(p, local)
        values = tags.values[owned]
        for name, group_tags in groups.items():
            measures[name] = float(np.sum(local[np.isin(values, group_tags)]))
    names = list(measures)
    totals = mesh.comm.allreduce(np.array([measures[n] for n in names]), op=MPI.SUM)
    return dict(zip(names, (float(v) for v in totals), strict=True))


def _wall_resolution(sm: SlitMesh, group: str, diameters: np.ndarray, debye: float | None):
    mesh = sm.mesh
    comm = mesh.comm
    tdim = mesh.topology.dim
    facets = sm.facet_tags.find(kinds.FACET_TAGS[group])
    f_to_c = mesh.topology.connectivity(tdim - 1, tdim)
    cells = f_to_c.array[f_to_c.offsets[facets]]  # wall facets are exterior: one cell each
    normal = (
        tdim
        * _simplex_measure(_coordinates(mesh, tdim, cells))
        / _simplex_measure(_coordinates(mesh, tdim - 1, facets))
    )
    owned_cells = cells[cells < mesh.topology.index_map(tdim).size_local]
    owned_facets = int(np.sum(facets < mesh.topology.index_map(tdim - 1).size_local))
    count = comm.allreduce(owned_facets, MPI.SUM)
    if count == 0:
        return WallResolution(group, 0, None, None, None, None)
    extent = comm.allreduce(float(normal.max(initial=0.0)), MPI.MAX)
    largest = comm.allreduce(float(diameters[cells].max(initial=0.0)), MPI.MAX)
    total = comm.allreduce(float(diameters[owned_cells].sum()), MPI.SUM)
    mean = total / comm.allreduce(len(owned_cells), MPI.SUM)
    per_debye = None if debye is None else debye / extent
    return WallResolution(group, count, extent, largest, mean, per_debye)


def adequacy_report(slit_mesh: SlitMesh, spec: MeshSpec) -> MeshReport:
    """Global report (collective: call on every rank) for the charged walls named in ``spec``."""
    mesh = slit_mesh.mesh
    comm = mesh.comm
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    cell_map = mesh.topology.index_map(tdim)
    local = np.arange(cell_map.size_local + cell_map.num_ghosts, dtype=np.int32)
    p = _coordinates(mesh, tdim, local)
    diameters = _diameters(p)
    owned = slice(0, cell_map.size_local)
    quality = _quality(p[owned])
    kind = slit_mesh.geometry.kind
    walls = tuple(
        _wall_resolution(slit_mesh, group, diameters, spec.debye_length)
        for group in kinds.expand_wall_names(kind, tuple(spec.charged_walls))
    )
    return MeshReport(
        kind=kind,
        coordinates=slit_mesh.coordinates,
        num_cells=cell_map.size_global,
        num_vertices=mesh.topology.index_map(0).size_global,
        min_cell_size=comm.allreduce(float(diameters[owned].min(initial=np.inf)), MPI.MIN),
        max_cell_size=comm.allreduce(float(diameters[owned].max(initial=0.0)), MPI.MAX),
        min_quality=comm.allreduce(float(quality.min(initial=1.0)), MPI.MIN),
        mean_quality=comm.allreduce(float(quality.sum()), MPI.SUM) / cell_map.size_global,
        debye_length=spec.debye_length,
        walls=walls,
        group_measures=_group_measures(slit_mesh),
    )
