"""Reduced memristor: tau(V) dg/dt = g_inf(V) - g, I = g V (SI: V in V, g in S, tau in s, I in A).

``g_inf(V)`` is the steady conductance at a held voltage (from quasi-static slow sweeps or steady
PNP solves) and ``tau(V)`` the relaxation time towards it (from step responses; one value means
a constant). Both are tables on one voltage grid, interpolated by monotone cubics (PCHIP) and
held constant outside the table.

Time integration (``advance``, ``simulate``): an exponential integrator that is exact when V is
piecewise linear in time, g_inf linear in V and tau constant over a step; in general it freezes
tau at the step's mid-point voltage and takes g_inf(V(t)) linear in time between the step's end
values, which is second-order accurate and unconditionally stable (any dt / tau):

    x = dt / tau(V_mid),  E = exp(-x),  phi = (1 - E) / x
    g_new = E g + (1 - E) g_inf(V_start) + (1 - phi) (g_inf(V_end) - g_inf(V_start))

The file format (``reduced_model.json``, read by the circuit code) is exactly
``{"kind": "ionslit.reduced_memristor", "version": 1, "voltage_V": [...], "g_inf_S": [...],
"tau_s": [...], "g_initial_S": float (optional), "source": {...}}`` with ``tau_s`` on the
``voltage_V`` grid (written with the same length; a single value is accepted on reading and means
a constant tau).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._interp import MonotoneCubic

KIND = "ionslit.reduced_memristor"
VERSION = 1


def _plain(value):
    """A JSON-serialisable copy of ``value`` (numpy scalars/arrays, tuples, paths converted)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf
    return value


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
    for e, c in zip(decay.tolist(), forcing.tolist()):
        g = e * g + c
        out.append(g)
    return np.asarray(out)


