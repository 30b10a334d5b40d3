"""Memoryless elements: an ohmic resistor (leak) as a provider, for tests and simple circuits."""

from __future__ import annotations

import numpy as np

from ionslit.coupling.gated import GatedProvider


class Resistor(GatedProvider):
    """I = g V with a constant ``conductance`` g (S), on ``lanes`` lanes."""

    nstate = 0

    def __init__(self, conductance: float, lanes: int = 1, scheme: str = "bdf2"):
        if not (np.all(np.isfinite(conductance)) and np.all(np.asarray(conductance) >= 0)):
            raise ValueError(f"conductance {conductance} S must be finite and >= 0")
        self.conductance = conductance
        super().__init__(np.zeros(0), lanes, scheme)

    def _current(self, v, x, dx):
        g = np.broadcast_to(np.asarray(self.conductance, dtype=float), v.shape)
        return g * v, np.array(g)
