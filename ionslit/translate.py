"""Case sections -> the plain SI dataclasses of ionslit.meshes, ionslit.solvers and ionslit.coupling
(the only place that knows both sides)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from ionslit.coupling.waveforms import Constant, PiecewiseLinear, PulseTrain, Sine, Triangle, Waveform
from ionslit.meshes.estimate import estimate_cell_count
from ionslit.meshes.geometry import (
    ConeGeometry,
    Geometry,
    MeshSpec,
    Slit3DGeometry,
    SlitGeometry,
    SlitPlaneGeometry,
)
from ionslit.meshes.kinds import cell_groups, characteristic_lengths
from ionslit.output import read_csv
from ionslit.solvers.boundary import Boundary, SurfaceCharge, SurfacePotential
from ionslit.solvers.electrolyte import Electrolyte, Species, debye_length
from ionslit.solvers.kinetics import (
    MassActionReaction,
    ReactionError,
    equilibrium_concentrations,
    parse_reaction,
    reaction_from_si,
)
from ionslit.solvers.options import SolverOptions
from ionslit.solvers.scales import dimensionless_groups
from ionslit.solvers.time_stepping import TimeSteppingOptions

if TYPE_CHECKING:
    from ionslit.case.schema import Case
    from ionslit.case.slit_sections import WallSection
    from ionslit.case.units import SIQuantity

_GEOMETRY_CLASSES = {
    "slit": SlitGeometry,
    "cone": ConeGeometry,
    "slit_plane": SlitPlaneGeometry,
    "slit3d": Slit3DGeometry,
}


def geometry(case: Case) -> Geometry:
    """The geometry dataclass (ionslit.meshes) for ``[geometry]`` (lengths in m)."""
    assert case.geometry is not None, "a slit case has a [geometry] section"
    return _GEOMETRY_CLASSES[case.geometry.kind](**case.geometry.model_dump())


def _region(value, what: str = "region") -> str | tuple[str, ...] | None:
    """A ``region`` key as ionslit.meshes and ionslit.solvers take it, its names checked against
    the cell groups every geometry kind has (ionslit.meshes.kinds)."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    known = cell_groups()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{what}: no cell group {unknown[0]!r} (the geometries have "
                         f"{', '.join(sorted(known))})")
    return names[0] if len(names) == 1 else names


def _runs_at_electrodes(region) -> bool:
    """Whether a reaction restricted to ``region`` runs where the electrodes are (the
    reservoir cell groups of the slit geometries, or the whole fluid)."""
    names = {region} if isinstance(region, str) else set(region)
    return bool(names & {"fluid", "reservoir_left_bulk", "reservoir_right_bulk"})


def electrolyte(case: Case, stepped: bool = False) -> Electrolyte:
    """The electrolyte (ionslit.solvers) for ``[electrolyte]`` (concentrations in mol/m^3); species
    given as "equilibrium" get their reservoir values from the reactions at zero field; with
    ``stepped``, the reservoirs after a ``concentration_step`` protocol's step.

    Species with a ``region`` are not in the reservoirs: their value is the one inside their
    region ("equilibrium" there: 0, the steady solve forms them from their partners, which
    keep their amounts) and the reservoir equilibrium leaves them and the reactions that
    involve them, or run only away from the electrodes, out (docs/theory.md#equilibrium,
    docs/theory.md#regions)."""
    section = case.electrolyte
    assert section is not None, "a slit case has an [electrolyte] section"
    steps = concentration_steps(case) if stepped else {}
    regional = {s.name for s in section.species if s.region is not None}
    given: dict[str, tuple[float | str, float | str]] = {}
    for s in section.species:
        if s.name in regional:
            continue
        left, right = s.reservoir_concentration("left"), s.reservoir_concentration("right")
        given[s.name] = (steps.get(Reservoir(s.name, "left"), left),
                         steps.get(Reservoir(s.name, "right"), right))
    valences = {s.name: s.valence for s in section.species}
    bulk_reactions = [r for r in reactions(case) if not set(r.stoichiometry) & regional
                      and (r.region is None or _runs_at_electrodes(r.region))]
    # (with region species, neutrality is the Electrolyte's check: sites may sit at electrodes)
    bulk = equilibrium_concentrations(given, bulk_reactions, None if regional else valences)
    for s in section.species:
        if s.name in regional:
            assert s.concentration is not None, "a species in a region has a concentration"
            inside = 0.0 if s.concentration == "equilibrium" else float(s.concentration)
            bulk[s.name] = (inside, inside)
    species = tuple(Species(s.name, s.valence, s.diffusivity, *bulk[s.name],
                            region=_region(s.region, f"species {s.name}: region"))
                    for s in section.species)
    return Electrolyte(species, section.temperature, section.relative_permittivity)


