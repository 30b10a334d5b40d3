"""Reading a results directory: the files of any ``ionslit run`` as Python objects.

``open_results(directory)`` checks the manifest's ``results_format`` (a directory written by a
newer ionslit, with a layout this one does not know, is refused; a manifest without the key is
of the first layout) and returns a ``Results``: the manifest as a dict, every CSV table as a
pandas DataFrame with the file's own column names (SI units in the names: ``time_s``,
``voltage_V``, ``current_A``, ``conductance_S``, ``c_K_mol_per_m3``...), the JSON records as
dicts and the paths of the XDMF files (fields, mesh) for a viewer or dolfinx. Reading needs
neither MPI nor dolfinx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ionslit.output import RESULTS_FORMAT

MANIFEST = "manifest.json"


class ResultsFormatError(ValueError):
    """The directory is not a results directory this ionslit can read."""


@dataclass(frozen=True)
class Results:
    """The files of one results directory (read when asked for; nothing is cached).

    Tables a run does not write (e.g. ``spikes`` of a slit run) are None."""

    directory: Path
    manifest: dict[str, Any]

    @property
    def status(self) -> str:
        """How the run ended: ``ok``, ``failed``, ``interrupted`` (``running`` while it works)."""
        return str(self.manifest["status"])

    @property
    def parameters(self) -> dict[str, Any]:
        """The resolved case in SI units (the manifest's ``parameters_si``)."""
        return self.manifest["parameters_si"]

    def table(self, name: str) -> pd.DataFrame | None:
        """The CSV table ``<name>.csv`` of the directory (``name`` may have a folder, e.g.
        ``profiles/axis``) as a DataFrame with the file's columns, floats exactly as written;
        None when the run wrote no such file."""
        path = self.directory / f"{name}.csv"
        if not path.is_file():
            return None
        return pd.read_csv(path)

    def record(self, name: str) -> dict[str, Any] | None:
        """The JSON record ``<name>.json`` (e.g. ``loop_metrics``, ``spike_metrics``,
        ``calibration``, ``reduced_model``) as a dict; None when the run wrote none."""
        path = self.directory / f"{name}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    @property
    def series(self) -> pd.DataFrame | None:
        """series.csv: one row per output time (slit: time_s, voltage_V, current_A,
        conductance_S...; neuron: time_s, membrane_voltage_V, stimulus_current_A)."""
        return self.table("series")

    @property
    def conductance(self) -> pd.DataFrame | None:
        """time_s and conductance_S (S) of a slit run's series; None for other runs."""
        series = self.series
        if series is None or "conductance_S" not in series:
            return None
        return series[["time_s", "conductance_S"]]

    @property
    def spikes(self) -> pd.DataFrame | None:
        """spikes.csv of a neuron run: time_s, peak_voltage_V."""
        return self.table("spikes")

    @property
    def fi_curve(self) -> pd.DataFrame | None:
        """fi_curve.csv of a neuron run: stimulus_A, rate_Hz."""
        return self.table("fi_curve")

    @property
    def sweep(self) -> pd.DataFrame | None:
        """sweep.csv of a frequency sweep: one row per frequency (frequency_Hz, loop_area_W...)."""
        return self.table("sweep")

    @property
    def profiles(self) -> dict[str, pd.DataFrame]:
        """profiles/<name>.csv by name: x_m, y_m (, z_m), distance_m, potential_V,
        c_<species>_mol_per_m3 along each line of the case's ``[output] profiles``."""
        folder = self.directory / "profiles"
        if not folder.is_dir():
            return {}
        return {path.stem: self.table(f"profiles/{path.stem}")
                for path in sorted(folder.glob("*.csv"))}

    @property
    def fields(self) -> Path | None:
        """fields/fields.xdmf (potential and concentrations at the output times), if written."""
        path = self.directory / "fields" / "fields.xdmf"
        return path if path.is_file() else None

    @property
    def mesh(self) -> Path | None:
        """mesh.xdmf (the mesh with its cell and facet tags), if written."""
        path = self.directory / "mesh.xdmf"
        return path if path.is_file() else None


def open_results(directory: str | Path) -> Results:
    """The results directory ``directory`` (any run: slit, memristor, neuron; finished or not).

    Raises ResultsFormatError when it has no readable manifest.json or was written in a newer
    results format than this ionslit reads (``RESULTS_FORMAT``)."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise ResultsFormatError(f"{directory} is not an ionslit results directory (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ResultsFormatError(f"cannot read {path}: {error}") from None
    version = manifest.get("results_format", 1)
    if not isinstance(version, int) or version > RESULTS_FORMAT:
        raise ResultsFormatError(
            f"{directory} is in results format {version!r}; this ionslit reads format "
            f"{RESULTS_FORMAT} and older: upgrade ionslit to read it")
    return Results(directory, manifest)
