"""The two-slit memristive neuron of cases/neuron_reduced.toml (reduced models fitted to the
slits of cases/neuron_live.toml): excitability, all-or-none spikes, tonic firing,
refractoriness, and agreement with an independent scipy solution of the same ODEs.

The parameters (SI) and why they spike
--------------------------------------
C dU/dt = I_stim - 5 g_Na (U - E_Na) - 322 g_K (U - E_K), tau_k(V) dg_k/dt = g_inf,k(V) - g_k,
with V = U - E_k the voltage across each slit. C = 0.445 fF, E_Na = +48.1 V, E_K = -104.2 V, no
leak. The tables are the reduced_model.json of cases/sodium_slit.toml and
cases/potassium_slit.toml (steady PNP solves for g_inf, exponential fits of the step responses
for tau; symmetric in V).

- "sodium-like" branch: 5 fast slits (tau 12 us open, ~0.1 ms closed) whose conductance *falls*
  with |V| (2.7e-11 S at 0 V, 1.5e-11 S at 60 V, 2.7e-12 S at 100 V): at rest, V = U - E_Na is
  about -100 V and they are nearly closed; a depolarisation lowers |V|, opens them and pulls U
  towards E_Na faster than the membrane responds: the upstroke. A symmetric law g_inf(|V|) that
  *rose* with |V| (the Wien effect) would close the slit as U rises (dI/dU = g + |V| g' > 0,
  never regenerative); a falling one gives the steady I-V its negative slope beyond ~50 V.
- "potassium-like" branch: 322 slow slits (tau 8-14 ms) whose conductance rises with |V|
  (5.4e-14 S at 0 V, 6.0e-13 S at 150 V): its steady slope exceeds the sodium branch's negative
  one, so the steady I(U) is monotone (a single, stable resting state at -52.70 V), while its
  conductance frozen at rest does not (the upstroke runs away). Once it has opened it drives U
  back towards E_K (repolarisation, after-hyperpolarisation to -71 V) and, while it closes over
  tens of ms, holds the neuron refractory.

Measured (this test file's settings): rest -52.704 V; 2 ms pulse threshold 40.36 pA; peaks
21.24 V at 1.5x and 21.87 V at 3x threshold (none at 0.5x, 0.9x, 0.99x); rates 38.0 Hz at
0.3 nA, 46.6 at 0.5, 63.3 at 1, 82.0 Hz at 2 nA; a second 1.5x-threshold pulse fails up to
30 ms after the first (refractory) and evokes a spike from 40 ms on; spike times within 5.2e-4
relative of LSODA at rtol 1e-10.
"""

import json
import pickle

import numpy as np
import pytest
from cli_helpers import CASES
from coupling_reference import ReducedReference, crossings
from scipy.integrate import solve_ivp

from ionslit.coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    Constant,
    IntegratorOptions,
    PulseTrain,
    ReducedMemristor,
    fi_curve,
    pulse_threshold,
)

CAPACITANCE = 0.445e-15  # F
E_NA, E_K = 48.1, -104.2  # V
N_NA, N_K = 5, 322
MODELS = CASES / "neuron"  # the models of cases/neuron_reduced.toml
MODEL_FILES = {"sodium_like": "sodium_slit_reduced_model.json",
               "potassium_like": "potassium_slit_reduced_model.json"}


def sodium_like_model() -> dict:
    """reduced_model.json of one fast 'sodium-like' slit (cases/sodium_slit.toml)."""
    return json.loads((MODELS / MODEL_FILES["sodium_like"]).read_text())


def potassium_like_model() -> dict:
    """reduced_model.json of one slow 'potassium-like' slit (cases/potassium_slit.toml)."""
    return json.loads((MODELS / MODEL_FILES["potassium_like"]).read_text())


@pytest.fixture(scope="module")
def neuron():
    """The neuron at rest (zero stimulus): U and both conductances at their steady state."""
    circuit = Circuit(CAPACITANCE, [
        Branch(ReducedMemristor(sodium_like_model()), E_NA, N_NA, "sodium_like"),
        Branch(ReducedMemristor(potassium_like_model()), E_K, N_K, "potassium_like")])
    circuit.equilibrate(circuit.resting_potential()[0])
    return circuit


