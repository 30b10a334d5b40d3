"""Calibration of a dissociation law (and K_d) against a target G(E) / G_free table.

Model: the quasi-static free fraction of A + B <-> P with equal totals c_tot (equilibrium.py),
n_f(E) = 2 / (1 + sqrt(1 + 4 / kappa(E))), kappa = K_d f(E) / c_tot, compared with the table
through the relative residuals r_i = n_f(E_i) / target_i - 1.

- ``law_kind="power"``: f = 1 + (E_eff / E0)^beta; E0 and beta fitted by Levenberg-Marquardt
  (numpy only, finite-difference Jacobian, on (ln E0, beta) and optionally ln E_sat). K_d is
  fitted as well unless given. A G(E) table at fields where pairs already break (kappa >> K_d /
  c_tot) constrains K_d only from above: the fit then keeps improving, ever so slightly, as
  K_d -> 0 with E0 -> 0 (the law degenerates into a pure power kappa ~ E^beta). The profile of
  the best sum of squares over K_d (a log grid from 1e-8 c_tot to 10 c_tot) tells the two cases
  apart: if it has an interior minimum that rises by more than ``cost_tolerance`` on both sides,
  that K_d is returned (refined jointly); otherwise the largest K_d whose best fit is within
  ``cost_tolerance`` (relative) of the best achievable one: the most dissociated zero-field
  state the data allow, which also keeps f(E), and so the kinetics' stiffness, smallest.
- ``law_kind="table"``: f_k = kappa(target_k) c_tot / K_d at the table's fields (exact through
  every point), interpolated monotonically (TableLaw); K_d given, or taken from the power fit.

``saturation`` (power only): None, a fixed E_sat (V/m), or "fit".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ionslit.solvers.kinetics.equilibrium import (
    free_fraction_from_kappa,
    kappa_from_free_fraction,
    pair_free_fraction,
    pair_zero_field_concentrations,
)
from ionslit.solvers.kinetics.laws import PowerLaw, TableLaw, read_two_columns, saturated_field
from ionslit.solvers.kinetics.mass_action import MassActionReaction


@dataclass(frozen=True)
class CalibrationResult:
    """A fitted law and K_d (SI) and how well the quasi-static free fraction meets the table."""

    law: PowerLaw | TableLaw
    dissociation_constant: float  # K_d, mol/m^3
    total_concentration: float  # c_tot, mol/m^3
    field: np.ndarray  # table fields, V/m
    target: np.ndarray  # table G / G_free
    fitted: np.ndarray  # model n_f at the table's fields
    dissociation_constant_fitted: bool
    notes: str = ""
    profile: dict[str, Any] = dataclasses.field(default_factory=dict)  # K_d profile (power, K_d fitted)

    @property
    def relative_residuals(self) -> np.ndarray:
        """fitted / target - 1 per table point."""
        return self.fitted / self.target - 1.0

    @property
    def max_relative_residual(self) -> float:
        return float(np.max(np.abs(self.relative_residuals)))

    @property
    def zero_field_free_fraction(self) -> float:
        """n_f at E = 0: 2 / (1 + sqrt(1 + 4 c_tot / K_d))."""
        return float(free_fraction_from_kappa(self.dissociation_constant
                                              / self.total_concentration))

    def zero_field_concentrations(self) -> tuple[float, float]:
        """(free ion, pair) concentrations (mol/m^3) at zero field: give the reservoirs the free
        value (pairs "equilibrium") to hold c_tot of each ion, as in the calibration."""
        return pair_zero_field_concentrations(self.total_concentration,
                                              self.dissociation_constant)

    def free_fraction(self, field) -> np.ndarray:
        """The calibrated quasi-static n_f = G / G_free at field magnitudes (V/m)."""
        return pair_free_fraction(field, self.total_concentration, self.dissociation_constant,
                                  self.law)

    def reaction(self, equation: str, association_rate: float) -> MassActionReaction:
        """The calibrated reaction (k_a in m^3/(mol s) sets the time scale, which a static
        G(E) table cannot)."""
        return MassActionReaction(equation, association_rate,
                                  dissociation_constant=self.dissociation_constant, law=self.law)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (SI)."""
        return {
            "law": self.law.describe(),
            "dissociation_constant_mol_m3": self.dissociation_constant,
            "dissociation_constant_fitted": self.dissociation_constant_fitted,
            "total_concentration_mol_m3": self.total_concentration,
            "zero_field_free_fraction": self.zero_field_free_fraction,
            "zero_field_free_concentration_mol_m3": self.zero_field_concentrations()[0],
            "field_V_m": self.field.tolist(),
            "target_ratio": self.target.tolist(),
            "fitted_ratio": self.fitted.tolist(),
            "relative_residuals": self.relative_residuals.tolist(),
            "max_relative_residual": self.max_relative_residual,
            "notes": self.notes,
        }


