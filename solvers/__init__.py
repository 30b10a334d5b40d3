"""Physics core: Poisson-Nernst-Planck for nanofluidic slits (steady, transient, current clamp).

Inputs are frozen dataclasses in SI units (Electrolyte/Species, Boundary with SurfaceCharge or
SurfacePotential walls, SolverOptions, TimeSteppingOptions, voltage protocols); PNPModel ties them
to a meshes.SlitMesh; everything returned is SI.
"""

import meshes  # noqa: F401  (loads MPI before dolfinx; must stay the first import)

from solvers.boundary import Boundary, SurfaceCharge, SurfacePotential
from solvers.electrolyte import Electrolyte, Species, debye_length, gouy_chapman_length
from solvers.model import PNPModel, SolverOptions, SteadyResult
from solvers.nonlinear import (
    DEFAULT_PETSC_OPTIONS,
    SolverDivergedError,
    merge_petsc_options,
    parse_petsc_options,
)
from solvers.observables import FieldOutput
from solvers.protocols import (
    ConstantVoltage,
    PiecewiseLinearVoltage,
    PulseTrain,
    SineVoltage,
    StepVoltage,
    TriangleVoltage,
)
from solvers.reactions import FirstOrderConversion, Reaction, SourceContext, VolumeSource
from solvers.scales import Scales, dimensionless_groups, make_scales
from solvers.time_stepping import StepRecord, TimeIntegrator, TimeSteppingOptions, run_protocol

__all__ = [
    "DEFAULT_PETSC_OPTIONS", "Boundary", "ConstantVoltage", "Electrolyte", "FieldOutput",
    "FirstOrderConversion", "PNPModel", "PiecewiseLinearVoltage", "PulseTrain", "Reaction",
    "Scales", "SineVoltage", "SolverDivergedError", "SolverOptions", "SourceContext", "Species",
    "SteadyResult", "StepRecord", "StepVoltage", "SurfaceCharge", "SurfacePotential",
    "TimeIntegrator", "TimeSteppingOptions", "TriangleVoltage", "VolumeSource", "debye_length",
    "dimensionless_groups", "gouy_chapman_length", "make_scales", "merge_petsc_options",
    "parse_petsc_options", "run_protocol",
]
