"""A two-slit memristive neuron (reduced models): excitability, all-or-none spikes, tonic
firing, refractoriness, and agreement with an independent scipy solution of the same ODEs.

The parameters (SI) and why they spike
--------------------------------------
C dU/dt = I_stim - 5 g_Na (U - E_Na) - g_K (U - E_K), tau_k(V) dg_k/dt = g_inf,k(V) - g_k, with
V = U - E_k the voltage across each slit. C = 10 pF, E_Na = +0.15 V, E_K = -0.10 V, no leak.

- "sodium-like" branch: 5 identical fast slits (tau = 0.1 ms), each with
  g_inf(V) = 0.06 nS + 30 nS / (1 + exp(-(V + 0.17 V) / 5 mV)): a steep, rectifying (bipolar,
  asymmetric slit) conductance that opens as V = U - E_Na rises through -0.17 V (U = -20 mV).
  Opening pulls U towards E_Na faster than the membrane can respond (C / 150 nS = 67 us): the
  positive feedback of the upstroke. With a battery E_Na > 0 the slit works at V < 0, so its
  conductance must grow with V itself: a symmetric Wien-type law g_inf(|V|) would *close* the
  slit as U rises (for the steady branch, dI/dU = g + |V| g' > 0, never regenerative).
- "potassium-like" branch: one slow slit, tau(V) = 1 ms + 3 ms / cosh((|V| - 0.08 V) / 30 mV)
  (slowest, 4 ms, in the middle of its activation range), g_inf(V) = 2 nS +
  750 nS / (1 + exp(-(|V| - 0.08 V) / 5 mV)): symmetric in V like the confined Wien effect, it
  opens at the same membrane voltage (|V| = 0.08 V at U = -20 mV) but 10-40 times more slowly,
  and 5 times more strongly than the sodium branch, so the steady-state I(U) is monotone (a
  single, stable resting state at -67.1 mV) while on the time of an upstroke the sodium branch
  wins. Once it has opened, it drives U towards E_K (the repolarisation and an undershoot to
  -99.6 mV) and, while it closes again over several ms, holds the neuron refractory.
- The tables run over V in [-0.5, 0.5] V every 2 mV (501 points): PCHIP resolves the 5 mV
  sigmoids, and constant extrapolation is never reached (|V| < 0.25 V in use).

Measured (this test file's settings): rest -67.11 mV; 0.5 ms pulse threshold 0.3521 nA; peaks
+63.3 mV at 1.5x and +65.8 mV at 3x threshold (none below); sustained firing from 33.1 pA
(>= 2 spikes in the last 50 ms of 100 ms), 55 Hz at 0.05 nA, 74 at 0.1, 104 at 0.3, 142 at 1,
186 at 3, 211 Hz at 5 nA; a second 1.5x-threshold pulse fails up to 12 ms after the first
(refractory) and evokes a spike from 15 ms on.
"""

import json
import pickle

import numpy as np
import pytest
from cli_helpers import CASES
from coupling_reference import ReducedReference, crossings
from scipy.integrate import solve_ivp

from coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    ConstantCurrent,
    IntegratorOptions,
    PulseTrain,
    ReducedMemristor,
    fi_curve,
    pulse_threshold,
)

CAPACITANCE = 10e-12  # F
E_NA, E_K = 0.15, -0.10  # V
N_NA, N_K = 5, 1
MODELS = CASES / "neuron"  # the models of cases/neuron_reduced.toml


def sodium_like_model() -> dict:
    """reduced_model.json of one fast, rectifying 'sodium-like' slit (tables every 2 mV)."""
    return json.loads((MODELS / "sodium_like_reduced_model.json").read_text())


def potassium_like_model() -> dict:
    """reduced_model.json of the slow, symmetric (Wien-like) 'potassium-like' slit."""
    return json.loads((MODELS / "potassium_like_reduced_model.json").read_text())


@pytest.fixture(scope="module")
def neuron():
    """The neuron at rest (zero stimulus): U and both conductances at their steady state."""
    circuit = Circuit(CAPACITANCE, [
        Branch(ReducedMemristor(sodium_like_model()), E_NA, N_NA, "sodium_like"),
        Branch(ReducedMemristor(potassium_like_model()), E_K, N_K, "potassium_like")])
    rest = circuit.resting_potential(bracket=(E_K + 1e-6, E_NA - 1e-6))[0]
    circuit.equilibrate(rest)
    return circuit


# local error tolerance: spike times within ~2e-4 relative of the reference (measured)
OPTIONS = IntegratorOptions(rtol=1e-5, atol=1e-7)
PULSE = dict(width=0.5e-3, start=1e-3, duration=30e-3)  # s


def test_rest_is_unique_and_stable(neuron):
    u = np.linspace(E_K + 1e-6, E_NA - 1e-6, 20001)
    current = neuron.with_lanes(u.size).steady_current(u)
    assert np.all(np.diff(current) > 0)  # monotone steady I(U): one resting state
    assert neuron.initial_voltage == pytest.approx(-0.0671, abs=1e-4)
    integrator = CircuitIntegrator(neuron.with_lanes(1), OPTIONS).run(0.05)
    assert integrator.spikes.counts()[0] == 0
    assert integrator.voltage[0] == pytest.approx(neuron.initial_voltage, abs=1e-9)


