"""Every geometry kind described as plain shapes in the gmsh model's length unit (no gmsh here).

The gmsh builders, the size fields and the cell-count estimate all read this one description,
so the mesh, its refinement and the estimate cannot disagree about where a wall is.

Model unit: the builders work in nanometres (lengths in metres times ``MODEL_SCALE``), which keeps
gmsh's absolute geometric tolerances (1e-8 model units) far below every feature of a nanofluidic
device; the dolfinx mesh is scaled back to metres (divided by ``MODEL_SCALE``) after distribution.

Planar kinds (``slit``, ``slit_plane``, ``cone``) share one profile: a channel x in [0, L] whose
half-opening (half-height, half-width or radius) goes linearly from ``a`` at x = 0 to ``b`` at
x = L, between reservoirs of half-height ``H`` and length ``Lr``; mirrored about y = 0, or cut at
the axis y = 0 for the axisymmetric cone. The slit region (cell group ``slit``) ends at the
interior chords ``mouth_left`` (x = 0) and ``mouth_right`` (x = L) when the corners are sharp.

A fillet of radius R rounds each re-entrant mouth corner by removing solid: the arc runs from the
reservoir wall (x = 0 or L) to the slit wall, whose straight part it meets at x = x_l on the left
and x = L - x_r on the right. There x_l = R t cos(alpha), with t = 1 / tan(theta / 2) for the
solid wedge angle theta at the corner and alpha the slit wall's inclination to the x axis
(x_l = x_r = R for a planar slit). The arcs belong to the facet group of the adjacent reservoir
wall. With fillets the mouth chords sit at x = x_l and x = L - x_r (a chord along x = 0 would meet
the arc tangentially and pinch the cells there): the slit region is the straight channel between
the arcs, and the pockets under the arcs belong to the reservoirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ionslit.meshes.geometry import (
    ConeGeometry,
    Geometry,
    Slit3DGeometry,
    SlitGeometry,
    SlitPlaneGeometry,
)

MODEL_SCALE = 1e9  # gmsh model length units per metre (nanometres)
CHANNEL_ASPECT = 10  # longest slit surface piece / narrowest channel opening

Vec = tuple[float, ...]


@dataclass(frozen=True)
class Segment:
    """Straight edge from ``start`` to ``end`` (model units) in facet group ``group`` (None: an
    untagged interior cut between two surfaces of one region)."""

    start: Vec
    end: Vec
    group: str | None


@dataclass(frozen=True)
class Arc:
    """Circular boundary edge (less than a half circle) around ``centre`` (model units)."""

    start: Vec
    end: Vec
    centre: Vec
    group: str

    @property
    def radius(self) -> float:
        return math.dist(self.start, self.centre)

    def points(self, pieces: int) -> list[Vec]:
        """``pieces + 1`` points along the arc from start to end."""
        cx, cy = self.centre
        a0 = math.atan2(self.start[1] - cy, self.start[0] - cx)
        a1 = math.atan2(self.end[1] - cy, self.end[0] - cx)
        sweep = (a1 - a0 + math.pi) % (2 * math.pi) - math.pi  # the short way round
        r = self.radius
        return [
            (cx + r * math.cos(a0 + sweep * i / pieces), cy + r * math.sin(a0 + sweep * i / pieces))
            for i in range(pieces + 1)
        ]


Edge = Segment | Arc


@dataclass(frozen=True)
class Box:
    """Axis-aligned box [lo, hi] (model units); degenerate extents give faces, edges, points."""

    lo: Vec
    hi: Vec


@dataclass(frozen=True)
class Channel:
    """Slit region of a planar profile: 0 <= x <= length, |y| <= opening(x) (y >= 0 on an axis).

    ``opening`` is linear from ``left_opening`` (x = 0) to ``right_opening`` (x = length).
    """

    length: float
    left_opening: float
    right_opening: float
    on_axis: bool


@dataclass(frozen=True)
class PlanarLayout:
    """Regions keyed by cell group name, each made of surfaces given as closed counter-clockwise
    edge chains."""

    regions: dict[str, tuple[tuple[Edge, ...], ...]]
    mouth_shapes: tuple[Box | Arc, ...]  # re-entrant corners (points) or their fillet arcs
    channel: Channel

    def surfaces(self) -> list[tuple[str, tuple[Edge, ...]]]:
        """(region name, edge chain) of every surface."""
        return [(name, chain) for name, chains in self.regions.items() for chain in chains]

    def group_shapes(self, group: str) -> tuple[Edge, ...]:
        """The edges of a facet group as few shapes as possible: each edge once (chords are
        shared by two surfaces), touching collinear segments merged (the slit wall is cut
        into pieces along with the channel)."""
        found: list[Edge] = []
        for _, chain in self.surfaces():
            for edge in chain:
                if edge.group != group or any(_same_edge(edge, e) for e in found):
                    continue
                for i, other in enumerate(found):
                    merged = _merged(edge, other)
                    if merged is not None:
                        found[i] = merged
                        break
                else:
                    found.append(edge)
        return tuple(found)


@dataclass(frozen=True)
class SlabLayout:
    """3D kind: box regions keyed by cell group; wall faces as boxes for the size fields."""

    regions: dict[str, Box]
    walls: dict[str, tuple[Box, ...]]
    mouth_shapes: tuple[Box, ...]  # the re-entrant edges of both mouths
    channel: Box
    length: float
    reservoir_length: float


@dataclass(frozen=True)
class Fillet:
    """Arc rounding a corner: tangent points on the reservoir wall and on the slit wall."""

    reservoir_point: Vec
    slit_point: Vec
    centre: Vec


def tangent_factor(along_reservoir: Vec, along_slit: Vec) -> float:
    """Distance from the corner to the fillet's tangent points per unit fillet radius.

    Arguments are unit vectors leaving the corner along the two walls; the solid wedge between
    them has angle theta and the factor is 1 / tan(theta / 2) (1 for a right angle).
    """
    cos_theta = sum(u * v for u, v in zip(along_reservoir, along_slit, strict=True))
    theta = math.acos(max(-1.0, min(1.0, cos_theta)))
    return 1.0 / math.tan(theta / 2)


def mouth_directions(length: float, left: float, right: float) -> tuple[tuple[Vec, Vec], ...]:
    """Unit vectors (along the reservoir wall, along the slit wall) at the upper left and right
    mouth corners (0, left) and (length, right) of a planar profile."""
    slant = math.hypot(length, right - left)
    into_left = (length / slant, (right - left) / slant)
    into_right = (-length / slant, (left - right) / slant)
    return ((0.0, 1.0), into_left), ((0.0, 1.0), into_right)


def _fillet(corner: Vec, along_reservoir: Vec, along_slit: Vec, radius: float) -> Fillet:
    t = radius * tangent_factor(along_reservoir, along_slit)
    bx, by = along_reservoir[0] + along_slit[0], along_reservoir[1] + along_slit[1]
    norm = math.hypot(bx, by)
    centre_distance = math.hypot(t, radius)
    return Fillet(
        reservoir_point=(corner[0] + t * along_reservoir[0], corner[1] + t * along_reservoir[1]),
        slit_point=(corner[0] + t * along_slit[0], corner[1] + t * along_slit[1]),
        centre=(corner[0] + centre_distance * bx / norm, corner[1] + centre_distance * by / norm),
    )


def _same_edge(e1: Edge, e2: Edge) -> bool:
    same_ends = {e1.start, e1.end} == {e2.start, e2.end}
    return (
        same_ends
        and type(e1) is type(e2)
        and (not isinstance(e1, Arc) or (isinstance(e2, Arc) and e1.centre == e2.centre))
    )


def _merged(e1: Edge, e2: Edge) -> Segment | None:
    """One segment covering two collinear segments that share an end, else None."""
    if not (isinstance(e1, Segment) and isinstance(e2, Segment)):
        return None
    shared = {e1.start, e1.end} & {e2.start, e2.end}
    if len(shared) != 1:
        return None
    (joint,) = shared
    a = e1.start if e1.end == joint else e1.end
    b = e2.start if e2.end == joint else e2.end
    cross = (joint[0] - a[0]) * (b[1] - a[1]) - (joint[1] - a[1]) * (b[0] - a[0])
    if abs(cross) > 1e-12 * math.dist(a, b) ** 2:
        return None
    return Segment(a, b, e1.group)


def _mirror(p: Vec) -> Vec:
    return (p[0], -p[1])


def _chain(*edges: Edge) -> tuple[Edge, ...]:
    """Drop zero-length edges (absent fillets, reservoirs no wider than the slit)."""
    return tuple(e for e in edges if e.start != e.end)


def _channel_pieces(upper_left: Vec, upper_right: Vec, on_axis: bool, span: float):
    """The channel between the mouth chords at x = upper_left[0] and x = upper_right[0], cut into
    pieces no longer than CHANNEL_ASPECT x its narrowest ``span``, because gmsh's 2D meshers slow
    down about quadratically with the aspect ratio of a long thin surface."""
    top = "slit_wall" if on_axis else "slit_wall_top"
    count = max(1, math.ceil((upper_right[0] - upper_left[0]) / (CHANNEL_ASPECT * span)))
    uppers = [upper_left]
    for i in range(1, count):
        t = i / count
        uppers.append(tuple(u + t * (v - u) for u, v in zip(upper_left, upper_right, strict=True)))
    uppers.append(upper_right)
    lowers = [(p[0], 0.0) if on_axis else _mirror(p) for p in uppers]
    pieces = []
    for i in range(count):
        pieces.append(
            (
                Segment(lowers[i], lowers[i + 1], "axis" if on_axis else "slit_wall_bottom"),
                Segment(lowers[i + 1], uppers[i + 1], "mouth_right" if i == count - 1 else None),
                Segment(uppers[i + 1], uppers[i], top),
                Segment(uppers[i], lowers[i], "mouth_left" if i == 0 else None),
            )
        )
    return tuple(pieces)


def _planar_layout(
    L: float, a: float, b: float, H: float, Lr: float, R: float, on_axis: bool
) -> PlanarLayout:
    """Profile described in the module docstring (all arguments in model units)."""
    (left_res, left_slit), (right_res, right_slit) = mouth_directions(L, a, b)
    corners = ((0.0, a), (L, b))
    fillets = None
    if R > 0:
        fillets = (
            _fillet(corners[0], left_res, left_slit, R),
            _fillet(corners[1], right_res, right_slit, R),
        )
    # Upper ends of the reservoir walls (rl, rr) and of the mouth chords (ml, mr); they coincide
    # with the corners when there are no fillets.
    rl, ml = (fillets[0].reservoir_point, fillets[0].slit_point) if fillets else (corners[0],) * 2
    rr, mr = (fillets[1].reservoir_point, fillets[1].slit_point) if fillets else (corners[1],) * 2

    def arc(start: Vec, end: Vec, side: int, group: str, mirror: bool) -> Edge:
        if fillets is None:
            return Segment(start, start, group)  # zero length: dropped by _chain
        centre = fillets[side].centre
        return Arc(start, end, _mirror(centre) if mirror else centre, group)

    wl, wr = "reservoir_wall_left", "reservoir_wall_right"
    sl, sr = "reservoir_side_left", "reservoir_side_right"
    m = _mirror
    # Lower ends of the mouth chords: on the axis, or mirrored.
    ml_low, mr_low = ((ml[0], 0.0), (mr[0], 0.0)) if on_axis else (m(ml), m(mr))
    upper_left = (
        Segment(ml_low, ml, "mouth_left"),
        arc(ml, rl, 0, wl, False),
        Segment(rl, (0.0, H), wl),
        Segment((0.0, H), (-Lr, H), sl),
    )
    upper_right = (
        Segment((L + Lr, H), (L, H), sr),
        Segment((L, H), rr, wr),
        arc(rr, mr, 1, wr, False),
        Segment(mr, mr_low, "mouth_right"),
    )
    if on_axis:
        left = _chain(
            Segment((-Lr, 0.0), ml_low, "axis"),
            *upper_left,
            Segment((-Lr, H), (-Lr, 0.0), "reservoir_left"),
        )
        right = _chain(
            Segment(mr_low, (L + Lr, 0.0), "axis"),
            Segment((L + Lr, 0.0), (L + Lr, H), "reservoir_right"),
            *upper_right,
        )
    else:
        left = _chain(
            Segment((-Lr, -H), (0.0, -H), sl),
            Segment((0.0, -H), m(rl), wl),
            arc(m(rl), m(ml), 0, wl, True),
            *upper_left,
            Segment((-Lr, H), (-Lr, -H), "reservoir_left"),
        )
        right = _chain(
            Segment((L, -H), (L + Lr, -H), sr),
            Segment((L + Lr, -H), (L + Lr, H), "reservoir_right"),
            *upper_right,
            arc(m(mr), m(rr), 1, wr, True),
            Segment(m(rr), (L, -H), wr),
        )
    regions = {
        "reservoir_left_bulk": (left,),
        "slit": _channel_pieces(ml, mr, on_axis, min(a, b) * (1 if on_axis else 2)),
        "reservoir_right_bulk": (right,),
    }

    mouths: list[Box | Arc] = []
    for side, (corner, opening) in enumerate(zip(corners, (a, b), strict=True)):
        if opening >= H:
            continue  # the slit wall runs straight into the reservoir side: no corner
        if fillets is None:
            shape: Box | Arc = Box(corner, corner)
        else:
            f = fillets[side]
            shape = Arc(f.reservoir_point, f.slit_point, f.centre, "")
        mouths.append(shape)
        if not on_axis:
            mouths.append(_mirrored(shape))
    return PlanarLayout(regions, tuple(mouths), Channel(L, a, b, on_axis))


def _mirrored(shape: Box | Arc) -> Box | Arc:
    if isinstance(shape, Box):
        return Box(_mirror(shape.lo), _mirror(shape.hi))
    return Arc(_mirror(shape.start), _mirror(shape.end), _mirror(shape.centre), shape.group)


def _is_face(box: Box) -> bool:
    return sum(lo == hi for lo, hi in zip(box.lo, box.hi, strict=True)) == 1


def _slab_layout(g: Slit3DGeometry) -> SlabLayout:
    s = MODEL_SCALE
    L, Lr = g.length * s, g.reservoir_length * s
    w, h = g.width * s / 2, g.height * s / 2  # half width, half height
    W, H = g.reservoir_width * s / 2, g.reservoir_height * s / 2

    def frame(x: float) -> tuple[Box, ...]:
        strips = (
            Box((x, -W, h), (x, W, H)),
            Box((x, -W, -H), (x, W, -h)),
            Box((x, w, -h), (x, W, h)),
            Box((x, -W, -h), (x, -w, h)),
        )
        return tuple(b for b in strips if _is_face(b))

    def sides(x0: float, x1: float) -> tuple[Box, ...]:
        return (
            Box((x0, W, -H), (x1, W, H)),
            Box((x0, -W, -H), (x1, -W, H)),
            Box((x0, -W, H), (x1, W, H)),
            Box((x0, -W, -H), (x1, W, -H)),
        )

    walls = {
        "slit_wall_top": (Box((0.0, -w, h), (L, w, h)),),
        "slit_wall_bottom": (Box((0.0, -w, -h), (L, w, -h)),),
        "slit_wall_side": (Box((0.0, w, -h), (L, w, h)), Box((0.0, -w, -h), (L, -w, h))),
        "reservoir_wall_left": frame(0.0),
        "reservoir_wall_right": frame(L),
        "reservoir_side_left": sides(-Lr, 0.0),
        "reservoir_side_right": sides(L, L + Lr),
    }
    mouths: list[Box] = []
    for x in (0.0, L):
        if h < H:
            mouths += [Box((x, -w, h), (x, w, h)), Box((x, -w, -h), (x, w, -h))]
        if w < W:
            mouths += [Box((x, w, -h), (x, w, h)), Box((x, -w, -h), (x, -w, h))]
    channel = Box((0.0, -w, -h), (L, w, h))
    regions = {
        "reservoir_left_bulk": Box((-Lr, -W, -H), (0.0, W, H)),
        "slit": channel,
        "reservoir_right_bulk": Box((L, -W, -H), (L + Lr, W, H)),
    }
    return SlabLayout(regions, walls, tuple(mouths), channel, L, Lr)


def layout(geometry: Geometry) -> PlanarLayout | SlabLayout:
    """Shapes of a (validated) geometry in model units."""
    s = MODEL_SCALE
    g = geometry
    if isinstance(g, SlitGeometry):
        a = g.height * s / 2
        args = (g.length * s, a, a, g.reservoir_height * s / 2, g.reservoir_length * s)
        return _planar_layout(*args, g.mouth_radius * s, on_axis=False)
    if isinstance(g, SlitPlaneGeometry):
        a = g.width * s / 2
        args = (g.length * s, a, a, g.reservoir_width * s / 2, g.reservoir_length * s)
        return _planar_layout(*args, g.mouth_radius * s, on_axis=False)
    if isinstance(g, ConeGeometry):
        args = (
            g.length * s,
            g.tip_radius * s,
            g.base_radius * s,
            g.reservoir_radius * s,
            g.reservoir_length * s,
        )
        return _planar_layout(*args, g.mouth_radius * s, on_axis=True)
    return _slab_layout(g)
