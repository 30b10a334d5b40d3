"""Run ``ionslit`` on a neuron case with a deterministic interruption (for
test_checkpoint_neuron.py): python neuron_run_driver.py MODE ARGS...

Every mode leaves out the plots (matplotlib costs seconds per run; the tests compare files).
MODE ``plain``: nothing else. ``kill:N``: rank 0 flushes series.csv and sends itself SIGKILL
N accepted steps after the first checkpoint (so the file on disk holds rows the checkpoint does
not: a restart must drop them). ``slow``: every step after the first checkpoint sleeps 5 ms,
so that a signal from the test arrives mid-run whatever the machine's speed. ``term_in_analysis``:
SIGTERM to this process once the checkpoint before the first analysis is written (so it arrives
during that analysis).
"""

import os
import signal
import sys
import time

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split

import ionslit.checkpoint.checkpointers
import ionslit.results
import ionslit.study
from ionslit.cli import main

mode, arguments = sys.argv[1], sys.argv[2:]
ionslit.study.plot_results = lambda directory: []
written = {"checkpoints": 0, "steps_since": 0}
original_save = ionslit.checkpoint.checkpointers.save_checkpoint
original_append = ionslit.results.SeriesWriter.append


def counting_save(path, meta, *args, **kwargs):
    original_save(path, meta, *args, **kwargs)
    written["checkpoints"] += 1
    if mode == "term_in_analysis" and meta["reason"] == "phase":
        os.kill(os.getpid(), signal.SIGTERM)


def interrupting_append(self, row):
    original_append(self, row)
    if not written["checkpoints"]:
        return
    written["steps_since"] += 1
    if mode == "slow":
        time.sleep(0.005)
    elif mode.startswith("kill:") and written["steps_since"] >= int(mode.split(":")[1]):
        self.flush()
        os.kill(os.getpid(), signal.SIGKILL)


ionslit.checkpoint.checkpointers.save_checkpoint = counting_save
ionslit.results.SeriesWriter.append = interrupting_append
sys.exit(main(arguments))
