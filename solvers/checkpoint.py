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

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
from mpi4py import MPI

if TYPE_CHECKING:
    from solvers.model import PNPModel
    from solvers.nonlinear import NewtonSolver

#: Fields of a PNPModel in a checkpoint: the state and the two BDF history levels.
MODEL_FIELDS = ("state", "state_n", "state_nm1")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or does not fit the model it is restored into."""


# ----------------------------------------------------------------------------------------------
# nodal layouts
class NodeLayout:
    """Local dofs of a function space -> (input node index, component), and the collective
    gather (to rank 0) and scatter (from rank 0) of arrays ordered by input node.

    Supported: Lagrange P1 spaces (scalar, blocked, or mixed of scalar P1 elements) on a
    first-order mesh, and real spaces with one global dof (``kind`` 'real')."""

    def __init__(self, space: dolfinx.fem.FunctionSpace):
        self.comm = space.mesh.comm
        element = space.ufl_element()
        index_map, bs = space.dofmap.index_map, space.dofmap.index_map_bs
        self.owned_size = index_map.size_local * bs
        if getattr(element, "is_real", False):
            if index_map.size_global * bs != 1:
                raise CheckpointError("real spaces with more than one global dof are not supported")
            self.kind, self.num_components, self.num_nodes = "real", 1, 1
            return
        self.kind = "nodal"
        mesh = space.mesh
        geometry = mesh.geometry
        if geometry.cmap.degree != 1:
            raise CheckpointError("checkpoints need a first-order mesh geometry")
        cell_nodes = geometry.dofmaps[0]
        inputs = np.asarray(geometry.input_global_indices, dtype=np.int64)
        lists: list[tuple[np.ndarray, int]] = []  # (cell -> dofs of the component, component)
        if element.is_mixed:
            for k, sub in enumerate(element.sub_elements):
                _check_p1(sub, f"sub-element {k}")
                lists.append((np.asarray(space.sub(k).dofmap.list), k))
        else:
            _check_p1(element, "element")
            block = space.dofmap.bs
            for j in range(block):
                lists.append((np.asarray(space.dofmap.list) * block + j, j))
        dofs, nodes, comps = [], [], []
        for cell_dofs, component in lists:
            if cell_dofs.shape != cell_nodes.shape:
                raise CheckpointError("dof layout differs from the geometry's: not a P1 space")
            dofs.append(cell_dofs.ravel())
            nodes.append(inputs[cell_nodes.ravel()])
            comps.append(np.full(cell_dofs.size, component, dtype=np.int64))
        dofs_all = np.concatenate(dofs)
        unique, first = np.unique(dofs_all, return_index=True)
        self.dofs = unique.astype(np.int64)
        self.nodes = np.concatenate(nodes)[first]
        self.components = np.concatenate(comps)[first]
        self.num_components = len(lists)
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


def _check_p1(element, what: str) -> None:
    if element.family_name not in ("P", "Q", "Lagrange") or element.degree != 1 \
            or getattr(element, "block_size", 1) != 1 and what.startswith("sub"):
        raise CheckpointError(f"checkpoints support P1 Lagrange fields only ({what}: "
                              f"{element.family_name}{element.degree})")


_layouts: dict[int, tuple[Any, NodeLayout]] = {}


def node_layout(space: dolfinx.fem.FunctionSpace) -> NodeLayout:
    """The (cached) NodeLayout of ``space``. Collective on first use."""
    key = id(space._cpp_object)
    cached = _layouts.get(key)
    if cached is None or cached[0] is not space._cpp_object:
        cached = (space._cpp_object, NodeLayout(space))
        _layouts[key] = cached
    return cached[1]


def mesh_fingerprint(mesh: dolfinx.mesh.Mesh) -> dict | None:
    """Global node and cell counts and a SHA-256 of the node coordinates in input order (on
    rank 0; None elsewhere): equal for the same mesh on any number of ranks. Collective."""
    import hashlib

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

    Installed by wrapping the SNES Jacobian callback; it only copies arrays."""

    def __init__(self, solver: NewtonSolver, spaces: Sequence[dolfinx.fem.FunctionSpace]):
        if not hasattr(solver, "_refresh_factorization") or not hasattr(solver, "_jacobian"):
            raise CheckpointError("NewtonSolver without the expected reuse state")
        self.solver = solver
        forms = _flatten_forms(solver.problem.J) + _flatten_forms(
            getattr(solver.problem, "preconditioner", None))
        cpp_forms = [f._cpp_object for f in forms]
        self.coefficients = _unique(c for f in cpp_forms for c in f.coefficients)
        self.constants = _unique(c for f in cpp_forms for c in f.constants)
        self.layouts = []
        for coefficient in self.coefficients:
            matches = [s for s in spaces if coefficient.function_space is s._cpp_object]
            if not matches:
                raise CheckpointError(f"Jacobian coefficient {coefficient.name!r} lives on a "
                                      "function space the checkpoint does not know")
            self.layouts.append(node_layout(matches[0]))
        self.point: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._original = solver._jacobian
        solver.snes.setJacobian(self._jacobian, solver.problem.A, solver.problem.P_mat)

    def _jacobian(self, snes, x, A, P) -> None:
        solver = self.solver
        refactor = solver.reuse == "none" or solver._refresh_factorization
        self._original(snes, x, A, P)
        if refactor:
            self.point = ([c.x.array.copy() for c in self.coefficients],
                          [np.array(c.value, copy=True) for c in self.constants])

    # -- checkpoint ---------------------------------------------------------------------------
    def capture(self) -> tuple[dict, dict[str, np.ndarray | None]]:
        """(metadata, gathered arrays) of the solver's reuse state. Collective."""
        solver = self.solver
        meta = {"reuse": solver.reuse, "refresh": bool(solver._refresh_factorization),
                "coefficients": [c.name for c in self.coefficients],
                "has_point": self.point is not None, "constants": None}
        arrays: dict[str, np.ndarray | None] = {}
        # The lagged factors matter only if the next solve would keep them.
        if self.point is not None and solver.reuse != "none" and not meta["refresh"]:
            values, constants = self.point
            meta["constants"] = [c.tolist() for c in constants]
            for k, (layout, array) in enumerate(zip(self.layouts, values)):
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
            solver._refresh_factorization = True
            return
        now = ([c.x.array.copy() for c in self.coefficients],
               [np.array(c.value, copy=True) for c in self.constants])
        try:
            for k, (coefficient, layout) in enumerate(zip(self.coefficients, self.layouts)):
                layout.scatter(arrays.get(f"coefficient{k}"), coefficient.x.array)
            for constant, value in zip(self.constants, meta["constants"]):
                np.copyto(constant.value, np.asarray(value))
            x = solver.problem.x
            dolfinx.fem.petsc.assign(solver.u, x)
            solver._refresh_factorization = True
            self._jacobian(solver.snes, x, solver.problem.A, solver.problem.P_mat)
        finally:
            for coefficient, values in zip(self.coefficients, now[0]):
                coefficient.x.array[:] = values
            for constant, value in zip(self.constants, now[1]):
                np.copyto(constant.value, value)
        solver._refresh_factorization = False


