"""Checks across sections, after each section is valid on its own (names, geometry, neutrality)."""

from __future__ import annotations

from ionslit import translate
from ionslit.case.schema import Case
from ionslit.coupling.reduced import ReducedModel
from ionslit.meshes.kinds import boundary_group_names
from ionslit.meshes.validation import GeometryError, validate_geometry
from ionslit.solvers.kinetics import ReactionError, bind_reactions


def check_consistency(case: Case) -> list[str]:
    """Problems as ``key = value: message`` lines (empty when the case is consistent)."""
    problems: list[str] = []
    if case.geometry is not None:
        problems += _geometry_problems(case)
    if case.electrolyte is not None:
        problems += _reaction_problems(case) or _electrolyte_problems(case)
    problems += _circuit_problems(case)
    return problems


def _geometry_problems(case: Case) -> list[str]:
    try:
        validate_geometry(translate.geometry(case))
    except GeometryError as error:
        return [f"geometry.{error.key} = {error.value:g} m: {error.message}"]
    assert case.geometry is not None, "a slit case has a [geometry] section"
    problems = []
    groups = boundary_group_names(case.geometry.kind)
    electrodes = {"boundary.left": case.boundary.left, "boundary.right": case.boundary.right}
    for key, name in electrodes.items():
        if name not in groups:
            problems.append(f"{key} = {name!r}: not a boundary of a '{case.geometry.kind}' "
                            f"geometry (its boundaries: {', '.join(groups)})")
    if case.boundary.left == case.boundary.right:
        problems.append(f"boundary.right = {case.boundary.right!r}: the two electrodes must differ")
    for name in case.boundary.walls:
        if name not in groups or name in electrodes.values():
            walls = ", ".join(sorted(set(groups) - set(electrodes.values())))
            problems.append(f"boundary.walls.{name}: not a wall of a '{case.geometry.kind}' "
                            f"geometry (its walls: {walls})")
    dimension = 3 if case.geometry.kind == "slit3d" else 2
    for index, profile in enumerate(case.output.profiles):
        if len(profile.start) != dimension:
            problems.append(f"output.profiles.{index}.start: a '{case.geometry.kind}' geometry "
                            f"needs {dimension} coordinates per point, got {len(profile.start)}")
    return problems


def _reaction_problems(case: Case) -> list[str]:
    """Each reaction parses, its rate constants have the units its orders need, its species
    exist and it balances charge (and elements where the names are formulas)."""
    problems = []
    section = case.electrolyte
    assert section is not None, "a slit case has an [electrolyte] section"
    valences = {s.name: s.valence for s in section.species}
    for index, reaction in enumerate(case.reactions):
        single = case.model_copy(update={"reactions": [reaction]})
        try:
            bind_reactions(translate.reactions(single), valences, section.temperature,
                           section.relative_permittivity)
        except ReactionError as error:
            problems.append(f"reactions.{index}: {error}")
    return problems


def _electrolyte_problems(case: Case) -> list[str]:
    """ionslit.solvers validates its electrolyte (neutrality, a mobile ion...): report its verdict
    (also for the reservoirs after a concentration step)."""
    try:
        translate.electrolyte(case)
    except ValueError as error:
        return [f"electrolyte: {error}"]
    if case.protocol.kind != "concentration_step":
        return []
    assert case.electrolyte is not None, "a slit case has an [electrolyte] section"
    names = [s.name for s in case.electrolyte.species]
    steps = translate.concentration_steps(case)
    unknown = [f"protocol.{r.side}.{r.species}: no species '{r.species}' in [electrolyte] "
               f"({', '.join(names)})" for r in steps if r.species not in names]
    if unknown:
        return unknown
    if case.solver.formulation == "log":
        zero = [f"protocol.{r.side}.{r.species} = 0: the log formulation needs c > 0 (give a tiny "
                "value, e.g. 1e-12 mM)" for r, value in steps.items() if value <= 0]
        if zero:
            return zero
    try:
        translate.electrolyte(case, stepped=True)
    except ValueError as error:
        return [f"protocol: the reservoirs after the concentration step: {error}"]
    return []


def _circuit_problems(case: Case) -> list[str]:
    """Every reduced-memristor file of the circuit is readable and valid (live slits' case
    files are loaded, and so checked, by the loader)."""
    if case.circuit is None:
        return []
    problems = []
    for index, branch in enumerate(case.circuit.branches):
        if branch.reduced is not None:
            try:
                ReducedModel.load(branch.reduced)
            except (OSError, ValueError, KeyError) as error:
                problems.append(f"circuit.branches.{index}.reduced = '{branch.reduced}': {error}")
    return problems
