"""Simulation of the reduced memristor tau(V) dg/dt = g_inf(V) - g, I = g V (SI: V in V, g in S,
tau in s, I in A), for analysis: functions of a ``ionslit.coupling.ReducedModel``
(docs/theory.md#reduced-memristor).

The model (g_inf(V), the steady conductance at a held voltage from quasi-static slow sweeps or
steady PNP solves, and tau(V), the relaxation time towards it from step responses, as tables on
one voltage grid interpolated by monotone cubics) and its file ``reduced_model.json`` are
``ionslit.coupling.reduced.ReducedModel``: the same object the circuit code reads.

Time integration (``advance``, ``simulate``): an exponential integrator that is exact when V is
piecewise linear in time, g_inf linear in V and tau constant over a step; in general it freezes
tau at the step's mid-point voltage and takes g_inf(V(t)) linear in time between the step's end
values, which is second-order accurate and unconditionally stable (any dt / tau):

    x = dt / tau(V_mid),  E = exp(-x),  phi = (1 - E) / x
    g_new = E g + (1 - E) g_inf(V_start) + (1 - phi) (g_inf(V_end) - g_inf(V_start))

Without an initial state (argument or the model's ``g_initial_S``) a simulation starts at the
equilibrium g_inf(V(t0)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ionslit.coupling.reduced import ReducedModel


def _phi_terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E, 1 - phi) with E = exp(-x), phi = (1 - E)/x, accurate for small and zero x."""
    decay = np.exp(-x)
    one_minus_e = -np.expm1(-x)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(x > 1e-8, one_minus_e / np.where(x > 0, x, 1.0), 1.0 - 0.5 * x)
    return decay, 1.0 - phi


def _recurrence(g0: float, decay: np.ndarray, forcing: np.ndarray) -> np.ndarray:
    """g_{k+1} = decay_k g_k + forcing_k, returned with g_0 first."""
    out = [g0]
    g = g0
    for e, c in zip(decay.tolist(), forcing.tolist(), strict=True):
        g = e * g + c
        out.append(g)
    return np.asarray(out)


def advance(model: ReducedModel, g_S, dt_s, v_start_V, v_end_V):
    """State after ``dt_s`` with V linear from ``v_start_V`` to ``v_end_V`` (arrays allowed).

    The update of the module docstring; the current at the end is ``g_new * v_end_V``.
    """
    dt = np.asarray(dt_s, dtype=float)
    if np.any(dt < 0):
        raise ValueError("dt_s must be >= 0")
    v0 = np.asarray(v_start_V, dtype=float)
    v1 = np.asarray(v_end_V, dtype=float)
    f0, f1 = model.g_inf(v0), model.g_inf(v1)
    decay, one_minus_phi = _phi_terms(dt / model.tau(0.5 * (v0 + v1)))
    g_new = decay * np.asarray(g_S, dtype=float) + (1.0 - decay) * f0 \
        + one_minus_phi * (f1 - f0)
    return g_new if np.ndim(g_new) else float(g_new)


def _step_coefficients(model: ReducedModel, times, volts, mid_volts):
    """(decay_k, forcing_k) of g_{k+1} = decay_k g_k + forcing_k on a grid."""
    f = model.g_inf(volts)
    decay, one_minus_phi = _phi_terms(np.diff(times) / model.tau(mid_volts))
    forcing = (1.0 - decay) * f[:-1] + one_minus_phi * np.diff(f)
    return decay, forcing


def _grid(time_s, voltage, substeps: int):
    t = np.asarray(time_s, dtype=float).ravel()
    if t.size < 1 or np.any(np.diff(t) < 0):
        raise ValueError("time_s must be non-empty and non-decreasing")
    if substeps < 1:
        raise ValueError("substeps must be >= 1")
    fine = t if t.size == 1 else np.concatenate([
        (t[:-1, None] + np.diff(t)[:, None] * (np.arange(substeps) / substeps)).ravel(),
        t[-1:]])
    if callable(voltage):
        v_fine = np.array([voltage(x) for x in fine], dtype=float)
        mid = np.array([voltage(x) for x in 0.5 * (fine[:-1] + fine[1:])], dtype=float)
    else:
        v = np.asarray(voltage, dtype=float).ravel()
        if v.size != t.size:
            raise ValueError(f"voltage_V has {v.size} values but time_s {t.size}")
        if substeps == 1:
            v_fine = v
        else:  # piecewise linear between the given samples (exact at the samples)
            seg = np.arange(substeps) / substeps
            v_fine = np.concatenate([(v[:-1, None] + np.diff(v)[:, None] * seg).ravel(),
                                     v[-1:]])
        mid = 0.5 * (v_fine[:-1] + v_fine[1:])
    return fine, v_fine, mid


