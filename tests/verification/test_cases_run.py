"""Every case in cases/ runs with ``ionslit run`` (the command, in a fresh process, as users run
it) and writes the output contract:

- ``manifest.json`` with status ``ok``, the case text and its sha256;
- ``case.toml``: the case file as given;
- ``series.csv``: finite SI values under unit-suffixed names with a ``time_s`` column; for slit
  cases also ``voltage_V`` and ``current_A`` (one row for steady and clamp protocols, a time
  series from 0 to the protocol's end for the single-run transient protocols);
- ``profiles/<name>.csv`` for each ``[[output.profiles]]`` with ``points`` rows and the SI columns;
- ``fields/fields.xdmf`` + ``fields/fields.h5`` for slit cases whose ``[output] fields`` is not
  empty: the XDMF references datasets that exist in the HDF5 file (read with h5py), one value
  per mesh node;
- ``plots/*.png``: at least the plots that apply (``expected_plots``), and never none.

The cases are found by globbing cases/*.toml, so a new case is covered without editing this
file; a case that takes more than ~30 s must be added to SLOW_CASES (still run by
scripts/test.sh and CI, skipped by --quick). Circuit-only cases (no [geometry], e.g. hh_squid)
get the checks that apply to them (manifest, case.toml, series.csv with time_s).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_helpers import CASES

from ionslit.case import load_case
from ionslit.output import read_csv

# Cases that take more than ~30 s with `ionslit run` on one rank (measured on the shared 2-core
# machine, 1 rank, warm caches; wall times vary 2x with the machine's load).
SLOW_CASES = {
    "conical_pore": "sine drive, ~200 adaptive steps on 11k vertices: 35-100 s",
    "slit3d": "3D, 12k vertices, one steady solve: 15-31 s",
    "memristor_sweep": "frequency sweep, ~4000 steps: ~30 s",
    "hh_squid": "circuit with f-I curve and pulse-threshold analyses: ~18 s under load",
    "neuron_live": "two live PNP slits, ~1700 circuit steps: ~35 s",
}
# Protocols that are one run from t = 0 to a known end (series.csv time_s goes 0 -> end).
SINGLE_RUN_TRANSIENTS = ("step", "sine", "triangle", "pulse_train", "piecewise_linear",
                         "concentration_step")

CASE_FILES = sorted(CASES.glob("*.toml"))
PARAMS = [pytest.param(path, id=path.stem,
                       marks=[pytest.mark.slow] if path.stem in SLOW_CASES else [])
          for path in CASE_FILES]


def protocol_end(case) -> float:
    """End time (s) of a single-run transient protocol."""
    from ionslit import translate

    return translate.voltage_protocol(case)[1]


def expected_plots(case) -> set[str]:
    """The PNGs a case must produce (ionslit.plots says which inputs make which plot)."""
    if case.geometry is None:  # a neuron
        return {"membrane_voltage.png"} | ({"fi_curve.png"} if case.analysis.fi_curve else set())
    names = {f"profile_{profile.name}.png" for profile in case.output.profiles}
    kind = case.protocol.kind
    if kind not in ("steady", "current_clamp"):
        names.add("current.png")
    if kind in ("sine", "triangle", "frequency_sweep"):
        names.add("iv_loop.png")
    if kind == "frequency_sweep":
        names.add("loop_area.png")
    return names


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
def test_case_runs_and_writes_the_output_contract(case_file, case_results):
    result, out = case_results(case_file)
    assert result.returncode == 0, result.stderr[-3000:]
    case = load_case(case_file).case

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok", manifest.get("reason")
    assert manifest["case"]["text"] == case_file.read_text()
    assert (out / "case.toml").read_text() == case_file.read_text()

    plots = {path.name for path in (out / "plots").glob("*.png")}
    assert plots and expected_plots(case) <= plots, (sorted(plots), sorted(expected_plots(case)))

    series = read_csv(out / "series.csv")
    assert "time_s" in series and len(series["time_s"]) >= 1
    for column, values in series.items():  # numbers or NaN (e.g. I / V at V = 0), never inf
        if values.dtype != object:
            assert not np.any(np.isinf(values)), column
    if case.geometry is None:  # a circuit case: no slit outputs
        assert np.all(np.isfinite(series["time_s"].astype(float)))
        return

    for column in ("time_s", "voltage_V", "current_A"):
        assert column in series, sorted(series)
        assert np.all(np.isfinite(series[column].astype(float))), column
    times = series["time_s"].astype(float)
    kind = case.protocol.kind
    if kind in ("steady", "current_clamp"):
        assert len(times) == 1 and times[0] == 0.0
        if kind == "steady":  # the applied voltage is the case's value, not a computed one
            assert series["voltage_V"][0] == pytest.approx(case.protocol.voltage, abs=1e-15)
    elif kind in SINGLE_RUN_TRANSIENTS:
        assert times[0] == 0.0 and np.all(np.diff(times) > 0)
        # the end is a milestone, hit exactly (no solver arithmetic in the time column)
        assert times[-1] == pytest.approx(protocol_end(case), rel=1e-9)

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


# Measured `ionslit run` wall times in this test (1 rank, fresh process, shared 2-core machine
# at load 3-6): ohmic_slit 4 s, gouy_chapman 8 s, pb_slit 11 s, dukhin_slit 10 s,
# nernst_selectivity 9 s, diffusion_relaxation 17 s, robustness_slit 13 s, memristor_sine 7 s;
# slow: slit3d 31 s, conical_pore 100 s, hh_squid 18 s. About 3 s of each is the fresh
# process (imports, MPI start).
