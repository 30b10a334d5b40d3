"""The case-file schema: one pydantic model per TOML section, quantities converted to SI.

Every section rejects unknown keys (with a "did you mean" hint); every dimensional value is
written with a unit and checked for its dimension (``ionslit.case.units``). Validation happens
once, before any mesh is built; ionslit.meshes, ionslit.solvers and ionslit.coupling receive plain dataclasses made by ``to_*``
methods and never see this module.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ionslit.case.units import (
    AnyQuantity,
    Area,
    Capacitance,
    Conductance,
    Concentration,
    Current,
    Diffusivity,
    ElectricField,
    Frequency,
    Length,
    SurfaceChargeDensity,
    Temperature,
    Time,
    Voltage,
    to_si,
)


class Section(BaseModel):
    """Base of every section: frozen, unknown keys are errors with a hint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint} (allowed: {allowed})",
                        {"key": key, "hint": hint, "allowed": ", ".join(allowed)},
                    )
        return data


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative paths in a case file are relative to the case file's folder."""
    base = (info.context or {}).get("base_dir")
    return value if value.is_absolute() or base is None else (Path(base) / value).resolve()


CasePath = Annotated[Path, AfterValidator(_resolve_path)]
PositiveLength = Annotated[Length, Field(gt=0)]
NonNegativeLength = Annotated[Length, Field(ge=0)]
PositiveTime = Annotated[Time, Field(gt=0)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_+\-]*$")]


# ---------------------------------------------------------------------------------- geometry
class SlitGeometrySection(Section):
    """Planar 2D cross-section: slit of length x height between rectangular reservoirs."""

    kind: Literal["slit"]
    length: Length
    height: Length
    reservoir_length: Length
    reservoir_height: Length
    mouth_radius: Length = 0.0
    depth: Length = 1.0


class ConeGeometrySection(Section):
    """Axisymmetric conical channel between cylindrical reservoirs."""

    kind: Literal["cone"]
    length: Length
    tip_radius: Length
    base_radius: Length
    reservoir_length: Length
    reservoir_radius: Length
    mouth_radius: Length = 0.0


class SlitPlaneGeometrySection(Section):
    """In-plane view of an ångström slit; ``height`` is the sheet spacing (layer depth)."""

    kind: Literal["slit_plane"]
    length: Length
    width: Length
    height: Length
    reservoir_length: Length
    reservoir_width: Length
    mouth_radius: Length = 0.0


class Slit3DGeometrySection(Section):
    """3D slab slit between box reservoirs."""

    kind: Literal["slit3d"]
    length: Length
    width: Length
    height: Length
    reservoir_length: Length
    reservoir_width: Length
    reservoir_height: Length


GeometrySection = Annotated[
    SlitGeometrySection | ConeGeometrySection | SlitPlaneGeometrySection | Slit3DGeometrySection,
    Field(discriminator="kind"),
]


class MeshSection(Section):
    """Cell sizes: at charged walls a fraction of the Debye length unless ``wall_size`` is given."""

    cells_per_debye_length: float = Field(4.0, gt=0)
    wall_size: PositiveLength | None = None
    max_size: PositiveLength | None = None
    mouth_size: PositiveLength | None = None
    cells_across_slit: int = Field(8, ge=1)
    growth: float = Field(1.3, gt=1.0, le=3.0)
    cache_dir: CasePath | None = None


# ------------------------------------------------------------------------------- electrolyte
def _concentration_or_equilibrium(value: Any) -> Any:
    return value if value == "equilibrium" else to_si(value, "concentration")


ConcentrationOrEquilibrium = Annotated[
    float | Literal["equilibrium"], BeforeValidator(_concentration_or_equilibrium)
]


RegionNames = Annotated[Name | list[Name], Field(min_length=1)]


