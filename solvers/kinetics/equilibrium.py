"""Chemical equilibrium: reservoir bulk values, closed 0D boxes, quasi-static free fractions.

Reservoir convention (``equilibrium_concentrations``): the user gives the *free* concentrations
of the ions (and of any species they want to fix) and marks clusters "equilibrium"; each marked
species then gets the zero-field mass-action value, reaction by reaction (c_P = c_A c_B / K_d for
A + B <-> P; in general prod_products c^nu = prod_reactants c^nu / K_d). Reactions whose species
are all given must already be at equilibrium (else the reservoirs would react against their
Dirichlet values): that is checked to 1e-6 relative. Pairs are then *extra* material, not taken
from the ions (the total Ca is c_Ca + c_CaSO4): reservoirs are exchange baths whose free-ion
activity is what an experiment sets. Charged clusters make the reservoir's net charge
sum z_i c_i nonzero unless the given ions compensate: that is reported as an error.

Quasi-static (uniform field, steady, closed box: transport plays no role) free fraction of a pair
A + B <-> P with equal totals c_tot = c_A + c_P = c_B + c_P: with n_f = c_A / c_tot, R = 0 reads
k_a n_f^2 c_tot^2 = k_d0 f(E) (1 - n_f) c_tot, i.e.

    n_f^2 / (1 - n_f) = kappa(E) = K_d f(E) / c_tot,
    n_f = (sqrt(kappa^2 + 4 kappa) - kappa) / 2 = 2 / (1 + sqrt(1 + 4 / kappa)),

(n_f ~ sqrt(kappa) when weakly dissociated, 1 - 1/kappa when nearly free); G / G_free = n_f
whatever the ions' diffusivities, since both ions are free in the same proportion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ionslit.solvers.constants import AVOGADRO_CONSTANT
from ionslit.solvers.kinetics.errors import ReactionError
from ionslit.solvers.kinetics.laws import ConstantLaw
from ionslit.solvers.kinetics.mass_action import MassActionReaction

EQUILIBRIUM = "equilibrium"


def _sides(value) -> tuple:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return value, value
    if len(value) != 2:
        raise ValueError(f"expected a value or a (left, right) pair, got {value!r}")
    return tuple(value)


def _side_equilibrium(given: Mapping[str, float | str], reactions: Sequence[MassActionReaction],
                      side: str) -> dict[str, float]:
    known = {n: float(v) for n, v in given.items() if not isinstance(v, str)}
    for name, v in given.items():
        if isinstance(v, str) and v != EQUILIBRIUM:
            raise ValueError(f"species {name}: concentration {v!r} (a number or "
                             f"'{EQUILIBRIUM}')")
    unknown = {n for n, v in given.items() if isinstance(v, str)}
    for name in unknown:
        if not any(name in r.stoichiometry for r in reactions):
            raise ReactionError(name, f"species {name} has concentration '{EQUILIBRIUM}' but no "
                                      "reaction involves it")
    while unknown:
        progress = False
        for r in reactions:
            missing = [n for n in r.stoichiometry if n in unknown]
            if len(missing) != 1:
                continue
            name = missing[0]
            if any(n not in known for n in r.stoichiometry if n != name):
                continue  # a species the reaction names is not in the electrolyte
            nu = dict(r.reactants + r.products)[name]
            forward = math.prod(known[n] ** k for n, k in r.reactants if n != name)
            backward = math.prod(known[n] ** k for n, k in r.products if n != name)
            K_d = r.dissociation_constant
            assert K_d is not None  # MassActionReaction derives it from k_d0
            if name in dict(r.products):  # c^nu = prod_reactants / (K_d prod_other products)
                numerator, denominator = forward, K_d * backward
            else:  # c^nu = K_d prod_products / prod_other reactants
                numerator, denominator = K_d * backward, forward
            if denominator == 0.0:
                raise ReactionError(r.equation, f"the {side} reservoir cannot be at equilibrium "
                                                f"with {name} '{EQUILIBRIUM}': the other "
                                                "species it needs are absent (concentration 0)")
            known[name] = (numerator / denominator) ** (1.0 / nu)
            unknown.discard(name)
            progress = True
        if not progress:
            stuck = sorted(unknown)
            involved = [r.equation for r in reactions if set(r.stoichiometry) & unknown]
            raise ReactionError(involved[0] if involved else stuck[0],
                                f"cannot determine the equilibrium concentrations of {stuck} in "
                                f"the {side} reservoir: every reaction that involves them has "
                                "another species marked 'equilibrium'. Give the free ions' "
                                "concentrations and mark only the clusters 'equilibrium'.")
    return known


def equilibrium_concentrations(concentrations: Mapping[str, object],
                               reactions: Sequence[MassActionReaction],
                               valences: Mapping[str, float] | None = None,
                               require_equilibrium: bool = True) -> dict[str, tuple[float, float]]:
    """Reservoir bulk concentrations (mol/m^3) at zero-field chemical equilibrium.

    ``concentrations``: name -> value or (left, right), each a number (mol/m^3) or
    "equilibrium"; ``reactions``: MassActionReaction objects. Returns name -> (left, right) for
    every species. With ``valences`` the reservoirs' electroneutrality is checked as well.
    ReactionError (naming the reaction) when a marked species cannot be determined, when fully
    given reactions are not at equilibrium (``require_equilibrium``), or when the result is not
    electroneutral because of charged clusters. See the module docstring for the convention.
    """
    reactions = tuple(reactions)
    per_side = {}
    for index, side in enumerate(("left", "right")):
        given = {name: _sides(value)[index] for name, value in concentrations.items()}
        per_side[side] = _side_equilibrium(given, reactions, side)
        c = per_side[side]
        if require_equilibrium:
            for r in reactions:
                if any(n not in c for n in r.stoichiometry):
                    continue
                k_d0 = r.dissociation_rate
                assert k_d0 is not None  # MassActionReaction derives it from K_d
                forward = r.association_rate * math.prod(c[n] ** k for n, k in r.reactants)
                backward = k_d0 * math.prod(c[n] ** k for n, k in r.products)
                if abs(forward - backward) > 1e-6 * max(forward, backward):
                    q = math.prod(c[n] ** k for n, k in r.reactants)
                    p = math.prod(c[n] ** k for n, k in r.products)
                    ratio = q / p if p > 0 else math.inf
                    raise ReactionError(r.equation, f"the {side} reservoir is not at chemical "
                                                    f"equilibrium: prod c_reactants^nu / prod "
                                                    f"c_products^nu = {ratio:.6g}, but K_d = "
                                                    f"{r.dissociation_constant:.6g}; give the "
                                                    "clusters' concentration as 'equilibrium'")
        if valences is not None:
            charge = sum(valences.get(n, 0.0) * v for n, v in c.items())
            scale = sum(abs(valences.get(n, 0.0)) * v for n, v in c.items())
            if scale > 0 and abs(charge) > 1e-6 * scale:
                derived = [n for n, v in given.items()
                           if isinstance(v, str) and valences.get(n, 0.0) != 0]
                culprit = next((r.equation for r in reactions
                                if set(derived) & set(r.stoichiometry)), None)
                message = (f"the {side} reservoir is not electroneutral (sum z_i c_i = "
                           f"{charge:.6g} mol/m^3)")
                if culprit is not None:
                    message += (f": the charged clusters {derived} add charge; lower the free "
                                "ions' concentrations so that free ions plus clusters are "
                                "neutral, or give the clusters' concentrations explicitly")
                    raise ReactionError(culprit, message)
                raise ValueError(message)
    return {name: (per_side["left"][name], per_side["right"][name]) for name in concentrations}


# -- 0D: closed box, uniform field ---------------------------------------------------------
def pair_free_fraction(field, total_concentration: float, dissociation_constant: float,
                       law=None) -> np.ndarray:
    """Quasi-static free fraction n_f of A + B <-> P with equal totals ``total_concentration``
    (mol/m^3) at field magnitudes ``field`` (V/m): n_f = 2 / (1 + sqrt(1 + 4 / kappa)),
    kappa = K_d f(E) / c_tot (see the module docstring). Equals G / G_free."""
    law = law or ConstantLaw()
    kappa = dissociation_constant * law.f(field) / total_concentration
    return free_fraction_from_kappa(kappa)


def pair_relaxation_rate(field, total_concentration: float, association_rate: float,
                         dissociation_constant: float, law=None) -> np.ndarray:
    """Linearised relaxation rate (1/s) of A + B <-> P about its quasi-static state at field
    magnitudes ``field`` (V/m), for a closed layer (ions not replenished by reservoirs) with
    equal totals: from dP/dt = k_a a^2 - k_d0 f P with a = c_tot - P,
    lambda = k_a (2 a + K_d f) = k_a c_tot (2 n_f + kappa). (Where reservoirs pin the free
    ions, as in short channels, it is k_d0 f = k_a K_d f instead.) The memory time is 1/lambda:
    slow at zero field (few free ions to re-associate), fast under field."""
    law = law or ConstantLaw()
    kappa = dissociation_constant * law.f(field) / total_concentration
    nf = free_fraction_from_kappa(kappa)
    return association_rate * total_concentration * (2.0 * nf + kappa)


def pair_zero_field_concentrations(total_concentration: float,
                                   dissociation_constant: float) -> tuple[float, float]:
    """(free ion, pair) concentrations (mol/m^3) of A + B <-> P at zero field with equal totals
    c_tot: the free-ion values to give the reservoirs (pairs "equilibrium") so that they hold
    c_tot of each ion in all."""
    free = float(free_fraction_from_kappa(dissociation_constant / total_concentration)) \
        * total_concentration
    return free, total_concentration - free


def free_fraction_from_kappa(kappa) -> np.ndarray:
    """n_f solving n_f^2 / (1 - n_f) = kappa (round-off safe for small and large kappa)."""
    kappa = np.asarray(kappa, dtype=float)
    with np.errstate(divide="ignore"):
        return 2.0 / (1.0 + np.sqrt(1.0 + 4.0 / kappa))


def kappa_from_free_fraction(free_fraction) -> np.ndarray:
    """Inverse of ``free_fraction_from_kappa``: kappa = n_f^2 / (1 - n_f)."""
    n = np.asarray(free_fraction, dtype=float)
    return n * n / (1.0 - n)


def equilibrium_composition(initial: Mapping[str, float], reactions: Sequence[MassActionReaction],
                            field: float = 0.0, fixed: Sequence[str] = (),
                            tolerance: float = 1e-13,
                            max_iterations: int = 200) -> dict[str, float]:
    """Equilibrium of a closed, uniform box (mol/m^3) reached from ``initial`` (mol/m^3; species
    not given start at 0) under a uniform field |E| = ``field`` (V/m): every reaction has R = 0
    with c = c_initial + N xi (N the stoichiometric matrix, xi the extents). Species in
    ``fixed`` keep their initial concentrations (an infinite bath, e.g. mobile ions held by
    reservoirs); they must then be > 0 where they react.

    Newton on the extents for the convex free energy G(xi) = sum_i c_i (ln c_i - 1)
    + sum_r xi_r ln(K_d,r f_r(E)) (its gradient is sum_i nu_ir ln c_i + ln K_r, zero exactly at
    mass-action equilibrium), with a step that keeps every c > 0 and an Armijo backtrack."""
    reactions = tuple(reactions)
    names = list(dict.fromkeys(list(initial) + [n for r in reactions for n in r.stoichiometry]))
    index = {n: i for i, n in enumerate(names)}
    c0 = np.array([float(initial.get(n, 0.0)) for n in names])
    N = np.zeros((len(names), len(reactions)))
    for j, r in enumerate(reactions):
        for n, nu in r.stoichiometry.items():
            N[index[n], j] = nu
    ln_k = np.zeros(len(reactions))
    for j, r in enumerate(reactions):
        assert r.dissociation_constant is not None  # MassActionReaction derives it from k_d0
        ln_k[j] = (math.log(r.dissociation_constant)
                   + (math.log(float(r.law.f(field))) if field != 0 else 0.0))  # f(0) = 1
    for name in fixed:
        if name not in index or not np.any(N[index[name]] != 0):
            continue
        if c0[index[name]] <= 0:
            raise ValueError(f"fixed species {name} must have a positive concentration")
        ln_k += N[index[name]] * math.log(c0[index[name]])  # a constant factor of each K
        N[index[name]] = 0.0
    xi = _interior_extents(c0, N)
    if xi is None:
        raise ValueError("no positive composition reachable from the initial one (a reaction's "
                         "species are all absent); give every species some concentration")
    active = np.any(N != 0, axis=1)

    def free_energy(c, x):
        cc = c[active]
        return float(np.sum(cc * (np.log(cc) - 1.0)) + x @ ln_k)

    c = c0 + N @ xi
    for _ in range(max_iterations):
        ln_c = np.where(active, np.log(np.where(active, c, 1.0)), 0.0)
        gradient = N.T @ ln_c + ln_k
        if np.max(np.abs(gradient)) < tolerance:
            break
        hessian = N.T @ (N / np.where(active, c, 1.0)[:, None])
        step = np.linalg.lstsq(hessian, -gradient, rcond=None)[0]
        dc = N @ step
        alpha = 1.0
        shrinking = dc < 0
        if np.any(shrinking):
            alpha = min(1.0, 0.99 * float(np.min(-c[shrinking] / dc[shrinking])))
        g0, slope = free_energy(c, xi), float(gradient @ step)
        # A predicted decrease below the round-off of G cannot be checked: take the step.
        while alpha > 1e-14 and abs(slope) > 1e-13 * max(1.0, abs(g0)):
            trial = c + alpha * dc
            if np.all(trial[active] > 0) and \
                    free_energy(trial, xi + alpha * step) <= g0 + 1e-4 * alpha * slope:
                break
            alpha *= 0.5
        xi = xi + alpha * step
        c = c0 + N @ xi
        if alpha == 1.0 and np.max(np.abs(dc[active])) <= 1e-12 * np.max(c[active]):
            break  # converged to round-off: c = c0 + N xi resolves scarce species only to
            # ~1e-16 of the abundant ones, so their log-gradient cannot reach ``tolerance``
    else:
        raise ValueError("equilibrium_composition: Newton did not converge")
    return {n: float(c[index[n]]) for n in names}


def _interior_extents(c0: np.ndarray, N: np.ndarray) -> np.ndarray | None:
    """Extents giving c = c0 + N xi > 0 for every species that takes part in a reaction: each
    reaction with an absent species runs a little forwards (if its reactants are present) or
    backwards (if its products are), using at most a fraction of what it consumes."""
    xi = np.zeros(N.shape[1])
    active = np.any(N != 0, axis=1)
    share = 1.0 / (N.shape[1] + 1)
    for _ in range(N.shape[1] + 1):
        c = c0 + N @ xi
        if np.all(c[active] > 0):
            return xi
        for j in range(N.shape[1]):
            c = c0 + N @ xi
            if np.all(c[N[:, j] != 0] > 0):
                continue
            for direction in (1.0, -1.0):
                consumed = direction * N[:, j] < 0
                if np.all(c[consumed] > 0):
                    room = float(np.min(c[consumed] / np.abs(N[consumed, j])))
                    xi[j] += direction * share * room
                    break
    c = c0 + N @ xi
    return xi if np.all(c[active] > 0) else None


def steady_guess(concentrations: Mapping[str, float], mobile: Sequence[str],
                 reactions: Sequence) -> dict[str, float] | None:
    """The zero-field steady state of the immobile reacting species for a uniform composition
    ``concentrations`` (mol/m^3): mobile species fixed (held by the reservoirs), the amounts
    conserved among immobile species kept (conservation.py), the rest at mass action. None if
    it does not apply (reactions other than MassActionReaction) or cannot be found. Used as the
    initial guess of steady solves, which Newton with log unknowns cannot reach from far below
    (a pair started at 1e-6 of its equilibrium value asks for a log-step of 14)."""
    if not reactions or not all(isinstance(r, MassActionReaction) for r in reactions):
        return None
    try:
        state = equilibrium_composition(concentrations, reactions, 0.0, fixed=tuple(mobile))
    except (ValueError, np.linalg.LinAlgError, OverflowError):
        return None
    return state if all(math.isfinite(v) and v > 0 for v in state.values()) else None


def _is_simple_pair(reactions, free: Mapping[str, float]) -> bool:
    if len(reactions) != 1:
        return False
    r = reactions[0]
    if len(r.reactants) != 2 or len(r.products) != 1:
        return False
    if any(nu != 1 for _, nu in r.reactants + r.products):
        return False
    (a, _), (b, _) = r.reactants
    return set(free) == {a, b} and free[a] == free[b] and free[a] > 0


def quasi_static_free_fraction(field, reactions: Sequence[MassActionReaction],
                               free_concentrations: Mapping[str, float],
                               weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Quasi-static G(E) / G_free of a uniform, closed layer: equilibrium at each field
    magnitude (V/m) of the composition that starts from ``free_concentrations`` (mol/m^3, the
    ions when every cluster is dissociated), with G proportional to sum_i w_i c_i (``weights``
    w_i, e.g. z_i^2 D_i; default 1 for the species in ``free_concentrations`` and 0 for the
    clusters). For a single A + B <-> P with equal totals and default weights this is the
    closed form ``pair_free_fraction``; otherwise ``equilibrium_composition`` at each field."""
    reactions = tuple(reactions)
    fields = np.atleast_1d(np.abs(np.asarray(field, dtype=float)))
    if weights is None and _is_simple_pair(reactions, free_concentrations):
        r = reactions[0]
        assert r.dissociation_constant is not None  # MassActionReaction derives it from k_d0
        total = next(iter(free_concentrations.values()))
        out = pair_free_fraction(fields, total, r.dissociation_constant, r.law)
    else:
        weights = dict(weights) if weights is not None else {n: 1.0 for n in free_concentrations}
        reference = sum(w * free_concentrations.get(n, 0.0) for n, w in weights.items())
        if reference <= 0:
            raise ValueError("quasi_static_free_fraction: the free state does not conduct "
                             "(all weighted concentrations are 0)")
        out = np.empty_like(fields)
        for k, E in enumerate(fields):
            c = equilibrium_composition(free_concentrations, reactions, E)
            out[k] = sum(w * c.get(n, 0.0) for n, w in weights.items()) / reference
    return out.reshape(np.shape(field))


def areal_to_volume_concentration(number_per_area: float, height: float) -> float:
    """A quasi-2D layer's areal number density n (1/m^2) spread over its depth h (m) as a
    molar concentration (mol/m^3): n / (h N_A). 1e-3 nm^-2 in a 0.7 nm slit: 2.37 mol/m^3."""
    return number_per_area / (height * AVOGADRO_CONSTANT)


__all__ = ["EQUILIBRIUM", "areal_to_volume_concentration", "equilibrium_composition",
           "equilibrium_concentrations", "free_fraction_from_kappa", "kappa_from_free_fraction",
           "pair_free_fraction", "pair_relaxation_rate", "pair_zero_field_concentrations",
           "quasi_static_free_fraction", "steady_guess"]
