"""Monotone cubic (PCHIP) tables in numpy, vectorised, with constant extrapolation.

Knot slopes: Fritsch-Butland weighted harmonic mean of the neighbouring secant slopes (zero at a
local extremum or a flat neighbour) with the shape-preserving three-point end conditions, the
choices of the usual PCHIP implementations (so scipy's ``PchipInterpolator`` gives the same
curve). Between knots the curve is the cubic Hermite polynomial, stored as power-basis
coefficients of the local coordinate per interval (with the two constant ends as extra pieces),
so one gather evaluates several columns (e.g. g_inf and tau on the same voltage grid) and their
derivatives: no branches, few temporaries (this lookup is on the per-step path). Outside
[x_0, x_last] the value is the end value and the derivative zero: a reduced model must not
invent conductances beyond its table.

The project's one PCHIP implementation: the reduced model (``coupling.reduced.ReducedModel``),
the circuit provider and the memristor analysis (``solvers.memristor``) all evaluate through it.
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

    ``evaluate(v)`` returns (values, derivatives), arrays of shape ``(ncol,) + v.shape``.
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
            self.coefficients = np.zeros((7 * self.ncol, 1))
            self.coefficients[:self.ncol, 0] = [c[0] for c in cols]
            self._uniform = None
            self.x_lo = self.x_hi = x[0]
            return
        h = np.diff(x)
        n = x.size
        # Pieces: 0 = constant left of x_0, i = 1..n-1 the cubic on [x_{i-1}, x_i], n = constant
        # right of x_last. In local coordinates u = (v - x_{i-1}) / h_i in [0, 1]:
        # y = c0 + u (c1 + u (c2 + u c3)), dy/dv = (d1 + u (d2 + u d3)) / h_i.
        coeff = np.zeros((n + 1, 7, self.ncol))  # transposed to (7, ncol, n + 1) below
        inv_h = 1.0 / h
        for j, y in enumerate(cols):
            slopes = pchip_slopes(x, y)
            left, right = slopes[:-1] * h, slopes[1:] * h  # end slopes in local units
            rise = np.diff(y)
            c2 = 3.0 * rise - 2.0 * left - right
            c3 = left + right - 2.0 * rise
            coeff[1:n, :, j] = np.stack([y[:-1], left, c2, c3, left * inv_h,
                                         2.0 * c2 * inv_h, 3.0 * c3 * inv_h], axis=1)
            coeff[0, 0, j] = y[0]
            coeff[n, 0, j] = y[-1]
        self.coefficients = np.ascontiguousarray(coeff.transpose(1, 2, 0)).reshape(
            7 * self.ncol, n + 1)
        self.x_lo, self.x_hi = x[0], x[-1]
        spacing = (x[-1] - x[0]) / (n - 1)
        uniform = np.allclose(h, spacing, rtol=1e-9, atol=0.0)
        self._uniform = (x[0], 1.0 / spacing) if uniform else None

    def _locate(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Piece index (0 and n: the constant ends) and local coordinate u (in [0, 1) on the
        cubic pieces; any finite value on the constant ends, whose higher coefficients are 0).
        """
        n = self.x.size
        if n == 1:
            return np.zeros(v.shape, dtype=np.intp), np.zeros(v.shape)
        if self._uniform is not None:
            x0, inv = self._uniform
            shifted = v * inv - (x0 * inv - 1.0)  # 1 + (v - x0) / spacing
            index = np.minimum(np.maximum(shifted, 0.0), float(n)).astype(np.intp)
            return index, shifted - index
        index = np.searchsorted(self.x, v, side="right")
        inner = np.minimum(np.maximum(index, 1), n - 1)
        left = self.x[inner - 1]
        u = (v - left) / (self.x[inner] - left)
        return index, np.minimum(np.maximum(u, 0.0), 1.0)

    def evaluate(self, v) -> tuple[np.ndarray, np.ndarray]:
        """Values and derivatives d/dv at ``v`` (any shape): arrays ``(ncol,) + v.shape``."""
        v = np.asarray(v, dtype=float)
        index, u = self._locate(v)
        c = self.coefficients.take(index, axis=1)  # (7 ncol,) + v.shape: contiguous rows
        k = self.ncol
        if k > 1:
            c = c.reshape((7, k) + v.shape)
            value = c[0] + u * (c[1] + u * (c[2] + u * c[3]))
            slope = c[4] + u * (c[5] + u * c[6])
            return value, slope
        value = c[0] + u * (c[1] + u * (c[2] + u * c[3]))
        slope = c[4] + u * (c[5] + u * c[6])
        return value[None], slope[None]

    def __call__(self, v) -> np.ndarray:
        """Values only, shape ``(ncol,) + v.shape``."""
        return self.evaluate(v)[0]
