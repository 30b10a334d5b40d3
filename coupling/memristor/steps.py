"""Step responses: relaxation times and steady conductances from piecewise-constant voltages
(docs/theory.md#step-fits). SI units: s, V, A, S.

A series under voltage steps (time_s, voltage_V, current_A) is cut into plateaus (runs of samples
whose V stays within ``tolerance_V`` of the run's first value). After each step the conductance
G(t) = I / V relaxes; it is fitted with one exponential

    G(t) = G_inf + (G_0 - G_inf) exp(-(t - t_s) / tau)

by variable projection (for a given tau the fit is linear in G_inf and G_0; the residual is
minimised over ln tau by a scan and a golden-section refinement: numpy only, no starting guess).
The step time t_s is the time of the last sample of the previous plateau (the left-continuous
convention of ``ionslit.coupling.waveforms``: V(t_s) is still the old value), or as given.

The fast ionic/capacitive transient right after a step (double-layer charging, ~lambda_D L / D
or the RC time of the reservoirs; much shorter than the pairing kinetics) is not part of the
memory: skip it with ``skip_s`` (an absolute window) and/or ``skip_fraction`` (of the plateau's
duration); G_0 is still reported at t_s (the fit extrapolated back).

Plateaus at |V| <= ``min_voltage_V`` (default 1e-3 of max |V|) cannot be fitted: G = I / V is
undefined there (the current is only the transient, and the pair population relaxes unseen);
they are reported with ``fitted = False`` and a note; their memory shows only in the next
non-zero plateau's G_0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class StepFit:
    """One plateau and its exponential fit (SI units).

    ``tau_s``, ``g_inf_S``, ``g_start_S`` (G_0, at the step time), ``rms_residual_S``,
    ``relative_residual`` (rms / |G_0 - G_inf|) are NaN when ``fitted`` is False; ``note`` says
    why, or warns (e.g. tau longer than the fitted window: G_inf is then an extrapolation)."""

    index: int
    t_step_s: float
    t_end_s: float
    voltage_V: float
    previous_voltage_V: float | None
    tau_s: float
    g_inf_S: float
    g_start_S: float
    rms_residual_S: float
    relative_residual: float
    n_points: int
    fitted: bool
    note: str = ""


def plateaus(time_s, voltage_V, tolerance_V: float | None = None) -> list[tuple[int, int]]:
    """Index ranges (first, last) of the runs of samples with V within ``tolerance_V`` of the
    run's first sample (default 1e-6 of max |V|, at least 1e-12 V)."""
    t = np.asarray(time_s, dtype=float).ravel()
    v = np.asarray(voltage_V, dtype=float).ravel()
    if t.size != v.size or t.size == 0:
        raise ValueError("time_s and voltage_V must have the same, non-zero length")
    if np.any(np.diff(t) < 0):
        raise ValueError("time_s must be non-decreasing")
    tol = tolerance_V if tolerance_V is not None else max(1e-6 * float(np.max(np.abs(v))), 1e-12)
    runs = []
    start = 0
    for k in range(1, v.size):
        if abs(v[k] - v[start]) > tol:
            runs.append((start, k - 1))
            start = k
    runs.append((start, v.size - 1))
    return runs


