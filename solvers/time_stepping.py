"""Transient runs: adaptive steps from Newton iteration counts, milestones (BDF coefficients:
``ionslit.coupling.bdf``); see docs/theory.md#time-stepping. Times in s, voltages in V,
currents in A.

Backward Euler and variable-step BDF2 (the first step after a start or a jump in the forcing is
backward Euler). The step grows when Newton converges easily and shrinks when it struggles; a
failed step is rejected and retried with a smaller one (the model resets the preconditioner).
Milestones (waveform corners, requested output times, the end time) are hit exactly: a step
that would pass one is shortened, and one that would leave a sliver is split evenly.

A run can stop at a step boundary (``at_boundary`` returns True) and be resumed later, in another
process, from its ``IntegratorState`` (with the provider restored to the same accepted level):
the resumed run takes exactly the steps the uninterrupted one would have taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ionslit.coupling.waveforms import Waveform
from ionslit.solvers.current_clamp import ClampedCurrent
from ionslit.solvers.nonlinear import NewtonReport, SolverDivergedError


@dataclass(frozen=True)
class TimeSteppingOptions:
    """Step-size control (seconds). ``initial_step`` None: 1e-3 of the run's length;
    ``max_step`` None: 1/20 of it (adaptive runs only); ``min_step`` None: 1e-9 of it. Nonlinear
    iterations <= ``easy_iterations`` grow the step by ``growth``, >= ``hard_iterations`` shrink
    it by ``shrink`` (None: the provider's ``iteration_targets``, e.g. (3, 7) for Newton and
    (6, 12) for chord iterations); a failure multiplies it by ``cutback`` (at most
    ``max_cutbacks`` times in a row). ``adaptive`` False keeps the step fixed (still shortened
    at milestones)."""

    initial_step: float | None = None  # s
    min_step: float | None = None  # s
    max_step: float | None = None  # s
    adaptive: bool = True
    easy_iterations: int | None = None
    hard_iterations: int | None = None
    growth: float = 1.5
    shrink: float = 0.6
    cutback: float = 0.5
    max_cutbacks: int = 12
    restart_step_after_jump: bool = True  # back to initial_step after a discontinuity


@dataclass(frozen=True)
class IntegratorState:
    """Where ``TimeIntegrator.run`` stands between two steps: its start time (which fixes the
    default step limits), the present time, the controller's next step (s) and the number of
    accepted steps so far. ``run(..., resume=state)`` continues from it identically."""

    t_start: float
    time: float
    dt: float
    steps: int

    def to_dict(self) -> dict[str, float | int]:
        """The fields by name (JSON-friendly; ``from_dict`` reads it back)."""
        return {"t_start": self.t_start, "time": self.time, "dt": self.dt, "steps": self.steps}

    @classmethod
    def from_dict(cls, data: dict) -> IntegratorState:
        """The state written by ``to_dict``."""
        return cls(float(data["t_start"]), float(data["time"]), float(data["dt"]),
                   int(data["steps"]))


@dataclass
class StepRecord:
    """One accepted step: time (s), step (s), electrode voltage (V; the protocol's value, or the
    clamped potential under a current clamp), currents (A), nonlinear iterations."""

    time: float
    dt: float
    voltage: float
    current: float
    current_right: float
    newton_iterations: int
    linear_iterations: int
    cutbacks: int
    is_milestone: bool
    is_output: bool
    extra: dict[str, Any] = field(default_factory=dict)


class TransientProvider(Protocol):
    """What TimeIntegrator drives (PNPModel is one): SI time (s), voltages (V), currents (A)."""

    time: float  # s, the accepted level; the integrator sets it to exact milestone times

    @property
    def last_currents(self) -> Mapping[str, float]:
        """Currents (A) of the last tried step ("current_right_A" at least)."""
        ...

    @property
    def last_report(self) -> NewtonReport | None:
        """Nonlinear iterations of the last tried step."""
        ...

    @property
    def voltage(self) -> float | None:
        """The electrode voltage (V) of the accepted level; None: the protocol's value is
        recorded."""
        ...

    @property
    def iteration_targets(self) -> tuple[int, int]:
        """(easy, hard) nonlinear iteration counts per step for the step controller."""
        ...

    def try_step(self, dt: float, voltage: float) -> float:
        """Tentative implicit step of ``dt`` (s) from the accepted level with the electrode at
        ``voltage`` (V); returns the current (A). Raises SolverDivergedError to be retried."""
        ...

    def accept(self) -> None:
        """The last tried step becomes the accepted level."""
        ...

    def reject(self) -> None:
        """Discard the last tried step."""
        ...

    def restart_history(self) -> None:
        """The next step is backward Euler (after a jump of the forcing)."""
        ...

    def solve_steady(self, voltage: float) -> Any:
        """Steady state with the electrode at ``voltage`` (V)."""
        ...


@runtime_checkable
class ClampableProvider(Protocol):
    """What a ``TransientProvider`` adds to follow a current protocol (PNPModel has it): the
    steady state and the steps under a current clamp (A), whose electrode potential is an
    unknown (``try_step(dt)`` without a voltage)."""

    def try_step(self, dt: float, voltage: float | None = None) -> float:
        """Tentative step of ``dt`` (s); under a current clamp ``voltage`` is not given."""
        ...

    def solve_steady_clamped(self, current: float) -> Any:
        """Steady state with the total electrode current clamped at ``current`` (A)."""
        ...

    def clamp_current(self, current: float) -> None:
        """The total electrode current (A) of the next tried step."""
        ...


class TimeIntegrator:
    """Drives a transient provider (e.g. PNPModel) through a voltage protocol (a waveform, V),
    or a current protocol (``ClampedCurrent``, A: the provider's current clamp follows it).

    The provider implements ``TransientProvider`` (``ClampableProvider`` for current
    protocols).
    """

    def __init__(self, model: TransientProvider, protocol: Waveform | ClampedCurrent,
                 options: TimeSteppingOptions | None = None,
                 output_times: Iterable[float] = ()):
        self.model = model
        self.protocol = protocol
        self.options = options or TimeSteppingOptions()
        self.output_times = sorted(float(t) for t in output_times)
        self.records: list[StepRecord] = []
        self.state: IntegratorState | None = None  # after each accepted step
        self.stopped = False  # run() ended early because at_boundary asked for it

    @property
    def clamped(self) -> bool:
        """True for a current protocol (``ClampedCurrent``)."""
        return isinstance(self.protocol, ClampedCurrent)

    @property
    def _clamped_model(self) -> ClampableProvider:
        """The model, as a provider that follows a current protocol (TypeError if it cannot)."""
        if not isinstance(self.model, ClampableProvider):
            raise TypeError(f"{type(self.model).__name__} cannot follow a current protocol: it "
                            f"lacks solve_steady_clamped, clamp_current or try_step(dt)")
        return self.model

    def start(self, t_start: float = 0.0) -> None:
        """Steady state at the protocol's initial voltage (or current), clock at ``t_start``."""
        protocol = self.protocol
        if isinstance(protocol, ClampedCurrent):
            self._clamped_model.solve_steady_clamped(protocol.current(t_start))
        else:
            self.model.solve_steady(protocol.value(t_start))
        self.model.time = t_start

    def _try(self, dt: float, t_new: float) -> float:
        """Current (A) of a tentative step of ``dt`` (s) ending at ``t_new`` (s)."""
        protocol = self.protocol
        if isinstance(protocol, ClampedCurrent):
            model = self._clamped_model
            model.clamp_current(protocol.current(t_new))
            return model.try_step(dt)
        return self.model.try_step(dt, protocol.value(t_new))

    def run(self, t_end: float, on_step: Callable[[StepRecord], None] | None = None,
            start_from_steady: bool = True, resume: IntegratorState | None = None,
            at_boundary: Callable[[IntegratorState], bool] | None = None) -> list[StepRecord]:
        """Integrate from the model's time to ``t_end`` (s); ``on_step`` is called after every
        accepted step (``record.is_output`` marks requested output times).

        ``at_boundary(state)`` is called after every accepted step once the next step size is
        chosen (a consistent point to checkpoint); when it returns True the run stops there
        (``self.stopped``). ``resume``: continue a run that stopped at that state (the model
        restored to the same accepted level; no steady start)."""
        self.stopped = False
        if resume is not None:
            if abs(self.model.time - resume.time) > 1e-12 * max(abs(t_end), 1e-300):
                raise ValueError(f"resume at t={resume.time} s but the model is at "
                                 f"t={self.model.time} s")
            t0 = resume.t_start
        else:
            if start_from_steady:
                self.start(self.model.time)
            t0 = self.model.time
        span = t_end - t0
        if span <= 0:
            return self.records
        opt = self.options
        dt = opt.initial_step or 1e-3 * span
        # Fixed steps are not capped unless asked to; adaptive ones by default at span / 20.
        dt_max = opt.max_step or (span / 20 if opt.adaptive else float("inf"))
        dt_min = opt.min_step or 1e-9 * span
        dt = min(dt, dt_max)
        eps = 1e-12 * max(abs(t_end), span)
        milestones = sorted(set(self.protocol.milestones(t0, t_end))
                            | {t for t in self.output_times if t0 < t <= t_end} | {t_end})
        jumps = set(self.protocol.discontinuities(t0, t_end))
        outputs = set(self.output_times)
        t, steps = t0, 0
        if resume is not None:
            t, dt, steps = resume.time, resume.dt, resume.steps
            self.model.time = t
        self.state = IntegratorState(t0, t, dt, steps)
        while t < t_end - eps:
            next_milestone = next(m for m in milestones if m > t + eps)
            remaining = next_milestone - t
            if remaining <= 1.2 * dt:
                step, lands = remaining, True
            elif remaining < 2 * dt:
                step, lands = 0.5 * remaining, False  # avoid leaving a sliver
            else:
                step, lands = dt, False
            cutbacks = 0
            while True:
                target_time = next_milestone if lands else t + step
                try:
                    current = self._try(target_time - t, target_time)
                    break
                except SolverDivergedError as error:
                    self.model.reject()
                    cutbacks += 1
                    step *= opt.cutback
                    lands = False
                    if cutbacks > opt.max_cutbacks or step < dt_min:
                        raise SolverDivergedError(
                            error.reason, iterations=error.iterations,
                            residual_norm=error.residual_norm,
                            context=f"time step from t={t:.6g} s failed {cutbacks} times, "
                                    f"last dt={step / opt.cutback:.3g} s") from error
            report = self.model.last_report
            if report is None:
                raise RuntimeError(f"{type(self.model).__name__} gave no report of the step it "
                                   f"just tried (last_report is None)")
            self.model.accept()
            dt_taken = target_time - t
            t = target_time
            self.model.time = t  # exact milestone times, no round-off drift
            currents = self.model.last_currents
            voltage = self.model.voltage
            if voltage is None:
                protocol = self.protocol
                voltage = (float("nan") if isinstance(protocol, ClampedCurrent)
                           else protocol.value(t))
            record = StepRecord(
                time=t, dt=dt_taken, voltage=voltage, current=current,
                current_right=currents.get("current_right_A", float("nan")),
                newton_iterations=report.iterations, linear_iterations=report.linear_iterations,
                cutbacks=cutbacks, is_milestone=lands,
                is_output=lands and any(abs(t - o) <= eps for o in outputs))
            self.records.append(record)
            if on_step is not None:
                on_step(record)
            dt = self._next_step(dt, dt_taken, report.iterations, cutbacks)
            dt = min(max(dt, dt_min), dt_max)
            if lands and any(abs(t - j) <= eps for j in jumps):
                self.model.restart_history()
                if opt.restart_step_after_jump:
                    dt = min(dt, opt.initial_step or 1e-3 * span)
            steps += 1
            self.state = IntegratorState(t0, t, dt, steps)
            if at_boundary is not None and at_boundary(self.state):
                self.stopped = True
                break
        return self.records

    def _next_step(self, nominal: float, taken: float, iterations: int, cutbacks: int) -> float:
        """The controller: ``nominal`` is the step it wanted, ``taken`` the one done (shorter
        when it landed on a milestone or was cut back)."""
        opt = self.options
        if not opt.adaptive:
            return nominal
        easy, hard = self.model.iteration_targets
        easy = opt.easy_iterations if opt.easy_iterations is not None else easy
        hard = opt.hard_iterations if opt.hard_iterations is not None else hard
        if cutbacks:
            return taken
        if iterations >= hard:
            return min(nominal, taken) * opt.shrink
        if iterations <= easy and taken >= 0.99 * nominal:
            return nominal * opt.growth
        return nominal


def run_protocol(model, protocol, t_end: float, options: TimeSteppingOptions | None = None,
                 output_times: Iterable[float] = (),
                 on_step: Callable[[StepRecord], None] | None = None) -> list[StepRecord]:
    """Steady state at V(0) (or I(0)), then integrate to ``t_end``: the usual transient run."""
    return TimeIntegrator(model, protocol, options, output_times).run(t_end, on_step)