# -- a small Levenberg-Marquardt (numpy only) -------------------------------------------------
def least_squares(residuals: Callable[[np.ndarray], np.ndarray], start: Sequence[float] | np.ndarray,
                  max_iterations: int = 500, tolerance: float = 1e-14
                  ) -> tuple[np.ndarray, float]:
    """Minimise |residuals(p)|^2 from ``start`` (Levenberg-Marquardt with a forward-difference
    Jacobian and Marquardt's diagonal scaling); returns (p, cost = sum of squares)."""
    p = np.array(start, dtype=float)
    r = residuals(p)
    cost = float(r @ r) if np.all(np.isfinite(r)) else math.inf
    if not math.isfinite(cost):
        raise ValueError("least_squares: the residuals are not finite at the start")
    damping = 1e-3
    for _ in range(max_iterations):
        J = np.empty((r.size, p.size))
        for k in range(p.size):
            h = 1e-7 * max(1.0, abs(p[k]))
            q = p.copy()
            q[k] += h
            J[:, k] = (residuals(q) - r) / h
        g, A = J.T @ r, J.T @ J
        diag = np.maximum(np.diag(A), 1e-300)
        improved = False
        while damping < 1e16:
            step = np.linalg.solve(A + damping * np.diag(diag), -g)
            trial = p + step
            r_trial = residuals(trial)
            cost_trial = float(r_trial @ r_trial) if np.all(np.isfinite(r_trial)) else math.inf
            if cost_trial < cost:
                improved = True
                break
            damping *= 10.0
        if not improved:
            break
        decrease = cost - cost_trial
        p, r, cost = trial, r_trial, cost_trial
        damping = max(damping / 10.0, 1e-12)
        if decrease <= tolerance * max(cost, 1e-300) or np.max(np.abs(step)) < 1e-13:
            break
    return p, cost


# -- the fits -----------------------------------------------------------------------------
def _check_table(field_values, ratio) -> tuple[np.ndarray, np.ndarray]:
    E = np.asarray(field_values, dtype=float).ravel()
    g = np.asarray(ratio, dtype=float).ravel()
    if E.size != g.size or E.size < 2:
        raise ValueError("calibration table: give as many ratios as fields (at least two)")
    if np.any(E <= 0) or np.any(np.diff(E) <= 0):
        raise ValueError("calibration table: fields must be > 0 and strictly increasing")
    if np.any(g <= 0) or np.any(g >= 1):
        raise ValueError("calibration table: G / G_free must lie strictly between 0 and 1")
    return E, g


