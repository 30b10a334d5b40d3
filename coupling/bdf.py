"""Variable-step BDF1/BDF2 coefficients: the one BDF module of the package, used by the circuit,
its providers and the finite-element time stepping (``ionslit.solvers``); see
docs/theory.md#time-stepping and docs/theory.md#circuit-integrator.

Schemes (``Scheme``): ``"backward_euler"`` (order 1 on every step) and ``"bdf2"`` (variable-step
BDF2, order 1 on the first step after a start or a jump of the forcing). Times in s (or any unit:
the coefficients have the unit 1/time of the steps).

dy/dt at t_{n+1} ~ b0 y_{n+1} + b1 y_n + b2 y_{n-1}, step h = t_{n+1} - t_n, ratio
w = h / h_prev:

- order 1 (backward Euler): b0 = 1/h, b1 = -1/h, b2 = 0;
- order 2 (BDF2): b0 = (1 + 2w) / ((1 + w) h), b1 = -(1 + w) / h, b2 = w^2 / ((1 + w) h).

Local errors (y_{n+1} - y(t_{n+1}) for exact past values): order 1: (h^2 / 2) y'';
order 2: h^3 (1 + w)^2 / (6 w (1 + 2w)) y''' (= 2/9 h^3 y''' at w = 1). The step ratio must stay
below 1 + sqrt(2) for zero stability of variable-step BDF2 (the integrator caps it at 2).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

Scheme = Literal["backward_euler", "bdf2"]
SCHEMES: tuple[str, ...] = get_args(Scheme)


def check_scheme(scheme: str) -> str:
    """``scheme`` if it is one of ``SCHEMES``, else ValueError."""
    if scheme not in SCHEMES:
        raise ValueError(f"time scheme {scheme!r} is not one of {SCHEMES}")
    return scheme


def bdf_coefficients(order: int, dt: float, dt_prev: float | None = None
                     ) -> tuple[float, float, float]:
    """(b0, b1, b2) of one step (floats) with du/dt ~ b0 u^{n+1} + b1 u^n + b2 u^{n-1}.

    Order 1 (or no ``dt_prev``): backward Euler. Order 2: variable-step BDF2 with
    w = dt / dt_prev: b0 = (1 + 2w) / ((1 + w) dt), b1 = -(1 + w) / dt, b2 = w^2 / ((1 + w) dt).
    """
    if order == 1 or dt_prev is None:
        return 1.0 / dt, -1.0 / dt, 0.0
    if order != 2:
        raise ValueError(f"BDF order {order} not supported")
    w = dt / dt_prev
    return (1 + 2 * w) / ((1 + w) * dt), -(1 + w) / dt, w * w / ((1 + w) * dt)


def coefficients(second, dt: np.ndarray, dt_prev: np.ndarray):
    """(b0, b1, b2) arrays, one value per lane; ``second``: boolean (per lane or one for all), BDF2 where True
    (else backward Euler). A lane's values do not depend on the other lanes' ``second``."""
    inv = 1.0 / dt
    if np.ndim(second) == 0 or second.all() or not second.any():
        if not np.all(second):
            return inv, -inv, np.zeros_like(dt)
        return _bdf2(dt, dt_prev, inv)[:3]
    b0, b1, b2 = _bdf2(dt, np.where(second, dt_prev, dt), inv)[:3]
    return np.where(second, b0, inv), np.where(second, b1, -inv), np.where(second, b2, 0.0)


def _bdf2(dt, dt_prev, inv):
    """BDF2 on every lane: b0, b1, b2, the step ratio w, 1 + w and w^2 (few array operations:
    this runs once per step)."""
    w = dt / dt_prev
    w1 = 1.0 + w
    scaled = inv / w1
    b0 = w1 + w
    b0 *= scaled  # (1 + 2w) / ((1 + w) dt)
    b1 = w1 * inv
    np.negative(b1, out=b1)  # -(1 + w) / dt
    w2 = w * w
    return b0, b1, w2 * scaled, w, w1, w2  # b2 = w^2 / ((1 + w) dt)


class StepConstants:
    """Everything about one step that depends only on (dt, dt_prev, which lanes use BDF2):
    the coefficients, the predictor's curvature weight (dt / dt_prev)^2 and the ratio of the
    error constants used by the local error estimate (see ``integrator``). Computed once per
    step by the integrator, published for the duration of the step and reused by this
    package's providers (``for_step``).

    The local error is ``error_factor`` |y - predictor|: 1/2 for BE; for BDF2
    ratio / (ratio + (1 + w) / w) with ratio = (1 + w)^2 / (w (1 + 2w)), which is
    (1 + w) / (2 + 3w) (2/5 at w = 1)."""

    __slots__ = ("dt", "dt_prev", "second", "uniform", "second_all", "b0", "b1", "b2",
                 "curvature_weight", "error_factor")

    def __init__(self, scheme: str, levels: np.ndarray, dt: np.ndarray, dt_prev: np.ndarray):
        second = (levels >= 2) if scheme == "bdf2" else np.zeros(levels.shape, dtype=bool)
        all_second = bool(second.all())
        uniform = all_second or not second.any()
        self.dt, self.dt_prev, self.second = dt, dt_prev, second
        self.uniform, self.second_all = uniform, uniform and all_second
        if uniform and not all_second:  # backward Euler everywhere: no curvature term
            self.b0, self.b1, self.b2 = coefficients(False, dt, dt_prev)
            self.curvature_weight = None
            self.error_factor = 0.5
            return
        if uniform:
            self.b0, self.b1, self.b2, w, w1, weight = _bdf2(dt, dt_prev, 1.0 / dt)
        else:
            self.b0, self.b1, self.b2 = coefficients(second, dt, dt_prev)
            w = dt / dt_prev
            w1, weight = 1.0 + w, w * w
        factor = 3.0 * w
        factor += 2.0
        np.divide(w1, factor, out=factor)  # (1 + w) / (2 + 3w)
        if not uniform:
            factor = np.where(second, factor, 0.5)
            weight = np.where(second, weight, 0.0)
        self.curvature_weight = weight
        self.error_factor = factor

    def matches(self, scheme: str, levels: np.ndarray, dt: np.ndarray,
                dt_prev: np.ndarray, all_second: bool = False) -> bool:
        """Whether these are the constants of a step with these arguments (``all_second``:
        the caller knows that every level is >= 2, which spares comparing them)."""
        if dt is not self.dt:
            return False
        if dt_prev is not self.dt_prev and (dt_prev.shape != self.dt_prev.shape
                                            or not (dt_prev == self.dt_prev).all()):
            return False
        if all_second and scheme == "bdf2":
            return self.second_all
        second = (levels >= 2) if scheme == "bdf2" else np.zeros(levels.shape, dtype=bool)
        return bool(np.array_equal(second, self.second))


_published: StepConstants | None = None


def publish(constants: StepConstants | None) -> None:
    """The integrator announces the constants of the step it is solving (None when done), so
    that providers advancing with the same ``dt`` array reuse them."""
    global _published
    _published = constants


def for_step(scheme: str, levels: np.ndarray, dt: np.ndarray,
             dt_prev: np.ndarray, all_second: bool = False) -> StepConstants:
    """The constants of a step: the published ones when they describe it, else computed
    (``all_second``: every level is known to be >= 2)."""
    k = _published
    if k is not None and k.matches(scheme, levels, dt, dt_prev, all_second):
        return k
    return StepConstants(scheme, levels, dt, dt_prev)
