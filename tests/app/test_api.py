"""The public Python API (``ionslit.load_case``, ``ionslit.run``, ``ionslit.open_results``): the
same results as the command line, exceptions instead of exit codes, a lazily resolved package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CASES
from mpi4py import MPI

import ionslit
from ionslit.output import read_csv

CASE = CASES / "ohmic_slit.toml"
OVERRIDE = "protocol.voltage=20 mV"


def fresh_python(code: str, tmp_path: Path) -> str:
    """stdout of ``code`` in a fresh interpreter (working directory ``tmp_path``)."""
    result = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_a_subpackage_loads_neither_mpi_nor_dolfinx(tmp_path):
    loaded = fresh_python("import sys, ionslit.coupling; print(sorted(m for m in ('mpi4py', "
                          "'dolfinx', 'petsc4py', 'ionslit.api') if m in sys.modules))", tmp_path)
    assert loaded.split() == ["[]"]


def test_the_package_resolves_every_public_name_from_the_api(tmp_path):
    code = """
import ionslit, ionslit.api
assert ionslit.__version__ == "0.2.0"
for name in ionslit.__all__:
    if name != "__version__":
        assert getattr(ionslit, name) is getattr(ionslit.api, name), name
try:
    ionslit.solve
except AttributeError as error:
    print(error)
"""
    assert fresh_python(code, tmp_path).strip() == "module 'ionslit' has no attribute 'solve'"


def test_load_case_applies_overrides_like_set():
    loaded = ionslit.load_case(CASE, overrides=[OVERRIDE])
    assert loaded.case.protocol.voltage == pytest.approx(0.02, rel=1e-15)
    assert loaded.overrides == (OVERRIDE,)
    with pytest.raises(ionslit.CaseError, match="did you mean 'length'"):
        ionslit.load_case(CASE, overrides=["geometry.lenght=1um"])


def test_open_results_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(ionslit.ResultsFormatError, match="no manifest.json"):
        ionslit.open_results(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"results_format": 2, "status": "ok"}))
    with pytest.raises(ionslit.ResultsFormatError, match="results format 2.*upgrade ionslit"):
        ionslit.open_results(tmp_path)


def test_run_refuses_restart_with_overwrite_before_writing(tmp_path):
    with pytest.raises(ionslit.RunFailed, match="overwrite") as refused:
        ionslit.run(ionslit.load_case(CASE), restart=tmp_path / "old", overwrite=True,
                    comm=MPI.COMM_SELF)
    assert refused.value.invalid_input
    with pytest.raises(ionslit.RunFailed, match="petsc") as refused:
        ionslit.run(ionslit.load_case(CASE), output=tmp_path / "run", petsc="ksp_type gmres",
                    comm=MPI.COMM_SELF)
    assert refused.value.invalid_input
    assert list(tmp_path.iterdir()) == []


@pytest.mark.mpi
def test_run_returns_the_results_directory_as_dataframes(tmp_path):
    """On any number of ranks: every rank gets the same results object."""
    world = MPI.COMM_WORLD
    out = Path(world.bcast(str(tmp_path), root=0)) / "api"
    case = ionslit.load_case(CASE, overrides=[OVERRIDE])
    results = ionslit.run(case, output=out, comm=world)
    assert isinstance(results, ionslit.Results) and results.directory == out
    assert results.status == "ok" and results.manifest["results_format"] == 1
    assert results.manifest["mpi_ranks"] == world.size
    assert results.parameters["protocol"]["voltage"] == pytest.approx(0.02, rel=1e-15)
    series = results.series
    assert {"time_s", "voltage_V", "current_A", "conductance_S"} <= set(series.columns)
    np.testing.assert_allclose(series["voltage_V"], 0.02, rtol=1e-15)
    np.testing.assert_array_equal(results.conductance["conductance_S"], series["conductance_S"])
    written = read_csv(out / "profiles" / "axis.csv")  # floats read back exactly as written
    for column, values in written.items():
        np.testing.assert_array_equal(results.profiles["axis"][column].to_numpy(), values)
    axis = results.profiles["axis"]
    assert len(axis) == 301 and {"x_m", "potential_V", "c_K_mol_per_m3"} <= set(axis.columns)
    assert results.spikes is None and results.fi_curve is None and results.sweep is None
    assert results.fields is not None and results.fields.name == "fields.xdmf"
    assert results.mesh is not None and results.mesh.is_file()
    assert ionslit.open_results(out).manifest["case"] == results.manifest["case"]
    # the run again into the same directory needs overwrite, as on the command line
    with pytest.raises(ionslit.RunFailed, match="not empty") as refused:
        ionslit.run(case, output=out, comm=world)
    assert refused.value.invalid_input
