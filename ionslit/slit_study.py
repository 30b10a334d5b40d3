"""A slit case run end to end: mesh -> PNP model -> protocol -> series, profiles, fields."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from mpi4py import MPI

from ionslit import translate
from ionslit.case import LoadedCase
from ionslit.checkpoint.checkpointers import SlitCheckpointer
from ionslit.coupling.memristor import loop_metrics
from ionslit.fields import FieldWriter, SegmentedFieldWriter
from ionslit.logs import get_logger
from ionslit.manifest import Manifest
from ionslit.meshes.build import build_slit_mesh
from ionslit.meshes.report import adequacy_report
from ionslit.meshes.xdmf import write_mesh_xdmf
from ionslit.output import atomic_write_json
from ionslit.progress import Progress, continuation_progress
from ionslit.results import SeriesWriter, write_profiles
from ionslit.run_context import RunContext
from ionslit.run_control import RunInterrupted, interrupted_reason
from ionslit.solvers.model import PNPModel
from ionslit.solvers.observables import FieldOutput
from ionslit.solvers.petsc_options import UnusedOption
from ionslit.solvers.time_stepping import TimeIntegrator

log = get_logger("run")


def build_model(loaded: LoadedCase, petsc_command_line: str, comm: MPI.Comm,
                directory: Path | None = None,
                manifest: Manifest | None = None) -> tuple[PNPModel, dict]:
    """The case's mesh and PNP model; the mesh adequacy report as a dict. The mesh (with its
    tags) is also written to ``directory``/mesh.xdmf when a directory is given. The user's
    PETSc options that PETSc never reads are reported (``report_unused_petsc_options``, in
    ``manifest`` when one is given)."""
    case = loaded.case
    spec = translate.mesh_spec(case)
    slit_mesh = build_slit_mesh(translate.geometry(case), spec, comm, cache_dir=case.mesh.cache_dir)
    report = adequacy_report(slit_mesh, spec)
    log.info("%s", report.format())
    if directory is not None:
        write_mesh_xdmf(slit_mesh, directory / "mesh.xdmf")
    model = PNPModel(slit_mesh, translate.electrolyte(case), translate.boundary(case),
                     translate.solver_options(case, petsc_command_line),
                     reactions=translate.reactions(case))
    model.on_unused_petsc_options = partial(report_unused_petsc_options, comm=comm,
                                            manifest=manifest)
    return model, report.to_dict()


def report_unused_petsc_options(unused: tuple[UnusedOption, ...], comm: MPI.Comm,
                                manifest: Manifest | None = None) -> None:
    """Report the user's PETSc options (--petsc, [solver] petsc) that no PETSc object read, as a
    model's solvers find them after their first solve: a warning on rank 0 of ``comm`` naming
    each with the nearest valid option of a likely misspelling, and their names in the
    manifest's ``unused_petsc_options`` (an empty list: all were read), written by rank 0 with
    the manifest's next update. Options already listed there are not reported again."""
    reported: list[str] = manifest.extra.setdefault("unused_petsc_options", []) \
        if manifest is not None else []
    new = [option for option in unused if option.name not in reported]
    reported += [option.name for option in new]
    if new and comm.rank == 0:
        log.warning("PETSc did not use %d of the given PETSc option(s) (misspelt, or not read "
                    "by the solvers as configured): %s", len(new), ", ".join(map(str, new)))


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


def run_slit(context: RunContext) -> None:
    """Run a slit case: steady, current clamp or transient, by ``[protocol] kind``.

    Transient runs write checkpoints and stop at SIGTERM as ``context.control`` says
    (RunInterrupted); ``context.restart`` continues a run from its checkpoint in the same
    directory (the manifest is then first written here, once the mesh is known to be the
    checkpoint's)."""
    case, directory, manifest = context.case, context.directory, context.manifest
    comm, control, restart = context.comm, context.control, context.restart
    model, mesh_report = build_model(context.loaded, context.petsc, comm,
                                     None if restart is not None else directory, manifest)
    control.install()  # again: gmsh has reset the SIGTERM handler on rank 0
    kind = case.protocol.kind
    transient = kind not in ("steady", "current_clamp")
    checkpointer = None
    if transient and (restart is not None or control.settings.enabled):
        checkpointer = SlitCheckpointer(context, model)
        if restart is not None:
            checkpointer.check_mesh(restart)  # RestartRefused before anything is written
    manifest.extra["mesh"] = mesh_report
    manifest.extra["dimensionless_groups"] = model.dimensionless_groups(translate.peak_voltage(case))
    manifest.extra["degrees_of_freedom"] = model.space.dofmap.index_map.size_global * \
        model.space.dofmap.index_map_bs
    manifest.petsc_options = {k: v for k, v in model.petsc_options.items()}
    if comm.rank == 0:
        if restart is not None:
            manifest.start()  # the restart's first record (case.toml, segment list)
        else:
            manifest.write()

    series = SeriesWriter(directory / "series.csv", comm)
    protocol = case.protocol
    fields: FieldWriter | SegmentedFieldWriter | None
    if not transient:
        fields = FieldWriter(directory, FieldOutput(model), comm) if case.output.fields else None
        with continuation_progress(model, comm):
            if protocol.kind == "steady":
                model.solve_steady(protocol.voltage)
            else:
                assert protocol.kind == "current_clamp"
                model.solve_steady_clamped(protocol.current)
        series.append(model.observables.series_row())
        if fields:
            fields.write(0.0)
    else:
        fields = run_transient(context, model, series, checkpointer)
    series.flush()
    if comm.rank == 0 and (protocol.kind == "sine" or protocol.kind == "triangle"):
        write_loop_metrics(directory, series, protocol.frequency)
    write_profiles(directory, model.observables, case.output.profiles, comm)
    if fields:
        fields.close()