def _rate_value(equation: str, key: str, quantity: SIQuantity | None, expected_unit: str,
                what: str) -> float | None:
    """SI value of the rate constant ``key`` of the reaction ``equation`` (``[[reactions]]``),
    its unit checked against the reaction's order."""
    if quantity is None:
        return None
    if not quantity.dimension_of(expected_unit):
        raise ReactionError(equation, f"{key} is in {quantity.unit}; {what} needs a "
                                      f"unit of {expected_unit}")
    return quantity.value


def _concentration_power(exponent: int) -> str:
    """The unit (mol/m^3)^exponent as pint reads it ("dimensionless" for exponent 0: a
    first-order step such as A <-> B)."""
    return "dimensionless" if exponent == 0 else f"(mol/m^3)**{exponent}"


def reactions(case: Case) -> tuple[MassActionReaction, ...]:
    """The reactions of ``[[reactions]]`` in SI; ReactionError names a bad one."""
    out = []
    for section in case.reactions:
        equation = parse_reaction(section.equation)
        n_r, n_p = equation.reactant_order, equation.product_order
        k_a = _rate_value(section.equation, "association_rate", section.association_rate,
                          f"{_concentration_power(1 - n_r)}/s", f"an association of order {n_r}")
        k_d = _rate_value(section.equation, "dissociation_rate", section.dissociation_rate,
                          f"{_concentration_power(1 - n_p)}/s", f"a dissociation of order {n_p}")
        K_d = _rate_value(section.equation, "dissociation_constant",
                          section.dissociation_constant, _concentration_power(n_r - n_p),
                          f"orders {n_r} (reactants) and {n_p} (products)")
        assert k_a is not None, "association_rate is a required key"
        field_length = None
        if section.lumped_field:
            assert case.geometry is not None, "a slit case has a [geometry] section"
            field_length = case.geometry.length
        law = section.law
        out.append(reaction_from_si(section.equation, k_a, K_d, k_d, law_kind=law.kind,
                                    field=law.field, exponent=law.exponent,
                                    saturation=law.saturation, file=law.file,
                                    region=_reaction_region(section),
                                    field_length=field_length))
    return tuple(out)


def _reaction_region(section):
    try:
        return _region(section.region, "region")
    except ValueError as error:
        raise ReactionError(section.equation, str(error)) from None


class Reservoir(NamedTuple):
    """One species in one reservoir (``side``: "left" or "right")."""

    species: str
    side: Literal["left", "right"]


def concentration_steps(case: Case) -> dict[Reservoir, float]:
    """Reservoir -> new concentration (mol/m^3) of a ``concentration_step`` protocol (empty for
    other protocols)."""
    p = case.protocol
    if p.kind != "concentration_step":
        return {}
    sides: dict[Literal["left", "right"], dict[str, float]] = {"left": p.left, "right": p.right}
    return {Reservoir(name, side): value for side, values in sides.items()
            for name, value in values.items()}


def _wall_condition(wall: WallSection) -> SurfaceCharge | SurfacePotential:
    """Surface charge (C/m^2) or surface potential (V) of one ``[boundary.walls.<name>]``."""
    if wall.surface_charge is not None:
        return SurfaceCharge(wall.surface_charge)
    assert wall.surface_potential is not None, "validated: a charge or a potential"
    return SurfacePotential(wall.surface_potential)


def boundary(case: Case) -> Boundary:
    """Electrodes and wall conditions for ``[boundary]``."""
    walls = {name: _wall_condition(w) for name, w in case.boundary.walls.items()}
    return Boundary(left=case.boundary.left, right=case.boundary.right, walls=walls)


def charged_walls(case: Case) -> tuple[str, ...]:
    """Walls with a double layer to resolve: nonzero surface charge or surface potential."""
    return tuple(
        name for name, w in case.boundary.walls.items()
        if (w.surface_charge or 0.0) != 0.0 or (w.surface_potential or 0.0) != 0.0
    )


def mesh_spec(case: Case) -> MeshSpec:
    """Cell sizes for ``[mesh]``: ``lambda_D / cells_per_debye_length`` at charged walls unless
    ``wall_size`` is given; ``max_size`` defaults to 1/20 of the largest extent of the geometry;
    the mouths get the wall size where walls are charged, else the slit's own cell size."""
    section, lengths = case.mesh, characteristic_lengths(geometry(case))
    lam = debye_length(electrolyte(case))
    max_size = section.max_size or max(lengths.values()) / 20
    across = lengths["height"] / section.cells_across_slit
    walls = charged_walls(case)
    wall_size = min(section.wall_size or lam / section.cells_per_debye_length, max_size)
    mouth_size = section.mouth_size or min(wall_size if walls else across, max_size)
    return MeshSpec(
        wall_size=wall_size,
        max_size=max_size,
        mouth_size=min(mouth_size, max_size),
        charged_walls=walls,
        cells_across_slit=section.cells_across_slit,
        growth=section.growth,
        debye_length=lam,
    )


