"""How a concentration is represented by its unknown: c(u) lives here and nowhere else.

``log`` (default): u = ln(c / c0), c = c0 exp(u): positive by construction, robust with strongly
charged walls and large voltages (docs/theory.md#log-concentration). ``primitive``: u = c / c0; fine for
weakly charged walls, but can go negative on under-resolved double layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl


@dataclass(frozen=True)
class LogConcentration:
    """u = ln(c^): the concentration is exp(u)."""

    name: str = "log"
    #: Newton updates of u are dimensionless log-changes: the step limiter applies to them.
    limit_concentration_steps: bool = True

    def concentration(self, u):
        """Scaled concentration c^ (UFL) from the unknown u."""
        return ufl.exp(u)

    def concentration_values(self, u: np.ndarray) -> np.ndarray:
        """Scaled nodal concentrations from nodal unknowns."""
        return np.exp(u)

    def unknown(self, concentration):
        """Value of u for a scaled concentration (array or float, > 0)."""
        c = np.asarray(concentration, dtype=float)
        if np.any(c <= 0):
            raise ValueError("the log formulation needs concentrations > 0 wherever they are "
                             "prescribed (reservoirs, initial state); give a tiny positive "
                             "value instead of 0, or use formulation = 'primitive'")
        return np.log(c) if c.ndim else float(np.log(c))


@dataclass(frozen=True)
class PrimitiveConcentration:
    """u = c^: the concentration itself."""

    name: str = "primitive"
    #: concentration updates are not capped (only potentials are).
    limit_concentration_steps: bool = False

    def concentration(self, u):
        return u

    def concentration_values(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(u, dtype=float).copy()

    def unknown(self, concentration):
        c = np.asarray(concentration, dtype=float)
        return c.copy() if c.ndim else float(c)


FORMULATIONS: dict[str, LogConcentration | PrimitiveConcentration] = {
    "log": LogConcentration(), "primitive": PrimitiveConcentration()}

Formulation = LogConcentration | PrimitiveConcentration


def formulation(name: str) -> Formulation:
    """The formulation called ``name`` ('log' or 'primitive')."""
    try:
        return FORMULATIONS[name]
    except KeyError:
        raise ValueError(f"unknown formulation {name!r}; choose one of {sorted(FORMULATIONS)}") \
            from None