class _PowerFit:
    """Residuals of the power law for a fixed kappa0 = K_d / c_tot."""

    def __init__(self, E, g, saturation, saturation_exponent):
        self.E, self.g = E, g
        self.saturation = saturation  # None, float or "fit"
        self.m = saturation_exponent

    def n_parameters(self) -> int:
        return 3 if self.saturation == "fit" else 2

    def effective_field(self, p):
        if self.saturation is None:
            return self.E
        e_sat = np.exp(min(p[2], 700.0)) if self.saturation == "fit" else self.saturation
        return saturated_field(self.E, e_sat, self.m)

    def residuals(self, ln_kappa0: float, p) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            kappa = np.exp(ln_kappa0) * (1.0 + (self.effective_field(p) / np.exp(p[0]))
                                         ** p[1])
            return free_fraction_from_kappa(kappa) / self.g - 1.0

    def start(self, ln_kappa0: float) -> np.ndarray:
        """ln E0, beta from a straight line through ln(kappa_i / kappa0 - 1) vs ln E_i."""
        kappa = kappa_from_free_fraction(self.g) / math.exp(ln_kappa0)
        usable = kappa > 1.5
        if np.count_nonzero(usable) >= 2:
            beta, intercept = np.polyfit(np.log(self.E[usable]), np.log(kappa[usable] - 1.0), 1)
            beta = float(np.clip(beta, 0.5, 20.0))
            p = [-intercept / beta if beta > 0 else math.log(np.median(self.E)), beta]
        else:
            p = [math.log(np.median(self.E)), 4.0]
        if self.saturation == "fit":
            p.append(math.log(2.0 * self.E[-1]))
        return np.array(p, dtype=float)

    def fit(self, ln_kappa0: float, start=None, multistart: bool = True
            ) -> tuple[np.ndarray, float]:
        starts = [self.start(ln_kappa0)] if start is None else [np.asarray(start, dtype=float)]
        if self.saturation == "fit" and multistart:
            # The saturation field has local minima (E_sat -> infinity is a valley): several
            # starts from just below to well above the table's largest field.
            base = self.start(ln_kappa0)
            for factor in (0.8, 1.2, 2.0, 5.0):
                starts.append(np.concatenate([base[:2], [math.log(factor * self.E[-1])]]))
        best = None
        for p0 in starts:
            p, cost = least_squares(lambda p: self.residuals(ln_kappa0, p), p0)
            if best is None or cost < best[1]:
                best = (p, cost)
        assert best is not None  # there is at least one start
        return best

    def fit_joint(self, ln_kappa0: float, start) -> tuple[float, np.ndarray, float]:
        q, cost = least_squares(lambda q: self.residuals(q[0], q[1:]),
                                np.concatenate([[ln_kappa0], start]))
        return float(q[0]), q[1:], cost


