"""Diffusion relaxation: an uncharged slit, one reservoir's concentration stepped at t = 0.

Salt with equal ionic diffusivities D diffuses without a field. Slit [0, L] held at c1 (left)
and c0 (right) from c0: the mean concentration relaxes as
    c_mean(t) = (c0 + c1)/2 - (c1 - c0) sum_{n odd} 4/(n pi)^2 exp(-n^2 t / tau),
    tau = L^2 / (pi^2 D),
so from t = tau on it is a single exponential (the n = 3 term is 4e-5 of it at t = tau).

``test_case_*``: the shipped case, ``cases/diffusion_relaxation.toml`` ([protocol] kind =
"concentration_step"): the time constant from ``ionslit run``'s series.csv, and the time-step
convergence orders with the case's model and fixed steps (the case schema has no fixed-step
option: ``[solver]`` steps are adaptive, so the order test drives ``TimeIntegrator`` with
``adaptive=False`` through the API, exactly as ``ionslit run`` does otherwise). The other tests
are the same physics on structured meshes (1D for the orders).
"""

import ionslit.meshes  # noqa: F401

# isort: split
import math

import numpy as np
import pytest

from ionslit.coupling.waveforms import Constant
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

D, C0, C1 = 2.0e-9, 10.0, 20.0  # m^2/s, mol/m^3


def salt():
    return Electrolyte((Species("K", 1, D, C0, C0), Species("Cl", -1, D, C0, C0)))


def relax(model, t_end, options, record_every=None):
    """Steady state at c0, step the left reservoir to c1, integrate; (times, mean c in slit)."""
    model.solve_steady(0.0)
    for name in ("K", "Cl"):
        model.set_reservoir_concentration(name, "left", C1)
    times, means = [], []

    def on_step(record):
        times.append(record.time)
        means.append(model.observables.inventories("slit")["mean_concentration_K_mol_m3"])

    TimeIntegrator(model, Constant(0.0), options).run(t_end, on_step,
                                                             start_from_steady=False)
    return np.array(times), np.array(means)


def fitted_time_constant(times, means, tau):
    """Log-slope of c_inf - c_mean between t = tau and 3 tau."""
    c_inf = 0.5 * (C0 + C1)
    deficit = np.interp([tau, 3 * tau], times, c_inf - means)
    return 2 * tau / math.log(deficit[0] / deficit[1])


@pytest.mark.mpi
def test_time_constant_in_a_slit_between_reservoirs(comm):
    """2D: a 500 nm x 1 nm slit between short, wide reservoirs (20 nm x 100 nm) whose far ends
    are stepped. The mouths follow the electrodes within ~1 % of tau; the slit's end correction
    (each mouth adds delta ~ (h / pi) ln(4 R / h) ~ 1.4 nm of effective length) lengthens tau by
    ~(1 + 2 delta / L)^2 - 1 ~ 1 % (it is 5 % for L / h = 100). Fitted tau within 2 % of
    L^2 / (pi^2 D) (measured: +1.1 %)."""
    L = 500e-9
    mesh = structured.slit_with_reservoirs(
        comm, L, 1e-9, reservoir_length=20e-9, reservoir_height=100e-9, wall_size=0.25e-9,
        mouth_size=0.25e-9, max_size=10e-9, growth=1.3, slit_max_size=0.5e-9)
    model = PNPModel(mesh, salt(), Boundary())
    tau = L**2 / (math.pi**2 * D)
    times, means = relax(model, 3 * tau, TimeSteppingOptions(initial_step=tau / 200,
                                                             max_step=tau / 40))
    assert fitted_time_constant(times, means, tau) == pytest.approx(tau, rel=0.02)
    # The full analytic curve (single mode + higher ones) from t = tau / 4 on.
    n = np.arange(1, 40, 2)
    exact = 0.5 * (C0 + C1) - (C1 - C0) * np.sum(
        4 / (n[:, None] * np.pi) ** 2 * np.exp(-(n[:, None] ** 2) * times[None, :] / tau),
        axis=0)
    late = times > tau / 4
    assert np.max(np.abs(means[late] - exact[late])) < 0.01 * (C1 - C0)


def mean_at(scheme, dt, t_end, comm):
    mesh = structured.interval(comm, np.linspace(0.0, 100e-9, 101))
    model = PNPModel(mesh, salt(), Boundary(), SolverOptions(time_scheme=scheme))
    times, means = relax(model, t_end, TimeSteppingOptions(initial_step=dt, adaptive=False))
    assert times[-1] == t_end
    return means[-1]


@pytest.mark.mpi
@pytest.mark.parametrize("scheme, order", [("backward_euler", 1), ("bdf2", 2)])
def test_time_step_convergence_order(comm, scheme, order):
    """1D slit (100 cells). Error of c_mean(tau) against the same mesh with a 64x smaller BDF2
    step (pure time-discretisation error); measured orders 0.977, 0.988 (BE) and 2.053, 2.029
    (BDF2) for tau / 10, 20, 40."""
    tau = (100e-9) ** 2 / (math.pi**2 * D)
    reference = mean_at("bdf2", tau / 640, tau, comm)
    errors = [abs(mean_at(scheme, tau / n, tau, comm) - reference) for n in (10, 20, 40)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - order) < 0.15), orders


