"""Hysteresis loops of a memristive series: cycles, lobes, pinch, crossing type, G(V) loops.

Input: a series ``time_s``, ``voltage_V``, ``current_A`` (optionally ``conductance_S``) under a
periodic drive that changes sign (sine, triangle). V is the applied drive, assumed free of noise
(every sign change of V is a zero crossing).

Definitions (all areas in the (V, I) plane with V on the horizontal axis; units V*A = W):

- **Cycle**: from one rising zero crossing of V to the next (or, if the drive frequency is given,
  from the first rising zero crossing in steps of exactly 1/f). Crossings are found by linear
  interpolation; the analysed cycle is the last complete one unless another is chosen.
- **Signed area** of a closed polygon (shoelace): A = 1/2 sum(V_k I_{k+1} - V_{k+1} I_k),
  positive when the loop runs **counterclockwise** (the current on the way back is above the
  current on the way out while V increases then decreases), negative when clockwise.
- **Lobes**: a cycle is cut at the zero crossings of V into the parts where V > 0 and V < 0 (the
  lobes of a pinched loop, which meet at the origin). Each lobe is closed by the straight chord
  along V = 0 between its end points (that chord adds nothing to the shoelace sum, so the lobe
  areas add up to the cycle's net area exactly). A lobe that crosses itself away from the origin
  (at frequencies where the conductance over- or undershoots) is further split at its
  self-crossings into simple ``sub_lobes`` (``decompose_loop``); ``total_area_W`` is the sum of
  the absolute areas of these simple loops (for simple lobes: |A+| + |A-|).
- **Pinch**: the current where V crosses zero; ``pinch_ratio`` = max |I(V=0)| / max |I| over the
  cycle (0 for an ideal memristor; a displacement/capacitive current or a non-memristive phase
  lag makes it non-zero; an ellipse I = I0 sin(wt + phi), V = V0 sin(wt) gives |sin phi|).
- **Crossing type**. With I = G V, near the origin the two passes of the loop are straight lines of
  slope G(t_up) (V rising through 0) and G(t_down) (V falling through 0). A simple lobe is
  counterclockwise when G is larger on its way back than on its way out: for V > 0 when G grew
  during the positive half, for V < 0 when G grew during the negative half (potentiation by
  either polarity). Hence:

  * ``"bipolar"``: the V > 0 and V < 0 lobes have **opposite** orientations (opposite signs of
    the signed area). The loop **crosses itself** at the origin (a figure eight; G(t_up) !=
    G(t_down), so the two passes swap sides there): G grows under one polarity and falls under
    the other, as in devices with a polarity-dependent state (asymmetric conical or bipolar
    channels, G_inf with an odd part, e.g. the concentration-polarisation memristor of Kamsma et
    al., PRL 130, 268401 (2023)); "bipolar switching" in the resistive-memory literature. Chua's
    ideal charge-controlled memristor whose conductance grows with the charge passed is of this
    kind (counterclockwise V > 0 lobe, clockwise V < 0 lobe).
  * ``"unipolar"``: both lobes have the **same** orientation; the two passes **touch** at the
    origin without crossing (for a symmetric device G(t_up) = G(t_down): tangent passes, each
    staying on its side): G responds to |V| only (a symmetric slit whose pairs the field breaks
    whatever its sign, the 2D Wien effect, gives two counterclockwise lobes); "unipolar"
    (polarity-independent) switching.
  * ``"indeterminate"``: V does not change sign, the loop has (almost) no area, or one lobe has
    less than ``lobe_tolerance`` of the other's area.

  The classification presumes a pinched loop: read it together with ``pinch_ratio`` (a large
  capacitive current turns every lobe clockwise).

Conductance metrics use G = ``conductance_S`` when given, else I / V, only where |V| >
``min_voltage_fraction`` * max |V| (G = I/V is undefined near V = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_ZERO_SNAP = 1e-12  # |V| below this fraction of max |V| counts as exactly 0


# --------------------------------------------------------------------- geometry
def shoelace_area(x, y) -> float:
    """Signed area of the closed polygon (x_k, y_k) (closing edge implied), > 0 if counterclockwise.

    Units: those of x times those of y (V * A = W for an I-V loop)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        return 0.0
    # centre first: the sum is translation invariant and this avoids cancellation
    xc, yc = x - x.mean(), y - y.mean()
    return 0.5 * float(np.dot(xc, np.roll(yc, -1)) - np.dot(np.roll(xc, -1), yc))


