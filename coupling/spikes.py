"""Spike detection on the accepted steps of an integrator (NEURON/Brian2 semantics), per lane.

A spike is a positive-going crossing of ``threshold`` by an *armed* detector. The crossing time
is located inside the step on the cubic Hermite interpolant of U built from the step's end values
and slopes dU/dt (error O(h^4), well below the integrator's own), or on the straight line
(``interpolation='linear'``, O(h^2)). The detector then disarms and re-arms only once U falls
below ``rearm`` (default: the threshold itself), so noise or a shoulder near the threshold cannot
count twice. A detector starts armed if U starts below the threshold.

The peak of a spike is the maximum of U between its crossing and the re-arm (including the
interior maximum of the Hermite cubic of a step whose slope changes sign).

Rates: ``rate(lane, t_from, t_to)`` is the mean-ISI rate (n - 1) / (t_last - t_first) of the
spikes in [t_from, t_to] (0 with fewer than two): for tonic firing after a transient it is the
exact frequency of a periodic train, free of the window-edge quantisation of a spike count.
``count_rate`` is the plain count over the window.
"""

from __future__ import annotations

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


class SpikeDetector:
    """Threshold crossings with re-arm, per lane (see the module docstring)."""

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

    def start(self, voltage) -> None:
        """Arm the lanes whose voltage is below the threshold."""
        self.armed = np.broadcast_to(np.asarray(voltage, dtype=float) < self.threshold,
                                     (self.lanes,)).copy()

    def update(self, t0, u0, f0, t1, u1, f1, mask=None) -> None:
        """One accepted step per lane in ``mask``: from (t0, u0, dU/dt f0) to (t1, u1, f1)."""
        armed = self.armed
        up = armed & (u1 >= self.threshold)
        if mask is not None:
            up &= mask
        if up.any():
            i = np.flatnonzero(up)
            h = t1[i] - t0[i]
            if self.interpolation == "hermite":
                s = _hermite_crossing(h, u0[i], f0[i], u1[i], f1[i], self.threshold)
            else:
                s = h * (self.threshold - u0[i]) / (u1[i] - u0[i])
            crossing = t0[i] + s
            for lane, tc in zip(i.tolist(), crossing.tolist()):
                self._times[lane].append(tc)
            self.armed[i] = False
            self.peak[i] = self.threshold
        tracking = ~self.armed
        if mask is not None:
            tracking &= mask
        if tracking.any():
            top = np.maximum(self.peak, u1)
            inner = tracking & (f0 > 0) & (f1 < 0)
            if inner.any() and self.interpolation == "hermite":
                j = np.flatnonzero(inner)
                top[j] = np.maximum(top[j], _hermite_max(t1[j] - t0[j], u0[j], f0[j], u1[j],
                                                         f1[j]))
            self.peak = np.where(tracking, top, self.peak)
            down = tracking & (u1 < self.rearm)
            if down.any():
                for lane in np.flatnonzero(down).tolist():
                    self._peaks[lane].append(float(self.peak[lane]))
                self.armed = self.armed | down
                self.peak = np.where(down, -np.inf, self.peak)

    # -- results -------------------------------------------------------------------------------
    def times(self, lane: int = 0) -> np.ndarray:
        """Spike times (s) of ``lane``."""
        return np.array(self._times[lane])

    def peaks(self, lane: int = 0) -> np.ndarray:
        """Peak voltage (V) of each spike of ``lane`` (the last one's running maximum if it has
        not re-armed yet)."""
        out = list(self._peaks[lane])
        if len(out) < len(self._times[lane]):
            out.append(float(self.peak[lane]))
        return np.array(out)

    def counts(self) -> np.ndarray:
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
        return {"threshold": self.threshold, "rearm": self.rearm,
                "interpolation": self.interpolation, "armed": self.armed.copy(),
                "peak": self.peak.copy(), "times": [list(t) for t in self._times],
                "peaks": [list(p) for p in self._peaks]}

    def restore(self, state: dict) -> None:
        self.threshold, self.rearm = state["threshold"], state["rearm"]
        self.interpolation = state["interpolation"]
        self.armed = np.array(state["armed"], dtype=bool)
        self.peak = np.array(state["peak"], dtype=float)
        self.lanes = self.armed.size
        self._times = [list(t) for t in state["times"]]
        self._peaks = [list(p) for p in state["peaks"]]
