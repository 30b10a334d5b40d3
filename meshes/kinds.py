"""What each geometry kind offers the solvers: group names and tags, coordinates, scales.

Tags are fixed per name (the same number in every kind and every mesh), so a tag seen in an
output file always means the same region or boundary. Each cell and each tagged facet carries
exactly one of the atomic tags below; the union names ``fluid`` and ``walls`` cover several.
"""

from __future__ import annotations

from ionslit.meshes.geometry import (
    ConeGeometry,
    CoordinateSystem,
    Geometry,
    Slit3DGeometry,
    SlitGeometry,
    SlitPlaneGeometry,
)

CELL_TAGS: dict[str, int] = {"slit": 1, "reservoir_left_bulk": 2, "reservoir_right_bulk": 3}

FACET_TAGS: dict[str, int] = {
    "reservoir_left": 1,  # electrode end x = -reservoir_length
    "reservoir_right": 2,  # electrode end x = length + reservoir_length
    "slit_wall_top": 3,
    "slit_wall_bottom": 4,
    "slit_wall_side": 5,  # slit3d: y = +-width/2
    "slit_wall": 6,  # cone: the conical lateral surface
    "reservoir_wall_left": 7,  # x = 0 beside the mouth (and the left fillet arcs)
    "reservoir_wall_right": 8,  # x = length beside the mouth (and the right fillet arcs)
    "reservoir_side_left": 9,  # remaining outer faces of the left reservoir
    "reservoir_side_right": 10,
    "axis": 11,  # cone: r = 0, symmetry line, not a wall
    "mouth_left": 12,  # interior facets between the left reservoir and the slit (use dS)
    "mouth_right": 13,
}

_RESERVOIR_WALLS = (
    "reservoir_wall_left",
    "reservoir_wall_right",
    "reservoir_side_left",
    "reservoir_side_right",
)
_SLIT_WALLS: dict[str, tuple[str, ...]] = {
    "slit": ("slit_wall_top", "slit_wall_bottom"),
    "slit_plane": ("slit_wall_top", "slit_wall_bottom"),
    "cone": ("slit_wall",),
    "slit3d": ("slit_wall_top", "slit_wall_bottom", "slit_wall_side"),
}
_OTHER_FACETS: dict[str, tuple[str, ...]] = {
    "slit": (),
    "slit_plane": (),
    "cone": ("axis",),
    "slit3d": (),
}
_ELECTRODES = ("reservoir_left", "reservoir_right")
_MOUTHS = ("mouth_left", "mouth_right")  # interior facets (slit cross-sections)

CELL_UNION = "fluid"
WALL_UNION = "walls"


def wall_groups(kind: str) -> tuple[str, ...]:
    """Atomic no-flux wall groups of a kind (the members of ``walls``)."""
    return _SLIT_WALLS[kind] + _RESERVOIR_WALLS


def boundary_group_names(kind: str) -> tuple[str, ...]:
    """Atomic groups of boundary facets (walls, axis, electrodes): the ones ``ds`` integrates."""
    return wall_groups(kind) + _OTHER_FACETS[kind] + _ELECTRODES


def facet_group_names(kind: str) -> tuple[str, ...]:
    """All atomic facet groups of a kind: the boundary groups and the interior mouth chords."""
    return boundary_group_names(kind) + _MOUTHS


def cell_groups() -> dict[str, tuple[int, ...]]:
    """Cell group name -> tags, with the union ``fluid`` (the same for every kind)."""
    groups: dict[str, tuple[int, ...]] = {name: (tag,) for name, tag in CELL_TAGS.items()}
    groups[CELL_UNION] = tuple(CELL_TAGS.values())
    return groups


def facet_groups(kind: str) -> dict[str, tuple[int, ...]]:
    """Facet group name -> tags, with the union ``walls`` of every no-flux wall."""
    groups: dict[str, tuple[int, ...]] = {name: (FACET_TAGS[name],)
                                          for name in facet_group_names(kind)}
    groups[WALL_UNION] = tuple(FACET_TAGS[name] for name in wall_groups(kind))
    return groups


def expand_wall_names(kind: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """Atomic wall groups named by ``names`` (``walls`` expands to all), sorted, no repeats.

    Raises KeyError naming the first unknown or non-wall name.
    """
    atomic: set[str] = set()
    for name in names:
        if name == WALL_UNION:
            atomic.update(wall_groups(kind))
        elif name in wall_groups(kind):
            atomic.add(name)
        else:
            raise KeyError(name)
    return tuple(sorted(atomic))


def coordinates(geometry: Geometry) -> CoordinateSystem:
    """Coordinate system of the mesh built for ``geometry``."""
    if isinstance(geometry, ConeGeometry):
        return "axisymmetric"
    if isinstance(geometry, Slit3DGeometry):
        return "3d"
    return "planar"


def depth(geometry: Geometry) -> float:
    """Out-of-plane extent (m) planar results refer to; 1 where it does not apply."""
    if isinstance(geometry, SlitGeometry):
        return geometry.depth
    if isinstance(geometry, SlitPlaneGeometry):
        return geometry.height
    return 1.0


def characteristic_lengths(geometry: Geometry) -> dict[str, float]:
    """Named geometric scales (m); always has ``length`` and ``height``."""
    g = geometry
    if isinstance(g, SlitGeometry):
        return {
            "length": g.length,
            "height": g.height,
            "reservoir_length": g.reservoir_length,
            "reservoir_height": g.reservoir_height,
            "mouth_radius": g.mouth_radius,
            "depth": g.depth,
        }
    if isinstance(g, ConeGeometry):
        return {
            "length": g.length,
            "height": 2.0 * g.tip_radius,
            "tip_radius": g.tip_radius,
            "base_radius": g.base_radius,
            "reservoir_length": g.reservoir_length,
            "reservoir_radius": g.reservoir_radius,
            "mouth_radius": g.mouth_radius,
        }
    if isinstance(g, SlitPlaneGeometry):
        return {
            "length": g.length,
            "width": g.width,
            "height": g.height,
            "reservoir_length": g.reservoir_length,
            "reservoir_width": g.reservoir_width,
            "mouth_radius": g.mouth_radius,
        }
    return {
        "length": g.length,
        "width": g.width,
        "height": g.height,
        "reservoir_length": g.reservoir_length,
        "reservoir_width": g.reservoir_width,
        "reservoir_height": g.reservoir_height,
    }
