"""Chemical equilibrium on arrays: reservoir bulk values, the closed 0D box, the quasi-static
free fraction (closed form and general solver, checked against scipy root finding)."""

import math

import numpy as np
import pytest

from ionslit.solvers.kinetics import (
    MassActionReaction,
    PowerLaw,
    ReactionError,
    areal_to_volume_concentration,
    equilibrium_composition,
    equilibrium_concentrations,
    pair_free_fraction,
    quasi_static_free_fraction,
)

optimize = pytest.importorskip("scipy.optimize")

PAIR = MassActionReaction("Ca + SO4 <-> CaSO4", 1e3, dissociation_constant=0.5)
VALENCES = {"Ca": 2, "SO4": -2, "CaSO4": 0, "Na": 1, "Cl": -1, "NaCl": 0, "Ca2SO4": 2}


def test_reservoirs_from_free_ions():
    """Free ions given, pairs 'equilibrium': c_P = c_A c_B / K_d in each reservoir."""
    c = equilibrium_concentrations({"Ca": (10.0, 2.0), "SO4": (10.0, 2.0),
                                    "CaSO4": "equilibrium"}, [PAIR], VALENCES)
    assert c["CaSO4"] == pytest.approx((200.0, 8.0), rel=1e-15)
    assert c["Ca"] == (10.0, 2.0)


def test_general_stoichiometry_and_chains():
    """2 A + B <-> A2B: c_A2B = c_A^2 c_B / K_d; a chain P + A <-> Q is resolved after P; a
    reactant may be the marked species (c_B = K_d c_P / c_A)."""
    r1 = MassActionReaction("2 A + B <-> A2B", 1.0, dissociation_constant=4.0)
    c = equilibrium_concentrations({"A": 2.0, "B": 3.0, "A2B": "equilibrium"}, [r1])
    assert c["A2B"][0] == pytest.approx(2.0**2 * 3.0 / 4.0, rel=1e-15)
    r2 = MassActionReaction("A + B <-> P", 1.0, dissociation_constant=2.0)
    r3 = MassActionReaction("P + A <-> Q", 1.0, dissociation_constant=0.5)
    c = equilibrium_concentrations({"A": 2.0, "B": 3.0, "P": "equilibrium",
                                    "Q": "equilibrium"}, [r3, r2])
    assert c["P"][0] == pytest.approx(3.0, rel=1e-15)
    assert c["Q"][0] == pytest.approx(3.0 * 2.0 / 0.5, rel=1e-15)
    c = equilibrium_concentrations({"A": 2.0, "B": "equilibrium", "P": 3.0}, [r2])
    assert c["B"][0] == pytest.approx(2.0 * 3.0 / 2.0, rel=1e-15)


def test_reservoir_errors_name_the_reaction():
    with pytest.raises(ReactionError, match="not at chemical equilibrium") as info:
        equilibrium_concentrations({"Ca": 10.0, "SO4": 10.0, "CaSO4": 1.0}, [PAIR])
    assert info.value.reaction == "Ca + SO4 <-> CaSO4"
    with pytest.raises(ReactionError, match="cannot determine"):
        equilibrium_concentrations({"Ca": "equilibrium", "SO4": 10.0,
                                    "CaSO4": "equilibrium"}, [PAIR])
    with pytest.raises(ReactionError, match="no reaction involves"):
        equilibrium_concentrations({"Ca": 1.0, "SO4": 1.0, "CaSO4": "equilibrium",
                                    "NaCl": "equilibrium"}, [PAIR])
    # A charged cluster from neutral free ions breaks electroneutrality.
    cluster = MassActionReaction("2 Ca + SO4 <-> Ca2SO4", 1.0, dissociation_constant=1.0)
    with pytest.raises(ReactionError, match="electroneutral") as info:
        equilibrium_concentrations({"Ca": 1.0, "SO4": 1.0, "Ca2SO4": "equilibrium"},
                                   [cluster], VALENCES)
    assert info.value.reaction == "2 Ca + SO4 <-> Ca2SO4"


def test_closed_form_free_fraction_against_root_finding():
    """n_f^2 / (1 - n_f) = K_d f / c_tot, against brentq on the mass balance directly, from
    strongly paired (kappa = 1e-8) to almost free (kappa = 1e6)."""
    for kappa in np.logspace(-8, 6, 29):
        total, K_d = 2.0, 2.0 * kappa
        nf = pair_free_fraction(0.0, total, K_d)
        root = optimize.brentq(lambda a, K_d=K_d, total=total: a * a - K_d * (total - a), 0.0, total,
                               xtol=1e-300, rtol=1e-15)
        assert float(nf) == pytest.approx(root / total, rel=1e-12)


