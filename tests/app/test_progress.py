"""Progress of steady continuations: the model's continuation monitor feeds the run's Progress,
whose lines say the fraction s reached, the tries so far and the try's Newton iterations."""

from __future__ import annotations

import io
from types import SimpleNamespace

from mpi4py import MPI

from ionslit.progress import Progress, continuation_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_continuation_progress_sets_and_clears_the_monitor():
    model = SimpleNamespace(on_continuation_try=None)
    with continuation_progress(model, MPI.COMM_SELF) as progress:
        assert model.on_continuation_try == progress.continuation
    assert model.on_continuation_try is None


def test_continuation_tries_are_reported():
    stream = Terminal()
    progress = Progress(comm=MPI.COMM_SELF, stream=stream)
    progress.interval = 0.0  # every try is due
    progress.continuation(0.5, 4, 2)
    assert Progress.continuation_line(0.5, 4, 2) in stream.getvalue()
    assert "s = 0.5, step 4, Newton 2" in Progress.continuation_line(0.5, 4, 2)
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_only_due_tries_are_reported():
    stream = Terminal()
    progress = Progress(comm=MPI.COMM_SELF, stream=stream)
    progress.interval = 3600.0
    progress.continuation(0.5, 4, 2)
    progress.close()
    assert stream.getvalue() == ""  # nothing shown, no line to end
