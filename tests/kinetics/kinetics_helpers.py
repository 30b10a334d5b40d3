"""Set-ups for the kinetics tests (a uniquely named module: ``conftest`` is ambiguous when the
whole test tree runs).

The *closed box*: a 10 nm interval between two electrodes filled with a mobile 1:1 background
electrolyte (K, Cl at 10 mM, identical reservoirs) that carries the current, and immobile
reacting ions and pairs. The background stays uniform and the immobile ions react in equal
amounts of charge, so the charge density is zero at all times: the potential is exactly linear,
|E| = V / L everywhere (P1 represents it exactly), and there is no transport of the reacting
species at all. Each node is then an independent copy of the 0D reaction system: the PNP
solution must reproduce the reaction ODE (transients) and mass action (steady states).
"""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import numpy as np

from ionslit.meshes import structured
from ionslit.solvers import Boundary, Electrolyte, PNPModel, SolverOptions, Species

BOX_LENGTH = 10e-9  # m
BACKGROUND = 10.0  # mol/m^3 of K and Cl
D_BACKGROUND = 2e-9  # m^2/s
TIGHT = {"snes_rtol": 1e-12, "snes_atol": 1e-16}  # Newton far below the checked tolerances


def closed_box(comm, reactions, immobile: dict, valences: dict, formulation="log", cells=2,
               petsc=None):
    """PNPModel of the closed box; ``immobile``: name -> initial concentration (mol/m^3)."""
    species = [Species("K", 1, D_BACKGROUND, BACKGROUND, BACKGROUND),
               Species("Cl", -1, D_BACKGROUND, BACKGROUND, BACKGROUND)]
    species += [Species(name, valences[name], 0.0, c, c) for name, c in immobile.items()]
    mesh = structured.interval(comm, np.linspace(0.0, BOX_LENGTH, cells + 1))
    options = SolverOptions(formulation=formulation, petsc_options=petsc or TIGHT)
    return PNPModel(mesh, Electrolyte(tuple(species)), Boundary(), options=options,
                    reactions=reactions)


def mean(model, name):
    """Mean concentration (mol/m^3) of a species over the whole mesh."""
    return model.observables.inventories(None)[f"mean_concentration_{name}_mol_m3"]


def nodal(model, name):
    """All nodal concentrations (mol/m^3) of a species, gathered on every rank."""
    values = model.observables.concentration_values(name)
    return np.concatenate(model.comm.allgather(np.asarray(values)))
