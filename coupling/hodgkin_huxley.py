"""The Hodgkin-Huxley (1952) squid-axon channels as providers, to verify the circuit integrator
(docs/theory.md#hodgkin-huxley).

Modern convention (resting potential near -65 mV), per unit membrane area:

    sodium:    g_Na = 120 mS/cm^2, E_Na = +50 mV,      I = g_Na m^3 h (U - E_Na)
    potassium: g_K  =  36 mS/cm^2, E_K  = -77 mV,      I = g_K n^4 (U - E_K)
    leak:      g_L  = 0.3 mS/cm^2, E_L  = -54.387 mV,  I = g_L (U - E_L)
    C = 1 uF/cm^2

with dx/dt = phi (alpha_x(U) (1 - x) - beta_x(U) x), U in mV and rates in 1/ms:

    alpha_m = 0.1 (U + 40) / (1 - exp(-(U + 40)/10)),  beta_m = 4 exp(-(U + 65)/18)
    alpha_h = 0.07 exp(-(U + 65)/20),                   beta_h = 1 / (1 + exp(-(U + 35)/10))
    alpha_n = 0.01 (U + 55) / (1 - exp(-(U + 55)/10)), beta_n = 0.125 exp(-(U + 65)/80)

and phi = 3^((T - 6.3 C)/10) (1 at 6.3 C). The removable singularities of alpha_m and alpha_n
(x / (1 - exp(-x)) at x = 0) use the series 1 + x/2 + x^2/12 - x^4/720 for |x| < 0.01.

In SI (what the providers take): conductances per area in S/m^2 (1 mS/cm^2 = 10 S/m^2),
capacitance 0.01 F/m^2, currents per area in A/m^2 (1 uA/cm^2 = 0.01 A/m^2). A provider with
``area`` A (m^2) carries the current of that membrane patch; ``area = 1`` (the default) makes
every current a current density, so per-unit-area cases run unchanged with C in F/m^2.

As a provider the channel sees the voltage across it, v = U - E_k (its battery is the reversal
potential), and returns I = g area x(U) v with U = v + E_k for its rate functions; the gates are
integrated by the circuit's implicit scheme at the new voltage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ionslit.coupling.gated import GatedProvider

#: S/m^2, V, per channel kind (120, 36, 0.3 mS/cm^2; +50, -77, -54.387 mV)
CONDUCTANCE = {"na": 1200.0, "k": 360.0, "leak": 3.0}
REVERSAL = {"na": 0.050, "k": -0.077, "leak": -0.054387}
CAPACITANCE = 0.01  # F/m^2 (1 uF/cm^2)
RESTING_POTENTIAL = -0.065  # V, the convention's nominal rest (Circuit.resting_potential: the root)
UA_PER_CM2 = 0.01  # A/m^2 in 1 uA/cm^2


def _q(x):
    """x / (1 - exp(-x)) and its derivative, with the removable singularity at x = 0."""
    small = np.abs(x) < 1e-2
    any_small = bool(small.any()) if isinstance(small, np.ndarray) else bool(small)
    xs = np.where(small, 1.0, x) if any_small else x  # keep the direct formula off 0/0
    e = -np.expm1(-xs)
    inv = 1.0 / e
    q = xs * inv
    dq = inv - xs * (1.0 - e) * inv * inv
    if any_small:
        x2 = x * x
        q = np.where(small, 1.0 + x / 2.0 + x2 / 12.0 - x2 * x2 / 720.0, q)
        dq = np.where(small, 0.5 + x / 6.0 - x2 * x / 180.0, dq)
    return q, dq


def sodium_rates(u_mV):
    """(alpha_m, beta_m, alpha_h, beta_h) and their U-derivatives (1/ms, 1/(ms mV)), U in mV."""
    qm, dqm = _q((u_mV + 40.0) / 10.0)
    beta_m = 4.0 * np.exp(-(u_mV + 65.0) / 18.0)
    alpha_h = 0.07 * np.exp(-(u_mV + 65.0) / 20.0)
    beta_h = 1.0 / (1.0 + np.exp(-(u_mV + 35.0) / 10.0))
    return ((qm, beta_m, alpha_h, beta_h),
            (dqm / 10.0, beta_m / -18.0, alpha_h / -20.0, beta_h * (1.0 - beta_h) / 10.0))


def potassium_rates(u_mV):
    """(alpha_n, beta_n) and their U-derivatives (1/ms, 1/(ms mV)), U in mV."""
    qn, dqn = _q((u_mV + 55.0) / 10.0)
    beta_n = 0.125 * np.exp(-(u_mV + 65.0) / 80.0)
    return (0.1 * qn, beta_n), (0.01 * dqn, beta_n / -80.0)


def rates(u_mV):
    """(alpha, beta, dalpha/dU, dbeta/dU) of the gates m, h, n at membrane potential U (mV),
    each a tuple of three arrays, rates in 1/ms (phi = 1)."""
    u = np.asarray(u_mV, dtype=float)
    (am, bm, ah, bh), (dam, dbm, dah, dbh) = sodium_rates(u)
    (an, bn), (dan, dbn) = potassium_rates(u)
    return (am, ah, an), (bm, bh, bn), (dam, dah, dan), (dbm, dbh, dbn)


def steady_gates(u_volt):
    """Steady (m, h, n) at membrane potential U (V)."""
    (am, ah, an), (bm, bh, bn), _, _ = rates(1e3 * np.asarray(u_volt, dtype=float))
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


def temperature_factor(temperature_celsius: float) -> float:
    """phi = 3^((T - 6.3)/10)."""
    return 3.0 ** ((temperature_celsius - 6.3) / 10.0)


class HodgkinHuxleyChannel(GatedProvider):
    """One HH channel population ('na', 'k' or 'leak') of membrane ``area`` (m^2).

    ``conductance`` (S/m^2) and ``reversal`` (V) default to the 1952 values; ``reversal`` must
    equal the battery of the branch it sits in (its gates are functions of U = v + reversal).
    """

    _GATES = {"na": 2, "k": 1, "leak": 0}

    def __init__(self, kind: str, area: float = 1.0, lanes: int = 1, scheme: str = "bdf2",
                 conductance: float | None = None, reversal: float | None = None,
                 temperature: float = 6.3, initial_voltage: float = RESTING_POTENTIAL):
        if kind not in self._GATES:
            raise ValueError(f"HH channel kind {kind!r} is not one of {sorted(self._GATES)}")
        if not area > 0:
            raise ValueError(f"membrane area {area} m^2 must be > 0")
        self.kind = kind
        self.nstate = self._GATES[kind]
        self.area = float(area)
        self.conductance_density = CONDUCTANCE[kind] if conductance is None else float(conductance)
        self.reversal = REVERSAL[kind] if reversal is None else float(reversal)
        self.phi = temperature_factor(temperature)
        self._gbar = self.conductance_density * self.area  # S
        m, h, n = steady_gates(initial_voltage)
        x0 = {"na": [m, h], "k": [n], "leak": []}[kind]
        super().__init__(np.array(x0, dtype=float), lanes, scheme)

    def _rates(self, v):
        u_mV = 1e3 * (v + self.reversal)
        k = 1e3 * self.phi  # 1/ms -> 1/s
        kd = 1e6 * self.phi  # (1/ms)/mV -> (1/s)/V
        if self.kind == "na":
            (am, bm, ah, bh), (dam, dbm, dah, dbh) = sodium_rates(u_mV)
            a = np.array([am, ah]) * k
            b = np.array([am + bm, ah + bh]) * k
            da = np.array([dam, dah]) * kd
            db = np.array([dam + dbm, dah + dbh]) * kd
        else:
            (an, bn), (dan, dbn) = potassium_rates(u_mV)
            a = (k * an)[None]
            b = (k * (an + bn))[None]
            da = (kd * dan)[None]
            db = (kd * (dan + dbn))[None]
        return a, b, da, db

    def _current(self, v, x, dx):
        g = self._gbar
        if self.kind == "na":
            m, h = x
            m2 = m * m
            open_ = m2 * m * h
            if dx is not None:
                dopen = 3.0 * m2 * h * dx[0] + m2 * m * dx[1]
        elif self.kind == "k":
            n = x[0]
            n2 = n * n
            open_ = n2 * n2
            if dx is not None:
                dopen = 4.0 * n2 * n * dx[0]
        else:
            return g * v, np.full(v.shape, g)
        if dx is None:
            return g * open_ * v, None
        return g * open_ * v, g * (open_ + v * dopen)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Accepted gate variables per lane."""
        names = {"na": ("m", "h"), "k": ("n",), "leak": ()}[self.kind]
        return {name: self._x[i].copy() for i, name in enumerate(names)}


