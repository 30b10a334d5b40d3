"""Voltage protocols: values, left-continuous jumps, milestones."""

import math

import numpy as np
import pytest

from ionslit.solvers.protocols import (
    ConstantVoltage,
    PiecewiseLinearVoltage,
    PulseTrain,
    SineVoltage,
    StepVoltage,
    TriangleVoltage,
)


def test_constant_and_step():
    assert ConstantVoltage(0.3).voltage(12.0) == 0.3
    assert ConstantVoltage(0.3).milestones(0, 1) == []
    step = StepVoltage(0.0, 1.0, time=2.0)
    assert step.voltage(2.0) == 0.0  # left-continuous: the step ending at t_s sees the old V
    assert step.voltage(2.0 + 1e-12) == 1.0
    assert step.milestones(0, 5) == [2.0] and step.discontinuities(0, 5) == [2.0]
    assert step.milestones(2.0, 5) == []  # (t0, t1]


def test_sine_values_and_quarter_period_milestones():
    sine = SineVoltage(amplitude=2.0, frequency=50.0, offset=0.5)
    assert sine.voltage(0.005) == pytest.approx(2.5)  # peak at T/4
    assert sine.voltage(0.015) == pytest.approx(-1.5)
    assert sine.milestones(0.0, 0.02) == pytest.approx([0.005, 0.01, 0.015, 0.02])
    assert sine.discontinuities(0, 1) == []


def test_triangle_corners():
    tri = TriangleVoltage(amplitude=1.0, frequency=1.0)
    t = np.array([0.0, 0.125, 0.25, 0.5, 0.75, 0.875, 1.0, 1.25])
    v = [tri.voltage(x) for x in t]
    assert v == pytest.approx([0.0, 0.5, 1.0, 0.0, -1.0, -0.5, 0.0, 1.0])
    assert tri.milestones(0.0, 1.0) == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_pulse_train_edges_and_count():
    p = PulseTrain(base=0.0, level=1.0, width=0.2, period=1.0, delay=0.5, count=2)
    assert p.voltage(0.5) == 0.0 and p.voltage(0.6) == 1.0 and p.voltage(0.7) == 1.0
    assert p.voltage(0.70001) == 0.0 and p.voltage(1.6) == 1.0 and p.voltage(2.6) == 0.0
    assert p.milestones(0.0, 3.0) == pytest.approx([0.5, 0.7, 1.5, 1.7])
    assert p.discontinuities(0.0, 3.0) == p.milestones(0.0, 3.0)
    with pytest.raises(ValueError):
        PulseTrain(0, 1, width=2.0, period=1.0)


def test_piecewise_linear_with_jump():
    pwl = PiecewiseLinearVoltage((0.0, 1.0, 1.0, 3.0), (0.0, 1.0, -1.0, 0.0))
    assert pwl.voltage(-1.0) == 0.0 and pwl.voltage(0.5) == pytest.approx(0.5)
    assert pwl.voltage(1.0) == pytest.approx(1.0)  # left-continuous at the jump
    assert pwl.voltage(2.0) == pytest.approx(-0.5) and pwl.voltage(5.0) == 0.0
    assert pwl.milestones(0.0, 3.0) == [1.0, 3.0]
    assert pwl.discontinuities(0.0, 3.0) == [1.0]
    with pytest.raises(ValueError):
        PiecewiseLinearVoltage((0.0, 2.0, 1.0), (0, 0, 0))
    assert math.isfinite(pwl.voltage(1.0 + 1e-15))
