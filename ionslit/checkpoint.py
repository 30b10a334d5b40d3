"""Checkpoint/restart of runs and SIGTERM handling (``ionslit run CASE --restart DIR``).

File format: ``DIR/checkpoint/state.npz``, one NumPy ``.npz`` archive (uncompressed zip of
``.npy`` arrays) written by rank 0 under a temporary name and renamed into place, so a crash
while writing leaves the previous checkpoint intact. Its ``meta`` entry is UTF-8 JSON:

- ``format`` "ionslit-checkpoint", ``version`` 1, ``meta``: what was written when (time, step,
  reason, segment, ranks, ionslit version), the case identity (``case``: SHA-256 of the resolved
  SI parameters, see ``case_identity``) and the mesh fingerprint (node/cell counts and a SHA-256
  of the node coordinates in input order);
- ``slits``: per slit name, the model's state (ionslit.solvers.checkpoint.capture_model): scalars in the
  JSON, fields as arrays ``slit/<name>/<field>`` of shape (input nodes, components) ordered by
  the mesh's input node index, so a restart may use another number of ranks;
- ``state``: any nested structure of dicts/lists/numbers/arrays (arrays as ``state/<n>``): the
  series rows so far and, for a slit run (meta ``run`` "slit"), the integrator state and the
  field files written so far; for a neuron run (``run`` "neuron", ``CircuitCheckpointer``) the
  phase, ``CircuitIntegrator.state()`` (voltage, time, step size and history, providers, spike
  detector) and the finished analyses, its live slits under ``slits`` by branch name (meta
  ``meshes``: their fingerprints).

``DIR/checkpoint/checkpoint.json`` repeats the ``meta`` part for people and scripts; only the
``.npz`` is read on restart. ``save_checkpoint``/``load_checkpoint`` are the generic API. Both
files are removed when the run finishes ok (a finished run cannot be continued).

Schedule (case ``[output]``): ``checkpoint`` (default true) turns checkpoints of transient slit
runs and of neuron runs on; one is written every ``checkpoint_interval`` of wall time (default
15 min) and, when given, every ``checkpoint_steps`` accepted steps, and always on SIGTERM (a
neuron run also writes one before each analysis, see ionslit.neuron_study). The default follows
Young's optimum sqrt(2 C M) for a checkpoint costing C ~ seconds and a mean time to a hard kill
(node failure, out of memory, SIGKILL after the scheduler's grace time) M ~ a day; a time limit
itself costs nothing, as SIGTERM writes its own checkpoint. A checkpoint does not change the run
(no step is shortened, the solver keeps its lagged Jacobian), and a restart continues it to
round-off from any step (ionslit.solvers.checkpoint restores the lagged Jacobian too), so the schedule
need not be deterministic; ``checkpoint_steps`` gives reproducible positions when wanted.

SIGTERM (a scheduler's time limit, ``scancel``): every rank's handler only sets a flag; the ranks
combine their flags after every accepted step (one small allreduce), so all stop at the same
step, write a checkpoint, record status ``interrupted`` and exit with code 143 (128 + SIGTERM:
what a job script sees from a process ended by SIGTERM, distinct from failures (1) and invalid
input (2); the run can be continued with ``--restart``).

Fields across checkpoints (``SegmentedFieldWriter``): each interval between two checkpoints is
its own XDMF/HDF5 pair in ``fields.partial/`` (``fields.xdmf`` while only one exists, then
``fields.0.xdmf``/``fields.h5``, ``fields.<k>.xdmf``/``fields.<k>.h5``), closed at the
checkpoint, so a killed run can only lose the interval after its last checkpoint. A restart
deletes the files of that lost interval; at the end ``fields.xdmf`` becomes an index of all
intervals (one temporal collection per field, each time level with its own mesh data, since
intervals written on different numbers of ranks order the nodes differently) and the folder is
renamed ``fields/`` as before. A run without checkpoints writes exactly what it wrote before.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shlex
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from mpi4py import MPI

from ionslit.case import LoadedCase
from ionslit.logs import get_logger
from ionslit.output import atomic_write_bytes, atomic_write_json, atomic_write_text

log = get_logger("checkpoint")

CHECKPOINT_DIRECTORY = "checkpoint"
STATE_FILE = "state.npz"
INFO_FILE = "checkpoint.json"
FORMAT, FORMAT_VERSION = "ionslit-checkpoint", 1

#: Case keys a restart may change: where results and meshes go, how often to checkpoint.
RESTART_FREE_KEYS = (
    ("description",),
    ("mesh", "cache_dir"),
    ("output", "directory"),
    ("output", "checkpoint"),
    ("output", "checkpoint_interval"),
    ("output", "checkpoint_steps"),
)


class RestartRefused(RuntimeError):
    """``--restart DIR`` cannot continue: no checkpoint, another case, another mesh..."""


class RunInterrupted(RuntimeError):
    """SIGTERM: the run stopped at a step boundary (after writing a checkpoint if it could)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def checkpoint_path(directory: Path) -> Path:
    return Path(directory) / CHECKPOINT_DIRECTORY / STATE_FILE


