"""Monotone piecewise-cubic (PCHIP) interpolation in numpy, with constant extrapolation.

The slopes follow Fritsch & Butland (weighted harmonic mean of the neighbouring secant slopes,
zero at local extrema) with the shape-preserving three-point end conditions, the same choices as
the usual PCHIP implementations. Between knots the interpolant is the cubic Hermite polynomial;
it never overshoots monotone data and stays within [min(y), max(y)]. Outside [x[0], x[-1]] it is
constant (the end values): a reduced model must not invent conductances beyond its table.
"""

from __future__ import annotations

import numpy as np


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    """Shape-preserving three-point slope at an end knot (secant slopes d0 next, d1 after)."""
    slope = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(slope) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(slope) > abs(3.0 * d0):
        return 3.0 * d0
    return float(slope)


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Knot derivatives of the monotone cubic through (x, y); x strictly increasing."""
    n = x.size
    if n == 1:
        return np.zeros(1)
    h = np.diff(x)
    secant = np.diff(y) / h
    if n == 2:
        return np.array([secant[0], secant[0]])
    slopes = np.zeros(n)
    left, right = secant[:-1], secant[1:]
    same_sign = (left * right) > 0.0
    w1 = 2.0 * h[1:] + h[:-1]
    w2 = h[1:] + 2.0 * h[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / left + w2 / right)
    slopes[1:-1] = np.where(same_sign, harmonic, 0.0)
    slopes[0] = _end_slope(h[0], h[1], secant[0], secant[1])
    slopes[-1] = _end_slope(h[-1], h[-2], secant[-1], secant[-2])
    return slopes


class MonotoneCubic:
    """y(x) through the knots (x_k, y_k); constant outside [x_0, x_last].

    One knot gives a constant, two a straight line between them.
    """

    def __init__(self, x, y):
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        if x.size == 0 or x.size != y.size:
            raise ValueError(f"interpolation table needs equal, non-zero lengths (got {x.size} "
                             f"abscissae and {y.size} values)")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("interpolation table contains NaN or inf")
        if np.any(np.diff(x) <= 0.0):
            raise ValueError("interpolation abscissae must be strictly increasing")
        self.x = x
        self.y = y
        self.slopes = pchip_slopes(x, y)

    def __call__(self, xq):
        xq = np.asarray(xq, dtype=float)
        if self.x.size == 1:
            return np.full(xq.shape, self.y[0]) if xq.ndim else float(self.y[0])
        xc = np.clip(xq, self.x[0], self.x[-1])
        i = np.clip(np.searchsorted(self.x, xc, side="right") - 1, 0, self.x.size - 2)
        h = self.x[i + 1] - self.x[i]
        t = (xc - self.x[i]) / h
        one_t = 1.0 - t
        value = (self.y[i] * (1.0 + 2.0 * t) * one_t * one_t
                 + self.slopes[i] * h * t * one_t * one_t
                 + self.y[i + 1] * t * t * (3.0 - 2.0 * t)
                 - self.slopes[i + 1] * h * t * t * one_t)
        return value if xq.ndim else float(value)