def decompose_loop(x, y, tolerance: float = 1e-12) -> list[dict]:
    """Split a closed polyline at its self-crossings (and self-touchings at vertices) into simple
    loops, walking it once (loop erasure: when the new edge hits the path walked so far, the part
    of the path after the hit point is closed into a loop and removed).

    Returns one dict per simple loop, in the order closed: ``signed_area`` (units of x*y, > 0
    counterclockwise), ``x``, ``y`` (its vertices, open polygon). The signed areas add up to the
    polygon's shoelace area. ``tolerance``: relative to the bounding box, what counts as a hit.
    O(n^2) in the number of vertices, vectorised per edge (a few thousand vertices are fast).
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError("x and y must have the same length")
    if x.size and (x[0] != x[-1] or y[0] != y[-1]):
        x, y = np.append(x, x[0]), np.append(y, y[0])
    n = x.size
    if n < 4:
        return [{"signed_area": 0.0, "x": x[:-1], "y": y[:-1]}] if n else []
    scale = max(float(np.ptp(x)), float(np.ptp(y)), 1e-300)
    eps = tolerance
    px = np.empty(2 * n)
    py = np.empty(2 * n)
    px[0], py[0] = x[0], y[0]
    m = 1  # path length
    loops: list[dict] = []
    for k in range(1, n):
        bx, by = x[k], y[k]
        while True:
            ax, ay = px[m - 1], py[m - 1]
            dx, dy = bx - ax, by - ay
            if math.hypot(dx, dy) <= eps * scale:
                break  # zero-length edge: nothing to cross, do not add a duplicate vertex
            hit_j, hit_s = -1, math.inf
            if m >= 3:  # candidate edges 0 .. m-3 (the edge ending at a is adjacent)
                sx, sy = px[:m - 2], py[:m - 2]
                ex, ey = px[1:m - 1] - sx, py[1:m - 1] - sy
                denom = dx * ey - dy * ex
                wx, wy = sx - ax, sy - ay
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = (wx * ey - wy * ex) / denom  # along the new edge a -> b
                    u = (wx * dy - wy * dx) / denom  # along the old edge
                hit = (np.abs(denom) > 1e-300) & (s > eps) & (s <= 1 + eps) \
                    & (u > eps) & (u <= 1 + eps)
                if np.any(hit):
                    hit_j = int(np.argmin(np.where(hit, s, np.inf)))
                    hit_s = min(float(s[hit_j]), 1.0)
            if hit_s > 1.0 - eps and m >= 2:
                # b on a vertex walked before (a touching, possibly along collinear edges that
                # the crossing test cannot see); the closing edge's end on vertex 0 is no touch
                first = 1 if k == n - 1 else 0
                near = np.flatnonzero(np.hypot(px[first:m - 1] - bx, py[first:m - 1] - by)
                                      <= eps * scale)
                if near.size:
                    hit_j, hit_s = int(near[-1]) + first - 1, 1.0
                    if hit_j < 0:  # b is vertex 0 itself: the loop is the whole path
                        lx, ly = px[:m].copy(), py[:m].copy()
                        loops.append({"signed_area": shoelace_area(lx, ly), "x": lx, "y": ly})
                        m = 1
                        break
            if hit_j >= 0:
                hx, hy = ax + hit_s * dx, ay + hit_s * dy
                lx = np.concatenate([[hx], px[hit_j + 1:m]])
                ly = np.concatenate([[hy], py[hit_j + 1:m]])
                loops.append({"signed_area": shoelace_area(lx, ly), "x": lx, "y": ly})
                m = hit_j + 1
                px[m], py[m] = hx, hy
                m += 1
                continue  # go on from the hit point towards b
            px[m], py[m] = bx, by
            m += 1
            break
    rest_x, rest_y = px[:m], py[:m]
    if m > 1 and rest_x[-1] == rest_x[0] and rest_y[-1] == rest_y[0]:
        rest_x, rest_y = rest_x[:-1], rest_y[:-1]
    loops.append({"signed_area": shoelace_area(rest_x, rest_y), "x": rest_x, "y": rest_y})
    return loops


# --------------------------------------------------------------------- series helpers
def _series(time_s, *arrays):
    t = np.asarray(time_s, dtype=float).ravel()
    if t.size < 3:
        raise ValueError("a loop analysis needs at least 3 samples")
    if np.any(np.diff(t) < 0):
        raise ValueError("time_s must be non-decreasing")
    out = [t]
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        a = np.asarray(a, dtype=float).ravel()
        if a.size != t.size:
            raise ValueError(f"series lengths differ: time_s has {t.size} samples, another "
                             f"array {a.size}")
        out.append(a)
    if not np.all(np.isfinite(out[1])):
        raise ValueError("voltage_V contains NaN or inf")
    return out


def _signs(v: np.ndarray) -> np.ndarray:
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    s = np.sign(v)
    s[np.abs(v) <= _ZERO_SNAP * scale] = 0.0
    return s


def _runs(signs: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal sign: (sign, first index, last index)."""
    edges = np.flatnonzero(np.diff(signs) != 0)
    starts = np.concatenate([[0], edges + 1])
    ends = np.concatenate([edges, [signs.size - 1]])
    return [(int(signs[a]), int(a), int(b)) for a, b in zip(starts, ends)]


