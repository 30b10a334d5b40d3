"""Reduced model tau(V) dg/dt = g_inf(V) - g: interpolation, integration accuracy, JSON format."""

import json
import math

import numpy as np
import pytest
from memristor_helpers import linear_periodic_g, quadratic_periodic_g

from ionslit.coupling.memristor import (
    ReducedModel,
    advance,
    g_inf_from_slow_sweep,
    periodic_response,
    simulate,
    sine_cycle,
)
from ionslit.coupling.tables import MonotoneTable

F = 100.0
OMEGA = 2 * math.pi * F


def test_monotone_cubic_shape_and_accuracy():
    # monotone data with a sharp step: no overshoot anywhere (PCHIP's point; a natural cubic
    # spline through these knots overshoots by ~10 %), up to rounding
    x = np.array([-1.0, -0.5, 0.0, 0.1, 0.5, 1.0])
    y = np.array([0.0, 0.0, 0.1, 1.0, 1.0, 1.0])
    q = np.linspace(-1.5, 1.5, 3001)
    yq = MonotoneTable(x, [y])(q)[0]
    assert yq.min() >= -1e-15 and yq.max() <= 1.0 + 1e-15
    assert np.all(np.diff(yq) >= -1e-15)
    # constant outside the table
    assert MonotoneTable(x, [y])(-7.0)[0] == 0.0 and MonotoneTable(x, [y])(7.0)[0] == 1.0
    # straight lines are reproduced exactly, one knot is a constant, two a line
    assert MonotoneTable([0, 1, 3], [[1, 3, 7]])(np.array([0.5, 2.0]))[0] == pytest.approx([2, 5])
    assert MonotoneTable([0.2], [[4.0]])(np.array([-1.0, 3.0]))[0] == pytest.approx([4.0, 4.0])
    assert MonotoneTable([0, 2], [[0, 1]])(1.5)[0] == pytest.approx(0.75)
    # smooth monotone function: PCHIP's slopes are 2nd-order accurate, so the interpolation error
    # is O(h^3); measured max errors for tanh(2x) on [0, 2] with 17, 33, 65, 129 knots:
    # 1.7e-3, 2.4e-4, 3.1e-5, 3.9e-6 (observed orders 2.83, 2.96, 2.99)
    q01 = np.linspace(0, 2, 4001)
    errors = []
    for n in (17, 33, 65, 129):
        k = np.linspace(0, 2, n)
        errors.append(np.abs(MonotoneTable(k, [np.tanh(2 * k)])(q01)[0] - np.tanh(2 * q01)).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 2.7) and rates[-1] > 2.9, rates
    with pytest.raises(ValueError, match="strictly increasing"):
        MonotoneTable([0, 0, 1], [[1, 2, 3]])


def _quadratic_model(tau=1e-3, n=401):
    v = np.linspace(-1, 1, n)
    return ReducedModel.from_tables(v, 1e-9 * (1 + 2 * v**2), tau)


def test_periodic_state_converges_at_second_order():
    # exact periodic state of g_inf = g0 + b V^2 (memristor_helpers); the table (401 points)
    # reproduces the parabola to ~1e-8 relative, far below the time-stepping error
    model = _quadratic_model()
    tau = 1e-3
    errors = []
    for n in (100, 200, 400, 800):
        t, v, g, i = sine_cycle(model, F, 1.0, n)
        exact = quadratic_periodic_g(t, 1e-9, 2e-9, 1.0, OMEGA, tau)
        errors.append(np.abs(g - exact).max() / 1e-9)
        assert i == pytest.approx(g * v, rel=0, abs=0)
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured 2.0, 2.0, 2.0 and 9e-6 relative at 800 steps per period
    assert np.all((rates > 1.9) & (rates < 2.1)), rates
    assert errors[-1] < 2e-5