@dataclass(frozen=True)
class HodgkinHuxleyParameters:
    """The classic parameter set in SI per unit area (see the module docstring)."""

    capacitance: float = CAPACITANCE  # F/m^2
    g_na: float = CONDUCTANCE["na"]  # S/m^2
    g_k: float = CONDUCTANCE["k"]  # S/m^2
    g_leak: float = CONDUCTANCE["leak"]  # S/m^2
    e_na: float = REVERSAL["na"]  # V
    e_k: float = REVERSAL["k"]  # V
    e_leak: float = REVERSAL["leak"]  # V
    temperature: float = 6.3  # Celsius


def hodgkin_huxley_circuit(stimulus=None, area: float = 1.0, lanes: int = 1,
                           scheme: str = "bdf2", initial_voltage: float = RESTING_POTENTIAL,
                           parameters: HodgkinHuxleyParameters | None = None):
    """The squid-axon membrane patch of ``area`` (m^2; 1 = per unit area, C in F/m^2 and
    currents in A/m^2): Na and K channel branches (batteries E_Na, E_K), the leak as the
    circuit's leak, gates at steady state for ``initial_voltage`` (V)."""
    from ionslit.coupling.circuit import Branch, Circuit
    from ionslit.coupling.waveforms import Constant

    p = parameters or HodgkinHuxleyParameters()
    na = HodgkinHuxleyChannel("na", area, lanes, scheme, p.g_na, p.e_na, p.temperature,
                              initial_voltage)
    k = HodgkinHuxleyChannel("k", area, lanes, scheme, p.g_k, p.e_k, p.temperature,
                             initial_voltage)
    return Circuit(capacitance=p.capacitance * area,
                   branches=[Branch(na, p.e_na, 1, "na"), Branch(k, p.e_k, 1, "k")],
                   stimulus=stimulus if stimulus is not None else Constant(0.0),
                   leak_conductance=p.g_leak * area, leak_reversal=p.e_leak,
                   initial_voltage=initial_voltage)
