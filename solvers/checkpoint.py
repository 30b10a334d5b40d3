"""Partition-independent checkpoints of a PNPModel: nodal values keyed by the mesh's input nodes.

A mesh read from the same ``.msh`` file has the same *input* node numbering on any number of
ranks (``mesh.geometry.input_global_indices``), while dolfinx's own dof numbering depends on the
partition. So every P1 field is stored as an array ``(input node, component)``: each rank maps
its P1 dofs to geometry nodes (same cell-local layout for a first-order geometry) and those to
input indices; values are gathered on rank 0 for writing and scattered back, by input index, on
whatever number of ranks reads them (``NodeLayout``). A global scalar unknown in a real space
(the current clamp's electrode potential) is stored as its one value.

``capture_model``/``restore_model`` carry everything a transient needs to continue *exactly*:
the state, both history levels, time, step/BDF/charge history, parameters and targets, clamp mode
(PNPModel.snapshot without its rank-local arrays), and for every Newton solver of the model the
point where it last assembled and factorised its Jacobian (``LinearizationTracker``). With
chord iterations (reuse='jacobian') the lagged Jacobian carries history from earlier steps: a
restart that started with a fresh Jacobian would converge to a slightly different iterate
(Newton tolerance, ~1e-8) and could take another number of iterations, hence another step size.
Re-assembling the Jacobian at the recorded point instead reproduces the uninterrupted run to
round-off, whatever the step at which the checkpoint was taken.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
from mpi4py import MPI

from ionslit.solvers.model import PNPModel
from ionslit.solvers.nonlinear import NewtonSolver

#: Fields of a PNPModel in a checkpoint: the state and the two BDF history levels.
MODEL_FIELDS = ("state", "state_n", "state_nm1")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or does not fit the model it is restored into."""


