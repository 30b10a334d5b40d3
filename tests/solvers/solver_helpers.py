"""Helpers for the solvers tests (a uniquely named module: ``conftest`` is ambiguous when the
whole test tree runs)."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import numpy as np

from ionslit.meshes import structured
from ionslit.solvers import Electrolyte, Species

D_K, D_CL = 1.957e-9, 2.032e-9  # m^2/s, K+ and Cl- in water at 25 C


def kcl(concentration: float, left: float | None = None, right: float | None = None,
        equal_diffusivities: bool = False) -> Electrolyte:
    """1:1 KCl at ``concentration`` mol/m^3 (or different left/right reservoirs)."""
    cl = concentration if left is None else left
    cr = concentration if right is None else right
    d_cl = D_K if equal_diffusivities else D_CL
    return Electrolyte((Species("K", 1, D_K, cl, cr), Species("Cl", -1, d_cl, cl, cr)))


def uniform_interval(comm, length=20e-9, cells=40, **kwargs):
    return structured.interval(comm, np.linspace(0.0, length, cells + 1), **kwargs)
