"""The identity of a case, which a restart must match: the SHA-256 of its resolved SI
parameters (and of the files a circuit case names) and the ``--petsc`` options."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from ionslit.case import CaseError, LoadedCase, load_case

#: Case keys a restart may change: where results and meshes go, how often to checkpoint, how
#: far a steady continuation may go before it fails (the limits never change a converged state).
RESTART_FREE_KEYS = (
    ("description",),
    ("mesh", "cache_dir"),
    ("output", "directory"),
    ("output", "checkpoint"),
    ("output", "checkpoint_interval"),
    ("output", "checkpoint_steps"),
    ("solver", "continuation_max_steps"),
    ("solver", "continuation_min_fraction"),
)


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
