"""Current clamp of a PNP model: the total current through the driven electrode follows a
waveform (A, ``ionslit.coupling.waveforms``), and the electrode potential is an unknown of every
step (docs/theory.md#current-clamp). A voltage-driven run takes the waveform itself (its values
in V)."""

from __future__ import annotations

from dataclasses import dataclass

from ionslit.coupling.waveforms import Waveform


@dataclass(frozen=True)
class ClampedCurrent:
    """Current clamp following ``waveform`` (values in A), e.g. ``ClampedCurrent(Constant(0.0))``
    for the zero-current (reversal) potential in time, ``ClampedCurrent(PulseTrain(...))`` for
    current pulses."""

    waveform: Waveform

    def current(self, t: float) -> float:
        """Total current (A) at time t (s)."""
        return self.waveform.value(t)

    def milestones(self, t0: float, t1: float) -> list[float]:
        """The waveform's milestones in (t0, t1] (s)."""
        return self.waveform.milestones(t0, t1)

    def discontinuities(self, t0: float, t1: float) -> list[float]:
        """The waveform's jumps in (t0, t1] (s)."""
        return self.waveform.discontinuities(t0, t1)
