"""The reduced memristor tau(V) dg/dt = g_inf(V) - g, I = g V (g in S, tau in s, V in V, I in
A): its tables and file, and the circuit provider (docs/theory.md#reduced-memristor).

``ReducedModel`` is the one data class and file format of the reduced model (the memristor
analysis, ``ionslit.coupling.memristor``, fits and writes it; the circuit reads it). ``reduced_model.json``::

    {"kind": "ionslit.reduced_memristor", "version": 1,
     "voltage_V": [...], "g_inf_S": [...], "tau_s": [...],
     "g_initial_S": 1e-9,          # optional: initial conductance
     "source": {...}}              # optional: provenance, kept as is

``tau_s`` is written on the ``voltage_V`` grid; a single value is accepted on reading and means a
constant memory time (``ReducedModel.from_tables`` also resamples a tau table measured on its own
voltage grid onto ``voltage_V``). ``g_inf`` (S) and ``tau`` (s) are monotone cubic (PCHIP)
interpolants of the tables (``ionslit.coupling.tables``), constant beyond the ends.

``ReducedMemristor`` is the circuit provider. Without an initial conductance (argument or
``g_initial_S``) it starts at g_inf(0); ``Circuit.equilibrate(U0)`` sets it to g_inf(U0 - E_k)
instead, the equilibrium at the circuit's initial voltage (what the analysis's simulations mean by
"no initial state given"). The conductance is integrated with the circuit's implicit scheme at
the new voltage (backward Euler or variable-step BDF2), so the coupled system has one order.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ionslit.coupling.gated import GatedProvider
from ionslit.coupling.tables import MonotoneTable

KIND = "ionslit.reduced_memristor"
VERSION = 1
_KEYS = ("kind", "version", "voltage_V", "g_inf_S", "tau_s", "g_initial_S", "source")


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` under a temporary name in the same directory, then rename
    (``os.replace``): readers never see a partial file. Creates missing parent directories."""
    path = Path(path)
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
    return path


def _plain(value):
    """A JSON-serialisable copy of ``value`` (numpy scalars/arrays, tuples, paths converted)."""
    if isinstance(value, Mapping):
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


