"""Steady solves by parameter continuation with cut-back on divergence.

The parameters (applied voltage, surface charges and potentials, reservoir values, or the clamp
current) move along the straight line from the last converged values to the target,
s in [0, 1]. The first try is the whole way (with the log formulation and the step limiter one
jump usually works); a divergence restores the last converged state and halves the step; a
success lets the next step grow again. The solve gives up with a SolverDivergedError that says
where it stalled, and which limit stopped it, after ``max_cutbacks`` consecutive cut-backs, after
``max_steps`` tries (accepted or cut back) short of the target, or when a cut-back would make the
step in s smaller than ``min_fraction``. ``on_try`` (a ContinuationMonitor) sees every try.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ionslit.solvers.nonlinear import NewtonReport, SolverDivergedError
from ionslit.solvers.scales import Scales

#: Default budget of tries (accepted or cut back) of one continuation.
DEFAULT_MAX_STEPS = 100
#: Default smallest step in s (the fraction of the way from start to target).
DEFAULT_MIN_FRACTION = 1e-6

#: Called after every try with (s reached so far, tries so far, Newton iterations of the try).
ContinuationMonitor = Callable[[float, int, int], None]


class ContinuationTarget(Protocol):
    """What the continuation needs from a model."""

    def solve_at(self, parameters: Mapping, context: str) -> NewtonReport: ...

    def save_state(self) -> Any: ...

    def restore_state(self, saved: Any) -> None: ...


@dataclass
class ContinuationReport:
    """The path a continuation took."""

    steps: list[float] = field(default_factory=list)  # accepted values of s
    newton_iterations: int = 0
    cutbacks: int = 0
    reports: list[NewtonReport] = field(default_factory=list)

    @property
    def tries(self) -> int:
        """Newton solves tried so far: accepted steps plus cut-backs."""
        return len(self.steps) + self.cutbacks


def interpolate(start: Mapping, target: Mapping, s: float) -> dict:
    """(1 - s) start + s target, key by key (keys missing from ``start`` jump to the target)."""
    return {k: (1 - s) * start.get(k, v) + s * v for k, v in target.items()}


def describe_parameters(parameters: Mapping, scales: Scales, current_scale: float) -> str:
    """The SI values of scaled continuation parameters, for messages: keys ("V",), ("I",),
    ("sigma", wall), ("zeta", wall); ``current_scale``: A per unit scaled current."""
    parts = []
    for key, value in parameters.items():
        if key[0] == "V":
            parts.append(f"V={value * scales.potential:.4g} V")
        elif key[0] == "I":
            parts.append(f"I={value * current_scale:.4g} A")
        elif key[0] == "sigma":
            parts.append(f"sigma[{key[1]}]={value * scales.surface_charge:.4g} C/m^2")
        elif key[0] == "zeta":
            parts.append(f"zeta[{key[1]}]={value * scales.potential:.4g} V")
    return ", ".join(parts) or "the initial state"


def _limit_error(limit: str, stop: str, hint: str, target: str, converged: str,
                 failure: SolverDivergedError | None) -> SolverDivergedError:
    """The error of a continuation stopped by ``limit`` (the option's name); ``failure``: the
    Newton failure of its last failed try, if any."""
    last = "" if failure is None else f"; its last failed try ended with {failure.reason}" + (
        "" if failure.iterations is None else f" after {failure.iterations} Newton iterations")
    return SolverDivergedError(
        limit, context=stop,
        message=f"could not reach {target}; last converged at {converged}{last}. To go further: "
                f"{hint} ([solver] of a case file), or loosen the Newton solve (PETSc options "
                f"such as -snes_max_it: --petsc or [solver.petsc])")


def continuation(model: ContinuationTarget, start: Mapping, target: Mapping,
                 max_cutbacks: int = 10, growth: float = 2.0,
                 describe: Callable[[Mapping], str] = str, max_steps: int = DEFAULT_MAX_STEPS,
                 min_fraction: float = DEFAULT_MIN_FRACTION,
                 on_try: ContinuationMonitor | None = None) -> ContinuationReport:
    """Move the converged state at ``start`` to the one at ``target``; see the module docstring."""
    report = ContinuationReport()
    saved = model.save_state()
    s, ds, consecutive = 0.0, 1.0, 0
    failure: SolverDivergedError | None = None
    while s < 1.0:
        if report.tries >= max_steps:
            raise _limit_error(
                "continuation_max_steps",
                f"continuation used its {max_steps} steps ({report.cutbacks} cut back) and "
                f"stopped at s={s:.4g} (step {ds:.3g})",
                "raise continuation_max_steps", describe(target),
                describe(interpolate(start, target, s)), failure)
        s_try = min(1.0, s + ds)
        parameters = interpolate(start, target, s_try)
        try:
            newton = model.solve_at(parameters, context=f"continuation s={s_try:.4g}")
        except SolverDivergedError as error:
            model.restore_state(saved)
            consecutive += 1
            report.cutbacks += 1
            failure = error
            if on_try is not None:
                on_try(s, report.tries, error.iterations or 0)
            if consecutive > max_cutbacks:
                raise SolverDivergedError(
                    error.reason, iterations=error.iterations, residual_norm=error.residual_norm,
                    context=f"continuation stalled at s={s:.4g} (step {ds:.3g}) after "
                            f"{consecutive - 1} consecutive cut-backs",
                    message=f"could not reach {describe(target)}; last converged at "
                            f"{describe(interpolate(start, target, s))}") from error
            ds *= 0.5
            if ds < min_fraction:
                raise _limit_error(
                    "continuation_min_fraction",
                    f"continuation stopped at s={s:.4g} after {report.tries} steps: the next "
                    f"step {ds:.3g} is below continuation_min_fraction = {min_fraction:.3g}",
                    "lower continuation_min_fraction", describe(target),
                    describe(interpolate(start, target, s)), failure) from error
            continue
        s = s_try
        saved = model.save_state()
        report.steps.append(s)
        report.reports.append(newton)
        report.newton_iterations += newton.iterations
        if on_try is not None:
            on_try(s, report.tries, newton.iterations)
        if consecutive == 0:
            ds *= growth
        consecutive = 0
    return report