class SpeciesSection(Section):
    """An ion or a cluster: valence, diffusivity (0 for immobile) and bulk concentrations.

    ``region`` (a cell group, e.g. "slit", or a list of them): an immobile species that exists
    only there (charged sites bound to the sheets and their pairs); ``concentration`` is then
    its value inside the region ("equilibrium": none of it before the reactions form it) and it
    is 0 elsewhere, with no reservoir condition."""

    name: Name
    valence: int
    diffusivity: Annotated[Diffusivity, Field(ge=0)]
    concentration: ConcentrationOrEquilibrium | None = None
    concentration_left: ConcentrationOrEquilibrium | None = None
    concentration_right: ConcentrationOrEquilibrium | None = None
    region: RegionNames | None = None

    @model_validator(mode="after")
    def _both_reservoirs_known(self) -> SpeciesSection:
        if self.region is not None:
            if self.diffusivity != 0:
                raise ValueError(f"species '{self.name}': only immobile species (diffusivity "
                                 "'0 m^2/s') can be restricted to a region")
            if self.concentration is None or self.concentration_left is not None \
                    or self.concentration_right is not None:
                raise ValueError(f"species '{self.name}' (region {self.region!r}): give its "
                                 "value inside the region as 'concentration' (no "
                                 "concentration_left/right: it is not in the reservoirs)")
        for side in ("left", "right"):
            value = getattr(self, f"concentration_{side}")
            if value is None and self.concentration is None:
                raise ValueError(
                    f"species '{self.name}': give 'concentration' (both reservoirs) "
                    f"or 'concentration_{side}'"
                )
            if isinstance(value, float) and value < 0:
                raise ValueError(f"species '{self.name}': concentration_{side} must be >= 0")
        if isinstance(self.concentration, float) and self.concentration < 0:
            raise ValueError(f"species '{self.name}': concentration must be >= 0")
        return self

    def reservoir_concentration(self, side: Literal["left", "right"]) -> float | str:
        """Bulk concentration (mol/m^3) in the given reservoir, or "equilibrium"."""
        value = getattr(self, f"concentration_{side}")
        return self.concentration if value is None else value


class ElectrolyteSection(Section):
    """Solvent properties and the list of species."""

    temperature: Annotated[Temperature, Field(gt=0)] = 298.15
    relative_permittivity: float = Field(78.4, gt=0)
    species: list[SpeciesSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> ElectrolyteSection:
        names = [s.name for s in self.species]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"species names must be unique; repeated: {', '.join(duplicates)}")
        return self


# --------------------------------------------------------------------------------- reactions
class DissociationLawSection(Section):
    """Field dependence f(|E|) of the dissociation rate k_d = k_d0 f(|E|)."""

    kind: Literal["constant", "onsager", "power", "table"] = "constant"
    field: Annotated[ElectricField, Field(gt=0)] | None = None
    exponent: float | None = Field(None, gt=0)
    saturation: Annotated[ElectricField, Field(gt=0)] | None = None
    file: CasePath | None = None


class ReactionSection(Section):
    """A reaction such as "Ca + SO4 <-> CaSO4" with mass-action kinetics.

    Rate constants are quantities whose unit follows the reaction's orders (checked against the
    equation): k_a in (mol/m^3)^(1 - n_reactants)/s (m^3/(mol s) for A + B), K_d in
    (mol/m^3)^(n_reactants - n_products) (mol/m^3 for A + B <-> P), k_d0 in
    (mol/m^3)^(1 - n_products)/s. ``lumped_field = true``: the law sees the slit's mean field
    |V| / L (applied voltage over the geometry's length, the seed paper's E = V / L) instead of
    the local |E| (needed for a law that falls with the field: see MassActionReaction).
    """

    equation: str
    association_rate: AnyQuantity
    dissociation_constant: AnyQuantity | None = None
    dissociation_rate: AnyQuantity | None = None
    law: DissociationLawSection = DissociationLawSection()
    region: RegionNames | None = None  # cell group(s) the reaction runs in (None: everywhere)
    lumped_field: bool = False

    @model_validator(mode="after")
    def _one_dissociation_parameter(self) -> ReactionSection:
        if (self.dissociation_constant is None) == (self.dissociation_rate is None):
            raise ValueError(
                f"reaction '{self.equation}': give exactly one of 'dissociation_constant' "
                "(K_d) and 'dissociation_rate' (k_d0)"
            )
        return self


