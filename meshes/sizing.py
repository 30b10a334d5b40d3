"""Target cell size as the minimum of a few closed-form expressions (model units, see layout).

Each term is ``s0 + (growth - 1) * d`` with ``d`` the exact distance to a shape (a charged wall,
a mouth corner or fillet, the slit region): cell sizes then grow geometrically with ratio
``growth`` away from the shape (cell n has size s0 growth^n and sits at distance
sum_k<n s0 growth^k, so size - s0 = (growth - 1) * distance). The overall size is capped by
``max_size``.

The expressions are strings in the syntax shared by gmsh's ``MathEval`` field and Python/numpy
(numbers, + - * /, parentheses, ``abs``, ``sqrt``, x, y, z), so gmsh meshes with exactly the
function that ``evaluate`` integrates for the cell-count estimate. Exact analytic distances avoid
gmsh's sampled ``Distance`` field, which cannot resolve sub-nanometre wall cells along
micrometre walls.
"""

from __future__ import annotations

import functools

import numpy as np

from ionslit.meshes import kinds
from ionslit.meshes.geometry import MeshSpec
from ionslit.meshes.layout import MODEL_SCALE, Arc, Box, Channel, PlanarLayout, Segment, SlabLayout

_AXES = ("x", "y", "z")

# MeshSpec.wall_size bounds the extent normal to a charged wall of every cell on it (what
# resolves the double layer, see report.py). Gmsh's cells there are taller than the target edge
# size of the field (more so for tetrahedra than for Frontal-Delaunay triangles), so the field
# asks for this fraction of wall_size: index 2 for triangles, 3 for tetrahedra.
WALL_SIZE_FACTOR = {2: 0.7, 3: 0.5}


def _num(value: float) -> str:
    return f"({float(value)!r})"


def _box_distance(box: Box) -> str:
    """Distance to an axis-aligned box: per axis 0.5 (|x - lo| + |x - hi| - (hi - lo))."""
    squares = []
    for axis, lo, hi in zip(_AXES, box.lo, box.hi, strict=False):
        gap = f"0.5*(abs({axis}-{_num(lo)})+abs({axis}-{_num(hi)})-{_num(hi - lo)})"
        squares.append(f"({gap})*({gap})")
    return f"sqrt({'+'.join(squares)})"


def _segment_distance(segment: Segment) -> str:
    (x0, y0), (x1, y1) = segment.start, segment.end
    if x0 == x1 or y0 == y1:
        lo = (min(x0, x1), min(y0, y1))
        hi = (max(x0, x1), max(y0, y1))
        return _box_distance(Box(lo, hi))
    dx, dy = x1 - x0, y1 - y0
    t = f"((x-{_num(x0)})*{_num(dx)}+(y-{_num(y0)})*{_num(dy)})/{_num(dx * dx + dy * dy)}"
    clamped = f"(0.5*(abs({t})-abs({t}-1)+1))"
    ex = f"(x-{_num(x0)}-{clamped}*{_num(dx)})"
    ey = f"(y-{_num(y0)}-{clamped}*{_num(dy)})"
    return f"sqrt({ex}*{ex}+{ey}*{ey})"


def _arc_distance(arc: Arc) -> str:
    """Distance to the arc's full circle: equal to the distance to the arc near it, and only
    ever smaller elsewhere (so the refinement is, if anything, a little generous)."""
    cx, cy = arc.centre
    return (
        f"abs(sqrt((x-{_num(cx)})*(x-{_num(cx)})+(y-{_num(cy)})*(y-{_num(cy)}))-{_num(arc.radius)})"
    )


def _distance(shape: Segment | Arc | Box) -> str:
    if isinstance(shape, Arc):
        return _arc_distance(shape)
    if isinstance(shape, Segment):
        return _segment_distance(shape)
    return _box_distance(shape)


def _graded(size: float, distance: str, slope: float) -> str:
    return f"{_num(size)}+{_num(slope)}*{distance}"


