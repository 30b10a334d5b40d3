"""Independent 1D nonlinear Poisson-Boltzmann solutions with scipy (no dolfinx), for checks.

Half a slit [0, h/2] (midplane y = 0, wall y = h/2) in equilibrium with a bulk reservoir at
phi = 0: eps phi'' = -F sum_i z_i c_i exp(-z_i phi / V_T), phi'(0) = 0, eps phi'(h/2) = sigma
(sigma on the wall; eps dphi/dn = sigma with n the electrolyte's outward normal).
"""

import numpy as np
from scipy.integrate import solve_bvp

FARADAY = 96485.33212331001  # C/mol
GAS = 8.31446261815324  # J/(mol K)
EPS0 = 8.8541878188e-12  # F/m


def slit_potential(height, sigma, valences, concentrations, temperature=298.15,
                   relative_permittivity=78.4, points=2001):
    """Return (y (m, 0 = midplane .. h/2 = wall), phi (V)) for a symmetric slit."""
    vt = GAS * temperature / FARADAY
    eps = EPS0 * relative_permittivity
    z = np.asarray(valences, dtype=float)
    c = np.asarray(concentrations, dtype=float)
    strength = 0.5 * np.sum(z * z * c)
    lam = np.sqrt(eps * vt / (2 * FARADAY * strength))
    half = 0.5 * height / lam  # scaled half-height, lengths in lambda_D, phi in V_T
    g = sigma * lam / (eps * vt)  # scaled wall field

    def rhs(s, y):
        psi, dpsi = y
        charge = np.sum((z * c)[:, None] * np.exp(-z[:, None] * psi[None, :]), axis=0)
        return np.vstack([dpsi, -charge / (2 * strength)])

    def bc(ya, yb):
        return np.array([ya[1], yb[1] - g])

    s = np.linspace(0.0, half, points)
    guess_wall = 2 * np.arcsinh(g / 2)  # single-wall Grahame estimate
    y0 = np.vstack([guess_wall * np.cosh(s) / np.cosh(half), guess_wall * np.sinh(s)
                    / np.cosh(half)])
    sol = solve_bvp(rhs, bc, s, y0, tol=1e-10, max_nodes=200000)
    if not sol.success:
        raise RuntimeError(f"solve_bvp failed: {sol.message}")
    fine = np.linspace(0.0, half, points)
    return fine * lam, sol.sol(fine)[0] * vt


def cross_section_conductance(height, sigma, valences, diffusivities, concentrations,
                              temperature=298.15, relative_permittivity=78.4):
    """G L per unit depth (S m / m = S): (F^2 / R T) int sum_i z_i^2 D_i c_i(y) dy over the
    whole height, with Boltzmann c_i = c_i,bulk exp(-z_i phi / V_T)."""
    y, phi = slit_potential(height, sigma, valences, concentrations, temperature,
                            relative_permittivity)
    vt = GAS * temperature / FARADAY
    z, d, c = (np.asarray(a, dtype=float) for a in (valences, diffusivities, concentrations))
    local = np.sum((z * z * d * c)[:, None] * np.exp(-z[:, None] * phi[None, :] / vt), axis=0)
    return 2 * FARADAY**2 / (GAS * temperature) * np.trapezoid(local, y)