# local error tolerance: spike times within ~5e-4 relative of the reference (measured); atol
# 1 mV against voltages of tens of volts, so that rtol controls the steps
OPTIONS = IntegratorOptions(rtol=1e-5, atol=1e-3)
# 2 ms: long against the membrane's charging (C / g ~ us), so that the neuron, not the pulse,
# shapes the spike (a 0.5 ms pulse's 3x-threshold peak is 10 % above its 1.5x one)
PULSE = dict(width=2e-3, start=1e-3, duration=30e-3)  # s
THRESHOLD = 40.36e-12  # A, that pulse's threshold (measured: test_all_or_none)


def test_rest_is_unique_and_stable(neuron):
    u = np.linspace(E_K + 1e-6, E_NA - 1e-6, 20001)
    current = neuron.with_lanes(u.size).steady_current(u)
    assert np.all(np.diff(current) > 0)  # monotone steady I(U): one resting state
    assert neuron.initial_voltage == pytest.approx(-52.704, abs=1e-3)
    integrator = CircuitIntegrator(neuron.with_lanes(1), OPTIONS).run(0.05)
    assert integrator.spikes.counts()[0] == 0
    # at rest the BDF equations are the steady ones: what is left is the Newton tolerance
    # (1 % of atol + rtol |U| ~ 3e-5 V; measured drift 1.4e-6 V over 50 ms)
    assert integrator.voltage[0] == pytest.approx(neuron.initial_voltage, abs=3e-5)


def reference_spikes(neuron, stimulus, t_end, breaks=()):
    model = ReducedReference(CAPACITANCE, [
        dict(model=sodium_like_model(), battery=E_NA, count=N_NA),
        dict(model=potassium_like_model(), battery=E_K, count=N_K)])
    y = model.initial(neuron.initial_voltage)
    edges = [0.0, *breaks, t_end]
    spikes = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        sol = solve_ivp(model.rhs(lambda t: float(stimulus.value(t))), (a, b), y,
                        method="LSODA", rtol=1e-10, atol=model.atol(), dense_output=True)
        assert sol.success
        spikes += list(crossings(sol, 0.0, rearm=-30.0))
        y = sol.y[:, -1]
    return np.array(spikes)


def test_spike_times_match_the_reference_ode(neuron):
    stimuli = np.array([0.5e-9, 1e-9])  # A
    integrator = CircuitIntegrator(neuron.with_lanes(2, Constant(stimuli)), OPTIONS)
    integrator.run(0.06)
    for lane, current in enumerate(stimuli):
        expected = reference_spikes(neuron, Constant(current), 0.06)
        got = integrator.spikes.times(lane)
        assert got.size == expected.size >= 3
        # brief: spike times within 1e-3 relative (measured <= 5.2e-4 at rtol 1e-5)
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=0)


def test_all_or_none(neuron):
    result = pulse_threshold(neuron, PULSE["width"], PULSE["duration"],
                             bracket=(10e-12, 1e-9), start=PULSE["start"], options=OPTIONS)
    assert result.upper - result.lower <= 1e-4 * result.upper
    assert result.threshold == pytest.approx(THRESHOLD, rel=0.01)
    factors = np.array([0.5, 0.9, 0.99, 1.01, 1.5, 3.0])
    pulses = PulseTrain(factors * result.threshold, PULSE["width"], PULSE["start"])
    integrator = CircuitIntegrator(neuron.with_lanes(factors.size, pulses), OPTIONS)
    integrator.run(PULSE["duration"])
    assert list(integrator.spikes.counts()) == [0, 0, 0, 1, 1, 1]
    peak_15, peak_3 = integrator.spikes.peaks(4)[0], integrator.spikes.peaks(5)[0]
    # all-or-none: the pulse only decides *whether*; the slits shape the spike (< 10 %)
    assert abs(peak_3 - peak_15) < 0.1 * abs(peak_15 - neuron.initial_voltage)
    assert abs(peak_3 - peak_15) < 0.1 * peak_15
    # below threshold the response stays far below the spike (> 50 V lower)
    assert np.max(integrator.voltage[:3]) < -30.0


