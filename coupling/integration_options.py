"""Settings of the circuit integrator (``integrator.CircuitIntegrator``) and its error. SI: s, V."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ionslit.coupling import bdf
from ionslit.coupling.bdf import Scheme


class IntegrationError(RuntimeError):
    """The circuit integration cannot continue (step below ``min_step``, repeated failures)."""


@dataclass
class IntegratorOptions:
    """Settings of ``CircuitIntegrator`` (SI: s, V)."""

    scheme: Scheme = "bdf2"
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
        for name, value in (("rtol", self.rtol), ("atol", self.atol),
                            ("newton_tol", self.newton_tol), ("min_step", self.min_step),
                            ("max_step", self.max_step)):
            if not value > 0:
                raise ValueError(f"{name} = {value} must be > 0")
        if not 1.0 < self.max_growth < 1.0 + math.sqrt(2.0):
            raise ValueError(f"max_growth = {self.max_growth} must be in (1, 2.414) for BDF2")