# ----------------------------------------------------------------------------------------------
# nested data <-> JSON + arrays
def pack(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """JSON-able form of nested dicts/lists/tuples/numbers/strings/None/arrays; arrays go to
    ``arrays`` under ``prefix/<n>`` and are referenced as {"__array__": key}. Tuples and dicts
    with non-string keys are kept as such ({"__tuple__": [...]}, {"__items__": [[k, v]...]})."""
    if isinstance(value, np.ndarray):
        key = f"{prefix}/{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [pack(v, arrays, prefix) for v in value]}
    if isinstance(value, list):
        return [pack(v, arrays, prefix) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: pack(v, arrays, prefix) for k, v in value.items()}
        return {"__items__": [[pack(k, arrays, prefix), pack(v, arrays, prefix)]
                              for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a checkpoint")


def unpack(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of ``pack`` (arrays from ``arrays``; missing ones, e.g. on ranks > 0, as None)."""
    if isinstance(value, list):
        return [unpack(v, arrays) for v in value]
    if isinstance(value, dict):
        if "__array__" in value:
            return arrays.get(value["__array__"])
        if "__tuple__" in value:
            return tuple(unpack(v, arrays) for v in value["__tuple__"])
        if "__items__" in value:
            return {_hashable(unpack(k, arrays)): unpack(v, arrays) for k, v in value["__items__"]}
        return {k: unpack(v, arrays) for k, v in value.items()}
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


# ----------------------------------------------------------------------------------------------
# the file
@dataclass
class Checkpoint:
    """A loaded checkpoint: ``meta`` and the unpacked ``slits`` ((meta, arrays) per slit name)
    and ``state`` on every rank; arrays only on rank 0 (None elsewhere)."""

    path: Path
    meta: dict
    slits: dict[str, tuple[dict, dict[str, np.ndarray | None]]]
    state: Any


def checkpoint_bytes(meta: Mapping, slits: Mapping[str, tuple[dict, Mapping]] | None = None,
                     state: Any = None) -> bytes:
    """The .npz archive of a checkpoint (see the module docstring)."""
    arrays: dict[str, np.ndarray] = {}
    slit_entries = {}
    for name, (slit_meta, slit_arrays) in (slits or {}).items():
        if "/" in name:
            raise ValueError(f"slit name {name!r} contains '/'")
        keys = {}
        for key, array in slit_arrays.items():
            if array is None:
                raise ValueError(f"slit {name!r}: field {key!r} missing (write from rank 0)")
            arrays[f"slit/{name}/{key}"] = np.asarray(array)
            keys[key] = f"slit/{name}/{key}"
        slit_entries[name] = {"meta": pack(slit_meta, arrays, f"slit/{name}/meta"),
                              "arrays": keys}
    document = {"format": FORMAT, "version": FORMAT_VERSION, "meta": pack(meta, arrays, "meta"),
                "slits": slit_entries, "state": pack(state, arrays, "state")}
    text = json.dumps(document, allow_nan=True)
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def save_checkpoint(path: Path, meta: Mapping, slits: Mapping[str, tuple[dict, Mapping]] | None
                    = None, state: Any = None, info: bool = True) -> None:
    """Write a checkpoint atomically (call on rank 0 with gathered arrays): ``slits`` maps a slit
    name to (meta, arrays) as returned by ``ionslit.solvers.checkpoint.capture_model``; ``state`` is any
    nested structure (e.g. a circuit integrator's ``state()``). With ``info``, also
    ``checkpoint.json`` (the meta, for people) next to it."""
    path = Path(path)
    atomic_write_bytes(path, checkpoint_bytes(meta, slits, state))
    if info:
        atomic_write_json(path.with_name(INFO_FILE), {"format": FORMAT, "version": FORMAT_VERSION,
                                                      "file": path.name, **meta})


def read_checkpoint(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON document, arrays) of a checkpoint file (one process)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    document = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    if document.get("format") != FORMAT:
        raise ValueError(f"{path} is not an ionslit checkpoint")
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {document.get('version')}, this "
                         f"ionslit reads version {FORMAT_VERSION}")
    return document, arrays


def load_checkpoint(path: Path, comm: MPI.Comm = MPI.COMM_WORLD) -> Checkpoint:
    """Read a checkpoint on rank 0 and share its metadata with every rank (arrays stay on rank
    0). Raises ValueError/OSError on every rank if it cannot be read. Collective."""
    document, arrays, problem = None, {}, None
    if comm.rank == 0:
        try:
            document, arrays = read_checkpoint(path)
        except (OSError, ValueError, KeyError) as error:
            problem = f"cannot read checkpoint {path}: {error}"
    problem, document = comm.bcast((problem, document), root=0)
    if problem:
        raise ValueError(problem)
    slits = {}
    for name, entry in document["slits"].items():
        slit_arrays = {key: arrays.get(stored) for key, stored in entry["arrays"].items()}
        slits[name] = (unpack(entry["meta"], arrays), slit_arrays)
    return Checkpoint(Path(path), unpack(document["meta"], arrays), slits,
                      unpack(document["state"], arrays))


# ----------------------------------------------------------------------------------------------
# identity of a case
def comparable_parameters(loaded: LoadedCase) -> dict:
    """The resolved SI parameters without the keys a restart may change; for a circuit also
    what its files hold (``referenced_inputs``)."""
    data = copy.deepcopy(loaded.case.model_dump(mode="json"))
    for key in RESTART_FREE_KEYS:
        container = data
        for part in key[:-1]:
            container = container.get(part) or {}
        if isinstance(container, dict):
            container.pop(key[-1], None)
    inputs = referenced_inputs(loaded)
    if inputs:
        data["referenced_inputs"] = inputs
    return data


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable: {error}"


def referenced_inputs(loaded: LoadedCase) -> dict:
    """What the files a circuit case names hold, so that a restart with another reduced model
    or stimulus table, or an edited live-slit case, is refused: per branch the SHA-256 of its
    reduced_model.json or the comparable parameters of its slit case; the stimulus table's
    SHA-256. Empty for slit cases (their case file says everything)."""
    circuit = loaded.case.circuit
    if circuit is None:
        return {}
    from ionslit.case import CaseError, load_case

    inputs: dict[str, Any] = {}
    for branch in circuit.branches:
        if branch.reduced is not None:
            inputs[f"branch {branch.name}"] = _file_sha256(branch.reduced)
        elif branch.slit is not None:
            try:
                inputs[f"branch {branch.name}"] = comparable_parameters(load_case(branch.slit))
            except (CaseError, OSError) as error:
                inputs[f"branch {branch.name}"] = f"unreadable: {error}"
    if circuit.stimulus.file is not None:
        inputs["stimulus"] = _file_sha256(circuit.stimulus.file)
    return inputs


def case_identity(loaded: LoadedCase, petsc_command_line: str) -> dict:
    """What a restart must match: the SHA-256 of the resolved SI parameters (so comments,
    formatting and equivalent units or ``--set`` overrides do not matter, any changed value
    does, except ``RESTART_FREE_KEYS``) and the ``--petsc`` options; the case text's SHA-256
    and the overrides are kept for the record."""
    parameters = comparable_parameters(loaded)
    text = json.dumps(parameters, sort_keys=True, allow_nan=True)
    return {"parameters_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "parameters": parameters, "petsc": petsc_command_line,
            "text_sha256": loaded.sha256, "overrides": list(loaded.overrides)}


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out or {prefix.rstrip("."): {}}
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for index, value in enumerate(data):
            out.update(_flat(value, f"{prefix}{index}."))
        return out
    return {prefix.rstrip("."): data}


def identity_differences(stored: dict, current: dict) -> list[str]:
    """Readable differences between two ``case_identity`` records (empty if they match)."""
    problems = []
    if stored["parameters_sha256"] != current["parameters_sha256"]:
        old, new = _flat(stored["parameters"]), _flat(current["parameters"])
        absent = "<absent>"
        keys = sorted(k for k in set(old) | set(new) if old.get(k, absent) != new.get(k, absent))
        shown = [f"{k}: {old.get(k, absent)!r} -> {new.get(k, absent)!r}" for k in keys[:6]]
        more = f" (and {len(keys) - 6} more)" if len(keys) > 6 else ""
        problems.append("the case differs from the checkpoint's: " + "; ".join(shown) + more)
    if stored["petsc"] != current["petsc"]:
        problems.append(f"--petsc differs from the checkpoint's: {stored['petsc']!r} -> "
                        f"{current['petsc']!r}")
    return problems


# ----------------------------------------------------------------------------------------------
# schedule and SIGTERM
@dataclass(frozen=True)
class CheckpointSettings:
    enabled: bool = True
    interval: float = 900.0  # s of wall time
    steps: int | None = None

    @classmethod
    def from_case(cls, loaded: LoadedCase) -> CheckpointSettings:
        output = loaded.case.output
        return cls(output.checkpoint, output.checkpoint_interval, output.checkpoint_steps)


class RunControl:
    """SIGTERM flag and checkpoint schedule of one run segment (all ranks)."""

    SIGTERM_BIT, PERIODIC_BIT = 2, 1

    def __init__(self, comm: MPI.Comm, settings: CheckpointSettings):
        self.comm, self.settings = comm, settings
        self.signalled = False
        self._previous_handler, self._installed = None, False
        self._last_write = time.monotonic()

    def install(self) -> None:
        """Catch SIGTERM (main thread only; elsewhere the default action stays). Call again
        after code that replaces the C-level handler: importing petsc4py installs PETSc's
        (which aborts the job) and initialising gmsh restores the default one."""
        try:
            previous = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not the main thread
            return
        if not self._installed:
            self._previous_handler, self._installed = previous, True

    def uninstall(self) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous_handler or signal.SIG_DFL)
            self._installed = False

    def _handler(self, signum, frame) -> None:  # noqa: ARG002
        self.signalled = True

    def any_signalled(self) -> bool:
        """True on every rank if any rank got SIGTERM. Collective."""
        self.signalled = bool(self.comm.allreduce(int(self.signalled), op=MPI.MAX))
        return self.signalled

    def poll(self, steps: int, final: bool) -> tuple[bool, bool]:
        """(write a checkpoint, stop) at this step boundary, the same on every rank (one
        allreduce). ``final``: the last step of the run (then nothing is written or stopped:
        the run finishes)."""
        local = self.SIGTERM_BIT if self.signalled else 0
        if self.comm.rank == 0 and self.settings.enabled \
                and time.monotonic() - self._last_write >= self.settings.interval:
            local |= self.PERIODIC_BIT
        flags = np.array([local], dtype=np.int32)
        self.comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.BOR)
        flags = int(flags[0])
        if flags & self.SIGTERM_BIT:
            self.signalled = True
        if final:
            return False, False
        stop = bool(flags & self.SIGTERM_BIT)
        every = self.settings.steps
        periodic = bool(flags & self.PERIODIC_BIT) or bool(every and steps % every == 0)
        return self.settings.enabled and (stop or periodic), stop

    def wrote(self) -> None:
        self._last_write = time.monotonic()


def restart_command(loaded: LoadedCase, directory: Path, petsc_command_line: str = "") -> str:
    """The command line that continues a run (same case, --set and --petsc)."""
    words = ["ionslit", "run", str(loaded.path), "--restart", str(directory)]
    for override in loaded.overrides:
        words += ["--set", override]
    if petsc_command_line:
        words.append(f"--petsc={petsc_command_line}")
    return shlex.join(words)


def interrupted_reason(time_s: float | None, steps: int | None, written: bool,
                       command: str = "", problem: str = "") -> str:
    """The manifest's reason for a run stopped by SIGTERM; ``command`` continues it."""
    if time_s is None:
        return ("SIGTERM (time limit?) before the first time step: no checkpoint; run the case "
                "again from the start")
    if not written:
        return (f"SIGTERM (time limit?) at t = {time_s:.6g} s (step {steps}): no checkpoint "
                f"written{': ' + problem if problem else ' (checkpoints are off)'}")
    return (f"SIGTERM (time limit?): checkpoint at t = {time_s:.6g} s (step {steps}); continue "
            f"with: {command}")


# ----------------------------------------------------------------------------------------------
# restart: checks before anything is written
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


def remove_checkpoint(directory: Path) -> None:
    """Delete DIR/checkpoint (rank 0, after the run finished ok)."""
    folder = Path(directory) / CHECKPOINT_DIRECTORY
    for name in (STATE_FILE, INFO_FILE):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


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


# ----------------------------------------------------------------------------------------------
# fields: one XDMF file per interval between checkpoints
class SegmentedFieldWriter:
    """Like results.FieldWriter (``write``, ``close``), plus ``rotate`` at checkpoints and
    ``state``/restore for restarts (see the module docstring). Collective."""

    def __init__(self, directory: Path, field_output, comm: MPI.Comm, state: dict | None = None):
        self.final = Path(directory) / "fields"
        self.partial = Path(directory) / "fields.partial"
        self.field_output, self.comm = field_output, comm
        self.closed: list[dict[str, str]] = []
        self.index = 0
        self.file = None  # the open interval's dolfinx.io.XDMFFile
        if state is not None:
            self.closed = [dict(entry) for entry in state["closed"]]
            self.index = int(state["index"])
        if comm.rank == 0:
            if state is not None:
                self._discard_lost_files()
            self.partial.mkdir(parents=True, exist_ok=True)
        comm.barrier()

    def _discard_lost_files(self) -> None:
        """Restart: keep the intervals the checkpoint lists, delete the one that was lost."""
        if self.final.is_dir() and not self.partial.exists():
            self.final.rename(self.partial)  # killed between the rename and the manifest
        if not self.partial.is_dir():
            return
        keep = {name for entry in self.closed for name in entry.values()}
        for path in self.partial.iterdir():
            if path.name not in keep and path.name.startswith("fields") \
                    and path.suffix in (".xdmf", ".h5"):
                path.unlink()

    def _name(self, index: int) -> str:
        return "fields.xdmf" if index == 0 else f"fields.{index}.xdmf"

    def write(self, time_s: float) -> None:
        if self.file is None:
            import dolfinx.io

            self.file = dolfinx.io.XDMFFile(self.comm, str(self.partial / self._name(self.index)),
                                            "w")
            self.file.write_mesh(self.field_output.potential.function_space.mesh)
        for function in self.field_output.update():
            self.file.write_function(function, time_s)

    def rotate(self) -> None:
        """Close the open interval's files (at a checkpoint); the next write opens new ones."""
        if self.file is None:
            return
        self.file.close()
        self.file = None
        self.comm.barrier()
        name = self._name(self.index)
        h5 = Path(name).with_suffix(".h5").name
        if self.index == 0:  # fields.xdmf is the index name at the end
            name = "fields.0.xdmf"
            if self.comm.rank == 0:
                (self.partial / "fields.xdmf").rename(self.partial / name)
        self.closed.append({"xdmf": name, "h5": h5})
        self.index += 1
        self.comm.barrier()

    def state(self) -> dict:
        return {"closed": [dict(entry) for entry in self.closed], "index": self.index}

    def abandon(self) -> None:
        """Close the open file without publishing anything (an interrupted run)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        self.comm.barrier()

    def close(self) -> None:
        """Finish the files, write the index of all intervals if there are several, and
        publish them under ``fields/``."""
        parts = [entry["xdmf"] for entry in self.closed]
        if self.file is not None:
            self.file.close()
            self.file = None
            parts.append(self._name(self.index))
        self.comm.barrier()
        if self.comm.rank == 0:
            if self.closed:
                atomic_write_text(self.partial / "fields.xdmf", combined_xdmf(self.partial, parts))
            self.partial.rename(self.final)
        self.comm.barrier()


def combined_xdmf(folder: Path, parts: list[str]) -> str:
    """One XDMF document with every time level of the dolfinx XDMF files ``parts`` (in
    ``folder``, in time order): a temporal collection per field whose levels carry their own
    copies of their file's Topology/Geometry (intervals may order nodes differently)."""
    root = ET.Element("Xdmf", Version="3.0")
    domain = ET.SubElement(root, "Domain")
    collections: dict[str, ET.Element] = {}
    for index, part in enumerate(parts):
        document = ET.parse(folder / part).getroot().find("Domain")
        mesh = next(g for g in document.findall("Grid") if g.get("GridType") == "Uniform")
        topology, geometry = mesh.find("Topology"), mesh.find("Geometry")
        if index == 0:
            domain.append(copy.deepcopy(mesh))
        for collection in document.findall("Grid"):
            if collection.get("GridType") != "Collection":
                continue
            name = collection.get("Name")
            if name not in collections:
                collections[name] = ET.SubElement(domain, "Grid", Name=name,
                                                  GridType="Collection",
                                                  CollectionType="Temporal")
            for level in collection.findall("Grid"):
                grid = ET.SubElement(collections[name], "Grid", Name=level.get("Name", name),
                                     GridType="Uniform")
                grid.append(copy.deepcopy(topology))
                grid.append(copy.deepcopy(geometry))
                for child in level:
                    if not child.tag.endswith("include"):
                        grid.append(copy.deepcopy(child))
    ET.indent(root, space="  ")
    return ('<?xml version="1.0"?>\n<!DOCTYPE Xdmf SYSTEM "Xdmf.dtd" []>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def xdmf_times(path: Path) -> dict[str, list[float]]:
    """Time values of every temporal collection of an XDMF file (for checks and tests)."""
    domain = ET.parse(path).getroot().find("Domain")
    out = {}
    for collection in domain.findall("Grid"):
        if collection.get("GridType") == "Collection":
            out[collection.get("Name")] = [float(g.find("Time").get("Value"))
                                           for g in collection.findall("Grid")]
    return out


# ----------------------------------------------------------------------------------------------
# the checkpoints of a run
class RunCheckpointer:
    """What the checkpoints of every kind of run share (collective methods): the file, the case
    identity, the series rows written so far (so a restarted series.csv equals the uninterrupted
    one: rows the lost interval had already flushed are replaced), the manifest record.
    ``SlitCheckpointer`` and ``CircuitCheckpointer`` add their run's own state."""

    kind = "slit"  # meta["run"]: which study a checkpoint belongs to

    def __init__(self, directory: Path, loaded: LoadedCase, petsc_command_line: str,
                 comm: MPI.Comm, series: Any, manifest: Any, segment: int = 0):
        self.directory, self.loaded = Path(directory), loaded
        self.petsc_command_line, self.comm = petsc_command_line, comm
        self.series = series  # results.SeriesWriter
        self.manifest = manifest  # manifest.Manifest
        self.segment = segment
        self.count = 0
        self._identity: dict | None = None

    @property
    def path(self) -> Path:
        return checkpoint_path(self.directory)

    @property
    def identity(self) -> dict:
        """``case_identity`` of the run (computed once)."""
        if self._identity is None:
            self._identity = case_identity(self.loaded, self.petsc_command_line)
        return self._identity

    def save(self, time_s: float, steps: int, reason: str, slits: Mapping | None, state: dict,
             meta: Mapping | None = None) -> str:
        """Write a checkpoint at simulated time ``time_s`` after ``steps`` accepted steps: the
        ``slits`` (name -> (meta, arrays), arrays on rank 0) and the run's ``state`` (rank 0's
        is written), plus the series rows so far and ``meta`` (e.g. mesh fingerprints). Returns
        '' or, if rank 0 could not write it, the problem (the same on every rank)."""
        problem = None
        if self.comm.rank == 0:
            self.series.flush()
            names = list(self.series.rows[0]) if self.series.rows else []
            rows = np.array([[row.get(n, np.nan) for n in names] for row in self.series.rows],
                            dtype=float).reshape(len(self.series.rows), len(names))
            record = {"written": _now(), "reason": reason, "time_s": time_s, "step": steps,
                      "segment": self.segment, "ranks": self.comm.size, "run": self.kind,
                      "case": self.identity, **(meta or {}), "ionslit": _version()}
            try:
                save_checkpoint(self.path, record, slits,
                                {**state, "series_columns": names, "series_rows": rows})
            except (OSError, ValueError, TypeError) as error:
                problem = f"{type(error).__name__}: {error}"
        problem = self.comm.bcast(problem, root=0)
        if problem:
            log.error("checkpoint at t = %.6g s failed: %s", time_s, problem)
            return problem
        self.count += 1
        self.manifest.extra["checkpoint"] = {
            "path": f"{CHECKPOINT_DIRECTORY}/{STATE_FILE}", "time_s": time_s, "step": steps,
            "reason": reason, "written": _now(), "count_this_segment": self.count}
        segments = self.manifest.extra.get("segments")
        if segments:
            segments[-1]["end_time_s"] = time_s
        if self.comm.rank == 0:
            self.manifest.write()
        log.debug("checkpoint (%s) at t = %.6g s, step %d", reason, time_s, steps)
        return ""

    def restore_series(self, checkpoint: Checkpoint) -> None:
        """The series rows the checkpoint recorded (rank 0 keeps them)."""
        if self.comm.rank == 0:
            names = checkpoint.state["series_columns"]
            self.series.rows = [dict(zip(names, map(float, row)))
                                for row in np.asarray(checkpoint.state["series_rows"])]

    def shared_state(self, checkpoint: Checkpoint) -> dict:
        """The checkpoint's run state without the series, with its arrays on every rank (the
        file's arrays are read on rank 0 only). Collective."""
        state = None
        if self.comm.rank == 0:
            state = {k: v for k, v in checkpoint.state.items() if not k.startswith("series_")}
        return self.comm.bcast(state, root=0)


class SlitCheckpointer(RunCheckpointer):
    """Writes and restores the checkpoints of one transient slit run (collective methods):
    ``model`` (ionslit.solvers.model.PNPModel) as the slit ``slit``, the time integrator's state, the
    field files written so far (``fields``, a SegmentedFieldWriter or None)."""

    def __init__(self, directory: Path, loaded: LoadedCase, petsc_command_line: str,
                 comm: MPI.Comm, model: Any, series: Any, fields: SegmentedFieldWriter | None,
                 manifest: Any, segment: int = 0):
        from ionslit.solvers.checkpoint import mesh_fingerprint

        super().__init__(directory, loaded, petsc_command_line, comm, series, manifest, segment)
        self.model, self.fields = model, fields
        self._warned: set[str] = set()
        self.mesh = self.comm.bcast(mesh_fingerprint(self.model.mesh), root=0)
        self.track()

    def track(self) -> None:
        """Record the Jacobians the model's solvers reuse (before the first step)."""
        from ionslit.solvers.checkpoint import track_linearizations, tracking_problems

        track_linearizations(self.model)
        for name, problem in tracking_problems(self.model).items():
            if name in self._warned:
                continue
            self._warned.add(name)
            log.warning("checkpoints: the %s solver's lagged Jacobian is not recorded (%s): a "
                        "restart will match this run to the Newton tolerance only", name, problem)

    def check_mesh(self, checkpoint: Checkpoint) -> None:
        """RestartRefused unless the mesh is the checkpoint's (same nodes in input order)."""
        problem = mesh_difference(checkpoint.meta["mesh"], self.mesh)
        if problem:
            raise RestartRefused(problem)

    def write(self, state, reason: str) -> str:
        """Write a checkpoint at the integrator state ``state`` (IntegratorState); returns ''
        or, if rank 0 could not write it, the problem (the same on every rank)."""
        from ionslit.solvers.checkpoint import capture_model

        if self.fields is not None:
            self.fields.rotate()
        slit = capture_model(self.model)
        run_state = {"integrator": state.to_dict(),
                     "fields": None if self.fields is None else self.fields.state()}
        return self.save(state.time, state.steps, reason, {"slit": slit}, run_state,
                         {"mesh": self.mesh})

    def restore(self, checkpoint: Checkpoint):
        """Put the model and the series where the checkpoint left them (call ``check_mesh``
        first; the field writer is built from ``checkpoint.state["fields"]``); returns the
        IntegratorState to resume from. Collective."""
        from ionslit.solvers.checkpoint import restore_model
        from ionslit.solvers.time_stepping import IntegratorState

        slit_meta, slit_arrays = checkpoint.slits["slit"]
        restore_model(self.model, slit_meta, slit_arrays)
        self.restore_series(checkpoint)
        return IntegratorState.from_dict(checkpoint.state["integrator"])


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


class CircuitCheckpointer(RunCheckpointer):
    """Writes and restores the checkpoints of a neuron (circuit) run (collective methods).

    The run state: ``phase`` ("integration", or "analyses" once the main simulation is done),
    the membrane's initial voltage, ``CircuitIntegrator.state()`` (membrane voltage, time, step
    size and BDF history, slopes, secants, counters, every provider's state, the spike detector
    with its armed flags and spikes so far) and the analysis ``results`` finished so far. The
    live slits of the circuit (``live``: an ionslit.live_slits.LiveSlits, or None) are stored as
    slits named after their branches, fields keyed by the mesh input indices like a slit run's
    (meta ``meshes``: their fingerprints), so a restart may use another number of ranks; their
    entries in the integrator's provider states (rank-local snapshots) are left out."""

    kind = "neuron"

    def __init__(self, directory: Path, loaded: LoadedCase, petsc_command_line: str,
                 comm: MPI.Comm, series: Any, manifest: Any, segment: int = 0,
                 live: Any = None):
        super().__init__(directory, loaded, petsc_command_line, comm, series, manifest, segment)
        self.live = live
        self.names = list(live.names) if live is not None else []
        self.meshes = live.fingerprints() if live is not None else {}  # rank 0

    def check_meshes(self, checkpoint: Checkpoint) -> None:
        """RestartRefused (on every rank) unless the live slits and their meshes are the
        checkpoint's. Collective."""
        problem = None
        if self.comm.rank == 0:
            stored = checkpoint.meta.get("meshes") or {}
            if sorted(stored) != sorted(self.meshes):
                problem = (f"the circuit's live slits {sorted(self.meshes)} are not the "
                           f"checkpoint's {sorted(stored)}")
            else:
                problem = "; ".join(filter(None, (
                    mesh_difference(stored[name], self.meshes[name], f"the mesh of live slit "
                                    f"'{name}'") for name in sorted(stored)))) or None
        problem = self.comm.bcast(problem, root=0)
        if problem:
            raise RestartRefused(problem)

    def write(self, integrator: Any, reason: str, phase: str, initial_voltage: float,
              results: dict) -> str:
        """Write a checkpoint of the circuit run at the integrator's present (accepted) state;
        returns '' or the problem (the same on every rank)."""
        slits = self.live.capture() if self.live is not None else {}
        state = integrator.state()
        live = self.live_branches(integrator)
        state["providers"] = [None if k in live else snapshot
                              for k, snapshot in enumerate(state["providers"])]
        run_state = {"phase": phase, "initial_voltage_V": initial_voltage,
                     "integrator": state, "results": results,
                     "live_slit_time_s": None if self.live is None else self.live.time}
        return self.save(float(integrator.time[0]), int(integrator.stats["accepted"][0]),
                         reason, slits, run_state, {"meshes": self.meshes})

    def live_branches(self, integrator: Any) -> set[int]:
        """Indices of the circuit's branches whose element is a live slit."""
        if self.live is None:
            return set()
        return {k for k, branch in enumerate(integrator.circuit.branches)
                if getattr(branch.provider, "group", None) is self.live}

    def restore(self, checkpoint: Checkpoint, integrator: Any, state: dict | None = None) -> dict:
        """Put the integrator (with its providers and spike detector), the live slits and the
        series where the checkpoint left them (call ``check_meshes`` first); returns the run
        state (phase, initial voltage, results; ``state`` if given: ``shared_state``'s) on every
        rank. Collective."""
        from ionslit.coupling.provider import provider_snapshot

        state = self.shared_state(checkpoint) if state is None else state
        saved = dict(state["integrator"])
        live = self.live_branches(integrator)
        branches = integrator.circuit.branches
        # live slits: their own snapshot now (restored from the fields below)
        saved["providers"] = [provider_snapshot(branches[k].provider) if k in live else snap
                              for k, snap in enumerate(saved["providers"])]
        integrator.restore(saved)
        if self.live is not None:
            self.live.restore(checkpoint.slits, state["live_slit_time_s"])
        self.restore_series(checkpoint)
        return state


def _version() -> str:
    from ionslit import __version__

    return __version__