# ----------------------------------------------------------------------------------------------
# nodal layouts
class NodeLayout:
    """Local dofs of a function space -> (input index, component), and the collective gather (to
    rank 0) and scatter (from rank 0) of arrays ordered by input index.

    ``kind`` 'nodal': Lagrange P1 (scalar, or mixed of scalar P1 elements) on a first-order
    mesh, keyed by input node; 'cell': DG0, keyed by input cell; 'real': one global dof."""

    def __init__(self, space):
        space = getattr(space, "_cpp_object", space)  # dolfinx.fem.FunctionSpace or its C++ one
        mesh = space.mesh
        self.comm = mesh.comm
        dofmap = space.dofmap
        index_map, bs = dofmap.index_map, dofmap.index_map_bs
        self.owned_size = index_map.size_local * bs
        if bs != 1:
            raise CheckpointError("blocked (vector) spaces are not supported")
        subspaces = [space.sub([k]) for k in range(space.element.num_sub_elements)] or [space]
        kinds = {_element_kind(sub.element) for sub in subspaces}
        if index_map.size_global == 1 and kinds == {"cell"}:
            self.kind, self.num_components, self.num_nodes = "real", 1, 1
            return
        if len(kinds) != 1 or kinds & {"unsupported"}:
            raise CheckpointError(f"unsupported element {space.element.signature!r}: checkpoints "
                                  "store P1 and DG0 fields")
        self.kind = kinds.pop()
        if self.kind == "nodal":
            geometry = mesh.geometry
            if geometry.cmaps[0].degree != 1:
                raise CheckpointError("checkpoints need a first-order mesh geometry")
            cell_keys = np.asarray(geometry.input_global_indices, dtype=np.int64)[
                np.asarray(geometry.dofmaps[0])]
        else:
            original = mesh.topology.original_cell_index
            cell_keys = np.asarray(original[0] if isinstance(original, list) else original,
                                   dtype=np.int64)[:, None]
        dofs, keys, comps = [], [], []
        for component, sub in enumerate(subspaces):
            cell_dofs = np.asarray(sub.dofmap.map())
            if cell_dofs.shape[1] != cell_keys.shape[1] or cell_dofs.shape[0] > cell_keys.shape[0]:
                raise CheckpointError("dof layout differs from the mesh's")
            dofs.append(cell_dofs.ravel())
            keys.append(cell_keys[: cell_dofs.shape[0]].ravel())
            comps.append(np.full(cell_dofs.size, component, dtype=np.int64))
        unique, first = np.unique(np.concatenate(dofs), return_index=True)
        self.dofs = unique.astype(np.int64)
        self.nodes = np.concatenate(keys)[first]
        self.components = np.concatenate(comps)[first]
        self.num_components = len(subspaces)
        local_size = (index_map.size_local + index_map.num_ghosts) * bs
        if self.dofs.size != local_size:
            raise CheckpointError(f"{local_size - self.dofs.size} local dofs are on no cell")
        self.owned = self.dofs < self.owned_size
        largest = int(self.nodes.max()) if self.nodes.size else -1
        self.num_nodes = self.comm.allreduce(largest, op=MPI.MAX) + 1

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the gathered array."""
        return (1,) if self.kind == "real" else (self.num_nodes, self.num_components)

    def gather(self, values: np.ndarray) -> np.ndarray | None:
        """The owned entries of the local array ``values`` (a Function's ``x.array``) from every
        rank, as one array of ``shape`` on rank 0 (None elsewhere). Collective."""
        if self.kind == "real":
            owned = values[: self.owned_size].copy()
            parts = self.comm.gather(owned, root=0)
            return None if parts is None else np.concatenate(parts)
        sel = self.owned
        parts = self.comm.gather((self.nodes[sel], self.components[sel],
                                  values[self.dofs[sel]]), root=0)
        if parts is None:
            return None
        out = np.full(self.shape, np.nan)
        for nodes, components, data in parts:
            out[nodes, components] = data
        return out

    def scatter(self, gathered: np.ndarray | None, values: np.ndarray) -> None:
        """Fill the local array ``values`` (owned and ghost entries) from ``gathered`` (an array
        of ``shape`` on rank 0, as written by ``gather`` on any number of ranks). Collective."""
        if self.kind == "real":
            value = self.comm.bcast(None if gathered is None else np.asarray(gathered), root=0)
            if value.shape != (1,):
                raise CheckpointError(f"a real-space value has shape {value.shape}, expected (1,)")
            values[:] = value[0]
            return
        requests = self.comm.gather((self.nodes, self.components), root=0)
        problem = None
        replies = None
        if self.comm.rank == 0:
            gathered = np.asarray(gathered)
            if gathered.shape != self.shape:
                problem = f"field of shape {gathered.shape}, this mesh needs {self.shape}"
            else:
                replies = [gathered[nodes, components] for nodes, components in requests]
                if any(np.isnan(r).any() for r in replies):
                    problem = "the checkpoint has no value for some nodes of this mesh"
        problem = self.comm.bcast(problem, root=0)
        if problem:
            raise CheckpointError(problem)
        values[self.dofs] = self.comm.scatter(replies, root=0)


def _element_kind(element) -> str:
    """'nodal' (continuous P1), 'cell' (DG0) or 'unsupported', for a C++ finite element."""
    if element.num_sub_elements:
        return "unsupported"
    basix_element = element.basix_element
    if basix_element.family.name != "P":
        return "unsupported"
    if basix_element.degree == 1 and not basix_element.discontinuous:
        return "nodal"
    if basix_element.degree == 0:
        return "cell"
    return "unsupported"


_layouts: dict[int, tuple[Any, NodeLayout]] = {}


def node_layout(space) -> NodeLayout:
    """The (cached) NodeLayout of ``space`` (Python or C++ FunctionSpace). Collective on first
    use; raises CheckpointError (on every rank) for unsupported spaces."""
    cpp = getattr(space, "_cpp_object", space)
    cached = _layouts.get(id(cpp))
    if cached is None or cached[0] is not cpp:
        cached = (cpp, NodeLayout(cpp))
        _layouts[id(cpp)] = cached
    return cached[1]


def mesh_fingerprint(mesh: dolfinx.mesh.Mesh) -> dict | None:
    """Global node and cell counts and a SHA-256 of the node coordinates in input order (on
    rank 0; None elsewhere): equal for the same mesh on any number of ranks. Collective."""
    geometry = mesh.geometry
    owned = geometry.index_map().size_local
    parts = mesh.comm.gather((np.asarray(geometry.input_global_indices[:owned]),
                              geometry.x[:owned, : geometry.dim].copy()), root=0)
    tdim = mesh.topology.dim
    cells = mesh.topology.index_map(tdim).size_global
    if parts is None:
        return None
    count = sum(len(p[0]) for p in parts)
    coordinates = np.zeros((count, geometry.dim))
    for indices, x in parts:
        coordinates[indices] = x
    digest = hashlib.sha256(np.ascontiguousarray(coordinates).tobytes()).hexdigest()
    return {"nodes": int(count), "cells": int(cells), "gdim": int(geometry.dim),
            "coordinates_sha256": digest}


# ----------------------------------------------------------------------------------------------
# Newton solvers: where the lagged Jacobian was assembled
def _flatten_forms(forms) -> list:
    if forms is None:
        return []
    if isinstance(forms, Sequence):
        return [f for item in forms for f in _flatten_forms(item)]
    return [forms]


def _unique(objects: Iterable) -> list:
    seen, out = set(), []
    for obj in objects:
        if id(obj) not in seen:
            seen.add(id(obj))
            out.append(obj)
    return out


class LinearizationTracker:
    """Records, for one NewtonSolver, the values of every coefficient and constant of its
    Jacobian form(s) whenever it assembles a Jacobian that it then factorises (the matrix the
    chord iterations of later steps reuse), and re-creates that factorisation on restart.

    Installed by wrapping the SNES Jacobian callback; it only copies arrays. Coefficients on
    spaces a NodeLayout cannot store (``static``) are assumed constant in time (indicators)."""

    def __init__(self, solver: NewtonSolver):
        self.solver = solver
        forms = _flatten_forms(solver.problem.J) + _flatten_forms(
            solver.problem.preconditioner)
        cpp_forms = [f._cpp_object for f in forms]
        coefficients = _unique(c for f in cpp_forms for c in f.coefficients)
        self.constants = _unique(c for f in cpp_forms for c in f.constants)
        self.coefficients, self.layouts, self.static = [], [], []
        for coefficient in coefficients:
            try:
                self.layouts.append(node_layout(coefficient.function_space))
                self.coefficients.append(coefficient)
            except CheckpointError:  # e.g. a P2 or DG1 coefficient: assumed not to change
                self.static.append(coefficient.name)
        self.point: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._original = solver.jacobian_callback
        solver.snes.setJacobian(self._jacobian, solver.problem.A, solver.problem.P_mat)

    def _jacobian(self, snes, x, A, P) -> None:
        solver = self.solver
        refactor = solver.reuse == "none" or solver.refresh_factorization
        self._original(snes, x, A, P)
        if refactor:
            self.point = ([c.x.array.copy() for c in self.coefficients],
                          [np.array(c.value, copy=True) for c in self.constants])

    # -- checkpoint ---------------------------------------------------------------------------
    def capture(self) -> tuple[dict, dict[str, np.ndarray | None]]:
        """(metadata, gathered arrays) of the solver's reuse state. Collective."""
        solver = self.solver
        meta = {"reuse": solver.reuse, "refresh": bool(solver.refresh_factorization),
                "coefficients": [c.name for c in self.coefficients],
                "has_point": self.point is not None, "constants": None}
        arrays: dict[str, np.ndarray | None] = {}
        # The lagged factors matter only if the next solve would keep them.
        if self.point is not None and solver.reuse != "none" and not meta["refresh"]:
            values, constants = self.point
            meta["constants"] = [c.tolist() for c in constants]
            for k, (layout, array) in enumerate(zip(self.layouts, values, strict=True)):
                arrays[f"coefficient{k}"] = layout.gather(array)
        else:
            meta["has_point"] = False
        return meta, arrays

    def restore(self, meta: dict, arrays: dict[str, np.ndarray | None]) -> None:
        """Set the solver's reuse mode and, if the checkpoint kept lagged factors, re-assemble and
        factorise the Jacobian at the recorded point. Collective."""
        solver = self.solver
        if meta["coefficients"] != [c.name for c in self.coefficients] or (
                meta["constants"] is not None and len(meta["constants"]) != len(self.constants)):
            raise CheckpointError("the solver's Jacobian form differs from the checkpoint's "
                                  "(another code version or another case?)")
        solver.reuse = meta["reuse"]
        if not meta["has_point"]:
            solver.refresh_factorization = True
            return
        now = ([c.x.array.copy() for c in self.coefficients],
               [np.array(c.value, copy=True) for c in self.constants])
        try:
            for k, (coefficient, layout) in enumerate(zip(self.coefficients, self.layouts, strict=True)):
                layout.scatter(arrays.get(f"coefficient{k}"), coefficient.x.array)
            for constant, value in zip(self.constants, meta["constants"], strict=True):
                np.copyto(constant.value, np.asarray(value))
            x = solver.problem.x
            dolfinx.fem.petsc.assign(solver.u, x)
            solver.refresh_factorization = True
            self._jacobian(solver.snes, x, solver.problem.A, solver.problem.P_mat)
        finally:
            for coefficient, values in zip(self.coefficients, now[0], strict=True):
                coefficient.x.array[:] = values
            for constant, value in zip(self.constants, now[1], strict=True):
                np.copyto(constant.value, value)
        solver.refresh_factorization = False


#: per model: solver name -> its tracker (None: not trackable), and name -> why not
_TRACKERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TRACKING_PROBLEMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def track_linearizations(model: PNPModel) -> dict[str, LinearizationTracker | None]:
    """Install (once) a LinearizationTracker on the voltage-mode solver (built now if need be)
    and on the clamp's solver if it exists: call before the first time step (again after a
    clamp is first used), so that every Jacobian the time steps reuse is recorded. A solver
    that cannot be tracked maps to None (``tracking_problems`` says why): its restart then
    starts from a fresh Jacobian (equal to the Newton tolerance, not to round-off)."""
    model.solver  # noqa: B018  (built on first use)
    trackers = _TRACKERS.setdefault(model, {})
    problems = _TRACKING_PROBLEMS.setdefault(model, {})
    for name, solver in model.built_solvers.items():
        tracker = trackers.get(name)
        if name in problems or (tracker is not None and tracker.solver is solver):
            continue
        try:
            trackers[name] = LinearizationTracker(solver)
        except CheckpointError as error:
            trackers[name], problems[name] = None, str(error)
    return trackers


def tracking_problems(model: PNPModel) -> dict[str, str]:
    """Solver name -> why its lagged Jacobian is not recorded (empty when all are)."""
    return dict(_TRACKING_PROBLEMS.get(model, {}))


# ----------------------------------------------------------------------------------------------
# the model
def capture_model(model: PNPModel) -> tuple[dict, dict[str, np.ndarray | None]]:
    """(metadata, arrays) of everything a transient needs to continue from the model's present
    accepted level; arrays ordered by input node, on rank 0 (None elsewhere). Collective; call
    between time steps (no pending step)."""
    if model.has_pending_step:
        raise CheckpointError("checkpoint with a pending (tried, not accepted) time step")
    layout = node_layout(model.space)
    arrays: dict[str, np.ndarray | None] = {}
    for name, function in zip(MODEL_FIELDS, (model.state, *model.history), strict=True):
        arrays[name] = layout.gather(function.x.array)
    snapshot = model.snapshot()
    for key in ("state", "history"):
        snapshot.pop(key)
    species = [(s.name, s.valence) for s in model.species]
    solvers_meta: dict[str, dict] = {}
    meta = {"snapshot": snapshot, "species": species, "components": layout.num_components,
            "solvers": solvers_meta}
    for name, tracker in track_linearizations(model).items():
        if tracker is None:
            continue  # restored with a fresh Jacobian
        solver_meta, solver_arrays = tracker.capture()
        solvers_meta[name] = solver_meta
        arrays.update({f"solver/{name}/{k}": v for k, v in solver_arrays.items()})
    return meta, arrays


def restore_model(model: PNPModel, meta: dict, arrays: dict[str, np.ndarray | None]) -> None:
    """Put the model (on any number of ranks) in the state ``capture_model`` recorded; arrays
    are needed on rank 0 only. Collective."""
    species = [(s.name, s.valence) for s in model.species]
    if [tuple(s) for s in meta["species"]] != species:
        raise CheckpointError(f"the checkpoint's species {meta['species']} differ from the "
                              f"model's {species}")
    layout = node_layout(model.space)
    for name, function in zip(MODEL_FIELDS, (model.state, *model.history), strict=True):
        layout.scatter(arrays.get(name), function.x.array)
        function.x.scatter_forward()
    snapshot = dict(meta["snapshot"])
    snapshot["state"] = model.state.x.array.copy()
    snapshot["history"] = [h.x.array.copy() for h in model.history]
    model.restore(snapshot)
    trackers = track_linearizations(model)  # the clamp (if any) was built by restore
    for name, solver_meta in meta["solvers"].items():
        if name not in trackers:
            raise CheckpointError(f"the checkpoint has a {name!r} solver this model lacks")
        tracker = trackers[name]
        if tracker is None:
            model.built_solvers[name].request_fresh_factorization()
            continue
        prefix = f"solver/{name}/"
        tracker.restore(solver_meta, {k[len(prefix):]: v for k, v in arrays.items()
                                             if k.startswith(prefix)})
