"""Hysteresis loops of a memristive series: cycles, lobes, pinch, crossing type, G(V) loops
(docs/theory.md#hysteresis-loops).

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

import numpy as np

from ionslit.coupling.memristor.cycles import Cycle, extract_cycle, sign_runs, snapped_signs
from ionslit.coupling.memristor.polygon import decompose_loop, shoelace_area


# --------------------------------------------------------------------- lobes
def _with_zero_points(t, v, *others):
    """Insert linearly interpolated samples where v changes sign between samples; snap tiny v
    to 0. Returns the new arrays (others may be None)."""
    s = snapped_signs(v)
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
    runs = sign_runs(np.sign(v))
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
