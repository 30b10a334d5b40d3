"""Steady continuation: its step budget, its smallest step and its monitor, on a scalar stand-in
model (exact, instant) and on a small PNP model (the options reach the continuation)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from solver_helpers import kcl, uniform_interval

from ionslit.solvers import Boundary, PNPModel, SolverDivergedError, SolverOptions
from ionslit.solvers.continuation import continuation
from ionslit.solvers.nonlinear import NewtonReport


class Jumper:
    """A stand-in model whose "Newton solve" converges when the parameter moves by at most
    ``max_jump`` from the last converged value (``iterations`` then), and fails otherwise
    (DIVERGED_MAX_IT after 1 iteration)."""

    def __init__(self, max_jump: float, iterations: int = 2):
        self.max_jump, self.iterations = max_jump, iterations
        self.value = 0.0

    def solve_at(self, parameters: Mapping, context: str) -> NewtonReport:
        new = parameters[("V",)]
        if abs(new - self.value) > self.max_jump:
            raise SolverDivergedError("DIVERGED_MAX_IT", iterations=1, context=context)
        self.value = new
        return NewtonReport(self.iterations, self.iterations, "CONVERGED_FNORM_RELATIVE", 0.0)

    def save_state(self) -> float:
        return self.value

    def restore_state(self, saved: float) -> None:
        self.value = saved


START, TARGET = {("V",): 0.0}, {("V",): 1.0}


def describe(parameters: Mapping) -> str:
    return f"V={parameters[('V',)]:.4g} V"


def test_monitor_sees_every_try():
    """Tries s = 1 (fails), 1/2 (fails), 1/4, 1/2, 1 (fails), 3/4, 1: the monitor gets the s
    reached after each try, the tries so far and the try's Newton iterations."""
    calls = []
    path = continuation(Jumper(0.3), START, TARGET,
                        on_try=lambda s, step, iterations: calls.append((s, step, iterations)))
    assert calls == [(0.0, 1, 1), (0.0, 2, 1), (0.25, 3, 2), (0.5, 4, 2), (0.5, 5, 1),
                     (0.75, 6, 2), (1.0, 7, 2)]
    assert path.steps == [0.25, 0.5, 0.75, 1.0] and path.cutbacks == 3 and path.tries == 7


def test_step_budget_stops_with_the_last_converged_parameters():
    """Steps of at most 1/16 need more than 10 tries to reach s = 1."""
    with pytest.raises(SolverDivergedError) as info:
        continuation(Jumper(0.07), START, TARGET, max_cutbacks=50, describe=describe,
                     max_steps=10)
    error, text = info.value, str(info.value)
    assert error.reason == "continuation_max_steps"
    # Tries: 1, 1/2, 1/4, 1/8 fail; 1/16, 1/8 converge; 1/4 fails; 3/16, 1/4 converge; 3/8 fails.
    assert "used its 10 steps (6 cut back)" in text and "could not reach V=1 V" in text
    assert "last converged at V=0.25 V" in text
    assert "DIVERGED_MAX_IT" in text and "raise continuation_max_steps" in text
    assert "-snes_max_it" in text
    # The same path within a large enough budget reaches the target.
    assert continuation(Jumper(0.07), START, TARGET, max_cutbacks=50).steps[-1] == 1.0


def test_smallest_fraction_stops_the_cut_backs():
    """Jumps of at most 1e-3 need steps of 2^-10; halving from 1 passes 0.01 at 2^-7."""
    with pytest.raises(SolverDivergedError) as info:
        continuation(Jumper(1e-3), START, TARGET, max_cutbacks=50, describe=describe,
                     min_fraction=0.01)
    error, text = info.value, str(info.value)
    assert error.reason == "continuation_min_fraction"
    assert "below continuation_min_fraction = 0.01" in text and "after 7 steps" in text
    assert "last converged at V=0 V" in text and "lower continuation_min_fraction" in text
    assert "DIVERGED_MAX_IT after 1 Newton iterations" in text


def test_consecutive_cut_backs_still_stop_first():
    """``max_cutbacks`` keeps its meaning: 3 cut-backs in a row end the solve with the SNES
    reason, before the step (1/16) reaches the smallest fraction."""
    with pytest.raises(SolverDivergedError) as info:
        continuation(Jumper(1e-3), START, TARGET, max_cutbacks=3, min_fraction=1e-6)
    assert info.value.reason == "DIVERGED_MAX_IT" and "consecutive cut-backs" in str(info.value)


NEVER_CONVERGES = "-snes_max_it 1 -snes_rtol 1e-14 -snes_atol 1e-30 -snes_stol 0"


@pytest.mark.parametrize("limits, reason", [
    ({"continuation_max_steps": 3}, "continuation_max_steps"),
    ({"continuation_min_fraction": 0.1}, "continuation_min_fraction"),
])
def test_model_options_reach_the_continuation(comm, limits, reason):
    """SolverOptions' limits stop a PNP continuation whose Newton solves never converge; its
    monitor (``on_continuation_try``) saw every try."""
    options = SolverOptions(petsc_options_string=NEVER_CONVERGES, max_continuation_cutbacks=20,
                            **limits)
    model = PNPModel(uniform_interval(comm), kcl(10.0), Boundary(), options)
    model.solve_steady(0.0)  # the cold start converges in one iteration (uniform reservoirs)
    calls = []
    model.on_continuation_try = lambda s, step, iterations: calls.append((s, step, iterations))
    with pytest.raises(SolverDivergedError) as info:
        model.solve_steady(0.5)
    assert info.value.reason == reason
    assert "last converged at V=0 V" in str(info.value)
    tries = 3 if reason == "continuation_max_steps" else 4  # 1, 1/2, 1/4, 1/8 (< 0.1 after it)
    assert calls == [(0.0, k, 1) for k in range(1, tries + 1)]
