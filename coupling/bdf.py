"""Variable-step BDF1/BDF2 coefficients, shared by the circuit and the providers.

dy/dt at t_{n+1} ~ b0 y_{n+1} + b1 y_n + b2 y_{n-1}, step h = t_{n+1} - t_n, ratio
w = h / h_prev:

- order 1 (backward Euler): b0 = 1/h, b1 = -1/h, b2 = 0;
- order 2 (BDF2): b0 = (1 + 2w) / ((1 + w) h), b1 = -(1 + w) / h, b2 = w^2 / ((1 + w) h).

Local errors (y_{n+1} - y(t_{n+1}) for exact past values): order 1: (h^2 / 2) y'';
order 2: h^3 (1 + w)^2 / (6 w (1 + 2w)) y''' (= 2/9 h^3 y''' at w = 1). The step ratio must stay
below 1 + sqrt(2) for zero stability of variable-step BDF2 (the integrator caps it at 2).
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("be", "bdf2")


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"time scheme {scheme!r} is not one of {SCHEMES}")
    return scheme


def orders(scheme: str, levels: np.ndarray) -> np.ndarray:
    """Order per lane: 2 under 'bdf2' once two accepted levels exist (levels >= 2), else 1."""
    if scheme == "be":
        return np.ones_like(levels)
    return np.where(levels >= 2, 2, 1)


def coefficients(second, dt: np.ndarray, dt_prev: np.ndarray):
    """(b0, b1, b2) per lane; ``second``: boolean (per lane or one for all), BDF2 where True
    (else backward Euler)."""
    if np.ndim(second) == 0 or second.all() or not second.any():
        inv = 1.0 / dt
        if not np.all(second):
            return inv, -inv, np.zeros_like(dt)
        w = dt / dt_prev
        w1 = 1.0 + w
        return (1.0 + 2.0 * w) / w1 * inv, -w1 * inv, w * w / w1 * inv
    w = dt / np.where(second, dt_prev, dt)
    inv = 1.0 / dt
    b0 = np.where(second, (1.0 + 2.0 * w) / (1.0 + w) * inv, inv)
    b1 = np.where(second, -(1.0 + w) * inv, -inv)
    b2 = np.where(second, w * w / (1.0 + w) * inv, 0.0)
    return b0, b1, b2