def reference_spikes(neuron, stimulus, t_end, breaks=()):
    model = ReducedReference(CAPACITANCE, [
        dict(model=sodium_like_model(), battery=E_NA, count=N_NA),
        dict(model=potassium_like_model(), battery=E_K, count=N_K)])
    y = model.initial(neuron.initial_voltage)
    edges = [0.0, *breaks, t_end]
    spikes = []
    for a, b in zip(edges[:-1], edges[1:]):
        sol = solve_ivp(model.rhs(lambda t: float(stimulus.current(t))), (a, b), y,
                        method="LSODA", rtol=1e-10, atol=model.atol(), dense_output=True)
        assert sol.success
        spikes += list(crossings(sol, 0.0))
        y = sol.y[:, -1]
    return np.array(spikes)


def test_spike_times_match_the_reference_ode(neuron):
    stimuli = np.array([0.2e-9, 1e-9])  # A
    integrator = CircuitIntegrator(neuron.with_lanes(2, ConstantCurrent(stimuli)), OPTIONS)
    integrator.run(0.04)
    for lane, current in enumerate(stimuli):
        expected = reference_spikes(neuron, ConstantCurrent(current), 0.04)
        got = integrator.spikes.times(lane)
        assert got.size == expected.size >= 3
        # brief: spike times within 1e-3 relative (measured ~2e-4 at rtol 1e-5)
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=0)


def test_all_or_none(neuron):
    result = pulse_threshold(neuron, PULSE["width"], PULSE["duration"], bracket=(0.1e-9, 1e-9),
                             start=PULSE["start"], options=OPTIONS)
    assert result.upper - result.lower <= 1e-4 * result.upper
    assert result.threshold == pytest.approx(0.352e-9, rel=0.01)
    factors = np.array([0.9, 0.99, 1.01, 1.5, 3.0])
    pulses = PulseTrain(factors * result.threshold, PULSE["width"], PULSE["start"])
    integrator = CircuitIntegrator(neuron.with_lanes(factors.size, pulses), OPTIONS)
    integrator.run(PULSE["duration"])
    assert list(integrator.spikes.counts()) == [0, 0, 1, 1, 1]
    peak_15, peak_3 = integrator.spikes.peaks(3)[0], integrator.spikes.peaks(4)[0]
    # all-or-none: the pulse only decides *whether*; the slits shape the spike (< 10 %)
    assert abs(peak_3 - peak_15) < 0.1 * abs(peak_15 - neuron.initial_voltage)
    assert abs(peak_3 - peak_15) < 0.1 * peak_15
    # below threshold the response stays far below the spike (>= 50 mV lower)
    assert np.max(integrator.voltage) < 0.0


def test_tonic_firing_rate_grows_with_the_stimulus(neuron):
    stimuli = np.array([0.1e-9, 0.3e-9, 1e-9, 3e-9])
    # a qualitative test: rtol 1e-4 moves rates by ~1e-3 relative, far below the 5 Hz steps
    fi = fi_curve(neuron, stimuli, duration=0.1, transient=0.03,
                  options=IntegratorOptions(rtol=1e-4, atol=1e-6))
    assert np.all(fi.rate_Hz > 40.0)
    assert np.all(np.diff(fi.rate_Hz) > 5.0)
    # steady firing: the late intervals repeat to 1e-4 (a periodic orbit)
    for times in fi.spike_times:
        late = np.diff(times[times > 0.05])
        assert np.ptp(late) < 1e-4 * np.mean(late)


@pytest.mark.parametrize("delay, evoked", [(5e-3, 1), (12e-3, 1), (20e-3, 2), (30e-3, 2)])
def test_refractory_period(neuron, delay, evoked):
    """Two 1.5x-threshold pulses: the second fails shortly after a spike, works later."""
    pair = PulseTrain(1.5 * 0.352e-9, PULSE["width"], PULSE["start"], period=delay, count=2)
    integrator = CircuitIntegrator(neuron.with_lanes(1, pair), OPTIONS)
    integrator.run(PULSE["start"] + delay + 20e-3)
    assert integrator.spikes.counts()[0] == evoked


COARSE = IntegratorOptions(rtol=1e-4, atol=1e-6)  # where identity, not accuracy, is tested


def test_checkpoint_restart_gives_identical_spikes(neuron):
    stimuli = ConstantCurrent(np.array([0.5e-9, 2e-9]))
    first = CircuitIntegrator(neuron.with_lanes(2, stimuli), COARSE).run(12.3e-3)
    assert all(first.spikes.counts() >= 1)  # mid-train, history and detector state matter
    saved = pickle.dumps(first.state())
    first.run(0.03)
    second = CircuitIntegrator(neuron.with_lanes(2, stimuli), COARSE)  # fresh providers
    second.restore(pickle.loads(saved))
    second.run(0.03)
    for lane in range(2):
        np.testing.assert_allclose(second.spikes.times(lane), first.spikes.times(lane),
                                   rtol=1e-12, atol=0)
        np.testing.assert_array_equal(second.spikes.peaks(lane), first.spikes.peaks(lane))
    np.testing.assert_array_equal(second.voltage, first.voltage)


def test_lanes_give_the_same_spikes_as_separate_runs(neuron):
    stimuli = np.array([0.3e-9, 1.5e-9])
    batch = CircuitIntegrator(neuron.with_lanes(2, ConstantCurrent(stimuli)), COARSE)
    batch.run(0.02)
    for lane, current in enumerate(stimuli):
        alone = CircuitIntegrator(neuron.with_lanes(1, ConstantCurrent(current)), COARSE)
        alone.run(0.02)
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
        assert branches[name].reduced == MODELS / f"{name}_reduced_model.json"