def model_solvers(model: PNPModel) -> dict[str, NewtonSolver]:
    """The Newton solvers the model has built: 'pnp' (voltage mode) and 'clamp'."""
    solvers = {}
    if model._solver is not None:
        solvers["pnp"] = model._solver
    if model._clamp is not None:
        solvers["clamp"] = model._clamp.solver
    return solvers


def _model_spaces(model: PNPModel) -> list:
    spaces = [model.space, model.scalar_space]
    if model._clamp is not None:
        spaces.append(model._clamp.real_space)
    return spaces


def track_linearizations(model: PNPModel) -> dict[str, LinearizationTracker]:
    """Install (once) a LinearizationTracker on the voltage-mode solver (built now if need be)
    and on the clamp's solver if it exists: call before the first time step (again after a
    clamp is first used), so that every Jacobian the time steps reuse is recorded."""
    model.solver  # noqa: B018  (built on first use)
    trackers = model.__dict__.setdefault("_checkpoint_trackers", {})
    for name, solver in model_solvers(model).items():
        if name not in trackers or trackers[name].solver is not solver:
            trackers[name] = LinearizationTracker(solver, _model_spaces(model))
    return trackers


# ----------------------------------------------------------------------------------------------
# the model
def capture_model(model: PNPModel) -> tuple[dict, dict[str, np.ndarray | None]]:
    """(metadata, arrays) of everything a transient needs to continue from the model's present
    accepted level; arrays ordered by input node, on rank 0 (None elsewhere). Collective; call
    between time steps (no pending step)."""
    if model._pending is not None:
        raise CheckpointError("checkpoint with a pending (tried, not accepted) time step")
    layout = node_layout(model.space)
    arrays: dict[str, np.ndarray | None] = {}
    for name, function in zip(MODEL_FIELDS, (model.state, *model.history)):
        arrays[name] = layout.gather(function.x.array)
    snapshot = model.snapshot()
    for key in ("state", "history"):
        snapshot.pop(key)
    species = [(s.name, s.valence) for s in model.species]
    meta = {"snapshot": snapshot, "species": species, "components": layout.num_components,
            "solvers": {}}
    for name, tracker in track_linearizations(model).items():
        solver_meta, solver_arrays = tracker.capture()
        meta["solvers"][name] = solver_meta
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
    for name, function in zip(MODEL_FIELDS, (model.state, *model.history)):
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
        prefix = f"solver/{name}/"
        trackers[name].restore(solver_meta, {k[len(prefix):]: v for k, v in arrays.items()
                                             if k.startswith(prefix)})