# ---------------------------------------------------------------------------------- boundary
class WallSection(Section):
    """A wall carries either a surface charge density or a fixed surface potential."""

    surface_charge: SurfaceChargeDensity | None = None
    surface_potential: Voltage | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> WallSection:
        if (self.surface_charge is None) == (self.surface_potential is None):
            raise ValueError("give exactly one of 'surface_charge' and 'surface_potential'")
        return self


class BoundarySection(Section):
    """Electrode ends (potential V(t) on ``left``, 0 on ``right``) and charged walls by name."""

    left: str = "reservoir_left"
    right: str = "reservoir_right"
    walls: dict[str, WallSection] = {}


# ---------------------------------------------------------------------------------- protocol
class SteadyProtocol(Section):
    """One steady solve at a fixed applied voltage (left electrode, right grounded)."""

    kind: Literal["steady"]
    voltage: Voltage = 0.0


class CurrentClampProtocol(Section):
    """Steady solve with the electrode potential as unknown and the total current prescribed."""

    kind: Literal["current_clamp"]
    current: Current = 0.0


class StepProtocol(Section):
    """Piecewise-constant voltage: ``voltages[k]`` held for ``durations[k]``."""

    kind: Literal["step"]
    voltages: list[Voltage] = Field(min_length=1)
    durations: list[PositiveTime] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> StepProtocol:
        if len(self.voltages) != len(self.durations):
            raise ValueError("'voltages' and 'durations' must have the same length")
        return self


class SineProtocol(Section):
    """V(t) = offset + amplitude sin(2 pi f t) for a number of cycles."""

    kind: Literal["sine"]
    amplitude: Voltage
    frequency: Annotated[Frequency, Field(gt=0)]
    cycles: float = Field(1.0, gt=0)
    offset: Voltage = 0.0


class TriangleProtocol(Section):
    """Triangle wave 0 -> +amplitude -> -amplitude -> 0 for a number of cycles."""

    kind: Literal["triangle"]
    amplitude: Voltage
    frequency: Annotated[Frequency, Field(gt=0)]
    cycles: float = Field(1.0, gt=0)


class PulseTrainProtocol(Section):
    """Rectangular pulses of ``amplitude`` and ``width`` every ``period``, after ``delay``."""

    kind: Literal["pulse_train"]
    amplitude: Voltage
    width: PositiveTime
    period: PositiveTime
    count: int = Field(1, ge=1)
    delay: Annotated[Time, Field(ge=0)] = 0.0
    baseline: Voltage = 0.0

    @model_validator(mode="after")
    def _width_fits(self) -> PulseTrainProtocol:
        if self.width >= self.period:
            raise ValueError("pulse 'width' must be shorter than 'period'")
        return self


class ConcentrationStepProtocol(Section):
    """Steady state at ``voltage`` with the reservoirs of [electrolyte]; at t = 0 the reservoir
    concentrations given in ``left`` / ``right`` (species name -> concentration) replace them
    and the relaxation is followed for ``duration`` at constant ``voltage``."""

    kind: Literal["concentration_step"]
    duration: PositiveTime
    voltage: Voltage = 0.0
    left: dict[str, Annotated[Concentration, Field(ge=0)]] = {}
    right: dict[str, Annotated[Concentration, Field(ge=0)]] = {}

    @model_validator(mode="after")
    def _something_steps(self) -> ConcentrationStepProtocol:
        if not self.left and not self.right:
            raise ValueError("give the new reservoir concentrations in 'left' and/or 'right' "
                             '(e.g. left = { K = "20 mM", Cl = "20 mM" })')
        return self


