"""Drive cycles of a sampled periodic series: zero crossings of the drive V (s), the cycles
between rising crossings and one chosen cycle with its ends interpolated (``Cycle``).

Input: ``time_s`` (s, non-decreasing), ``voltage_V`` (V, the noise-free drive) and series of the
same length (current in A, conductance in S). A cycle runs from one rising zero crossing of V to
the next (or, with the drive frequency given, from the first rising crossing in steps of exactly
1/f); crossings are found by linear interpolation (docs/theory.md#hysteresis-loops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ZERO_SNAP = 1e-12  # |V| below this fraction of max |V| counts as exactly 0


def checked_series(time_s, voltage_V, *arrays) -> list[np.ndarray]:
    """[t, V, *arrays] as flat float arrays, checked: at least 3 samples, t non-decreasing,
    every series as long as t, V finite (ValueError otherwise)."""
    t = np.asarray(time_s, dtype=float).ravel()
    if t.size < 3:
        raise ValueError("a loop analysis needs at least 3 samples")
    if np.any(np.diff(t) < 0):
        raise ValueError("time_s must be non-decreasing")
    out = [t]
    for series in (voltage_V, *arrays):
        a = np.asarray(series, dtype=float).ravel()
        if a.size != t.size:
            raise ValueError(f"series lengths differ: time_s has {t.size} samples, another "
                             f"array {a.size}")
        out.append(a)
    if not np.all(np.isfinite(out[1])):
        raise ValueError("voltage_V contains NaN or inf")
    return out


def snapped_signs(v: np.ndarray) -> np.ndarray:
    """Signs (-1, 0, 1) of ``v``, 0 where |v| <= ZERO_SNAP max |v|."""
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    s = np.sign(v)
    s[np.abs(v) <= ZERO_SNAP * scale] = 0.0
    return s


def sign_runs(signs: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal sign: (sign, first index, last index)."""
    edges = np.flatnonzero(np.diff(signs) != 0)
    starts = np.concatenate([[0], edges + 1])
    ends = np.concatenate([edges, [signs.size - 1]])
    return [(int(signs[a]), int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


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
    t, v = checked_series(time_s, voltage_V)
    v = v - level_V
    runs = sign_runs(snapped_signs(v))
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
    t, v = checked_series(time_s, voltage_V)
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
        cycles = [(float(a), float(b)) for a, b in zip(ups[:-1], ups[1:], strict=True)]
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
        """1 / the cycle's length (Hz)."""
        return 1.0 / (self.t_end_s - self.t_start_s)


def extract_cycle(time_s, voltage_V, current_A, conductance_S=None,
                  frequency_Hz: float | None = None, cycle: int = -1,
                  level_V: float = 0.0) -> Cycle:
    """The chosen complete cycle (python indexing: -1 = the last) of the series."""
    optional = [] if conductance_S is None else [conductance_S]
    t, v, i, *given = checked_series(time_s, voltage_V, current_A, *optional)
    g = given[0] if given else None
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
