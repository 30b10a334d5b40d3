"""Physics core: Poisson-Nernst-Planck for nanofluidic slits (steady, transient, current clamp).

Inputs are frozen dataclasses in SI units; ``PNPModel`` ties them to a
``ionslit.meshes.slit_mesh.SlitMesh``; everything returned is SI. Where things live:

- constants.py      CODATA/SI 2019 constants, thermal_voltage(T)
- electrolyte.py    Species, Electrolyte, debye_length, gouy_chapman_length
- scales.py         Scales (nondimensionalisation), dimensionless_groups
- boundary.py       Boundary(left, right, walls={name: SurfaceCharge | SurfacePotential})
- formulations.py   c(u): 'log' (u = ln c, default) and 'primitive' (u = c)
- reactions.py      the source hook: Reaction / VolumeSource protocols, FirstOrderConversion
- pnp_forms.py      the Poisson and Nernst-Planck residuals; the Nernst-Planck flux
- nonlinear.py      SNES set-up, step limiter, reason check, PC reset, LU reuse,
                    SolverDivergedError
- petsc_options.py  PETSc option defaults, parsing and merging; options PETSc never read (hints)
- continuation.py   steady solves by parameter continuation with cut-back
- options.py        SolverOptions (numerical choices), SteadyResult
- initial_guess.py  continuation targets and the cold-start state of the first steady solve
- dirichlet.py      electrode and fixed-potential Dirichlet conditions, boundary indicators
- clamp.py          current clamp: electrode potential as a real-space unknown
- model.py          PNPModel (fields, parameters, Newton solvers, current clamp, close())
- steady_state.py   PNPModel's steady solves (continuation, voltage mode or current clamp)
- transient.py      PNPModel's time steps: try_step/accept/reject, snapshot/restore, initialize
- model_members.py  the model members both halves use, declared once for the type checker
- time_stepping.py  TimeIntegrator (adaptive steps, milestones; BDF coefficients: coupling/bdf.py)
- current_clamp.py  ClampedCurrent: the current clamp following a waveform
- observables.py    currents, charges, inventories, profiles, SI output fields (FieldOutput)
- checkpoint.py     a model's transient state gathered by input node and restored on any ranks

Importing this package loads dolfinx and PETSc (after ``ionslit.meshes``, which orders MPI first).
Every operation on a model is collective: call it on all ranks.
"""

import ionslit.meshes  # noqa: F401  (loads MPI before dolfinx; must stay the first import)

# isort: split
from ionslit.solvers.boundary import Boundary, SurfaceCharge, SurfacePotential
from ionslit.solvers.current_clamp import ClampedCurrent
from ionslit.solvers.electrolyte import Electrolyte, Species, debye_length, gouy_chapman_length
from ionslit.solvers.model import PNPModel
from ionslit.solvers.nonlinear import SolverDivergedError
from ionslit.solvers.observables import FieldOutput
from ionslit.solvers.options import SolverOptions, SteadyResult
from ionslit.solvers.petsc_options import (
    DEFAULT_PETSC_OPTIONS,
    merge_petsc_options,
    parse_petsc_options,
)
from ionslit.solvers.reactions import FirstOrderConversion, Reaction, SourceContext, VolumeSource
from ionslit.solvers.scales import Scales, dimensionless_groups, make_scales
from ionslit.solvers.time_stepping import (
    StepRecord,
    TimeIntegrator,
    TimeSteppingOptions,
    run_protocol,
)

__all__ = [
    "DEFAULT_PETSC_OPTIONS",
    "Boundary",
    "ClampedCurrent",
    "Electrolyte",
    "FieldOutput",
    "FirstOrderConversion",
    "PNPModel",
    "Reaction",
    "Scales",
    "SolverDivergedError",
    "SolverOptions",
    "SourceContext",
    "Species",
    "SteadyResult",
    "StepRecord",
    "SurfaceCharge",
    "SurfacePotential",
    "TimeIntegrator",
    "TimeSteppingOptions",
    "VolumeSource",
    "debye_length",
    "dimensionless_groups",
    "gouy_chapman_length",
    "make_scales",
    "merge_petsc_options",
    "parse_petsc_options",
    "run_protocol",
]