def fit_exponential(t, y, t0: float = 0.0, tau_bounds: tuple[float, float] | None = None,
                    n_scan: int = 121) -> dict:
    """Least-squares y(t) = y_inf + (y_0 - y_inf) exp(-(t - t0) / tau).

    ``tau_bounds`` (s): the search range for tau (default: from half the smallest sample spacing
    to 20 times the data's span). Returns ``tau``, ``y_inf``, ``y_0`` (at t0), ``rms``,
    ``at_bound`` (the optimum is at a bound of the range: tau not determined by the data)."""
    t = np.asarray(t, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if t.size < 3 or t.size != y.size:
        raise ValueError("an exponential fit needs at least 3 samples of equal length")
    span = float(t[-1] - t[0])
    if span <= 0:
        raise ValueError("an exponential fit needs samples spread in time")
    if tau_bounds is None:
        spacing = np.diff(t)
        spacing = spacing[spacing > 0]
        tau_bounds = (0.5 * float(spacing.min()), 20.0 * span)
    lo, hi = math.log(tau_bounds[0]), math.log(tau_bounds[1])
    ts = t - t0

    def solve(log_tau):
        basis = np.exp(-(ts - ts[0]) / math.exp(log_tau))  # scaled to 1 at the first sample
        design = np.column_stack([np.ones_like(ts), basis])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ coef
        return float(resid @ resid), coef

    grid = np.linspace(lo, hi, n_scan)
    costs = np.array([solve(x)[0] for x in grid])
    k = int(np.argmin(costs))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = solve(c)[0], solve(d)[0]
    while b - a > 1e-10:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = solve(c)[0]
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = solve(d)[0]
    x = 0.5 * (a + b)
    cost, (y_inf, amp) = solve(x)
    tau = math.exp(x)
    y0 = y_inf + amp * math.exp(min(ts[0] / tau, 700.0))  # back from the first sample to t0
    return {"tau": tau, "y_inf": float(y_inf), "y_0": float(y0),
            "rms": math.sqrt(cost / t.size), "at_bound": k in (0, grid.size - 1)}


def step_responses(time_s, voltage_V, current_A, *, skip_s: float = 0.0,
                   skip_fraction: float = 0.0, min_voltage_V: float | None = None,
                   tolerance_V: float | None = None, step_times_s=None,
                   min_points: int = 8) -> list[StepFit]:
    """Fit every plateau after a step (the first plateau, with no step before it, is skipped).

    ``skip_s`` / ``skip_fraction``: the fit starts at t_s + max(skip_s, skip_fraction * (plateau
    end - t_s)). ``step_times_s``: the step times, one per step, if the series' convention
    differs (otherwise the last sample of the previous plateau). ``min_points``: fewer fitted
    samples than this give ``fitted = False``.
    """
    t = np.asarray(time_s, dtype=float).ravel()
    v = np.asarray(voltage_V, dtype=float).ravel()
    i = np.asarray(current_A, dtype=float).ravel()
    if not (t.size == v.size == i.size):
        raise ValueError("time_s, voltage_V and current_A must have the same length")
    runs = plateaus(t, v, tolerance_V)
    if min_voltage_V is None:
        min_voltage_V = 1e-3 * float(np.max(np.abs(v)))
    if step_times_s is not None and len(step_times_s) != len(runs) - 1:
        raise ValueError(f"{len(runs) - 1} steps found but {len(step_times_s)} step times given")
    fits = []
    for n, (first, last) in enumerate(runs[1:], start=1):
        prev_first, prev_last = runs[n - 1]
        t_step = float(step_times_s[n - 1]) if step_times_s is not None else float(t[prev_last])
        level = float(np.mean(v[first:last + 1]))
        previous = float(np.mean(v[prev_first:prev_last + 1]))
        t_end = float(t[last])
        start = t_step + max(skip_s, skip_fraction * (t_end - t_step))
        sel = np.arange(first, last + 1)
        sel = sel[t[sel] >= start]
        nan = math.nan
        if abs(level) <= min_voltage_V:
            fits.append(StepFit(n, t_step, t_end, level, previous, nan, nan, nan, nan, nan,
                                int(sel.size), False,
                                "V ~ 0: G = I/V is undefined; the relaxation at this level is "
                                "not observable from the current (see the next plateau's G_0)"))
            continue
        if sel.size < max(min_points, 3):
            fits.append(StepFit(n, t_step, t_end, level, previous, nan, nan, nan, nan, nan,
                                int(sel.size), False,
                                f"only {sel.size} samples after the skipped window "
                                f"(need {max(min_points, 3)})"))
            continue
        g = i[sel] / v[sel]
        fit = fit_exponential(t[sel], g, t0=t_step)
        change = abs(fit["y_0"] - fit["y_inf"])
        scale = max(abs(fit["y_inf"]), abs(fit["y_0"]), 1e-300)
        notes = []
        if change <= 1e-9 * scale or change <= 3.0 * fit["rms"]:
            notes.append("no relaxation above the noise: tau is not determined")
        if fit["at_bound"]:
            notes.append("tau at the edge of the search range: not determined by the data")
        window = float(t[sel[-1]] - t[sel[0]])
        if fit["tau"] > window / 3.0:
            notes.append(f"tau ({fit['tau']:.3g} s) is more than a third of the fitted window "
                         f"({window:.3g} s): G_inf is an extrapolation")
        fits.append(StepFit(n, t_step, t_end, level, previous, fit["tau"], fit["y_inf"],
                            fit["y_0"], fit["rms"], fit["rms"] / change if change > 0 else nan,
                            int(sel.size), True, "; ".join(notes)))
    return fits


def step_levels(fits: list[StepFit], tolerance_V: float | None = None) -> list[dict]:
    """Group fitted steps by voltage level (within ``tolerance_V``, default 1e-6 of max |V|):
    one dict per level, sorted by voltage, with ``voltage_V``, ``g_inf_S`` and ``tau_s`` (means
    over the fitted steps to that level), ``tau_spread`` ((max - min) / mean of tau; approach
    from below and from above may differ), ``n_steps``."""
    good = [f for f in fits if f.fitted and math.isfinite(f.tau_s)]
    if not good:
        return []
    vmax = max(abs(f.voltage_V) for f in good)
    tol = tolerance_V if tolerance_V is not None else max(1e-6 * vmax, 1e-12)
    groups: list[list[StepFit]] = []
    for f in sorted(good, key=lambda f: f.voltage_V):
        if groups and abs(f.voltage_V - groups[-1][0].voltage_V) <= tol:
            groups[-1].append(f)
        else:
            groups.append([f])
    out = []
    for grp in groups:
        taus = np.array([f.tau_s for f in grp])
        out.append({"voltage_V": float(np.mean([f.voltage_V for f in grp])),
                    "g_inf_S": float(np.mean([f.g_inf_S for f in grp])),
                    "tau_s": float(taus.mean()),
                    "tau_spread": float((taus.max() - taus.min()) / taus.mean()),
                    "n_steps": len(grp)})
    return out
