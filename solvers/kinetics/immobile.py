"""The equations of immobile reacting species: conditioning and well-posed steady states.

An immobile species i (D = 0) has the pointwise equation dc_i/dt = S_i (no transport, no
reservoir condition). In the solver's scaled units its row is TD_i - S_i / (c0/t0) (TD the BDF
time derivative), and with slow kinetics (memory times of ms against t0 = L0^2/D0 ~ 1 ns) both
terms are ~1e-6 of the transport rows. Newton's step is unaffected, but its stopping test (an
absolute residual tolerance) and the backtracking line search (on the residual norm) then hardly
see these rows: steady solves stalled (the line search refused good Newton steps) and converged
states could satisfy R = 0 only to ~1e-4. This source therefore *scales* each such row by
alpha_i = 1 / (lambda_i t0), lambda_i the fastest characteristic rate (1/s) of the reactions of
species i (``relaxation_rate`` at the concentration scale; for A + B <-> P, k_a c0 + k_d0), so
that a relaxation over one reaction time weighs like an O(1) change of the scaled unknowns. A
row scaling changes no solution: exactly the same discrete equations are solved.

It also completes the steady equations where they are dependent (see conservation.py): in
steady mode (the pivot's switch, the model's steady regularisation Constant, is 1) the row of a
pivot j becomes sum_i l_i (c_i - c_n,i) / c0 = 0.

Both are implemented as an extra volumetric source X_i (the solver's row for an immobile
species is TD_i - (S_i + X_i)/(c0/t0) + switch_i (c_i - c_n,i)/c0, see pnp_forms.py):

    non-pivot:        X_i = (alpha_i - 1) (S_i - TD_i)            -> row = alpha_i (TD_i - S_i)
    pivot, steady:    X_j = -S_j - (1/t0) sum_{i != j} l_i (c_i - c_n,i)
                                                               -> row = sum_i l_i (c_i - c_n,i)/c0
    pivot, transient: as a non-pivot (the switch is 0)

(TD, S and X in mol/(m^3 s) here). At convergence every original row vanishes, so conservative
observables built from the residual (electrode currents) are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ionslit.solvers.kinetics.conservation import MoietyConstraint
from ionslit.solvers.reactions import Reaction


@dataclass(frozen=True)
class ImmobileSpeciesEquations:
    """VolumeSource conditioning immobile reacting species (module docstring).

    ``reaction_sources``: the reactions' VolumeSource (gives S_i); ``species``: the immobile
    species that take part in reactions; ``scaling``: name -> alpha_i (fem.Constant);
    ``time_derivative``: name -> BDF dc/dt (UFL, mol/(m^3 s)); ``previous``: name -> c_n (UFL,
    mol/m^3); ``switches``: name -> steady switch (fem.Constant, 1 in steady mode for pivots);
    ``constraints``: the conserved combinations; ``inverse_time``: 1/t0 (1/s)."""

    reaction_sources: Any
    species: tuple[str, ...]
    scaling: Mapping[str, Any]
    time_derivative: Mapping[str, Any]
    previous: Mapping[str, Any]
    switches: Mapping[str, Any]
    constraints: tuple[MoietyConstraint, ...]
    inverse_time: float

    def species_rates(self, context) -> dict[str, Any]:
        sources = self.reaction_sources.species_rates(context)
        c = context.concentrations
        pivots = {k.pivot: k for k in self.constraints}
        extra: dict[str, Any] = {}
        for name in self.species:
            source = sources.get(name, 0)
            alpha = self.scaling[name]
            scaled = (alpha - 1.0) * (source - self.time_derivative[name])
            constraint = pivots.get(name)
            if constraint is None:
                extra[name] = scaled
                continue
            drift = sum(weight * (c[i] - self.previous[i])
                        for i, weight in constraint.coefficients.items() if i != name)
            switch = self.switches[name]
            steady = -source - self.inverse_time * drift
            extra[name] = (1.0 - switch) * scaled + switch * steady
        return extra

    def charge_density(self, context) -> None:
        return None


def characteristic_rates(reactions: Sequence[Reaction], species: Sequence[str],
                         concentration: float) -> dict[str, float]:
    """lambda_i (1/s): the largest ``relaxation_rate(concentration)`` (concentration in mol/m^3)
    of the reactions involving species i."""
    rates: dict[str, float] = {}
    for reaction in reactions:
        value = float(reaction.relaxation_rate(concentration))
        for name, nu in reaction.stoichiometry.items():
            if nu != 0 and name in species:
                rates[name] = max(rates.get(name, 0.0), value)
    return rates


__all__ = ["ImmobileSpeciesEquations", "characteristic_rates"]