def test_tonic_firing_rate_grows_with_the_stimulus(neuron):
    stimuli = np.array([0.3e-9, 0.5e-9, 1e-9, 2e-9])
    # a qualitative test: rtol 1e-4 moves rates by ~1e-3 relative, far below the 5 Hz steps
    fi = fi_curve(neuron, stimuli, duration=0.2, transient=0.05,
                  options=IntegratorOptions(rtol=1e-4, atol=1e-3))
    assert np.all(fi.rate_Hz > 30.0)
    assert np.all(np.diff(fi.rate_Hz) > 5.0)
    # steady firing: the late intervals repeat to 1e-4 (a periodic orbit; measured <= 1.1e-5)
    for times in fi.spike_times:
        late = np.diff(times[times > 0.1])
        assert late.size >= 2
        assert np.ptp(late) < 1e-4 * np.mean(late)


@pytest.mark.parametrize("delay, evoked", [(10e-3, 1), (30e-3, 1), (40e-3, 2), (60e-3, 2)])
def test_refractory_period(neuron, delay, evoked):
    """Two 1.5x-threshold pulses: the second fails shortly after a spike, works later."""
    pair = PulseTrain(1.5 * THRESHOLD, PULSE["width"], PULSE["start"], period=delay, count=2)
    integrator = CircuitIntegrator(neuron.with_lanes(1, pair), OPTIONS)
    integrator.run(PULSE["start"] + delay + 25e-3)
    assert integrator.spikes.counts()[0] == evoked


COARSE = IntegratorOptions(rtol=1e-4, atol=1e-3)  # where identity, not accuracy, is tested


def test_checkpoint_restart_gives_identical_spikes(neuron):
    stimuli = Constant(np.array([0.5e-9, 2e-9]))
    first = CircuitIntegrator(neuron.with_lanes(2, stimuli), COARSE).run(22.3e-3)
    assert all(first.spikes.counts() >= 1)  # mid-train, history and detector state matter
    saved = pickle.dumps(first.state())
    first.run(0.05)
    second = CircuitIntegrator(neuron.with_lanes(2, stimuli), COARSE)  # fresh providers
    second.restore(pickle.loads(saved))
    second.run(0.05)
    for lane in range(2):
        np.testing.assert_allclose(second.spikes.times(lane), first.spikes.times(lane),
                                   rtol=1e-12, atol=0)
        np.testing.assert_array_equal(second.spikes.peaks(lane), first.spikes.peaks(lane))
    np.testing.assert_array_equal(second.voltage, first.voltage)


def test_lanes_give_the_same_spikes_as_separate_runs(neuron):
    stimuli = np.array([0.5e-9, 1.5e-9])
    batch = CircuitIntegrator(neuron.with_lanes(2, Constant(stimuli)), COARSE)
    batch.run(0.04)
    for lane, current in enumerate(stimuli):
        alone = CircuitIntegrator(neuron.with_lanes(1, Constant(current)), COARSE)
        alone.run(0.04)
        # identical step sequences; vectorised exp/div may round differently by an ulp, which
        # the error control does not amplify here (checked to 1e-9 relative)
        np.testing.assert_allclose(batch.spikes.times(lane), alone.spikes.times(0), rtol=1e-9)


def test_the_case_file_is_this_neuron():
    """cases/neuron_reduced.toml describes the circuit verified here (same C, batteries,
    counts and model files), so these validations are the case's."""
    from ionslit.case import load_case

    circuit = load_case(CASES / "neuron_reduced.toml").case.circuit
    assert circuit.capacitance == pytest.approx(CAPACITANCE, rel=1e-12)
    assert circuit.leak is None
    branches = {b.name: b for b in circuit.branches}
    for name, battery, count in (("sodium_like", E_NA, N_NA), ("potassium_like", E_K, N_K)):
        assert branches[name].battery == pytest.approx(battery, rel=1e-12)
        assert branches[name].count == count
        assert branches[name].reduced == MODELS / MODEL_FILES[name]
