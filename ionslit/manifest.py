"""manifest.json: what was run, with what, on how many ranks, for how long, and how it ended."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ionslit.case import LoadedCase
from ionslit.output import RESULTS_FORMAT, atomic_write_bytes, atomic_write_json
from ionslit.versions import stack_versions

Status = Literal["running", "ok", "failed", "interrupted"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Manifest:
    """The run record, rewritten atomically at start, at milestones and at the end (rank 0)."""

    directory: Path
    loaded: LoadedCase
    ranks: int
    petsc_options: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    status: Status = "running"
    reason: str = ""
    started: str = field(default_factory=_now)
    _clock: float = field(default_factory=time.perf_counter)

    def to_dict(self) -> dict[str, Any]:
        finished = self.status != "running"
        segments = self.extra.get("segments")
        if segments:  # the present process's segment of the run (ionslit.study, --restart)
            segments[-1].update(status=self.status, finished=_now() if finished else None,
                                wall_time_s=time.perf_counter() - self._clock)
        return {
            "results_format": RESULTS_FORMAT,
            "status": self.status,
            "reason": self.reason,
            "case": {
                "name": self.loaded.case.name,
                "path": str(self.loaded.path),
                "sha256": self.loaded.sha256,
                "overrides": list(self.loaded.overrides),
                "text": self.loaded.text,
            },
            "parameters_si": self.loaded.case.model_dump(mode="json"),
            "versions": stack_versions(),
            "mpi_ranks": self.ranks,
            "petsc_options": self.petsc_options,
            "started": self.started,
            "finished": _now() if finished else None,
            "wall_time_s": time.perf_counter() - self._clock,
            **({"slurm_job_id": os.environ["SLURM_JOB_ID"]} if "SLURM_JOB_ID" in os.environ else {}),
            **self.extra,
        }

    def write(self) -> None:
        atomic_write_json(self.directory / "manifest.json", self.to_dict())

    def start(self) -> None:
        """Write the case file copy and a ``running`` manifest."""
        atomic_write_bytes(self.directory / "case.toml", self.loaded.text.encode("utf-8"))
        self.write()

    def finish(self, status: Status, reason: str = "") -> None:
        self.status, self.reason = status, reason
        self.write()
