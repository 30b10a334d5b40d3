"""The checkpoint file ``DIR/checkpoint/state.npz`` (format: ``ionslit.checkpoint``): nested
data <-> JSON + arrays, atomic writes on rank 0, loading on every rank."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mpi4py import MPI

from ionslit.output import atomic_write_bytes, atomic_write_json

CHECKPOINT_DIRECTORY = "checkpoint"
STATE_FILE = "state.npz"
INFO_FILE = "checkpoint.json"
FORMAT, FORMAT_VERSION = "ionslit-checkpoint", 1


def checkpoint_path(directory: Path) -> Path:
    """Where the checkpoint of results directory ``directory`` is."""
    return Path(directory) / CHECKPOINT_DIRECTORY / STATE_FILE


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
    """The .npz archive of a checkpoint (format: ``ionslit.checkpoint``)."""
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
    members: dict[str, Any] = {"meta": np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
                               **arrays}
    np.savez(buffer, **members)
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
    document, problem = None, None
    arrays: dict[str, np.ndarray] = {}
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



def remove_checkpoint(directory: Path) -> None:
    """Delete DIR/checkpoint (rank 0, after the run finished ok)."""
    folder = Path(directory) / CHECKPOINT_DIRECTORY
    for name in (STATE_FILE, INFO_FILE):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