def run_transient(context: RunContext, model: PNPModel, series: SeriesWriter,
                  checkpointer: SlitCheckpointer | None) -> SegmentedFieldWriter | None:
    """The time loop of a transient slit run, from its steady start or from the context's
    checkpoint; with checkpoints (``checkpointer``) and the SIGTERM stop (RunInterrupted).
    Returns the field writer, still open."""
    case, directory, manifest = context.case, context.directory, context.manifest
    comm, control, restart = context.comm, context.control, context.restart
    protocol, end = translate.voltage_protocol(case)
    every = case.output.every
    field_times = output_times(0.0, end, case.output.field_every)
    integrator = TimeIntegrator(model, protocol, translate.time_stepping_options(case),
                                output_times=np.union1d(output_times(0.0, end, every), field_times))
    fields = None
    command = context.restart_command()  # for the SIGTERM reason
    if checkpointer is not None:
        checkpointer.series = series
    if restart is None:
        with continuation_progress(model, comm):
            integrator.start(0.0)
        if checkpointer is not None:
            checkpointer.track()  # solvers built by the start (a clamp's)
        series.append(model.observables.series_row())
        if case.output.fields:
            fields = SegmentedFieldWriter(directory, FieldOutput(model), comm)
            fields.write(0.0)
        for reservoir, value in translate.concentration_steps(case).items():  # the step, at t = 0+
            model.set_reservoir_concentration(reservoir.species, reservoir.side, value)
        resume = None
        if control.any_signalled():
            raise RunInterrupted(interrupted_reason(None, None, False))
    else:
        if case.output.fields:
            fields = SegmentedFieldWriter(directory, FieldOutput(model), comm,
                                          state=restart.state["fields"])
        assert checkpointer is not None, "a restart has a checkpointer"
        resume = checkpointer.restore(restart)
        log.info("continuing from the checkpoint at t = %.6g s (step %d, written on %d rank(s))",
                 resume.time, resume.steps, restart.meta["ranks"])
        if control.any_signalled():  # the checkpoint is still valid
            raise RunInterrupted(interrupted_reason(resume.time, resume.steps, True, command))
    if checkpointer is not None:
        checkpointer.fields = fields
    control.install()  # (no library touches signal handlers in the time loop)

    progress = Progress(0.0 if resume is None else resume.time, end, comm)

    def on_step(record) -> None:
        progress.update(record.time, record.dt, record.newton_iterations)
        if every is None or record.is_output:
            series.append(model.observables.series_row())
        if fields and record.is_output and np.any(np.isclose(field_times, record.time, rtol=1e-12, atol=0)):
            fields.write(record.time)

    stop: dict = {}

    def at_boundary(state) -> bool:
        """Checkpoint and/or stop here, as the schedule and SIGTERM say (collective)."""
        final = state.time >= end - 1e-12 * abs(end)  # the integrator's own end test
        write, stopping = control.poll(state.steps, final)
        problem = ""
        if write and checkpointer is not None:
            problem = checkpointer.write(state, "SIGTERM" if stopping else "periodic")
            control.wrote()
        if stopping:
            stop.update(state=state, written=write and not problem, problem=problem)
        return stopping

    integrator.run(end, on_step=on_step, start_from_steady=False, resume=resume,
                   at_boundary=at_boundary)
    progress.close()
    manifest.extra["time_steps"] = integrator.state.steps if integrator.state else 0
    if integrator.stopped:
        series.flush()
        if fields:
            fields.abandon()
        state = stop["state"]
        raise RunInterrupted(interrupted_reason(state.time, state.steps, stop["written"], command,
                                                stop["problem"]))
    if fields and case.output.field_every is None:
        fields.write(end)
    segments = manifest.extra.get("segments")
    if segments:
        segments[-1]["end_time_s"] = end
    return fields
