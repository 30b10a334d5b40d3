"""The membrane law of the neuron circuit, written once:

    C dU/dt = I_stim(t) - sum_k n_k I_k(U - E_k) - g_L (U - E_L)

``membrane_current`` is its right-hand side, the net current into the membrane node (A). The
integrator evaluates it for the slope dU/dt, for the residual of every implicit step
(C times the BDF derivative of U minus it) and after a jump of the stimulus; the resting
potential is where it vanishes with the providers at steady state. SI units: currents in A,
conductances in S, voltages in V (or, per unit membrane area, A/m^2 and S/m^2).
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
