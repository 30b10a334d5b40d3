"""Waveforms f(t) of time t (s), in any unit: the circuit's stimulus currents (A) and the PNP
model's clamped electrode voltages (V) or currents (A) are these shapes.

Every waveform gives ``value(t)``: at a float time a float (the PNP time stepper), at an array of
per-lane times an array (the circuit integrator; levels and amplitudes may then be arrays of
shape (lanes,), so one object drives every lane of a sweep); ``milestones(t0, t1)``: the times in
(t0, t1] that a time stepper must hit exactly (corners of the waveform, ends of pulses); and
``discontinuities(t0, t1)``: the jumps among them, after which BDF2 restarts with backward
Euler. Jumps are left-continuous: f(t_jump) is the old value, so the step ending at t_jump still
sees the old value and the next one the new. ``with_amplitude(a)`` is the same shape with
another amplitude (a sweep over amplitudes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _within(times, t0: float, t1: float) -> list[float]:
    return sorted({float(t) for t in times if t0 < t <= t1})


def _periodic(offsets, period: float, t0: float, t1: float, start: float) -> list[float]:
    """start + k period + offset for every integer k, within (t0, t1]."""
    if t1 <= t0:
        return []
    k0 = math.floor((t0 - start) / period) - 1
    k1 = math.ceil((t1 - start) / period) + 1
    return _within((start + k * period + o for k in range(k0, k1 + 1) for o in offsets), t0, t1)


@dataclass(frozen=True, eq=False)
class Constant:
    """f = level for all t."""

    level: float | np.ndarray = 0.0

    def value(self, t):
        if np.ndim(t) == 0:
            return self.level
        return self.level + 0.0 * np.asarray(t, dtype=float)

    def milestones(self, t0: float, t1: float) -> list[float]:
        return []

    def discontinuities(self, t0: float, t1: float) -> list[float]:
        return []

    def with_amplitude(self, amplitude) -> Constant:
        return Constant(amplitude)


@dataclass(frozen=True, eq=False)
class Step:
    """f = initial for t <= time (s), final afterwards."""

    initial: float | np.ndarray
    final: float | np.ndarray
    time: float = 0.0

    def value(self, t):
        if np.ndim(t) == 0:
            return self.initial if t <= self.time else self.final
        return np.where(np.asarray(t, dtype=float) <= self.time, self.initial, self.final)

    def milestones(self, t0, t1):
        return _within([self.time], t0, t1)

    def discontinuities(self, t0, t1):
        return self.milestones(t0, t1)

    def with_amplitude(self, amplitude) -> Step:
        """The step to ``amplitude`` (the final value)."""
        return Step(self.initial, amplitude, self.time)


@dataclass(frozen=True, eq=False)
class PulseTrain:
    """Rectangular pulses: f = baseline + amplitude on (start + k period, + width] (s),
    k < count, else baseline. ``count = 1`` is a single pulse (``pulse``); ``count = None``
    repeats forever (``period`` required)."""

    amplitude: float | np.ndarray
    width: float  # s
    start: float = 0.0  # s
    period: float = math.inf  # s
    count: int | None = 1
    baseline: float | np.ndarray = 0.0

    def __post_init__(self):
        if not self.width > 0:
            raise ValueError(f"pulse width {self.width} s must be > 0")
        if self.count is None and not math.isfinite(self.period):
            raise ValueError("an endless pulse train needs a finite period")
        if (self.count is None or self.count > 1) and not self.period > self.width:
            raise ValueError(f"period {self.period} s must exceed the width {self.width} s")

    def _index_range(self, t0: float, t1: float) -> range:
        if not math.isfinite(self.period):
            return range(0, 1 if (self.count or 1) >= 1 else 0)
        k0 = max(0, math.floor((t0 - self.start - self.width) / self.period))
        k1 = math.ceil((t1 - self.start) / self.period) + 1
        if self.count is not None:
            k1 = min(k1, self.count)
        return range(k0, max(k0, k1))

    def value(self, t):
        if np.ndim(t) == 0:
            return self._scalar_value(float(t))
        t = np.asarray(t, dtype=float)
        if math.isfinite(self.period):
            k = np.floor((t - self.start) / self.period)
            on = np.zeros(t.shape, dtype=bool)
            for kk in (k - 1.0, k):  # k - 1 guards against round-off in the floor
                start = self.start + kk * self.period
                valid = kk >= 0
                if self.count is not None:
                    valid &= kk < self.count
                on |= valid & (t > start) & (t <= start + self.width)
        else:
            on = (t > self.start) & (t <= self.start + self.width)
            if self.count is not None and self.count < 1:
                on &= False
        return np.where(on, self.baseline + self.amplitude, self.baseline + 0.0 * self.amplitude)

    def _scalar_value(self, t: float):
        if t <= self.start:
            return self.baseline
        periodic = math.isfinite(self.period)
        k = math.floor((t - self.start) / self.period) if periodic else 0
        start = self.start + k * self.period if periodic else self.start
        if t == start:  # left-continuous at the rising edge
            k -= 1
            start -= self.period
        if k < 0 or (self.count is not None and k >= self.count):
            return self.baseline
        return self.baseline + self.amplitude if t <= start + self.width else self.baseline

    def milestones(self, t0, t1):
        out = []
        for k in self._index_range(t0, t1):
            on = self.start + float(k) * self.period if math.isfinite(self.period) else self.start
            out += [on, on + self.width]
        return _within(out, t0, t1)

    def discontinuities(self, t0, t1):
        return self.milestones(t0, t1)

    def with_amplitude(self, amplitude) -> PulseTrain:
        return PulseTrain(amplitude, self.width, self.start, self.period, self.count,
                          self.baseline)


def pulse(amplitude, width: float, start: float = 0.0, baseline=0.0) -> PulseTrain:
    """A single rectangular pulse on (start, start + width] (s)."""
    return PulseTrain(amplitude, width, start, math.inf, 1, baseline)


def _quarter_periods(frequency: float, delay: float, t0: float, t1: float) -> list[float]:
    period = 1.0 / frequency
    return [t for t in _periodic([0.0, 0.25 * period, 0.5 * period, 0.75 * period], period,
                                 t0, t1, delay) if t >= delay]


@dataclass(frozen=True, eq=False)
class Sine:
    """f = offset + amplitude sin(2 pi frequency (t - delay)) for t > delay (s), offset before.

    Milestones: with ``quarter_periods`` every zero crossing and peak from ``delay`` on (where a
    loop analysis cuts and reads the cycles), else only the onset ``delay`` (a kink)."""

    amplitude: float | np.ndarray
    frequency: float  # Hz
    offset: float | np.ndarray = 0.0
    delay: float = 0.0  # s
    quarter_periods: bool = True

    def value(self, t):
        if np.ndim(t) == 0:
            if t <= self.delay:
                return self.offset
            return self.offset + self.amplitude * math.sin(2 * math.pi * self.frequency
                                                            * (t - self.delay))
        s = np.maximum(np.asarray(t, dtype=float) - self.delay, 0.0)
        return self.offset + self.amplitude * np.sin(2.0 * math.pi * self.frequency * s)

    def milestones(self, t0, t1):
        if self.quarter_periods:
            return _quarter_periods(self.frequency, self.delay, t0, t1)
        return _within([self.delay], t0, t1)

    def discontinuities(self, t0, t1):
        return []

    def with_amplitude(self, amplitude) -> Sine:
        return Sine(amplitude, self.frequency, self.offset, self.delay, self.quarter_periods)


@dataclass(frozen=True, eq=False)
class Triangle:
    """Triangle wave from ``delay`` (s): from ``offset`` up to offset + amplitude at T/4, down
    to offset - amplitude at 3T/4, back to offset at T (T = 1/frequency); offset before.
    Milestones: the corners and zero crossings (every quarter period)."""

    amplitude: float | np.ndarray
    frequency: float  # Hz
    offset: float | np.ndarray = 0.0
    delay: float = 0.0  # s

    def value(self, t):
        if np.ndim(t) == 0:
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
        t = np.asarray(t, dtype=float)
        phase = ((t - self.delay) * self.frequency) % 1.0
        shape = np.where(phase <= 0.25, 4 * phase,
                         np.where(phase <= 0.75, 2 - 4 * phase, 4 * phase - 4))
        return np.where(t <= self.delay, self.offset + 0.0 * self.amplitude,
                        self.offset + self.amplitude * shape)

    def milestones(self, t0, t1):
        return _quarter_periods(self.frequency, self.delay, t0, t1)

    def discontinuities(self, t0, t1):
        return []

    def with_amplitude(self, amplitude) -> Triangle:
        return Triangle(amplitude, self.frequency, self.offset, self.delay)


@dataclass(frozen=True, eq=False)
class PiecewiseLinear:
    """Linear interpolation of (``times`` (s), ``values``), constant before the first and after
    the last point. A time may appear twice: where the two values differ it is a jump
    (left-continuous: at that time f is the first of the two values)."""

    times: np.ndarray  # s, non-decreasing
    values: np.ndarray
    _jumps: tuple = field(init=False, repr=False)

    def __post_init__(self):
        t = np.asarray(self.times, dtype=float)
        v = np.asarray(self.values, dtype=float)
        if t.ndim != 1 or t.shape != v.shape or t.size == 0:
            raise ValueError(f"times and values need equal, non-zero lengths ({t.size}, "
                             f"{v.size})")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise ValueError("times and values must be finite")
        if np.any(np.diff(t) < 0):
            raise ValueError("times must be non-decreasing")
        if t.size > 2 and np.any(t[2:] == t[:-2]):
            raise ValueError("a time may appear at most twice (one jump)")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)
        jumps = tuple(float(t[i]) for i in range(1, t.size) if t[i] == t[i - 1]
                      and v[i] != v[i - 1])
        object.__setattr__(self, "_jumps", jumps)

    def value(self, t):
        x, y = self.times, self.values
        if np.ndim(t) == 0:
            if t <= x[0]:
                return float(y[0])
            if t > x[-1]:
                return float(y[-1])
            i = int(np.searchsorted(x, t, side="left"))  # x[i-1] < t <= x[i]
            t_a, t_b = x[i - 1], x[i]
            if t_b == t_a:
                return float(y[i])
            w = (t - t_a) / (t_b - t_a)
            return float((1 - w) * y[i - 1] + w * y[i])
        t_arr = np.asarray(t, dtype=float)
        index = np.searchsorted(x, t_arr, side="left")  # t in (x[index-1], x[index]]
        i1 = np.clip(index, 1, x.size - 1) if x.size > 1 else np.zeros_like(index)
        i0 = np.maximum(i1 - 1, 0)
        span = x[i1] - x[i0]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(span > 0, (t_arr - x[i0]) / np.where(span > 0, span, 1.0), 1.0)
        inside = y[i0] + frac * (y[i1] - y[i0])
        return np.where(t_arr <= x[0], y[0], np.where(t_arr > x[-1], y[-1], inside))

    def milestones(self, t0, t1):
        return _within(self.times, t0, t1)

    def discontinuities(self, t0, t1):
        return _within(self._jumps, t0, t1)

    def with_amplitude(self, amplitude) -> PiecewiseLinear:
        """The same waveform scaled so that its largest |value| is ``amplitude`` (scalar)."""
        peak = float(np.max(np.abs(self.values)))
        scale = 0.0 if peak == 0 else float(amplitude) / peak
        return PiecewiseLinear(self.times, self.values * scale)


Waveform = Constant | Step | PulseTrain | Sine | Triangle | PiecewiseLinear