class FrequencySweepProtocol(Section):
    """V(t) = amplitude sin(2 pi f t) at each frequency of a sweep: ``frequencies`` (a list) or
    ``frequency_min`` .. ``frequency_max`` with ``points_per_decade`` (log-spaced, both ends
    included). Every frequency starts from the same steady state at 0 V and runs ``cycles``
    periods (the last one is analysed) with at most 1 / (``steps_per_cycle`` f) per step."""

    kind: Literal["frequency_sweep"]
    amplitude: Voltage
    frequencies: list[Annotated[Frequency, Field(gt=0)]] | None = None
    frequency_min: Annotated[Frequency, Field(gt=0)] | None = None
    frequency_max: Annotated[Frequency, Field(gt=0)] | None = None
    points_per_decade: float = Field(4.0, gt=0)
    cycles: int = Field(2, ge=1)
    steps_per_cycle: int = Field(150, ge=8)

    @model_validator(mode="after")
    def _frequencies_given(self) -> FrequencySweepProtocol:
        listed = self.frequencies is not None
        ranged = self.frequency_min is not None or self.frequency_max is not None
        if listed == ranged:
            raise ValueError("give either 'frequencies' (a list) or 'frequency_min' and "
                             "'frequency_max' (with 'points_per_decade')")
        if ranged and (self.frequency_min is None or self.frequency_max is None
                       or not self.frequency_min < self.frequency_max):
            raise ValueError("give both 'frequency_min' < 'frequency_max'")
        if listed and len(self.frequencies) < 3:
            raise ValueError("a sweep needs at least 3 frequencies")
        return self

    def frequency_list(self) -> list[float]:
        """The sweep's frequencies (Hz), increasing."""
        if self.frequencies is not None:
            return sorted(self.frequencies)
        import math

        decades = math.log10(self.frequency_max / self.frequency_min)
        n = max(2, round(decades * self.points_per_decade) + 1)
        return [self.frequency_min * 10 ** (decades * k / (n - 1)) for k in range(n)]


class PiecewiseLinearProtocol(Section):
    """Voltage interpolated linearly from a CSV file with columns time_s, voltage_V."""

    kind: Literal["piecewise_linear"]
    file: CasePath


ProtocolSection = Annotated[
    SteadyProtocol
    | CurrentClampProtocol
    | StepProtocol
    | SineProtocol
    | TriangleProtocol
    | PulseTrainProtocol
    | PiecewiseLinearProtocol
    | ConcentrationStepProtocol
    | FrequencySweepProtocol,
    Field(discriminator="kind"),
]


# ----------------------------------------------------------------------------------- circuit
class StimulusSection(Section):
    """Stimulus current into the membrane node.

    ``constant``: ``current``; ``step``: ``baseline`` until ``start``, then ``current``;
    ``pulse``/``pulse_train``: ``baseline`` with pulses of ``current`` lasting ``width`` from
    ``start`` (every ``period``, ``count`` times); ``sine``: ``baseline + current sin(2 pi
    frequency (t - start))``; ``piecewise_linear``: a CSV ``file`` with time_s, current_A.
    """

    kind: Literal["constant", "step", "pulse", "pulse_train", "sine", "piecewise_linear"] = "constant"
    current: Current = 0.0
    baseline: Current = 0.0
    start: Annotated[Time, Field(ge=0)] = 0.0
    width: PositiveTime | None = None
    period: PositiveTime | None = None
    count: int = Field(1, ge=1)
    frequency: Annotated[Frequency, Field(gt=0)] | None = None
    file: CasePath | None = None

    @model_validator(mode="after")
    def _needed_keys(self) -> StimulusSection:
        needed = {"pulse": ["width"], "pulse_train": ["width", "period"], "sine": ["frequency"],
                  "piecewise_linear": ["file"]}.get(self.kind, [])
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(f"a '{self.kind}' stimulus needs {', '.join(missing)}")
        return self