@dataclass(frozen=True, eq=False)
class ReducedMemristor:
    """g_inf(V) (S) and tau(V) (s) tables on one strictly increasing voltage grid (V).

    Build with ``from_tables`` (checks and broadcasts), read with ``read_json``.
    ``g_initial_S``: the state at the start of a simulation when none is given (None: the
    equilibrium g_inf(V(t0))). ``source``: free-form provenance written to the JSON file.
    """

    voltage_V: np.ndarray
    g_inf_S: np.ndarray
    tau_s: np.ndarray
    g_initial_S: float | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        v = np.asarray(self.voltage_V, dtype=float).ravel()
        g = np.asarray(self.g_inf_S, dtype=float).ravel()
        tau = np.asarray(self.tau_s, dtype=float).ravel()
        if tau.size == 1 and v.size > 1:
            tau = np.full(v.size, tau[0])
        if v.size == 0 or g.size != v.size or tau.size != v.size:
            raise ValueError(f"reduced model tables need equal, non-zero lengths: voltage_V "
                             f"{v.size}, g_inf_S {g.size}, tau_s {tau.size} (tau_s may be one "
                             f"value)")
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(g)) and np.all(np.isfinite(tau))):
            raise ValueError("reduced model tables contain NaN or inf")
        if np.any(np.diff(v) <= 0):
            raise ValueError("voltage_V must be strictly increasing (no repeated voltages)")
        if np.any(g < 0):
            raise ValueError(f"g_inf_S must be >= 0 (a passive slit); min is {g.min():g} S")
        if np.any(tau <= 0):
            raise ValueError(f"tau_s must be > 0; min is {tau.min():g} s")
        if self.g_initial_S is not None and not (math.isfinite(self.g_initial_S)
                                                 and self.g_initial_S >= 0):
            raise ValueError(f"g_initial_S must be finite and >= 0, got {self.g_initial_S}")
        object.__setattr__(self, "voltage_V", v)
        object.__setattr__(self, "g_inf_S", g)
        object.__setattr__(self, "tau_s", tau)
        object.__setattr__(self, "source", dict(self.source))
        object.__setattr__(self, "_g_interp", MonotoneCubic(v, g))
        object.__setattr__(self, "_tau_interp", MonotoneCubic(v, tau))

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_tables(cls, voltage_V, g_inf_S, tau_s, tau_voltage_V=None,
                    g_initial_S: float | None = None, source: dict | None = None
                    ) -> ReducedMemristor:
        """Model from g_inf on ``voltage_V`` and tau either on the same grid, as one value, or
        on its own grid ``tau_voltage_V`` (then resampled onto ``voltage_V`` by the monotone
        cubic, constant beyond its ends). Unsorted voltages are sorted."""
        v = np.asarray(voltage_V, dtype=float).ravel()
        g = np.asarray(g_inf_S, dtype=float).ravel()
        if g.size != v.size:
            raise ValueError(f"voltage_V has {v.size} values but g_inf_S {g.size}")
        order = np.argsort(v, kind="stable")
        v, g = v[order], g[order]
        tau = np.atleast_1d(np.asarray(tau_s, dtype=float)).ravel()
        if tau_voltage_V is not None:
            tv = np.asarray(tau_voltage_V, dtype=float).ravel()
            if tv.size != tau.size:
                raise ValueError(f"tau_voltage_V has {tv.size} values but tau_s {tau.size}")
            tau_order = np.argsort(tv, kind="stable")
            tau = MonotoneCubic(tv[tau_order], tau[tau_order])(v)
        elif tau.size == v.size:
            tau = tau[order]
        elif tau.size != 1:
            raise ValueError(f"tau_s needs one value, one per voltage ({v.size}), or its own "
                             f"tau_voltage_V grid; got {tau.size} values")
        return cls(v, g, tau, g_initial_S=g_initial_S, source=dict(source or {}))

    def with_tau_scaled(self, factor: float) -> ReducedMemristor:
        """The same model with every tau multiplied by ``factor``."""
        return ReducedMemristor(self.voltage_V, self.g_inf_S, self.tau_s * factor,
                                self.g_initial_S, dict(self.source))

    # ----------------------------------------------------------------- evaluation
    def g_inf(self, voltage_V):
        """Steady conductance (S) at the held voltage(s)."""
        return self._g_interp(voltage_V)

    def tau(self, voltage_V):
        """Relaxation time (s) at the voltage(s)."""
        return self._tau_interp(voltage_V)

    @property
    def tau_is_constant(self) -> bool:
        return bool(np.all(self.tau_s == self.tau_s[0]))

    def advance(self, g_S, dt_s, v_start_V, v_end_V):
        """State after ``dt_s`` with V linear from ``v_start_V`` to ``v_end_V`` (arrays allowed).

        The update the class docstring gives; the current at the end is ``g_new * v_end_V``.
        """
        dt = np.asarray(dt_s, dtype=float)
        if np.any(dt < 0):
            raise ValueError("dt_s must be >= 0")
        v0 = np.asarray(v_start_V, dtype=float)
        v1 = np.asarray(v_end_V, dtype=float)
        f0, f1 = self.g_inf(v0), self.g_inf(v1)
        decay, one_minus_phi = _phi_terms(dt / self.tau(0.5 * (v0 + v1)))
        g_new = decay * np.asarray(g_S, dtype=float) + (1.0 - decay) * f0 \
            + one_minus_phi * (f1 - f0)
        return g_new if np.ndim(g_new) else float(g_new)

    def _step_coefficients(self, times, volts, mid_volts):
        """(decay_k, forcing_k) of g_{k+1} = decay_k g_k + forcing_k on a grid."""
        f = self.g_inf(volts)
        decay, one_minus_phi = _phi_terms(np.diff(times) / self.tau(mid_volts))
        forcing = (1.0 - decay) * f[:-1] + one_minus_phi * np.diff(f)
        return decay, forcing

    @staticmethod
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

    def simulate(self, time_s, voltage_V, g_initial_S: float | None = None,
                 substeps: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(g in S, I in A) at ``time_s`` under ``voltage_V``.

        ``voltage_V``: values at ``time_s`` (taken linear in between; a jump needs two samples at
        the same time) or a callable V(t) evaluated on the sub-step grid. Each interval is split
        into ``substeps`` equal sub-steps. Initial state: ``g_initial_S``, else the model's
        ``g_initial_S``, else the equilibrium g_inf(V(t0)).
        """
        fine, v_fine, mid = self._grid(time_s, voltage_V, substeps)
        g0 = g_initial_S if g_initial_S is not None else self.g_initial_S
        if g0 is None:
            g0 = float(self.g_inf(v_fine[0]))
        decay, forcing = self._step_coefficients(fine, v_fine, mid)
        g = _recurrence(float(g0), decay, forcing)[::substeps]
        v = v_fine[::substeps]
        return g, g * v

    def periodic_response(self, voltage: Callable[[float], float], period_s: float,
                          n_steps: int = 1000):
        """One period of the periodic steady state under V(t) = voltage(t) (period ``period_s``).

        The map over a period is affine, g(T) = P g(0) + Q, so the periodic state is
        g(0) = Q / (1 - P) exactly (no transient to wait for). Returns (time_s, voltage_V, g_S,
        current_A) with n_steps + 1 samples from 0 to period_s inclusive.
        """
        t = np.linspace(0.0, period_s, n_steps + 1)
        v = np.array([voltage(x) for x in t], dtype=float)
        mid = np.array([voltage(x) for x in 0.5 * (t[:-1] + t[1:])], dtype=float)
        decay, forcing = self._step_coefficients(t, v, mid)
        q = _recurrence(0.0, decay, forcing)[-1]
        log_p = float(np.sum(np.log(np.maximum(decay, 1e-300))))
        g0 = q / -math.expm1(log_p)  # q / (1 - P), accurate when P is close to 1
        g = _recurrence(g0, decay, forcing)
        return t, v, g, g * v

    def sine_cycle(self, frequency_Hz: float, amplitude_V: float, n_steps: int = 1000,
                   offset_V: float = 0.0):
        """Periodic steady state under V = offset + amplitude sin(2 pi f t), one period from a
        rising zero crossing (for zero offset): (time_s, voltage_V, g_S, current_A)."""
        omega = 2.0 * math.pi * frequency_Hz
        return self.periodic_response(lambda t: offset_V + amplitude_V * math.sin(omega * t),
                                      1.0 / frequency_Hz, n_steps)

    def effective_tau(self, amplitude_V: float, offset_V: float = 0.0, n: int = 2048) -> float:
        """1 / <1/tau(V(t))> over a sine period (s): the time constant of the decay of memory
        per cycle (the periodic map contracts by exp(-T <1/tau>)). Equal to tau if constant."""
        theta = 2.0 * math.pi * (np.arange(n) + 0.5) / n
        return float(1.0 / np.mean(1.0 / self.tau(offset_V + amplitude_V * np.sin(theta))))

    # ----------------------------------------------------------------- file format
    def to_dict(self) -> dict:
        data = {"kind": KIND, "version": VERSION,
                "voltage_V": self.voltage_V.tolist(), "g_inf_S": self.g_inf_S.tolist(),
                "tau_s": self.tau_s.tolist()}
        if self.g_initial_S is not None:
            data["g_initial_S"] = float(self.g_initial_S)
        data["source"] = _plain(self.source)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ReducedMemristor:
        if data.get("kind") != KIND:
            raise ValueError(f"not a reduced memristor model: kind is {data.get('kind')!r}, "
                             f"expected {KIND!r}")
        if data.get("version") != VERSION:
            raise ValueError(f"reduced memristor file version {data.get('version')!r} is not "
                             f"supported (this code reads version {VERSION})")
        missing = [k for k in ("voltage_V", "g_inf_S", "tau_s") if k not in data]
        if missing:
            raise ValueError(f"reduced memristor file lacks {', '.join(missing)}")
        unknown = set(data) - {"kind", "version", "voltage_V", "g_inf_S", "tau_s",
                               "g_initial_S", "source"}
        if unknown:
            raise ValueError(f"unknown keys in reduced memristor file: {sorted(unknown)}")
        g0 = data.get("g_initial_S")
        return cls(np.asarray(data["voltage_V"], dtype=float),
                   np.asarray(data["g_inf_S"], dtype=float),
                   np.asarray(data["tau_s"], dtype=float),
                   g_initial_S=None if g0 is None else float(g0),
                   source=dict(data.get("source") or {}))

    def write_json(self, path) -> Path:
        """Write ``path`` (e.g. results/.../reduced_model.json) atomically; returns the path."""
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=1) + "\n"
        _atomic_write(path, text)
        return path

    @classmethod
    def read_json(cls, path) -> ReducedMemristor:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))


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


def _atomic_write(path: Path, text: str) -> None:
    """Write under a temporary name in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_reduced_model(model: ReducedMemristor, path) -> Path:
    """Same as ``model.write_json(path)``."""
    return model.write_json(path)


def read_reduced_model(path) -> ReducedMemristor:
    """Same as ``ReducedMemristor.read_json(path)``."""
    return ReducedMemristor.read_json(path)
