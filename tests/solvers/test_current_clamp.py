"""The PNP model's current clamp follows a waveform (values in A)."""

from ionslit.coupling.waveforms import PulseTrain
from ionslit.solvers.current_clamp import ClampedCurrent


def test_the_current_clamp_follows_its_waveform():
    clamp = ClampedCurrent(PulseTrain(2e-9, width=1e-3, start=1e-3))
    assert clamp.current(1.5e-3) == 2e-9 and clamp.current(3e-3) == 0.0
    assert clamp.milestones(0, 1) == [1e-3, 2e-3] == clamp.discontinuities(0, 1)
