"""Diffusion relaxation: an uncharged slit, one reservoir's concentration stepped at t = 0.

Salt with equal ionic diffusivities D diffuses without a field. Slit [0, L] held at c1 (left)
and c0 (right) from c0: the mean concentration relaxes as
    c_mean(t) = (c0 + c1)/2 - (c1 - c0) sum_{n odd} 4/(n pi)^2 exp(-n^2 t / tau),
    tau = L^2 / (pi^2 D),
so from t = tau on it is a single exponential (the n = 3 term is 4e-5 of it at t = tau).
"""

import meshes  # noqa: F401

import math

import numpy as np
import pytest

from meshes import structured
from solvers import (
    Boundary,
    ConstantVoltage,
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

    TimeIntegrator(model, ConstantVoltage(0.0), options).run(t_end, on_step,
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