def summary(case: Case) -> dict:
    """What ``ionslit check`` prints besides the parameters: mesh estimate, dimensionless groups."""
    if case.geometry is None:
        return {}
    lengths = characteristic_lengths(geometry(case))
    spec = mesh_spec(case)
    return {
        "mesh": {
            "estimated_cells": estimate_cell_count(geometry(case), spec),
            "wall_size_m": spec.wall_size,
            "max_size_m": spec.max_size,
            "mouth_size_m": spec.mouth_size,
            "charged_walls": list(spec.charged_walls),
            "debye_length_m": spec.debye_length,
        },
        "dimensionless_groups": dimensionless_groups(
            electrolyte(case), boundary(case), height=lengths["height"],
            length=lengths["length"], voltage=peak_voltage(case)),
    }


def peak_voltage(case: Case) -> float | None:
    """Largest |applied voltage| of a voltage protocol (V); None under current clamp."""
    p = case.protocol
    values: list[float]
    if p.kind == "steady":
        values = [p.voltage]
    elif p.kind == "concentration_step":
        values = [p.voltage]
    elif p.kind == "step":
        values = list(p.voltages)
    elif p.kind == "sine":
        values = [p.offset + p.amplitude, p.offset - p.amplitude]
    elif p.kind == "triangle":
        values = [p.amplitude]
    elif p.kind == "frequency_sweep":
        values = [p.amplitude]
    elif p.kind == "pulse_train":
        values = [p.baseline, p.baseline + p.amplitude]
    else:  # piecewise_linear, current_clamp
        values = []
    return max((abs(v) for v in values), default=None)


def solver_options(case: Case, petsc_command_line: str = "") -> SolverOptions:
    """Numerical options for ``[solver]``; ``petsc_command_line`` (``--petsc``) is merged last."""
    section = case.solver
    return SolverOptions(
        formulation=section.formulation,
        time_scheme=section.time_scheme,
        petsc_options=dict(section.petsc),
        petsc_options_string=petsc_command_line,
        max_continuation_cutbacks=section.max_cutbacks,
        continuation_max_steps=section.continuation_max_steps,
        continuation_min_fraction=section.continuation_min_fraction,
    )


def time_stepping_options(case: Case) -> TimeSteppingOptions:
    """Step-size control for ``[solver]`` (seconds)."""
    section = case.solver
    return TimeSteppingOptions(initial_step=section.initial_step, max_step=section.max_step,
                               min_step=section.min_step, max_cutbacks=section.max_cutbacks)


def voltage_protocol(case: Case) -> tuple[Waveform, float]:
    """The transient voltage protocol for ``[protocol]`` and its end time (s)."""
    p = case.protocol
    if p.kind == "step":
        edges = np.concatenate([[0.0], np.cumsum(p.durations)])
        times = np.repeat(edges[1:-1], 2)  # a jump at every interior edge
        voltages = np.repeat(p.voltages, 2)[1:-1]
        times = np.concatenate([[0.0], times, [edges[-1]]])
        voltages = np.concatenate([[p.voltages[0]], voltages, [p.voltages[-1]]])
        return PiecewiseLinear(times, voltages), float(edges[-1])
    if p.kind == "sine":
        return Sine(p.amplitude, p.frequency, p.offset), p.cycles / p.frequency
    if p.kind == "triangle":
        return Triangle(p.amplitude, p.frequency), p.cycles / p.frequency
    if p.kind == "pulse_train":
        protocol = PulseTrain(p.amplitude, p.width, p.delay, p.period, p.count, p.baseline)
        return protocol, p.delay + p.count * p.period
    if p.kind == "piecewise_linear":
        table = read_csv(p.file)
        return PiecewiseLinear(np.asarray(table["time_s"], dtype=float),
                               np.asarray(table["voltage_V"], dtype=float)), \
            float(table["time_s"][-1])
    if p.kind == "concentration_step":  # the step itself is applied by the study
        return Constant(p.voltage), p.duration
    if p.kind == "frequency_sweep":  # one sine per frequency: see sweep_protocols
        raise ValueError("a frequency sweep is one sine protocol per frequency: use "
                         "translate.sweep_protocols")
    raise ValueError(f"protocol kind '{p.kind}' is not a transient voltage protocol")


def sweep_protocols(case: Case) -> list[tuple[float, Sine, float, TimeSteppingOptions]]:
    """(frequency (Hz), sine protocol, end time (s), step control) for each frequency of a
    ``frequency_sweep`` protocol: ``cycles`` periods, steps of at most 1 / (steps_per_cycle f)
    (and at least 1e-9 of a period); [solver] initial_step/min_step are fractions of nothing
    here, so they are ignored."""
    p = case.protocol
    if p.kind != "frequency_sweep":
        raise ValueError(f"protocol kind '{p.kind}' is not a frequency sweep")
    out = []
    for f in p.frequency_list():
        period = 1.0 / f
        options = TimeSteppingOptions(initial_step=period / (4 * p.steps_per_cycle),
                                      max_step=period / p.steps_per_cycle,
                                      min_step=1e-9 * period,
                                      max_cutbacks=case.solver.max_cutbacks)
        out.append((f, Sine(p.amplitude, f), p.cycles * period, options))
    return out
