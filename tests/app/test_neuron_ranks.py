"""A neuron case's analyses split over MPI ranks (ionslit.neuron_study + ionslit.coupling.analysis):
``ionslit run cases/neuron_reduced.toml`` (shortened) writes the fi_curve.csv and pulse
threshold of a one-rank computation, bit for bit, with each rank integrating its block of the
f-I stimuli. Run by ``mpirun -n 2 python -m pytest -m mpi`` (and serially, where it is the
one-rank run itself)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CASES

CASE = CASES / "neuron_reduced.toml"
# 2 ms of main simulation, the case's six f-I stimuli over 60 ms (rates from 5 ms on: >= 2
# spikes in the window from 0.5 nA up), its pulse threshold over 10 ms
SHORT = ["circuit.duration=2 ms", "analysis.fi_curve.duration=60 ms",
         "analysis.fi_curve.transient=5 ms", "analysis.pulse_threshold.duration=10 ms"]


@pytest.mark.mpi
def test_fi_curve_and_pulse_threshold_do_not_depend_on_the_rank_count(tmp_path, monkeypatch):
    from mpi4py import MPI

    import ionslit.coupling.analysis
    import ionslit.study
    from ionslit.case import load_case
    from ionslit.cli import main
    from ionslit.coupling import fi_curve, pulse_threshold
    from ionslit.neuron_study import build_circuit, integrator_options
    from ionslit.output import atomic_write_csv

    world = MPI.COMM_WORLD
    out = Path(world.bcast(str(tmp_path), root=0)) / "run"
    blocks = []
    vectorised_runs = ionslit.coupling.analysis._vectorised_runs

    def recording(circuit, amplitudes, *args):
        blocks.append(amplitudes.size)
        return vectorised_runs(circuit, amplitudes, *args)

    monkeypatch.setattr(ionslit.coupling.analysis, "_vectorised_runs", recording)
    monkeypatch.setattr(ionslit.study, "plot_results", lambda directory: [])
    arguments = ["-q", "run", str(CASE), "--output", str(out)]
    for item in SHORT:
        arguments += ["--set", item]
    assert main(arguments) == 0
    # the f-I curve's six stimuli went to the ranks in blocks (the last call: fi_curve runs
    # after the pulse threshold, whose rounds of 8 were split the same way)
    assert blocks[-1] == 6 // world.size + (world.rank < 6 % world.size)

    # the same analyses on this rank alone (no communicator)
    analysis = load_case(CASE, SHORT).case
    circuit = build_circuit(analysis.circuit)
    options = integrator_options(analysis.analysis)
    f, p = analysis.analysis.fi_curve, analysis.analysis.pulse_threshold
    curve = fi_curve(circuit, f.stimuli, duration=f.duration, transient=f.transient,
                     options=options)
    threshold = pulse_threshold(circuit, width=p.width, duration=p.duration,
                                bracket=(p.lower, p.upper), start=p.start, options=options)
    alone = tmp_path / "fi_curve_one_rank.csv"
    atomic_write_csv(alone, {"stimulus_A": curve.stimulus_A, "rate_Hz": curve.rate_Hz})
    assert (out / "fi_curve.csv").read_bytes() == alone.read_bytes()
    assert np.count_nonzero(curve.rate_Hz) >= 3  # the curve fires
    metrics = json.loads((out / "spike_metrics.json").read_text())
    assert metrics["pulse_threshold_A"] == float(threshold.threshold)
    assert metrics["pulse_threshold_bracket_A"] == [float(threshold.lower),
                                                    float(threshold.upper)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    world.barrier()  # rank 0's tmp_path holds the run until every rank has read it
