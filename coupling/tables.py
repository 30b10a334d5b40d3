"""Monotone cubic (PCHIP) tables in numpy, vectorised, with constant extrapolation.

Knot slopes: Fritsch-Butland weighted harmonic mean of the neighbouring secant slopes (zero at a
local extremum or a flat neighbour) with the shape-preserving three-point end conditions, the
choices of the usual PCHIP implementations (so scipy's ``PchipInterpolator`` gives the same
curve). Between knots the curve is the cubic Hermite polynomial, stored as power-basis
coefficients per interval so one lookup evaluates several columns (e.g. g_inf and tau on the same
voltage grid) and their derivatives. Outside [x_0, x_last] the value is the end value and the
derivative zero: a reduced model must not invent conductances beyond its table.
"""

from __future__ import annotations

import numpy as np


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    """Three-point end slope (secant slopes d0 of the end interval, d1 of the next one)."""
    slope = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(slope) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(slope) > abs(3.0 * d0):
        return 3.0 * d0
    return float(slope)


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Knot derivatives of the monotone cubic through (x, y), x strictly increasing."""
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


class MonotoneTable:
    """Columns y_j(x) on one grid x (strictly increasing), each a PCHIP curve.

    ``evaluate(v)`` returns (values, derivatives), arrays of shape ``v.shape + (ncol,)``.
    A uniform grid (the usual case for fitted tables) is located by arithmetic instead of a
    binary search.
    """

    def __init__(self, x, columns):
        x = np.asarray(x, dtype=float).ravel()
        cols = [np.asarray(c, dtype=float).ravel() for c in columns]
        if x.size == 0 or any(c.size != x.size for c in cols):
            raise ValueError(f"table columns must have the grid's length {x.size} "
                             f"(got {[c.size for c in cols]})")
        if not np.all(np.isfinite(x)) or not all(np.all(np.isfinite(c)) for c in cols):
            raise ValueError("table contains NaN or inf")
        if x.size > 1 and not np.all(np.diff(x) > 0):
            raise ValueError("table abscissae must be strictly increasing")
        self.x = x
        self.ncol = len(cols)
        if x.size == 1:  # a constant
            self.coefficients = np.zeros((1, 4, self.ncol))
            self.coefficients[0, 0] = [c[0] for c in cols]
            self._uniform = None
            self.x_lo = self.x_hi = x[0]
            return
        h = np.diff(x)
        # per interval i: y = c0 + c1 s + c2 s^2 + c3 s^3, s = v - x_i
        coeff = np.empty((x.size - 1, 4, self.ncol))
        for j, y in enumerate(cols):
            d = pchip_slopes(x, y)
            secant = np.diff(y) / h
            coeff[:, 0, j] = y[:-1]
            coeff[:, 1, j] = d[:-1]
            coeff[:, 2, j] = (3.0 * secant - 2.0 * d[:-1] - d[1:]) / h
            coeff[:, 3, j] = (d[:-1] + d[1:] - 2.0 * secant) / h**2
        # one extra "interval" past the last knot: the constant end value (zero slope)
        end = np.zeros((1, 4, self.ncol))
        end[0, 0] = [c[-1] for c in cols]
        self.coefficients = np.concatenate([coeff, end])
        self.x_lo, self.x_hi = x[0], x[-1]
        spacing = (x[-1] - x[0]) / (x.size - 1)
        uniform = np.allclose(h, spacing, rtol=1e-9, atol=0.0)
        self._uniform = (x[0], 1.0 / spacing) if uniform else None

    def _locate(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval index and offset s = v - x_i (clipped into the table: constant outside)."""
        n = self.x.size
        vc = np.clip(v, self.x_lo, self.x_hi)
        if n == 1:
            return np.zeros(v.shape, dtype=np.intp), np.zeros(v.shape)
        if self._uniform is not None:
            x0, inv = self._uniform
            index = ((vc - x0) * inv).astype(np.intp)
            np.clip(index, 0, n - 2, out=index)
        else:
            index = np.searchsorted(self.x, vc, side="right") - 1
            np.clip(index, 0, n - 2, out=index)
        s = vc - self.x[index]
        index = np.where(v >= self.x_hi, n - 1, index)  # the constant end piece
        return index, s

    def evaluate(self, v) -> tuple[np.ndarray, np.ndarray]:
        """Values and derivatives d/dv at ``v`` (any shape): arrays ``v.shape + (ncol,)``."""
        v = np.asarray(v, dtype=float)
        index, s = self._locate(v)
        c = self.coefficients[index]  # (..., 4, ncol)
        s = s[..., None]
        value = c[..., 0, :] + s * (c[..., 1, :] + s * (c[..., 2, :] + s * c[..., 3, :]))
        slope = c[..., 1, :] + s * (2.0 * c[..., 2, :] + 3.0 * s * c[..., 3, :])
        below = (v < self.x_lo)[..., None]
        if np.any(below):
            value = np.where(below, c[..., 0, :], value)
            slope = np.where(below, 0.0, slope)
        return value, slope

    def __call__(self, v) -> np.ndarray:
        """Values only, shape ``v.shape + (ncol,)``."""
        return self.evaluate(v)[0]