@dataclass(frozen=True, eq=False)
class ReducedModel:
    """g_inf (S) and tau (s) tables on one strictly increasing voltage grid (V).

    The fields are the file's keys. ``tau_s`` may be given as one value (a constant memory
    time). ``g_initial_S``: the initial conductance, None if not given (each user then starts
    from an equilibrium). ``source``: free-form provenance written to the file. Build from
    measured tables with ``from_tables`` (sorts, resamples tau), read with ``load``/``from_dict``.
    ``table``: the PCHIP curves of g_inf and tau (in that order) on ``voltage_V``.
    """

    voltage_V: np.ndarray
    g_inf_S: np.ndarray
    tau_s: np.ndarray
    g_initial_S: float | None = None
    source: dict = field(default_factory=dict)
    table: MonotoneTable = field(init=False, repr=False)

    def __post_init__(self):
        v = np.asarray(self.voltage_V, dtype=float).ravel()
        g = np.asarray(self.g_inf_S, dtype=float).ravel()
        t = np.asarray(self.tau_s, dtype=float).ravel()
        if t.size == 1 and v.size > 1:  # one value: a constant memory time
            t = np.full(v.size, t[0])
        problems = []
        if v.size == 0:
            problems.append("voltage_V is empty")
        if not (v.size == g.size == t.size):
            problems.append(f"voltage_V, g_inf_S and tau_s have lengths {v.size}, {g.size}, "
                            f"{t.size}: they must be equal (tau_s may be one value)")
        for name, a in (("voltage_V", v), ("g_inf_S", g), ("tau_s", t)):
            if not np.all(np.isfinite(a)):
                problems.append(f"{name} contains NaN or inf")
        if v.size > 1 and not np.all(np.diff(v) > 0):
            problems.append("voltage_V must be strictly increasing (no repeated voltages)")
        if np.any(g < 0):
            problems.append(f"g_inf_S must be >= 0 (a passive slit); min is {g.min():g} S")
        if np.any(t <= 0):
            problems.append(f"tau_s must be > 0; min is {t.min():g} s")
        if self.g_initial_S is not None and not (np.isfinite(self.g_initial_S)
                                                 and self.g_initial_S >= 0):
            problems.append(f"g_initial_S = {self.g_initial_S} must be finite and >= 0")
        if problems:
            raise ValueError("invalid reduced memristor model: " + "; ".join(problems))
        object.__setattr__(self, "voltage_V", v)
        object.__setattr__(self, "g_inf_S", g)
        object.__setattr__(self, "tau_s", t)
        object.__setattr__(self, "source", dict(self.source or {}))
        object.__setattr__(self, "table", MonotoneTable(v, [g, t]))

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_tables(cls, voltage_V, g_inf_S, tau_s, tau_voltage_V=None,
                    g_initial_S: float | None = None, source: Mapping | None = None
                    ) -> ReducedModel:
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
            tau = MonotoneTable(tv[tau_order], [tau[tau_order]])(v)[0]
        elif tau.size == v.size:
            tau = tau[order]
        elif tau.size != 1:
            raise ValueError(f"tau_s needs one value, one per voltage ({v.size}), or its own "
                             f"tau_voltage_V grid; got {tau.size} values")
        return cls(v, g, tau, g_initial_S=g_initial_S, source=dict(source or {}))

    def with_tau_scaled(self, factor: float) -> ReducedModel:
        """The same model with every tau multiplied by ``factor``."""
        return replace(self, tau_s=self.tau_s * factor)

    # -- evaluation -----------------------------------------------------------------------------
    def g_inf(self, voltage_V):
        """Steady conductance (S) at the held voltage(s) (V); a float for a scalar voltage."""
        value = self.table(np.asarray(voltage_V, dtype=float))[0]
        return value if value.ndim else float(value)

    def tau(self, voltage_V):
        """Memory (relaxation) time (s) at the voltage(s) (V); a float for a scalar voltage."""
        value = self.table(np.asarray(voltage_V, dtype=float))[1]
        return value if value.ndim else float(value)

    @property
    def tau_is_constant(self) -> bool:
        """True if every tau in the table is the same (a constant memory time)."""
        return bool(np.all(self.tau_s == self.tau_s[0]))

    # -- file format ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReducedModel:
        """The model from the content of a ``reduced_model.json`` (ValueError if it is not one
        of this kind and version, or has unknown or missing keys)."""
        if data.get("kind") != KIND:
            raise ValueError(f"not a reduced memristor model: kind is {data.get('kind')!r}, "
                             f"expected {KIND!r}")
        if data.get("version") != VERSION:
            raise ValueError(f"reduced memristor model version {data.get('version')!r} is not "
                             f"supported (this reader knows version {VERSION})")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ValueError(f"unknown keys in reduced memristor model: {unknown} "
                             f"(allowed: {sorted(_KEYS)})")
        missing = [k for k in ("voltage_V", "g_inf_S", "tau_s") if k not in data]
        if missing:
            raise ValueError(f"reduced memristor model lacks {missing}")
        g0 = data.get("g_initial_S")
        return cls(np.asarray(data["voltage_V"], dtype=float),
                   np.asarray(data["g_inf_S"], dtype=float),
                   np.asarray(data["tau_s"], dtype=float),
                   None if g0 is None else float(g0), dict(data.get("source") or {}))

    @classmethod
    def load(cls, path: str | Path) -> ReducedModel:
        """Read a ``reduced_model.json``."""
        with open(path, encoding="utf-8") as stream:
            return cls.from_dict(json.load(stream))

    def to_dict(self) -> dict:
        """The file's content; the optional keys only when set (``source`` made JSON-plain)."""
        out = {"kind": KIND, "version": VERSION, "voltage_V": self.voltage_V.tolist(),
               "g_inf_S": self.g_inf_S.tolist(), "tau_s": self.tau_s.tolist()}
        if self.g_initial_S is not None:
            out["g_initial_S"] = float(self.g_initial_S)
        if self.source:
            out["source"] = _plain(self.source)
        return out

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (e.g. results/.../reduced_model.json) atomically; returns the path."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")


