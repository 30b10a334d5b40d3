"""The membrane law of the neuron circuit, written once:

    C dU/dt = I_stim(t) - sum_k n_k I_k(U - E_k) - g_L (U - E_L)

``membrane_current`` is its right-hand side, the net current into the membrane node (A). The
integrator evaluates it for the slope dU/dt (at the start, after every step and after a jump of
the stimulus); the resting potential is where it vanishes with the providers at steady state.
An implicit step solves R(U) = C (b0 U + history) - membrane_current(...) = 0, which is affine
in U for given branch currents: ``implicit_residual_terms`` gives that form,
R(U) = diagonal U + constant + sum_k n_k I_k, computed once per step. SI units: currents in A,
conductances in S, voltages in V (or, per unit membrane area, A/m^2 and S/m^2). See
docs/theory.md#circuit and docs/theory.md#circuit-integrator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def branch_current(counts: Sequence[float], currents: Sequence[np.ndarray | float]):
    """sum_k n_k I_k (A): the branches' currents ``currents`` (A, out of the membrane node)
    times their element counts ``counts``, summed in branch order (0.0 without branches)."""
    total: np.ndarray | float = 0.0
    for k, (count, current) in enumerate(zip(counts, currents, strict=True)):
        term = current if count == 1.0 else count * current
        total = term if k == 0 else total + term
    return total


def membrane_current(stimulus, branches, voltage, leak_conductance, leak_reversal):
    """I_stim - sum_k n_k I_k - g_L (U - E_L) (A): the net current into the membrane node,
    C dU/dt. ``stimulus`` I_stim (A), ``branches`` sum_k n_k I_k (A, see ``branch_current``),
    ``voltage`` U (V), ``leak_conductance`` g_L (S), ``leak_reversal`` E_L (V); floats or
    arrays over lanes. A scalar g_L = 0 leaves the leak term out."""
    net = stimulus - branches
    if np.ndim(leak_conductance) == 0 and leak_conductance == 0.0:
        return net
    return net - leak_conductance * (voltage - leak_reversal)


def implicit_residual_terms(capacitance, b0, history, stimulus, leak_conductance, leak_reversal):
    """(diagonal, constant) of the residual of one implicit step of the membrane law,
    R(U) = C (b0 U + history) - membrane_current(stimulus, branches, U, g_L, E_L)
         = diagonal U + constant + branches,
    with diagonal = C b0 + g_L (S; dR/dU without the branches) and
    constant = C history - I_stim - g_L E_L (A). ``b0`` (1/s) and ``history`` (V/s, the BDF
    terms of the past voltages) as in ``bdf``; C in F."""
    diagonal = capacitance * b0 + leak_conductance
    constant = capacitance * history - stimulus - leak_conductance * leak_reversal
    return diagonal, constant
