"""The neuron circuit: a membrane capacitor, a stimulus (a ``waveforms`` waveform, in A),
memristive branches and a leak; the membrane law itself is ``membrane.membrane_current``:

    C dU/dt = I_stim(t) - sum_k n_k I_k(U - E_k, history) - g_L (U - E_L)

Branch k is a battery E_k (V) in series with ``count`` n_k identical providers in parallel; the
provider sees U - E_k and returns its current I_k (A, flowing from the battery side into the
element, i.e. out of the membrane node). SI units: C in F, currents in A, conductances in S
(or, per unit membrane area, F/m^2, A/m^2, S/m^2 throughout). See docs/theory.md#circuit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ionslit.coupling.membrane import branch_current, membrane_current
from ionslit.coupling.provider import Provider, SteadyStateProvider, as_lanes, is_lane_provider
from ionslit.coupling.waveforms import Constant, Waveform


@dataclass
class Branch:
    """A battery (V) in series with ``count`` identical providers in parallel."""

    provider: Provider
    battery: float = 0.0  # V
    count: float = 1.0
    name: str = ""

    def __post_init__(self):
        if not (np.isfinite(self.count) and self.count > 0):
            raise ValueError(f"branch {self.name!r}: count {self.count} must be > 0")
        if not np.isfinite(self.battery):
            raise ValueError(f"branch {self.name!r}: battery {self.battery} V must be finite")


@dataclass
class Circuit:
    """Membrane capacitance (F), branches, stimulus, optional leak g_L (S) towards E_L (V).

    ``initial_voltage`` (V, a float or one value per lane) is where integrators start; the
    providers start from their own present state (see ``equilibrate``).
    """

    capacitance: float | np.ndarray
    branches: list[Branch] = field(default_factory=list)
    stimulus: Waveform = field(default_factory=Constant)  # A
    leak_conductance: float = 0.0  # S
    leak_reversal: float = 0.0  # V
    initial_voltage: float | np.ndarray = 0.0  # V

    def __post_init__(self):
        if not np.all(np.asarray(self.capacitance) > 0):
            raise ValueError(f"capacitance {self.capacitance} F must be > 0")
        if not np.all(np.asarray(self.leak_conductance) >= 0):
            raise ValueError(f"leak conductance {self.leak_conductance} S must be >= 0")
        names = [b.name for b in self.branches if b.name]
        if len(names) != len(set(names)):
            raise ValueError(f"branch names must be unique: {names}")

    @property
    def lanes(self) -> int:
        """Number of independent lanes (1 unless the providers are vectorised copies)."""
        counts = {as_lanes(b.provider).lanes for b in self.branches}
        sizes = {np.size(a) for a in (self.capacitance, self.initial_voltage) if np.ndim(a)}
        counts |= {s for s in sizes if s != 1}
        if len(counts - {1}) > 1:
            raise ValueError(f"branches and arrays disagree on the number of lanes: {counts}")
        return max(counts | {1})

    @property
    def vectorised(self) -> bool:
        """Whether every provider can be copied into lanes (``with_lanes``)."""
        return all(is_lane_provider(b.provider) for b in self.branches)

    def with_stimulus(self, stimulus) -> Circuit:
        """The same circuit (same provider objects) driven by ``stimulus``."""
        return replace(self, stimulus=stimulus)

    def with_lanes(self, lanes: int, stimulus=None) -> Circuit:
        """A copy on ``lanes`` lanes with fresh providers, each lane starting from the present
        provider states (optionally with another, e.g. per-lane, ``stimulus``)."""
        if not self.vectorised:
            raise TypeError("this circuit has scalar providers: lanes are run one at a time")
        branches = [replace(b, provider=as_lanes(b.provider).with_lanes(lanes))
                    for b in self.branches]
        u0 = self.initial_voltage
        if np.ndim(u0):
            u0 = np.broadcast_to(np.asarray(u0, dtype=float), (lanes,)).copy()
        return replace(self, branches=branches,
                       stimulus=self.stimulus if stimulus is None else stimulus,
                       initial_voltage=u0)

    def equilibrate(self, voltage=None) -> None:
        """Put every provider that supports it at its steady state for the membrane voltage
        ``voltage`` (V; default ``initial_voltage``, which it then becomes)."""
        if voltage is not None:
            self.initial_voltage = voltage
        u = np.asarray(self.initial_voltage, dtype=float)
        for b in self.branches:
            _steady(b).equilibrate(u - b.battery)

    def steady_membrane_current(self, voltage, stimulus=0.0) -> np.ndarray:
        """The membrane law's net current into the node (A, ``membrane.membrane_current``) with
        every provider at steady state for membrane voltage ``voltage`` (V) and the stimulus
        ``stimulus`` (A): I_stim - sum_k n_k I_k,ss(U - E_k) - g_L (U - E_L), per lane."""
        u = np.asarray(voltage, dtype=float)
        total = branch_current([b.count for b in self.branches],
                               [_steady(b).steady_current(u - b.battery) for b in self.branches])
        return membrane_current(stimulus, total, u, self.leak_conductance, self.leak_reversal)

    def steady_current(self, voltage) -> np.ndarray:
        """Membrane current out of the node (A) at steady state for membrane voltage ``voltage``
        (V): sum_k n_k I_k,ss(U - E_k) + g_L (U - E_L), per lane."""
        return -self.steady_membrane_current(voltage)

    def reversal_range(self) -> tuple[float, float]:
        """Search interval (V) for the resting potential: the batteries' (and the leak's) range,
        widened by 1 % of it. Passive elements carry no current at zero voltage and current of
        the voltage's sign, so the steady membrane current is <= 0 at the lowest reversal
        potential and >= 0 at the highest: the rest lies between them (mV for the squid axon,
        tens of volts for the slit neuron)."""
        reversals = [b.battery for b in self.branches]
        if np.any(np.asarray(self.leak_conductance) != 0.0):
            reversals.append(self.leak_reversal)
        lo, hi = min(reversals), max(reversals)
        margin = 0.01 * (hi - lo) if hi > lo else 1.0
        return lo - margin, hi + margin

    def resting_potential(self, bracket=None, current: float = 0.0,
                          tolerance: float = 1e-13) -> np.ndarray:
        """Membrane voltage (V) where the steady current equals ``current`` (A), by bisection
        in ``bracket`` (V; default ``reversal_range``; the steady current must change sign
        there). Per lane."""
        if bracket is None:
            bracket = self.reversal_range()
        lo = np.full(self.lanes, float(bracket[0]))
        hi = np.full(self.lanes, float(bracket[1]))
        f_lo = self.steady_membrane_current(lo, current)
        f_hi = self.steady_membrane_current(hi, current)
        if np.any(np.sign(f_lo) == np.sign(f_hi)):
            raise ValueError(f"the steady current does not change sign in {bracket} V")
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            f_mid = self.steady_membrane_current(mid, current)
            left = np.sign(f_mid) == np.sign(f_lo)
            lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
            hi = np.where(left, hi, mid)
            if np.all(hi - lo <= tolerance):
                break
        return 0.5 * (lo + hi)


def _steady(branch: Branch) -> SteadyStateProvider:
    """The branch's provider as a ``SteadyStateProvider`` (TypeError if it is not one)."""
    if not isinstance(branch.provider, SteadyStateProvider):
        raise TypeError(f"branch {branch.name!r}: {type(branch.provider).__name__} has no "
                        f"steady state")
    return branch.provider