class ReducedMemristor(GatedProvider):
    """tau(V) dg/dt = g_inf(V) - g, I = g V (S, s, V, A), on ``lanes`` independent lanes.

    ``model``: a ``ReducedModel``, a dict in the JSON format, or a path to the JSON file.
    The initial conductance is ``g_initial`` if given, else the model's ``g_initial_S``, else
    g_inf(0) (the state relaxed at zero voltage).
    """

    nstate = 1

    def __init__(self, model, lanes: int = 1, scheme: str = "bdf2",
                 g_initial: float | None = None):
        if isinstance(model, (str, Path)):
            model = ReducedModel.load(model)
        elif isinstance(model, Mapping):
            model = ReducedModel.from_dict(model)
        self.model = model
        self.table = model.table  # g_inf and tau
        # per-step path: g_inf alone, plus tau when it varies (a constant tau costs nothing)
        self._g_table = MonotoneTable(model.voltage_V, [model.g_inf_S])
        self._tau_constant = float(model.tau_s[0]) if model.tau_is_constant else None
        if g_initial is None:
            g_initial = model.g_initial_S
        if g_initial is None:
            g_initial = model.g_inf(0.0)
        super().__init__(g_initial, lanes, scheme)
        # per-step terms of a constant tau (_solve): 1 / (1 + b0 tau) and tau hist, and the
        # history array they belong to
        self._step_key: np.ndarray | None = None
        self._step_terms: tuple[np.ndarray, np.ndarray] | None = None
        # conductances below 1 % of the table's largest are measured absolutely
        self.state_scale = max(1e-2 * float(np.max(model.g_inf_S)), 1e-300)

    def _rates(self, v):
        (g_inf, tau), (dg_inf, dtau) = self.table.evaluate(v)
        rate = 1.0 / tau
        a = (g_inf * rate)[None]
        b = rate[None]
        da = ((dg_inf - g_inf * dtau * rate) * rate)[None]
        db = (-dtau * rate * rate)[None]
        return a, b, da, db

    def _solve(self, v, b0, hist, derivative: bool = True):
        """b0 g + hist = (g_inf - g) / tau  =>  g = (g_inf - tau hist) / (1 + b0 tau);
        dg/dV = (g_inf' - tau' (hist + b0 g)) / (1 + b0 tau); dg/dt = (g_inf - g) / tau.
        Arrays (1, lanes) (``hist``; ``b0`` per lane). With a constant tau, 1 / (1 + b0 tau)
        and tau hist are the same for every try of a step."""
        if self._tau_constant is not None:
            tau = self._tau_constant
            terms = self._step_terms
            if terms is None or self._step_key is not hist:  # a new step
                inv_den = b0 * tau
                inv_den += 1.0
                np.divide(1.0, inv_den, out=inv_den)
                terms = (inv_den, tau * hist)
                self._step_key, self._step_terms = hist, terms
            inv_den, tau_hist = terms
            (g_inf,), slopes = self._g_table.evaluate(v, derivative)
            g = g_inf - tau_hist
            g *= inv_den
            dg = slopes * inv_den if derivative else None  # (1, lanes)
            slope = g_inf - g
            slope *= 1.0 / tau
            return g, dg, slope
        (g_inf, tau), slopes = self.table.evaluate(v, derivative)
        den = b0 * tau
        den += 1.0
        g = tau * hist
        np.subtract(g_inf, g, out=g)
        g /= den
        slope = g_inf - g
        slope /= tau
        if not derivative:
            return g, None, slope
        dg_inf, dtau = slopes
        dg = b0 * g
        dg += hist
        dg *= dtau
        np.subtract(dg_inf, dg, out=dg)
        dg /= den
        return g, dg, slope

    def _current(self, v, x, dx):
        g = x[0]
        if dx is None:
            return g * v, None
        conductance = v * dx[0]
        conductance += g
        return g * v, conductance

    def g_inf(self, voltage):
        """Steady conductance (S) at ``voltage`` (V): ``model.g_inf``."""
        return self.model.g_inf(voltage)

    def tau(self, voltage):
        """Memory time (s) at ``voltage`` (V): ``model.tau``."""
        return self.model.tau(voltage)

    @property
    def conductance(self) -> np.ndarray:
        """Accepted conductance g (S) per lane."""
        return self._x[0].copy()
