"""The reduced memristor tau(V) dg/dt = g_inf(V) - g, I = g V, from a ``reduced_model.json``.

File format (written by the memristor analysis; keep to it)::

    {"kind": "ionslit.reduced_memristor", "version": 1,
     "voltage_V": [...], "g_inf_S": [...], "tau_s": [...],
     "g_initial_S": 1e-9,          # optional: initial conductance (default g_inf(0))
     "source": {...}}              # optional: provenance, kept as is

``tau_s`` may also be a single value (a constant memory time), as the writer
(``solvers.memristor``) accepts. Without ``g_initial_S`` the conductance starts at g_inf(0);
``Circuit.equilibrate(U0)`` sets it to g_inf(U0 - E_k) instead, the equilibrium at the circuit's
initial voltage (what the writer means by "no initial state given").

``g_inf`` (S) and ``tau`` (s) are monotone cubic (PCHIP) interpolants of the tables, constant
beyond the ends. The conductance is integrated with the circuit's implicit scheme at the new
voltage (backward Euler or variable-step BDF2), so the coupled system has one order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coupling.gated import GatedProvider
from coupling.tables import MonotoneTable

KIND = "ionslit.reduced_memristor"
VERSION = 1


@dataclass(frozen=True, eq=False)
class ReducedModel:
    """A validated reduced-model table (SI): voltage (V), g_inf (S), tau (s)."""

    voltage: np.ndarray
    g_inf: np.ndarray
    tau: np.ndarray
    g_initial: float | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        v = np.asarray(self.voltage, dtype=float).ravel()
        g = np.asarray(self.g_inf, dtype=float).ravel()
        t = np.asarray(self.tau, dtype=float).ravel()
        if t.size == 1 and v.size > 1:  # one value: a constant memory time
            t = np.full(v.size, t[0])
        problems = []
        if v.size == 0:
            problems.append("voltage_V is empty")
        if not (v.size == g.size == t.size):
            problems.append(f"voltage_V, g_inf_S and tau_s have lengths {v.size}, {g.size}, "
                            f"{t.size}: they must be equal")
        for name, a in (("voltage_V", v), ("g_inf_S", g), ("tau_s", t)):
            if not np.all(np.isfinite(a)):
                problems.append(f"{name} contains NaN or inf")
        if v.size > 1 and not np.all(np.diff(v) > 0):
            problems.append("voltage_V must be strictly increasing")
        if np.any(g < 0):
            problems.append("g_inf_S must be >= 0")
        if np.any(t <= 0):
            problems.append("tau_s must be > 0")
        if self.g_initial is not None and not (np.isfinite(self.g_initial)
                                               and self.g_initial >= 0):
            problems.append(f"g_initial_S = {self.g_initial} must be finite and >= 0")
        if problems:
            raise ValueError("invalid reduced memristor model: " + "; ".join(problems))
        object.__setattr__(self, "voltage", v)
        object.__setattr__(self, "g_inf", g)
        object.__setattr__(self, "tau", t)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReducedModel:
        if data.get("kind") != KIND:
            raise ValueError(f"not a reduced memristor model: kind is {data.get('kind')!r}, "
                             f"expected {KIND!r}")
        if data.get("version") != VERSION:
            raise ValueError(f"reduced memristor model version {data.get('version')!r} is not "
                             f"supported (this reader knows version {VERSION})")
        allowed = {"kind", "version", "voltage_V", "g_inf_S", "tau_s", "g_initial_S", "source"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown keys in reduced memristor model: {unknown} "
                             f"(allowed: {sorted(allowed)})")
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
        with open(path, encoding="utf-8") as stream:
            return cls.from_dict(json.load(stream))

    def to_dict(self) -> dict:
        out = {"kind": KIND, "version": VERSION, "voltage_V": self.voltage.tolist(),
               "g_inf_S": self.g_inf.tolist(), "tau_s": self.tau.tolist()}
        if self.g_initial is not None:
            out["g_initial_S"] = float(self.g_initial)
        if self.source:
            out["source"] = dict(self.source)
        return out

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


class ReducedMemristor(GatedProvider):
    """tau(V) dg/dt = g_inf(V) - g, I = g V (S, s, V, A), on ``lanes`` independent lanes.

    ``model``: a ``ReducedModel``, a dict in the JSON format, or a path to the JSON file.
    The initial conductance is ``g_initial`` if given, else the file's ``g_initial_S``, else
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
        self.table = MonotoneTable(model.voltage, [model.g_inf, model.tau])
        # per-step path: g_inf alone, plus tau when it varies (a constant tau costs nothing)
        self._g_table = MonotoneTable(model.voltage, [model.g_inf])
        constant_tau = bool(np.all(model.tau == model.tau[0]))
        self._tau_constant = float(model.tau[0]) if constant_tau else None
        if g_initial is None:
            g_initial = model.g_initial
        if g_initial is None:
            g_initial = float(self.table(0.0)[0])  # g_inf(0)
        super().__init__(g_initial, lanes, scheme)
        # conductances below 1 % of the table's largest are measured absolutely
        self.state_scale = max(1e-2 * float(np.max(model.g_inf)), 1e-300)

    def _rates(self, v):
        (g_inf, tau), (dg_inf, dtau) = self.table.evaluate(v)
        rate = 1.0 / tau
        a = (g_inf * rate)[:, None]
        b = rate[:, None]
        da = ((dg_inf - g_inf * dtau * rate) * rate)[:, None]
        db = (-dtau * rate * rate)[:, None]
        return a, b, da, db

    def _solve(self, v, b0, hist):
        """b0 g + hist = (g_inf - g) / tau  =>  g = (g_inf - tau hist) / (1 + b0 tau);
        dg/dV = (g_inf' - tau' (hist + b0 g)) / (1 + b0 tau); dg/dt = (g_inf - g) / tau."""
        b0, hist = b0[:, 0], hist[:, 0]
        if self._tau_constant is not None:
            (g_inf,), (dg_inf,) = self._g_table.evaluate(v)
            tau = self._tau_constant
            den = b0 * tau + 1.0
            g = (g_inf - tau * hist) / den
            dg = dg_inf / den
        else:
            (g_inf, tau), (dg_inf, dtau) = self.table.evaluate(v)
            den = b0 * tau + 1.0
            g = (g_inf - tau * hist) / den
            dg = (dg_inf - dtau * (hist + b0 * g)) / den
        return g[:, None], dg[:, None], ((g_inf - g) / tau)[:, None]

    def _current(self, v, x, dx):
        g = x[:, 0]
        return g * v, g + v * dx[:, 0]

    def g_inf(self, voltage) -> np.ndarray:
        """Steady conductance (S) at ``voltage`` (V)."""
        return self.table(np.asarray(voltage, dtype=float))[0]

    def tau(self, voltage) -> np.ndarray:
        """Memory time (s) at ``voltage`` (V)."""
        return self.table(np.asarray(voltage, dtype=float))[1]

    @property
    def conductance(self) -> np.ndarray:
        """Accepted conductance g (S) per lane."""
        return self._x[:, 0].copy()
