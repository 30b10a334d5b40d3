"""The CLI's sub-commands: each takes the parsed arguments and returns an exit code
(ionslit.exit_codes). ``run`` is ``ionslit.api.run``; the others read or validate cases and
results directories. ``COMMANDS`` maps each sub-command's name to its function.

A sub-command imports what it alone needs (matplotlib, the mesher, the run machinery) inside
its function, so that the other sub-commands do not load it; none of those modules imports this
one or ionslit.cli, so the deferred imports make no import cycle.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from mpi4py import MPI

from ionslit.case import CaseError, LoadedCase, load_case
from ionslit.exit_codes import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, EXIT_OK
from ionslit.logs import get_logger
from ionslit.output import atomic_write_json
from ionslit.solvers.petsc_options import parse_petsc_options
from ionslit.submit import (
    JobSpec,
    SubmitError,
    check_results_directory,
    default_cache_seed,
    render,
    sbatch,
    write_script,
)
from ionslit.version import __version__

log = get_logger("cli")


def _load(args: argparse.Namespace) -> LoadedCase | None:
    """The validated case, or None after reporting the problems (exit code 2)."""
    try:
        return load_case(args.case, args.overrides)
    except CaseError as error:
        if MPI.COMM_WORLD.rank == 0:  # every rank found the same problems: report them once
            log.error("invalid case file %s", error)
        return None


def check(args: argparse.Namespace) -> int:
    """Validate, print the resolved case in SI, the mesh size estimate and dimensionless groups."""
    from ionslit import translate

    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID_INPUT
    if MPI.COMM_WORLD.rank == 0:
        summary = translate.summary(loaded.case)
        print(f"case '{loaded.case.name}' ({loaded.path}) is valid")
        print(json.dumps({"parameters_si": loaded.case.model_dump(mode="json"), **summary}, indent=2))
    return EXIT_OK


def calibrate(args: argparse.Namespace) -> int:
    """Fit the [calibration] law of the case; print it (and write --output JSON); no solve."""
    from ionslit.memristor_study import calibration_record

    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID_INPUT
    try:
        record = calibration_record(loaded.case)
    except ValueError as error:  # no [calibration] section, or a section the case cannot use
        if MPI.COMM_WORLD.rank == 0:
            log.error("invalid case file %s: calibration: %s", loaded.path, error)
        return EXIT_INVALID_INPUT
    if MPI.COMM_WORLD.rank == 0:
        print(f"reaction {record['reaction']}: law {json.dumps(record['law'])}, "
              f"K_d = {record['dissociation_constant_mol_m3']:.6g} mol/m^3")
        print(f"{'E (V/m)':>12} {'target':>8} {'fitted':>8} {'residual':>9}")
        for row in zip(record["field_V_m"], record["target_ratio"], record["fitted_ratio"],
                       record["relative_residuals"], strict=True):
            print("{:12.4g} {:8.4f} {:8.4f} {:+9.2%}".format(*row))
        if args.output is not None:
            atomic_write_json(Path(args.output), record)
            log.info("wrote %s", args.output)
    return EXIT_OK


def mesh(args: argparse.Namespace) -> int:
    """Build the mesh, write mesh and tags to XDMF, print the adequacy report."""
    from ionslit import translate
    from ionslit.meshes.build import build_slit_mesh
    from ionslit.meshes.report import adequacy_report
    from ionslit.meshes.xdmf import write_mesh_xdmf

    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID_INPUT
    if loaded.case.geometry is None:
        log.error("case '%s' has no [geometry] (a circuit-only case): nothing to mesh", loaded.case.name)
        return EXIT_INVALID_INPUT
    directory = args.output or loaded.results_directory / "mesh"
    spec = translate.mesh_spec(loaded.case)
    slit_mesh = build_slit_mesh(translate.geometry(loaded.case), spec, MPI.COMM_WORLD,
                                cache_dir=loaded.case.mesh.cache_dir)
    path = Path(directory) / "mesh.xdmf"
    write_mesh_xdmf(slit_mesh, path)
    report = adequacy_report(slit_mesh, spec)
    if MPI.COMM_WORLD.rank == 0:
        atomic_write_json(path.with_suffix(".report.json"), report.to_dict())
    log.info("%s", report.format())
    log.info("wrote %s", path)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the case's study into its results directory (or continue one: --restart DIR), as
    ``ionslit.api.run`` does; its exceptions become exit codes."""
    from ionslit.api import RunFailed, RunInterrupted
    from ionslit.api import run as run_case

    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID_INPUT
    try:
        run_case(loaded, args.output, comm=MPI.COMM_WORLD, overwrite=args.overwrite,
                 petsc=args.petsc, restart=args.restart)
    except RunInterrupted as interruption:  # the same on every rank
        if MPI.COMM_WORLD.rank == 0:
            log.warning("run interrupted: %s", interruption)
        return EXIT_INTERRUPTED
    except RunFailed as failure:
        if MPI.COMM_WORLD.rank == 0:  # a failure that reaches here is the same on every rank
            log.error("run failed: %s", failure)
        return EXIT_INVALID_INPUT if failure.invalid_input else EXIT_FAILURE
    return EXIT_OK