def zero_crossings(time_s, voltage_V, level_V: float = 0.0, direction: str = "up"
                   ) -> np.ndarray:
    """Times (s) where V crosses ``level_V`` (``direction`` "up", "down" or "both").

    Between samples of opposite sign: linear interpolation. Through a run of samples equal to the
    level: its last sample for a rising crossing, its first for a falling one. A series that
    starts at the level and then rises (a sine from t = 0) starts with a rising crossing; one
    that ends at the level coming from below ends with one.
    """
    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both', not {direction!r}")
    t, v = _series(time_s, voltage_V)
    v = v - level_V
    runs = _runs(_signs(v))
    found: list[float] = []
    for r, (sign, first, last) in enumerate(runs):
        if sign == 0:
            before = runs[r - 1][0] if r > 0 else None
            after = runs[r + 1][0] if r + 1 < len(runs) else None
            rising = (before in (-1, None)) and (after in (1, None)) and before != after
            falling = (before in (1, None)) and (after in (-1, None)) and before != after
            if rising and direction in ("up", "both"):
                found.append(t[last] if after is not None else t[first])
            if falling and direction in ("down", "both"):
                found.append(t[first] if before is not None else t[last])
            continue
        if r + 1 < len(runs) and runs[r + 1][0] == -sign:  # direct sign change
            i = last
            if (sign < 0 and direction in ("up", "both")) or \
                    (sign > 0 and direction in ("down", "both")):
                found.append(t[i] + (t[i + 1] - t[i]) * (-v[i]) / (v[i + 1] - v[i]))
    return np.asarray(found)


def split_cycles(time_s, voltage_V, frequency_Hz: float | None = None,
                 level_V: float = 0.0) -> list[tuple[float, float]]:
    """Complete drive cycles (t_start, t_end) in s, each starting at a rising zero crossing.

    Without ``frequency_Hz``: consecutive rising crossings of ``level_V``. With it: the first
    rising crossing, then steps of exactly 1 / frequency_Hz (robust when the sampled series does
    not resolve every crossing equally well).
    """
    t, v = _series(time_s, voltage_V)
    ups = zero_crossings(t, v, level_V, "up")
    if ups.size == 0:
        raise ValueError("V never rises through zero: not a periodic drive that changes sign "
                         "(give level_V for an offset drive)")
    if frequency_Hz is not None:
        if not frequency_Hz > 0:
            raise ValueError("frequency_Hz must be > 0")
        period = 1.0 / frequency_Hz
        n = int(math.floor((t[-1] - ups[0]) / period + 1e-9))
        cycles = [(ups[0] + k * period, ups[0] + (k + 1) * period) for k in range(n)]
        if cycles:  # the last end may lie a rounding error beyond the series
            cycles[-1] = (cycles[-1][0], min(cycles[-1][1], float(t[-1])))
    else:
        cycles = [(float(a), float(b)) for a, b in zip(ups[:-1], ups[1:])]
    if not cycles:
        raise ValueError("the series holds no complete drive cycle (from one rising zero "
                         "crossing of V to the next)")
    return cycles


