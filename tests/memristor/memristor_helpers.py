"""Closed-form periodic states of the reduced model, used as references by the memristor tests.

tau dg/dt = g_inf(V(t)) - g with V = V0 sin(w t) and a constant tau answers each harmonic
e^{i m w t} of g_inf(V(t)) with 1 / (1 + i m w tau). Two shapes have a single harmonic:

- quadratic (even, unipolar): g_inf = g0 + b V^2 = g0 + b V0^2/2 (1 - cos 2wt)
  g(t) = g0 + b V0^2/2 - (b V0^2/2) (cos 2wt + 2 w tau sin 2wt) / (1 + 4 w^2 tau^2)
  each lobe: A = -integral(I dV) over a half period = (pi/8) b V0^4 * 2 w tau / (1 + 4 w^2 tau^2)
  (counterclockwise, both lobes);
- odd linear (bipolar): g_inf = g0 + a V
  g(t) = g0 + a V0 (sin wt - w tau cos wt) / (1 + w^2 tau^2)
  lobes: A+ = +(2/3) a V0^3 w tau / (1 + w^2 tau^2) (V > 0), A- = -A+.
(-integral of I dV over [0, pi] picks the sin 2wt part of g for the quadratic shape,
integral_0^pi sin^2(2x) dx = pi/2, and the cos wt part for the linear one,
integral_0^pi cos(x) sin(2x) dx = 4/3.)
"""

from __future__ import annotations

import math

import numpy as np


def quadratic_periodic_g(t, g0, b, v0, omega, tau):
    x = omega * tau
    return (g0 + 0.5 * b * v0**2
            - 0.5 * b * v0**2 * (np.cos(2 * omega * t) + 2 * x * np.sin(2 * omega * t))
            / (1 + 4 * x * x))


def quadratic_lobe_area(b, v0, omega, tau):
    x = omega * tau
    return math.pi / 8 * b * v0**4 * 2 * x / (1 + 4 * x * x)


def linear_periodic_g(t, g0, a, v0, omega, tau):
    x = omega * tau
    return g0 + a * v0 * (np.sin(omega * t) - x * np.cos(omega * t)) / (1 + x * x)


def linear_lobe_area(a, v0, omega, tau):
    x = omega * tau
    return 2.0 / 3.0 * a * v0**3 * x / (1 + x * x)


def sine_series(n_cycles, samples_per_cycle, frequency, phase_offset=0.0):
    """Times covering n_cycles periods from t = 0 (optionally shifted by a fraction of a sample,
    so that zero crossings fall between samples)."""
    n = int(n_cycles * samples_per_cycle)
    return (np.arange(n + 1) + phase_offset) / (samples_per_cycle * frequency)
