"""The check of the user's PETSc options: which ones PETSc never read, and the suggestions."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import pytest
from petsc4py import PETSc
from solver_helpers import kcl, uniform_interval

from ionslit.solvers import DEFAULT_PETSC_OPTIONS, Boundary, PNPModel, SolverOptions
from ionslit.solvers.petsc_options import UnusedOption, known_option_names, suggestion


@pytest.fixture(scope="module")
def known():
    return known_option_names(DEFAULT_PETSC_OPTIONS)


def test_known_names_are_those_of_the_configured_objects(known, capfd):
    before = PETSc.Options().getAll()
    names = known_option_names(DEFAULT_PETSC_OPTIONS)
    assert PETSc.Options().getAll() == before  # no scratch entry, no -help left behind
    assert capfd.readouterr().out == ""  # PETSc's help text is captured, not printed
    assert names == known
    for name in ("snes_max_it", "snes_linesearch_type", "ksp_type", "pc_factor_mat_solver_type",
                 "mat_mumps_icntl_14"):
        assert name in known
    assert "ksp_rtol" not in known  # preonly reads no Krylov tolerances
    assert "ksp_gmres_restart" in known_option_names({**DEFAULT_PETSC_OPTIONS,
                                                      "ksp_type": "gmres"})


def test_suggestions_name_the_nearest_known_option(known):
    assert suggestion("snes_maxit", known) == "snes_max_it"
    assert suggestion("ksp_tpye", known) == "ksp_type"
    assert suggestion("mat_mumps_icntl_144", known) == "mat_mumps_icntl_14"
    assert suggestion("ksp_max_it", known) is None  # valid for another KSP, no likely typo
    assert str(UnusedOption("snes_maxit", "snes_max_it")) == \
        "-snes_maxit (did you mean -snes_max_it?)"
    assert str(UnusedOption("ksp_max_it")) == "-ksp_max_it"


@pytest.mark.mpi
def test_model_reports_the_user_options_petsc_never_read(comm):
    """Case-file and command-line options are checked once per solver, after its first solve
    that factorised; the defaults are not the user's and are not listed."""
    options = SolverOptions(petsc_options={"snes_linesearch_typ": "bt", "snes_rtol": 1e-8},
                            petsc_options_string="-snes_max_it 40 -ksp_tpye gmres")
    model = PNPModel(uniform_interval(comm), kcl(10.0, left=10.0, right=1.0), Boundary(),
                     options)
    calls = []
    model.on_unused_petsc_options = calls.append
    model.solve_steady(0.05)
    model.solve_steady(0.1)
    expected = (UnusedOption("snes_linesearch_typ", "snes_linesearch_type"),
                UnusedOption("ksp_tpye", "ksp_type"))
    assert calls == [expected]
    assert model.solver.unused_options == expected
    model.close()
