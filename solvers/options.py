"""Numerical choices of a PNPModel (SolverOptions) and the outcome of a steady solve (SteadyResult).

Dimensional options are SI; the nondimensionalisation is described in scales.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ionslit.solvers.continuation import (
    DEFAULT_MAX_STEPS,
    DEFAULT_MIN_FRACTION,
    ContinuationReport,
)
from ionslit.solvers.formulations import formulation as get_formulation


@dataclass(frozen=True)
class SolverOptions:
    """Numerical choices (the CLI builds this from [solver]; SI where dimensional).

    - ``formulation``: 'log' (u = ln c, default) or 'primitive' (u = c).
    - ``time_scheme``: 'bdf2' (variable-step, default) or 'backward_euler'.
    - ``petsc_options``: dict merged over ``petsc_options.DEFAULT_PETSC_OPTIONS`` (e.g.
      {"snes_rtol": 1e-10}); ``petsc_options_string``: CLI "-opt value ..." merged last.
    - ``length_scale`` (m, default 1 nm) and ``concentration_scale`` (mol/m^3, default the
      largest reservoir concentration of a charged species): the nondimensionalisation.
    - ``quadrature_degree``: for all forms (2: exact enough for exp(u) with P1, fast).
    - ``max_newton_step``: the limiter's cap on |du|_inf in scaled units (V_T, ln c); None: off.
    - ``max_continuation_cutbacks``: consecutive cut-backs before a steady solve gives up.
    - ``continuation_max_steps``: tries (accepted or cut back) one steady continuation may take;
      ``continuation_min_fraction``: its smallest step in s (continuation.py).
    - ``reuse`` (time steps): 'jacobian' (default: chord iterations on a lagged Jacobian and its
      LU factors, refreshed when an iteration reduces the residual by less than
      ``max_contraction``), 'lu' (GMRES on lagged LU factors with fresh Jacobians) or 'none'
      (Newton with a fresh Jacobian and LU every iteration). Steady solves always use 'none'.
      Both reuse modes converge to the same tolerances as Newton; a time step that fails with
      lagged factors is retried with fresh ones before it counts as a failure.
    - ``field_smoothing``: delta in |E| = sqrt(|grad phi|^2 + delta^2) (units V_T / L0).
    """

    formulation: Literal["log", "primitive"] = "log"
    time_scheme: Literal["bdf2", "backward_euler"] = "bdf2"
    petsc_options: Mapping[str, Any] = field(default_factory=dict)
    petsc_options_string: str = ""
    length_scale: float | None = None  # m
    concentration_scale: float | None = None  # mol/m^3
    quadrature_degree: int = 2
    max_newton_step: float | None = 5.0
    max_continuation_cutbacks: int = 10
    continuation_max_steps: int = DEFAULT_MAX_STEPS
    continuation_min_fraction: float = DEFAULT_MIN_FRACTION
    reuse: Literal["none", "lu", "jacobian"] = "jacobian"
    max_contraction: float = 0.25
    max_krylov_iterations: int = 12
    field_smoothing: float = 1e-6

    def __post_init__(self):
        if self.time_scheme not in ("bdf2", "backward_euler"):
            raise ValueError(f"time_scheme {self.time_scheme!r}: use 'bdf2' or 'backward_euler'")
        get_formulation(self.formulation)  # validates the name


@dataclass
class SteadyResult:
    """Outcome of a steady solve (SI): electrode potential (V), total currents (A) into the
    electrolyte at the left electrode and out of it at the right one, and the solve's cost."""

    voltage: float  # V
    current: float  # A
    current_right: float  # A
    newton_iterations: int
    continuation: ContinuationReport


__all__ = ["SolverOptions", "SteadyResult"]
