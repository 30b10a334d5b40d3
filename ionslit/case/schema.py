"""The case-file schema: one pydantic model per TOML section, quantities converted to SI.

Every section rejects unknown keys (with a "did you mean" hint); every dimensional value is
written with a unit and checked for its dimension (``ionslit.case.units``). Validation happens
once, before any mesh is built; ionslit.meshes, ionslit.solvers and ionslit.coupling receive
plain dataclasses made by ionslit.translate and never see this module.

This module holds ``[solver]``, ``[output]`` and the whole ``Case``; the other sections are in
ionslit.case.slit_sections (geometry, mesh, electrolyte, reactions, boundary),
ionslit.case.protocol_sections (``[protocol]``) and ionslit.case.circuit_sections (circuit,
analysis, calibration), on the base of ionslit.case.section.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ionslit.case.circuit_sections import AnalysisSection, CalibrationSection, CircuitSection
from ionslit.case.protocol_sections import ProtocolSection, SteadyProtocol
from ionslit.case.section import CasePath, Name, PositiveTime, Section
from ionslit.case.slit_sections import (
    BoundarySection,
    ElectrolyteSection,
    GeometrySection,
    MeshSection,
    ReactionSection,
)
from ionslit.case.units import Length
from ionslit.solvers.continuation import DEFAULT_MAX_STEPS, DEFAULT_MIN_FRACTION


# ------------------------------------------------------------------------------ solver, output
class SolverSection(Section):
    """Discretisation and nonlinear/linear solver settings. A steady continuation fails after
    ``continuation_max_steps`` tries or when its step in s would fall below
    ``continuation_min_fraction`` (ionslit.solvers.continuation)."""

    formulation: Literal["log", "primitive"] = "log"
    time_scheme: Literal["backward_euler", "bdf2"] = "bdf2"
    element_degree: int = Field(default=1, ge=1, le=2)
    initial_step: PositiveTime | None = None
    max_step: PositiveTime | None = None
    min_step: PositiveTime | None = None
    max_cutbacks: int = Field(default=12, ge=0)
    continuation_max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=1)
    continuation_min_fraction: float = Field(default=DEFAULT_MIN_FRACTION, gt=0, lt=1)
    petsc: dict[str, str | int | float | bool] = {}


class ProfileSection(Section):
    """A straight sampling line written as profiles/<name>.csv."""

    name: Name
    start: list[Length] = Field(min_length=2, max_length=3)
    end: list[Length] = Field(min_length=2, max_length=3)
    points: int = Field(default=100, ge=2)

    @model_validator(mode="after")
    def _same_dimension(self) -> ProfileSection:
        if len(self.start) != len(self.end):
            raise ValueError(f"profile '{self.name}': 'start' and 'end' need the same number of coordinates")
        return self


class OutputSection(Section):
    """What ``run`` writes besides the manifest: series sampling, fields, profiles, and the
    checkpoints of transient and neuron runs (``checkpoint``: on by default; one every
    ``checkpoint_interval`` of *wall* time, also every ``checkpoint_steps`` accepted steps if
    given, and always at SIGTERM; see ionslit.run_control)."""

    directory: CasePath | None = None
    every: PositiveTime | None = None
    field_every: PositiveTime | None = None
    fields: list[Literal["potential", "concentrations"]] = ["potential", "concentrations"]
    profiles: list[ProfileSection] = []
    checkpoint: bool = True
    checkpoint_interval: PositiveTime = 900.0  # s of wall time (ionslit.run_control: why)
    checkpoint_steps: int | None = Field(default=None, ge=1)


# -------------------------------------------------------------------------------------- case
class Case(Section):
    """A whole study, as written in one TOML file."""

    name: Name
    description: str = ""
    geometry: GeometrySection | None = None
    mesh: MeshSection = MeshSection()
    electrolyte: ElectrolyteSection | None = None
    reactions: list[ReactionSection] = []
    boundary: BoundarySection = BoundarySection()
    protocol: ProtocolSection = SteadyProtocol(kind="steady")
    circuit: CircuitSection | None = None
    analysis: AnalysisSection = AnalysisSection()
    calibration: CalibrationSection | None = None
    solver: SolverSection = SolverSection()
    output: OutputSection = OutputSection()

    @model_validator(mode="after")
    def _slit_or_circuit(self) -> Case:
        if self.circuit is None and (self.geometry is None or self.electrolyte is None):
            sections = {"geometry": self.geometry, "electrolyte": self.electrolyte}
            missing = [key for key, section in sections.items() if section is None]
            raise ValueError(f"a slit case needs the section(s) [{'], ['.join(missing)}]")
        return self
