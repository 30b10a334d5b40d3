"""Step control of the circuit integrator: tolerances, the local error of the voltage, the next
step size and the landing on the stimulus' milestones (docs/theory.md#circuit-integrator).

Per lane, with the error ``err`` in units of the tolerance: the step is multiplied by
``safety`` err^(-1/(p+1)) (p the order of the attempt: 1 for backward Euler, 2 for BDF2),
kept within [``max_shrink``, ``max_growth``], and limited so that |U^{n+1} - U^n| stays below
``max_voltage_change`` (V). A rejected lane retries at most 0.7 of its step; a step shortened to
land on a milestone resumes the nominal step (``nominal``) after it. Steps in s.

``Plan``: the stimulus' milestones of one run, hit exactly: a step that would pass one (or stop
within 1.2 nominal steps of it) lands on it, and one within two nominal steps is halved, so that
no sliver of a step is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ionslit.coupling.bdf import StepConstants
from ionslit.coupling.integration_options import IntegratorOptions
from ionslit.coupling.waveforms import Waveform


class Landing(NamedTuple):
    """The steps of one attempt (``Plan.landing``), per lane: ``milestone``, the index of the
    next milestone (0 when the run has only its end), ``lands``, the lanes whose step lands on
    it (None when no lane is within two nominal steps of one), the step ``step`` (s) and the
    new time ``time`` (s)."""

    milestone: int | np.ndarray
    lands: np.ndarray | None
    step: np.ndarray
    time: np.ndarray


@dataclass
class Plan:
    """Milestones of one run (s, sorted, ending at t_end), which of them are jumps of the
    stimulus, the time tolerance ``eps`` (s) and the default first step (s; per lane when the
    options give one fixed step per lane)."""

    milestones: np.ndarray
    is_jump: np.ndarray
    eps: float
    first_step: float | np.ndarray

    @classmethod
    def of_run(cls, stimulus: Waveform, t_min: float, t_end: float,
               opt: IntegratorOptions) -> Plan:
        """The plan of a run of every lane from ``t_min`` (the earliest lane) to ``t_end``."""
        span = t_end - t_min
        eps = 1e-12 * max(abs(t_end), span)
        ms = sorted({float(m) for m in stimulus.milestones(t_min, t_end) if m < t_end - eps}
                    | {t_end})
        jumps = {float(j) for j in stimulus.discontinuities(t_min, t_end)}
        return cls(np.array(ms), np.array([m in jumps for m in ms]), eps,
                   opt.step if opt.step is not None else min(1e-4 * span, opt.max_step))

    def landing(self, t: np.ndarray, nominal: np.ndarray, active: np.ndarray, all_active: bool,
                h1: np.ndarray) -> Landing:
        """The steps (s) of an attempt from times ``t`` (s) with the nominal steps ``nominal``
        (inactive lanes keep ``h1`` and ``t``)."""
        index: int | np.ndarray
        if self.milestones.size == 1:  # only the end (e.g. a constant stimulus)
            index, target = 0, self.milestones[0]
        else:
            found = np.searchsorted(self.milestones, t + self.eps, side="right")
            np.minimum(found, self.milestones.size - 1, out=found)
            index, target = found, self.milestones[found]
        remaining = target - t
        near = remaining < 2.0 * nominal
        if near.any():
            lands = remaining <= 1.2 * nominal
            h = np.where(lands, remaining, np.where(near, 0.5 * remaining, nominal))
            t_new = np.where(lands, target, t + h)
            if not all_active:
                h = np.where(active, h, h1)
                t_new = np.where(active, t_new, t)
        else:  # no milestone within two steps: the nominal step everywhere
            lands = None
            h = nominal if all_active else np.where(active, nominal, h1)
            t_new = t + h
        return Landing(index, lands, h, t_new)


def newton_tolerance(opt: IntegratorOptions, abs_u: np.ndarray, predictor: np.ndarray
                     ) -> np.ndarray:
    """Newton tolerance (V) per lane of an adaptive step from |U^n| ``abs_u`` and the predictor:
    max(newton_tol, newton_fraction (atol + rtol max(|U^n|, |predictor|)))."""
    tol = np.abs(predictor)
    np.maximum(abs_u, tol, out=tol)
    tol *= opt.rtol
    tol += opt.atol
    tol *= opt.newton_fraction
    np.maximum(tol, opt.newton_tol, out=tol)
    return tol


def voltage_error(opt: IntegratorOptions, k: StepConstants, v: np.ndarray, abs_u: np.ndarray,
                  predictor: np.ndarray) -> np.ndarray:
    """Local error of the new voltage ``v`` (V) in units of its tolerance, per lane:
    error_factor |v - predictor| / (atol + rtol max(|v|, |U^n|))."""
    scale = np.abs(v)
    np.maximum(scale, abs_u, out=scale)
    scale *= opt.rtol
    scale += opt.atol
    err = v - predictor
    np.abs(err, out=err)
    err *= k.error_factor
    err /= scale
    return err


def proposal(opt: IntegratorOptions, k: StepConstants, err: np.ndarray, dv: np.ndarray | None,
             h: np.ndarray, nominal: np.ndarray, accept: np.ndarray, kept: np.ndarray | None,
             lands: np.ndarray | None) -> np.ndarray:
    """The proposed next step (s) per lane after an attempt of step ``h`` with the constants
    ``k``: ``err`` the local error over the tolerance, ``dv`` |U^{n+1} - U^n| (V; None when
    ``max_voltage_change`` is infinite), ``accept`` the accepted lanes, ``kept`` the indices of
    the lanes that stay (None when all accepted), ``lands`` the lanes whose step was cut to land
    on a milestone (None when none was near)."""
    grow = np.maximum(err, 1e-12)
    np.divide(1.0, grow, out=grow)
    if k.second_all:
        np.cbrt(grow, out=grow)
    elif k.uniform:
        np.sqrt(grow, out=grow)
    else:
        grow = np.where(k.second, np.cbrt(grow), np.sqrt(grow))
    grow *= opt.safety
    np.minimum(grow, opt.max_growth, out=grow)
    np.maximum(grow, opt.max_shrink, out=grow)
    if dv is not None:
        with np.errstate(divide="ignore"):
            limit = opt.safety * opt.max_voltage_change / dv
        grow = np.minimum(grow, np.maximum(limit, opt.max_shrink))
    if kept is not None:  # a retry must be shorter even after the landing stretch
        grow[kept] = np.minimum(grow[kept], 0.7)
    proposal = h * grow
    if lands is not None:
        short = lands & (h < nominal)
        if short.any():  # a step shortened to land: resume the nominal step
            proposal = np.where(short & accept,
                                np.maximum(proposal, nominal * np.minimum(grow, 1.0)),
                                proposal)
            proposal = np.minimum(proposal, opt.max_growth * h)
    return proposal
