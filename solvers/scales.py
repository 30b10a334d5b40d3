"""Nondimensionalisation and the dimensionless groups of a slit problem.

Internally every solver works with x^ = x / L0, c^ = c / c0, phi^ = phi / V_T, D^ = D / D0 and
t^ = t / t0 with t0 = L0^2 / D0. In these units

    Poisson:       -div^ grad^ phi^ = K sum_i z_i c^_i,       K = F c0 L0^2 / (eps V_T)
    Nernst-Planck: dc^_i/dt^ + div^ j^_i = R^_i,   j^_i = -D^_i (grad^ c^_i + z_i c^_i grad^ phi^)
    walls:         dphi^/dn^ = sigma L0 / (eps V_T)

(K = (L0 / lambda_D)^2 / 2 for a 1:1 electrolyte at c0.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ionslit.solvers.boundary import Boundary
from ionslit.solvers.constants import FARADAY_CONSTANT
from ionslit.solvers.electrolyte import Electrolyte, debye_length, gouy_chapman_length
from ionslit.solvers.kinetics.mass_action import MassActionReaction

DEFAULT_LENGTH_SCALE = 1e-9  # m


@dataclass(frozen=True)
class Scales:
    """Reference scales (SI): length L0 (m), concentration c0 (mol/m^3), potential V_T (V),
    diffusivity D0 (m^2/s), and the derived time t0 = L0^2 / D0 (s)."""

    length: float  # m
    concentration: float  # mol/m^3
    potential: float  # V
    diffusivity: float  # m^2/s
    permittivity: float  # F/m

    @property
    def time(self) -> float:
        """t0 = L0^2 / D0 (s)."""
        return self.length**2 / self.diffusivity

    @property
    def poisson_coefficient(self) -> float:
        """K = F c0 L0^2 / (eps V_T): the scaled charge density's coefficient in Poisson."""
        return FARADAY_CONSTANT * self.concentration * self.length**2 / (
            self.permittivity * self.potential)

    @property
    def surface_charge(self) -> float:
        """sigma0 = eps V_T / L0 (C/m^2): scale of surface charge densities."""
        return self.permittivity * self.potential / self.length

    @property
    def field(self) -> float:
        """E0 = V_T / L0 (V/m)."""
        return self.potential / self.length

    @property
    def rate(self) -> float:
        """Volumetric rate scale c0 / t0 (mol/(m^3 s))."""
        return self.concentration / self.time

    @property
    def flux(self) -> float:
        """Molar flux density scale D0 c0 / L0 (mol/(m^2 s))."""
        return self.diffusivity * self.concentration / self.length


def make_scales(electrolyte: Electrolyte, length: float | None = None,
                concentration: float | None = None) -> Scales:
    """Scales for ``electrolyte``: L0 = ``length`` (default 1 nm), c0 = ``concentration`` (default:
    the largest reservoir concentration of a charged species), V_T, D0 = the largest diffusivity."""
    if concentration is None:
        concentration = max(max(s.concentration_left, s.concentration_right)
                            for s in electrolyte.species if s.valence != 0)
    if not concentration > 0:
        raise ValueError("the concentration scale must be > 0 (give it explicitly when the "
                         "reservoirs hold no charged species)")
    diffusivity = max(s.diffusivity for s in electrolyte.species)
    return Scales(length=DEFAULT_LENGTH_SCALE if length is None else float(length),
                  concentration=float(concentration),
                  potential=electrolyte.thermal_voltage,
                  diffusivity=diffusivity,
                  permittivity=electrolyte.permittivity)


def dimensionless_groups(electrolyte: Electrolyte, boundary: Boundary | None = None,
                         height: float | None = None, length: float | None = None,
                         voltage: float | None = None,
                         reactions: tuple = ()) -> dict[str, float]:
    """The numbers that say what regime a slit is in (all dimensionless).

    - ``debye_length_over_height``: lambda_D / h (smallest lambda_D of the two reservoirs);
    - ``dukhin_<wall>``: |sigma| / (F c h) per charged wall (c: the larger reservoir's ionic
      strength), > 1 means surface conduction dominates;
    - ``gouy_chapman_length_over_height_<wall>``: l_GC / h;
    - ``voltage_over_thermal_voltage``: V / V_T;
    - ``damkohler_association_<i>`` / ``damkohler_dissociation_<i>``: k_a c L^2 / D and
      k_d0 L^2 / D for mass-action reactions (kinetics.MassActionReaction: k_a in m^3/(mol s),
      k_d0 in 1/s).
    Groups whose inputs are missing are left out.
    """
    groups: dict[str, float] = {}
    lam = debye_length(electrolyte)
    strength = max(electrolyte.ionic_strength("left"), electrolyte.ionic_strength("right"))
    if height:
        groups["debye_length_over_height"] = lam / height
    if boundary is not None and height:
        for wall, sigma in boundary.charged_walls().items():
            if strength > 0:
                groups[f"dukhin_{wall}"] = abs(sigma) / (FARADAY_CONSTANT * strength * height)
            groups[f"gouy_chapman_length_over_height_{wall}"] = (
                gouy_chapman_length(electrolyte, sigma) / height)
    if voltage is not None:
        groups["voltage_over_thermal_voltage"] = voltage / electrolyte.thermal_voltage
    if length:
        diffusivity = max(s.diffusivity for s in electrolyte.species)
        for i, reaction in enumerate(reactions):
            if isinstance(reaction, MassActionReaction):
                ka, kd = reaction.association_rate, reaction.dissociation_rate
                assert kd is not None  # MassActionReaction derives it from K_d
                groups[f"damkohler_association_{i}"] = ka * strength * length**2 / diffusivity
                groups[f"damkohler_dissociation_{i}"] = kd * length**2 / diffusivity
    return {k: float(v) for k, v in groups.items() if math.isfinite(v)}
