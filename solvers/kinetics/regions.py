"""Species and reactions restricted to a region of the mesh (a named cell group).

Charged sites bound to the sheets of an ångström slit exist only in the slit, and their pairing
with counter-ions happens only there; the reservoirs hold a plain salt. A species with
``region`` (``ionslit.solvers.electrolyte.Species``; immobile only) and a reaction with ``region``
(``MassActionReaction``) say so. How the model restricts them (P1 unknowns everywhere, no
sub-meshes; chosen because every other part of the solver, outputs and checkpoints included,
keeps working on one mixed P1 space):

- a region species lives on the *closure* of its region: its nodal unknowns on the nodes of the
  region's cells carry its equation, tested with chi * w (chi the region's DG0 indicator), so
  cells outside the region add nothing to any of its rows; on every other node its unknown is
  fixed (Dirichlet) at a floor (c = 0, or 1e-30 of the concentration scale for log unknowns);
- its charge counts only inside the region: P1 interpolation between the closure's nodes and
  the floor gives it a spurious tail in the first ring of outside cells, which
  ``RegionChargeCorrection`` (a VolumeSource) removes exactly by adding -(1 - chi) F z c to the
  charge density there;
- a reaction restricted to a region has the rate chi R (``reactions.ReactionSources``), so the
  rate law itself stays written once (``mass_action.mass_action_rate``);
- a reaction that involves a region species must be restricted to (a part of) that region
  (``check_regions``: a reaction elsewhere would need the species where it is not defined);
- the initial guess of steady solves inside a region (``region_equilibrium``) is the uniform,
  electroneutral state in equilibrium with a reservoir: mobile ions at their Boltzmann (Donnan)
  values c_i = c_i,res exp(-z_i psi), region species and pairs at mass action with their given
  amounts conserved. Without it the sites' unscreened charge (mM over a micrometre: 1e4 V_T)
  would be Newton's starting point.

Exactness: inside a region the discrete equations are those of the species everywhere, and
outside it no unknown of the region species enters any equation (its floor values are only
seen in the corrected ring), so a region species is a species on the closed region. The ionic
current functionals (observables.py) test the unmasked rows with the electrode indicators: they
include the ring cells only for regions within one cell of an electrode, where the rows of an
immobile species in no reaction are zero anyway (dc/dt = 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import basix.ufl
import dolfinx
import numpy as np

from ionslit.solvers.constants import FARADAY_CONSTANT
from ionslit.solvers.kinetics.equilibrium import equilibrium_composition
from ionslit.solvers.kinetics.errors import ReactionError

#: scaled concentration of a region species outside its region (log unknowns need c > 0)
LOG_FLOOR = 1e-30


def _regions(item) -> tuple[str, ...]:
    """The cell groups of a species or reaction with a ``region`` (() for None)."""
    region = item.region
    if region is None:
        return ()
    return (region,) if isinstance(region, str) else tuple(region)


class RegionMap:
    """Cell groups of a SlitMesh as indicators and node sets (collective where it says so)."""

    def __init__(self, slit_mesh):
        self.slit_mesh = slit_mesh
        self._indicators: dict[tuple[int, ...], Any] = {}
        self._closures: dict[tuple[int, ...], np.ndarray] = {}

    def tags(self, groups: Sequence[str]) -> tuple[int, ...]:
        """The cell tags of the named groups (ValueError for an unknown name)."""
        known = self.slit_mesh.cell_groups
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise ValueError(f"region {list(groups)}: no cell group {unknown[0]!r}; the mesh has "
                             f"{sorted(known)}")
        return tuple(sorted({t for g in groups for t in known[g]}))

    def _cells(self, tags: tuple[int, ...]) -> np.ndarray:
        cell_tags = self.slit_mesh.cell_tags
        return np.sort(cell_tags.indices[np.isin(cell_tags.values, tags)]).astype(np.int32)

    def indicator(self, groups: Sequence[str]):
        """DG0 Function: 1 on the cells of the groups (owned and ghost), 0 elsewhere."""
        tags = self.tags(groups)
        if tags not in self._indicators:
            mesh = self.slit_mesh.mesh
            space = dolfinx.fem.functionspace(
                mesh, basix.ufl.element("DG", mesh.basix_cell(), 0))
            chi = dolfinx.fem.Function(space, name="region_" + "_".join(groups))
            cells = self._cells(tags)
            dofs = np.unique(space.dofmap.list[cells].ravel()) if cells.size else cells
            chi.x.array[dofs] = 1.0
            chi.x.scatter_forward()
            self._indicators[tags] = chi
        return self._indicators[tags]

    def closure_mask(self, scalar_space, groups: Sequence[str]) -> np.ndarray:
        """Boolean over the local dofs (incl. ghosts) of a scalar P1 space: True on the nodes
        of any cell of the groups, on whichever rank that cell lives (collective)."""
        tags = self.tags(groups)
        if tags not in self._closures:
            marker = dolfinx.fem.Function(scalar_space)
            cells = self._cells(tags)
            if cells.size:
                marker.x.array[np.unique(scalar_space.dofmap.list[cells].ravel())] = 1.0
            marker.x.scatter_reverse(dolfinx.la.InsertMode.add)
            marker.x.scatter_forward()
            self._closures[tags] = marker.x.array > 0.5
        return self._closures[tags]


def check_regions(species: Sequence, reactions: Sequence, region_map: RegionMap | None) -> None:
    """Region species are immobile; regions name cell groups of the mesh; a reaction that
    involves a region species is restricted to a part of that species' region. ValueError
    (ReactionError for a reaction) otherwise."""
    by_name = {s.name: s for s in species}
    if region_map is None:
        return
    for s in species:
        if _regions(s):
            region_map.tags(_regions(s))
            if s.diffusivity != 0:
                raise ValueError(f"species {s.name}: only immobile species can be restricted "
                                 "to a region")
    for r in reactions:
        text = r.equation
        r_tags = set(region_map.tags(_regions(r))) if _regions(r) else None
        for name in r.stoichiometry:
            s = by_name.get(name)
            if s is None or not _regions(s):
                continue
            s_tags = set(region_map.tags(_regions(s)))
            if r_tags is None or not r_tags <= s_tags:
                where = "everywhere" if r_tags is None else f"in {list(_regions(r))}"
                raise ReactionError(text, f"it runs {where}, but species {name} exists only in "
                                          f"{list(_regions(s))}: restrict the reaction to that "
                                          f"region (region = {_regions(s)[0]!r})")


@dataclass(frozen=True)
class RegionChargeCorrection:
    """VolumeSource removing the charge of region species outside their regions:
    rho = -F sum_i z_i (1 - chi_i) c_i (C/m^3). ``species``: ((name, valence, chi), ...)."""

    species: tuple

    def species_rates(self, context) -> dict[str, Any]:
        return {}

    def charge_density(self, context):
        rho = 0
        for name, valence, chi in self.species:
            if valence != 0:
                rho = rho - FARADAY_CONSTANT * valence * (1.0 - chi) * \
                    context.concentrations[name]
        return None if isinstance(rho, int) else rho


# -- the initial guess inside a region (numpy) --------------------------------------------------
def region_equilibrium(reservoir: Mapping[str, float], valences: Mapping[str, float],
                       immobile: Mapping[str, float], reactions: Sequence = (),
                       bound: float = 80.0, tolerance: float = 1e-12
                       ) -> tuple[float, dict[str, float]]:
    """(psi, concentrations): the uniform, electroneutral zero-field state of a region in
    equilibrium with a reservoir.

    ``reservoir``: the mobile species' reservoir concentrations (mol/m^3); inside, c_i =
    c_i,res exp(-z_i psi) with the Donnan potential psi (units of V_T) found by bisection on
    the net charge (which decreases monotonically with psi). ``immobile``: the amounts of the
    immobile species present there (mol/m^3); with ``reactions`` they are distributed by mass
    action (``equilibrium_composition`` with the mobile species fixed, the immobile moieties
    conserved). A region without net fixed charge gives psi = 0."""
    mobile = dict(reservoir)
    immobile = dict(immobile)
    names_in_reactions = {n for r in reactions for n in r.stoichiometry}
    fixed = tuple(n for n in mobile if n in names_in_reactions)

    def state(psi: float) -> dict[str, float]:
        c = {n: v * math.exp(-valences[n] * psi) for n, v in mobile.items()}
        if reactions:
            initial = {**immobile, **c}
            c = equilibrium_composition(initial, reactions, 0.0, fixed=fixed)
        else:
            c.update(immobile)
        return c

    def charge(psi: float) -> float:
        return sum(valences.get(n, 0.0) * v for n, v in state(psi).items())

    q0 = charge(0.0)
    if abs(q0) <= 1e-12 * sum(abs(valences.get(n, 0.0)) * v for n, v in state(0.0).items()):
        return 0.0, state(0.0)
    # bracket the root by doubling |psi| from 1 (positive charge: psi > 0 lowers it)
    direction = 1.0 if q0 > 0 else -1.0
    near, far = 0.0, direction
    while direction * charge(far) > 0:
        near, far = far, 2.0 * far
        if abs(far) > bound:
            raise ValueError(f"region_equilibrium: no electroneutral state with |psi| <= {bound} "
                             "V_T (the region's fixed charge has no mobile counter-ions)")
    lo, hi = min(near, far), max(near, far)
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if charge(mid) > 0:
            lo = mid
        else:
            hi = mid
    psi = 0.5 * (lo + hi)
    return psi, state(psi)


__all__ = ["LOG_FLOOR", "RegionChargeCorrection", "RegionMap", "check_regions",
           "region_equilibrium"]
