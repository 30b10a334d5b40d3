"""Voltage protocols V(t) (V, t in s) and their milestones.

Every protocol gives ``voltage(t)``, the ``milestones(t0, t1)`` a time stepper must hit exactly in
(t0, t1] (corners of the waveform, peaks and zero crossings of a sine) and the
``discontinuities(t0, t1)`` among them (jumps, after which BDF2 restarts with backward Euler).
Jumps are left-continuous: a step at t_s has V(t_s) = the old value, so the step ending at t_s
still sees the old voltage and the next one the new.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _in(times, t0, t1) -> list[float]:
    return sorted({float(t) for t in times if t0 < t <= t1})


def _periodic(offsets, period, t0, t1, start=0.0) -> list[float]:
    """start + k period + offset for every integer k, within (t0, t1]."""
    if t1 <= t0:
        return []
    k0 = math.floor((t0 - start) / period) - 1
    k1 = math.ceil((t1 - start) / period) + 1
    return _in((start + k * period + o for k in range(k0, k1 + 1) for o in offsets), t0, t1)


@dataclass(frozen=True)
class ConstantVoltage:
    """V(t) = voltage."""

    voltage_value: float  # V

    def voltage(self, t: float) -> float:
        return self.voltage_value

    def milestones(self, t0: float, t1: float) -> list[float]:
        return []

    def discontinuities(self, t0: float, t1: float) -> list[float]:
        return []


@dataclass(frozen=True)
class StepVoltage:
    """V = initial for t <= time, final afterwards."""

    initial: float  # V
    final: float  # V
    time: float = 0.0  # s

    def voltage(self, t: float) -> float:
        return self.initial if t <= self.time else self.final

    def milestones(self, t0, t1):
        return _in([self.time], t0, t1)

    def discontinuities(self, t0, t1):
        return self.milestones(t0, t1)


@dataclass(frozen=True)
class SineVoltage:
    """V = offset + amplitude sin(2 pi f (t - delay)) for t > delay (offset before)."""

    amplitude: float  # V
    frequency: float  # Hz
    offset: float = 0.0  # V
    delay: float = 0.0  # s

    def voltage(self, t):
        if t <= self.delay:
            return self.offset
        return self.offset + self.amplitude * math.sin(2 * math.pi * self.frequency
                                                        * (t - self.delay))

    def milestones(self, t0, t1):
        """Zero crossings and peaks (every quarter period)."""
        period = 1.0 / self.frequency
        return [t for t in _periodic([0.0, 0.25 * period, 0.5 * period, 0.75 * period], period,
                                     t0, t1, self.delay) if t >= self.delay]

    def discontinuities(self, t0, t1):
        return []


@dataclass(frozen=True)
class TriangleVoltage:
    """Triangle wave: from ``offset`` up to offset + amplitude at T/4, down to offset - amplitude
    at 3T/4, back to offset at T (period T = 1/frequency), starting at ``delay``."""

    amplitude: float  # V
    frequency: float  # Hz
    offset: float = 0.0  # V
    delay: float = 0.0  # s

    def voltage(self, t):
        if t <= self.delay:
            return self.offset
        phase = ((t - self.delay) * self.frequency) % 1.0
        if phase <= 0.25:
            shape = 4 * phase
        elif phase <= 0.75:
            shape = 2 - 4 * phase
        else:
            shape = 4 * phase - 4
        return self.offset + self.amplitude * shape

    def milestones(self, t0, t1):
        """Corners (T/4, 3T/4) and zero crossings (T/2, T)."""
        period = 1.0 / self.frequency
        return [t for t in _periodic([0.0, 0.25 * period, 0.5 * period, 0.75 * period], period,
                                     t0, t1, self.delay) if t >= self.delay]

    def discontinuities(self, t0, t1):
        return []


@dataclass(frozen=True)
class PulseTrain:
    """``base`` V, with pulses to ``level`` V of ``width`` s every ``period`` s, the first at
    ``delay``; ``count`` pulses (None: unlimited). Pulses occupy (start, start + width]."""

    base: float  # V
    level: float  # V
    width: float  # s
    period: float  # s
    delay: float = 0.0  # s
    count: int | None = None

    def __post_init__(self):
        if not 0 < self.width < self.period:
            raise ValueError("pulse width must be > 0 and shorter than the period")

    def _index(self, t):
        k = math.floor((t - self.delay) / self.period)
        return k

    def voltage(self, t):
        if t <= self.delay:
            return self.base
        k = self._index(t)
        start = self.delay + k * self.period
        if t == start:  # left-continuous at the rising edge
            k -= 1
            start -= self.period
        if k < 0 or (self.count is not None and k >= self.count):
            return self.base
        return self.level if t <= start + self.width else self.base

    def milestones(self, t0, t1):
        edges = _periodic([0.0, self.width], self.period, t0, t1, self.delay)
        last = math.inf if self.count is None else self.delay + (self.count - 1) * self.period \
            + self.width
        return [t for t in edges if self.delay <= t <= last]

    def discontinuities(self, t0, t1):
        return self.milestones(t0, t1)


@dataclass(frozen=True)
class PiecewiseLinearVoltage:
    """Linear interpolation of (times (s), voltages (V)); constant before the first and after
    the last point. Repeated times make jumps (left-continuous)."""

    times: tuple[float, ...]
    voltages: tuple[float, ...]
    _t: np.ndarray = field(init=False, repr=False, compare=False)
    _v: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        t = np.asarray(self.times, dtype=float)
        v = np.asarray(self.voltages, dtype=float)
        if t.ndim != 1 or t.shape != v.shape or len(t) == 0:
            raise ValueError("times and voltages must be 1D arrays of equal, nonzero length")
        if np.any(np.diff(t) < 0):
            raise ValueError("times must be non-decreasing")
        object.__setattr__(self, "times", tuple(t))
        object.__setattr__(self, "voltages", tuple(v))
        object.__setattr__(self, "_t", t)
        object.__setattr__(self, "_v", v)

    def voltage(self, t):
        times, volts = self._t, self._v
        if t <= times[0]:
            return float(volts[0])
        if t > times[-1]:
            return float(volts[-1])
        i = int(np.searchsorted(times, t, side="left"))  # times[i-1] < t <= times[i]
        t_a, t_b = times[i - 1], times[i]
        if t_b == t_a:
            return float(volts[i])
        w = (t - t_a) / (t_b - t_a)
        return float((1 - w) * volts[i - 1] + w * volts[i])

    def milestones(self, t0, t1):
        return _in(self._t, t0, t1)

    def discontinuities(self, t0, t1):
        jumps = [self._t[i] for i in range(1, len(self._t))
                 if self._t[i] == self._t[i - 1] and self._v[i] != self._v[i - 1]]
        return _in(jumps, t0, t1)


VoltageProtocol = (ConstantVoltage | StepVoltage | SineVoltage | TriangleVoltage | PulseTrain
                   | PiecewiseLinearVoltage)


@dataclass(frozen=True)
class ClampedCurrent:
    """Current clamp: the total current follows ``waveform`` (any protocol above, its values
    read in amperes); the electrode potential is then an unknown of every step. E.g.
    ``ClampedCurrent(ConstantVoltage(0.0))`` for the zero-current (reversal) potential in time,
    ``ClampedCurrent(PulseTrain(0.0, 1e-3, ...))`` for current pulses."""

    waveform: VoltageProtocol

    def current(self, t: float) -> float:
        """Total current (A) at time t (s)."""
        return self.waveform.voltage(t)

    def milestones(self, t0, t1):
        return self.waveform.milestones(t0, t1)

    def discontinuities(self, t0, t1):
        return self.waveform.discontinuities(t0, t1)