def simulate(model: ReducedModel, time_s, voltage_V, g_initial_S: float | None = None,
             substeps: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(g in S, I in A) at ``time_s`` under ``voltage_V``.

    ``voltage_V``: values at ``time_s`` (taken linear in between; a jump needs two samples at
    the same time) or a callable V(t) evaluated on the sub-step grid. Each interval is split
    into ``substeps`` equal sub-steps. Initial state: ``g_initial_S``, else the model's
    ``g_initial_S``, else the equilibrium g_inf(V(t0)).
    """
    fine, v_fine, mid = _grid(time_s, voltage_V, substeps)
    g0 = g_initial_S if g_initial_S is not None else model.g_initial_S
    if g0 is None:
        g0 = float(model.g_inf(v_fine[0]))
    decay, forcing = _step_coefficients(model, fine, v_fine, mid)
    g = _recurrence(float(g0), decay, forcing)[::substeps]
    v = v_fine[::substeps]
    return g, g * v


def periodic_response(model: ReducedModel, voltage: Callable[[float], float], period_s: float,
                      n_steps: int = 1000):
    """One period of the periodic steady state under V(t) = voltage(t) (period ``period_s``).

    The map over a period is affine, g(T) = P g(0) + Q, so the periodic state is
    g(0) = Q / (1 - P) exactly (no transient to wait for). Returns (time_s, voltage_V, g_S,
    current_A) with n_steps + 1 samples from 0 to period_s inclusive.
    """
    t = np.linspace(0.0, period_s, n_steps + 1)
    v = np.array([voltage(x) for x in t], dtype=float)
    mid = np.array([voltage(x) for x in 0.5 * (t[:-1] + t[1:])], dtype=float)
    decay, forcing = _step_coefficients(model, t, v, mid)
    q = _recurrence(0.0, decay, forcing)[-1]
    log_p = float(np.sum(np.log(np.maximum(decay, 1e-300))))
    g0 = q / -math.expm1(log_p)  # q / (1 - P), accurate when P is close to 1
    g = _recurrence(g0, decay, forcing)
    return t, v, g, g * v


def sine_cycle(model: ReducedModel, frequency_Hz: float, amplitude_V: float,
               n_steps: int = 1000, offset_V: float = 0.0):
    """Periodic steady state under V = offset + amplitude sin(2 pi f t), one period from a
    rising zero crossing (for zero offset): (time_s, voltage_V, g_S, current_A)."""
    omega = 2.0 * math.pi * frequency_Hz
    return periodic_response(model, lambda t: offset_V + amplitude_V * math.sin(omega * t),
                             1.0 / frequency_Hz, n_steps)


def effective_tau(model: ReducedModel, amplitude_V: float, offset_V: float = 0.0,
                  n: int = 2048) -> float:
    """1 / <1/tau(V(t))> over a sine period (s): the time constant of the decay of memory
    per cycle (the periodic map contracts by exp(-T <1/tau>)). Equal to tau if constant."""
    theta = 2.0 * math.pi * (np.arange(n) + 0.5) / n
    return float(1.0 / np.mean(1.0 / model.tau(offset_V + amplitude_V * np.sin(theta))))


def g_inf_from_slow_sweep(voltage_V, current_A, n_points: int = 41,
                          min_voltage_fraction: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """A g_inf table (V, S) from a slow (quasi-static) triangle sweep going up and down.

    G = I / V (where |V| > min_voltage_fraction * max |V|) is averaged in ``n_points`` equal
    voltage bins, separately on the rising (dV > 0) and falling samples; the table value is the
    mean of the two branch averages. While V ramps at rate r the state lags, g ~ g_inf(V) -+ tau r
    g_inf'(V), with opposite signs on the two branches, so their mean cancels the lag to first
    order in tau r (a single branch keeps it). What is left: the second-order lag (tau r)^2
    g_inf''/2, the averaging over a bin (g_inf'' h^2/24 for bin width h) and, in the two end
    bins, the turning points, where the state has not caught up (there the error is about the
    single-branch lag). Bins without samples (around V = 0) are dropped; returns (bin mean
    voltages, conductances), strictly increasing in V.
    """
    v = np.asarray(voltage_V, dtype=float).ravel()
    i = np.asarray(current_A, dtype=float).ravel()
    if v.size != i.size or v.size < 3:
        raise ValueError("voltage_V and current_A need the same length (at least 3 samples)")
    slope = np.gradient(v)
    keep = np.abs(v) > min_voltage_fraction * float(np.max(np.abs(v)))
    edges = np.linspace(v.min(), v.max(), n_points + 1)
    which = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, n_points - 1)
    volts, conductances = [], []
    for b in range(n_points):
        in_bin = keep & (which == b)
        branches = [in_bin & (slope > 0), in_bin & (slope < 0)]
        means = [float(np.mean(i[m] / v[m])) for m in branches if np.any(m)]
        if means:
            volts.append(float(np.mean(v[in_bin])))
            conductances.append(float(np.mean(means)))
    order = np.argsort(volts)
    return np.asarray(volts)[order], np.asarray(conductances)[order]
