"""Waveforms at per-lane times (as the circuit integrator reads them): values, left-continuous
jumps, milestones, per-lane amplitudes."""

import math

import numpy as np
import pytest

from ionslit.coupling.waveforms import (
    Constant,
    PiecewiseLinear,
    PulseTrain,
    Sine,
    Step,
    pulse,
)


def test_constant_and_step():
    assert Constant(2e-9).value(1.0) == 2e-9
    step = Step(initial=1.0, final=3.0, time=1e-3)
    assert step.value(1e-3) == 1.0  # left-continuous
    assert step.value(np.nextafter(1e-3, 1)) == 3.0
    assert step.milestones(0, 1) == [1e-3] == step.discontinuities(0, 1)
    assert step.milestones(1e-3, 1) == []  # (t0, t1]


def test_pulse_train_corners_match_values_exactly():
    train = PulseTrain(2.0, width=0.3e-3, start=1e-3, period=0.7e-3, count=50)
    corners = train.milestones(0.0, 1.0)
    assert len(corners) == 100 and corners == train.discontinuities(0.0, 1.0)
    # at every corner the value is the one before it; just after, the one after
    for k, t in enumerate(corners):
        before, after = (0.0, 2.0) if k % 2 == 0 else (2.0, 0.0)
        assert train.value(t) == before
        assert train.value(np.nextafter(t, 1.0)) == after
    assert train.value(1.0) == 0.0
    assert train.milestones(0.0, 1.1e-3) == [1e-3]


def test_single_pulse_and_array_amplitudes():
    single = pulse(np.array([1.0, 2.0, 3.0]), width=1e-3, start=2e-3)
    t = np.array([2e-3, 2.5e-3, 3.5e-3])
    np.testing.assert_array_equal(single.value(t), [0.0, 2.0, 0.0])
    assert single.milestones(0, 1) == [2e-3, 3e-3]
    assert single.with_amplitude(5.0).value(2.5e-3) == 5.0


def test_endless_train_needs_a_period():
    with pytest.raises(ValueError, match="period"):
        PulseTrain(1.0, 1e-3, count=None)
    endless = PulseTrain(1.0, 1e-3, period=1e-2, count=None)
    assert len(endless.milestones(0.0, 1.0)) == 200


def test_sine():
    sine = Sine(amplitude=2.0, frequency=50.0, offset=1.0, delay=1e-3, quarter_periods=False)
    assert sine.value(0.0) == 1.0
    assert math.isclose(sine.value(1e-3 + 5e-3), 3.0)
    assert sine.milestones(0, 1) == [1e-3] and sine.discontinuities(0, 1) == []


def test_piecewise_linear_with_a_jump():
    wave = PiecewiseLinear([0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 3.0, 3.0])
    t = np.array([-1.0, 0.5, 1.0, np.nextafter(1.0, 2.0), 1.5, 5.0])
    np.testing.assert_allclose(wave.value(t), [0.0, 0.5, 1.0, 3.0, 3.0, 3.0])
    assert wave.milestones(-1, 5) == [0.0, 1.0, 2.0]
    assert wave.discontinuities(-1, 5) == [1.0]
    with pytest.raises(ValueError, match="non-decreasing"):
        PiecewiseLinear([1.0, 0.0], [0.0, 1.0])
