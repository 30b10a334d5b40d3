"""Independent reference solutions with scipy.integrate.solve_ivp (tests only).

The Hodgkin-Huxley equations are written out again here in their textbook units (mV, ms,
uA/cm^2, uF/cm^2, mS/cm^2), without using anything from ``coupling``, so an error in the
package's SI conversions or rate functions cannot cancel out. The reduced memristive neuron uses
scipy's own PCHIP (``PchipInterpolator``) on the same tables.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.interpolate import PchipInterpolator

RTOL = 1e-10


# -- Hodgkin-Huxley, textbook units ------------------------------------------------------------
G_NA, G_K, G_L = 120.0, 36.0, 0.3  # mS/cm^2
E_NA, E_K, E_L = 50.0, -77.0, -54.387  # mV
C_M = 1.0  # uF/cm^2


def _vtrap(x, y):
    """x / (exp(x / y) - 1), continuous at x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x / y) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1.0 - x / y / 2.0), safe / np.expm1(safe / y))


def hh_rates(v):
    am = 0.1 * _vtrap(-(v + 40.0), 10.0)
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    an = 0.01 * _vtrap(-(v + 55.0), 10.0)
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


def hh_steady(v):
    am, bm, ah, bh, an, bn = hh_rates(v)
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


def hh_steady_current(v):
    """Total ionic current (uA/cm^2) with the gates at steady state."""
    m, h, n = hh_steady(v)
    return G_NA * m**3 * h * (v - E_NA) + G_K * n**4 * (v - E_K) + G_L * (v - E_L)


def hh_rhs(stimulus):
    """d/dt (V, m, h, n) in mV/ms, ``stimulus(t_ms)`` in uA/cm^2."""

    def rhs(t, y):
        v, m, h, n = y
        am, bm, ah, bh, an, bn = hh_rates(v)
        i_ion = G_NA * m**3 * h * (v - E_NA) + G_K * n**4 * (v - E_K) + G_L * (v - E_L)
        return [(stimulus(t) - i_ion) / C_M, am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n]

    return rhs


def crossings(sol, threshold, rearm=None, t_from=None):
    """Upward threshold crossings of y[0] (dense output, refined by bisection) with re-arm."""
    rearm = threshold if rearm is None else rearm
    t = sol.t
    v = sol.y[0]
    out = []
    armed = v[0] < threshold
    for i in range(1, t.size):
        if armed and v[i] >= threshold > v[i - 1]:
            lo, hi = t[i - 1], t[i]
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                if sol.sol(mid)[0] < threshold:
                    lo = mid
                else:
                    hi = mid
            out.append(0.5 * (lo + hi))
            armed = False
        elif not armed and v[i] < rearm:
            armed = True
    return np.array(out)


def hh_run(stimulus, t_end_ms, v0=-65.0, threshold=0.0, rtol=RTOL, method="LSODA",
           max_step=np.inf, breaks=()):
    """Spike times (ms) of the HH membrane from rest at v0 (mV). ``breaks``: stimulus corners
    (ms), integrated piece by piece so the solver never steps over a jump."""
    y = [v0, *hh_steady(v0)]
    edges = [0.0, *sorted(b for b in breaks if 0 < b < t_end_ms), t_end_ms]
    times = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        sol = solve_ivp(hh_rhs(stimulus), (a, b), y, method=method, rtol=rtol,
                        atol=rtol * 1e-2, dense_output=True, max_step=max_step)
        assert sol.success, sol.message
        times.append(sol)
        y = sol.y[:, -1]
    spikes = []
    armed_state = None
    for sol in times:
        spikes += list(crossings(sol, threshold))
    del armed_state
    return np.array(spikes), times


# -- two-branch reduced memristive neuron (SI) ---------------------------------------------------
class ReducedReference:
    """C dU/dt = I(t) - sum_k n_k g_k (U - E_k), tau_k(V) dg_k/dt = g_inf,k(V) - g_k, V = U - E_k,
    with scipy PCHIP interpolation (constant outside the table)."""

    def __init__(self, capacitance, branches):
        self.c = capacitance
        self.branches = []
        for b in branches:
            table = b["model"]
            v = np.asarray(table["voltage_V"])
            both = PchipInterpolator(v, np.column_stack([table["g_inf_S"], table["tau_s"]]))
            self.branches.append((both, v[0], v[-1], b["battery"], b["count"]))

    def rhs(self, stimulus):
        def f(t, y):
            u = y[0]
            out = np.empty_like(y)
            i_total = 0.0
            for k, (both, lo, hi, e, n) in enumerate(self.branches):
                g_inf, tau = both(min(max(u - e, lo), hi))
                g = y[1 + k]
                i_total += n * g * (u - e)
                out[1 + k] = (g_inf - g) / tau
            out[0] = (stimulus(t) - i_total) / self.c
            return out

        return f

    def atol(self, voltage_atol=1e-12, conductance_atol=1e-21):
        """Absolute tolerances per component (V for U, S for the conductances)."""
        return np.array([voltage_atol] + [conductance_atol] * len(self.branches))

    def initial(self, u0):
        ys = [u0]
        for both, lo, hi, e, _ in self.branches:
            ys.append(float(both(min(max(u0 - e, lo), hi))[0]))
        return np.array(ys)
