"""Checks that a geometry and its meshing parameters describe something buildable.

Errors name the offending dataclass field (``key``) so the command line can point at the line of
the case file; the CLI maps ``GeometryError`` (and its subclass ``MeshSpecError``) to exit code 2.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import fields

from ionslit.meshes import kinds
from ionslit.meshes.geometry import (
    ConeGeometry,
    Geometry,
    MeshSpec,
    Slit3DGeometry,
    SlitGeometry,
    SlitPlaneGeometry,
)
from ionslit.meshes.layout import mouth_directions, tangent_factor

# A reservoir wider than the mouth by less than this fraction leaves a sliver wall that no mesh
# can resolve; equal widths are fine (the slit wall then runs straight into the reservoir side).
SLIVER = 1e-6


class GeometryError(ValueError):
    """A geometry (or meshing) parameter that cannot be built.

    ``key`` is the dataclass field name, ``value`` its value, ``message`` what is wrong with it.
    """

    def __init__(self, key: str, value: object, message: str):
        super().__init__(f"{key} = {value!r}: {message}")
        self.key = key
        self.value = value
        self.message = message

    def __reduce__(self):
        return type(self), (self.key, self.value, self.message)


class MeshSpecError(GeometryError):
    """A MeshSpec field that cannot be used (``key`` is the MeshSpec field name)."""


def _positive(obj: object, key: str, error: type[GeometryError] = GeometryError) -> None:
    value = getattr(obj, key)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(key, value, "must be a number")
    if not math.isfinite(value) or value <= 0:
        raise error(key, value, "must be a finite length > 0 (m)")


def _not_narrower(g: Geometry, key: str, mouth: float, what: str) -> None:
    value = getattr(g, key)
    if value < mouth:
        raise GeometryError(key, value, f"the reservoir is narrower than the slit mouth ({what})")
    if 0 < value - mouth < SLIVER * mouth:
        raise GeometryError(
            key,
            value,
            f"exceeds the slit mouth ({what}) by a sliver; make them equal or "
            f"differ by more than {SLIVER:g} relative",
        )


def _check_mouth_radius(g: SlitGeometry | SlitPlaneGeometry | ConeGeometry, a: float, b: float,
                        room: float) -> None:
    """Fillets at the corners (0, a) and (L, b) must fit on the reservoir walls (up to the
    reservoir's half-height or radius ``room``) and together on the slit wall."""
    R = g.mouth_radius
    if isinstance(R, bool) or not isinstance(R, numbers.Real) or not math.isfinite(R) or R < 0:
        raise GeometryError("mouth_radius", R, "must be a finite length >= 0 (m; 0: sharp)")
    if R == 0:
        return
    (left_res, left_slit), (right_res, right_slit) = mouth_directions(g.length, a, b)
    f_left = tangent_factor(left_res, left_slit)
    f_right = tangent_factor(right_res, right_slit)
    limit = min(
        (room - a) / f_left,
        (room - b) / f_right,
        math.hypot(g.length, b - a) / (f_left + f_right),
    )
    if R >= limit:
        raise GeometryError(
            "mouth_radius",
            R,
            f"too large for the geometry: the fillets must fit on the reservoir walls beside the "
            f"mouths and on the slit wall; use mouth_radius < {limit:.6g} m",
        )


def validate_geometry(geometry: Geometry) -> None:
    """Raise GeometryError for a geometry that cannot be built; return None if it can."""
    g = geometry
    if not isinstance(g, SlitGeometry | ConeGeometry | SlitPlaneGeometry | Slit3DGeometry):
        raise GeometryError("kind", getattr(g, "kind", type(g).__name__), "unknown geometry")
    expected = type(g).__dataclass_fields__["kind"].default
    if g.kind != expected:
        raise GeometryError("kind", g.kind, f"a {type(g).__name__} has kind {expected!r}")
    for f in fields(g):
        if f.name not in ("kind", "mouth_radius"):
            _positive(g, f.name)
    if isinstance(g, SlitGeometry):
        _not_narrower(g, "reservoir_height", g.height, "height")
        _check_mouth_radius(g, g.height / 2, g.height / 2, g.reservoir_height / 2)
    elif isinstance(g, SlitPlaneGeometry):
        _not_narrower(g, "reservoir_width", g.width, "width")
        _check_mouth_radius(g, g.width / 2, g.width / 2, g.reservoir_width / 2)
    elif isinstance(g, ConeGeometry):
        _not_narrower(g, "reservoir_radius", max(g.tip_radius, g.base_radius), "largest radius")
        _check_mouth_radius(g, g.tip_radius, g.base_radius, g.reservoir_radius)
    else:
        _not_narrower(g, "reservoir_width", g.width, "width")
        _not_narrower(g, "reservoir_height", g.height, "height")


def validate_mesh_spec(spec: MeshSpec, geometry: Geometry) -> None:
    """Raise MeshSpecError for unusable meshing parameters (sizes in m, names of the kind)."""
    for key in ("wall_size", "max_size", "mouth_size"):
        _positive(spec, key, MeshSpecError)
    for key in ("wall_size", "mouth_size"):
        if getattr(spec, key) > spec.max_size:
            raise MeshSpecError(key, getattr(spec, key), f"exceeds max_size = {spec.max_size!r}")
    growth = spec.growth
    if isinstance(growth, bool) or not isinstance(growth, numbers.Real) or not 1 < growth < 10:
        raise MeshSpecError("growth", growth, "must be a ratio of neighbouring sizes in (1, 10)")
    n = spec.cells_across_slit
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise MeshSpecError("cells_across_slit", n, "must be an integer >= 1")
    if spec.debye_length is not None:
        _positive(spec, "debye_length", MeshSpecError)
    if isinstance(spec.charged_walls, str):
        raise MeshSpecError("charged_walls", spec.charged_walls, "must be a tuple of group names")
    try:
        kinds.expand_wall_names(geometry.kind, tuple(spec.charged_walls))
    except KeyError as unknown:
        allowed = ", ".join((*kinds.wall_groups(geometry.kind), kinds.WALL_UNION))
        raise MeshSpecError(
            "charged_walls",
            unknown.args[0],
            f"is not a wall of a '{geometry.kind}' geometry (walls: {allowed})",
        ) from None