def submit(args: argparse.Namespace) -> int:
    """Validate the case, render its SLURM batch script, then sbatch it (or print it: --dry-run)."""
    if MPI.COMM_WORLD.size > 1:
        log.error("submit: run it as one process, not under mpirun")
        return EXIT_INVALID_INPUT
    loaded = _load(args)
    if loaded is None:
        return EXIT_INVALID_INPUT
    try:
        parse_petsc_options(args.petsc)
        results = Path(args.output or loaded.results_directory).absolute()
        check_results_directory(results, args.overwrite)
        spec = JobSpec(
            case_file=Path(args.case).absolute(), case_name=loaded.case.name, results=results,
            ntasks=args.ntasks, time=args.time, partition=args.partition, launcher=args.launcher,
            python=Path(args.python or sys.executable).absolute(), overrides=tuple(args.overrides),
            petsc=args.petsc, overwrite=args.overwrite, sbatch_options=tuple(args.sbatch_options),
            cache_seed=default_cache_seed(), submit_directory=Path.cwd(),
        )
        script = render(spec, __version__)
    except (SubmitError, ValueError) as error:
        log.error("submit: %s", error)
        return EXIT_INVALID_INPUT
    if args.dry_run:
        print(script, end="")
        return EXIT_OK
    path = write_script(spec, script)
    try:
        job_id = sbatch(path, cwd=spec.submit_directory)
    except SubmitError as error:
        log.error("submit: %s (script left in %s)", error, path)
        return EXIT_FAILURE
    log.info("submitted job %s: %s, results in %s, log %s", job_id, path, results,
             spec.job_directory / f"slurm-{job_id}.log")
    print(job_id)
    return EXIT_OK


def plot(args: argparse.Namespace) -> int:
    """Regenerate DIR/plots/*.png from the files of a results directory (rank 0 draws)."""
    from ionslit.plots import PlotError, plot_results

    directory = Path(args.directory)
    if not (directory / "manifest.json").is_file():
        if MPI.COMM_WORLD.rank == 0:
            log.error("plot: %s is not an ionslit results directory (no manifest.json)", directory)
        return EXIT_INVALID_INPUT
    if MPI.COMM_WORLD.rank != 0:
        return EXIT_OK
    try:
        written = plot_results(directory, strict=True)
    except PlotError as error:
        log.error("plot: %d plot(s) failed: %s", len(error.failures), error)
        return EXIT_FAILURE
    for path in written:
        log.info("wrote %s", path)
    if not written:
        log.info("nothing to plot in %s", directory)
    return EXIT_OK


def version(args: argparse.Namespace) -> int:
    """Print the versions of ionslit and the numerical stack."""
    from ionslit.versions import stack_versions

    if MPI.COMM_WORLD.rank == 0:
        for name, value in stack_versions().items():
            print(f"{name:12s} {value}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run,
    "check": check,
    "calibrate": calibrate,
    "mesh": mesh,
    "submit": submit,
    "plot": plot,
    "version": version,
}
