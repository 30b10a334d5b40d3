"""Case files: units to SI, unknown keys, wrong dimensions, overrides, relative paths."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ionslit import translate
from ionslit.case import CaseError, load_case
from ionslit.case.units import to_si
from ionslit.solvers import SolverOptions

BASE = """
name = "t"
[geometry]
kind = "slit"
length = "100 nm"
height = "2 nm"
reservoir_length = "50 nm"
reservoir_height = "50 nm"

[[electrolyte.species]]
name = "K"
valence = 1
diffusivity = "1.96e-9 m^2/s"
concentration_left = "10 mM"
concentration_right = "1 mM"

[[electrolyte.species]]
name = "Cl"
valence = -1
diffusivity = "2.03e-9 m^2/s"
concentration_left = "10 mM"
concentration_right = "1 mM"

[boundary]
walls = { slit_wall_top = { surface_charge = "-20 mC/m^2" } }
"""


def write(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(CaseError) as info:
        load_case(write(tmp_path, text), overrides)
    return info.value.problems


@pytest.mark.parametrize(
    "text, dimension, si",
    [
        ("2 um", "length", 2e-6),
        ("0.7 nm", "length", 7e-10),
        ("10 mM", "concentration", 10.0),
        ("1 M", "concentration", 1000.0),
        ("-20 mC/m^2", "surface charge density", -0.02),
        ("0.2 V", "voltage", 0.2),
        ("1 kHz", "frequency", 1000.0),
        ("298.15 K", "temperature", 298.15),
        ("25 degC", "temperature", 298.15),
        ("1e3 m^3/(mol*s)", "association rate constant", 1000.0),
        ("0.1 fF", "capacitance", 1e-16),
    ],
)
def test_quantities_convert_to_si(text, dimension, si):
    assert to_si(text, dimension) == pytest.approx(si, rel=1e-14)


def test_valid_case_is_in_si(tmp_path):
    case = load_case(write(tmp_path, BASE)).case
    assert case.geometry.length == pytest.approx(1e-7, rel=1e-15)
    assert case.electrolyte.species[0].concentration_left == 10.0
    assert case.electrolyte.species[1].reservoir_concentration("right") == 1.0
    assert case.boundary.walls["slit_wall_top"].surface_charge == pytest.approx(-0.02)
    assert case.electrolyte.temperature == 298.15


def test_unknown_key_suggests_the_right_one(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace('length = "100 nm"', 'lenght = "100 nm"'))
    assert problem.startswith("geometry.lenght")
    assert "did you mean 'length'" in problem


def test_unknown_section_is_an_error(tmp_path):
    (problem,) = problems(tmp_path, BASE + '\n[solvr]\nformulation = "log"\n')
    assert "unknown key 'solvr'" in problem and "did you mean 'solver'" in problem


def test_wrong_dimension_names_key_and_expected_dimension(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace('height = "2 nm"', 'height = "0.2 V"'))
    assert problem.startswith("geometry.height = '0.2 V'")
    assert "is a voltage, expected a length" in problem


def test_bare_number_needs_a_unit(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace('height = "2 nm"', "height = 2"))
    assert "geometry.height" in problem and "needs a unit" in problem


def test_unknown_geometry_kind_lists_the_allowed_ones(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace('kind = "slit"', 'kind = "tube"'))
    assert problem.startswith("geometry") and "'slit'" in problem and "'cone'" in problem


def test_every_problem_is_reported_at_once(tmp_path):
    text = BASE.replace('height = "2 nm"', 'height = "2 s"').replace("valence = 1", "valence = 1\ncharge = 1")
    found = problems(tmp_path, text)
    assert len(found) == 2, found


def test_override_equals_editing_the_file(tmp_path):
    edited = load_case(write(tmp_path, BASE.replace('"100 nm"', '"3 um"'), "edited.toml")).case
    overridden = load_case(write(tmp_path, BASE), ["geometry.length=3 um"]).case
    assert overridden.geometry == edited.geometry
    both = ["electrolyte.species.K.concentration_right=5mM"]
    by_name = load_case(write(tmp_path, BASE),
                        both + ['electrolyte.species.Cl.concentration_right="5 mM"']).case
    by_index = load_case(write(tmp_path, BASE), both + ["electrolyte.species.1.concentration_right=5mM"]).case
    assert by_name.electrolyte == by_index.electrolyte
    assert by_name.electrolyte.species[1].concentration_right == 5.0
    numeric = load_case(write(tmp_path, BASE), ["mesh.cells_per_debye_length=6"]).case
    assert numeric.mesh.cells_per_debye_length == 6


def test_override_is_validated_like_the_file(tmp_path):
    (problem,) = problems(tmp_path, BASE, ("geometry.length=2 V",))
    assert problem.startswith("geometry.length = '2 V'") and "expected a length" in problem
    (problem,) = problems(tmp_path, BASE, ("geometry.lenght=2 nm",))
    assert "did you mean 'length'" in problem
    (problem,) = problems(tmp_path, BASE, ("electrolyte.species.Na.valence=1",))
    assert "electrolyte.species.Na" in problem and "'K'" in problem


def test_relative_paths_resolve_against_the_case_folder(tmp_path):
    sub = tmp_path / "study"
    sub.mkdir()
    text = BASE + '\n[protocol]\nkind = "piecewise_linear"\nfile = "drive.csv"\n'
    case = load_case(write(sub, text)).case
    assert case.protocol.file == (sub / "drive.csv").resolve()


def test_negative_length_names_the_key(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace('length = "100 nm"', 'length = "-100 nm"'))
    assert problem.startswith("geometry.length = -1e-07 m") and "> 0" in problem
    (problem,) = problems(tmp_path, BASE.replace('reservoir_height = "50 nm"', 'reservoir_height = "1 nm"'))
    assert problem.startswith("geometry.reservoir_height") and "narrower than the slit" in problem


@pytest.mark.parametrize("override, expected", [
    ("solver.continuation_max_steps=0", "greater than or equal to 1"),
    ("solver.continuation_max_steps=2.5", "valid integer"),
    ("solver.continuation_min_fraction=0", "greater than 0"),
    ("solver.continuation_min_fraction=1.5", "less than 1"),
])
def test_continuation_limits_name_the_key(tmp_path, override, expected):
    (problem,) = problems(tmp_path, BASE, (override,))
    assert problem.startswith(override.split("=")[0]) and expected in problem


def test_continuation_limits_reach_the_solver_options(tmp_path):
    case = load_case(write(tmp_path, BASE), ["solver.continuation_max_steps=50",
                                             "solver.continuation_min_fraction=1e-4"]).case
    options = translate.solver_options(case)
    assert options.continuation_max_steps == 50 and options.continuation_min_fraction == 1e-4
    defaults = translate.solver_options(load_case(write(tmp_path, BASE)).case)
    assert defaults.continuation_max_steps == SolverOptions().continuation_max_steps
    assert defaults.continuation_min_fraction == SolverOptions().continuation_min_fraction


def test_wall_group_must_exist(tmp_path):
    (problem,) = problems(tmp_path, BASE.replace("slit_wall_top =", "slit_wall_tpo ="))
    assert "boundary.walls.slit_wall_tpo" in problem and "slit_wall_top" in problem


def test_reservoirs_must_be_electroneutral(tmp_path):
    (problem,) = problems(tmp_path, BASE, ("electrolyte.species.K.concentration_right=2mM",))
    assert problem.startswith("electrolyte") and "right reservoir is not electroneutral" in problem


def test_first_order_reaction_takes_a_rate_in_1_per_s_and_a_dimensionless_constant(tmp_path):
    """A <-> B (trapping of a mobile ion, say): k_a in 1/s and K_d dimensionless (the unit
    (mol/m^3)^0, which pint could not parse); a K_d with a concentration unit is an error naming
    the unit it needs."""
    from ionslit import translate

    reaction = """
