"""Spike detection on the accepted steps of an integrator (NEURON/Brian2 semantics), per lane
(docs/theory.md#spike-detection). Times in s, voltages in V, slopes in V/s, rates in Hz.

A spike is a positive-going crossing of ``threshold`` by an *armed* detector. The crossing time
is located inside the step on the cubic Hermite interpolant of U built from the step's end values
and slopes dU/dt (error O(h^4), well below the integrator's own), or on the straight line
(``interpolation='linear'``, O(h^2)). The detector then disarms and re-arms only once U falls
below ``rearm`` (default: the threshold itself), so noise or a shoulder near the threshold cannot
count twice. A detector starts armed if U starts below the threshold.

The peak of a spike is the maximum of U between its crossing and the re-arm (including the
interior maximum of the Hermite cubic of a step whose slope changes sign).

The crossing times and the interior maxima are found in batches: the steps concerned are kept
and solved together once ``SpikeDetector.BATCH`` have gathered, or when spikes are asked for (on many
lanes a few lanes cross or peak on every step; one vectorised solve for all of them costs what
one for a handful does).

Rates: ``rate(lane, t_from, t_to)`` is the mean-ISI rate (n - 1) / (t_last - t_first) of the
spikes in [t_from, t_to] (0 with fewer than two): for tonic firing after a transient it is the
exact frequency of a periodic train, free of the window-edge quantisation of a spike count.
``count_rate`` is the plain count over the window.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def hermite_coefficients(h, u0, f0, u1, f1):
    """U(s) = u0 + f0 s + c2 s^2 + c3 s^3 on s in [0, h]: returns (c2, c3)."""
    slope = (u1 - u0) / h
    c2 = (3.0 * slope - 2.0 * f0 - f1) / h
    c3 = (f0 + f1 - 2.0 * slope) / (h * h)
    return c2, c3


def _hermite_crossing(h, u0, f0, u1, f1, level, iterations: int = 40):
    """s in (0, h] where the Hermite cubic reaches ``level`` (u0 < level <= u1), Newton's method
    safeguarded by bisection; vectorised."""
    c2, c3 = hermite_coefficients(h, u0, f0, u1, f1)
    lo = np.zeros_like(h)
    hi = h.copy()
    du = u1 - u0
    s = np.where(du > 0, h * (level - u0) / np.where(du > 0, du, 1.0), h)
    for _ in range(iterations):
        value = u0 + s * (f0 + s * (c2 + s * c3)) - level
        below = value < 0
        lo = np.where(below, s, lo)
        hi = np.where(below, hi, s)
        slope = f0 + s * (2.0 * c2 + 3.0 * s * c3)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = s - value / slope
        ok = (slope > 0) & (newton >= lo) & (newton <= hi)
        s_new = np.where(ok, newton, 0.5 * (lo + hi))
        if np.all(np.abs(s_new - s) <= 1e-13 * h):
            return s_new
        s = s_new
    return s


def _hermite_max(h, u0, f0, u1, f1):
    """Maximum of the Hermite cubic on [0, h] where f0 > 0 > f1 (an interior maximum)."""
    c2, c3 = hermite_coefficients(h, u0, f0, u1, f1)
    # U'(s) = f0 + 2 c2 s + 3 c3 s^2 = 0; the root where U' goes from + to -
    a, b, c = 3.0 * c3, 2.0 * c2, f0
    disc = np.maximum(b * b - 4.0 * a * c, 0.0)
    root = np.sqrt(disc)
    # the numerically stable pair of roots
    q = -0.5 * (b + np.copysign(root, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(a != 0, q / a, np.inf)
        r2 = np.where(q != 0, c / q, np.inf)
    best = np.maximum(u0, u1)
    for r in (r1, r2):
        inside = np.isfinite(r) & (r > 0) & (r < h)
        rr = np.where(inside, r, 0.0)
        val = u0 + rr * (f0 + rr * (c2 + rr * c3))
        best = np.where(inside, np.maximum(best, val), best)
    return best


class CrossingSteps(NamedTuple):
    """Accepted steps that crossed the threshold, their crossing times not located yet: the
    ``lanes``, the step's start time ``start`` (s) and length ``step`` (s), and its end values
    U (V) and slopes dU/dt (V/s)."""

    lanes: np.ndarray
    start: np.ndarray
    step: np.ndarray
    u0: np.ndarray
    f0: np.ndarray
    u1: np.ndarray
    f1: np.ndarray


class PeakSteps(NamedTuple):
    """Accepted steps with an interior maximum of U, not evaluated yet: the ``lanes``, the
    number ``spike`` of the spike each belongs to, the step's length ``step`` (s), and its end
    values U (V) and slopes dU/dt (V/s)."""

    lanes: np.ndarray
    spike: np.ndarray
    step: np.ndarray
    u0: np.ndarray
    f0: np.ndarray
    u1: np.ndarray
    f1: np.ndarray


class SpikeDetector:
    """Threshold crossings with re-arm, per lane (see the module docstring)."""

    BATCH = 512  # steps kept before their crossing times and maxima are computed

    def __init__(self, lanes: int, threshold: float, rearm: float | None = None,
                 interpolation: str = "hermite"):
        if interpolation not in ("hermite", "linear"):
            raise ValueError(f"interpolation {interpolation!r} is not 'hermite' or 'linear'")
        self.lanes = int(lanes)
        self.threshold = float(threshold)
        self.rearm = self.threshold if rearm is None else float(rearm)
        if self.rearm > self.threshold:
            raise ValueError(f"re-arm level {self.rearm} V must not exceed the threshold "
                             f"{self.threshold} V")
        self.interpolation = interpolation
        self.armed = np.ones(self.lanes, dtype=bool)
        self.peak = np.full(self.lanes, -np.inf)  # running maximum of the present spike
        self._times: list[list[float]] = [[] for _ in range(self.lanes)]
        self._peaks: list[list[float]] = [[] for _ in range(self.lanes)]
        self._crossed: list[CrossingSteps] = []
        self._peaked: list[PeakSteps] = []
        self._kept = 0  # steps in both lists

    def start(self, voltage) -> None:
        """Arm the lanes whose voltage is below the threshold."""
        self.armed = np.broadcast_to(np.asarray(voltage, dtype=float) < self.threshold,
                                     (self.lanes,)).copy()

    def update(self, t0, u0, f0, t1, u1, f1, mask=None) -> None:
        """One accepted step per lane in ``mask``: from (t0, u0, dU/dt f0) to (t1, u1, f1)."""
        up = u1 >= self.threshold
        up &= self.armed
        if mask is not None:
            up &= mask
        if up.any():
            i = up.nonzero()[0]
            self._crossed.append(CrossingSteps(i, t0[i], t1[i] - t0[i], u0[i], f0[i], u1[i],
                                               f1[i]))
            self._kept += i.size
            self.armed[i] = False
            self.peak[i] = self.threshold
        tracking = ~self.armed
        if mask is not None:
            tracking &= mask
        j = tracking.nonzero()[0]  # the lanes inside a spike: few, so work on them only
        if j.size:
            u1j = u1[j]
            self.peak[j] = np.maximum(self.peak[j], u1j)
            if self.interpolation == "hermite":
                inner = (f0[j] > 0) & (f1[j] < 0)
                if inner.any():  # the maximum inside the step, for spike number len(peaks)
                    k = j[inner]
                    spike = np.array([len(self._peaks[lane]) for lane in k.tolist()])
                    self._peaked.append(PeakSteps(k, spike, t1[k] - t0[k], u0[k], f0[k], u1[k],
                                                  f1[k]))
                    self._kept += k.size
            down = u1j < self.rearm
            if down.any():
                ended = j[down]
                for lane in ended.tolist():
                    self._peaks[lane].append(float(self.peak[lane]))
                self.armed[ended] = True
                self.peak[ended] = -np.inf
        if self._kept >= self.BATCH:
            self._settle()

    def _settle(self) -> None:
        """Crossing times and interior maxima of the steps kept by ``update``: the times are
        appended to each lane's spikes, the maxima raise the peaks of their spikes."""
        if self._crossed:
            lanes, t0, h, u0, f0, u1, f1 = (np.concatenate(p) for p in zip(*self._crossed, strict=True))
            if self.interpolation == "hermite":
                s = _hermite_crossing(h, u0, f0, u1, f1, self.threshold)
            else:
                s = h * (self.threshold - u0) / (u1 - u0)
            for lane, tc in zip(lanes.tolist(), (t0 + s).tolist(), strict=True):
                self._times[lane].append(tc)
        if self._peaked:
            lanes, spikes, h, u0, f0, u1, f1 = (np.concatenate(p) for p in zip(*self._peaked, strict=True))
            top = _hermite_max(h, u0, f0, u1, f1)
            for lane, spike, value in zip(lanes.tolist(), spikes.tolist(), top.tolist(), strict=True):
                done = self._peaks[lane]
                if spike < len(done):
                    done[spike] = max(done[spike], value)
                else:  # the spike has not re-armed yet
                    self.peak[lane] = max(self.peak[lane], value)
        self._crossed, self._peaked, self._kept = [], [], 0

    # -- results -------------------------------------------------------------------------------
    def times(self, lane: int = 0) -> np.ndarray:
        """Spike times (s) of ``lane``."""
        self._settle()
        return np.array(self._times[lane])

    def peaks(self, lane: int = 0) -> np.ndarray:
        """Peak voltage (V) of each spike of ``lane`` (the last one's running maximum if it has
        not re-armed yet)."""
        self._settle()
        out = list(self._peaks[lane])
        if len(out) < len(self._times[lane]):
            out.append(float(self.peak[lane]))
        return np.array(out)

    def counts(self) -> np.ndarray:
        """Number of spikes per lane."""
        self._settle()
        return np.array([len(t) for t in self._times])

    def intervals(self, lane: int = 0) -> np.ndarray:
        """Inter-spike intervals (s)."""
        return np.diff(self.times(lane))

    def rate(self, lane: int = 0, t_from: float = -np.inf, t_to: float = np.inf) -> float:
        """Mean-ISI rate (Hz) of the spikes in [t_from, t_to]; 0 with fewer than two."""
        t = self.times(lane)
        t = t[(t >= t_from) & (t <= t_to)]
        if t.size < 2:
            return 0.0
        return (t.size - 1) / (t[-1] - t[0])

    def count_rate(self, lane: int, t_from: float, t_to: float) -> float:
        """Spike count in [t_from, t_to] divided by the window (Hz)."""
        t = self.times(lane)
        return float(np.count_nonzero((t >= t_from) & (t <= t_to))) / (t_to - t_from)

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        """A picklable checkpoint (settings, arming, running peaks, spike times and peaks)."""
        self._settle()
        return {"threshold": self.threshold, "rearm": self.rearm,
                "interpolation": self.interpolation, "armed": self.armed.copy(),
                "peak": self.peak.copy(), "times": [list(t) for t in self._times],
                "peaks": [list(p) for p in self._peaks]}

    def restore(self, state: dict) -> None:
        """Continue from a ``state()``."""
        self.threshold, self.rearm = state["threshold"], state["rearm"]
        self.interpolation = state["interpolation"]
        self.armed = np.array(state["armed"], dtype=bool)
        self.peak = np.array(state["peak"], dtype=float)
        self.lanes = self.armed.size
        self._times = [list(t) for t in state["times"]]
        self._peaks = [list(p) for p in state["peaks"]]
        self._crossed, self._peaked, self._kept = [], [], 0
