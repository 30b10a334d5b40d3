"""A slit case run end to end: mesh -> PNP model -> protocol -> series, profiles, fields."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mpi4py import MPI

from ionslit import translate
from ionslit.case import LoadedCase
from ionslit.logs import get_logger
from ionslit.manifest import Manifest
from ionslit.output import atomic_write_json
from ionslit.progress import Progress
from ionslit.results import FieldWriter, SeriesWriter, write_profiles
from meshes import adequacy_report, build_slit_mesh, write_mesh_xdmf
from solvers.memristor import loop_metrics
from solvers.model import PNPModel
from solvers.observables import FieldOutput
from solvers.time_stepping import TimeIntegrator

log = get_logger("run")


def build_model(loaded: LoadedCase, petsc_command_line: str, comm: MPI.Comm,
                directory: Path | None = None) -> tuple[PNPModel, dict]:
    """The case's mesh and PNP model; the mesh adequacy report as a dict. The mesh (with its
    tags) is also written to ``directory``/mesh.xdmf when a directory is given."""
    case = loaded.case
    spec = translate.mesh_spec(case)
    slit_mesh = build_slit_mesh(translate.geometry(case), spec, comm, cache_dir=case.mesh.cache_dir)
    report = adequacy_report(slit_mesh, spec)
    log.info("%s", report.format())
    if directory is not None:
        write_mesh_xdmf(slit_mesh, directory / "mesh.xdmf")
    model = PNPModel(slit_mesh, translate.electrolyte(case), translate.boundary(case),
                     translate.solver_options(case, petsc_command_line))
    return model, report.to_dict()


def output_times(start: float, end: float, every: float | None) -> np.ndarray:
    """Requested output times in (start, end] every ``every`` seconds (none when None)."""
    if every is None:
        return np.empty(0)
    count = int(np.floor((end - start) / every * (1 + 1e-12)))
    return start + every * np.arange(1, count + 1)


def write_loop_metrics(directory: Path, series: SeriesWriter, frequency: float) -> dict:
    """Hysteresis-loop metrics of the last full drive cycle -> loop_metrics.json (rank 0)."""
    metrics = loop_metrics(series.column("time_s"), series.column("voltage_V"),
                           series.column("current_A"), series.column("conductance_S"),
                           frequency_Hz=frequency)
    atomic_write_json(directory / "loop_metrics.json", metrics)
    return metrics


def run_slit(loaded: LoadedCase, directory: Path, petsc_command_line: str, manifest: Manifest,
             comm: MPI.Comm) -> None:
    """Run a slit case: steady, current clamp or transient, by ``[protocol] kind``."""
    case = loaded.case
    model, mesh_report = build_model(loaded, petsc_command_line, comm, directory)
    manifest.extra["mesh"] = mesh_report
    manifest.extra["dimensionless_groups"] = model.dimensionless_groups(translate.peak_voltage(case))
    manifest.extra["degrees_of_freedom"] = model.space.dofmap.index_map.size_global * \
        model.space.dofmap.index_map_bs
    manifest.petsc_options = {k: v for k, v in model.petsc_options.items()}
    if comm.rank == 0:
        manifest.write()

    series = SeriesWriter(directory / "series.csv", comm)
    fields = FieldWriter(directory, FieldOutput(model), comm) if case.output.fields else None
    kind = case.protocol.kind
    if kind in ("steady", "current_clamp"):
        if kind == "steady":
            model.solve_steady(case.protocol.voltage)
        else:
            model.solve_steady_clamped(case.protocol.current)
        series.append(model.observables.series_row())
        if fields:
            fields.write(0.0)
    else:
        protocol, end = translate.voltage_protocol(case)
        every = case.output.every
        field_times = output_times(0.0, end, case.output.field_every)
        integrator = TimeIntegrator(model, protocol, translate.time_stepping_options(case),
                                    output_times=np.union1d(output_times(0.0, end, every), field_times))
        integrator.start(0.0)
        series.append(model.observables.series_row())
        if fields:
            fields.write(0.0)
        for (name, side), value in translate.concentration_steps(case).items():
            model.set_reservoir_concentration(name, side, value)  # the step, at t = 0+

        progress = Progress(0.0, end, comm)

        def on_step(record) -> None:
            progress.update(record.time, record.dt, record.newton_iterations)
            if every is None or record.is_output:
                series.append(model.observables.series_row())
            if fields and record.is_output and np.any(np.isclose(field_times, record.time, rtol=1e-12, atol=0)):
                fields.write(record.time)

        integrator.run(end, on_step=on_step, start_from_steady=False)
        progress.close()
        if fields and case.output.field_every is None:
            fields.write(end)
        manifest.extra["time_steps"] = len(integrator.records)
    series.flush()
    if comm.rank == 0 and kind in ("sine", "triangle"):
        write_loop_metrics(directory, series, case.protocol.frequency)
    write_profiles(directory, model.observables, case.output.profiles, comm)
    if fields:
        fields.close()
