"""Implicit, adaptive integration of the neuron circuit with memristor providers. SI units: s,
V, A, S, F. The scheme (one scalar implicit equation per step, BDF1/BDF2, Newton with the
providers' dI/dV or secants) and the error control are docs/theory.md#circuit-integrator.

Contract:
- every step solves R(U) = C (b0 U + b1 U^n + b2 U^{n-1}) - I_stim + sum_k n_k I_k(U - E_k)
  + g_L (U - E_L) = 0 (``membrane``); each evaluation costs one ``try_step`` per branch, and the
  state of the last try is accepted (``accept()`` on every provider), or the step is rejected and
  cut when a provider raises ``RuntimeError`` or Newton fails;
- the local error of U (and of the providers' hidden states, where they give ``local_error``) is
  kept below ``atol + rtol |U|``; stimulus milestones are hit exactly and a jump restarts the
  history; ``adaptive=False`` takes fixed steps of ``step`` (one value, or one per lane);
- lanes: the state is a vector over independent lanes (e.g. the stimuli of an f-I curve), each
  with its own time, step, history and spike detector; a lane's trajectory depends only on its
  own values, so a sweep gives what separate runs give; a scalar provider is one lane;
- MPI: every decision is a function of the scalars the providers return (a live slit returns the
  global current on every rank), so all ranks run the same iteration; nothing is random or
  depends on wall-clock time;
- checkpoints: ``state()`` is a picklable dict; ``restore`` continues bit for bit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from ionslit.coupling import bdf, step_size
from ionslit.coupling.circuit import Branch, Circuit
from ionslit.coupling.integration_options import IntegrationError, IntegratorOptions
from ionslit.coupling.membrane import branch_current, implicit_residual_terms, membrane_current
from ionslit.coupling.provider import LaneProvider, as_lanes
from ionslit.coupling.spikes import SpikeDetector


@dataclass(frozen=True)
class NewtonResult:
    """The outcome of the Newton iteration of one attempt (``CircuitIntegrator._newton``), per
    lane: the new membrane voltage ``voltage`` (V), the branches' total current ``branch_total``
    sum_k n_k I_k (A) of the last try, the mask ``failed`` of lanes whose iteration did not
    converge, and ``error``, the provider's exception when a try raised (then every active lane
    has failed), else None."""

    voltage: np.ndarray
    branch_total: np.ndarray | float
    failed: np.ndarray
    error: RuntimeError | None


class TracePoint(NamedTuple):
    """One loop iteration of a recording integrator: the times (s) and voltages (V) of every
    lane and the mask of the lanes that accepted a step there."""

    time: np.ndarray
    voltage: np.ndarray
    accepted: np.ndarray


def _keep(new: np.ndarray, old: np.ndarray, lanes: np.ndarray) -> np.ndarray:
    """``new`` (an array of this step, changed in place) with ``old`` on ``lanes`` (indices)."""
    new[lanes] = old[lanes]
    return new


class CircuitIntegrator:
    """Integrates ``circuit`` (see ``circuit.Circuit``) from ``t0`` (s); see the module
    docstring. ``run(t_end)`` may be called repeatedly; results: ``time``, ``voltage``,
    ``spikes`` (a ``SpikeDetector``), ``trace(lane)`` with ``record=True``, ``statistics``."""

    def __init__(self, circuit: Circuit, options: IntegratorOptions | None = None,
                 t0: float = 0.0):
        self.circuit = circuit
        self.options = options or IntegratorOptions()
        opt = self.options
        self.lanes = circuit.lanes
        self.banks = [as_lanes(b.provider) for b in circuit.branches]
        for bank, branch in zip(self.banks, circuit.branches, strict=True):
            if bank.lanes != self.lanes:
                raise ValueError(f"branch {branch.name!r} has {bank.lanes} lanes, the circuit "
                                 f"{self.lanes}")
            self._align_scheme(bank, branch)
        n = self.lanes
        probe = np.asarray(circuit.stimulus.value(np.full(n, float(t0))))
        if probe.shape not in ((), (n,)):
            raise ValueError(f"the stimulus gives currents of shape {probe.shape} for {n} "
                             f"lanes: per-lane amplitudes need providers with as many lanes "
                             f"(Circuit.with_lanes)")
        self._count = [float(b.count) for b in circuit.branches]
        self._battery = [b.battery for b in circuit.branches]
        # Newton tries after the first may leave out dI/dV (see _newton)
        self._values_only = all(bank.optional_conductance for bank in self.banks)
        self.t = np.full(n, float(t0))
        self.u = np.broadcast_to(np.asarray(circuit.initial_voltage, dtype=float), (n,)).copy()
        self.u_prev = self.u.copy()
        self.dt_prev = np.ones(n)
        self.levels = np.ones(n, dtype=int)  # accepted levels usable by BDF (1: restart)
        self.dt_next = np.full(n, np.nan)  # nan: choose the first step
        self.slope = np.full(n, np.nan)  # dU/dt at t (right limit); nan: unknown yet
        self.secant = [np.zeros(n) for _ in self.banks]  # dI/dV estimates, providers w/o one
        self.failures = np.zeros(n, dtype=int)
        self._any_failures = False
        self.stats = {"accepted": np.zeros(n, dtype=int), "rejected": np.zeros(n, dtype=int),
                      "failed": np.zeros(n, dtype=int), "tries": np.zeros(n, dtype=int)}
        self.spikes = SpikeDetector(n, opt.spike_threshold, opt.spike_rearm,
                                    opt.spike_interpolation)
        self.spikes.start(self.u)
        self._trace: list[TracePoint] = []
        if opt.record:
            self._trace.append(TracePoint(self.t.copy(), self.u.copy(), np.ones(n, dtype=bool)))
        for bank in self.banks:
            bank.restart_history()

    def _align_scheme(self, bank: LaneProvider, branch: Branch) -> None:
        """One time scheme for the coupled system: set it on vectorised providers (this
        package's), warn when a provider runs another one (a PNP model's
        ``options.time_scheme``), which lowers the coupled order to 1."""
        scheme = self.options.scheme
        if bank.vectorised:
            bank.scheme = scheme
        elif bank.scheme is not None and bank.scheme != scheme:
            warnings.warn(f"branch {branch.name!r}: the provider integrates with {bank.scheme!r}, "
                          f"the circuit with {scheme!r}; the coupled scheme is first order",
                          stacklevel=3)

    # ------------------------------------------------------------------------------------------
    @property
    def time(self) -> np.ndarray:
        """Present time (s) per lane (a copy)."""
        return self.t.copy()

    @property
    def voltage(self) -> np.ndarray:
        """Present membrane voltage U (V) per lane (a copy)."""
        return self.u.copy()

    def _slope(self, i_stim, branch_total, u):
        """dU/dt (V/s) per lane from the membrane law (``membrane.membrane_current``)."""
        c = self.circuit
        net = membrane_current(i_stim, branch_total, u, c.leak_conductance, c.leak_reversal)
        return net / c.capacitance

    def _try_all(self, dt, u, conductance: bool = True):
        """One try of every branch at membrane voltage u: (currents, conductances or None).
        ``conductance=False`` (only when every provider has ``optional_conductance``): the
        currents alone."""
        currents, conductances = [], []
        for bank, battery in zip(self.banks, self._battery, strict=True):
            if conductance:
                currents.append(bank.try_step(dt, u - battery))
                conductances.append(bank.differential_conductance)
            else:
                currents.append(bank.try_step(dt, u - battery, conductance=False))
                conductances.append(None)
        return currents, conductances

    def _reject_all(self, mask=None):
        for bank in self.banks:
            bank.reject(mask)

    def _probe_slope(self, lanes_mask, h):
        """dU/dt at the present state, from a try with a tiny step (then rejected); also the
        chord conductances I/V as first estimates for providers without dI/dV. If a provider
        cannot take the probe step, the slope is taken as 0 (the first step is then judged
        against a constant predictor, which only makes it more cautious)."""
        dt = np.where(lanes_mask, 1e-6 * h, 1.0)
        try:
            currents, conductances = self._try_all(dt, self.u)
        except RuntimeError:
            currents = None
        finally:
            self._reject_all()
        if currents is None:
            self.slope = np.where(lanes_mask, 0.0, self.slope)
            return
        for k, (current, g, battery) in enumerate(zip(currents, conductances, self._battery, strict=True)):
            if g is None:
                v = self.u - battery
                with np.errstate(divide="ignore", invalid="ignore"):
                    chord = np.where(np.abs(v) > 1e-6, current / v, 0.0)
                self.secant[k] = np.where(lanes_mask & np.isfinite(chord), chord,
                                          self.secant[k])
        total = branch_current(self._count, currents)
        i_stim = self.circuit.stimulus.value(np.nextafter(self.t, np.inf))
        f = self._slope(i_stim, total, self.u)
        self.slope = np.where(lanes_mask, f, self.slope)

    # ------------------------------------------------------------------------------------------
    def run(self, t_end: float, on_step: Callable[[CircuitIntegrator, np.ndarray], None]
            | None = None) -> CircuitIntegrator:
        """Advance every lane to ``t_end`` (s). ``on_step(self, accepted_mask)`` is called after
        every loop iteration that accepted a step on some lane."""
        opt = self.options
        stim = self.circuit.stimulus
        t_end = float(t_end)
        t_min = float(self.t.min())
        span = t_end - t_min
        if span <= 0:
            return self
        plan = step_size.Plan.of_run(stim, t_min, t_end, opt)
        eps = plan.eps
        active = self.t < t_end - eps
        self.dt_next = np.where(np.isnan(self.dt_next), plan.first_step, self.dt_next)
        unknown = np.isnan(self.slope) & active
        if unknown.any():
            self._probe_slope(unknown, self.dt_next)
        while True:
            active = self.t < t_end - eps
            if not active.any():
                break
            try:
                accept = self._step(active, plan)
            finally:
                bdf.publish(None)
            if on_step is not None and accept.any():
                on_step(self, accept)
        return self

    def _step(self, active: np.ndarray, plan: step_size.Plan) -> np.ndarray:
        """One attempt on every active lane; returns the mask of accepted lanes.

        Runs once per attempt on arrays over all lanes, so it is written for few array
        operations: in-place arithmetic on arrays made here, and lanes that keep their old
        values (rejected, inactive) restored by index rather than selected lane by lane."""
        opt = self.options
        circuit = self.circuit
        stim = circuit.stimulus
        all_active = bool(active.all())
        fixed = not opt.adaptive
        t, u, f, h1 = self.t, self.u, self.slope, self.dt_prev
        # step sizes, landing exactly on milestones without leaving slivers
        if fixed:
            nominal = np.empty_like(t)
            nominal[:] = opt.step
        else:
            nominal = self.dt_next
        index, lands, h, t_new = plan.landing(t, nominal, active, all_active, h1)
        # scheme constants (shared with the providers for this step), history, predictor
        k = bdf.StepConstants(opt.scheme, self.levels, h, h1)
        bdf.publish(k)
        history = k.b1 * u
        predictor = h * f
        predictor += u
        if k.curvature_weight is not None:
            history += k.b2 * self.u_prev
            curvature = self.u_prev - u
            curvature += f * h1
            curvature *= k.curvature_weight
            predictor += curvature
        i_stim = stim.value(t_new)
        abs_u = np.abs(u)
        tol = opt.newton_tol if fixed else step_size.newton_tolerance(opt, abs_u, predictor)
        newton = self._newton(h, k.b0, history, i_stim, predictor, active, tol)
        v, total, failed, error = newton.voltage, newton.branch_total, newton.failed, newton.error
        # local error (in units of the tolerance) and acceptance
        err = step_size.voltage_error(opt, k, v, abs_u, predictor)
        if opt.control_states:
            for bank in self.banks:
                state_err = bank.local_error(opt.rtol)
                if state_err is not None:
                    np.maximum(err, state_err, out=err)
        any_failed = bool(failed.any())
        ok = None if all_active and not any_failed else active & ~failed
        at_min = h <= opt.min_step * (1.0 + 1e-9)
        dv = np.abs(v - u) if opt.max_voltage_change < math.inf else None
        if fixed:
            accept = active.copy() if ok is None else ok
        else:
            accept = err <= 1.0
            if dv is not None:
                accept &= dv <= opt.max_voltage_change
            accept |= at_min
            if ok is not None:
                accept &= ok
        all_accepted = bool(accept.all())
        kept = None if all_accepted else (~accept).nonzero()[0]  # lanes that stay
        # commit
        if kept is None:
            for bank in self.banks:
                bank.accept()
        elif kept.size < accept.size:
            for bank in self.banks:
                bank.accept(accept)
        elif error is None:
            self._reject_all()
        f_new = self._slope(i_stim, total, v)
        self.spikes.update(t, u, f, t_new, v, f_new, None if all_accepted else accept)
        if kept is None:
            self.u_prev, self.u, self.t, self.dt_prev, self.slope = u, v, t_new, h, f_new
            if k.curvature_weight is None or not k.uniform:
                self.levels = np.minimum(self.levels + 1, 2)
        else:
            self.u_prev = _keep(u.copy(), self.u_prev, kept)
            self.u = _keep(v, u, kept)
            self.t = _keep(t_new.copy(), t, kept)
            self.dt_prev = _keep(h.copy(), h1, kept)
            self.levels = _keep(np.minimum(self.levels + 1, 2), self.levels, kept)
            self.slope = _keep(f_new, f, kept)
        stats = self.stats
        stats["accepted"] += accept
        if kept is not None:
            lost = kept if all_active else kept[active[kept]]
            if any_failed:
                stats["failed"] += failed
                lost = lost[~failed[lost]]
            stats["rejected"][lost] += 1
        # next step size
        if fixed:
            proposal = nominal
        else:
            proposal = step_size.proposal(opt, k, err, dv, h, nominal, accept, kept, lands)
        if any_failed:
            proposal = np.where(failed, h * opt.cutback, proposal)
            self.failures = np.where(failed, self.failures + 1,
                                     np.where(accept, 0, self.failures))
        elif self._any_failures:
            self.failures = np.where(accept, 0, self.failures)
        self._any_failures = bool(self.failures.any()) if (any_failed or self._any_failures) \
            else False
        proposal = np.maximum(proposal, opt.min_step)
        if opt.max_step < math.inf:
            np.minimum(proposal, opt.max_step, out=proposal)
        self.dt_next = proposal if all_active else np.where(active, proposal, self.dt_next)
        # restarts after stimulus jumps
        if lands is not None:
            jumped = lands & plan.is_jump[index]
            if jumped.any():
                jumped &= accept
                if jumped.any():
                    self._restart(jumped, t_new, total, plan)
        if opt.record:
            self._trace.append(TracePoint(self.t.copy(), self.u.copy(), accept.copy()))
        if any_failed:
            stuck = failed & ((self.failures > opt.max_failures) | at_min)
            if stuck.any():
                lane = int(np.flatnonzero(stuck)[0])
                reason = (f"provider error: {error}" if error is not None
                          else "Newton iteration did not converge")
                raise IntegrationError(
                    f"lane {lane}: step from t={t[lane]:.9g} s failed {self.failures[lane]} "
                    f"times (last dt={h[lane]:.3g} s): {reason}") from error
        return accept

    def _restart(self, lanes, t_new, branch_total, plan):
        """After a stimulus jump: BE restart, the slope from the new stimulus (with the branch
        currents ``branch_total`` of the step that landed on the jump), a short step."""
        opt = self.options
        for bank in self.banks:
            bank.restart_history(lanes)
        self.levels = np.where(lanes, 1, self.levels)
        i_after = self.circuit.stimulus.value(np.nextafter(t_new, np.inf))
        self.slope = np.where(lanes, self._slope(i_after, branch_total, self.u), self.slope)
        if opt.adaptive:
            restart = opt.restart_step or plan.first_step
            self.dt_next = np.where(lanes, np.minimum(self.dt_next, restart), self.dt_next)

    def _newton(self, h, b0, history, i_stim, predictor, active, tol):
        """Solve R(U) = 0 per lane from ``predictor`` (see ``NewtonResult``). Converged lanes are
        frozen (re-tried at the same voltage, which a provider reproduces exactly), so a lane's
        result does not depend on others.

        When every provider can leave out dI/dV (``optional_conductance``), the tries after the
        first give the currents only, and the update -R/R' that decides convergence there takes
        R' from the try before: it changes by a fraction of order |dU| / (the voltage scale of
        the conductances) from one try to the next, far too little to matter to the test. A
        lane that has not converged is tried again at the same voltage with dI/dV before it
        moves, so every update that moves U is a full Newton update."""
        opt = self.options
        circuit = self.circuit
        cap = circuit.capacitance
        g_leak, e_leak = circuit.leak_conductance, circuit.leak_reversal
        counts = self._count
        cap_update = opt.max_newton_update
        v = predictor
        frozen = ~active
        any_frozen = bool(frozen.any())
        failed = None
        diagonal, constant = implicit_residual_terms(cap, b0, history, i_stim, g_leak, e_leak)
        last_v = [None] * len(self.banks)
        last_i = [None] * len(self.banks)
        tries = self.stats["tries"]
        total = 0.0
        exact = True  # this try gives dI/dV (else R' is the previous try's)
        jac = diagonal
        for _ in range(opt.max_newton):
            try:
                currents, conductances = self._try_all(h, v, exact)
            except RuntimeError as error:  # a provider could not solve: cut the step
                self._reject_all()
                return NewtonResult(predictor, np.zeros_like(v), active.copy(), error)
            if any_frozen:
                tries += ~frozen
            else:
                tries += 1
            total = branch_current(counts, currents)
            if exact:
                jac = self._jacobian(diagonal, v, currents, conductances, last_v, last_i)
            # the Newton step -R / R' is v - step (step capped at max_newton_update)
            step = diagonal * v
            step += constant
            step += total
            step /= jac
            if not np.isfinite(step).all():
                bad = ~np.isfinite(step) & ~frozen
                failed = bad if failed is None else failed | bad
                frozen = frozen | bad
                step[~np.isfinite(step)] = 0.0
            np.minimum(step, cap_update, out=step)
            np.maximum(step, -cap_update, out=step)
            frozen = frozen | (np.abs(step) <= tol)
            if frozen.all():
                break
            any_frozen = True
            if not exact:  # not converged: this voltage again, with dI/dV, before moving
                exact = True
                continue
            step[frozen] = 0.0
            v = v - step
            exact = not self._values_only
        else:
            failed = ~frozen if failed is None else failed | ~frozen  # too many tries
        if failed is None:
            return NewtonResult(v, total, np.zeros(v.shape, dtype=bool), None)
        return NewtonResult(v, total, failed & active, None)

    def _jacobian(self, diagonal, v, currents, conductances, last_v, last_i):
        """dR/dU at ``v``: ``diagonal`` (C b0 + g_L) plus n_k dI_k/dV per branch, from the
        provider's conductance or else from a secant between this try and the branch's last
        one (``last_v``, ``last_i``, updated here), kept for later steps."""
        opt = self.options
        jac = diagonal
        for k, (current, g) in enumerate(zip(currents, conductances, strict=True)):
            if g is None:
                if last_v[k] is not None:
                    dv = v - last_v[k]
                    use = np.abs(dv) > opt.secant_min_delta
                    if use.any():
                        with np.errstate(divide="ignore", invalid="ignore"):
                            est = (current - last_i[k]) / dv
                        self.secant[k] = np.where(use & np.isfinite(est), est, self.secant[k])
                last_v[k], last_i[k] = v, current
                g = self.secant[k]
            jac = jac + (g if self._count[k] == 1.0 else self._count[k] * g)
        return jac

    # ------------------------------------------------------------------------------------------
    def trace(self, lane: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Accepted (t, U) of ``lane`` (needs ``record=True``)."""
        if not self.options.record:
            raise RuntimeError("trace() needs IntegratorOptions(record=True)")
        ts = [p.time[lane] for p in self._trace if p.accepted[lane]]
        us = [p.voltage[lane] for p in self._trace if p.accepted[lane]]
        return np.array(ts), np.array(us)

    @property
    def statistics(self) -> dict:
        """Per-lane counters: accepted and rejected steps, failed steps, provider tries."""
        return {k: v.copy() for k, v in self.stats.items()}

    def state(self) -> dict:
        """A picklable checkpoint (see the module docstring)."""
        return {
            "lanes": self.lanes, "options": asdict(self.options),
            "t": self.t.copy(), "u": self.u.copy(), "u_prev": self.u_prev.copy(),
            "dt_prev": self.dt_prev.copy(), "levels": self.levels.copy(),
            "dt_next": self.dt_next.copy(), "slope": self.slope.copy(),
            "secant": [s.copy() for s in self.secant], "failures": self.failures.copy(),
            "stats": {k: v.copy() for k, v in self.stats.items()},
            "spikes": self.spikes.state(),
            "providers": [bank.state for bank in self.banks],
        }

    def restore(self, state: dict) -> None:
        """Continue from a ``state()`` of an integrator of the same circuit layout."""
        if state["lanes"] != self.lanes or len(state["providers"]) != len(self.banks):
            raise ValueError("checkpoint of a different circuit (lanes or branches differ)")
        self.t = np.array(state["t"], dtype=float)
        self.u = np.array(state["u"], dtype=float)
        self.u_prev = np.array(state["u_prev"], dtype=float)
        self.dt_prev = np.array(state["dt_prev"], dtype=float)
        self.levels = np.array(state["levels"], dtype=int)
        self.dt_next = np.array(state["dt_next"], dtype=float)
        self.slope = np.array(state["slope"], dtype=float)
        self.secant = [np.array(s, dtype=float) for s in state["secant"]]
        self.failures = np.array(state["failures"], dtype=int)
        self._any_failures = bool(self.failures.any())
        self.stats = {k: np.array(v) for k, v in state["stats"].items()}
        self.spikes.restore(state["spikes"])
        for bank, snap in zip(self.banks, state["providers"], strict=True):
            bank.restore(snap)
