"""Stimulus currents I_stim(t) (A, t in s) and the times an integrator must hit exactly.

Every stimulus gives ``current(t)`` (``t`` a float or an array of per-lane times; amplitudes may be
arrays of shape (lanes,) so one object drives every lane of a sweep), ``milestones(t0, t1)``: the
corners of the waveform in (t0, t1] (jumps, kinks, ends of pulses), and
``discontinuities(t0, t1)``: the jumps among them, after which BDF2 restarts with backward
Euler. Jumps are left-continuous: I(t_jump) is the old value, so the step ending at t_jump still
sees the old current and the next one the new (the same convention as ionslit.solvers.protocols).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _within(times, t0: float, t1: float) -> list[float]:
    return sorted({float(t) for t in times if t0 < t <= t1})


@dataclass(frozen=True, eq=False)
class ConstantCurrent:
    """I = current (A) for all t."""

    current_value: float | np.ndarray = 0.0

    def current(self, t):
        return self.current_value + 0.0 * np.asarray(t, dtype=float)

    def milestones(self, t0: float, t1: float) -> list[float]:
        return []

    def discontinuities(self, t0: float, t1: float) -> list[float]:
        return []

    def with_amplitude(self, amplitude) -> ConstantCurrent:
        return ConstantCurrent(amplitude)


@dataclass(frozen=True, eq=False)
class StepCurrent:
    """I = initial for t <= time, final afterwards (A, s)."""

    final: float | np.ndarray
    time: float = 0.0
    initial: float | np.ndarray = 0.0

    def current(self, t):
        t = np.asarray(t, dtype=float)
        return np.where(t <= self.time, self.initial, self.final)

    def milestones(self, t0, t1):
        return _within([self.time], t0, t1)

    def discontinuities(self, t0, t1):
        return self.milestones(t0, t1)

    def with_amplitude(self, amplitude) -> StepCurrent:
        return StepCurrent(amplitude, self.time, self.initial)


@dataclass(frozen=True, eq=False)
class PulseTrain:
    """Rectangular pulses: I = baseline + amplitude on (start + k period, + width], k < count.

    ``count = 1`` is a single pulse; ``count = None`` repeats forever (``period`` required).
    """

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

    def current(self, t):
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

    def corners(self, t0: float, t1: float) -> list[float]:
        out = []
        for k in self._index_range(t0, t1):
            on = self.start + float(k) * self.period if math.isfinite(self.period) else self.start
            out += [on, on + self.width]
        return _within(out, t0, t1)

    def milestones(self, t0, t1):
        return self.corners(t0, t1)

    def discontinuities(self, t0, t1):
        return self.corners(t0, t1)

    def with_amplitude(self, amplitude) -> PulseTrain:
        return PulseTrain(amplitude, self.width, self.start, self.period, self.count,
                          self.baseline)


def Pulse(amplitude, width: float, start: float = 0.0, baseline=0.0) -> PulseTrain:  # noqa: N802
    """A single rectangular pulse on (start, start + width]."""
    return PulseTrain(amplitude, width, start, math.inf, 1, baseline)


@dataclass(frozen=True, eq=False)
class SineCurrent:
    """I = offset + amplitude sin(2 pi frequency (t - delay)) for t > delay, offset before."""

    amplitude: float | np.ndarray
    frequency: float  # Hz
    offset: float | np.ndarray = 0.0
    delay: float = 0.0  # s

    def current(self, t):
        t = np.asarray(t, dtype=float)
        s = np.maximum(t - self.delay, 0.0)
        return self.offset + self.amplitude * np.sin(2.0 * math.pi * self.frequency * s)

    def milestones(self, t0, t1):
        return _within([self.delay], t0, t1)  # a kink at the onset (no jump)

    def discontinuities(self, t0, t1):
        return []

    def with_amplitude(self, amplitude) -> SineCurrent:
        return SineCurrent(amplitude, self.frequency, self.offset, self.delay)


@dataclass(frozen=True, eq=False)
class PiecewiseLinearCurrent:
    """Linear interpolation of (times, currents), constant outside; a repeated time is a jump
    (left-continuous: at the repeated time the current is the first of the two values)."""

    times: np.ndarray  # s, non-decreasing
    currents: np.ndarray  # A
    _jumps: tuple = field(init=False, repr=False)

    def __post_init__(self):
        t = np.asarray(self.times, dtype=float).ravel()
        c = np.asarray(self.currents, dtype=float).ravel()
        if t.size == 0 or t.size != c.size:
            raise ValueError(f"times and currents need equal, non-zero lengths ({t.size}, "
                             f"{c.size})")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
            raise ValueError("times and currents must be finite")
        if np.any(np.diff(t) < 0):
            raise ValueError("times must be non-decreasing")
        if t.size > 2 and np.any(t[2:] == t[:-2]):
            raise ValueError("a time may appear at most twice (one jump)")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "currents", c)
        jumps = tuple(float(a) for a, b in zip(t[:-1], t[1:]) if a == b)
        object.__setattr__(self, "_jumps", jumps)

    def current(self, t):
        t_arr = np.asarray(t, dtype=float)
        x, y = self.times, self.currents
        i = np.searchsorted(x, t_arr, side="left")  # t in (x[i-1], x[i]]
        i1 = np.clip(i, 1, x.size - 1) if x.size > 1 else np.zeros_like(i)
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

    def with_amplitude(self, amplitude) -> PiecewiseLinearCurrent:
        """The same waveform scaled so its largest |current| is ``amplitude`` (scalar)."""
        peak = float(np.max(np.abs(self.currents)))
        scale = 0.0 if peak == 0 else float(amplitude) / peak
        return PiecewiseLinearCurrent(self.times, self.currents * scale)


Stimulus = ConstantCurrent | StepCurrent | PulseTrain | SineCurrent | PiecewiseLinearCurrent