def test_transient_from_an_initial_state_matches_closed_form():
    # g_inf = g0 + a V is linear in V and V(t) = V0 sin(wt) is smooth: g(t) = periodic part +
    # (g(0) - periodic(0)) e^{-t/tau}; the integrator (exact for V linear in time within a
    # step) converges at 2nd order towards it
    g0, a, v0, tau = 1e-9, 0.5e-9, 1.0, 2e-3
    v = np.linspace(-1, 1, 3)
    model = ReducedModel.from_tables(v, g0 + a * v, tau, g_initial_S=0.3e-9)
    t = np.linspace(0, 5 / F, 501)  # 100 samples per period
    exact = linear_periodic_g(t, g0, a, v0, OMEGA, tau)
    exact = exact + (0.3e-9 - exact[0]) * np.exp(-t / tau)
    errors = []
    for substeps in (1, 2, 4):
        g, i = simulate(model, t, lambda s: v0 * math.sin(OMEGA * s), substeps=substeps)
        errors.append(np.abs(g - exact).max() / g0)
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((rates > 1.9) & (rates < 2.1)), rates
    # with samples only (V linear between them), the same as substeps=1 on a callable
    g_samples, _ = simulate(model, t, v0 * np.sin(OMEGA * t))
    assert np.abs(g_samples - exact).max() / g0 == pytest.approx(errors[0], rel=1e-9)


