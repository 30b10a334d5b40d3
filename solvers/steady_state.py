"""Steady states of a PNPModel: parameter continuation (continuation.py) from the last steady
state, or from the cold start (initial_guess.py), in voltage mode or under a current clamp.
Voltages in V, currents in A; the continuation parameters are scaled (scales.py).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ionslit.solvers.continuation import (
    ContinuationReport,
    continuation,
    describe_parameters,
)
from ionslit.solvers.model_members import ModelMembers
from ionslit.solvers.nonlinear import SolverDivergedError
from ionslit.solvers.options import SteadyResult


class SteadySolves(ModelMembers):
    """The steady half of PNPModel (a base class of it; the model's members it uses are
    declared in model_members.py, set by model.py)."""

    def _set_steady_mode(self) -> None:
        self._active_solver().reuse = "none"
        for b in self.parameters.bdf:
            b.value = np.asarray(0.0)
        for name, reg in self.parameters.steady_regularisation.items():
            reg.value = np.asarray(1.0 if name in self._steady_pivots else 0.0)
        self.history[0].x.array[:] = self.state.x.array  # immobile species stay where they are
        self.history[1].x.array[:] = self.state.x.array

    def _steady(self, target: dict) -> ContinuationReport:
        self._set_steady_mode()
        total = ContinuationReport()
        if self._converged_parameters is None:
            # Cold start: first the uncharged, zero-voltage state (reservoir values at target).
            start = {k: (v if k[0] == "u" else 0.0) for k, v in target.items()}
            if self.clamped:
                start.pop(("I",), None)
            self.parameters.assign(start)
            try:
                report = self.solve_at(start, context="cold start")
            except SolverDivergedError:
                self._cold_start()  # leave the initial guess, not a failed iterate
                raise
            total.newton_iterations += report.iterations
            total.reports.append(report)
            self._converged_parameters = self.parameters.continuation_values()
        start = dict(self._converged_parameters)
        if self.clamped:
            start[("I",)] = self._current_scaled()
            target = {k: v for k, v in target.items() if k[0] != "V"}
        options = self.options
        path = continuation(self, start, target, options.max_continuation_cutbacks,
                            describe=partial(describe_parameters, scales=self.scales,
                                             current_scale=self.observables.current_scale),
                            max_steps=options.continuation_max_steps,
                            min_fraction=options.continuation_min_fraction,
                            on_try=self.on_continuation_try)
        total.steps, total.cutbacks = path.steps, path.cutbacks
        total.newton_iterations += path.newton_iterations
        total.reports += path.reports
        self._converged_parameters = self.parameters.continuation_values()
        self._accept_steady()
        return total

    def solve_steady(self, voltage: float = 0.0) -> SteadyResult:
        """Steady state with the driven electrode at ``voltage`` (V) and the current targets
        (surface charges/potentials, reservoir concentrations), by continuation from the last
        steady state (or from a cold start)."""
        if self.boundary.left is None and voltage != 0.0:
            raise ValueError("this model has no driven (left) electrode: only voltage = 0")
        if self.clamped:
            self.release_clamp()
        target = dict(self._targets)
        target[("V",)] = voltage / self.scales.potential
        path = self._steady(target)
        return self._steady_result(path)

    def solve_steady_clamped(self, current: float = 0.0) -> SteadyResult:
        """Steady state with the total current through the electrodes fixed at ``current`` (A);
        the driven electrode's potential is then an unknown (0 A: the zero-current potential)."""
        if self._converged_parameters is None:
            self.solve_steady(self.voltage)
        self.clamp_current(current)
        target = dict(self._targets)
        target[("I",)] = current / self.observables.current_scale
        path = self._steady(target)
        return self._steady_result(path)

    def clamp_current(self, current: float) -> None:
        """Switch to current-clamp mode with total current ``current`` (A) for later solves."""
        self.clamp.voltage_from_model()
        self.clamp.set_target(current / self.observables.current_scale)
        self.clamped = True

    def release_clamp(self) -> None:
        """Back to voltage mode (the electrode keeps its present potential)."""
        self.clamped = False

    def _current_scaled(self) -> float:
        currents = self.observables.electrode_currents()
        return currents["current_A"] / self.observables.current_scale

    def _accept_steady(self) -> None:
        self.last_currents = self.observables.electrode_currents()
        q = self.observables.electrode_charges_scaled()
        for side in ("left", "right"):
            self._charge_history[side] = [q[side], q[side]]
        for h in self.history:
            h.x.array[:] = self.state.x.array
        self._levels = 1
        self._dt_prev = None

    def _steady_result(self, path: ContinuationReport) -> SteadyResult:
        c = self.last_currents
        return SteadyResult(self.voltage, c["current_A"], c["current_right_A"],
                            path.newton_iterations, path)
