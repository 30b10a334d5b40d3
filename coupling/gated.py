"""Base class of this package's providers: internal states relaxing linearly at a frozen voltage
(docs/theory.md#circuit-integrator). SI units: s, V, A, S.

Every internal state x_j of a lane obeys dx_j/dt = A_j(V) - B_j(V) x_j (a reduced memristor:
A = g_inf / tau, B = 1 / tau; a Hodgkin-Huxley gate: A = alpha, B = alpha + beta), and the current
is I(V, x). With V frozen at the new time level the implicit BDF step is linear in x:

    b0 x + b1 x_n + b2 x_{n-1} = A(V) - B(V) x   =>   x = (A - b1 x_n - b2 x_{n-1}) / (b0 + B),

so a try costs one evaluation of the rate functions, and dx/dV (hence the differential
conductance dI/dV of the step map) follows in closed form. ``lanes`` independent elements
advance together, with boolean masks selecting the lanes an ``accept``/``reject``/
``restart_history`` applies to (see ``provider.LaneProvider``). The states are stored state by
state, arrays of shape (nstate, lanes), so that each state is a contiguous vector over the lanes
and per-lane quantities (step sizes, BDF coefficients) broadcast against them as they are; the
public views (``states``, ``steady_states``, snapshots) are (lanes, nstate).

Local error of the states. Each try also forms the explicit predictor of the step's order from
the accepted slope dx/dt = A - B x (forward Euler, or the quadratic through x_{n-1}, x_n with that
slope) and estimates the local error of x exactly as the integrator does for U;
``local_error(rtol)`` returns max_j |err_j| / (rtol max(|x_j|, scale_j)) per lane, so the
integrator's step control covers the hidden states too (a slow gate drives U through the
interspike interval while U itself is smooth; without this its error goes unchecked).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from ionslit.coupling import bdf


def lane_mask(mask, lanes: int) -> np.ndarray | None:
    """None (all lanes) or a boolean array of shape (lanes,)."""
    if mask is None:
        return None
    m = np.asarray(mask, dtype=bool).reshape(-1)
    if m.size == 1 and lanes != 1:
        m = np.repeat(m, lanes)
    if m.size != lanes:
        raise ValueError(f"lane mask has {m.size} entries for {lanes} lanes")
    return None if m.all() else m


class StepTerms(NamedTuple):
    """The terms of one step of the states that do not depend on the voltage (arrays
    (nstate, lanes) or per lane): ``b0`` (1/s), ``history`` b1 x_n + b2 x_{n-1} (units of x
    per s), the explicit ``predictor`` of x and the ``error_factor`` of the local error
    estimate (``bdf.StepConstants``)."""

    b0: np.ndarray
    history: np.ndarray
    predictor: np.ndarray
    error_factor: np.ndarray | float


class Try(NamedTuple):
    """A tentative step, pending ``accept``/``reject``: the step ``dt`` (s) per lane, the new
    ``states`` and their slope dx/dt (arrays (nstate, lanes)), and the step's ``terms`` (None
    without states)."""

    dt: np.ndarray
    states: np.ndarray
    slope: np.ndarray
    terms: StepTerms | None


class GatedProvider:
    """Lane-vectorised provider with ``nstate`` linearly relaxing states per lane.

    Subclasses implement ``_rates(v) -> (A, B, dA/dv, dB/dv)`` (arrays (nstate, lanes)) and
    ``_current(v, x, dx/dv) -> (I, dI/dv)`` (x, dx/dv: (nstate, lanes); I, dI/dv: (lanes,);
    dx/dv None: dI/dv None); v is the voltage across the element (V), shape (lanes,).
    ``scheme`` ('backward_euler' or 'bdf2') is set by the integrator to its own.

    ``try_step(dt, voltage, conductance=False)`` skips dI/dV (``optional_conductance``): the
    integrator's tries that only test convergence need the current alone.
    """

    vectorised = True
    optional_conductance = True
    nstate = 0
    #: magnitude below which a state's error is measured absolutely (per state; subclasses)
    state_scale: np.ndarray | float = 1.0

    def __init__(self, initial_state, lanes: int = 1, scheme: str = "bdf2"):
        if int(lanes) < 1:
            raise ValueError(f"lanes must be >= 1 (got {lanes})")
        self.lanes = int(lanes)
        self.scheme = bdf.check_scheme(scheme)
        x0 = np.broadcast_to(np.asarray(initial_state, dtype=float).reshape(-1, self.nstate)
                             if self.nstate else np.zeros((1, 0)), (self.lanes, self.nstate))
        self._x = np.array(x0.T)  # (nstate, lanes), like every state array here
        self._x_old = self._x.copy()
        self.time = np.zeros(self.lanes)
        self._dt_prev = np.ones(self.lanes)
        self._levels = np.ones(self.lanes, dtype=int)
        self._slope = np.full((self.nstate, self.lanes), np.nan)  # dx/dt at the accepted level
        self._slope_unknown = True
        self._all_second = False
        self._pending: Try | None = None
        self._conductance: np.ndarray | None = None
        self._cache_dt: np.ndarray | None = None  # the dt array of the cached step terms
        self._cache: StepTerms | None = None

    # -- subclass hooks ----------------------------------------------------------------------
    def _rates(self, v):
        raise NotImplementedError

    def _current(self, v, x, dx):
        raise NotImplementedError

    def _solve(self, v, b0, hist, derivative: bool = True):
        """The implicit step at voltage v: (x, dx/dv or None, dx/dt), arrays (nstate, lanes)."""
        a, b, da, db = self._rates(v)
        den = b0 + b
        x = (a - hist) / den
        return x, (da - x * db) / den if derivative else None, a - b * x

    # -- provider protocol -------------------------------------------------------------------
    def _history(self, dt: np.ndarray) -> StepTerms:
        """The ``StepTerms`` of this step; cached while the same ``dt`` array object is passed
        (the integrator's Newton tries of one step)."""
        cached = self._cache
        if cached is not None and self._cache_dt is dt:
            return cached
        k = bdf.for_step(self.scheme, self._levels, dt, self._dt_prev,
                         all_second=self._all_second)
        # explicit predictor (see the integrator's step control): x + h x' (+ curvature)
        x, slope = self._x, self._slope
        predictor = dt * slope
        predictor += x
        hist = k.b1 * x
        if k.curvature_weight is not None:
            hist += k.b2 * self._x_old
            curvature = self._x_old - x
            curvature += slope * self._dt_prev
            curvature *= k.curvature_weight
            predictor += curvature
        terms = StepTerms(k.b0, hist, predictor, k.error_factor)
        self._cache_dt, self._cache = dt, terms
        return terms

    def try_step(self, dt, voltage, conductance: bool = True):
        """Tentative step of ``dt`` (s) with ``voltage`` (V) across each lane; returns the
        current (A) per lane (a float for float arguments on one lane). ``conductance``:
        also dI/dV (``differential_conductance``; None without)."""
        shape = (self.lanes,)
        scalar = False
        if isinstance(dt, np.ndarray) and dt.shape == shape:
            dt_a = dt
        else:
            scalar = np.ndim(dt) == 0
            dt_a = np.full(shape, 0.0)
            dt_a[:] = dt
        if isinstance(voltage, np.ndarray) and voltage.shape == shape:
            v = voltage
            scalar = scalar and v.ndim == 0
        else:
            scalar = scalar and np.ndim(voltage) == 0
            v = np.full(shape, 0.0)
            v[:] = voltage
        terms = None
        if self.nstate:
            terms = self._history(dt_a)
            x, dx, slope = self._solve(v, terms.b0, terms.history, conductance)
        else:
            x = dx = slope = self._x
        if not conductance:
            dx = None
        current, didv = self._current(v, x, dx)
        self._pending = Try(dt_a, x, slope, terms)
        self._conductance = didv
        if scalar and self.lanes == 1:
            return float(current[0])
        return current

    @property
    def differential_conductance(self) -> np.ndarray | None:
        """dI/dV (S) of the last try per lane, at fixed dt (None before any try)."""
        return self._conductance

    def accept(self, mask=None) -> None:
        """The last try becomes the accepted level (on the lanes in ``mask``; all if None)."""
        pending = self._pending
        if pending is None:
            raise RuntimeError("accept() without a try_step()")
        dt, x, slope = pending.dt, pending.states, pending.slope
        m = lane_mask(mask, self.lanes)
        x_prev, x_old, slope_prev = self._x, self._x_old, self._slope
        time, dt_prev, levels = self.time, self._dt_prev, self._levels
        # every lane takes the new level, then the lanes not in the mask get their old values
        # back (by index: usually few lanes, cheaper than selecting on every lane)
        self._x_old, self._x, self._slope = x_prev, x, slope
        self.time = time + dt
        self._dt_prev = dt.copy()
        if not self._all_second:
            self._levels = np.minimum(levels + 1, 2)
        if m is not None:
            kept = (~m).nonzero()[0]
            self._x_old = x_prev.copy()
            for new, old in ((self._x_old, x_old), (self._x, x_prev), (self._slope, slope_prev)):
                for new_row, old_row in zip(new, old, strict=True):  # state by state: 1-D indexing is fast
                    new_row[kept] = old_row[kept]
            for new, old in ((self.time, time), (self._dt_prev, dt_prev)):
                new[kept] = old[kept]
            if not self._all_second:
                self._levels[kept] = levels[kept]
            self._slope_unknown = self._slope_unknown and bool(np.isnan(self._slope).any())
        else:
            self._slope_unknown = False
        if not self._all_second:
            self._all_second = bool(self._levels.min() >= 2)
        self._pending = None
        self._cache_dt = None

    def local_error(self, rtol: float) -> np.ndarray | None:
        """Estimated local error of the last try's states, max_j |err_j| / (rtol max(|x_j|,
        scale_j)) per lane (0 where the accepted slope is not known yet); None without states.
        """
        pending = self._pending
        if pending is None or pending.terms is None:  # no try, or no states
            return None
        x = pending.states
        predictor, factor = pending.terms.predictor, pending.terms.error_factor
        err = x - predictor
        np.abs(err, out=err)
        err *= factor
        size = np.abs(x)
        scale = self.state_scale
        np.maximum(size, scale if np.ndim(scale) == 0 else np.reshape(scale, (-1, 1)), out=size)
        size *= rtol
        err /= size
        err = err[0] if self.nstate == 1 else err.max(axis=0)
        if self._slope_unknown:  # no slope yet (no probe): no estimate on those lanes
            err = np.where(np.isfinite(err), err, 0.0)
        return err

    def reject(self, mask=None) -> None:
        """Discard the last try (the next try starts from the accepted level again). Before the
        first accepted step, the slope of the try is kept as the accepted level's slope (the
        integrator's first try is a probe with a tiny step)."""
        if self._pending is not None and self.nstate and self._slope_unknown:
            unknown = np.isnan(self._slope)
            if unknown.any():
                self._slope = np.where(unknown, self._pending.slope, self._slope)
            self._slope_unknown = bool(np.isnan(self._slope).any())
        self._pending = None
        self._cache_dt = None

    def restart_history(self, mask=None) -> None:
        """The next step of these lanes is backward Euler (after a start or a jump)."""
        m = lane_mask(mask, self.lanes)
        self._levels = np.where(m, 1, self._levels) if m is not None else np.ones_like(
            self._levels)
        self._all_second = False
        self._cache_dt = None

    # -- checkpoints ---------------------------------------------------------------------------
    @property
    def state(self) -> dict:
        """Picklable snapshot: arrays and floats only (states as (lanes, nstate))."""
        return {"kind": type(self).__name__, "lanes": self.lanes, "scheme": self.scheme,
                "time": self.time.copy(), "x": self._x.T.copy(), "x_old": self._x_old.T.copy(),
                "slope": self._slope.T.copy(), "dt_prev": self._dt_prev.copy(),
                "levels": self._levels.copy()}

    def restore(self, state: dict) -> None:
        """Continue from a ``state`` snapshot of a provider of the same class and lanes."""
        if state.get("kind") != type(self).__name__ or state["lanes"] != self.lanes:
            raise ValueError(f"snapshot of a {state.get('kind')} with {state.get('lanes')} lanes "
                             f"cannot restore a {type(self).__name__} with {self.lanes} lanes")
        self.scheme = state["scheme"]
        self.time = np.array(state["time"], dtype=float)
        self._x = np.array(np.asarray(state["x"], dtype=float).T)
        self._x_old = np.array(np.asarray(state["x_old"], dtype=float).T)
        self._slope = np.array(np.asarray(state["slope"], dtype=float).T)
        self._dt_prev = np.array(state["dt_prev"], dtype=float)
        self._levels = np.array(state["levels"], dtype=int)
        self._all_second = bool(self._levels.min() >= 2)
        self._slope_unknown = bool(np.isnan(self._slope).any())
        self._pending = None
        self._cache_dt = None

    def with_lanes(self, lanes: int):
        """A fresh copy on ``lanes`` lanes, each starting from this one's accepted state (this
        one must have one lane, or already ``lanes``)."""
        if self.lanes not in (1, lanes):
            raise ValueError(f"cannot spread {self.lanes} lanes over {lanes}")
        new = copy.copy(self)
        new.lanes = int(lanes)
        shape = (self.nstate, lanes)
        new.time = np.broadcast_to(self.time, (lanes,)).copy()
        new._x = np.broadcast_to(self._x, shape).copy()
        new._x_old = np.broadcast_to(self._x_old, shape).copy()
        new._slope = np.broadcast_to(self._slope, shape).copy()
        new._dt_prev = np.broadcast_to(self._dt_prev, (lanes,)).copy()
        new._levels = np.broadcast_to(self._levels, (lanes,)).copy()
        new._pending = new._conductance = new._cache_dt = new._cache = None
        return new

    # -- steady states -----------------------------------------------------------------------
    def _steady(self, voltage) -> tuple[np.ndarray, np.ndarray]:
        """(v, x = A/B) at a constant ``voltage`` across the element; x: (nstate, lanes)."""
        v = np.broadcast_to(np.asarray(voltage, dtype=float), (self.lanes,))
        if not self.nstate:
            return v, np.zeros((0, self.lanes))
        a, b, _, _ = self._rates(v)
        return v, a / b

    def steady_states(self, voltage) -> np.ndarray:
        """x = A/B at a constant ``voltage`` across the element, shape (lanes, nstate)."""
        return self._steady(voltage)[1].T.copy()

    def steady_current(self, voltage) -> np.ndarray:
        """Current (A) per lane once the states have relaxed at ``voltage`` (V)."""
        v, x = self._steady(voltage)
        return self._current(v, x, np.zeros_like(x))[0]

    def equilibrate(self, voltage, mask=None) -> None:
        """Set the states to their steady values at ``voltage`` (V) and restart the history."""
        x = self._steady(voltage)[1]
        m = lane_mask(mask, self.lanes)
        if m is None:
            self._x, self._x_old = x.copy(), x.copy()
            self._slope = np.zeros_like(x)
        else:
            self._x = np.where(m, x, self._x)
            self._x_old = np.where(m, x, self._x_old)
            self._slope = np.where(m, 0.0, self._slope)
        self._pending = None
        self._slope_unknown = bool(np.isnan(self._slope).any())
        self.restart_history(m)

    @property
    def states(self) -> np.ndarray:
        """Accepted internal states, shape (lanes, nstate) (a copy)."""
        return self._x.T.copy()
