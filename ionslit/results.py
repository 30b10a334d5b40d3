"""Writers for a run's tables: series.csv and profiles/<name>.csv (fields: ionslit.fields).

Rank 0 writes the CSV files (atomically, see ionslit.output); column names carry the SI unit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ionslit.case.schema import ProfileSection
from ionslit.output import atomic_write_csv

# Seconds of wall time between two rewrites of series.csv during a run.
SERIES_FLUSH_INTERVAL = 10.0


class SeriesWriter:
    """Rows of a time series (dict of SI values, unit in every key), kept on rank 0 and
    rewritten atomically at most every ``SERIES_FLUSH_INTERVAL`` seconds and at ``close()``."""

    def __init__(self, path: Path, comm: MPI.Comm):
        self.path, self.comm = Path(path), comm
        self.rows: list[dict[str, float]] = []
        self._last_flush = time.perf_counter()

    def append(self, row: dict[str, float]) -> None:
        if self.comm.rank != 0:
            return
        self.rows.append(dict(row))
        if time.perf_counter() - self._last_flush > SERIES_FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self.comm.rank != 0 or not self.rows:
            return
        names = list(self.rows[0])
        atomic_write_csv(self.path, {n: [row.get(n, np.nan) for row in self.rows] for n in names})
        self._last_flush = time.perf_counter()

    def column(self, name: str) -> np.ndarray:
        """One column so far (rank 0; empty elsewhere)."""
        return np.array([row[name] for row in self.rows])


def write_profiles(directory: Path, observables, profiles: Sequence[ProfileSection],
                   comm: MPI.Comm) -> list[Path]:
    """Sample each profile line (collective) and write profiles/<name>.csv on rank 0, with
    columns x_m, y_m (, z_m), distance_m, potential_V, c_<species>_mol_per_m3."""
    written = []
    for profile in profiles:
        values = observables.line_profile(profile.start, profile.end, profile.points)
        columns = {}
        for key, array in values.items():
            if key in ("x", "y", "z", "distance"):
                columns[f"{key}_m"] = array
            elif key == "potential":
                columns["potential_V"] = array
            else:
                columns[f"{key}_mol_per_m3"] = array
        path = Path(directory) / "profiles" / f"{profile.name}.csv"
        if comm.rank == 0:
            atomic_write_csv(path, columns)
        written.append(path)
    return written
