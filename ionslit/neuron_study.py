"""A neuron case run end to end: circuit -> integration -> spikes -> f-I curve / pulse threshold.

Outputs (rank 0): series.csv (time_s, membrane_voltage_V, stimulus_current_A), spikes.csv
(time_s, peak_voltage_V), spike_metrics.json (count, inter-spike intervals, rate, resting
potential, pulse threshold), fi_curve.csv (stimulus_A, rate_Hz) when asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mpi4py import MPI

from coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    ConstantCurrent,
    HodgkinHuxleyChannel,
    IntegratorOptions,
    PiecewiseLinearCurrent,
    PulseTrain,
    ReducedMemristor,
    ReducedModel,
    SineCurrent,
    StepCurrent,
    fi_curve,
    pulse_threshold,
)
from ionslit.case import LoadedCase, load_case
from ionslit.case.schema import AnalysisSection, CircuitSection, StimulusSection
from ionslit.live_slits import LiveSlits
from ionslit.logs import get_logger
from ionslit.manifest import Manifest
from ionslit.output import atomic_write_csv, atomic_write_json, read_csv
from ionslit.progress import Progress
from ionslit.results import SeriesWriter

log = get_logger("run")

# Search interval (V) for the resting potential when [circuit] initial_voltage is not given.
RESTING_BRACKET = (-1.0, 1.0)


def stimulus(section: StimulusSection):
    """The coupling room's stimulus for ``[circuit.stimulus]`` (A, s)."""
    s = section
    if s.kind == "constant":
        return ConstantCurrent(s.current)
    if s.kind == "step":
        return StepCurrent(final=s.current, time=s.start, initial=s.baseline)
    if s.kind in ("pulse", "pulse_train"):
        count, period = (1, np.inf) if s.kind == "pulse" else (s.count, s.period)
        return PulseTrain(amplitude=s.current, width=s.width, start=s.start, period=period,
                          count=count, baseline=s.baseline)
    if s.kind == "sine":
        return SineCurrent(amplitude=s.current, frequency=s.frequency, offset=s.baseline,
                           delay=s.start)
    table = read_csv(s.file)
    return PiecewiseLinearCurrent(tuple(table["time_s"]), tuple(table["current_A"]))


def element(branch, section: CircuitSection, scheme: str, live_slits: dict):
    """The provider of one branch: a reduced memristor, an HH channel or a live slit."""
    if branch.reduced is not None:
        return ReducedMemristor(ReducedModel.load(branch.reduced), scheme=scheme)
    if branch.channel is not None:
        return HodgkinHuxleyChannel(branch.channel, area=section.area, scheme=scheme,
                                    reversal=branch.battery)
    return live_slits[branch.name]


def build_circuit(section: CircuitSection, scheme: str = "bdf2",
                  live_slits: dict | None = None) -> Circuit:
    """The circuit of ``[circuit]``, its providers at steady state for the initial voltage
    (``initial_voltage``, or the resting potential where the steady current vanishes)."""
    branches = [Branch(element(b, section, scheme, live_slits or {}), b.battery, b.count, b.name)
                for b in section.branches]
    leak = section.leak
    circuit = Circuit(capacitance=section.capacitance, branches=branches,
                      stimulus=stimulus(section.stimulus),
                      leak_conductance=leak.conductance if leak else 0.0,
                      leak_reversal=leak.reversal if leak else 0.0)
    start = section.initial_voltage
    if start is None:
        start = float(circuit.resting_potential(RESTING_BRACKET)[0])
    circuit.equilibrate(start)
    return circuit


def integrator_options(analysis: AnalysisSection, scheme: str = "bdf2") -> IntegratorOptions:
    return IntegratorOptions(scheme=scheme, rtol=analysis.rtol,
                             spike_threshold=analysis.spike_threshold,
                             spike_rearm=analysis.spike_rearm)