def calibrate(table_field, table_ratio, law_kind: str = "power", *,
              total_concentration: float, dissociation_constant: float | None = None,
              saturation: float | str | None = None, saturation_exponent: float = 4.0,
              cost_tolerance: float = 0.1, interpolation: str = "pchip") -> CalibrationResult:
    """Fit the dissociation law (and K_d) so that the quasi-static free fraction of A + B <-> P
    with equal totals ``total_concentration`` (mol/m^3) matches ``table_ratio`` = G / G_free at
    ``table_field`` (V/m); see the module docstring. Returns a CalibrationResult (law, K_d in
    mol/m^3, per-point relative residuals)."""
    E, g = _check_table(table_field, table_ratio)
    if not total_concentration > 0:
        raise ValueError("total_concentration (mol/m^3) must be > 0")
    if law_kind == "table":
        return _calibrate_table(E, g, total_concentration, dissociation_constant, interpolation,
                                cost_tolerance)
    if law_kind != "power":
        raise ValueError(f"calibration fits 'power' or 'table' laws, not {law_kind!r}")
    if isinstance(saturation, str) and saturation != "fit":
        raise ValueError("saturation: None, a field (V/m) or 'fit'")
    fit = _PowerFit(E, g, saturation, saturation_exponent)
    profile: dict[str, Any] = {}
    if dissociation_constant is not None:
        ln_kappa0 = math.log(dissociation_constant / total_concentration)
        p, cost = fit.fit(ln_kappa0)
        notes = "K_d given; E0 and beta fitted"
    else:
        grid = np.log(10.0) * np.arange(-8.0, 1.0001, 0.25)  # ln(K_d / c_tot)
        sweep_costs, params = [], []
        start = None
        for ln_k in grid:
            p, cost = fit.fit(ln_k, start)
            sweep_costs.append(cost)
            params.append(p)
            start = p
        # A second sweep downwards, warm-started the other way, to avoid local stalls.
        for k in range(len(grid) - 2, -1, -1):
            p, cost = fit.fit(grid[k], params[k + 1], multistart=False)
            if cost < sweep_costs[k]:
                sweep_costs[k], params[k] = cost, p
        costs = np.array(sweep_costs)
        best = int(np.argmin(costs))
        threshold = (1.0 + cost_tolerance) * costs[best]
        interior = (0 < best < len(grid) - 1 and np.any(costs[:best] > threshold)
                    and np.any(costs[best + 1:] > threshold))
        profile = {"ln_kappa0": grid.tolist(), "cost": costs.tolist(), "best_index": best}
        if interior:
            ln_kappa0, p, cost = fit.fit_joint(grid[best], params[best])
            notes = "K_d, E0 and beta fitted jointly (the K_d profile has an interior minimum)"
        else:
            # Largest K_d within the tolerance: bisect between the last grid point inside and
            # the first one outside (above the optimum).
            inside = best + int(np.max(np.nonzero(costs[best:] <= threshold)[0]))
            ln_kappa0, p, cost = grid[inside], params[inside], costs[inside]
            if inside + 1 < len(grid):
                lo, hi, p_lo = grid[inside], grid[inside + 1], params[inside]
                for _ in range(40):
                    mid = 0.5 * (lo + hi)
                    p_mid, c_mid = fit.fit(mid, p_lo, multistart=False)
                    if c_mid <= threshold:
                        lo, p_lo, ln_kappa0, p, cost = mid, p_mid, mid, p_mid, c_mid
                    else:
                        hi = mid
                    if hi - lo < 1e-6:
                        break
            notes = (f"the table constrains K_d only from above: K_d is the largest value whose "
                     f"best fit has a sum of squared relative residuals within "
                     f"{cost_tolerance:.0%} of the best achievable ({costs[best]:.3g}); "
                     "pass dissociation_constant to fix it otherwise")
    E_sat = None
    if saturation == "fit":
        E_sat = math.exp(p[2])
    elif saturation is not None:
        E_sat = float(saturation)
    law = PowerLaw(math.exp(p[0]), float(p[1]), E_sat, saturation_exponent)
    K_d = float(dissociation_constant) if dissociation_constant is not None \
        else math.exp(ln_kappa0) * total_concentration
    fitted = pair_free_fraction(E, total_concentration, K_d, law)
    return CalibrationResult(law, K_d, total_concentration, E, g, fitted,
                             dissociation_constant is None, notes, profile)


def _calibrate_table(E, g, total_concentration, dissociation_constant, interpolation,
                     cost_tolerance) -> CalibrationResult:
    fitted_kd = dissociation_constant is None
    if fitted_kd:
        dissociation_constant = calibrate(E, g, "power", total_concentration=total_concentration,
                                          cost_tolerance=cost_tolerance).dissociation_constant
    f = kappa_from_free_fraction(g) * total_concentration / dissociation_constant
    if np.any(f < 1.0):
        largest = float(np.min(kappa_from_free_fraction(g))) * total_concentration
        raise ValueError(f"K_d = {dissociation_constant:g} mol/m^3 is too large for this table: "
                         f"it would need f < 1 at {E[f < 1].tolist()} V/m (the largest usable "
                         f"K_d is {largest:g})")
    law = TableLaw(tuple(E), tuple(f), interpolation)
    fitted = pair_free_fraction(E, total_concentration, dissociation_constant, law)
    notes = "table through every point; K_d " + ("from the power-law fit" if fitted_kd
                                                 else "given")
    return CalibrationResult(law, dissociation_constant, total_concentration, E, g, fitted,
                             fitted_kd, notes)


def read_calibration_table(path) -> tuple[np.ndarray, np.ndarray]:
    """(E in V/m, G / G_free) from a CSV such as data/wien_2d_divalent.csv."""
    return read_two_columns(path)


__all__ = ["CalibrationResult", "calibrate", "least_squares", "read_calibration_table"]
