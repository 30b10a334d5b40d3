"""The implicit circuit integrator on circuits with exact solutions, a scalar (PNP-like)
provider, lanes and checkpoints."""

import math
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from coupling_toys import ScalarMemristor
from scipy.integrate import solve_ivp

from ionslit.coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    Constant,
    IntegrationError,
    IntegratorOptions,
    PiecewiseLinear,
    PulseTrain,
    Resistor,
    Sine,
    simulate_lanes,
)

C, G, E = 10e-12, 5e-9, -0.07  # F, S, V: tau = C/G = 2 ms


def rc(stimulus, u0=E, lanes=1):
    return Circuit(C, [Branch(Resistor(G, lanes=lanes), E, 1, "leak")], stimulus,
                   initial_voltage=u0)


def rc_sine_exact(t, amplitude, frequency, u0):
    """C U' = A sin(w t) - G (U - E), U(0) = u0."""
    w, k = 2 * math.pi * frequency, G / C
    a = amplitude / C
    particular = a * (k * np.sin(w * t) - w * np.cos(w * t)) / (k * k + w * w)
    return E + particular + (u0 - E + a * w / (k * k + w * w)) * np.exp(-k * t)


def test_rc_pulse_train_hits_every_corner_and_matches_the_exact_solution():
    train = PulseTrain(0.2e-9, width=0.5e-3, start=1e-3, period=2e-3, count=4)
    options = IntegratorOptions(rtol=1e-7, atol=1e-10, record=True)
    integrator = CircuitIntegrator(rc(train), options).run(10e-3)
    t, u = integrator.trace()
    for corner in train.milestones(0.0, 10e-3):
        assert corner in t  # landed exactly, not approximately
    # exact: superposition of exponential relaxations after each corner
    k = G / C
    expected = np.full_like(t, E)
    for on in (1e-3, 3e-3, 5e-3, 7e-3):
        for corner, sign in ((on, 1.0), (on + 0.5e-3, -1.0)):
            s = np.clip(t - corner, 0, None)
            expected += sign * 0.2e-9 / G * (1 - np.exp(-k * s))
    # The controller keeps each step's local error below atol + rtol |U| ~ 7e-9 V; BDF2's
    # errors have one sign and add up over the ~C/G / dt ~ 100-300 steps of a relaxation time
    # before they are damped, so the global error is ~ 30-100 local tolerances (measured:
    # 2.4e-7 V). Bound: 5e-7 V, 1.2e-5 of the 0.04 V excursion.
    assert np.max(np.abs(u - expected)) < 5e-7


@pytest.mark.parametrize("scheme, order", [("backward_euler", 1.0), ("bdf2", 2.0)])
def test_fixed_step_order_on_a_driven_rc_circuit(scheme, order):
    amplitude, frequency, t_end = 0.5e-9, 300.0, 5e-3
    steps = np.array([t_end / 50, t_end / 100, t_end / 200, t_end / 400])
    options = IntegratorOptions(scheme=scheme, adaptive=False, step=steps, newton_tol=1e-15)
    circuit = rc(Sine(amplitude, frequency, quarter_periods=False), lanes=steps.size)
    integrator = CircuitIntegrator(circuit, options).run(t_end)  # one lane per step size
    errors = np.abs(integrator.voltage - rc_sine_exact(t_end, amplitude, frequency, E))
    observed = np.log2(errors[:-1] / errors[1:])
    # asymptotic regime (w dt <= 0.1): observed orders within 0.1 of the scheme's order
    np.testing.assert_allclose(observed, order, atol=0.1)


def test_piecewise_linear_stimulus_with_a_jump():
    wave = PiecewiseLinear([0.0, 2e-3, 2e-3, 4e-3], [0.0, 0.1e-9, -0.1e-9, 0.0])
    options = IntegratorOptions(rtol=1e-8, atol=1e-11)
    integrator = CircuitIntegrator(rc(wave), options).run(4e-3)
    sol = solve_ivp(lambda t, y: [(wave.value(t) - G * (y[0] - E)) / C], (0, 4e-3), [E],
                    method="Radau", rtol=1e-10, atol=1e-14, first_step=1e-7,
                    t_eval=[4e-3], max_step=1e-5)
    # local tolerance 7e-10 V; global error ~ (steps per relaxation time ~ 300) x local
    # (measured 9.4e-8 V; see the pulse-train test): bound 3e-7 V, 1.5e-5 of the excursion
    assert integrator.voltage[0] == pytest.approx(sol.y[0, -1], abs=3e-7)


def toy_circuit(toy, stimulus):
    return Circuit(C, [Branch(toy, 0.0, 2, "toy")], stimulus, initial_voltage=0.0)


def toy_reference(toy, stimulus, t_end):
    def rhs(t, y):
        u, g = y
        return [(stimulus.value(t) - 2 * g * u) / C, (toy.g_inf(u) - g) / toy.tau]

    sol = solve_ivp(rhs, (0, t_end), [0.0, toy.g0], method="Radau", rtol=1e-10, atol=1e-20,
                    t_eval=[t_end])
    return sol.y[0, -1]


