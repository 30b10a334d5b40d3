"""The command line as users meet it: exit codes, nothing written on bad input, mesh files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
from cli_helpers import CASES, run_ionslit

CASE_FILES = sorted(CASES.glob("*.toml"))


@pytest.mark.parametrize("case", CASE_FILES, ids=[c.stem for c in CASE_FILES])
def test_check_accepts_every_shipped_case(case, tmp_path):
    result = run_ionslit("check", str(case), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.split("\n", 1)[1])
    assert report["parameters_si"]["name"] == case.stem
    assert list(tmp_path.iterdir()) == []  # check writes nothing


BAD_INPUTS = {
    "unknown key": (["--set", "geometry.lenght=1um"], "geometry.lenght", "did you mean 'length'"),
    "wrong dimension": (["--set", "geometry.height=0.2V"], "geometry.height", "expected a length"),
    "negative length": (["--set", "geometry.length=-100nm"], "geometry.length", "> 0"),
    "bad wall name": (["--set", "boundary.walls.lid.surface_charge=-1mC/m^2"], "boundary.walls.lid",
                      "not a wall"),
    "no continuation steps": (["--set", "solver.continuation_max_steps=0"],
                              "solver.continuation_max_steps", "greater than or equal to 1"),
    "continuation fraction of 1": (["--set", "solver.continuation_min_fraction=1"],
                                   "solver.continuation_min_fraction", "less than 1"),
}


@pytest.mark.parametrize("command", ["check", "run", "mesh"])
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_invalid_input_exits_2_and_writes_nothing(command, name, tmp_path):
    overrides, key, hint = BAD_INPUTS[name]
    result = run_ionslit(command, str(CASES / "ohmic_slit.toml"), *overrides, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert key in result.stderr and hint in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_invalid_file_edit_exits_2(tmp_path):
    case = tmp_path / "case.toml"
    case.write_text((CASES / "ohmic_slit.toml").read_text().replace("[mesh]", "[mesh]\nmax_sise = \"1 nm\""))
    result = run_ionslit("run", str(case), cwd=tmp_path)
    assert result.returncode == 2
    assert "mesh.max_sise" in result.stderr and "did you mean 'max_size'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


KIND_CASES = {"slit": "ohmic_slit", "cone": "conical_pore", "slit3d": "slit3d",
              "slit_plane": "memristor_sine"}
# A charged wall for each kind, so the report has a Debye criterion to meet.
CHARGE = {"slit": ["--set", "boundary.walls.slit_wall_top.surface_charge=-20mC/m^2"],
          "slit_plane": ["--set", "boundary.walls.slit_wall_top.surface_charge=-1mC/m^2"]}


@pytest.mark.parametrize("kind", list(KIND_CASES))
def test_mesh_on_two_ranks_writes_readable_xdmf(kind, tmp_path):
    case = CASES / f"{KIND_CASES[kind]}.toml"
    out = tmp_path / "mesh"
    result = run_ionslit("mesh", str(case), *CHARGE.get(kind, []), "--output", str(out), ranks=2,
                         env={"IONSLIT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "mesh.report.json").read_text())
    assert report["kind"] == kind
    assert report["walls"], "the case has a charged wall"
    assert min(w["cells_per_debye"] for w in report["walls"]) >= 4  # the default criterion
    with h5py.File(out / "mesh.h5") as h5:
        cells = h5["/Mesh/mesh/topology"].shape[0]
        tagged = [h5[f"/MeshTags/{name}/topology"].shape[0] for name in h5["MeshTags"]]
    assert cells == report["num_cells"]
    assert cells in tagged  # every cell carries a tag
    groups = json.loads((out / "mesh.groups.json").read_text())
    assert "fluid" in groups["cell_groups"] and "reservoir_left" in groups["facet_groups"]


def test_run_refuses_a_non_empty_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = run_ionslit("run", str(CASES / "ohmic_slit.toml"), "--output", str(out), cwd=tmp_path)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    result = run_ionslit("run", str(CASES / "ohmic_slit.toml"), "--output", str(out), "--overwrite",
                         cwd=tmp_path)
    assert result.returncode == 2 and "not an ionslit results directory" in result.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_version_lists_the_stack():
    result = run_ionslit("version")
    assert result.returncode == 0
    for name in ("ionslit", "dolfinx", "basix", "ufl", "petsc", "mpi_library"):
        assert name in result.stdout


def test_module_entry_point_is_the_same_command():
    assert run_ionslit("--version").stdout.startswith("ionslit ")
    assert shutil.which("ionslit", path=str(Path(__file__).parents[2] / ".venv" / "bin"))


def test_calibrate_prints_and_writes_the_fit(tmp_path):
    out = tmp_path / "fit.json"
    result = run_ionslit("calibrate", str(CASES / "memristor_sine.toml"), "--output", str(out),
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    # the 7 points of the packaged Brownian-dynamics table, each printed with its residual
    assert len(record["field_V_m"]) == 7
    assert result.stdout.count("%") == 7
    # every point within 10 % (measured max 0.38 %)
    assert record["max_relative_residual"] < 0.10
    assert record["law"]["kind"] == "power"


def test_calibrate_without_a_calibration_section_exits_2(tmp_path):
    result = run_ionslit("calibrate", str(CASES / "ohmic_slit.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no [calibration] section" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_run_with_set_equals_running_the_edited_file(tmp_path):
    """`run --set` changes the parameter exactly as editing the file: the manifests' resolved
    SI parameters and the computed currents are identical (same solve, bit for bit: both runs
    are made by this test on one machine, so their LU/BLAS round-off is the same)."""
    edited = tmp_path / "ohmic_slit.toml"
    text = (CASES / "ohmic_slit.toml").read_text()
    assert text.count('\nlength = "100 nm"') == 1
    edited.write_text(text.replace('\nlength = "100 nm"', '\nlength = "150 nm"'))
    runs = {"set": (CASES / "ohmic_slit.toml", ["--set", "geometry.length=150 nm"]),
            "edited": (edited, [])}
    manifests, series = {}, {}
    for name, (case, extra) in runs.items():
        out = tmp_path / name
        result = run_ionslit("run", str(case), "--output", str(out), *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        manifests[name] = json.loads((out / "manifest.json").read_text())
        series[name] = (out / "series.csv").read_text()
    assert manifests["set"]["parameters_si"] == manifests["edited"]["parameters_si"]
    assert manifests["set"]["parameters_si"]["geometry"]["length"] == pytest.approx(150e-9)
    assert manifests["set"]["case"]["overrides"] == ["geometry.length=150 nm"]
    assert series["set"] == series["edited"]


def test_petsc_options_that_petsc_never_read_are_named(tmp_path):
    """Misspelt PETSc options are a warning, not an error: the run finishes ('-snes_maxit 1'
    is not '-snes_max_it 1'), the warning names each with the option it most likely meant, and
    the manifest lists them; a correctly spelt option gives an empty list and no warning."""
    out = tmp_path / "misspelt"
    result = run_ionslit("run", str(CASES / "pb_slit.toml"), "--output", str(out),
                         "--petsc", "-snes_maxit 1 -ksp_tpye gmres", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    warning = [line for line in result.stderr.splitlines() if "PETSc did not use" in line]
    assert len(warning) == 1
    assert "-snes_maxit (did you mean -snes_max_it?)" in warning[0]
    assert "-ksp_tpye (did you mean -ksp_type?)" in warning[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert manifest["unused_petsc_options"] == ["snes_maxit", "ksp_tpye"]

    out = tmp_path / "spelt"
    result = run_ionslit("run", str(CASES / "pb_slit.toml"), "--output", str(out),
                         "--petsc", "-snes_max_it 40", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "PETSc did not use" not in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["petsc_options"]["snes_max_it"] == "40"
    assert manifest["unused_petsc_options"] == []
