"""PETSc option handling and the SNES wrapper's contracts."""

import pytest
from solver_helpers import kcl, uniform_interval

from ionslit.solvers import (
    DEFAULT_PETSC_OPTIONS,
    Boundary,
    PNPModel,
    SolverDivergedError,
    SolverOptions,
    merge_petsc_options,
    parse_petsc_options,
)
from ionslit.solvers.nonlinear import snes_reason_name


def test_parse_command_line_options():
    parsed = parse_petsc_options("-snes_rtol 1e-10 -snes_monitor -ksp_type gmres -x -1.5")
    assert parsed == {"snes_rtol": "1e-10", "snes_monitor": None, "ksp_type": "gmres",
                      "x": "-1.5"}
    assert parse_petsc_options("") == {}
    with pytest.raises(ValueError):
        parse_petsc_options("snes_rtol 1e-10")


def test_merge_order_defaults_case_cli():
    merged = merge_petsc_options(DEFAULT_PETSC_OPTIONS, {"-snes_rtol": 1e-6, "snes_max_it": 7},
                                 "-snes_rtol 1e-9 -snes_monitor")
    assert merged["snes_rtol"] == "1e-9"  # the CLI string wins over the case file
    assert merged["snes_max_it"] == 7 and merged["snes_monitor"] is None
    assert merged["pc_factor_mat_solver_type"] == "mumps"  # defaults kept
    assert DEFAULT_PETSC_OPTIONS["snes_rtol"] == 1e-8  # not modified in place


def test_reason_names():
    assert snes_reason_name(-5) == "DIVERGED_MAX_IT"
    assert snes_reason_name(3) == "CONVERGED_FNORM_RELATIVE"


def test_cli_string_reaches_the_snes(comm):
    """'-snes_max_it 1' from the command line makes a nontrivial solve fail with the reason."""
    options = SolverOptions(petsc_options={"snes_max_it": 50},
                            petsc_options_string="-snes_max_it 1 -snes_rtol 1e-14 "
                                                 "-snes_atol 1e-30 -snes_stol 0",
                            max_continuation_cutbacks=1)
    model = PNPModel(uniform_interval(comm), kcl(10.0, left=10.0, right=1.0), Boundary(),
                     options)
    with pytest.raises(SolverDivergedError) as info:
        model.solve_steady(0.5)
    assert info.value.reason == "DIVERGED_MAX_IT"
    assert model.solver.snes.getTolerances()[3] == 1
