"""Implicit, adaptive integration of the neuron circuit with memristor providers.

Scheme. With the providers' internal states integrated by the same BDF formula at the new
voltage, every step solves one scalar equation for U = U^{n+1}:

    R(U) = C (b0 U + b1 U^n + b2 U^{n-1}) - I_stim(t^{n+1}) + sum_k n_k I_k(U - E_k)
           + g_L (U - E_L) = 0

(b: backward Euler, or variable-step BDF2 from the second step after a start or a jump of the
stimulus; see ``bdf``). Each evaluation of R costs one ``try_step`` per branch. Newton's method
uses the providers' ``differential_conductance`` when they give it (this package's providers do:
quadratic convergence), else per-branch secants between the tries of a step, carried over to the
next step (a live PNP slit: typically 2-3 tries per step). The iteration stops when the Newton
update is below ``newton_tol`` (V); the state of the *last try* is accepted (so the providers'
states and U agree), which leaves an error in U below the tolerance. Then ``accept()`` on every
provider, or ``reject()`` and a step cut when a provider raises (``RuntimeError``) or Newton
fails.

Step control. The local error is estimated from the distance between the converged U and an
explicit predictor of the same order built from the slope dU/dt = (net current)/C at t^n
(forward Euler for BE; the quadratic through U^{n-1}, U^n with slope f^n for BDF2), scaled by the
ratio of the error constants, and kept below ``atol + rtol |U|`` (V) (steps grow at most 2x, as
variable-step BDF2 needs). Large dU/dt (spikes) therefore gives small steps without special
rules; ``max_voltage_change`` caps |U^{n+1} - U^n| as well. The stimulus' milestones are hit
exactly; after a jump the history restarts (BE) with a short step. ``adaptive=False`` takes
fixed steps of ``step`` (for convergence studies).

Lanes. The state is a vector over independent *lanes* (e.g. the stimulus amplitudes of an f-I
curve, with vectorised providers): each lane has its own time, step size, history and spike
detector, and all lanes advance one attempt per loop iteration. A lane's trajectory depends only
on its own values, so a sweep gives what separate runs give. A scalar provider (a live PNP slit)
is one lane.

Parallel runs (MPI). Every decision here (convergence, acceptance, step sizes, spikes) is a
function of the scalars the providers return; a live slit returns the global current on every
rank, so all ranks run the same iteration in lockstep with no rank-dependent branching. Nothing
here is random, and there is no wall-clock-dependent logic: the integration is deterministic.

Checkpoints. ``state()`` is a picklable dict (arrays, floats, lists: U, time, step size,
history, slopes, secant estimates, provider snapshots, spike detector, counters); ``restore``
continues bit-for-bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from coupling import bdf
from coupling.provider import as_lanes
from coupling.spikes import SpikeDetector


class IntegrationError(RuntimeError):
    """The circuit integration cannot continue (step below ``min_step``, repeated failures)."""


@dataclass
class IntegratorOptions:
    """Settings of ``CircuitIntegrator`` (SI: s, V)."""

    scheme: str = "bdf2"  # 'be' or 'bdf2'
    adaptive: bool = True
    step: float | np.ndarray | None = None  # s: fixed step (adaptive=False; may differ per
    #                                           lane) or the first step
    rtol: float = 1e-4  # local error tolerance, relative to |U|
    atol: float = 1e-6  # V, absolute local error tolerance
    min_step: float = 1e-15  # s
    max_step: float = math.inf  # s
    restart_step: float | None = None  # s: step after a stimulus jump (default: first step)
    max_voltage_change: float = math.inf  # V per step
    newton_tol: float = 1e-10  # V: stop when the Newton update is below this, or below
    newton_fraction: float = 0.01  # ... this fraction of the local error tolerance (adaptive)
    max_newton: int = 10  # tries per step before the step is cut
    max_newton_update: float = 0.2  # V: cap of one Newton update (protects live slits)
    secant_min_delta: float = 1e-9  # V: smallest voltage difference used for a secant
    safety: float = 0.9
    max_growth: float = 2.0  # step ratio cap (BDF2 zero stability needs < 2.414)
    max_shrink: float = 0.2
    cutback: float = 0.25  # step factor after a failed Newton iteration / provider error
    max_failures: int = 30  # consecutive failures of one lane before giving up
    spike_threshold: float = 0.0  # V
    spike_rearm: float | None = None  # V (default: the threshold)
    spike_interpolation: str = "hermite"
    record: bool = False  # keep every accepted (t, U) per lane
    control_states: bool = True  # include the providers' state errors (``local_error``)

    def __post_init__(self):
        bdf.check_scheme(self.scheme)
        if self.step is not None and not np.all(np.asarray(self.step) > 0):
            raise ValueError(f"step {self.step} s must be > 0")
        if not self.adaptive and self.step is None:
            raise ValueError("fixed steps (adaptive=False) need a step")
        for name in ("rtol", "atol", "newton_tol", "min_step", "max_step"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} = {getattr(self, name)} must be > 0")
        if not 1.0 < self.max_growth < 1.0 + math.sqrt(2.0):
            raise ValueError(f"max_growth = {self.max_growth} must be in (1, 2.414) for BDF2")


@dataclass
class _Plan:
    """Milestones of one ``run`` (sorted, ending at t_end) and which of them are jumps."""

    milestones: np.ndarray
    is_jump: np.ndarray
    eps: float
    first_step: float


class CircuitIntegrator:
    """Integrates ``circuit`` (see ``circuit.Circuit``) from ``t0`` (s); see the module
    docstring. ``run(t_end)`` may be called repeatedly; results: ``time``, ``voltage``,
    ``spikes`` (a ``SpikeDetector``), ``trace(lane)`` with ``record=True``, ``statistics``."""

    def __init__(self, circuit, options: IntegratorOptions | None = None, t0: float = 0.0):
        self.circuit = circuit
        self.options = options or IntegratorOptions()
        opt = self.options
        self.lanes = circuit.lanes
        self.banks = [as_lanes(b.provider) for b in circuit.branches]
        for bank, branch in zip(self.banks, circuit.branches):
            if bank.lanes != self.lanes:
                raise ValueError(f"branch {branch.name!r} has {bank.lanes} lanes, the circuit "
                                 f"{self.lanes}")
            if getattr(bank, "vectorised", False) or hasattr(branch.provider, "scheme"):
                try:
                    branch.provider.scheme = opt.scheme  # one scheme for the coupled system
                except AttributeError:
                    pass
        n = self.lanes
        self._count = [float(b.count) for b in circuit.branches]
        self._battery = [b.battery for b in circuit.branches]
        self.t = np.full(n, float(t0))
        self.u = np.broadcast_to(np.asarray(circuit.initial_voltage, dtype=float), (n,)).copy()
        self.u_prev = self.u.copy()
        self.dt_prev = np.ones(n)
        self.levels = np.ones(n, dtype=int)  # accepted levels usable by BDF (1: restart)
        self.dt_next = np.full(n, np.nan)  # nan: choose the first step
        self.slope = np.full(n, np.nan)  # dU/dt at t (right limit); nan: unknown yet
        self.secant = [np.zeros(n) for _ in self.banks]  # dI/dV estimates, providers w/o one
        self.failures = np.zeros(n, dtype=int)
        self.stats = {"accepted": np.zeros(n, dtype=int), "rejected": np.zeros(n, dtype=int),
                      "failed": np.zeros(n, dtype=int), "tries": np.zeros(n, dtype=int)}
        self.spikes = SpikeDetector(n, opt.spike_threshold, opt.spike_rearm,
                                    opt.spike_interpolation)
        self.spikes.start(self.u)
        self._trace: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if opt.record:
            self._trace.append((self.t.copy(), self.u.copy(), np.ones(n, dtype=bool)))
        for bank in self.banks:
            bank.restart_history()

    # ------------------------------------------------------------------------------------------
    @property
    def time(self) -> np.ndarray:
        return self.t.copy()

    @property
    def voltage(self) -> np.ndarray:
        return self.u.copy()

    def _net_current(self, t, u, branch_total):
        """C dU/dt = I_stim(t) - sum - leak (A) per lane."""
        c = self.circuit
        return c.stimulus.current(t) - branch_total - c.leak_conductance * (u - c.leak_reversal)

    def _try_all(self, dt, u):
        """One try of every branch at membrane voltage u: (currents, conductances or None)."""
        currents, conductances = [], []
        for bank, battery in zip(self.banks, self._battery):
            currents.append(bank.try_step(dt, u - battery))
            conductances.append(bank.differential_conductance)
        return currents, conductances

    def _reject_all(self, mask=None):
        for bank in self.banks:
            bank.reject(mask)

    def _probe_slope(self, lanes_mask, h):
        """dU/dt at the present state, from a try with a tiny step (then rejected)."""
        dt = np.where(lanes_mask, 1e-6 * h, 1.0)
        try:
            currents, _ = self._try_all(dt, self.u)
        finally:
            self._reject_all()
        total = sum(n * i for n, i in zip(self._count, currents)) if currents else 0.0
        t_right = np.nextafter(self.t, np.inf)
        f = self._net_current(t_right, self.u, total) / self.circuit.capacitance
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
        eps = 1e-12 * max(abs(t_end), span)
        ms = sorted({float(m) for m in stim.milestones(t_min, t_end) if m < t_end - eps}
                    | {t_end})
        jumps = {float(j) for j in stim.discontinuities(t_min, t_end)}
        plan = _Plan(np.array(ms), np.array([m in jumps for m in ms]), eps,
                     opt.step if opt.step is not None else min(1e-4 * span, opt.max_step))
        active = self.t < t_end - eps
        self.dt_next = np.where(np.isnan(self.dt_next), plan.first_step, self.dt_next)
        unknown = np.isnan(self.slope) & active
        if unknown.any():
            self._probe_slope(unknown, self.dt_next)
        while True:
            active = self.t < t_end - eps
            if not active.any():
                break
            accept = self._step(active, plan)
            if on_step is not None and accept.any():
                on_step(self, accept)
        return self

    def _step(self, active: np.ndarray, plan: _Plan) -> np.ndarray:
        """One attempt on every active lane; returns the mask of accepted lanes."""
        opt = self.options
        circuit = self.circuit
        cap = circuit.capacitance
        g_leak, e_leak = circuit.leak_conductance, circuit.leak_reversal
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
        index = np.searchsorted(plan.milestones, t + plan.eps, side="right")
        np.minimum(index, plan.milestones.size - 1, out=index)
        target = plan.milestones[index]
        remaining = target - t
        lands = remaining <= 1.2 * nominal
        h = np.where(lands, remaining, np.where(remaining < 2.0 * nominal, 0.5 * remaining,
                                                nominal))
        t_new = np.where(lands, target, t + h)
        if not all_active:
            h = np.where(active, h, h1)
            t_new = np.where(active, t_new, t)
        # scheme: BDF2 on lanes with two usable levels
        if opt.scheme == "bdf2":
            second = self.levels >= 2
            uniform = bool(second.all()) or not second.any()
            second_all = uniform and bool(second[0])
        else:
            second, uniform, second_all = False, True, False
        b0, b1, b2 = bdf.coefficients(second_all if uniform else second, h, h1)
        history = b1 * u + b2 * self.u_prev
        i_stim = stim.current(t_new)
        # predictor: forward Euler (BE) or the quadratic through U^{n-1}, U^n with slope f
        predictor = u + h * f
        if second_all or not uniform:
            curvature = (self.u_prev - u + f * h1) / (h1 * h1) * (h * h)
            predictor = predictor + (curvature if uniform else np.where(second, curvature, 0.0))
        if fixed:
            tol = opt.newton_tol
        else:
            tol = np.maximum(opt.newton_tol, opt.newton_fraction * (
                opt.atol + opt.rtol * np.maximum(np.abs(u), np.abs(predictor))))
        v, total, failed, error = self._newton(h, b0, history, i_stim, predictor, active, tol)
        # local error (V) and acceptance
        if second_all or not uniform:
            w = h / h1
            ratio = (1.0 + w) ** 2 / (w * (1.0 + 2.0 * w))
            factor = ratio / (ratio + (1.0 + w) / w)
            if not uniform:
                factor = np.where(second, factor, 0.5)
        else:
            factor = 0.5
        dv = np.abs(v - u)
        err = np.abs(v - predictor) * factor / (opt.atol + opt.rtol * np.maximum(np.abs(v),
                                                                                   np.abs(u)))
        if opt.control_states:
            for bank in self.banks:
                local_error = getattr(bank, "local_error", None)
                state_err = local_error(opt.rtol) if local_error is not None else None
                if state_err is not None:
                    err = np.maximum(err, state_err)
        ok = ~failed if all_active else active & ~failed
        at_min = h <= opt.min_step * (1.0 + 1e-9)
        if fixed:
            accept = ok
        else:
            good = err <= 1.0
            if opt.max_voltage_change < math.inf:
                good &= dv <= opt.max_voltage_change
            accept = ok & (good | at_min)
        all_accepted = bool(accept.all())
        # commit
        if all_accepted:
            for bank in self.banks:
                bank.accept()
        elif accept.any():
            for bank in self.banks:
                bank.accept(accept)
        elif error is None:
            self._reject_all()
        f_new = (i_stim - total - g_leak * (v - e_leak)) / cap
        self.spikes.update(t, u, f, t_new, v, f_new, None if all_accepted else accept)
        if all_accepted:
            self.u_prev, self.u, self.t, self.dt_prev, self.slope = u, v, t_new, h, f_new
            self.levels = np.minimum(self.levels + 1, 2)
        else:
            self.u_prev = np.where(accept, u, self.u_prev)
            self.u = np.where(accept, v, u)
            self.t = np.where(accept, t_new, t)
            self.dt_prev = np.where(accept, h, h1)
            self.levels = np.where(accept, np.minimum(self.levels + 1, 2), self.levels)
            self.slope = np.where(accept, f_new, f)
        stats = self.stats
        stats["accepted"] += accept
        any_failed = bool(failed.any())
        if not all_accepted:
            stats["rejected"] += active & ~accept & ~failed
            stats["failed"] += failed
        # next step size
        if fixed:
            proposal = nominal
        else:
            inv_err = 1.0 / np.maximum(err, 1e-12)
            if second_all:
                grow = np.cbrt(inv_err)
            elif uniform:
                grow = np.sqrt(inv_err)
            else:
                grow = np.where(second, np.cbrt(inv_err), np.sqrt(inv_err))
            grow *= opt.safety
            np.minimum(grow, opt.max_growth, out=grow)
            np.maximum(grow, opt.max_shrink, out=grow)
            if opt.max_voltage_change < math.inf:
                with np.errstate(divide="ignore"):
                    limit = opt.safety * opt.max_voltage_change / dv
                grow = np.minimum(grow, np.maximum(limit, opt.max_shrink))
            if not all_accepted:  # a retry must be shorter even after the landing stretch
                grow = np.where(accept, grow, np.minimum(grow, 0.7))
            proposal = h * grow
            short = lands & (h < nominal)
            if short.any():  # a step shortened to land: resume the nominal step if it was good
                proposal = np.where(short & accept,
                                    np.maximum(proposal, nominal * np.minimum(grow, 1.0)),
                                    proposal)
                proposal = np.minimum(proposal, opt.max_growth * h)
        if any_failed:
            proposal = np.where(failed, h * opt.cutback, proposal)
            self.failures = np.where(failed, self.failures + 1,
                                     np.where(accept, 0, self.failures))
        elif not all_accepted or self.failures.any():
            self.failures = np.where(accept, 0, self.failures)
        proposal = np.minimum(np.maximum(proposal, opt.min_step), opt.max_step)
        self.dt_next = proposal if all_active else np.where(active, proposal, self.dt_next)
        # restarts after stimulus jumps
        jumped = lands & plan.is_jump[index]
        if jumped.any():
            jumped &= accept
            if jumped.any():
                for bank in self.banks:
                    bank.restart_history(jumped)
                self.levels = np.where(jumped, 1, self.levels)
                df = (stim.current(np.nextafter(t_new, np.inf)) - i_stim) / cap
                self.slope = np.where(jumped, self.slope + df, self.slope)
                if not fixed:
                    restart = opt.restart_step or plan.first_step
                    self.dt_next = np.where(jumped, np.minimum(self.dt_next, restart),
                                            self.dt_next)
        if opt.record:
            self._trace.append((self.t.copy(), self.u.copy(), accept.copy()))
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

    def _newton(self, h, b0, history, i_stim, predictor, active, tol):
        """Solve R(U) = 0 per lane from ``predictor``: (U, branch total current, failed mask,
        provider exception or None). Converged lanes are frozen (re-tried at the same voltage,
        which a provider reproduces exactly), so a lane's result does not depend on others."""
        opt = self.options
        circuit = self.circuit
        cap = circuit.capacitance
        g_leak, e_leak = circuit.leak_conductance, circuit.leak_reversal
        counts = self._count
        cap_update = opt.max_newton_update
        v = predictor
        frozen = ~active
        failed = np.zeros(v.shape, dtype=bool)
        j_static = cap * b0 + g_leak
        fixed_part = cap * history - i_stim - g_leak * e_leak
        c_total = cap * b0 + g_leak
        last_v = [None] * len(self.banks)
        last_i = [None] * len(self.banks)
        tries = self.stats["tries"]
        total = 0.0
        for _ in range(opt.max_newton):
            try:
                currents, conductances = self._try_all(h, v)
            except RuntimeError as error:  # a provider could not solve: cut the step
                self._reject_all()
                return predictor, np.zeros_like(v), active.copy(), error
            tries += ~frozen
            total = 0.0
            jac = j_static
            for k, (current, g) in enumerate(zip(currents, conductances)):
                total = total + counts[k] * current
                if g is None:  # secants between tries, kept for later steps
                    if last_v[k] is not None:
                        dv = v - last_v[k]
                        use = np.abs(dv) > opt.secant_min_delta
                        if use.any():
                            with np.errstate(divide="ignore", invalid="ignore"):
                                est = (current - last_i[k]) / dv
                            self.secant[k] = np.where(use & np.isfinite(est), est,
                                                      self.secant[k])
                    last_v[k], last_i[k] = v, current
                    g = self.secant[k]
                jac = jac + counts[k] * g
            update = -(c_total * v + fixed_part + total) / jac
            bad = ~np.isfinite(update)
            if bad.any():
                bad &= ~frozen
                failed |= bad
                frozen = frozen | bad
                update = np.where(bad, 0.0, update)
            np.minimum(update, cap_update, out=update)
            np.maximum(update, -cap_update, out=update)
            frozen = frozen | (np.abs(update) <= tol)
            if frozen.all():
                return v, total, failed & active, None
            v = np.where(frozen, v, v + update)
        failed |= ~frozen  # no convergence within max_newton tries
        return v, total, failed & active, None

    # ------------------------------------------------------------------------------------------
    def trace(self, lane: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Accepted (t, U) of ``lane`` (needs ``record=True``)."""
        if not self.options.record:
            raise RuntimeError("trace() needs IntegratorOptions(record=True)")
        ts = [t[lane] for t, _, a in self._trace if a[lane]]
        us = [u[lane] for _, u, a in self._trace if a[lane]]
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
        self.stats = {k: np.array(v) for k, v in state["stats"].items()}
        self.spikes.restore(state["spikes"])
        for bank, snap in zip(self.banks, state["providers"]):
            bank.restore(snap)