class LeakSection(Section):
    """A linear leak g_L (U - E_L)."""

    conductance: Annotated[Conductance, Field(ge=0)]
    reversal: Voltage = 0.0


class BranchSection(Section):
    """A battery in series with ``count`` identical elements in parallel; the element is a live
    slit (``slit``: a slit case file), a reduced memristor (``reduced``: reduced_model.json) or a
    Hodgkin-Huxley channel (``channel``: na, k or leak; 1952 squid-axon parameters per unit
    area, scaled by ``[circuit] area``)."""

    name: Name
    battery: Voltage = 0.0
    count: int = Field(1, ge=1)
    slit: CasePath | None = None
    reduced: CasePath | None = None
    channel: Literal["na", "k", "leak"] | None = None

    @model_validator(mode="after")
    def _one_element(self) -> BranchSection:
        given = [key for key in ("slit", "reduced", "channel") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(f"branch '{self.name}': give exactly one of 'slit', 'reduced', "
                             f"'channel' (got {given or 'none'})")
        return self


class CircuitSection(Section):
    """Lumped neuron: C dU/dt = I_stim - sum_k n_k I_k(U - E_k) - g_L (U - E_L)."""

    capacitance: Annotated[Capacitance, Field(gt=0)]
    duration: PositiveTime
    area: Annotated[Area, Field(gt=0)] = 1.0
    initial_voltage: Voltage | None = None
    stimulus: StimulusSection = StimulusSection()
    leak: LeakSection | None = None
    branches: list[BranchSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_branch_names(self) -> CircuitSection:
        names = [b.name for b in self.branches]
        if len(set(names)) != len(names):
            raise ValueError(f"branch names must be unique: {names}")
        if self.initial_voltage is None and any(b.slit is not None for b in self.branches):
            raise ValueError("a circuit with live slits needs 'initial_voltage' (finding the "
                             "resting potential would take many steady PNP solves; take it "
                             "from the reduced neuron, e.g.)")
        return self


class FICurveSection(Section):
    """Firing rate at each constant stimulus, after a transient."""

    stimuli: list[Current] = Field(min_length=1)
    duration: PositiveTime
    transient: Annotated[Time, Field(ge=0)] = 0.0


class PulseThresholdSection(Section):
    """Smallest amplitude of one pulse of ``width`` that evokes a spike within ``duration``,
    by bisection in [``lower``, ``upper``]."""

    width: PositiveTime
    lower: Current
    upper: Current
    duration: PositiveTime
    start: Annotated[Time, Field(ge=0)] = 0.0


class ReducedModelSection(Section):
    """The reduced memristor tau(V) dg/dt = g_inf(V) - g of a slit under a ``step`` protocol:
    g_inf(V) from steady solves at ``voltages`` (include 0 V and the drive amplitude), tau(V)
    from exponential fits of G = I/V after each step (the first ``skip`` after a step and
    ``skip_fraction`` of each plateau are left out: the fast ionic transient). ``symmetric``:
    the slit is symmetric (g_inf and tau depend on |V| only), so what is measured at V > 0 is
    used at -V as well (give the voltages and steps for V >= 0 only). Written as
    reduced_model.json and, with ``spice``, memristor.cir."""

    voltages: list[Voltage] = Field(min_length=2)
    skip: Annotated[Time, Field(ge=0)] = 0.0
    skip_fraction: float = Field(0.0, ge=0, lt=1)
    symmetric: bool = False
    spice: bool = True


class AnalysisSection(Section):
    """Spike detection and the neuron analyses to run after the main simulation; for slits,
    the memristor analyses: ``reduced_model`` (steps) and ``memory_time_shape`` (sweeps: the
    g_inf shape that fixes k in tau = k / (2 pi f_peak): "even" (k = 1/2, symmetric slits) or
    "odd_linear" (k = 1)). ``rtol`` and ``atol`` bound the circuit integrator's local error in
    U per step: atol + rtol |U| (atol in volts; lower it for circuits that swing millivolts)."""

    spike_threshold: Voltage = 0.0
    spike_rearm: Voltage | None = None
    rtol: float = Field(1e-4, gt=0, lt=1)
    atol: Annotated[Voltage, Field(gt=0)] = 1e-6
    fi_curve: FICurveSection | None = None
    pulse_threshold: PulseThresholdSection | None = None
    reduced_model: ReducedModelSection | None = None
    memory_time_shape: Literal["even", "odd_linear"] = "even"


class CalibrationSection(Section):
    """Fit of a reaction's dissociation law (and K_d) to a target G(E)/G_free table
    (``ionslit calibrate``; ``ionslit run`` also writes calibration.json): ``table`` a CSV with
    columns field_V_m, conductance_ratio (default: the packaged 2D Brownian-dynamics table of
    divalent ions), ``reaction`` the index of the [[reactions]] entry, ``law`` power or table,
    ``total_concentration`` c_tot of each partner (default: the concentration given for the
    reaction's immobile reactant, e.g. the sites), ``dissociation_constant`` to fix K_d (else
    fitted), ``saturation`` of the power law: a field, "fit" or none."""

    table: CasePath | None = None
    reaction: int = Field(0, ge=0)
    law: Literal["power", "table"] = "power"
    total_concentration: Annotated[Concentration, Field(gt=0)] | None = None
    dissociation_constant: Annotated[Concentration, Field(gt=0)] | None = None
    saturation: Annotated[ElectricField, Field(gt=0)] | Literal["fit"] | None = "fit"


# ------------------------------------------------------------------------------ solver, output
class SolverSection(Section):
    """Discretisation and nonlinear/linear solver settings."""

    formulation: Literal["log", "primitive"] = "log"
    time_scheme: Literal["backward_euler", "bdf2"] = "bdf2"
    element_degree: int = Field(1, ge=1, le=2)
    initial_step: PositiveTime | None = None
    max_step: PositiveTime | None = None
    min_step: PositiveTime | None = None
    max_cutbacks: int = Field(12, ge=0)
    petsc: dict[str, str | int | float | bool] = {}


class ProfileSection(Section):
    """A straight sampling line written as profiles/<name>.csv."""

    name: Name
    start: list[Length] = Field(min_length=2, max_length=3)
    end: list[Length] = Field(min_length=2, max_length=3)
    points: int = Field(100, ge=2)

    @model_validator(mode="after")
    def _same_dimension(self) -> ProfileSection:
        if len(self.start) != len(self.end):
            raise ValueError(f"profile '{self.name}': 'start' and 'end' need the same number of coordinates")
        return self


class OutputSection(Section):
    """What ``run`` writes besides the manifest: series sampling, fields, profiles, and the
    checkpoints of transient and neuron runs (``checkpoint``: on by default; one every
    ``checkpoint_interval`` of *wall* time, also every ``checkpoint_steps`` accepted steps if
    given, and always at SIGTERM; see ionslit.checkpoint)."""

    directory: CasePath | None = None
    every: PositiveTime | None = None
    field_every: PositiveTime | None = None
    fields: list[Literal["potential", "concentrations"]] = ["potential", "concentrations"]
    profiles: list[ProfileSection] = []
    checkpoint: bool = True
    checkpoint_interval: PositiveTime = 900.0  # s of wall time (ionslit.checkpoint: why)
    checkpoint_steps: int | None = Field(None, ge=1)


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
            missing = [k for k in ("geometry", "electrolyte") if getattr(self, k) is None]
            raise ValueError(f"a slit case needs the section(s) [{'], ['.join(missing)}]")
        return self
