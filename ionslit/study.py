"""Orchestration of one run: results directory, manifest lifecycle, the study the case asks for.

``run_study`` is what ``ionslit run`` and ``ionslit.run`` do. It raises ``RunFailed`` when the
run did not produce a valid result (recorded in the manifest unless the input was refused before
anything was written) and ``ionslit.run_control.RunInterrupted`` when SIGTERM stopped it (status
``interrupted``; the run can be continued with ``restart``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mpi4py import MPI

from ionslit.case import LoadedCase
from ionslit.checkpoint.archive import Checkpoint, remove_checkpoint
from ionslit.checkpoint.restart import RestartRefused, open_restart, restart_segments
from ionslit.failure import FailureAgreement
from ionslit.logs import get_logger
from ionslit.manifest import Manifest, Status
from ionslit.memristor_study import handles as memristor_study
from ionslit.memristor_study import run_memristor
from ionslit.neuron_study import run_neuron
from ionslit.output import OutputDirectoryError, prepare_results_directory
from ionslit.plots import plot_results
from ionslit.run_context import RunContext
from ionslit.run_control import CheckpointSettings, RunControl, RunInterrupted
from ionslit.slit_study import run_slit

log = get_logger("run")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunFailed(RuntimeError):
    """The run did not produce a valid result. ``invalid_input``: the case, the results
    directory or the restart was refused before anything was written (the command line's exit
    code 2 instead of 1)."""

    def __init__(self, reason: str, invalid_input: bool = False):
        super().__init__(reason)
        self.invalid_input = invalid_input


def _prepare_directory(directory: Path, overwrite: bool, comm: MPI.Comm) -> None:
    """Create the results directory on rank 0; every rank learns whether that worked."""
    problem = None
    if comm.rank == 0:
        try:
            prepare_results_directory(directory, overwrite)
        except (OutputDirectoryError, OSError) as error:
            problem = str(error)
    problem = comm.bcast(problem, root=0)
    if problem:
        raise RunFailed(problem, invalid_input=True)


def run_study(
    loaded: LoadedCase, directory: Path, overwrite: bool = False, petsc: str = "",
    restart: bool = False, comm: MPI.Comm = MPI.COMM_WORLD,
) -> None:
    """Run the case into ``directory`` on the ranks of ``comm`` (collective).

    ``petsc``: extra PETSc options (a command-line string). ``restart``: continue the
    interrupted run in ``directory`` from its checkpoint (refused, with nothing written, when
    there is none or it belongs to another case or mesh). The manifest lists the run's segments
    (ranks, wall times, simulated times of each process that worked on it). Raises
    ``RunFailed`` (after recording it) on failure and ``RunInterrupted`` at SIGTERM."""
    directory = Path(directory)
    checkpoint: Checkpoint | None = None
    if restart:
        try:
            checkpoint, previous = open_restart(directory, loaded, petsc, comm)
        except RestartRefused as error:
            raise RunFailed(f"cannot restart: {error}", invalid_input=True) from None
        manifest = Manifest(directory, loaded, comm.size, {})
        manifest.started = previous.get("started") or manifest.started
        segments = restart_segments(previous, checkpoint)
        start_time = checkpoint.meta["time_s"]
    else:
        _prepare_directory(directory, overwrite, comm)
        manifest = Manifest(directory, loaded, comm.size, {})
        segments, start_time = [], 0.0
    segments.append({"index": len(segments), "ranks": comm.size, "started": _now(),
                     "start_time_s": start_time})
    manifest.extra["segments"] = segments
    agreement = FailureAgreement(comm)
    control = RunControl(comm, CheckpointSettings.from_case(loaded))  # checkpoints, SIGTERM
    control.install()
    context = RunContext(loaded, directory, manifest, comm, control, petsc, checkpoint)
    if comm.rank == 0 and not restart:  # a restart writes its manifest once the mesh is checked
        manifest.start()
    log.info("%s '%s' on %d rank(s) into %s", "continuing" if restart else "running",
             loaded.case.name, comm.size, directory)
    try:
        execute(context)
    except RestartRefused as error:  # found before anything was written (all ranks)
        raise RunFailed(f"cannot restart: {error}", invalid_input=True) from None
    except RunInterrupted as interruption:  # all ranks stopped at the same step
        if comm.rank == 0:
            manifest.finish("interrupted", str(interruption))
        comm.barrier()  # no rank exits (which may end the job) before rank 0 has written
        raise
    except KeyboardInterrupt:
        _record_failure(manifest, agreement, "interrupted", "interrupted by the user (SIGINT)")
        raise RunFailed("interrupted") from None
    except Exception as error:  # any failure is recorded, then reported with exit code 1
        reason = f"{type(error).__name__}: {error}"
        _record_failure(manifest, agreement, "failed", reason)
        raise RunFailed(reason) from error
    finally:
        control.uninstall()
    if comm.rank == 0:
        if "checkpoint" in manifest.extra:  # a finished run cannot be continued: free the space
            manifest.extra["checkpoint"]["removed_at_end"] = True
        manifest.finish("ok")
        remove_checkpoint(directory)
        plot_results(directory)  # a plot that fails is a warning, never a failed run
    log.info("done: %s", directory)


def _record_failure(manifest: Manifest, agreement: FailureAgreement, status: Status,
                    reason: str) -> None:
    """Record the failure once: by rank 0 when all ranks failed together, else by this rank,
    which then aborts the job so that no rank waits forever."""
    comm = agreement.comm
    if agreement.all_ranks_failed():
        if comm.rank == 0:
            manifest.finish(status, reason)
        return
    reason = f"rank {comm.rank}: {reason}"
    log.error("run failed on rank %d only, aborting all ranks: %s", comm.rank, reason)
    manifest.finish(status, reason)
    agreement.abort(1)


def execute(context: RunContext) -> None:
    """The study the case describes: a neuron circuit, or a slit under a protocol."""
    if context.case.circuit is not None:
        run_neuron(context)
    elif memristor_study(context.case):  # sweeps, steps + reduced model, [calibration]
        run_memristor(context)
    else:
        run_slit(context)