def test_a_scalar_provider_needs_few_tries_per_step():
    """A provider without dI/dV (a live PNP slit) is solved by secants reused across steps."""
    toy = ScalarMemristor()
    stimulus = Sine(2e-9, 500.0, quarter_periods=False)
    # the toy integrates its own state by backward Euler: the coupled scheme is first order
    options = IntegratorOptions(scheme="backward_euler", rtol=1e-5, atol=1e-8)
    integrator = CircuitIntegrator(toy_circuit(toy, stimulus), options).run(4e-3)
    stats = integrator.statistics
    attempts = stats["accepted"][0] + stats["rejected"][0]
    assert toy.tries / attempts < 3.0  # the budget for an expensive live slit
    # First-order coupled scheme with per-step control: the global error falls like rtol^1/2
    # (measured 1.9e-4, 6.0e-5, 1.9e-5 V at rtol 1e-5, 1e-6, 1e-7), 1.9e-4 V here against a
    # 0.04 V swing; bound 4e-4 V (1 % of the swing).
    assert integrator.voltage[0] == pytest.approx(toy_reference(toy, stimulus, 4e-3),
                                                  abs=4e-4)


def test_provider_failures_cut_the_step_and_the_run_continues():
    toy = ScalarMemristor()
    stimulus = Constant(1e-9)
    integrator = CircuitIntegrator(toy_circuit(toy, stimulus), IntegratorOptions())
    integrator.run(1e-4)
    toy.fail_next = 3  # three diverged solves in a row
    integrator.run(2e-3)
    assert integrator.statistics["failed"][0] >= 1
    assert integrator.time[0] == 2e-3
    # a provider that cannot reach the needed voltage at all ends the run with a clear error
    toy = ScalarMemristor(fail_above=0.05)
    integrator = CircuitIntegrator(toy_circuit(toy, Constant(5e-9)),
                                   IntegratorOptions(max_failures=5))
    with pytest.raises(IntegrationError, match="provider error"):
        integrator.run(5e-3)


def test_lanes_reproduce_separate_runs_and_checkpoints_continue_exactly():
    stimuli = np.array([0.1e-9, 0.3e-9, -0.2e-9])
    options = IntegratorOptions(rtol=1e-6, atol=1e-9)
    batch = CircuitIntegrator(rc(Sine(stimuli, 400.0, quarter_periods=False), lanes=3), options).run(3e-3)
    for lane, a in enumerate(stimuli):
        alone = CircuitIntegrator(rc(Sine(a, 400.0, quarter_periods=False)), options).run(3e-3)
        # same step sequence per lane; vectorised math may round differently by an ulp
        assert batch.voltage[lane] == pytest.approx(alone.voltage[0], rel=1e-12)
    # checkpoint mid-run, continue twice: identical
    first = CircuitIntegrator(rc(Sine(stimuli, 400.0, quarter_periods=False), lanes=3), options).run(1e-3)
    saved = pickle.dumps(first.state())
    first.run(3e-3)
    second = CircuitIntegrator(rc(Sine(stimuli, 400.0, quarter_periods=False), lanes=3), options)
    second.restore(pickle.loads(saved))
    second.run(3e-3)
    np.testing.assert_array_equal(first.voltage, second.voltage)


def test_runs_with_scalar_providers_go_one_after_the_other_from_the_same_state():
    toy = ScalarMemristor()
    circuit = toy_circuit(toy, Constant(0.0))
    options = IntegratorOptions(rtol=1e-6, atol=1e-9)
    runs = simulate_lanes(circuit, [1e-9, 2e-9], Constant, 1e-3, options)
    assert toy.g == toy.g0 and toy.time == 0.0  # restored after the runs
    for run in runs:
        alone = ScalarMemristor()
        expected = CircuitIntegrator(toy_circuit(alone, Constant(run.amplitude)),
                                     options).run(1e-3)
        assert run.final_voltage == expected.voltage[0]


def test_a_provider_on_another_time_scheme_is_reported():
    toy = ScalarMemristor()
    toy.options = SimpleNamespace(time_scheme="backward_euler")  # as a PNP model names it
    with pytest.warns(UserWarning, match="first order"):
        CircuitIntegrator(toy_circuit(toy, Constant(0.0)), IntegratorOptions())


@pytest.mark.parametrize("change, message", [
    (dict(scheme="rk4"), "scheme"),
    (dict(adaptive=False), "need a step"),
    (dict(step=-1.0), "must be > 0"),
    (dict(rtol=0.0), "rtol"),
    (dict(max_growth=3.0), "max_growth"),
])
def test_invalid_options(change, message):
    with pytest.raises(ValueError, match=message):
        IntegratorOptions(**change)


def test_voltage_change_cap_callbacks_and_lane_checks():
    options = IntegratorOptions(max_voltage_change=2e-3, record=True)
    seen = []
    integrator = CircuitIntegrator(rc(Constant(0.1e-9)), options)
    integrator.run(5e-3, on_step=lambda integ, accepted: seen.append(float(integ.time[0])))
    t, u = integrator.trace()
    assert np.max(np.abs(np.diff(u))) <= 2e-3
    assert seen == list(t[1:])
    with pytest.raises(RuntimeError, match="record"):
        CircuitIntegrator(rc(Constant(0.0)), IntegratorOptions()).trace()
    with pytest.raises(ValueError, match="lanes"):
        CircuitIntegrator(rc(Constant(np.array([1e-9, 2e-9]))), options)
