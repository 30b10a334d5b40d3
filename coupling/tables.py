"""Monotone cubic (PCHIP) tables in numpy, vectorised, with constant extrapolation
(docs/theory.md#reduced-memristor, docs/theory.md#dissociation-laws). Units: those of the
table's columns (y) and abscissa (x); derivatives in units of y / x.

Knot slopes: Fritsch-Butland weighted harmonic mean of the neighbouring secant slopes (zero at a
local extremum or a flat neighbour) with the shape-preserving three-point end conditions, the
choices of the usual PCHIP implementations (so scipy's ``PchipInterpolator`` gives the same
curve). Between knots the curve is the cubic Hermite polynomial, stored as power-basis
coefficients of the local coordinate per interval (with the two constant ends as extra pieces),
so one gather evaluates several columns (e.g. g_inf and tau on the same voltage grid) and their
derivatives: no branches, few temporaries (this lookup is on the per-step path). Outside
[x_0, x_last] the value is the end value and the derivative zero: a reduced model must not
invent conductances beyond its table.

The project's one PCHIP implementation: the reduced model (``ionslit.coupling.reduced.ReducedModel``),
the circuit provider and the memristor analysis (``ionslit.coupling.memristor``) evaluate through
``MonotoneTable``; the tabulated dissociation law (``ionslit.solvers.kinetics.laws.TableLaw``)
takes its knot slopes from ``pchip_slopes`` with flat ends.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

EndCondition = Literal["three_point", "flat"]


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    """Three-point end slope (secant slopes d0 of the end interval, d1 of the next one)."""
    slope = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(slope) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(slope) > abs(3.0 * d0):
        return 3.0 * d0
    return float(slope)


def pchip_slopes(x: np.ndarray, y: np.ndarray, ends: EndCondition = "three_point"
                 ) -> np.ndarray:
    """Knot derivatives (units of y / x) of the monotone cubic through (x, y), x strictly
    increasing: Fritsch-Butland weighted harmonic means of the neighbouring secant slopes inside
    (0 at a local extremum or a flat neighbour); at the two ends ``ends``: "three_point" (the
    shape-preserving three-point formula; the secant on a two-point grid) or "flat" (0)."""
    n = x.size
    if n == 1:
        return np.zeros(1)
    h = np.diff(x)
    secant = np.diff(y) / h
    if n == 2:
        return np.array([secant[0], secant[0]]) if ends == "three_point" else np.zeros(2)
    slopes = np.zeros(n)
    left, right = secant[:-1], secant[1:]
    same_sign = (left * right) > 0.0
    w1 = 2.0 * h[1:] + h[:-1]
    w2 = h[1:] + 2.0 * h[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / left + w2 / right)
    slopes[1:-1] = np.where(same_sign, harmonic, 0.0)
    if ends == "three_point":
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
        self.ncol = k = len(cols)
        n = x.size
        # Pieces: 0 = constant left of x_0, i = 1..n-1 the cubic on [x_{i-1}, x_i], n = constant
        # right of x_last. In local coordinates u = (v - x_{i-1}) / h_i in [0, 1]:
        # y = c0 + u (c1 + u (c2 + u c3)), dy/dv = (c1 + u (2 c2 + 3 c3 u)) / h_i. Rows: c0..c3
        # of every column ((4, ncol) layout), then 1/h_i (0 on the constant ends); one column
        # per piece, so one gather of the rows (4 ncol of them on a uniform grid, whose 1/h is
        # one number) evaluates every column.
        self.coefficients = np.zeros((4 * k + 1, n + 1))
        rows = self.coefficients[:4 * k].reshape(4, k, n + 1)
        for j, y in enumerate(cols):
            rows[0, j, 0], rows[0, j, n] = y[0], y[-1]
        self.x_lo = x[0]
        self.x_hi = x[-1]
        self._uniform = None
        self._cubic = self.coefficients[:4 * k]  # the rows needed on a uniform grid
        self._buffer: np.ndarray | None = None  # see _gather
        if n == 1:  # a constant
            return
        h = np.diff(x)
        for j, y in enumerate(cols):
            slopes = pchip_slopes(x, y)
            left, right = slopes[:-1] * h, slopes[1:] * h  # end slopes in local units
            rise = np.diff(y)
            rows[:, j, 1:n] = [y[:-1], left, 3.0 * rise - 2.0 * left - right,
                               left + right - 2.0 * rise]
        self.coefficients[4 * k, 1:n] = 1.0 / h
        spacing = (x[-1] - x[0]) / (n - 1)
        if np.allclose(h, spacing, rtol=1e-9, atol=0.0):
            self._uniform = (x[0], 1.0 / spacing)

    def _locate(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Piece index (0 and n: the constant ends; below 0 or above n on a uniform grid, where
        ``_gather`` clips it) and local coordinate u (in [0, 1) on the cubic pieces; any finite
        value on the constant ends, whose higher coefficients are 0)."""
        n = self.x.size
        if n == 1:
            return np.zeros(v.shape, dtype=np.intp), np.zeros(v.shape)
        if self._uniform is not None:
            x0, inv = self._uniform
            shifted = v * inv - (x0 * inv - 1.0)  # 1 + (v - x0) / spacing
            shifted = np.minimum(shifted, float(n))  # (a huge value would overflow the index)
            floor = np.floor(shifted)
            shifted -= floor
            return floor.astype(np.intp), shifted
        index = np.searchsorted(self.x, v, side="right")
        inner = np.minimum(np.maximum(index, 1), n - 1)
        left = self.x[inner - 1]
        u = (v - left) / (self.x[inner] - left)
        return index, np.minimum(np.maximum(u, 0.0), 1.0)

    def _gather(self, index: np.ndarray) -> np.ndarray:
        """The coefficient rows of the pieces ``index``: (rows,) + index.shape, in a buffer
        reused from call to call (a fresh array of this size, > 128 kB for a few thousand
        lanes, would come from mmap and fault in its pages every time)."""
        rows = self._cubic if self._uniform is not None else self.coefficients
        c = self._buffer
        if c is None or c.shape[1:] != index.shape:
            c = self._buffer = np.empty((rows.shape[0],) + index.shape)
        return rows.take(index, axis=1, out=c, mode="clip")

    def evaluate(self, v, derivatives: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Values and derivatives d/dv at ``v`` (any shape): arrays ``(ncol,) + v.shape``
        (derivatives None unless asked for)."""
        v = np.asarray(v, dtype=float)
        index, u = self._locate(v)
        k = self.ncol
        c = self._gather(index)  # (4 ncol [+ 1],) + v.shape
        c0, c1, c2, c3 = c[:4 * k].reshape((4, k) + v.shape)
        cubic = c3 * u
        inner = cubic + c2  # c2 + c3 u
        value = inner * u
        value += c1
        value *= u
        value += c0
        if not derivatives:
            return value, None
        inner += inner
        inner += cubic  # 2 c2 + 3 c3 u
        inner *= u
        inner += c1
        inner *= self._uniform[1] if self._uniform is not None else c[4 * k]
        return value, inner

    def __call__(self, v) -> np.ndarray:
        """Values only, shape ``(ncol,) + v.shape``."""
        return self.evaluate(v, derivatives=False)[0]
