"""Verification driven by the case files in cases/: load a case with ``--set``-style overrides and
build or run it through the same code path as ``ionslit run``.

- ``load(name, *overrides)``: ``ionslit.case.load_case`` on ``cases/<name>.toml``;
- ``build(loaded, comm)``: the case's gmsh mesh and PNP model (``ionslit.slit_study.build_model``,
  what ``ionslit run`` builds), for tests that need the model's API (conservative wall charge,
  custom functionals);
- ``solve(model, loaded)``: the steady or current-clamp solve of ``[protocol]`` as ``run`` does it;
- ``run(loaded, directory)``: the whole study (``ionslit.study.run_study``), returning the
  results directory's series, profiles and manifest;
- ``refinement(loaded, factor)``: overrides that divide every mesh size by ``factor`` (wall,
  mouth, slit and maximum cell sizes and the grading slope ``growth - 1``), i.e. a uniform
  refinement of the size field for convergence studies on the unstructured gmsh meshes;
- ``scaled_geometry(loaded, factor)``: overrides that multiply every geometric length (and the
  profile lines) by ``factor``, e.g. to keep a case's geometry fixed in Debye lengths across a
  concentration sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ionslit import translate
from ionslit.case import LoadedCase, load_case
from ionslit.output import read_csv

CASES = Path(__file__).resolve().parents[2] / "cases"

# Geometry keys that are lengths, of any kind (``depth`` only scales planar results: left alone).
_LENGTH_KEYS = ("length", "height", "width", "reservoir_length", "reservoir_height",
                "reservoir_width", "tip_radius", "base_radius", "reservoir_radius",
                "mouth_radius")


def load(name: str, *overrides: str) -> LoadedCase:
    """``cases/<name>.toml`` with ``--set`` overrides (the CLI's syntax)."""
    return load_case(CASES / f"{name}.toml", list(overrides))


def quantity(value: float, unit: str) -> str:
    """A value with its unit as a case-file quantity (a TOML string), for overrides."""
    return f'"{value!r} {unit}"'


def length(value: float) -> str:
    """An SI length (m) as a case-file quantity, for overrides."""
    return quantity(value, "m")


def build(loaded: LoadedCase, comm: MPI.Comm = MPI.COMM_WORLD):
    """The case's mesh and PNP model, built as ``ionslit run`` builds them."""
    from ionslit.slit_study import build_model

    model, _ = build_model(loaded, "", comm)
    return model


def solve(model, loaded: LoadedCase):
    """The steady or current-clamp solve of the case's ``[protocol]`` (as ``ionslit run``)."""
    protocol = loaded.case.protocol
    if protocol.kind == "steady":
        return model.solve_steady(protocol.voltage)
    if protocol.kind == "current_clamp":
        return model.solve_steady_clamped(protocol.current)
    raise ValueError(f"protocol {protocol.kind!r} is not a steady protocol (use run())")


@dataclass
class Results:
    """What ``ionslit run`` wrote: series.csv columns, profiles/<name>.csv, manifest.json."""

    directory: Path
    series: dict[str, np.ndarray]
    profiles: dict[str, dict[str, np.ndarray]]
    manifest: dict


def read_results(directory: Path) -> Results:
    directory = Path(directory)
    series = {k: np.asarray(v, dtype=float) for k, v in read_csv(directory / "series.csv").items()}
    profiles = {}
    for path in sorted((directory / "profiles").glob("*.csv")):
        profiles[path.stem] = {k: np.asarray(v, dtype=float) for k, v in read_csv(path).items()}
    manifest = json.loads((directory / "manifest.json").read_text())
    return Results(directory, series, profiles, manifest)


def shared_directory(tmp_path: Path, comm: MPI.Comm = MPI.COMM_WORLD) -> Path:
    """Rank 0's ``tmp_path`` on every rank (pytest gives each rank its own): a results
    directory must be the same for all ranks of a run."""
    return Path(comm.bcast(str(tmp_path) if comm.rank == 0 else None, root=0))


def run(loaded: LoadedCase, directory: Path) -> Results:
    """``ionslit run`` in this process (collective): run_study into ``directory`` (the same
    path on every rank, see ``shared_directory``), then read it back on every rank."""
    from ionslit.study import run_study

    comm = MPI.COMM_WORLD
    run_study(loaded, Path(directory), overwrite=False)
    comm.barrier()
    return read_results(directory)


def refinement(loaded: LoadedCase, factor: float) -> list[str]:
    """Overrides dividing every mesh size of the case by ``factor`` (> 0): wall, mouth and maximum
    sizes, the cells across the slit (rounded) and the grading slope (growth - 1), so that the
    whole size field s0 + (growth - 1) d shrinks by the same factor."""
    section = loaded.case.mesh
    spec = translate.mesh_spec(loaded.case)
    out = [f"mesh.cells_per_debye_length={section.cells_per_debye_length * factor!r}",
           f"mesh.max_size={length(spec.max_size / factor)}",
           f"mesh.mouth_size={length(spec.mouth_size / factor)}",
           f"mesh.cells_across_slit={max(1, round(section.cells_across_slit * factor))}",
           f"mesh.growth={1.0 + (section.growth - 1.0) / factor!r}"]
    if section.wall_size is not None:
        out.append(f"mesh.wall_size={length(section.wall_size / factor)}")
    return out


def scaled_geometry(loaded: LoadedCase, factor: float) -> list[str]:
    """Overrides multiplying every geometric length, the explicit mesh sizes and the profile
    end points by ``factor``: the same case in units of a length scale that changed by
    ``factor`` (e.g. lambda_D when the concentration changes by 1 / factor^2)."""
    case = loaded.case
    out = []
    for key in _LENGTH_KEYS:
        value = getattr(case.geometry, key, None)
        if value:
            out.append(f"geometry.{key}={length(value * factor)}")
    for key in ("max_size", "mouth_size", "wall_size"):
        value = getattr(case.mesh, key)
        if value is not None:
            out.append(f"mesh.{key}={length(value * factor)}")
    for index, profile in enumerate(case.output.profiles):
        for end in ("start", "end"):
            points = ", ".join(length(v * factor) for v in getattr(profile, end))
            out.append(f"output.profiles.{index}.{end}=[{points}]")
    return out


def order(errors, factors) -> np.ndarray:
    """Observed orders log(e_k / e_k+1) / log(f_k+1 / f_k) between successive refinements."""
    e, f = np.asarray(errors, dtype=float), np.asarray(factors, dtype=float)
    return np.log(e[:-1] / e[1:]) / np.log(f[1:] / f[:-1])

