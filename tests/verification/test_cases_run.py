"""Every case in cases/ runs with ``ionslit run`` (the command, in a fresh process, as users run
it) and writes the output contract:

- ``manifest.json`` with status ``ok``, the case text and its sha256;
- ``case.toml``: the case file as given;
- ``series.csv`` with ``time_s``, ``voltage_V`` and ``current_A`` columns (finite values; one row
  for steady and clamp protocols, a time series ending at the protocol's end otherwise);
- ``profiles/<name>.csv`` for each ``[[output.profiles]]`` with ``points`` rows and the SI columns;
- ``fields/fields.xdmf`` + ``fields/fields.h5`` (when ``[output] fields`` is not empty): the XDMF
  references datasets that exist in the HDF5 file (read with h5py) with one value per mesh node.

The cases are found by globbing cases/*.toml, so a new case is covered without editing this
file. Long cases are marked slow (still run by scripts/test.sh and CI). Measured wall times
(1 rank, busy 2-core machine, warm JIT and mesh caches): see SLOW_CASES and the end of the module.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_helpers import CASES, run_ionslit

from ionslit.case import load_case
from ionslit.output import read_csv

# Cases that take more than ~30 s with `ionslit run` on one rank.
SLOW_CASES = {
    "conical_pore": "sine drive, ~200 adaptive steps on 11k vertices: 35-70 s",
    "slit3d": "3D, 12k vertices, one steady solve: 15-27 s",
}

CASE_FILES = sorted(CASES.glob("*.toml"))
PARAMS = [pytest.param(path, id=path.stem,
                       marks=[pytest.mark.slow] if path.stem in SLOW_CASES else [])
          for path in CASE_FILES]


def protocol_end(case) -> float:
    """End time (s) of a transient protocol (0 for steady ones)."""
    from ionslit import translate

    if case.protocol.kind in ("steady", "current_clamp"):
        return 0.0
    return translate.voltage_protocol(case)[1]


def check_fields(directory: Path) -> None:
    """fields.xdmf names datasets of fields.h5 that exist, one row per mesh node."""
    xdmf, h5_path = directory / "fields" / "fields.xdmf", directory / "fields" / "fields.h5"
    assert xdmf.is_file() and h5_path.is_file()
    root = ET.parse(xdmf).getroot()
    items = [item.text.strip() for item in root.iter("DataItem")]
    assert items and all(item.startswith("fields.h5:/") for item in items), items
    with h5py.File(h5_path, "r") as h5:
        nodes = h5["Mesh/mesh/geometry"].shape[0]
        attributes = [a for a in root.iter("Attribute")]
        assert {"potential"} <= {a.get("Name") for a in attributes}
        for attribute in attributes:
            path = attribute.find("DataItem").text.strip().split(":", 1)[1]
            data = np.asarray(h5[path])
            assert data.shape[0] == nodes and np.all(np.isfinite(data)), path


@pytest.mark.parametrize("case_file", PARAMS)
def test_case_runs_and_writes_the_output_contract(case_file, tmp_path):
    out = tmp_path / "results"
    result = run_ionslit("run", str(case_file), "--output", str(out), cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    case = load_case(case_file).case

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok", manifest.get("reason")
    assert manifest["case"]["text"] == case_file.read_text()
    assert (out / "case.toml").read_text() == case_file.read_text()

    series = read_csv(out / "series.csv")
    for column in ("time_s", "voltage_V", "current_A"):
        assert column in series, sorted(series)
        assert np.all(np.isfinite(series[column].astype(float))), column
    times = series["time_s"].astype(float)
    end = protocol_end(case)
    if end == 0.0:
        assert len(times) == 1 and times[0] == 0.0
        if case.protocol.kind == "steady":
            assert series["voltage_V"][0] == pytest.approx(case.protocol.voltage, abs=1e-15)
    else:
        assert times[0] == 0.0 and np.all(np.diff(times) > 0)
        assert times[-1] == pytest.approx(end, rel=1e-9)

    dimension = 3 if case.geometry.kind == "slit3d" else 2
    species = [s.name for s in case.electrolyte.species]
    for profile in case.output.profiles:
        table = read_csv(out / "profiles" / f"{profile.name}.csv")
        expected = ["x_m", "y_m", "z_m"][:dimension] + ["distance_m", "potential_V"] + [
            f"c_{name}_mol_per_m3" for name in species]
        assert list(table) == expected
        assert all(len(column) == profile.points for column in table.values())
        assert np.all(np.isfinite(table["potential_V"].astype(float)))
        assert table["distance_m"][-1] == pytest.approx(math.dist(profile.start, profile.end))

    if case.output.fields:
        check_fields(out)
    else:
        assert not (out / "fields").exists()
    assert not (out / "fields.partial").exists()


# Measured `ionslit run` wall times, 1 rank, on the shared 2-core machine (load ~3):
# ohmic_slit 2 s, gouy_chapman 4 s, pb_slit 6 s, dukhin_slit 3 s, nernst_selectivity 4 s,
# diffusion_relaxation 8 s, robustness_slit 7 s, memristor_sine 3 s, slit3d 27 s,
# conical_pore 70 s (see the report in the verification README of the test run).
