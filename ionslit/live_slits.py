"""Live PNP slits as circuit elements, advanced together under MPI.

How ranks are used: slit k of n belongs to the ranks r with r % n == k (when there are at least
as many ranks as slits) and its mesh is distributed over them; with fewer ranks than slits, rank
r advances the slits k with k % size == r one after the other on its own. So with two slits on
two ranks each slit is solved serially on its own rank and the two run at the same time. Every
rank runs the same circuit iteration: after each batch of tries, steady solves or accepts, the
slits' currents go to every rank with one allgather, so all ranks see identical scalars and take
identical decisions (the circuit integrator has no rank-dependent branches).

The circuit integrator calls its providers one branch after the other with the voltage U - E_k
of that branch; the first call of a batch solves every slit (each at its own U - E_k), later
calls return the results of that batch.

Checkpoints (ionslit.checkpoint.checkpointers.CircuitCheckpointer): ``capture`` gathers every slit's state
(ionslit.solvers.checkpoint: fields keyed by the mesh's input nodes, the lagged Jacobians its chord
iterations reuse) on rank 0, ``restore`` deals it back to the slits' owners on any number of
ranks; the solvers' Jacobians are recorded from the start (``track_linearizations``) so a
restart continues to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

from mpi4py import MPI

from ionslit.case import LoadedCase
from ionslit.checkpoint.restart import RestartRefused
from ionslit.slit_study import build_model
from ionslit.solvers.checkpoint import (
    CheckpointError,
    capture_model,
    mesh_fingerprint,
    restore_model,
    track_linearizations,
)
from ionslit.solvers.model import PNPModel
from ionslit.solvers.nonlinear import SolverDivergedError


@dataclass
class _Batch:
    """One solve of every slit at membrane voltage ``membrane`` (V)."""

    kind: str  # "try" or "steady"
    dt: float
    membrane: float
    currents: dict[int, float]


class LiveSlits:
    """The live slits of a neuron case (``slits``: (battery V, slit case) per branch)."""

    def __init__(self, slits: list[tuple[float, LoadedCase]], petsc_command_line: str,
                 comm: MPI.Comm = MPI.COMM_WORLD, names: list[str] | None = None):
        self.comm = comm
        self.batteries = [battery for battery, _ in slits]
        count = len(slits)
        self.names = list(names) if names is not None else [f"slit{k}" for k in range(count)]
        if comm.size >= count:
            self.owned = [comm.rank % count]
            self.local_comm = comm.Split(self.owned[0], comm.rank)
        else:
            self.owned = [k for k in range(count) if k % comm.size == comm.rank]
            self.local_comm = MPI.COMM_SELF
        self.models: dict[int, PNPModel] = {}
        for k in self.owned:
            self.models[k], _ = build_model(slits[k][1], petsc_command_line, self.local_comm)
            track_linearizations(self.models[k])  # before the first solve (checkpoints)
        self._batch: _Batch | None = None
        self._settled = -1  # generation of the last accept/reject
        self._generation = 0
        self.time = 0.0  # s, accepted time of every slit

    def provides(self, provider: object) -> bool:
        """Whether ``provider`` (a circuit branch's element) is one of these slits."""
        return isinstance(provider, LiveSlitProvider) and provider.group is self

    def provider(self, index: int) -> LiveSlitProvider:
        return LiveSlitProvider(self, index)

    # -- collective batches -----------------------------------------------------------------
    def _share(self, local: dict[int, float], failure: str | None) -> dict[int, float]:
        """Every slit's value on every rank (each slit's owners report the same value);
        a failure on any rank fails the batch everywhere."""
        gathered = self.comm.allgather((local, failure))
        problems = [f for _, f in gathered if f]
        if problems:
            raise SolverDivergedError(problems[0].split(":", 1)[0],
                                      message=f"live slit: {problems[0]}")
        values: dict[int, float] = {}
        for part, _ in gathered:
            values.update(part)
        return values

    def _solve(self, kind: str, dt: float, membrane: float) -> _Batch:
        local, failure = {}, None
        try:
            for k, model in self.models.items():
                voltage = membrane - self.batteries[k]
                if kind == "try":
                    local[k] = model.try_step(dt, voltage)
                else:
                    local[k] = model.solve_steady(voltage).current
        except SolverDivergedError as error:
            failure = f"{error.reason}: {error}"
        self._generation += 1
        self._batch = _Batch(kind, dt, membrane, self._share(local, failure))
        return self._batch

    def current(self, kind: str, index: int, dt: float, voltage: float) -> float:
        """Current (A) of slit ``index`` at voltage ``voltage`` (V) across it, from the batch at
        the same membrane voltage (solving a new batch when needed)."""
        membrane = voltage + self.batteries[index]
        b = self._batch
        if b is None or b.kind != kind or b.dt != dt or abs(b.membrane - membrane) > 1e-12 * \
                max(1.0, abs(membrane)) or self._settled == self._generation:
            b = self._solve(kind, dt, membrane)
        return b.currents[index]

    def settle(self, accept: bool) -> None:
        """Accept or reject the pending tries of every slit (once per batch of tries)."""
        if self._settled == self._generation or self._batch is None or self._batch.kind != "try":
            return
        self._settled = self._generation
        for model in self.models.values():
            model.accept() if accept else model.reject()
        if accept:
            self.time += self._batch.dt

    def restart_history(self) -> None:
        for model in self.models.values():
            model.restart_history()

    # -- checkpoints (collective) -----------------------------------------------------------
    def _on_rank0[T](self, local: dict[int, T]) -> dict[str, T] | None:
        """Name -> value of every slit on rank 0 (None elsewhere), from the values its owners'
        first rank holds."""
        mine = local if self.local_comm.rank == 0 else {}
        parts = self.comm.gather(mine, root=0)
        if parts is None:
            return None
        merged: dict[int, T] = {}
        for part in parts:
            merged.update(part)
        return {self.names[k]: merged[k] for k in sorted(merged)}

    def fingerprints(self) -> dict[str, dict] | None:
        """Name -> mesh fingerprint (ionslit.solvers.checkpoint.mesh_fingerprint) on rank 0."""
        local = {k: mesh_fingerprint(m.mesh) for k, m in self.models.items()}  # collective
        return self._on_rank0({k: f for k, f in local.items() if f is not None})

    def capture(self) -> dict[str, tuple[dict, dict]] | None:
        """Name -> (meta, arrays) of every slit (ionslit.solvers.checkpoint.capture_model) on rank 0,
        between steps."""
        return self._on_rank0({k: capture_model(m) for k, m in self.models.items()})

    def restore(self, slits: dict[str, tuple[dict, dict]], time: float) -> None:
        """Put every slit in the state ``capture`` recorded (``slits``: name -> (meta, arrays),
        the meta on every rank, the arrays on rank 0, e.g. a loaded checkpoint's), on any number
        of ranks. Raises RestartRefused on every rank if one does not fit."""
        roots = self.comm.allgather(list(self.models) if self.local_comm.rank == 0 else [])
        payload = None
        if self.comm.rank == 0:  # each slit's arrays to the first rank of its owners
            payload = [{k: slits[self.names[k]][1] for k in owned} for owned in roots]
        arrays = self.comm.scatter(payload, root=0)
        failure = None
        for k, model in self.models.items():
            try:
                restore_model(model, slits[self.names[k]][0], arrays.get(k, {}))
            except CheckpointError as error:
                failure = f"live slit '{self.names[k]}': {error}"
        failures = [f for f in self.comm.allgather(failure) if f]
        if failures:
            raise RestartRefused(failures[0])
        self.time = float(time)
        self._batch, self._settled, self._generation = None, -1, 0


class LiveSlitProvider:
    """One branch's view of ``LiveSlits`` (a provider of ionslit.coupling's circuit integrator)."""

    def __init__(self, group: LiveSlits, index: int):
        self.group, self.index = group, index
        self.options = next(iter(group.models.values())).options  # the time scheme

    @property
    def time(self) -> float:
        return self.group.time

    def try_step(self, dt: float, voltage: float) -> float:
        return self.group.current("try", self.index, float(dt), float(voltage))

    def accept(self) -> None:
        self.group.settle(accept=True)

    def reject(self) -> None:
        self.group.settle(accept=False)

    def restart_history(self) -> None:
        self.group.restart_history()

    def equilibrate(self, voltage: float) -> None:
        """Steady state at ``voltage`` (V) across this slit (all slits at that membrane
        voltage)."""
        self.group.current("steady", self.index, 0.0, float(voltage))

    def steady_current(self, voltage: float) -> float:
        return self.group.current("steady", self.index, 0.0, float(voltage))

    def snapshot(self):
        model = self.group.models.get(self.index)
        return None if model is None else model.snapshot()

    def restore(self, snapshot) -> None:
        model = self.group.models.get(self.index)
        if model is not None:
            model.restore(snapshot)
