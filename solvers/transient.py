"""Time steps of a PNPModel: the transient provider protocol and the model's time levels.

A step from the accepted level at ``time`` (s) to ``time + dt`` is tried (``try_step``), then
accepted or rejected; backward Euler on the first step after a (re)start, else variable-step BDF2
if the scheme is 'bdf2' (ionslit.coupling.bdf.bdf_coefficients). The electrode charges
of the two last levels give the displacement current (observables.py). ``snapshot``/``restore``
hold everything a transient needs to continue (checkpoints, roll-back of a coupled simulation);
``initialize`` sets the accepted level from SI fields (initial data of a transient, a restart).
Currents in A, voltages in V, times in s; the state arrays are scaled (scales.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import dolfinx
import numpy as np

from ionslit.coupling.bdf import bdf_coefficients
from ionslit.solvers.model_members import ModelMembers
from ionslit.solvers.nonlinear import NewtonReport, SolverDivergedError


class TransientSteps(ModelMembers):
    """The transient half of PNPModel (a base class of it; the model's members it uses are
    declared in model_members.py, set by model.py)."""

    def _start_time_levels(self) -> None:
        """No accepted level yet: time 0 s, no step history, no pending step."""
        self.time = 0.0
        self._dt_prev: float | None = None
        self._levels = 0  # accepted time levels available for BDF (0: cold, 1: BE, 2: BDF2)
        self._charge_history = {"left": [0.0, 0.0], "right": [0.0, 0.0]}  # Q^n, Q^{n-1} scaled
        self._pending: dict | None = None
        self.last_currents: dict[str, float] = {}
        self._converged_parameters: dict | None = None

    def initialize(self, potential=None, concentrations: Mapping | None = None,
                   voltage: float = 0.0, time: float = 0.0) -> None:
        """Set the state from SI fields and make it the accepted level at ``time`` (s), e.g. the
        initial data of a transient or a restart. ``potential`` (V) and ``concentrations``
        (name -> mol/m^3) are callables x -> values (x: array (3, n) in m) or P1 Functions; the
        driven electrode is at ``voltage`` (V). Unspecified fields keep their values."""
        sc = self.scales
        self.parameters.electrode_potential.value = np.asarray(voltage / sc.potential)
        scratch = dolfinx.fem.Function(self.scalar_space)

        def values(data):  # callable or Function -> nodal values on the P1 space
            scratch.interpolate(data)
            return scratch.x.array.copy()

        if potential is not None:
            phi = values(potential) / sc.potential
            if self.left_indicator is not None:
                phi -= (voltage / sc.potential) * self.left_indicator.x.array
            self.state.x.array[self.field_dofs[0]] = phi
        names = [s.name for s in self.species]
        for name, data in (concentrations or {}).items():
            k = 1 + names.index(name)
            self.state.x.array[self.field_dofs[k]] = self.formulation.unknown(
                values(data) / sc.concentration)
        self.state.x.scatter_forward()
        targets = dict(self._targets)
        targets[("V",)] = voltage / sc.potential
        self.parameters.assign(targets)
        self._converged_parameters = self.parameters.continuation_values()
        self._set_steady_mode()
        self._accept_steady()
        self.time = time

    def bdf_coefficients(self, dt: float) -> tuple[float, float, float]:
        """Scaled (1/t^) coefficients b0, b1, b2 of dc/dt ~ b0 c + b1 c^n + b2 c^{n-1} for a
        step ``dt`` (s): backward Euler on the first step after a (re)start, else variable-step
        BDF2 (ratio w = dt / dt_prev) if the scheme is 'bdf2'."""
        order = 2 if (self.options.time_scheme == "bdf2" and self._levels >= 2) else 1
        return bdf_coefficients(order, dt / self.scales.time,
                                None if self._dt_prev is None else self._dt_prev / self.scales.time)

    def try_step(self, dt: float, voltage: float | None = None) -> float:
        """Solve the step from the accepted state at ``self.time`` to ``self.time + dt`` (s) with
        the driven electrode at ``voltage`` (V; None keeps the present one; ignored under a
        current clamp). Returns the total current (A) into the electrolyte at the driven
        electrode. Raises SolverDivergedError (state restored) when Newton fails; call
        ``accept()`` or ``reject()`` afterwards (a rejected step can be tried again with another
        dt or voltage, e.g. by an implicit circuit iteration)."""
        if self._converged_parameters is None:
            raise RuntimeError("time stepping starts from a steady state: call solve_steady first")
        if not dt > 0:
            raise ValueError(f"time step {dt} s must be > 0")
        b = self.bdf_coefficients(dt)
        for const, value in zip(self.parameters.bdf, b, strict=True):
            const.value = np.asarray(value)
        for reg in self.parameters.steady_regularisation.values():
            reg.value = np.asarray(0.0)
        self._active_solver().reuse = self.options.reuse
        self.parameters.time.value = np.asarray(self.time + dt)
        parameters = dict(self._targets)
        if self.clamped:
            parameters.pop(("V",))
            parameters[("I",)] = self.clamp.target_current
            self.clamp.set_charge_history(b, self._charge_history["left"])
        elif voltage is not None:
            if self.boundary.left is None and voltage != 0.0:
                raise ValueError("this model has no driven (left) electrode: only voltage = 0")
            parameters[("V",)] = voltage / self.scales.potential
        else:
            parameters[("V",)] = float(self.parameters.electrode_potential.value)
        # Predictor: linear extrapolation of the last two levels (else the last level, with a
        # change of V spread along the ramp).
        extrapolate = self._levels >= 2 and self._dt_prev is not None
        if extrapolate:
            assert self._dt_prev is not None
            ratio = dt / self._dt_prev
            self.state.x.array[:] = self.history[0].x.array + ratio * (
                self.history[0].x.array - self.history[1].x.array)
        else:
            self.state.x.array[:] = self.history[0].x.array
        saved_parameters = self.parameters.continuation_values()
        try:
            report = self.solve_at(parameters, context=f"time step t={self.time + dt:.6g} s, "
                                                       f"dt={dt:.3g} s",
                                   predict_voltage=not extrapolate)
        except SolverDivergedError:
            self.state.x.array[:] = self.history[0].x.array
            self.parameters.assign(saved_parameters)
            if self.clamped:
                self.clamp.voltage_from_model()
            raise
        currents = self.observables.electrode_currents(b, self._charge_history)
        self._pending = {"dt": dt, "report": report, "currents": currents,
                         "charges": self.observables.electrode_charges_scaled()}
        self.last_currents = currents
        return currents["current_A"]

    @property
    def iteration_targets(self) -> tuple[int, int]:
        """(easy, hard) nonlinear iteration counts per time step for the step controller: (6, 12)
        for chord iterations on a lagged Jacobian (reuse='jacobian'), else (3, 7)."""
        return (6, 12) if self.options.reuse == "jacobian" else (3, 7)

    @property
    def has_pending_step(self) -> bool:
        """Whether a tried step awaits ``accept()`` or ``reject()``."""
        return self._pending is not None

    @property
    def last_report(self) -> NewtonReport | None:
        """Newton report of the pending (tried, not yet accepted) step."""
        return None if self._pending is None else self._pending["report"]

    def accept(self) -> None:
        """Make the tried step the new accepted time level."""
        if self._pending is None:
            raise RuntimeError("accept() without a successful try_step()")
        p, self._pending = self._pending, None
        self.history[1].x.array[:] = self.history[0].x.array
        self.history[0].x.array[:] = self.state.x.array
        for side in ("left", "right"):
            q = self._charge_history[side]
            self._charge_history[side] = [p["charges"][side], q[0]]
        self.time += p["dt"]
        self._dt_prev = p["dt"]
        self._levels = min(self._levels + 1, 2)
        self._converged_parameters = self.parameters.continuation_values()

    def reject(self) -> None:
        """Discard the tried step (the state returns to the last accepted level)."""
        self._pending = None
        self.state.x.array[:] = self.history[0].x.array
        if self._converged_parameters is not None:
            self.parameters.assign(self._converged_parameters)
        if self._clamp is not None:
            self._clamp.voltage_from_model()

    def restart_history(self) -> None:
        """Forget the older time level: the next step is backward Euler (after a jump in the
        forcing, where BDF2's smoothness assumption fails)."""
        self._levels = min(self._levels, 1)
        self._dt_prev = None

    def snapshot(self) -> dict:
        """Everything a transient needs to continue from here (same mesh partition): the
        state and its two history levels (local arrays incl. ghosts), time (s), BDF and
        electrode-charge history, parameters and targets, clamp mode and target. For
        checkpoints and for rolling a coupled simulation back; see ``restore``."""
        return {
            "state": self.state.x.array.copy(),
            "history": [h.x.array.copy() for h in self.history],
            "time": self.time, "dt_prev": self._dt_prev, "levels": self._levels,
            "charge_history": {k: list(v) for k, v in self._charge_history.items()},
            "parameters": self.parameters.continuation_values(),
            "converged_parameters": None if self._converged_parameters is None
            else dict(self._converged_parameters),
            "targets": dict(self._targets),
            "clamped": self.clamped,
            "clamp_target": self._clamp.target_current if self._clamp is not None else None,
            "last_currents": dict(self.last_currents),
        }

    def restore(self, snapshot: dict) -> None:
        """Return to a ``snapshot()`` of this model (discarding a pending step)."""
        self._pending = None
        self.state.x.array[:] = snapshot["state"]
        for h, values in zip(self.history, snapshot["history"], strict=True):
            h.x.array[:] = values
        self.time, self._dt_prev = snapshot["time"], snapshot["dt_prev"]
        self._levels = snapshot["levels"]
        self._charge_history = {k: list(v) for k, v in snapshot["charge_history"].items()}
        self.parameters.assign(snapshot["parameters"])
        self._converged_parameters = snapshot["converged_parameters"]
        self._targets = dict(snapshot["targets"])
        self.last_currents = dict(snapshot["last_currents"])
        self.clamped = snapshot["clamped"]
        if snapshot["clamp_target"] is not None:
            self.clamp.set_target(snapshot["clamp_target"])
            self.clamp.voltage_from_model()


__all__ = ["TransientSteps"]
