"""BDF coefficients and the TimeIntegrator (milestones, adaptivity, cut-back), against a fake
provider that integrates the ODE dy/dt = V(t) - k y with the same BDF coefficients."""

import math

import numpy as np
import pytest

from ionslit.solvers.nonlinear import NewtonReport, SolverDivergedError
from ionslit.solvers.protocols import SineVoltage, StepVoltage
from ionslit.solvers.time_stepping import TimeIntegrator, TimeSteppingOptions, bdf_coefficients


def test_bdf_coefficients_are_exact_for_polynomials():
    # Variable-step BDF2 differentiates quadratics exactly; BE linear functions.
    rng = np.random.default_rng(1)
    for _ in range(5):
        dt, dt_prev = rng.uniform(0.1, 2.0, size=2)
        t1, t0, tm = 1.0, 1.0 - dt, 1.0 - dt - dt_prev
        a, b, c = rng.normal(size=3)
        f = lambda t, a=a, b=b, c=c: a * t * t + b * t + c  # noqa: E731
        b0, b1, b2 = bdf_coefficients(2, dt, dt_prev)
        assert b0 * f(t1) + b1 * f(t0) + b2 * f(tm) == pytest.approx(2 * a * t1 + b, abs=1e-12)
        g = lambda t, b=b, c=c: b * t + c  # noqa: E731
        e0, e1, e2 = bdf_coefficients(1, dt)
        assert e2 == 0 and e0 * g(t1) + e1 * g(t0) == pytest.approx(b, abs=1e-12)


class FakeProvider:
    """dy/dt = V(t) - k y (exact for a constant V: relaxation to V/k)."""

    voltage = None  # the integrator records the protocol's voltage
    iteration_targets = (3, 7)

    def __init__(self, k=1.0, scheme="bdf2", fail_if_dt_above=None):
        self.k, self.scheme, self.fail_if_dt_above = k, scheme, fail_if_dt_above
        self.time, self.y, self.y_prev, self.dt_prev, self.levels = 0.0, 0.0, 0.0, None, 0
        self.last_currents, self.steady_voltage, self.tried = {}, None, []

    def solve_steady(self, voltage):
        self.steady_voltage = voltage
        self.y = self.y_prev = voltage / self.k
        self.levels, self.dt_prev = 1, None

    def try_step(self, dt, voltage):
        self.tried.append(dt)
        if self.fail_if_dt_above is not None and dt > self.fail_if_dt_above:
            raise SolverDivergedError("DIVERGED_MAX_IT")
        order = 2 if self.scheme == "bdf2" and self.levels >= 2 else 1
        b0, b1, b2 = bdf_coefficients(order, dt, self.dt_prev)
        self._new = (voltage - b1 * self.y - b2 * self.y_prev) / (b0 + self.k)
        self._dt = dt
        self.last_report = NewtonReport(iterations=2, linear_iterations=2, reason="OK",
                                        residual_norm=0.0)
        self.last_currents = {"current_A": self._new, "current_right_A": self._new}
        return self._new

    def accept(self):
        self.y_prev, self.y = self.y, self._new
        self.time += self._dt
        self.dt_prev = self._dt
        self.levels = min(self.levels + 1, 2)

    def reject(self):
        pass

    def restart_history(self):
        self.levels, self.dt_prev = min(self.levels, 1), None


def test_milestones_and_outputs_are_hit_exactly():
    model = FakeProvider()
    sine = SineVoltage(1.0, 10.0)
    outputs = [0.0123, 0.05]
    records = TimeIntegrator(model, sine, TimeSteppingOptions(initial_step=0.003),
                             output_times=outputs).run(0.1)
    times = [r.time for r in records]
    for m in sine.milestones(0.0, 0.1) + outputs:
        assert m in times  # exactly, no round-off drift
    assert [r.time for r in records if r.is_output] == outputs
    assert times[-1] == 0.1 and model.steady_voltage == 0.0
    assert all(b > a for a, b in zip(times, times[1:], strict=False))


def test_adaptive_growth_and_cutback_on_failure():
    model = FakeProvider(fail_if_dt_above=0.02)
    opts = TimeSteppingOptions(initial_step=0.001, max_step=0.05, growth=2.0)
    records = TimeIntegrator(model, StepVoltage(0.0, 1.0, 0.0), opts).run(1.0)
    dts = [r.dt for r in records]
    assert max(dts) <= 0.02 + 1e-15  # never accepted a step the provider rejects
    assert any(r.cutbacks > 0 for r in records)  # grew, failed, cut back
    assert records[-1].time == 1.0
    # A provider that always fails gives a clear error after max_cutbacks.
    with pytest.raises(SolverDivergedError, match="failed"):
        TimeIntegrator(FakeProvider(fail_if_dt_above=0.0),
                       StepVoltage(0.0, 1.0, 0.0), TimeSteppingOptions(max_cutbacks=3)).run(1.0)


@pytest.mark.parametrize("scheme, order", [("backward_euler", 1), ("bdf2", 2)])
def test_fixed_step_convergence_order(scheme, order):
    # y' = sin(2 pi t) - y from the steady state at V(0) = 0: exact solution known.
    def exact(t):
        w = 2 * math.pi
        return (math.sin(w * t) - w * math.cos(w * t) + w * math.exp(-t)) / (1 + w * w)

    errors = []
    for n in (20, 40, 80):
        model = FakeProvider(scheme=scheme)
        opts = TimeSteppingOptions(initial_step=1.0 / n, adaptive=False)
        TimeIntegrator(model, SineVoltage(1.0, 1.0), opts).run(1.0)
        errors.append(abs(model.y - exact(1.0)))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert rates == pytest.approx([order, order], abs=0.15)