# ------------------------------------------------------------------------------------------
# Case-driven: cases/diffusion_relaxation.toml.
import casekit  # noqa: E402

from ionslit import translate  # noqa: E402


def case_constants(case):
    """(c0, c1, D, tau) of the case: the initial and stepped left reservoir, the diffusivity
    (equal for both ions) and tau = L^2 / (pi^2 D)."""
    k = next(s for s in case.electrolyte.species if s.name == "K")
    c1 = case.protocol.left["K"]
    return k.concentration, c1, k.diffusivity, case.geometry.length**2 / (math.pi**2 * k.diffusivity)


@pytest.mark.mpi
def test_case_time_constant(comm, tmp_path):
    """``ionslit run`` (in-process) of the case: the time constant fitted to series.csv's
    mean slit concentration between tau and 3 tau within 2 % of L^2 / (pi^2 D) (measured
    +1.09 %: the mouths' end correction, see the case file), and the whole curve from tau / 4
    on within 1 % of (c1 - c0) of the analytic series (measured 0.55 %)."""
    loaded = casekit.load("diffusion_relaxation", "output.fields=[]")
    results = casekit.run(loaded, casekit.shared_directory(tmp_path, comm) / "relaxation")
    assert results.manifest["status"] == "ok"
    c0, c1, d, tau = case_constants(loaded.case)
    times = results.series["time_s"]
    means = results.series["mean_concentration_K_mol_m3"]
    # before the step: the uniform steady state, which P1 represents exactly
    # (measured: exactly c0)
    assert times[0] == 0.0 and means[0] == pytest.approx(c0, rel=1e-10)
    assert times[-1] == pytest.approx(loaded.case.protocol.duration, rel=1e-12)
    c_inf = 0.5 * (c0 + c1)
    deficit = np.interp([tau, 3 * tau], times, c_inf - means)
    fitted = 2 * tau / math.log(deficit[0] / deficit[1])
    n = np.arange(1, 40, 2)
    exact = c_inf - (c1 - c0) * np.sum(
        4 / (n[:, None] * np.pi) ** 2 * np.exp(-(n[:, None] ** 2) * times[None, :] / tau), axis=0)
    late = times > tau / 4
    curve_error = np.max(np.abs(means[late] - exact[late])) / (c1 - c0)
    print(f"tau fitted {fitted:.4e} s vs {tau:.4e} s ({fitted / tau - 1:+.2e}); curve "
          f"{curve_error:.2e} of c1 - c0")
    assert fitted == pytest.approx(tau, rel=0.02)
    assert curve_error < 0.01


def case_mean_at_tau(scheme, steps):
    """The case with ``steps`` fixed steps to t = tau: the slit's mean concentration then."""
    loaded = casekit.load("diffusion_relaxation", f'solver.time_scheme="{scheme}"')
    _, _, _, tau = case_constants(loaded.case)
    model = casekit.build(loaded)
    protocol, _ = translate.voltage_protocol(loaded.case)
    integrator = TimeIntegrator(model, protocol,
                                TimeSteppingOptions(initial_step=tau / steps, adaptive=False))
    integrator.start(0.0)  # as `ionslit run`: the steady state, then the step at t = 0+
    for (name, side), value in translate.concentration_steps(loaded.case).items():
        model.set_reservoir_concentration(name, side, value)
    records = integrator.run(tau, start_from_steady=False)
    assert len(records) == steps and records[-1].time == tau
    return model.observables.inventories("slit")["mean_concentration_K_mol_m3"]


@pytest.mark.mpi
@pytest.mark.parametrize("scheme, expected", [("backward_euler", 1), ("bdf2", 2)])
def test_case_time_step_order(comm, scheme, expected):
    """Observed order from successive differences of c_mean(tau) with tau / 8, 16, 32, 64
    (no reference solution needed: the spatial error is the same on one mesh and cancels).
    Measured: backward Euler 0.959, 0.978; BDF2 2.049, 2.043 (the first BDF2 step after the
    jump is backward Euler, whose O(dt^2) local error does not spoil order 2). Band +-0.1."""
    values = np.array([case_mean_at_tau(scheme, n) for n in (8, 16, 32, 64)])
    differences = np.abs(np.diff(values))
    orders = np.log2(differences[:-1] / differences[1:])
    print(f"{scheme}: c_mean(tau) {values}, orders {orders}")
    assert np.all(np.abs(orders - expected) < 0.1), orders


@pytest.mark.parametrize("override, message", [
    ('protocol.left.Na="1 mM"', "no species 'Na'"),
    ('protocol.left={ K = "20 mM" }', "not electroneutral"),
    ('protocol.left={ K = "0 mM", Cl = "0 mM" }', "needs c > 0"),
    ("protocol.left={}", "give the new reservoir concentrations"),
    ('protocol.duration="0 s"', "greater than 0"),
])
def test_case_concentration_step_is_validated(override, message):
    """The concentration_step protocol's input checks (before any mesh is built)."""
    from ionslit.case import CaseError

    with pytest.raises(CaseError, match=message):
        casekit.load("diffusion_relaxation", override)
