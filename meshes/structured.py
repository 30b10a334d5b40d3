"""Structured, graded SlitMesh builders (no gmsh): for verification tests and benchmarks.

Tensor-product node distributions with geometric grading give strongly anisotropic cells where
the solution is layered (thin cells across a double layer, long ones along it), which keeps
verification meshes small. Group names and tag numbers are those of ``ionslit.meshes.kinds`` (the gmsh
builders'): cells ``slit``, ``reservoir_left_bulk``, ``reservoir_right_bulk`` (union ``fluid``);
facets ``reservoir_left`` / ``reservoir_right`` (the electrodes at the far ends),
``slit_wall_top``, ``slit_wall_bottom``, ``reservoir_wall_left/right`` (x = 0 / L beside the
mouths), ``reservoir_side_left/right`` (the other reservoir faces), union ``walls``; ``axis``
for axisymmetric channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import basix.ufl
import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from ionslit.meshes.geometry import CoordinateSystem, SlitGeometry
from ionslit.meshes.kinds import CELL_TAGS, FACET_TAGS
from ionslit.meshes.slit_mesh import SlitMesh


def graded_sizes(length: float, first: float, largest: float, growth: float) -> np.ndarray:
    """Cell sizes growing geometrically from ``first`` by ``growth`` up to ``largest``, then
    constant, scaled to add up to ``length`` exactly (all m)."""
    if first >= length:
        return np.array([length])
    steps, total = [], 0.0
    h = first
    while total + h < length:
        steps.append(h)
        total += h
        h = min(h * growth, largest)
    sizes = np.array(steps)
    remainder = length - total
    if remainder < 0.5 * sizes[-1]:
        sizes[-1] += remainder
    else:
        sizes = np.append(sizes, remainder)
    # Smooth the last cells: spread the length so the biggest cell is not out of line.
    return sizes * (length / sizes.sum())


def graded_nodes(start: float, end: float, first: float, largest: float, growth: float,
                 fine_at: str = "start") -> np.ndarray:
    """Node coordinates from ``start`` to ``end`` with the finest cell (``first``) at 'start',
    'end' or 'both' ends, growing by ``growth`` up to ``largest``."""
    length = end - start
    if fine_at == "both":
        half = graded_sizes(0.5 * length, first, largest, growth)
        sizes = np.concatenate([half, half[::-1]])
    else:
        sizes = graded_sizes(length, first, largest, growth)
        if fine_at == "end":
            sizes = sizes[::-1]
    nodes = start + np.concatenate([[0.0], np.cumsum(sizes)])
    nodes[-1] = end
    return nodes


def _join(*segments: np.ndarray) -> np.ndarray:
    out = [segments[0]]
    for seg in segments[1:]:
        out.append(seg[1:])
    return np.concatenate(out)


def _mesh_from_grid(comm, x_nodes, y_nodes, keep_cell) -> dolfinx.mesh.Mesh:
    """Triangles on the tensor grid, keeping the grid rectangles whose centre satisfies
    ``keep_cell(xc, yc)``; built on rank 0 and distributed."""
    element = basix.ufl.element("Lagrange", "triangle", 1, shape=(2,))
    if comm.rank == 0:
        nx, ny = len(x_nodes), len(y_nodes)
        X, Y = np.meshgrid(x_nodes, y_nodes, indexing="ij")
        points = np.column_stack([X.ravel(), Y.ravel()])
        xc = 0.5 * (x_nodes[:-1] + x_nodes[1:])
        yc = 0.5 * (y_nodes[:-1] + y_nodes[1:])
        ix, iy = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1), indexing="ij")
        keep = keep_cell(xc[ix], yc[iy])
        ix, iy = ix[keep], iy[keep]
        v00, v10 = ix * ny + iy, (ix + 1) * ny + iy
        v01, v11 = ix * ny + iy + 1, (ix + 1) * ny + iy + 1
        # One diagonal direction everywhere: every node has the same 6-triangle patch, so a
        # layered solution (varying across the slit only) stays exactly translation invariant
        # along it (alternating "union jack" diagonals make an odd-even error pattern with
        # long, thin cells).
        t1 = np.column_stack([v00, v10, v11])
        t2 = np.column_stack([v00, v11, v01])
        cells = np.vstack([t1, t2])
        used, cells = np.unique(cells, return_inverse=True)
        cells = cells.reshape(-1, 3).astype(np.int64)
        points = points[used]
    else:
        cells = np.empty((0, 3), dtype=np.int64)
        points = np.empty((0, 2))
    return dolfinx.mesh.create_mesh(comm, cells, ufl.Mesh(element), points)


def _tags(mesh, dim, markers: Sequence[tuple[int, Callable[[np.ndarray], np.ndarray]]], boundary: bool):
    """MeshTags of dimension ``dim``: each entity gets the first marker value it satisfies."""
    mesh.topology.create_entities(dim)
    if boundary:
        mesh.topology.create_connectivity(dim, mesh.topology.dim)
    found_per_marker, values_per_marker, seen = [], [], np.array([], dtype=np.int32)
    for value, marker in markers:
        found = (dolfinx.mesh.locate_entities_boundary(mesh, dim, marker) if boundary
                 else dolfinx.mesh.locate_entities(mesh, dim, marker))
        found = np.setdiff1d(found, seen)
        seen = np.union1d(seen, found)
        found_per_marker.append(found)
        values_per_marker.append(np.full(len(found), value, dtype=np.int32))
    indices = np.concatenate(found_per_marker).astype(np.int32)
    values = np.concatenate(values_per_marker)
    order = np.argsort(indices)
    return dolfinx.mesh.meshtags(mesh, dim, indices[order], values[order])


def slit_with_reservoirs(comm: MPI.Comm, length: float, height: float, reservoir_length: float,
                         reservoir_height: float, wall_size: float, mouth_size: float,
                         max_size: float, growth: float = 1.2, slit_max_size: float | None = None,
                         depth: float = 1.0) -> SlitMesh:
    """Planar slit [0, L] x [-h/2, h/2] between reservoirs [-Lr, 0] and [L, L + Lr] of height H.

    Cells across the slit are ``wall_size`` at both walls, growing by ``growth`` (up to
    ``slit_max_size``, default h/8); along x ``mouth_size`` at both mouths, growing up to
    ``max_size`` (also in the reservoirs). Electrodes at x = -Lr and x = L + Lr.
    """
    h2, H2 = 0.5 * height, 0.5 * reservoir_height
    slit_max = slit_max_size or height / 8
    x_nodes = _join(graded_nodes(-reservoir_length, 0.0, mouth_size, max_size, growth, "end"),
                    graded_nodes(0.0, length, mouth_size, max_size, growth, "both"),
                    graded_nodes(length, length + reservoir_length, mouth_size, max_size,
                                 growth, "start"))
    y_slit = graded_nodes(-h2, h2, wall_size, slit_max, growth, "both")
    if reservoir_height > height * (1 + 1e-12):
        y_top = graded_nodes(h2, H2, wall_size, max_size, growth, "start")
        y_nodes = _join(-y_top[::-1], y_slit, y_top)
    else:
        y_nodes = y_slit
    eps = 1e-9 * height

    def fluid(xc, yc):
        return (xc < 0) | (xc > length) | (np.abs(yc) < h2)

    mesh = _mesh_from_grid(comm, x_nodes, y_nodes, fluid)
    tol = 1e-9 * min(height, length)
    C, F = CELL_TAGS, FACET_TAGS
    cell_tags = _tags(mesh, 2, [
        (C["slit"], lambda x: (x[0] > -tol) & (x[0] < length + tol)),
        (C["reservoir_left_bulk"], lambda x: x[0] <= tol),
        (C["reservoir_right_bulk"], lambda x: x[0] >= length - tol)], boundary=False)
    in_slit = lambda x: (x[0] > -tol) & (x[0] < length + tol)  # noqa: E731
    facet_tags = _tags(mesh, 1, [
        (F["reservoir_left"], lambda x: np.isclose(x[0], -reservoir_length, atol=tol, rtol=0)),
        (F["reservoir_right"], lambda x: np.isclose(x[0], length + reservoir_length, atol=tol,
                                                    rtol=0)),
        (F["slit_wall_top"], lambda x: np.isclose(x[1], h2, atol=eps, rtol=0) & in_slit(x)),
        (F["slit_wall_bottom"], lambda x: np.isclose(x[1], -h2, atol=eps, rtol=0) & in_slit(x)),
        (F["reservoir_wall_left"], lambda x: np.isclose(x[0], 0.0, atol=tol, rtol=0)),
        (F["reservoir_wall_right"], lambda x: np.isclose(x[0], length, atol=tol, rtol=0)),
        (F["reservoir_side_left"], lambda x: x[0] < 0.5 * length),
        (F["reservoir_side_right"], lambda x: np.full(x.shape[1], True))], boundary=True)
    geometry = SlitGeometry(length=length, height=height, reservoir_length=reservoir_length,
                            reservoir_height=reservoir_height, depth=depth)
    walls = ("slit_wall_top", "slit_wall_bottom", "reservoir_wall_left", "reservoir_wall_right",
             "reservoir_side_left", "reservoir_side_right")
    facet_groups: dict[str, tuple[int, ...]] = {
        name: (F[name],) for name in ("reservoir_left", "reservoir_right") + walls}
    facet_groups["walls"] = tuple(F[name] for name in walls)
    cell_groups: dict[str, tuple[int, ...]] = {name: (C[name],) for name in C}
    cell_groups["fluid"] = tuple(C.values())
    return SlitMesh(
        mesh=mesh, cell_tags=cell_tags, facet_tags=facet_tags, cell_groups=cell_groups,
        facet_groups=facet_groups, coordinates="planar", geometry=geometry, depth=depth,
        characteristic_lengths={"length": length, "height": height,
                                "reservoir_length": reservoir_length,
                                "reservoir_height": reservoir_height, "depth": depth})


def interval(comm: MPI.Comm, nodes: np.ndarray, left_group: str = "reservoir_left",
             right_group: str = "reservoir_right", area: float = 1.0) -> SlitMesh:
    """1D mesh with the given node coordinates (m, increasing); facet groups ``left_group`` at
    the first node and ``right_group`` at the last; cell groups ``fluid`` and ``slit`` (all).
    Integrals refer to a cross-section ``area`` (m^2, stored as depth)."""
    nodes = np.asarray(nodes, dtype=float)
    element = basix.ufl.element("Lagrange", "interval", 1, shape=(1,))
    if comm.rank == 0:
        cells = np.column_stack([np.arange(len(nodes) - 1), np.arange(1, len(nodes))])
        points = nodes.reshape(-1, 1)
    else:
        cells, points = np.empty((0, 2), dtype=np.int64), np.empty((0, 1))
    mesh = dolfinx.mesh.create_mesh(comm, cells.astype(np.int64), ufl.Mesh(element), points)
    x0, x1 = nodes[0], nodes[-1]
    tol = 1e-9 * (x1 - x0)
    slit = CELL_TAGS["slit"]
    cell_tags = _tags(mesh, 1, [(slit, lambda x: np.full(x.shape[1], True))], boundary=False)
    facet_tags = _tags(mesh, 0, [(1, lambda x: np.isclose(x[0], x0, atol=tol, rtol=0)),
                                 (2, lambda x: np.isclose(x[0], x1, atol=tol, rtol=0))],
                       boundary=True)
    geometry = SlitGeometry(length=x1 - x0, height=0.0, reservoir_length=0.0,
                            reservoir_height=0.0, depth=area)
    return SlitMesh(mesh=mesh, cell_tags=cell_tags, facet_tags=facet_tags,
                    cell_groups={"fluid": (slit,), "slit": (slit,)},
                    facet_groups={left_group: (1,), right_group: (2,)},
                    coordinates="planar", geometry=geometry, depth=area,
                    characteristic_lengths={"length": x1 - x0})


def channel(comm: MPI.Comm, length: float, height: float, n: Sequence[int],
            coordinates: CoordinateSystem = "planar", width: float | None = None, depth: float = 1.0,
            y_nodes: np.ndarray | None = None) -> SlitMesh:
    """A straight channel that is all slit: [0, L] x [-h/2, h/2] (planar), [0, L] x [0, R=h]
    (axisymmetric, y the radius) or [0, L] x [-w/2, w/2] x [-h/2, h/2] (3d); ``n`` cells per
    direction (``y_nodes`` overrides the y distribution in 2D). Electrodes ``reservoir_left``
    (x = 0) and ``reservoir_right`` (x = L); walls ``slit_wall_top``/``slit_wall_bottom``
    (y = max/min; for axisymmetric meshes the bottom is the ``axis``), ``slit_wall_side`` (the
    other faces in 3D), ``walls`` (all walls)."""
    y0, y1 = (0.0, height) if coordinates == "axisymmetric" else (-height / 2, height / 2)
    if coordinates == "3d":
        w = width if width is not None else height
        mesh = dolfinx.mesh.create_box(comm, [[0.0, -w / 2, y0], [length, w / 2, y1]], list(n),
                                       dolfinx.mesh.CellType.tetrahedron)
        top = lambda x: np.isclose(x[2], y1)  # noqa: E731
        bottom = lambda x: np.isclose(x[2], y0)  # noqa: E731
    else:
        if y_nodes is not None:
            x_nodes = np.linspace(0.0, length, n[0] + 1)
            mesh = _mesh_from_grid(comm, x_nodes, np.asarray(y_nodes, dtype=float),
                                   lambda xc, yc: np.full(xc.shape, True))
        else:
            mesh = dolfinx.mesh.create_rectangle(comm, [[0.0, y0], [length, y1]], list(n))
        top = lambda x: np.isclose(x[1], y1, atol=1e-12 * height)  # noqa: E731
        bottom = lambda x: np.isclose(x[1], y0, atol=1e-12 * height)  # noqa: E731
    tdim = mesh.topology.dim
    tol = 1e-9 * length
    F = FACET_TAGS
    bottom_name = "axis" if coordinates == "axisymmetric" else "slit_wall_bottom"
    slit = CELL_TAGS["slit"]
    cell_tags = _tags(mesh, tdim, [(slit, lambda x: np.full(x.shape[1], True))],
                      boundary=False)
    facet_tags = _tags(mesh, tdim - 1, [
        (F["reservoir_left"], lambda x: np.isclose(x[0], 0.0, atol=tol, rtol=0)),
        (F["reservoir_right"], lambda x: np.isclose(x[0], length, atol=tol, rtol=0)),
        (F["slit_wall_top"], top), (F[bottom_name], bottom),
        (F["slit_wall_side"], lambda x: np.full(x.shape[1], True))], boundary=True)
    walls = (F["slit_wall_top"], F["slit_wall_side"]) + (
        () if coordinates == "axisymmetric" else (F["slit_wall_bottom"],))
    geometry = SlitGeometry(length=length, height=height, reservoir_length=0.0,
                            reservoir_height=height, depth=depth)
    return SlitMesh(mesh=mesh, cell_tags=cell_tags, facet_tags=facet_tags,
                    cell_groups={"fluid": (slit,), "slit": (slit,)},
                    facet_groups={"reservoir_left": (F["reservoir_left"],),
                                  "reservoir_right": (F["reservoir_right"],),
                                  "slit_wall_top": (F["slit_wall_top"],),
                                  bottom_name: (F[bottom_name],),
                                  "slit_wall_side": (F["slit_wall_side"],), "walls": walls},
                    coordinates=coordinates, geometry=geometry, depth=depth,
                    characteristic_lengths={"length": length, "height": height})
