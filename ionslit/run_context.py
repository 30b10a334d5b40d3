"""The context of one ``ionslit run``: what every part of the run shares.

One ``RunContext`` is built by ionslit.study.run_study and handed to the study of the case
(ionslit.slit_study, ionslit.memristor_study, ionslit.neuron_study) and to its checkpointers
(ionslit.checkpoint.checkpointers), instead of the same arguments threaded through each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

from ionslit.case import LoadedCase
from ionslit.case.schema import Case
from ionslit.checkpoint.archive import Checkpoint
from ionslit.manifest import Manifest
from ionslit.run_control import RunControl, restart_command


@dataclass(frozen=True)
class RunContext:
    """One run: the validated case, its results directory and manifest, the communicator all
    its collective operations use, the extra PETSc options (a command-line string), the run
    control (checkpoint schedule, SIGTERM flag) and the checkpoint it continues from (None for
    a run from the start)."""

    loaded: LoadedCase
    directory: Path
    manifest: Manifest
    comm: MPI.Comm
    control: RunControl
    petsc: str = ""
    restart: Checkpoint | None = None

    @property
    def case(self) -> Case:
        """The validated case (SI values)."""
        return self.loaded.case

    @property
    def segment(self) -> int:
        """Index of the present run segment in the manifest's segment list (0 for a run from
        the start; one more for each restart)."""
        segments = self.manifest.extra.get("segments") or [{"index": 0}]
        return int(segments[-1]["index"])

    def restart_command(self) -> str:
        """The command line that continues this run from its checkpoint."""
        return restart_command(self.loaded, self.directory, self.petsc)
