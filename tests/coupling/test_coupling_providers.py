"""Provider protocol conformance, reduced-model files, Hodgkin-Huxley rate functions."""

import json
import pickle

import numpy as np
import pytest
from coupling_reference import hh_rates, hh_steady_current
from coupling_toys import ScalarMemristor

from ionslit.coupling import HodgkinHuxleyChannel, LaneProvider, ReducedMemristor, Resistor
from ionslit.coupling.hodgkin_huxley import rates
from ionslit.coupling.provider import SteadyStateProvider, as_lanes
from ionslit.coupling.reduced import ReducedModel


def reduced_table(**extra):
    v = np.linspace(-0.4, 0.4, 81)
    model = {"kind": "ionslit.reduced_memristor", "version": 1, "voltage_V": v.tolist(),
             "g_inf_S": (1e-9 * (1 + (v / 0.1) ** 2)).tolist(),
             "tau_s": (1e-3 * (1 + 0.5 * np.tanh(v / 0.1))).tolist()}
    model.update(extra)
    return model


def providers():
    return [ReducedMemristor(reduced_table()), HodgkinHuxleyChannel("na"),
            HodgkinHuxleyChannel("k", area=1e-8), Resistor(2e-9)]


@pytest.mark.parametrize("provider", providers(), ids=lambda p: type(p).__name__)
def test_protocol(provider):
    """The scalar contract as the integrator uses it (the Protocol check alone only sees that
    the names exist): a try at v > 0 returns a finite current of v's sign (passive elements);
    reject() keeps the accepted time, accept() advances it by dt; restore() of a pickled
    snapshot returns to that state (the same try gives the same current)."""
    dt, v = 1e-5, 0.03
    saved = pickle.loads(pickle.dumps(provider.state))
    t0 = np.array(provider.time, dtype=float)
    first = np.asarray(provider.try_step(dt, v), dtype=float)
    assert np.all(np.isfinite(first)) and np.all(first > 0)
    provider.reject()
    np.testing.assert_array_equal(provider.time, t0)
    np.testing.assert_array_equal(provider.try_step(dt, v), first)  # same try, same state
    provider.accept()
    np.testing.assert_allclose(provider.time, t0 + dt, rtol=1e-15)
    provider.try_step(dt, -v)
    provider.accept()
    provider.restore(saved)
    np.testing.assert_array_equal(provider.time, t0)
    np.testing.assert_array_equal(provider.try_step(dt, v), first)


@pytest.mark.parametrize("provider", providers(), ids=lambda p: type(p).__name__)
def test_the_package_providers_declare_the_lane_and_steady_state_contracts(provider):
    assert isinstance(provider, LaneProvider) and isinstance(provider, SteadyStateProvider)
    assert as_lanes(provider) is provider


@pytest.mark.parametrize("make", [lambda: ReducedMemristor(reduced_table()),
                                  lambda: HodgkinHuxleyChannel("na"),
                                  lambda: HodgkinHuxleyChannel("k")])
def test_repeated_tries_then_accept_equal_one_try(make):
    """The implicit circuit iteration re-solves a step with other voltages: the accepted state
    must depend on the last voltage only (bit for bit), and reject() must restore."""
    a, b = make(), make()
    volts = [0.03, -0.02, 0.05, 0.01, 0.02]
    for step, v in enumerate(volts):  # a few steps so that BDF2 (two levels) is active
        dt = 1e-5 * (1 + 0.3 * step)
        for trial in (0.2, -0.1, v + 1e-3):
            a.try_step(dt, trial)
        a.reject()
        a.try_step(dt, -0.3)
        current_a = a.try_step(dt, v)
        current_b = b.try_step(dt, v)
        assert current_a == current_b
        a.accept()
        b.accept()
        np.testing.assert_array_equal(a.states, b.states)
    assert a.state["levels"][0] == 2


@pytest.mark.parametrize("make", [lambda: ReducedMemristor(reduced_table()),
                                  lambda: ReducedMemristor(reduced_table(tau_s=[2e-4] * 81)),
                                  lambda: HodgkinHuxleyChannel("na"),
                                  lambda: HodgkinHuxleyChannel("k"),
                                  lambda: Resistor(3e-9)])
def test_differential_conductance_is_the_derivative_of_the_step_map(make):
    p = make()
    p.try_step(2e-5, 0.02)
    p.accept()
    dt = 1.5e-5
    for v in (-0.12, -0.03, 0.0, 0.04, 0.11):
        p.try_step(dt, v)
        g = float(p.differential_conductance[0])
        delta = 1e-6
        fd = (p.try_step(dt, v + delta) - p.try_step(dt, v - delta)) / (2 * delta)
        p.reject()
        # central difference error ~ delta^2 I''' ~ 1e-12 relative; round-off ~ eps |I| / delta
        assert g == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(g) + 1e-30)