def test_general_solver_against_closed_form_and_scipy():
    law = PowerLaw(3e7, 4.0)
    pair = MassActionReaction("Ca + SO4 <-> CaSO4", 1e3, dissociation_constant=0.01, law=law)
    E = np.array([0.0, 1e7, 3e7, 6e7, 1.2e8])
    closed = pair_free_fraction(E, 2.37, 0.01, law)
    for k, field in enumerate(E):
        c = equilibrium_composition({"Ca": 2.37, "SO4": 2.37}, [pair], field)
        assert c["Ca"] / 2.37 == pytest.approx(closed[k], rel=1e-11)
        assert c["Ca"] + c["CaSO4"] == pytest.approx(2.37, rel=1e-14)
    # 2 A + B <-> A2B (with a charged A, B so the weights are the ions'), at 4e7 V/m:
    # x = [A2B] solves (a0 - 2x)^2 (b0 - x) = K_d f x.
    r = MassActionReaction("2 A + B <-> A2B", 1.0, dissociation_constant=0.3, law=law)
    a0, b0 = 2.0, 1.0
    Kf = 0.3 * float(law.f(4e7))
    x = optimize.brentq(lambda x: (a0 - 2 * x) ** 2 * (b0 - x) - Kf * x, 0.0, 0.5,
                        xtol=1e-300, rtol=1e-15)
    ratio = quasi_static_free_fraction(4e7, [r], {"A": a0, "B": b0})
    assert float(ratio) == pytest.approx(((a0 - 2 * x) + (b0 - x)) / (a0 + b0), rel=1e-11)
    weights = {"A": 1.0, "B": 4.0}  # z^2 D-like weights
    ratio = quasi_static_free_fraction(4e7, [r], {"A": a0, "B": b0}, weights)
    assert float(ratio) == pytest.approx(((a0 - 2 * x) + 4 * (b0 - x)) / (a0 + 4 * b0),
                                         rel=1e-11)


def test_weak_dissociation_scaling():
    """Weakly dissociated (kappa << 1): n_f ~ sqrt(kappa), so with f = 1 + (E/E0)^beta the
    free fraction grows like E^(beta/2): beta ~ 4 gives the 'alpha ~ 2' law
    (docs/theory.md#verification-references)."""
    law = PowerLaw(1e6, 4.0)
    E = np.array([1e8, 2e8])
    # kappa = 1e-20 f <= 1.6e-11: corrections sqrt(kappa)/2 ~ 2e-6, and 1/f ~ 1e-8.
    nf = pair_free_fraction(E, 1.0, 1e-20, law)
    assert nf[1] / nf[0] == pytest.approx(2.0**2, rel=1e-5)


def test_areal_density():
    # 1e-3 nm^-2 in a 0.7 nm slit: 1e15 m^-2 / (0.7e-9 m x 6.022e23 /mol) = 2.372 mol/m^3.
    assert areal_to_volume_concentration(1e15, 0.7e-9) == pytest.approx(2.3722, rel=1e-4)
    assert math.isclose(areal_to_volume_concentration(1e15, 0.7e-9),
                        1e15 / (0.7e-9 * 6.02214076e23), rel_tol=1e-15)


def test_pair_relaxation_rate_and_reservoir_values():
    """lambda = k_a (2 a + K_d f) is minus the derivative of the closed-layer ODE's right-hand
    side at its fixed point (checked by a central difference); the zero-field free/pair split
    adds up to c_tot and satisfies mass action."""
    from ionslit.solvers.kinetics import pair_relaxation_rate, pair_zero_field_concentrations

    law, k_a, K_d, total = PowerLaw(2e7, 4.0), 7e3, 0.01, 2.37
    for field in (0.0, 3e7, 1e8):
        f = float(law.f(field))
        P = total * (1 - float(pair_free_fraction(field, total, K_d, law)))

        def rhs(p, f=f):
            return k_a * (total - p) ** 2 - k_a * K_d * f * p

        h = 1e-6 * P
        derivative = (rhs(P + h) - rhs(P - h)) / (2 * h)
        assert float(pair_relaxation_rate(field, total, k_a, K_d, law)) == pytest.approx(
            -derivative, rel=1e-7)
    free, pair = pair_zero_field_concentrations(total, K_d)
    assert free + pair == pytest.approx(total, rel=1e-15)
    assert free * free == pytest.approx(K_d * pair, rel=1e-12)
