"""What the checkpoints of a run hold, and how a run is put back where one left it.

``RunCheckpointer`` (any run: the file, the case identity, the series rows so far, the manifest
record), ``SlitCheckpointer`` (a transient slit run: the PNP model, the time integrator, the
field files) and ``CircuitCheckpointer`` (a neuron run: the circuit integrator, its live slits,
the finished analyses). Every method is collective over the run's communicator; the file
format is described in ``ionslit.checkpoint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ionslit.checkpoint.archive import (
    CHECKPOINT_DIRECTORY,
    STATE_FILE,
    Checkpoint,
    checkpoint_path,
    save_checkpoint,
)
from ionslit.checkpoint.identity import case_identity
from ionslit.checkpoint.restart import RestartRefused, mesh_difference
from ionslit.coupling import CircuitIntegrator
from ionslit.coupling.provider import provider_snapshot
from ionslit.logs import get_logger
from ionslit.results import SeriesWriter
from ionslit.run_context import RunContext
from ionslit.solvers.checkpoint import (
    capture_model,
    mesh_fingerprint,
    restore_model,
    track_linearizations,
    tracking_problems,
)
from ionslit.solvers.model import PNPModel
from ionslit.solvers.time_stepping import IntegratorState
from ionslit.version import __version__

if TYPE_CHECKING:
    from ionslit.fields import SegmentedFieldWriter

log = get_logger("checkpoint")


class CheckpointedSlits(Protocol):
    """The live PNP slits of a circuit, as a checkpoint stores and restores them
    (``ionslit.live_slits.LiveSlits``). Collective over the run's communicator."""

    names: list[str]
    time: float  # s, the accepted time of every slit

    def provides(self, provider: object) -> bool:
        """Whether ``provider`` (a circuit branch's element) is one of these slits."""
        ...

    def fingerprints(self) -> dict[str, dict] | None:
        """Name -> mesh fingerprint, on rank 0 (None elsewhere)."""
        ...

    def capture(self) -> dict[str, tuple[dict, dict]] | None:
        """Name -> (meta, arrays) of every slit, on rank 0 (None elsewhere)."""
        ...

    def restore(self, slits: dict[str, tuple[dict, dict]], time: float) -> None:
        """Put every slit in the state ``capture`` recorded."""
        ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunCheckpointer:
    """What the checkpoints of every kind of run share (collective methods): the file, the case
    identity, the series rows written so far (so a restarted series.csv equals the uninterrupted
    one: rows the lost interval had already flushed are replaced), the manifest record.
    ``SlitCheckpointer`` and ``CircuitCheckpointer`` add their run's own state."""

    kind = "slit"  # meta["run"]: which study a checkpoint belongs to

    def __init__(self, context: RunContext, series: SeriesWriter | None = None):
        self.context = context
        self.comm = context.comm
        self.series = series
        self.count = 0
        self._identity: dict | None = None

    @property
    def path(self):
        return checkpoint_path(self.context.directory)

    @property
    def identity(self) -> dict:
        """``case_identity`` of the run (computed once)."""
        if self._identity is None:
            self._identity = case_identity(self.context.loaded, self.context.petsc)
        return self._identity

    def save(self, time_s: float, steps: int, reason: str, slits: Mapping | None, state: dict,
             meta: Mapping | None = None) -> str:
        """Write a checkpoint at simulated time ``time_s`` after ``steps`` accepted steps: the
        ``slits`` (name -> (meta, arrays), arrays on rank 0) and the run's ``state`` (rank 0's
        is written), plus the series rows so far and ``meta`` (e.g. mesh fingerprints). Returns
        '' or, if rank 0 could not write it, the problem (the same on every rank)."""
        problem = None
        if self.comm.rank == 0:
            series = self.series
            assert series is not None, "the run attaches its series before a checkpoint"
            series.flush()
            names = list(series.rows[0]) if series.rows else []
            rows = np.array([[row.get(n, np.nan) for n in names] for row in series.rows],
                            dtype=np.float64).reshape(len(series.rows), len(names))
            record = {"written": _now(), "reason": reason, "time_s": time_s, "step": steps,
                      "segment": self.context.segment, "ranks": self.comm.size, "run": self.kind,
                      "case": self.identity, **(meta or {}), "ionslit": __version__}
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
        manifest = self.context.manifest
        manifest.extra["checkpoint"] = {
            "path": f"{CHECKPOINT_DIRECTORY}/{STATE_FILE}", "time_s": time_s, "step": steps,
            "reason": reason, "written": _now(), "count_this_segment": self.count}
        segments = manifest.extra.get("segments")
        if segments:
            segments[-1]["end_time_s"] = time_s
        if self.comm.rank == 0:
            manifest.write()
        log.debug("checkpoint (%s) at t = %.6g s, step %d", reason, time_s, steps)
        return ""

    def restore_series(self, checkpoint: Checkpoint) -> None:
        """The series rows the checkpoint recorded (rank 0 keeps them)."""
        if self.comm.rank == 0:
            assert self.series is not None, "the run attaches its series before a restore"
            names = checkpoint.state["series_columns"]
            self.series.rows = [dict(zip(names, map(float, row), strict=True))
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
    ``model`` as the slit ``slit``, the time integrator's state, the field files written so far
    (``fields``, None until the run opens them or when it writes none)."""

    def __init__(self, context: RunContext, model: PNPModel):
        super().__init__(context)
        self.model = model
        self.fields: SegmentedFieldWriter | None = None
        self._warned: set[str] = set()
        self.mesh = self.comm.bcast(mesh_fingerprint(self.model.mesh), root=0)
        self.track()

    def track(self) -> None:
        """Record the Jacobians the model's solvers reuse (before the first step)."""
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

    def write(self, state: IntegratorState, reason: str) -> str:
        """Write a checkpoint at the integrator state ``state``; returns '' or, if rank 0 could
        not write it, the problem (the same on every rank)."""
        if self.fields is not None:
            self.fields.rotate()
        slit = capture_model(self.model)
        run_state = {"integrator": state.to_dict(),
                     "fields": None if self.fields is None else self.fields.state()}
        return self.save(state.time, state.steps, reason, {"slit": slit}, run_state,
                         {"mesh": self.mesh})

    def restore(self, checkpoint: Checkpoint) -> IntegratorState:
        """Put the model and the series where the checkpoint left them (call ``check_mesh``
        first; the field writer is built from ``checkpoint.state["fields"]``); returns the
        integrator state to resume from. Collective."""
        slit_meta, slit_arrays = checkpoint.slits["slit"]
        restore_model(self.model, slit_meta, slit_arrays)
        self.restore_series(checkpoint)
        return IntegratorState.from_dict(checkpoint.state["integrator"])


class CircuitCheckpointer(RunCheckpointer):
    """Writes and restores the checkpoints of a neuron (circuit) run (collective methods).

    The run state: ``phase`` ("integration", or "analyses" once the main simulation is done),
    the membrane's initial voltage (V), ``CircuitIntegrator.state()`` (membrane voltage, time,
    step size and BDF history, slopes, secants, counters, every provider's state, the spike
    detector with its armed flags and spikes so far) and the analysis ``results`` finished so
    far. The live slits of the circuit (``live``, or None) are stored as slits named after their
    branches, fields keyed by the mesh input indices like a slit run's (meta ``meshes``: their
    fingerprints), so a restart may use another number of ranks; their entries in the
    integrator's provider states (rank-local snapshots) are left out."""

    kind = "neuron"

    def __init__(self, context: RunContext, series: SeriesWriter, live: CheckpointedSlits | None = None):
        super().__init__(context, series)
        self.live = live
        self.names = list(live.names) if live is not None else []
        self.meshes = live.fingerprints() if live is not None else {}  # rank 0

    def check_meshes(self, checkpoint: Checkpoint) -> None:
        """RestartRefused (on every rank) unless the live slits and their meshes are the
        checkpoint's. Collective."""
        problem = None
        if self.comm.rank == 0:
            assert self.meshes is not None, "rank 0 holds the fingerprints"
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

    def write(self, integrator: CircuitIntegrator, reason: str, phase: str,
              initial_voltage: float, results: dict) -> str:
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

    def live_branches(self, integrator: CircuitIntegrator) -> set[int]:
        """Indices of the circuit's branches whose element is one of the live slits."""
        if self.live is None:
            return set()
        return {k for k, branch in enumerate(integrator.circuit.branches)
                if self.live.provides(branch.provider)}

    def restore(self, checkpoint: Checkpoint, integrator: CircuitIntegrator,
                state: dict | None = None) -> dict:
        """Put the integrator (with its providers and spike detector), the live slits and the
        series where the checkpoint left them (call ``check_meshes`` first); returns the run
        state (phase, initial voltage, results; ``state`` if given: ``shared_state``'s) on every
        rank. Collective."""
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