@dataclass(frozen=True)
class Cycle:
    """One drive cycle: samples with t_start < t < t_end plus both ends (interpolated)."""

    index: int
    n_cycles: int
    t_start_s: float
    t_end_s: float
    time_s: np.ndarray
    voltage_V: np.ndarray
    current_A: np.ndarray
    conductance_S: np.ndarray | None

    @property
    def frequency_Hz(self) -> float:
        return 1.0 / (self.t_end_s - self.t_start_s)


def extract_cycle(time_s, voltage_V, current_A, conductance_S=None,
                  frequency_Hz: float | None = None, cycle: int = -1,
                  level_V: float = 0.0) -> Cycle:
    """The chosen complete cycle (python indexing: -1 = the last) of the series."""
    t, v, i, g = _series(time_s, voltage_V, current_A, conductance_S)
    cycles = split_cycles(t, v, frequency_Hz, level_V)
    try:
        t0, t1 = cycles[cycle]
    except IndexError:
        raise ValueError(f"cycle {cycle} requested but the series holds {len(cycles)} complete "
                         f"cycles") from None
    inside = (t > t0) & (t < t1)
    tt = np.concatenate([[t0], t[inside], [t1]])

    def cut(a):
        return None if a is None else np.concatenate([[np.interp(t0, t, a)], a[inside],
                                                      [np.interp(t1, t, a)]])
    vv = cut(v)
    if abs(vv[0] - level_V) <= 1e-9 * max(float(np.max(np.abs(vv))), 1e-300):
        vv[0] = level_V  # the start is a crossing found by the same interpolation
    if abs(vv[-1] - level_V) <= 1e-9 * max(float(np.max(np.abs(vv))), 1e-300):
        vv[-1] = level_V
    index = cycle % len(cycles)
    return Cycle(index, len(cycles), float(t0), float(t1), tt, vv, cut(i), cut(g))


# --------------------------------------------------------------------- lobes
def _with_zero_points(t, v, *others):
    """Insert linearly interpolated samples where v changes sign between samples; snap tiny v
    to 0. Returns the new arrays (others may be None)."""
    s = _signs(v)
    v = np.where(s == 0, 0.0, v)
    change = np.flatnonzero(s[:-1] * s[1:] < 0)
    frac = -v[change] / (v[change + 1] - v[change])

    def insert(a, zero=False):
        if a is None:
            return None
        new = np.zeros(change.size) if zero else a[change] + frac * (a[change + 1] - a[change])
        return np.insert(a, change + 1, new)
    return (insert(t), insert(v, zero=True), *[insert(a) for a in others])


def _lobe_slices(v: np.ndarray) -> list[tuple[int, int, int]]:
    """(polarity, first, last) index ranges of the lobes of a cycle whose zero crossings are
    samples with v == 0; first/last are the bounding zero samples (or the cycle's ends)."""
    runs = _runs(np.sign(v))
    lobes = []
    for sign, first, last in runs:
        if sign == 0:
            continue
        lobes.append((sign, max(first - 1, 0), min(last + 1, v.size - 1)))
    return lobes


