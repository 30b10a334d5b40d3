"""Reactions in the PNP solver: 0D consistency with the reaction ODE, detailed balance, the
field laws at steady state, the kinetic relaxation time, and reservoir-fed pairs."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import math

import numpy as np
import pytest
from kinetics_helpers import BOX_LENGTH, closed_box, mean, nodal

from ionslit.coupling.waveforms import Step
from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    SolverOptions,
    Species,
    TimeIntegrator,
    TimeSteppingOptions,
)
from ionslit.solvers.kinetics import (
    ConstantLaw,
    MassActionReaction,
    OnsagerLaw,
    PowerLaw,
    TableLaw,
    equilibrium_concentrations,
    pair_free_fraction,
)

integrate = pytest.importorskip("scipy.integrate")

VALENCES = {"A": 2, "B": -2, "P": 0, "C": 1, "D": -2, "C2D": 0}


def test_closed_box_reproduces_the_reaction_ode(comm):
    """Two reactions at once, A + B <-> P (power law) and 2 C + D <-> C2D (table law), in the
    closed box (no transport, |E| = V/L exactly), start at zero-field equilibrium (steady state
    at V(0) = 0), then V steps to 0.1 V (|E| = 1e7 V/m: f = 17 and 4). The amounts of free and
    paired species follow the ODEs

        dP/dt = k_a (A_T - P)(B_T - P) - k_d0 f_1 P,
        dQ/dt = k_a' (C_T - 2Q)^2 (D_T - Q) - k_d0' f_2 Q

    solved by scipy (Radau, rtol 1e-12). Fixed BDF2 steps h = 1.5 us (lambda h ~ 0.015 with
    relaxation rates lambda ~ 1e4 /s) and h/2, Richardson-extrapolated ((4 u_{h/2} - u_h)/3,
    error O(h^3)): within 1e-6 relative once the backward-Euler start has decayed (BDF2's second
    root 1/3 damps it by 3^-k after k steps, not as a power of h; measured 3.5e-7 after 10 steps,
    2e-5 at the first one). Raw BDF2 is second order: halving h divides the error by ~4.
    (Not run on 2 ranks: 1200 steps of a 2-cell mesh measure MPI latency, nothing else;
    test_kinetics_parallel covers the parallel assembly of the same source terms.)"""
    law1 = PowerLaw(5e6, 4.0)
    law2 = TableLaw((5e6, 1e7, 2e7), (1.5, 4.0, 9.0))
    r1 = MassActionReaction("A + B <-> P", 1e3, dissociation_constant=0.5, law=law1)
    r2 = MassActionReaction("2 C + D <-> C2D", 500.0, dissociation_constant=1.0, law=law2)
    free = {"A": 1.0, "B": 1.0, "P": "equilibrium", "C": 1.0, "D": 0.5, "C2D": "equilibrium"}
    initial = {n: c[0] for n, c in equilibrium_concentrations(free, [r1, r2], VALENCES).items()}
    assert initial["P"] == pytest.approx(2.0) and initial["C2D"] == pytest.approx(0.5)
    model = closed_box(comm, [r1, r2], initial, VALENCES)

    voltage, t_end = 0.1, 6e-4
    field = voltage / BOX_LENGTH
    f1, f2 = float(law1.f(field)), float(law2.f(field))
    assert (f1, f2) == (pytest.approx(17.0), pytest.approx(4.0))
    totals = {"A": 3.0, "B": 3.0, "C": 2.0, "D": 1.0}

    def run(steps):
        model.time = 0.0
        rows = []

        def record(step):
            rows.append([step.time] + [mean(model, n) for n in ("A", "P", "C", "C2D")])

        TimeIntegrator(model, Step(0.0, voltage), TimeSteppingOptions(
            initial_step=t_end / steps, adaptive=False)).run(t_end, on_step=record)
        return np.array(rows)  # (the next run() starts with the steady state at V = 0 again)

    coarse, fine = run(400), run(800)
    # Back to zero field: the steady state with the amounts the reactions conserved over the
    # 1200 steps (up to the Newton tolerance of each) is the initial equilibrium again.
    model.solve_steady(0.0)
    assert mean(model, "P") == pytest.approx(2.0, rel=1e-7)
    assert mean(model, "C2D") == pytest.approx(0.5, rel=1e-7)
    times = coarse[:, 0]
    assert np.allclose(fine[1::2, 0], times, rtol=1e-12)

    def rhs(t, y):
        P, Q = y
        return [1e3 * (totals["A"] - P) * (totals["B"] - P) - 0.5 * 1e3 * f1 * P,
                500.0 * (totals["C"] - 2 * Q) ** 2 * (totals["D"] - Q) - 1.0 * 500.0 * f2 * Q]

    ode = integrate.solve_ivp(rhs, (0.0, t_end), [2.0, 0.5], method="Radau", rtol=1e-12,
                              atol=1e-14, t_eval=times)
    P, Q = ode.y
    reference = np.column_stack([totals["A"] - P, P, totals["C"] - 2 * Q, Q])
    extrapolated = (4 * fine[1::2, 1:] - coarse[:, 1:]) / 3
    error = np.abs(extrapolated / reference - 1)
    assert np.max(error[10:]) < 1e-6
    assert np.max(error) < 5e-5
    raw_coarse = np.max(np.abs(coarse[:, 1:] / reference - 1))
    raw_fine = np.max(np.abs(fine[1::2, 1:] / reference - 1))
    assert 3.3 < raw_coarse / raw_fine < 4.5 and raw_coarse < 5e-4
    # Something happened: pairs broke (P fell by more than half) and Q moved too.
    assert P[-1] < 0.5 * P[0] and Q[-1] < 0.8 * Q[0]


@pytest.mark.mpi
@pytest.mark.parametrize("formulation", ["log", "primitive"])
def test_detailed_balance_over_decades(comm, formulation):
    """Closed box starting far from equilibrium (ions all free, pairs at 1e-3 mol/m^3): the
    steady state at zero field is mass action, c_A c_B = K_d c_P, with the totals the reactions
    conserve (A + P = B + P = 1.001). Then K_d is changed a decade at a time (update_reaction)
    from 1e-2 to 10 mol/m^3 and each new steady state, reached by Newton from the previous one
    with the conserved totals kept, is mass action again (to 1e-10)."""
    reaction = MassActionReaction("A + B <-> P", 1e3, dissociation_constant=1e-2)
    model = closed_box(comm, [reaction], {"A": 1.0, "B": 1.0, "P": 1e-3}, VALENCES,
                       formulation)
    for K_d in (1e-2, 1e-1, 1.0, 10.0):
        model.update_reaction(0, MassActionReaction("A + B <-> P", 1e3,
                                                    dissociation_constant=K_d))
        result = model.solve_steady(0.0)
        if K_d > 1e-2:
            assert result.newton_iterations >= 2  # a real solve, not the initial guess
        a, b, p = (nodal(model, n) for n in ("A", "B", "P"))
        # measured: mass action within 1.5e-13, totals within 4e-15 (Newton to 1e-12; with log
        # unknowns the conservation rows are nonlinear too): bounds 1e-10, 100x Newton's
        assert np.allclose(a * b, K_d * p, rtol=1e-10, atol=0)
        assert np.allclose(a + p, 1.001, rtol=1e-10) and np.allclose(b + p, 1.001, rtol=1e-10)
        # the closed form of the free fraction (equal totals)
        assert np.allclose(a / 1.001, pair_free_fraction(0.0, 1.001, K_d), rtol=1e-10)


@pytest.mark.mpi
def test_reservoir_fed_pairs_reach_mass_action(comm):
    """Mobile ions held by the reservoirs (20 nm channel): an immobile pair started at 1e-3 of
    its equilibrium value, and a mobile pair (D = 5e-10 m^2/s) whose reservoirs are at
    equilibrium (equilibrium_concentrations), end at c_P = c_A c_B / K_d at every node."""
    K_d = 0.2
    for mobile_pair in (False, True):
        reaction = MassActionReaction("Ca + SO4 <-> CaSO4", 50.0, dissociation_constant=K_d)
        bulk = equilibrium_concentrations({"Ca": 2.0, "SO4": 2.0, "CaSO4": "equilibrium"},
                                          [reaction])
        pair = bulk["CaSO4"][0] * (1.0 if mobile_pair else 1e-3)
        el = Electrolyte((Species("Ca", 2, 0.79e-9, 2.0, 2.0), Species("SO4", -2, 1.07e-9, 2.0,
                                                                        2.0),
                          Species("CaSO4", 0, 5e-10 if mobile_pair else 0.0, pair, pair)))
        mesh = structured.interval(comm, np.linspace(0.0, 20e-9, 21))
        model = PNPModel(mesh, el, Boundary(), reactions=[reaction],
                         options=SolverOptions(petsc_options={"snes_rtol": 1e-12,
                                                              "snes_atol": 1e-16}))
        model.solve_steady(0.0)
        assert np.allclose(nodal(model, "CaSO4"), 4.0 / K_d, rtol=1e-10)  # measured 2e-16
        # the ions are uniform at their reservoir values: exact (measured 0)
        assert np.allclose(nodal(model, "Ca"), 2.0, rtol=1e-12)


def field_laws():
    return {
        "constant": ConstantLaw(),
        "onsager": OnsagerLaw(),  # bound by the model: |z_A z_B| = 4, T, eps_r of the electrolyte
        "power": PowerLaw(8e6, 4.0),
        "power_saturated": PowerLaw(8e6, 4.0, saturation=1.2e7),
        "table": TableLaw((5e6, 1e7, 2e7, 4e7), (1.5, 4.0, 9.0, 30.0)),
        "table_linear": TableLaw((5e6, 1e7, 2e7, 4e7), (1.5, 4.0, 9.0, 30.0), "linear"),
    }


@pytest.mark.mpi
@pytest.mark.parametrize("kind", list(field_laws()))
def test_steady_free_fraction_follows_the_field_law(comm, kind):
    """Closed box at V = 0.02, 0.1, 0.3 V (|E| = 2e6, 1e7, 3e7 V/m): the steady free fraction
    is the quasi-static n_f = 2 / (1 + sqrt(1 + 4 / kappa)), kappa = K_d f(E) / c_tot, with f
    the law evaluated on arrays. The UFL and numpy laws are one formula (test_kinetics_laws);
    here the solver's steady state, field and source terms are checked to Newton accuracy.
    The free fraction must change with the field (except for the constant law)."""
    law = field_laws()[kind]
    reaction = MassActionReaction("A + B <-> P", 1e3, dissociation_constant=0.2, law=law)
    model = closed_box(comm, [reaction], {"A": 1.0, "B": 1.0, "P": 5.0}, VALENCES)
    bound = model.reactions[0].law
    fractions = []
    for voltage in (0.02, 0.1, 0.3):
        model.solve_steady(voltage)
        field = voltage / BOX_LENGTH
        expected = float(pair_free_fraction(field, 6.0, 0.2, bound))
        solved = nodal(model, "A") / 6.0
        # measured within 6e-12 (Newton to 1e-12)
        assert np.allclose(solved, expected, rtol=1e-9)
        # the field includes the smoothing delta = 1e-6 V_T / L0: sqrt(E^2 + delta^2) is 8e-11
        # above E at 2e6 V/m (measured), the same on every machine
        assert model.observables.inventories(None)["mean_field_V_m"] == pytest.approx(field,
                                                                                       rel=1e-9)
        fractions.append(float(np.mean(solved)))
    if kind == "constant":
        assert fractions[0] == pytest.approx(fractions[-1], rel=1e-9)
    else:
        assert fractions[-1] > 1.5 * fractions[0]


@pytest.mark.mpi
def test_lumped_field_law_sees_the_voltage_over_its_length(comm):
    """A falling (clustering) table law with ``field_length`` = 2 L: in the closed box at V the
    steady free fraction is the quasi-static one at |V| / (2 L) (to Newton accuracy, as above),
    not at the local |E| = V / L, for either sign of V; the free fraction falls with |V|."""
    law = TableLaw((5e6, 1e7, 2e7, 4e7), (0.8, 0.3, 0.05, 0.01))
    reaction = MassActionReaction("A + B <-> P", 1e3, dissociation_constant=0.2, law=law,
                                  field_length=2 * BOX_LENGTH)
    model = closed_box(comm, [reaction], {"A": 1.0, "B": 1.0, "P": 5.0}, VALENCES)
    bound = model.reactions[0].law
    fractions = []
    for voltage in (0.2, -0.4, 0.6):
        model.solve_steady(voltage)
        lumped = float(pair_free_fraction(abs(voltage) / (2 * BOX_LENGTH), 6.0, 0.2, bound))
        local = float(pair_free_fraction(abs(voltage) / BOX_LENGTH, 6.0, 0.2, bound))
        solved = nodal(model, "A") / 6.0
        assert np.allclose(solved, lumped, rtol=1e-9)
        assert abs(local / lumped - 1) > 0.1  # the two fields give different answers
        fractions.append(float(np.mean(solved)))
    assert fractions[0] > 1.5 * fractions[1] > 2 * fractions[2]


@pytest.mark.mpi
def test_onsager_weak_field_limit(comm):
    """Weakly dissociated pairs (K_d = 1e-6 c_tot) at small b: the free fraction grows like
    sqrt(f) = 1 + b/2 + b^2/24 + ..., b = |z_A z_B| e^3 E / (8 pi eps0 eps_r k_B^2 T^2)
    computed here from the constants (b = 0.0556 at 1e6 V/m for z = +-2). The ratio
    n_f(E)/n_f(0) must match 1 + b/2 + b^2/24 to 2e-5 (the neglected terms: sqrt(kappa) b/4 =
    1.4e-5 and b^3/48 ~ 4e-6); 1 + b (the law itself) would be off by b/2."""
    e, kB, eps0, T, eps_r = 1.602176634e-19, 1.380649e-23, 8.8541878188e-12, 298.15, 78.4
    reaction = MassActionReaction("A + B <-> P", 1e3, dissociation_constant=1e-6,
                                  law=OnsagerLaw())
    model = closed_box(comm, [reaction], {"A": 1.0, "B": 1.0, "P": 1e-3}, VALENCES)
    model.solve_steady(0.0)
    at_zero = mean(model, "A")
    voltage = 0.01
    model.solve_steady(voltage)
    b = 4 * e**3 * (voltage / BOX_LENGTH) / (8 * math.pi * eps0 * eps_r * (kB * T) ** 2)
    # the Onsager law's b for these ions (|z_A z_B| = 4) in water at 25 C is this one
    law = OnsagerLaw(4, T, eps_r)
    assert law.parameter_per_field * voltage / BOX_LENGTH == pytest.approx(b, rel=1e-12)
    ratio = mean(model, "A") / at_zero
    assert abs(ratio - (1 + b / 2 + b * b / 24)) < 2e-5


def test_halving_association_rate_doubles_relaxation_time(comm):
    """Reaction-limited regime: a 100 nm channel between reservoirs that hold the free ions
    (Damkohler k_d L^2 / D ~ 2e-4: diffusion refills the channel 5000 times faster than pairs
    break), immobile pairs. After V steps 0 -> 0.5 V (|E| = 5e6 V/m, f = 2), dP/dt = k_a c^2 -
    k_d0 f P with c pinned: P relaxes with tau = 1 / (k_d0 f) = 1 / (K_d k_a f). Halving k_a at
    fixed K_d (update_reaction: only fem.Constants change) doubles tau; measured from a
    log-linear fit of |P - P_inf| (BDF2, tau/50 steps) within 10 %, and each tau within 2 % of
    1 / (k_d0 f)."""
    K_d, law = 1.0, PowerLaw(5e6, 4.0)
    reaction = MassActionReaction("Ca + SO4 <-> CaSO4", 10.0, dissociation_constant=K_d, law=law)
    bulk = equilibrium_concentrations({"Ca": 2.0, "SO4": 2.0, "CaSO4": "equilibrium"},
                                      [reaction])
    el = Electrolyte((Species("Ca", 2, 0.79e-9, 2.0, 2.0), Species("SO4", -2, 1.07e-9, 2.0, 2.0),
                      Species("CaSO4", 0, 0.0, *bulk["CaSO4"])))
    L, voltage = 100e-9, 0.5
    mesh = structured.interval(comm, np.linspace(0.0, L, 21))
    model = PNPModel(mesh, el, Boundary(), reactions=[reaction])
    f = float(law.f(voltage / L))
    assert f == pytest.approx(2.0)

    def relaxation_time(k_a):
        model.update_reaction(0, MassActionReaction("Ca + SO4 <-> CaSO4", k_a,
                                                    dissociation_constant=K_d, law=law))
        model.time = 0.0
        tau_expected = 1.0 / (K_d * k_a * f)
        times, pairs = [], []

        def record(step):
            times.append(step.time)
            pairs.append(mean(model, "CaSO4"))

        TimeIntegrator(model, Step(0.0, voltage), TimeSteppingOptions(
            initial_step=tau_expected / 50, adaptive=False)).run(3 * tau_expected,
                                                                 on_step=record)
        model.solve_steady(voltage)
        p_inf = mean(model, "CaSO4")
        times, excess = np.array(times), np.abs(np.array(pairs) - p_inf)
        window = (times > 0.2 * tau_expected) & (times < 2.5 * tau_expected)
        slope = np.polyfit(times[window], np.log(excess[window]), 1)[0]
        tau = -1.0 / slope
        assert tau == pytest.approx(tau_expected, rel=0.02)
        return tau

    tau_fast = relaxation_time(10.0)
    tau_slow = relaxation_time(5.0)
    assert tau_slow / tau_fast == pytest.approx(2.0, rel=0.10)


@pytest.mark.mpi
def test_charged_mobile_cluster_conducts(comm):
    """A charged, mobile cluster: Ca + Cl <-> CaCl+ (K_d = 2 mol/m^3, constant law). With free
    Ca = 1 and Cl = 4 mol/m^3 the reservoirs hold CaCl = 2 mol/m^3 (mass action) and are
    neutral (2 + 2 - 4 = 0). Identical reservoirs, no walls: the state stays uniform and at
    equilibrium under a voltage, and the current is the bulk conductivity including the
    cluster, I = (F / V_T) sum z^2 D c V / L x area (cross-section 1 m^2), to 1e-9."""
    from ionslit.solvers.constants import FARADAY_CONSTANT, thermal_voltage

    reaction = MassActionReaction("Ca + Cl <-> CaCl", 1e3, dissociation_constant=2.0)
    valences = {"Ca": 2, "Cl": -1, "CaCl": 1}
    diffusivities = {"Ca": 0.79e-9, "Cl": 2.03e-9, "CaCl": 1.0e-9}
    bulk = equilibrium_concentrations({"Ca": 1.0, "Cl": 4.0, "CaCl": "equilibrium"},
                                      [reaction], valences)
    assert bulk["CaCl"] == (2.0, 2.0)
    el = Electrolyte(tuple(Species(n, valences[n], diffusivities[n], *bulk[n])
                           for n in ("Ca", "Cl", "CaCl")))
    L, voltage = 50e-9, 0.05
    mesh = structured.interval(comm, np.linspace(0.0, L, 21))
    model = PNPModel(mesh, el, Boundary(), reactions=[reaction],
                     options=SolverOptions(petsc_options={"snes_rtol": 1e-12,
                                                          "snes_atol": 1e-16}))
    result = model.solve_steady(voltage)
    kappa = FARADAY_CONSTANT / thermal_voltage(298.15) * sum(
        valences[n] ** 2 * diffusivities[n] * bulk[n][0] for n in valences)
    expected = kappa * voltage / L  # A (kappa in S/m, area 1 m^2)
    assert result.current == pytest.approx(expected, rel=1e-9)
    assert result.current_right == pytest.approx(expected, rel=1e-9)
    assert np.allclose(nodal(model, "CaCl"), 2.0, rtol=1e-10)
