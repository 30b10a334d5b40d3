"""Gmsh models of the layouts: geometry, named physical groups, size field, mesh.

Called on one rank only, inside an initialised gmsh session with an empty current model.
Planar profiles use gmsh's built-in kernel with every point and curve placed explicitly, so each
curve's group is known by construction; the 3D slab uses OpenCASCADE boxes fragmented into a
conforming assembly, whose faces are then sorted into groups by position.
"""

from __future__ import annotations

import math

import gmsh

from ionslit.meshes import kinds
from ionslit.meshes.geometry import Geometry, MeshSpec
from ionslit.meshes.layout import Arc, PlanarLayout, SlabLayout, Vec, layout
from ionslit.meshes.sizing import size_terms

_MESH_OPTIONS = {
    "Mesh.MeshSizeExtendFromBoundary": 0,
    "Mesh.MeshSizeFromPoints": 0,
    "Mesh.MeshSizeFromCurvature": 0,
    "Mesh.Algorithm": 6,  # Frontal-Delaunay triangles
    "Mesh.Algorithm3D": 1,  # Delaunay tetrahedra (Frontal: better worst cells, much slower)
    "Mesh.ElementOrder": 1,
    "Mesh.Optimize": 1,
    "Mesh.OptimizeNetgen": 1,  # 3D: raises the worst radius ratios
    "Mesh.Binary": 1,
    "Mesh.LcIntegrationPrecision": 1e-6,  # curve node placement; gmsh's 1e-9 is much slower
}


def _tolerance(points: list[Vec]) -> float:
    extent = max(max(abs(c) for c in p) for p in points)
    return 1e-9 * extent


class _PlanarModel:
    """Adds points and curves to gmsh's built-in kernel, each once."""

    def __init__(self, tolerance: float):
        self.tolerance = tolerance
        self.points: list[tuple[Vec, int]] = []
        self.curves: dict[tuple, tuple[int, int]] = {}  # key -> (curve tag, start point tag)

    def point(self, p: Vec) -> int:
        for q, tag in self.points:
            if math.dist(p, q) <= self.tolerance:
                return tag
        tag = gmsh.model.geo.addPoint(p[0], p[1], 0.0)
        self.points.append((p, tag))
        return tag

    def curve(self, edge) -> int:
        """Signed tag of ``edge`` (negative when it runs against the stored curve)."""
        start, end = self.point(edge.start), self.point(edge.end)
        centre = self.point(edge.centre) if isinstance(edge, Arc) else None
        key = (min(start, end), max(start, end), centre)
        if key not in self.curves:
            if centre is None:
                tag = gmsh.model.geo.addLine(start, end)
            else:
                tag = gmsh.model.geo.addCircleArc(start, centre, end)
            self.curves[key] = (tag, start)
        tag, stored_start = self.curves[key]
        return tag if stored_start == start else -tag


def _build_planar(plan: PlanarLayout) -> None:
    every_point = [p for _, chain in plan.surfaces() for e in chain for p in (e.start, e.end)]
    model = _PlanarModel(_tolerance(every_point))
    facets: dict[str, set[int]] = {}
    cells: dict[str, list[int]] = {}
    for region, chain in plan.surfaces():
        loop = []
        for edge in chain:
            signed = model.curve(edge)
            loop.append(signed)
            if edge.group is not None:
                facets.setdefault(edge.group, set()).add(abs(signed))
        surface = gmsh.model.geo.addPlaneSurface([gmsh.model.geo.addCurveLoop(loop)])
        cells.setdefault(region, []).append(surface)
    gmsh.model.geo.synchronize()
    for name, surfaces in cells.items():
        gmsh.model.addPhysicalGroup(2, surfaces, tag=kinds.CELL_TAGS[name], name=name)
    for name, curves in facets.items():
        gmsh.model.addPhysicalGroup(1, sorted(curves), tag=kinds.FACET_TAGS[name], name=name)


def _classify_face(box: tuple[float, ...], interior: bool, plan: SlabLayout, tol: float) -> str:
    """Facet group of an axis-aligned face from its bounding box (xmin, ymin, zmin, xmax, ...)."""
    lo, hi = box[:3], box[3:]
    L, Lr = plan.length, plan.reservoir_length

    def at(x: float) -> bool:
        return abs(lo[0] - x) < tol and abs(hi[0] - x) < tol

    if at(0.0):
        return "mouth_left" if interior else "reservoir_wall_left"
    if at(L):
        return "mouth_right" if interior else "reservoir_wall_right"
    if at(-Lr):
        return "reservoir_left"
    if at(L + Lr):
        return "reservoir_right"
    if hi[0] < tol:
        return "reservoir_side_left"
    if lo[0] > L - tol:
        return "reservoir_side_right"
    if abs(hi[2] - lo[2]) < tol:
        return "slit_wall_top" if lo[2] > 0 else "slit_wall_bottom"
    return "slit_wall_side"


def _build_slab(plan: SlabLayout) -> None:
    occ = gmsh.model.occ
    boxes = []
    for box in plan.regions.values():
        size = [hi - lo for lo, hi in zip(box.lo, box.hi, strict=True)]
        boxes.append((3, occ.addBox(*box.lo, *size)))
    occ.fragment(boxes[:1], boxes[1:])
    occ.synchronize()
    corners = [b.lo for b in plan.regions.values()] + [b.hi for b in plan.regions.values()]
    # OpenCASCADE pads bounding boxes by ~1e-7 model units: classify with a looser tolerance.
    tol = 1e3 * _tolerance(corners) + 1e-6
    volumes = [tag for _, tag in gmsh.model.getEntities(3)]
    for name, box in plan.regions.items():
        inside = [
            v
            for v in volumes
            if box.lo[0] - tol <= gmsh.model.occ.getCenterOfMass(3, v)[0] <= box.hi[0] + tol
        ]
        gmsh.model.addPhysicalGroup(3, inside, tag=kinds.CELL_TAGS[name], name=name)
    outer = gmsh.model.getBoundary([(3, v) for v in volumes], combined=True, oriented=False)
    outer_faces = {tag for _, tag in outer}
    facets: dict[str, list[int]] = {}
    for _, face in gmsh.model.getEntities(2):
        bbox = gmsh.model.getBoundingBox(2, face)
        name = _classify_face(bbox, face not in outer_faces, plan, tol)
        facets.setdefault(name, []).append(face)
    for name, faces in facets.items():
        gmsh.model.addPhysicalGroup(2, sorted(faces), tag=kinds.FACET_TAGS[name], name=name)


def _install_size_field(terms: tuple[str, ...]) -> None:
    field = gmsh.model.mesh.field
    ids = []
    for term in terms:
        ids.append(field.add("MathEval"))
        field.setString(ids[-1], "F", term)
    minimum = field.add("Min")
    field.setNumbers(minimum, "FieldsList", ids)
    field.setAsBackgroundMesh(minimum)


def build_model(geometry: Geometry, spec: MeshSpec) -> None:
    """Create the geometry, its physical groups and its mesh in gmsh's current model
    (model units, see ``ionslit.meshes.layout``). Geometry and spec must have been validated."""
    plan = layout(geometry)
    if isinstance(plan, PlanarLayout):
        _build_planar(plan)
    else:
        _build_slab(plan)
    for name, value in _MESH_OPTIONS.items():
        gmsh.option.setNumber(name, value)
    _install_size_field(size_terms(plan, geometry.kind, spec))
    gmsh.model.mesh.generate(3 if isinstance(plan, SlabLayout) else 2)