def _branches_do_not_cross(w: np.ndarray, i: np.ndarray) -> bool:
    """Fast test for the common case: |V| rises monotonically then falls monotonically over the
    lobe and the return branch stays on one side of the outgoing one (no self-crossing). False
    means "use the general decomposition", not necessarily that the lobe crosses itself."""
    k = int(np.argmax(w))
    if k == 0 or k == w.size - 1:
        return False
    if np.any(np.diff(w[:k + 1]) < 0) or np.any(np.diff(w[k:]) > 0):
        return False
    w_out, i_out = w[:k + 1], i[:k + 1]
    w_back, i_back = w[k:][::-1], i[k:][::-1]
    grid = np.union1d(w_out, w_back)
    grid = grid[(grid > w[k] * 1e-9) & (grid < w[k] * (1 - 1e-9))]
    if grid.size == 0:
        return True
    gap = np.interp(grid, w_back, i_back) - np.interp(grid, w_out, i_out)
    tol = 1e-9 * float(np.max(np.abs(i))) if i.size else 0.0
    return not (np.any(gap > tol) and np.any(gap < -tol))


def lobes(voltage_V, current_A, time_s=None) -> list[dict]:
    """The lobes of one cycle (arrays ordered in time, starting and ending at V = 0 for a pinched
    cycle; see the module docstring). One dict per lobe: ``polarity`` (+1 for V > 0, -1),
    ``signed_area_W``, ``orientation`` ("counterclockwise"/"clockwise"/"none"), ``t_start_s``,
    ``t_end_s`` (if ``time_s`` given), ``current_start_A`` and ``current_end_A`` (at the
    bounding V = 0 points; None where V never reaches 0), ``voltage_extreme_V`` and
    ``sub_lobes`` (the simple loops of a lobe that crosses itself, as [{"signed_area_W",
    "orientation"}]; one entry for a simple lobe).
    """
    v = np.asarray(voltage_V, dtype=float).ravel()
    i = np.asarray(current_A, dtype=float).ravel()
    t = np.arange(v.size, dtype=float) if time_s is None else np.asarray(time_s, float).ravel()
    if not (v.size == i.size == t.size):
        raise ValueError("voltage, current (and time) must have the same length")
    t, v, i = _with_zero_points(t, v, i)
    if v[0] != 0.0 and np.any(v == 0.0):
        # the cycle starts inside a lobe: rotate it to start at its first zero point (the
        # edge from the last sample back to the first becomes interior), then look again for
        # a sign change on that edge
        k = int(np.flatnonzero(v == 0.0)[0])
        closed = v[0] == v[-1] and i[0] == i[-1]
        n = v.size - 1 if closed else v.size
        order = np.concatenate([np.arange(k, n), np.arange(0, k + 1)])
        shifted = t[order]
        shifted[n - k:] += t[-1] - t[0]  # the wrapped part comes one period later
        t, v, i = _with_zero_points(shifted, v[order], i[order])
    out = []
    for sign, a, b in _lobe_slices(v):
        vv, ii = v[a:b + 1], i[a:b + 1]
        area = shoelace_area(vv, ii)
        if _branches_do_not_cross(sign * vv, ii):
            subs = [{"signed_area_W": area, "orientation": _orientation(area)}]
        else:
            subs = [{"signed_area_W": s["signed_area"],
                     "orientation": _orientation(s["signed_area"])}
                    for s in decompose_loop(vv, ii) if s["signed_area"] != 0.0]
            subs = subs or [{"signed_area_W": area, "orientation": _orientation(area)}]
        out.append({
            "polarity": int(sign),
            "signed_area_W": area,
            "orientation": _orientation(area),
            "t_start_s": float(t[a]) if time_s is not None else None,
            "t_end_s": float(t[b]) if time_s is not None else None,
            "current_start_A": float(ii[0]) if vv[0] == 0.0 else None,
            "current_end_A": float(ii[-1]) if vv[-1] == 0.0 else None,
            "voltage_extreme_V": float(vv[np.argmax(np.abs(vv))]),
            "sub_lobes": subs,
        })
    return out


def _orientation(area: float) -> str:
    if area > 0:
        return "counterclockwise"
    if area < 0:
        return "clockwise"
    return "none"


