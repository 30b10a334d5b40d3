"""Boundary conditions, by physical-group name (SI units).

Electrodes sit at the far ends of the reservoirs: every mobile species is held at its bulk
concentration there, the potential at V(t) on the ``left`` (driven) electrode and 0 on the
``right`` (grounded) one. Walls not listed are impermeable and uncharged. A listed wall carries
either a surface charge density (natural condition eps dphi/dn = sigma, n the outward normal of
the electrolyte, so a negative sigma gives a negative wall potential) or a fixed surface
potential (Dirichlet on phi, relative to the grounded electrode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class SurfaceCharge:
    """Wall with a fixed surface charge density ``density`` (C/m^2)."""

    density: float  # C/m^2


@dataclass(frozen=True)
class SurfacePotential:
    """Wall held at a fixed potential ``potential`` (V) relative to the grounded electrode."""

    potential: float  # V


WallCondition = SurfaceCharge | SurfacePotential


@dataclass(frozen=True)
class Boundary:
    """Which groups are electrodes, and the condition on each charged wall.

    ``left`` is the driven electrode (potential V(t)); None means there is none (e.g. a single
    charged wall facing bulk electrolyte): then only ``right`` is an electrode, at 0 V.
    """

    left: str | None = "reservoir_left"
    right: str = "reservoir_right"
    walls: Mapping[str, WallCondition] = field(default_factory=dict)

    def __post_init__(self):
        walls = dict(self.walls)
        for name, condition in walls.items():
            if not isinstance(condition, SurfaceCharge | SurfacePotential):
                raise TypeError(f"wall {name!r}: expected SurfaceCharge or SurfacePotential, "
                                f"got {condition!r}")
            if name in (self.left, self.right):
                raise ValueError(f"group {name!r} cannot be both an electrode and a wall")
        if self.left is not None and self.left == self.right:
            raise ValueError("left and right electrodes must be different groups")
        object.__setattr__(self, "walls", MappingProxyType(walls))

    def charged_walls(self) -> dict[str, float]:
        """Wall name -> surface charge density (C/m^2) for walls with SurfaceCharge."""
        return {k: v.density for k, v in self.walls.items() if isinstance(v, SurfaceCharge)}

    def potential_walls(self) -> dict[str, float]:
        """Wall name -> potential (V) for walls with SurfacePotential."""
        return {k: v.potential for k, v in self.walls.items() if isinstance(v, SurfacePotential)}
