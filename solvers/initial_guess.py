"""The continuation targets of a PNPModel and its cold-start state (the initial guess of its first
steady solve).

Targets (``continuation_targets``) are the scaled parameter values steady solves ramp to, from the
electrolyte's reservoir concentrations and the boundary's wall data.

Scaled unknowns (model.py): phi_h = 0 and each species' unknown u_i interpolated between its two
reservoir values along the harmonic ramp (1 on the driven electrode, 0 on the grounded one).
Immobile reacting species start at their zero-field steady state for each reservoir's composition
(ionslit.solvers.kinetics.equilibrium.steady_guess); species restricted to a region start at the
electroneutral zero-field equilibrium of that region with each reservoir
(ionslit.solvers.kinetics.regions.region_equilibrium) and at the floor outside it. Without a
driven electrode both ends take the right (grounded) reservoir's values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ionslit.solvers.boundary import Boundary
from ionslit.solvers.electrolyte import Electrolyte, Side, region_names
from ionslit.solvers.formulations import Formulation
from ionslit.solvers.kinetics.equilibrium import steady_guess
from ionslit.solvers.kinetics.mass_action import MassActionReaction
from ionslit.solvers.kinetics.regions import LOG_FLOOR, RegionMap, region_equilibrium
from ionslit.solvers.reactions import Reaction, reacting_species
from ionslit.solvers.scales import Scales


def continuation_targets(electrolyte: Electrolyte, boundary: Boundary, scales: Scales,
                         formulation: Formulation) -> dict:
    """Scaled continuation targets from the electrolyte and boundary data: keys ("V",) (applied
    voltage, 0), ("sigma", wall), ("zeta", wall) and ("u", species, side) (reservoir unknowns of
    the species that are in the reservoirs). ValueError for a non-positive reservoir
    concentration under the log formulation."""
    sc = scales
    targets: dict = {("V",): 0.0}
    for wall, sigma in boundary.charged_walls().items():
        targets[("sigma", wall)] = sigma / sc.surface_charge
    for wall, zeta in boundary.potential_walls().items():
        targets[("zeta", wall)] = zeta / sc.potential
    for s in electrolyte.species:
        if not s.in_reservoirs:
            continue  # region species: no reservoir values (kinetics.regions)
        for side in ("left", "right"):
            c = s.concentration(side) / sc.concentration
            if formulation.name == "log" and c <= 0:
                raise ValueError(
                    f"species {s.name}: the log formulation needs a positive {side} "
                    "reservoir concentration (give a tiny value, e.g. 1e-12 mol/m^3, or use "
                    "formulation = 'primitive')")
            targets[("u", s.name, side)] = formulation.unknown(c)
    return targets


class InitialGuess:
    """Fills the mixed space's local dof values with the cold-start state (module docstring).

    ``field_dofs``: per field (phi_h, u_1, ..., u_n), the mixed space's local dofs of the
    collapsed P1 dofs; ``ramp``: nodal values of the harmonic ramp on those P1 dofs;
    ``driven``: whether the model has a driven (left) electrode; ``region_floor``: the unknown of
    a region species outside its region; ``region_map`` None without region species.
    """

    def __init__(self, electrolyte: Electrolyte, formulation: Formulation, scales: Scales,
                 field_dofs: Sequence[np.ndarray], ramp: np.ndarray, driven: bool,
                 region_map: RegionMap | None, scalar_space, region_floor: float):
        self.electrolyte = electrolyte
        self.formulation = formulation
        self.scales = scales
        self.field_dofs = field_dofs
        self.ramp = ramp
        self.sides: tuple[Side, Side] = ("left", "right") if driven else ("right", "right")
        self.region_map = region_map
        self.scalar_space = scalar_space
        self.region_floor = region_floor

    def fill(self, values: np.ndarray, targets: Mapping, reactions: Sequence[Reaction]) -> None:
        """Overwrite ``values`` (local dofs of the mixed space) with the cold-start state;
        ``targets`` are the model's scaled continuation targets (reservoir unknowns under the
        keys ("u", name, side))."""
        values[:] = 0.0
        for k, s in enumerate(self.electrolyte.species, start=1):
            if ("u", s.name, "left") not in targets:
                continue  # region species: filled by the region equilibrium
            u_left, u_right = (targets[("u", s.name, side)] for side in self.sides)
            values[self.field_dofs[k]] = self.ramp * u_left + (1 - self.ramp) * u_right
        self._immobile_steady_guess(values, reactions)
        self._region_guess(values, reactions)

    def _immobile_steady_guess(self, values: np.ndarray, reactions: Sequence[Reaction]) -> None:
        """Immobile reacting species at their zero-field steady state for each reservoir's
        composition (mobile species fixed, conserved amounts kept), along the ramp."""
        species = self.electrolyte.species
        everywhere = [r for r in reactions if r.region is None]
        reacting = reacting_species(everywhere)
        immobile = [k for k, s in enumerate(species, start=1)
                    if not s.is_mobile and s.name in reacting]
        if not immobile:
            return
        mobile = [s.name for s in species if s.is_mobile]
        found = [steady_guess({s.name: s.concentration(side) for s in species
                               if s.in_reservoirs}, mobile, everywhere)
                 for side in self.sides]
        guesses = [g for g in found if g is not None]
        if len(guesses) < len(found):
            return
        for k in immobile:
            name = species[k - 1].name
            u_left, u_right = (self.formulation.unknown(g[name] / self.scales.concentration)
                               for g in guesses)
            values[self.field_dofs[k]] = self.ramp * u_left + (1 - self.ramp) * u_right

    def _region_guess(self, values: np.ndarray, reactions: Sequence[Reaction]) -> None:
        """Region species at the floor everywhere, then, on the nodes of each region that holds
        region species, the electroneutral zero-field equilibrium with each reservoir (Donnan
        potential, mobile ions, sites and pairs), along the ramp."""
        if self.region_map is None:
            return
        species = self.electrolyte.species
        names = self.electrolyte.names
        regional = [k for k, s in enumerate(species, start=1) if s.regions]
        for k in regional:
            values[self.field_dofs[k]] = self.region_floor
        valences = {s.name: s.valence for s in species}
        zones = list(dict.fromkeys(species[k - 1].regions for k in regional))
        for zone in zones:
            tags = set(self.region_map.tags(zone))
            present = [s for s in species if not s.regions
                       or tags <= set(self.region_map.tags(s.regions))]
            active = [r for r in reactions if r.region is None
                      or tags & set(self.region_map.tags(region_names(r.region)))]
            if not all(isinstance(r, MassActionReaction) for r in active):
                active = []  # only mass-action reactions have a known equilibrium
            states = []
            for side in self.sides:
                reservoir = {s.name: s.concentration(side) for s in present if s.is_mobile}
                fixed = {s.name: s.concentration(side) for s in present if not s.is_mobile}
                try:
                    states.append(region_equilibrium(reservoir, valences, fixed, active))
                except (ValueError, np.linalg.LinAlgError, OverflowError):
                    states = []
                    break
            mask = self.region_map.closure_mask(self.scalar_space, zone)
            c0 = self.scales.concentration
            if not states:  # no equilibrium found: region species at their given values
                for s in present:  # (at least 1e-6 c0: Newton's log-steps are capped)
                    if s.regions:
                        k = 1 + names.index(s.name)
                        c = max(s.concentration("right"), 1e-6 * c0)
                        values[self.field_dofs[k][mask]] = self.formulation.unknown(c / c0)
                continue
            (psi_left, c_left), (psi_right, c_right) = states
            r = self.ramp[mask]
            values[self.field_dofs[0][mask]] = r * psi_left + (1 - r) * psi_right
            floor = LOG_FLOOR * c0
            for s in present:
                k = 1 + names.index(s.name)
                u_left, u_right = (self.formulation.unknown(max(c[s.name], floor) / c0)
                                   for c in (c_left, c_right))
                values[self.field_dofs[k][mask]] = r * u_left + (1 - r) * u_right


__all__ = ["InitialGuess", "continuation_targets"]