def classify_crossing(positive_area_W: float, negative_area_W: float,
                      lobe_tolerance: float = 1e-3, scale_W: float | None = None) -> str:
    """"bipolar" (lobes of opposite orientation: the loop crosses itself at the origin),
    "unipolar" (same orientation: the passes touch at the origin) or "indeterminate" (a lobe is
    missing or below ``lobe_tolerance`` of the other, or both below 1e-9 * ``scale_W``)."""
    big = max(abs(positive_area_W), abs(negative_area_W))
    small = min(abs(positive_area_W), abs(negative_area_W))
    if big == 0.0 or (scale_W is not None and big < 1e-9 * scale_W):
        return "indeterminate"
    if small < lobe_tolerance * big:
        return "indeterminate"
    return "bipolar" if (positive_area_W > 0) != (negative_area_W > 0) else "unipolar"


# --------------------------------------------------------------------- metrics
def _conductance(v, i, g, min_voltage_fraction):
    vmax = float(np.max(np.abs(v)))
    mask = np.abs(v) > min_voltage_fraction * vmax
    if g is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(mask, i / np.where(mask, v, 1.0), np.nan)
    return g, mask


def conductance_loop(cycle: Cycle, min_voltage_fraction: float = 0.05) -> dict:
    """The G(V) loop of a cycle: G = conductance_S if the series had it, else I / V, kept where
    |V| > min_voltage_fraction * max |V|. Returns ``voltage_V``/``conductance_S`` (masked
    arrays' kept samples), ``conductance_min_S``, ``conductance_max_S``, ``conductance_ratio``,
    ``conductance_at_zero_crossings_S`` (only with a given conductance), and the signed areas
    of the G-V loop over V > 0 and V < 0 (units S*V = A, > 0 counterclockwise in (V, G); each
    part closed by a straight chord, which is not on an axis here, so the two do not add up to
    a total)."""
    v, i, g_given = cycle.voltage_V, cycle.current_A, cycle.conductance_S
    g, mask = _conductance(v, i, g_given, min_voltage_fraction)
    kept_g = g[mask]
    finite = kept_g[np.isfinite(kept_g)]
    out: dict = {"voltage_V": v[mask], "conductance_S": kept_g}
    if finite.size:
        gmin, gmax = float(finite.min()), float(finite.max())
        out.update(conductance_min_S=gmin, conductance_max_S=gmax,
                   conductance_ratio=(gmax / gmin) if gmin > 0 else math.inf)
    else:
        out.update(conductance_min_S=math.nan, conductance_max_S=math.nan,
                   conductance_ratio=math.nan)
    if g_given is not None:
        t, vz, gz = _with_zero_points(cycle.time_s, v, g_given)
        zeros = np.flatnonzero(vz == 0.0)
        out["conductance_at_zero_crossings_S"] = [float(gz[k]) for k in zeros]
    for sign, key in ((1, "gv_area_positive_A"), (-1, "gv_area_negative_A")):
        part = mask & (np.sign(v) == sign) & np.isfinite(g)
        out[key] = shoelace_area(v[part], g[part]) if np.count_nonzero(part) >= 3 else 0.0
    return out


