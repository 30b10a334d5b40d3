"""A scalar provider written the way a live PNP slit behaves (tests only).

``ScalarMemristor`` follows only the scalar protocol of ``ionslit.coupling.provider`` (floats, no lanes,
no differential conductance, ``snapshot()``/``restore()`` like ``ionslit.solvers.model.PNPModel``):
tau dg/dt = g0 (1 + (V/V0)^2) - g by backward Euler (its own history, no BDF2), I = g V. It can be
told to raise ``RuntimeError`` (like a diverged Newton solve) above a voltage or on the next
tries, and it counts its tries, as the integrator must need few of them.
"""

from __future__ import annotations

import math


class ScalarMemristor:
    def __init__(self, g0=1e-9, v0=0.1, tau=1e-3, fail_above=math.inf):
        self.g0, self.v0, self.tau = g0, v0, tau
        self.g = g0
        self.time = 0.0
        self.fail_above = fail_above
        self.fail_next = 0  # number of coming tries that raise
        self.tries = 0
        self._pending = None

    def g_inf(self, v):
        return self.g0 * (1.0 + (v / self.v0) ** 2)

    def try_step(self, dt, voltage):
        self.tries += 1
        if self.fail_next > 0 or abs(voltage) > self.fail_above:
            self.fail_next = max(self.fail_next - 1, 0)
            raise RuntimeError(f"toy solver diverged at V = {voltage} V")
        g = (self.g + dt / self.tau * self.g_inf(voltage)) / (1.0 + dt / self.tau)
        self._pending = (dt, g)
        return g * voltage

    def accept(self):
        if self._pending is None:
            raise RuntimeError("accept() without try_step()")
        dt, self.g = self._pending
        self.time += dt
        self._pending = None

    def reject(self):
        self._pending = None

    def restart_history(self):
        pass

    def snapshot(self):
        return {"g": self.g, "time": self.time}

    def restore(self, snapshot):
        self.g, self.time = snapshot["g"], snapshot["time"]
        self._pending = None
