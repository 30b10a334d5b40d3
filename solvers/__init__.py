"""Physics core: Poisson-Nernst-Planck for nanofluidic slits (steady, transient, current clamp).

Inputs are frozen dataclasses in SI units; ``PNPModel`` ties them to a ``ionslit.meshes.SlitMesh``;
everything returned is SI. Where things live:

- constants.py      CODATA/SI 2019 constants, thermal_voltage(T)
- electrolyte.py    Species, Electrolyte, debye_length, gouy_chapman_length
- scales.py         Scales (nondimensionalisation), dimensionless_groups
- boundary.py       Boundary(left, right, walls={name: SurfaceCharge | SurfacePotential})
- formulations.py   c(u): 'log' (u = ln c, default) and 'primitive' (u = c)
- reactions.py      the source hook: Reaction / VolumeSource protocols, FirstOrderConversion
- pnp_forms.py      the Poisson and Nernst-Planck residuals; the Nernst-Planck flux
- nonlinear.py      SNES set-up, option merging, step limiter, reason check, PC reset, LU reuse,
                    SolverDivergedError
- steady.py         parameter continuation with cut-back
- clamp.py          current clamp: electrode potential as a real-space unknown
- model.py          PNPModel, SolverOptions, SteadyResult
- time_stepping.py  bdf_coefficients, TimeIntegrator (adaptive steps, milestones)
- current_clamp.py  ClampedCurrent: the current clamp following a waveform
- observables.py    currents, charges, inventories, profiles, SI output fields (FieldOutput)

Every operation on a model is collective: call it on all ranks.
"""

import ionslit.meshes  # noqa: F401  (loads MPI before dolfinx; must stay the first import)

import importlib as _importlib

# Public API, imported on first use so that ``import ionslit.solvers.memristor`` (the pure-numpy
# memristor analysis) does not load dolfinx.
_EXPORTS = {
    "Boundary": "ionslit.solvers.boundary",
    "SurfaceCharge": "ionslit.solvers.boundary",
    "SurfacePotential": "ionslit.solvers.boundary",
    "Electrolyte": "ionslit.solvers.electrolyte",
    "Species": "ionslit.solvers.electrolyte",
    "debye_length": "ionslit.solvers.electrolyte",
    "gouy_chapman_length": "ionslit.solvers.electrolyte",
    "PNPModel": "ionslit.solvers.model",
    "SolverOptions": "ionslit.solvers.model",
    "SteadyResult": "ionslit.solvers.model",
    "DEFAULT_PETSC_OPTIONS": "ionslit.solvers.nonlinear",
    "SolverDivergedError": "ionslit.solvers.nonlinear",
    "merge_petsc_options": "ionslit.solvers.nonlinear",
    "parse_petsc_options": "ionslit.solvers.nonlinear",
    "FieldOutput": "ionslit.solvers.observables",
    "ClampedCurrent": "ionslit.solvers.current_clamp",
    "FirstOrderConversion": "ionslit.solvers.reactions",
    "Reaction": "ionslit.solvers.reactions",
    "SourceContext": "ionslit.solvers.reactions",
    "VolumeSource": "ionslit.solvers.reactions",
    "Scales": "ionslit.solvers.scales",
    "dimensionless_groups": "ionslit.solvers.scales",
    "make_scales": "ionslit.solvers.scales",
    "StepRecord": "ionslit.solvers.time_stepping",
    "TimeIntegrator": "ionslit.solvers.time_stepping",
    "TimeSteppingOptions": "ionslit.solvers.time_stepping",
    "run_protocol": "ionslit.solvers.time_stepping",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'solvers' has no attribute {name!r}")