def _channel_term(channel: Channel, cells_across: int, slope: float) -> str:
    """Inside the channel: local opening / cells_across (the full height for a mirrored profile,
    the radius on an axis); graded outward from the channel region."""
    L, a, b = channel.length, channel.left_opening, channel.right_opening
    xc = f"(0.5*(abs(x)-abs(x-{_num(L)})+{_num(L)}))"  # x clamped to [0, L]
    opening = f"({_num(a)}+{_num((b - a) / L)}*{xc})"
    span = 1.0 if channel.on_axis else 2.0
    outside_x = f"0.5*(abs(x)+abs(x-{_num(L)})-{_num(L)})"
    outside_y = f"0.5*(abs(y)-{opening}+abs(abs(y)-{opening}))"
    distance = f"sqrt(({outside_x})*({outside_x})+({outside_y})*({outside_y}))"
    return f"{_num(span / cells_across)}*{opening}+{_num(slope)}*{distance}"


def size_terms(layout: PlanarLayout | SlabLayout, kind: str, spec: MeshSpec) -> tuple[str, ...]:
    """The expressions whose minimum is the target cell size (model units): max_size, charged
    walls (wall_size), mouths (mouth_size), the channel (opening / cells_across_slit) and boundary
    pieces too short for the cells around them (their own length)."""
    scale = MODEL_SCALE
    slope = spec.growth - 1.0
    terms = [_num(spec.max_size * scale)]
    wall_size = spec.wall_size * scale * WALL_SIZE_FACTOR[3 if kind == "slit3d" else 2]
    for group in kinds.expand_wall_names(kind, tuple(spec.charged_walls)):
        if isinstance(layout, PlanarLayout):
            shapes: tuple = layout.group_shapes(group)
        else:
            shapes = layout.walls[group]
        terms += [_graded(wall_size, _distance(s), slope) for s in shapes]
    terms += [_graded(spec.mouth_size * scale, _distance(s), slope) for s in layout.mouth_shapes]
    if isinstance(layout, PlanarLayout):
        terms.append(_channel_term(layout.channel, spec.cells_across_slit, slope))
    else:
        height = layout.channel.hi[2] - layout.channel.lo[2]
        terms.append(_graded(height / spec.cells_across_slit, _distance(layout.channel), slope))
    return tuple(terms) + _small_features(layout, tuple(terms), slope)


def _boundary_pieces(layout: PlanarLayout | SlabLayout):
    """(shape, smallest extent, midpoint) of every edge (2D) or wall face (3D), each once."""
    if isinstance(layout, SlabLayout):
        for boxes in layout.walls.values():
            for box in boxes:
                extents = [hi - lo for lo, hi in zip(box.lo, box.hi, strict=True) if hi > lo]
                yield box, min(extents), np.mean([box.lo, box.hi], axis=0)
        return
    seen = set()
    for _, chain in layout.surfaces():
        for edge in chain:
            if frozenset((edge.start, edge.end)) in seen:
                continue
            seen.add(frozenset((edge.start, edge.end)))
            ends = np.array([edge.start, edge.end])
            middle = edge.points(2)[1] if isinstance(edge, Arc) else ends.mean(axis=0)
            yield edge, float(np.linalg.norm(ends[1] - ends[0])), middle


def _small_features(layout: PlanarLayout | SlabLayout, terms: tuple[str, ...], slope: float):
    """Graded terms sized to boundary pieces shorter than the cells the other terms put there
    (a reservoir barely wider than the slit, the straight rest of a wall beside a large fillet):
    without them gmsh fills such a piece with slivers."""
    pieces = list(_boundary_pieces(layout))
    sizes = evaluate(terms, np.array([middle for _, _, middle in pieces]))
    return tuple(
        _graded(length, _distance(shape), slope)
        for (shape, length, _), size in zip(pieces, sizes, strict=True)
        if length < size
    )


@functools.lru_cache(maxsize=4096)
def _compiled(term: str):
    return compile(term, "<size term>", "eval")


def evaluate(terms: tuple[str, ...], points: np.ndarray) -> np.ndarray:
    """Target size (model units) at ``points`` (shape (n, 2) or (n, 3), model units)."""
    names: dict[str, object] = {"abs": np.abs, "sqrt": np.sqrt}
    names.update({axis: points[:, i] for i, axis in enumerate(_AXES[: points.shape[1]])})
    values = [
        np.broadcast_to(eval(_compiled(term), {"__builtins__": {}}, names), len(points))
        for term in terms
    ]
    return np.minimum.reduce(values)
