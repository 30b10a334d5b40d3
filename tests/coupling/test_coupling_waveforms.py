"""Waveforms at float times (as the PNP time stepper reads them): values, left-continuous jumps,
milestones; the current clamp follows its waveform."""

import math

import numpy as np
import pytest

from ionslit.coupling.waveforms import Constant, PiecewiseLinear, PulseTrain, Sine, Step, Triangle


def test_constant_and_step():
    assert Constant(0.3).value(12.0) == 0.3
    assert Constant(0.3).milestones(0, 1) == []
    step = Step(0.0, 1.0, time=2.0)
    assert step.value(2.0) == 0.0  # left-continuous: the step ending at t_s sees the old V
    assert step.value(2.0 + 1e-12) == 1.0
    assert step.milestones(0, 5) == [2.0] and step.discontinuities(0, 5) == [2.0]
    assert step.milestones(2.0, 5) == []  # (t0, t1]


def test_sine_values_and_quarter_period_milestones():
    sine = Sine(amplitude=2.0, frequency=50.0, offset=0.5)
    assert sine.value(0.005) == pytest.approx(2.5)  # peak at T/4
    assert sine.value(0.015) == pytest.approx(-1.5)
    assert sine.milestones(0.0, 0.02) == pytest.approx([0.005, 0.01, 0.015, 0.02])
    assert sine.discontinuities(0, 1) == []


def test_triangle_corners():
    tri = Triangle(amplitude=1.0, frequency=1.0)
    t = np.array([0.0, 0.125, 0.25, 0.5, 0.75, 0.875, 1.0, 1.25])
    v = [tri.value(x) for x in t]
    assert v == pytest.approx([0.0, 0.5, 1.0, 0.0, -1.0, -0.5, 0.0, 1.0])
    assert tri.milestones(0.0, 1.0) == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_pulse_train_edges_and_count():
    p = PulseTrain(1.0, width=0.2, start=0.5, period=1.0, count=2, baseline=0.0)
    assert p.value(0.5) == 0.0 and p.value(0.6) == 1.0 and p.value(0.7) == 1.0
    assert p.value(0.70001) == 0.0 and p.value(1.6) == 1.0 and p.value(2.6) == 0.0
    assert p.milestones(0.0, 3.0) == pytest.approx([0.5, 0.7, 1.5, 1.7])
    assert p.discontinuities(0.0, 3.0) == p.milestones(0.0, 3.0)
    with pytest.raises(ValueError):
        PulseTrain(1.0, width=2.0, period=1.0, count=2)


def test_piecewise_linear_with_jump():
    pwl = PiecewiseLinear((0.0, 1.0, 1.0, 3.0), (0.0, 1.0, -1.0, 0.0))
    assert pwl.value(-1.0) == 0.0 and pwl.value(0.5) == pytest.approx(0.5)
    assert pwl.value(1.0) == pytest.approx(1.0)  # left-continuous at the jump
    assert pwl.value(2.0) == pytest.approx(-0.5) and pwl.value(5.0) == 0.0
    assert pwl.milestones(0.0, 3.0) == [1.0, 3.0]
    assert pwl.discontinuities(0.0, 3.0) == [1.0]
    with pytest.raises(ValueError):
        PiecewiseLinear((0.0, 2.0, 1.0), (0, 0, 0))
    assert math.isfinite(pwl.value(1.0 + 1e-15))


def test_array_times_give_the_float_time_values():
    t = np.linspace(-0.1, 2.3, 97)
    for wave in (Constant(0.3), Step(0.0, 1.0, time=0.5), Sine(2.0, 1.5, offset=0.5, delay=0.2),
                 Triangle(1.0, 1.0, delay=0.1),
                 PulseTrain(1.0, width=0.2, start=0.5, period=0.5, count=3, baseline=0.1),
                 PiecewiseLinear((0.0, 1.0, 1.0, 2.0), (0.0, 1.0, -1.0, 0.5))):
        np.testing.assert_allclose(wave.value(t), [wave.value(float(x)) for x in t],
                                   rtol=1e-14, atol=1e-15)


def test_sine_milestones_at_the_onset_only_when_asked():
    assert Sine(1.0, 50.0, delay=1e-3, quarter_periods=False).milestones(0, 1) == [1e-3]

