"""Stimulus waveforms: values, left-continuous jumps, milestones, per-lane amplitudes."""

import math

import numpy as np
import pytest

from ionslit.coupling.stimulus import (
    ConstantCurrent,
    PiecewiseLinearCurrent,
    Pulse,
    PulseTrain,
    SineCurrent,
    StepCurrent,
)


def test_constant_and_step():
    assert ConstantCurrent(2e-9).current(1.0) == 2e-9
    step = StepCurrent(final=3.0, time=1e-3, initial=1.0)
    assert step.current(1e-3) == 1.0  # left-continuous
    assert step.current(np.nextafter(1e-3, 1)) == 3.0
    assert step.milestones(0, 1) == [1e-3] == step.discontinuities(0, 1)
    assert step.milestones(1e-3, 1) == []  # (t0, t1]


def test_pulse_train_corners_match_values_exactly():
    train = PulseTrain(2.0, width=0.3e-3, start=1e-3, period=0.7e-3, count=50)
    corners = train.milestones(0.0, 1.0)
    assert len(corners) == 100 and corners == train.discontinuities(0.0, 1.0)
    # at every corner the value is the one before it; just after, the one after
    for k, t in enumerate(corners):
        before, after = (0.0, 2.0) if k % 2 == 0 else (2.0, 0.0)
        assert train.current(t) == before
        assert train.current(np.nextafter(t, 1.0)) == after
    assert train.current(1.0) == 0.0
    assert train.milestones(0.0, 1.1e-3) == [1e-3]


def test_single_pulse_and_array_amplitudes():
    pulse = Pulse(np.array([1.0, 2.0, 3.0]), width=1e-3, start=2e-3)
    t = np.array([2e-3, 2.5e-3, 3.5e-3])
    np.testing.assert_array_equal(pulse.current(t), [0.0, 2.0, 0.0])
    assert pulse.milestones(0, 1) == [2e-3, 3e-3]
    assert pulse.with_amplitude(5.0).current(2.5e-3) == 5.0


def test_endless_train_needs_a_period():
    with pytest.raises(ValueError, match="period"):
        PulseTrain(1.0, 1e-3, count=None)
    endless = PulseTrain(1.0, 1e-3, period=1e-2, count=None)
    assert len(endless.milestones(0.0, 1.0)) == 200


def test_sine():
    sine = SineCurrent(amplitude=2.0, frequency=50.0, offset=1.0, delay=1e-3)
    assert sine.current(0.0) == 1.0
    assert math.isclose(sine.current(1e-3 + 5e-3), 3.0)
    assert sine.milestones(0, 1) == [1e-3] and sine.discontinuities(0, 1) == []


def test_piecewise_linear_with_a_jump():
    wave = PiecewiseLinearCurrent([0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 3.0, 3.0])
    t = np.array([-1.0, 0.5, 1.0, np.nextafter(1.0, 2.0), 1.5, 5.0])
    np.testing.assert_allclose(wave.current(t), [0.0, 0.5, 1.0, 3.0, 3.0, 3.0])
    assert wave.milestones(-1, 5) == [0.0, 1.0, 2.0]
    assert wave.discontinuities(-1, 5) == [1.0]
    with pytest.raises(ValueError, match="non-decreasing"):
        PiecewiseLinearCurrent([1.0, 0.0], [0.0, 1.0])
