"""Physics core: Poisson-Nernst-Planck for nanofluidic slits (steady, transient, current clamp).

Inputs are frozen dataclasses in SI units; ``PNPModel`` ties them to a ``meshes.SlitMesh``;
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
- protocols.py      voltage protocols V(t) with milestones
- observables.py    currents, charges, inventories, profiles, SI output fields (FieldOutput)

Every operation on a model is collective: call it on all ranks.
"""

import meshes  # noqa: F401  (loads MPI before dolfinx; must stay the first import)

import importlib as _importlib

# Public API, imported on first use so that ``import solvers.memristor`` (the pure-numpy
# memristor analysis) does not load dolfinx.
_EXPORTS = {
    "Boundary": "solvers.boundary",
    "SurfaceCharge": "solvers.boundary",
    "SurfacePotential": "solvers.boundary",
    "Electrolyte": "solvers.electrolyte",
    "Species": "solvers.electrolyte",
    "debye_length": "solvers.electrolyte",
    "gouy_chapman_length": "solvers.electrolyte",
    "PNPModel": "solvers.model",
    "SolverOptions": "solvers.model",
    "SteadyResult": "solvers.model",
    "DEFAULT_PETSC_OPTIONS": "solvers.nonlinear",
    "SolverDivergedError": "solvers.nonlinear",
    "merge_petsc_options": "solvers.nonlinear",
    "parse_petsc_options": "solvers.nonlinear",
    "FieldOutput": "solvers.observables",
    "ClampedCurrent": "solvers.protocols",
    "ConstantVoltage": "solvers.protocols",
    "PiecewiseLinearVoltage": "solvers.protocols",
    "PulseTrain": "solvers.protocols",
    "SineVoltage": "solvers.protocols",
    "StepVoltage": "solvers.protocols",
    "TriangleVoltage": "solvers.protocols",
    "FirstOrderConversion": "solvers.reactions",
    "Reaction": "solvers.reactions",
    "SourceContext": "solvers.reactions",
    "VolumeSource": "solvers.reactions",
    "Scales": "solvers.scales",
    "dimensionless_groups": "solvers.scales",
    "make_scales": "solvers.scales",
    "StepRecord": "solvers.time_stepping",
    "TimeIntegrator": "solvers.time_stepping",
    "TimeSteppingOptions": "solvers.time_stepping",
    "run_protocol": "solvers.time_stepping",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'solvers' has no attribute {name!r}")
