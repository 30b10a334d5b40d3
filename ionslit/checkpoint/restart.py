"""The checks before a restart (``ionslit run CASE --restart DIR``) writes anything: the
checkpoint exists, belongs to this case (``ionslit.checkpoint.identity``) and kind of run, and
its meshes are this run's; the manifest's segment list of the continued run."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from mpi4py import MPI

from ionslit.case import LoadedCase
from ionslit.checkpoint.archive import (
    CHECKPOINT_DIRECTORY,
    STATE_FILE,
    Checkpoint,
    checkpoint_path,
    load_checkpoint,
)
from ionslit.checkpoint.identity import case_identity, identity_differences


class RestartRefused(RuntimeError):
    """``--restart DIR`` cannot continue: no checkpoint, another case, another mesh..."""


def open_restart(directory: Path, loaded: LoadedCase, petsc_command_line: str,
                 comm: MPI.Comm) -> tuple[Checkpoint, dict]:
    """The checkpoint of ``directory`` and its previous manifest (dict), after checking that
    they fit ``loaded`` (same resolved parameters and --petsc options). Raises RestartRefused
    on every rank otherwise. Collective; writes nothing."""
    directory = Path(directory)
    problem, manifest = None, None
    if comm.rank == 0:
        manifest_path = directory / "manifest.json"
        path = checkpoint_path(directory)
        if not manifest_path.is_file():
            problem = f"{directory} is not an ionslit results directory (no manifest.json)"
        elif not path.is_file():
            problem = (f"{directory} has no checkpoint ({CHECKPOINT_DIRECTORY}/{STATE_FILE}): "
                       "nothing to continue from; run the case without --restart")
        else:
            try:
                manifest = json.loads(manifest_path.read_text())
            except (OSError, ValueError) as error:
                problem = f"cannot read {manifest_path}: {error}"
            else:
                if manifest.get("status") == "ok":
                    problem = f"the run in {directory} has already finished (status ok)"
    problem = comm.bcast(problem, root=0)
    if problem:
        raise RestartRefused(problem)
    try:
        checkpoint = load_checkpoint(checkpoint_path(directory), comm)
    except ValueError as error:
        raise RestartRefused(str(error)) from None
    problems = identity_differences(checkpoint.meta["case"],
                                    case_identity(loaded, petsc_command_line))
    kind = "neuron" if loaded.case.circuit is not None else "slit"
    stored = checkpoint.meta.get("run", "slit")
    if stored != kind or (kind == "slit" and "slit" not in checkpoint.slits):
        problems.append(f"the checkpoint is of a {stored} run, the case is a {kind} run")
    if problems:
        raise RestartRefused("; ".join(problems))
    return checkpoint, comm.bcast(manifest, root=0)



def restart_segments(previous: dict, checkpoint: Checkpoint) -> list[dict]:
    """The segment list of a restarted run's manifest: the previous ones, the last one closed
    at the checkpoint (its steps after the checkpoint are discarded)."""
    segments = copy.deepcopy(previous.get("segments") or [])
    if segments:
        last = segments[-1]
        if last.get("status") == "running":
            last["status"] = "killed"  # the manifest of a killed run says running
        last["continued_from_time_s"] = checkpoint.meta["time_s"]
    return segments



def mesh_difference(stored: dict | None, mesh: dict | None, what: str = "the mesh") -> str:
    """'' if two ``mesh_fingerprint`` records match, else why a restart is refused."""
    if stored == mesh:
        return ""
    if not stored or not mesh:
        return f"{what} is not the checkpoint's"
    return (f"{what} differs from the checkpoint's ({stored['nodes']} nodes, "
            f"{stored['cells']} cells, coordinates {stored['coordinates_sha256'][:12]} vs "
            f"{mesh['nodes']}, {mesh['cells']}, {mesh['coordinates_sha256'][:12]}): another "
            "gmsh or mesh builder?")