[[electrolyte.species]]
name = "K_bound"
valence = 1
diffusivity = "0 m^2/s"
concentration = "equilibrium"
region = "slit"

[[reactions]]
equation = "K <-> K_bound"
association_rate = "50 1/s"
dissociation_constant = "{}"
region = "slit"
"""
    case = load_case(write(tmp_path, BASE + reaction.format("0.04"))).case
    (first_order,) = translate.reactions(case)
    assert first_order.association_rate == pytest.approx(50.0)
    assert first_order.dissociation_constant == pytest.approx(0.04)
    with pytest.raises(CaseError, match="dissociation_constant .* needs a unit of dimensionless"):
        load_case(write(tmp_path, BASE + reaction.format("0.04 mol/m^3")))


def test_lumped_field_reaction_uses_the_slit_length(tmp_path):
    """``lumped_field = true`` gives the reaction the geometry's length (the law then sees
    |V| / L); the default is the local field (no length)."""
    from ionslit import translate

    reaction = """
[[electrolyte.species]]
name = "KCl"
valence = 0
diffusivity = "1e-9 m^2/s"
concentration = "equilibrium"

[[reactions]]
equation = "K + Cl <-> KCl"
association_rate = "1e3 m^3/(mol*s)"
dissociation_constant = "5 mol/m^3"
"""
    local = load_case(write(tmp_path, BASE + reaction)).case
    lumped = load_case(write(tmp_path, BASE + reaction + "lumped_field = true\n")).case
    assert translate.reactions(local)[0].field_length is None
    assert translate.reactions(lumped)[0].field_length == pytest.approx(100e-9)