def spike_metrics(integrator: CircuitIntegrator, duration: float) -> dict:
    """Count, times, inter-spike intervals and rates of the spikes of one run."""
    times = integrator.spikes.times(0)
    intervals = np.diff(times)
    return {
        "count": int(times.size),
        "first_spike_time_s": float(times[0]) if times.size else None,
        "inter_spike_intervals_s": intervals.tolist(),
        "mean_inter_spike_interval_s": float(intervals.mean()) if intervals.size else None,
        "rate_Hz": float(integrator.spikes.rate(0)) if times.size > 1 else 0.0,
        "count_rate_Hz": float(times.size / duration),
    }


def live_slit_providers(section: CircuitSection, petsc_command_line: str,
                        comm: MPI.Comm) -> dict:
    """Branch name -> provider for the branches whose element is a live PNP slit."""
    live = [b for b in section.branches if b.slit is not None]
    if not live:
        return {}
    group = LiveSlits([(b.battery, load_case(b.slit)) for b in live], petsc_command_line, comm)
    return {b.name: group.provider(k) for k, b in enumerate(live)}


def run_neuron(loaded: LoadedCase, directory: Path, petsc_command_line: str, manifest: Manifest,
               comm: MPI.Comm) -> None:
    """Simulate the circuit for ``duration``, then run the analyses of ``[analysis]``."""
    case = loaded.case
    section, analysis = case.circuit, case.analysis
    live_slits = live_slit_providers(section, petsc_command_line, comm)
    circuit = build_circuit(section, live_slits=live_slits)
    options = integrator_options(analysis)
    manifest.extra["initial_voltage_V"] = float(np.asarray(circuit.initial_voltage).ravel()[0])

    series = SeriesWriter(directory / "series.csv", comm)
    progress = Progress(0.0, section.duration, comm)

    def on_step(run: CircuitIntegrator, accepted) -> None:
        t, u = float(run.time[0]), float(run.voltage[0])
        series.append({"time_s": t, "membrane_voltage_V": u,
                       "stimulus_current_A": float(circuit.stimulus.current(t))})
        progress.update(t, float(run.dt_next[0]), 0, int(run.spikes.counts()[0]))

    integrator = CircuitIntegrator(circuit, options)
    series.append({"time_s": 0.0, "membrane_voltage_V": manifest.extra["initial_voltage_V"],
                   "stimulus_current_A": float(circuit.stimulus.current(0.0))})
    integrator.run(section.duration, on_step=on_step)
    progress.close()
    series.flush()
    metrics = spike_metrics(integrator, section.duration)
    metrics["initial_voltage_V"] = manifest.extra["initial_voltage_V"]
    metrics["integrator"] = integrator.statistics
    log.info("%d spike(s) in %.4g s", metrics["count"], section.duration)

    if analysis.pulse_threshold is not None:
        p = analysis.pulse_threshold
        rest = build_circuit(section, live_slits=live_slits)
        result = pulse_threshold(rest, width=p.width, duration=p.duration,
                                 bracket=(p.lower, p.upper), start=p.start, options=options)
        metrics["pulse_threshold_A"] = float(result.threshold)
        metrics["pulse_threshold_bracket_A"] = [float(result.lower), float(result.upper)]
        log.info("pulse threshold (%.3g s pulse): %.6g A", p.width, result.threshold)
    if analysis.fi_curve is not None:
        f = analysis.fi_curve
        rest = build_circuit(section, live_slits=live_slits)
        curve = fi_curve(rest, f.stimuli, duration=f.duration, transient=f.transient,
                         options=options)
        if comm.rank == 0:
            atomic_write_csv(directory / "fi_curve.csv",
                             {"stimulus_A": curve.stimulus_A, "rate_Hz": curve.rate_Hz})
    if comm.rank == 0:
        atomic_write_csv(directory / "spikes.csv", {"time_s": integrator.spikes.times(0),
                                                     "peak_voltage_V": integrator.spikes.peaks(0)})
        atomic_write_json(directory / "spike_metrics.json", metrics)