def loop_metrics(time_s, voltage_V, current_A, conductance_S=None,
                 frequency_Hz: float | None = None, cycle: int = -1,
                 min_voltage_fraction: float = 0.05, lobe_tolerance: float = 1e-3,
                 level_V: float = 0.0) -> dict:
    """Metrics of one drive cycle (default: the last complete one) of an I-V series.

    Cycles run between rising crossings of ``level_V`` (0 V; another level for a drive with an
    offset, whose lobes are still split where V itself changes sign).

    Keys (SI): ``frequency_Hz`` (given, else from the cycle's length), ``cycle_index``,
    ``n_cycles``, ``t_start_s``, ``t_end_s``, ``voltage_amplitude_V`` (max |V|),
    ``max_current_A`` (max |I|), ``lobes`` (see ``lobes``), ``lobe_areas_W`` (signed, in time
    order), ``positive_lobe_area_W`` / ``negative_lobe_area_W`` (sums over the V > 0 / V < 0
    lobes), ``net_area_W`` (their sum = the cycle's shoelace area), ``total_area_W`` (sum of
    |areas| of the simple loops), ``crossings_off_origin`` (number of extra simple loops, i.e.
    self-crossings inside lobes), ``pinch_currents_A`` (I where V crosses 0), ``pinch_ratio``,
    ``crossing_type`` ("bipolar"/"unipolar"/"indeterminate", module docstring),
    ``positive_lobe_orientation``, ``conductance_min_S``, ``conductance_max_S``,
    ``conductance_ratio`` (max/min of G where |V| > min_voltage_fraction max|V|), and
    ``conductance_at_zero_crossings_S`` when a conductance series is given.
    """
    c = extract_cycle(time_s, voltage_V, current_A, conductance_S, frequency_Hz, cycle, level_V)
    result = cycle_metrics(c.voltage_V, c.current_A, c.time_s, min_voltage_fraction,
                           lobe_tolerance)
    gl = conductance_loop(c, min_voltage_fraction)
    result.update({
        "frequency_Hz": float(frequency_Hz) if frequency_Hz is not None else c.frequency_Hz,
        "cycle_index": c.index, "n_cycles": c.n_cycles,
        "t_start_s": c.t_start_s, "t_end_s": c.t_end_s,
        "conductance_min_S": gl["conductance_min_S"],
        "conductance_max_S": gl["conductance_max_S"],
        "conductance_ratio": gl["conductance_ratio"],
    })
    if "conductance_at_zero_crossings_S" in gl:
        result["conductance_at_zero_crossings_S"] = gl["conductance_at_zero_crossings_S"]
    return result


def cycle_metrics(voltage_V, current_A, time_s=None, min_voltage_fraction: float = 0.05,
                  lobe_tolerance: float = 1e-3) -> dict:
    """The area, pinch and crossing metrics of ``loop_metrics`` for arrays that already hold
    exactly one cycle (e.g. ``reduced_model.sine_cycle``), without cycle detection."""
    v = np.asarray(voltage_V, dtype=float).ravel()
    i = np.asarray(current_A, dtype=float).ravel()
    ls = lobes(v, i, time_s)
    pos = sum(lb["signed_area_W"] for lb in ls if lb["polarity"] > 0)
    neg = sum(lb["signed_area_W"] for lb in ls if lb["polarity"] < 0)
    total = sum(abs(s["signed_area_W"]) for lb in ls for s in lb["sub_lobes"])
    i_max = float(np.max(np.abs(i)))
    v_amp = float(np.max(np.abs(v)))
    # the pinch: current at each V = 0 crossing (shared end points of consecutive lobes)
    pinch = []
    for lb in ls:
        for key in ("current_start_A", "current_end_A"):
            if lb[key] is not None:  # None: the cycle never reaches V = 0
                pinch.append(lb[key])
    pinch_unique = sorted(set(pinch), key=pinch.index)
    g, mask = _conductance(v, i, None, min_voltage_fraction)
    finite = g[mask & np.isfinite(g)]
    positive_orientation = [lb["orientation"] for lb in ls if lb["polarity"] > 0]
    return {
        "voltage_amplitude_V": v_amp,
        "max_current_A": i_max,
        "lobes": ls,
        "lobe_areas_W": [lb["signed_area_W"] for lb in ls],
        "positive_lobe_area_W": float(pos),
        "negative_lobe_area_W": float(neg),
        "net_area_W": float(pos + neg),
        "total_area_W": float(total),
        "crossings_off_origin": int(sum(len(lb["sub_lobes"]) - 1 for lb in ls)),
        "pinch_currents_A": pinch_unique,
        "pinch_ratio": (max(abs(p) for p in pinch_unique) / i_max) if pinch_unique and i_max > 0
        else math.nan,
        "crossing_type": classify_crossing(pos, neg, lobe_tolerance, v_amp * i_max),
        "positive_lobe_orientation": positive_orientation[0] if len(positive_orientation) == 1
        else ("mixed" if positive_orientation else "none"),
        "conductance_min_S": float(finite.min()) if finite.size else math.nan,
        "conductance_max_S": float(finite.max()) if finite.size else math.nan,
        "conductance_ratio": float(finite.max() / finite.min())
        if finite.size and finite.min() > 0 else math.nan,
    }