def test_reduced_relaxation_converges_at_second_order():
    """At constant V the conductance relaxes exponentially; BDF2 errors fall like dt^2."""
    model = reduced_table()
    v, t_end = 0.15, 2e-3
    errors = []
    for n in (50, 100, 200):
        p = ReducedMemristor(model, g_initial=1e-9)
        for _ in range(n):
            p.try_step(t_end / n, v)
            p.accept()
        g_inf, tau = float(p.g_inf(v)), float(p.tau(v))
        exact = g_inf + (1e-9 - g_inf) * np.exp(-t_end / tau)
        errors.append(abs(p.conductance[0] - exact))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # the first (backward Euler) step adds an O(dt^2) global term too: the order is 2 +- 0.15
    np.testing.assert_allclose(orders, 2.0, atol=0.15)


def test_lanes_masks_snapshots():
    p = ReducedMemristor(reduced_table()).with_lanes(3)
    dt = np.full(3, 1e-4)
    p.try_step(dt, np.array([0.1, 0.2, 0.3]))
    p.accept(np.array([True, False, True]))
    g = p.conductance
    assert g[1] == pytest.approx(float(p.g_inf(0.0)))
    assert g[0] != g[1] != g[2]
    saved = pickle.loads(pickle.dumps(p.state))
    p.try_step(dt, np.full(3, 0.3))
    p.accept()
    p.restore(saved)
    np.testing.assert_array_equal(p.conductance, g)
    with pytest.raises(ValueError, match="lanes"):
        ReducedMemristor(reduced_table()).restore(saved)
    with pytest.raises(RuntimeError, match="accept"):
        p.accept()


def test_scalar_provider_wrapper():
    toy = ScalarMemristor()
    lane = as_lanes(toy)
    current = lane.try_step(np.array([1e-4]), np.array([0.1]))
    assert current.shape == (1,) and lane.differential_conductance is None
    lane.accept(np.array([False]))  # a rejected lane
    assert toy.g == toy.g0
    lane.try_step(np.array([1e-4]), np.array([0.1]))
    lane.accept()
    assert toy.g > toy.g0 and toy.time == pytest.approx(1e-4)
    with pytest.raises(TypeError, match="not a memristor provider"):
        as_lanes(object())


def test_reduced_model_file_round_trip(tmp_path):
    path = tmp_path / "reduced_model.json"
    data = reduced_table(g_initial_S=2e-9, source={"case": "x.toml"})
    path.write_text(json.dumps(data))
    model = ReducedModel.load(path)
    assert model.g_initial_S == 2e-9 and model.source == {"case": "x.toml"}
    model.save(tmp_path / "copy.json")
    assert json.loads((tmp_path / "copy.json").read_text()) == data
    assert ReducedMemristor(path).conductance[0] == 2e-9
    assert ReducedMemristor(reduced_table()).conductance[0] == pytest.approx(1e-9)  # g_inf(0)
    constant = ReducedModel.from_dict(reduced_table(tau_s=[2e-3]))  # one value: a constant
    np.testing.assert_array_equal(constant.tau_s, np.full(81, 2e-3))


@pytest.mark.parametrize("change, message", [
    ({"kind": "something"}, "kind"),
    ({"version": 2}, "version"),
    ({"extra": 1}, "unknown keys"),
    ({"tau_s": [1e-3, 1e-3]}, "lengths"),
    ({"tau_s": [-1e-3] * 81}, "tau_s must be > 0"),
    ({"g_inf_S": [-1e-9] * 81}, "g_inf_S must be >= 0"),
    ({"voltage_V": [0.0] * 81}, "strictly increasing"),
])
def test_reduced_model_validation(change, message):
    with pytest.raises(ValueError, match=message):
        ReducedModel.from_dict(reduced_table(**change))


def test_hodgkin_huxley_rates_match_the_textbook_formulas():
    # dense voltages plus the removable singularities of alpha_m (-40 mV) and alpha_n (-55 mV)
    v = np.concatenate([np.linspace(-100, 50, 301), [-40.0, -55.0, -40.0 + 1e-9, -55.0 - 1e-9]])
    alpha, beta, dalpha, dbeta = rates(v)
    am, bm, ah, bh, an, bn = hh_rates(v)
    # the textbook form evaluated independently: same values to round-off
    for mine, ref in zip([*alpha, *beta], [am, ah, an, bm, bh, bn], strict=True):
        np.testing.assert_allclose(mine, ref, rtol=1e-12)
    # derivatives against central differences (error ~ (1e-4 mV)^2 * rate''' ~ 1e-9 relative)
    h = 1e-4
    plus, minus = rates(v + h), rates(v - h)
    for i in range(3):
        for k, d in ((0, dalpha), (1, dbeta)):
            fd = (plus[k][i] - minus[k][i]) / (2 * h)
            np.testing.assert_allclose(d[i], fd, rtol=1e-7, atol=1e-12)


def test_hodgkin_huxley_steady_current_per_area():
    """Channels as providers reproduce the textbook steady current (uA/cm^2 = 0.01 A/m^2)."""
    v_mV = np.array([-80.0, -65.0, -50.0, 0.0])
    total = 0.0
    for kind, e in (("na", 0.050), ("k", -0.077), ("leak", -0.054387)):
        channel = HodgkinHuxleyChannel(kind, lanes=v_mV.size)
        total = total + channel.steady_current(1e-3 * v_mV - e)
    np.testing.assert_allclose(total / 0.01, hh_steady_current(v_mV), rtol=1e-12)