def test_voltage_dependent_tau_self_convergence_and_periodic_map():
    # tau(V) = tau0 / (1 + 4 V^2), g_inf nonlinear: no closed form, so compare with a run on a
    # 16x finer grid; the observed order must still be 2
    v = np.linspace(-1, 1, 41)
    model = ReducedModel.from_tables(v, 1e-9 * (1 + v + 2 * v**2), 1e-3 / (1 + 4 * v**2))

    def drive(s):
        return 0.9 * math.sin(OMEGA * s)
    t = np.linspace(0, 3 / F, 301)
    ref, _ = simulate(model, t, drive, substeps=32)
    errors = [np.abs(simulate(model, t, drive, substeps=k)[0] - ref).max() for k in (1, 2, 4)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((rates > 1.8) & (rates < 2.2)), rates
    # the periodic state (affine map's fixed point) equals the last cycle of a long run
    # started anywhere (30 periods = 30 * 10 ms / (>= 0.2 ms) decay: transient gone)
    tp, vp, gp, ip = periodic_response(model, drive, 1 / F, 200)
    long_t = np.linspace(0, 30 / F, 30 * 200 + 1)
    g_long, _ = simulate(model, long_t, drive, g_initial_S=5e-9)
    assert g_long[-201:] == pytest.approx(gp, rel=1e-9)


def test_advance_is_the_simulation_step_and_handles_any_dt():
    model = _quadratic_model()
    g1 = advance(model, 1e-9, 2e-4, 0.1, 0.6)
    g_sim, _ = simulate(model, [0.0, 2e-4], [0.1, 0.6], g_initial_S=1e-9)
    assert g1 == pytest.approx(g_sim[-1], rel=1e-14)
    # huge step: straight to g_inf(V_end); zero step: unchanged
    assert advance(model, 1e-9, 1e3, 0.1, 0.6) == pytest.approx(float(model.g_inf(0.6)), rel=1e-12)
    assert advance(model, 1.7e-9, 0.0, 0.1, 0.6) == 1.7e-9
    # vectorised over states
    assert advance(model, np.array([1e-9, 2e-9]), 1e-4, 0.5, 0.5).shape == (2,)


def test_tables_broadcast_resample_and_validation():
    m = ReducedModel.from_tables([1.0, -1.0, 0.0], [3.0, 3.0, 1.0], 2e-3)  # unsorted
    assert m.voltage_V.tolist() == [-1.0, 0.0, 1.0] and m.tau_s.tolist() == [2e-3] * 3
    assert m.tau_is_constant
    # tau measured at other voltages: resampled by the monotone cubic, constant outside
    m2 = ReducedModel.from_tables([-1, 0, 1], [3, 1, 3], [1e-3, 2e-3], tau_voltage_V=[0, 1])
    assert m2.tau_s.tolist() == pytest.approx([1e-3, 1e-3, 2e-3])
    assert m2.g_inf(5.0) == 3.0  # constant extrapolation
    with pytest.raises(ValueError, match="strictly increasing"):
        ReducedModel.from_tables([0, 0], [1, 1], 1.0)
    with pytest.raises(ValueError, match="tau_s must be > 0"):
        ReducedModel.from_tables([0, 1], [1, 1], [1.0, 0.0])
    with pytest.raises(ValueError, match=">= 0"):
        ReducedModel.from_tables([0, 1], [1, -1], 1.0)
    with pytest.raises(ValueError, match="one value"):
        ReducedModel.from_tables([0, 1, 2], [1, 1, 1], [1.0, 2.0])


def test_json_round_trip_and_exact_format(tmp_path):
    v = np.linspace(-0.8, 0.8, 17)
    model = ReducedModel.from_tables(
        v, 1e-9 * (1 + 2 * v**2) / 3, 1e-3 / (1 + v**2), g_initial_S=0.7e-9,
        source={"case": "memristor_sine", "fit_rms_S": np.float64(1.5e-12),
                "levels": np.arange(3)})
    path = model.save(tmp_path / "reduced_model.json")
    data = json.loads(path.read_text())
    assert list(data) == ["kind", "version", "voltage_V", "g_inf_S", "tau_s", "g_initial_S",
                          "source"]
    assert data["kind"] == "ionslit.reduced_memristor" and data["version"] == 1
    assert data["source"] == {"case": "memristor_sine", "fit_rms_S": 1.5e-12,
                              "levels": [0, 1, 2]}
    back = ReducedModel.load(path)
    # floats survive JSON exactly (repr round trip): bitwise-equal tables and predictions
    for name in ("voltage_V", "g_inf_S", "tau_s"):
        assert np.array_equal(getattr(back, name), getattr(model, name))
    assert back.g_initial_S == 0.7e-9
    t = np.linspace(0, 0.02, 401)
    assert np.array_equal(simulate(back, t, 0.8 * np.sin(OMEGA * t))[1],
                          simulate(model, t, 0.8 * np.sin(OMEGA * t))[1])
    # constant tau is written on the grid; g_initial_S omitted when None; one tau accepted
    plain = ReducedModel.from_tables([0.0, 1.0], [1e-9, 2e-9], 5e-3)
    d = plain.to_dict()
    assert d["tau_s"] == [5e-3, 5e-3] and "g_initial_S" not in d
    d["tau_s"] = [5e-3]
    assert ReducedModel.from_dict(d).tau_s.tolist() == [5e-3, 5e-3]
    with pytest.raises(ValueError, match="kind"):
        ReducedModel.from_dict({**d, "kind": "something"})
    with pytest.raises(ValueError, match="version"):
        ReducedModel.from_dict({**d, "version": 2})
    with pytest.raises(ValueError, match="unknown keys"):
        ReducedModel.from_dict({**d, "tau": 1.0})
    # the temporary file is gone after the atomic write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reduced_model.json"]


def test_g_inf_from_a_slow_triangle_sweep():
    # triangle +-1 V of period 0.4 s (1 V per 0.1 s: r = 10 V/s) and tau = 1 ms: lag tau r =
    # 0.01 V. One branch alone is off by up to tau r g_inf'(1 V) = 0.01 * 4 nS/V = 4e-11 S
    # (1.4 % of max g_inf, measured); averaging both cancels it, leaving (tau r)^2 g''/2 +
    # g'' h^2/24 ~ 2.7e-4 of max g_inf (measured) except in the two end bins (turning points,
    # measured 2.5e-3)
    v_grid = np.linspace(-1, 1, 401)
    model = ReducedModel.from_tables(v_grid, 1e-9 * (1 + 2 * v_grid**2), 1e-3)
    period = 0.4
    t = np.linspace(0, 2 * period, 40001)
    v = 2 / math.pi * np.arcsin(np.sin(2 * math.pi * t / period))
    _, i = simulate(model, t, v)
    last = t >= period
    volts, g = g_inf_from_slow_sweep(v[last], i[last], n_points=41)
    assert volts.size == 41 and np.all(np.diff(volts) > 0)
    error = np.abs(g - model.g_inf(volts)) / 3e-9
    assert error[1:-1].max() < 5e-4 and error.max() < 5e-3
    rising = last & (np.gradient(v) > 0)
    v_up, g_up = g_inf_from_slow_sweep(v[rising], i[rising], n_points=41)
    assert (np.abs(g_up - model.g_inf(v_up)) / 3e-9).max() > 1e-2
