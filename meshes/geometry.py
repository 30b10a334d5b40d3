"""Geometry and meshing parameters: plain, frozen dataclasses in SI units (metres).

Coordinates used by every builder: x runs along the slit (the field direction), the slit's inlet
mouth is at x = 0 and its outlet mouth at x = length; reservoirs extend to x = -reservoir_length and
x = length + reservoir_length, where the electrodes (``reservoir_left``, ``reservoir_right``) sit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SlitGeometry:
    """Planar 2D cross-section of a slit between two rectangular reservoirs (kind ``slit``).

    x along the slit, y across its height; the slit occupies [0, length] x [-height/2, height/2].
    Results are per ``depth`` of the third direction (default 1 m: "per unit depth").
    """

    length: float  # m, slit length L
    height: float  # m, slit height h
    reservoir_length: float  # m, extent of each reservoir along x
    reservoir_height: float  # m, extent of each reservoir along y (>= height)
    mouth_radius: float = 0.0  # m, fillet radius of the four re-entrant mouth corners (0: sharp)
    depth: float = 1.0  # m, out-of-plane depth the 2D results refer to
    kind: Literal["slit"] = "slit"


@dataclass(frozen=True)
class ConeGeometry:
    """Axisymmetric (z, r) conical channel between two cylindrical reservoirs (kind ``cone``).

    x is the axial coordinate z, y the radial coordinate r >= 0 (the mesh is the half-plane
    r >= 0; the line r = 0 is the ``axis`` group). The channel's radius grows linearly from
    ``tip_radius`` at x = 0 to ``base_radius`` at x = length.
    """

    length: float  # m
    tip_radius: float  # m
    base_radius: float  # m
    reservoir_length: float  # m
    reservoir_radius: float  # m (>= max(tip_radius, base_radius))
    mouth_radius: float = 0.0  # m, fillet radius of the two re-entrant mouth corners (0: sharp)
    kind: Literal["cone"] = "cone"

    @property
    def height(self) -> float:
        """The channel's narrowest width (m): the tip diameter, 2 ``tip_radius``."""
        return 2.0 * self.tip_radius


@dataclass(frozen=True)
class SlitPlaneGeometry:
    """In-plane (x, y) view of an ångström slit: the quasi-2D electrolyte between two sheets.

    The slit occupies [0, length] x [-width/2, width/2]; short reservoir strips of
    ``reservoir_length`` x ``reservoir_width`` sit at both ends. ``height`` is the sheet spacing,
    i.e. the depth of the electrolyte layer the 2D results refer to (not meshed).
    """

    length: float  # m
    width: float  # m
    height: float  # m, sheet spacing (layer depth)
    reservoir_length: float  # m
    reservoir_width: float  # m (>= width)
    mouth_radius: float = 0.0  # m, fillet radius of the four re-entrant mouth corners (0: sharp)
    kind: Literal["slit_plane"] = "slit_plane"


@dataclass(frozen=True)
class Slit3DGeometry:
    """3D slab slit [0, length] x [-width/2, width/2] x [-height/2, height/2] between box reservoirs."""

    length: float  # m
    width: float  # m
    height: float  # m
    reservoir_length: float  # m
    reservoir_width: float  # m (>= width)
    reservoir_height: float  # m (>= height)
    kind: Literal["slit3d"] = "slit3d"


Geometry = SlitGeometry | ConeGeometry | SlitPlaneGeometry | Slit3DGeometry

CoordinateSystem = Literal["planar", "axisymmetric", "3d"]


@dataclass(frozen=True)
class MeshSpec:
    """Target cell sizes (m) and where to refine.

    ``charged_walls`` names the wall groups that carry charge: they get cells of ``wall_size``
    (a fraction of the Debye length, chosen by the caller) graded geometrically with ratio
    ``growth`` up to ``max_size``. Mouth corners get ``mouth_size``; the slit gets at least
    ``cells_across_slit`` cells across its height (or tip radius).
    """

    wall_size: float  # m
    max_size: float  # m
    mouth_size: float  # m
    charged_walls: tuple[str, ...] = ()
    cells_across_slit: int = 8
    growth: float = 1.3  # ratio of neighbouring cell sizes in the graded layers
    debye_length: float | None = None  # m, only for the adequacy report
