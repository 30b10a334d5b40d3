"""A neuron case run end to end: circuit -> integration -> spikes -> f-I curve / pulse threshold.

Outputs (rank 0): series.csv (time_s, membrane_voltage_V, stimulus_current_A), spikes.csv
(time_s, peak_voltage_V), spike_metrics.json (count, inter-spike intervals, rate, resting
potential, pulse threshold), fi_curve.csv (stimulus_A, rate_Hz) when asked for.

Checkpoints (ionslit.checkpoint.checkpointers.CircuitCheckpointer, case ``[output]`` schedule as for slit
runs): after accepted steps of the main simulation, and before each analysis (whose own runs
are not interrupted: a SIGTERM that arrives during one is honoured when it ends). A restart
(``--restart DIR``) continues the main simulation from the integrator's state to round-off
(series.csv and spikes.csv equal the uninterrupted run's), or skips what is finished.

MPI ranks. Every rank builds the circuit and runs the main simulation (one neuron: the same
steps on every rank; a live slit's solves are shared by the ranks). The analyses of a circuit
of reduced memristors or HH channels (vectorised) split their runs over the ranks
(``ionslit.coupling.analysis``, ``comm``): the f-I curve's stimuli in contiguous blocks, one per rank,
each rank integrating its block as the lanes of one integrator, the rates gathered to every
rank; the pulse threshold's multisection likewise splits the amplitudes of each round (8 per
round on any number of ranks). The lanes are independent, so fi_curve.csv and the threshold are
the same bit for bit on any number of ranks; rank 0 writes them. With a live slit the analyses'
runs go one after the other on all ranks together.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ionslit.case import load_case
from ionslit.case.circuit_sections import AnalysisSection, CircuitSection, StimulusSection
from ionslit.checkpoint.checkpointers import CircuitCheckpointer
from ionslit.coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    Constant,
    HodgkinHuxleyChannel,
    IntegratorOptions,
    PiecewiseLinear,
    PulseTrain,
    ReducedMemristor,
    ReducedModel,
    Sine,
    Step,
    fi_curve,
    pulse_threshold,
)
from ionslit.coupling.bdf import Scheme
from ionslit.live_slits import LiveSlits
from ionslit.logs import get_logger
from ionslit.output import atomic_write_csv, atomic_write_json, read_csv
from ionslit.progress import Progress
from ionslit.results import SeriesWriter
from ionslit.run_context import RunContext
from ionslit.run_control import RunInterrupted, interrupted_reason

log = get_logger("run")

# The step after a stimulus jump, as a fraction of the run's duration (CircuitIntegrator's
# default first step, 1e-4 of the span; see ``integrator_options``).
RESTART_STEP_FRACTION = 1e-4


def stimulus(section: StimulusSection):
    """The stimulus (ionslit.coupling) for ``[circuit.stimulus]`` (A, s)."""
    s = section
    if s.kind == "constant":
        return Constant(s.current)
    if s.kind == "step":
        return Step(final=s.current, time=s.start, initial=s.baseline)
    if s.kind in ("pulse", "pulse_train"):
        assert s.width is not None, "validated: pulses have a width"
        count, period = 1, np.inf
        if s.kind == "pulse_train":
            assert s.period is not None, "validated: a pulse train has a period"
            count, period = s.count, s.period
        return PulseTrain(amplitude=s.current, width=s.width, start=s.start, period=period,
                          count=count, baseline=s.baseline)
    if s.kind == "sine":
        assert s.frequency is not None, "validated: a sine has a frequency"
        return Sine(amplitude=s.current, frequency=s.frequency, offset=s.baseline,
                    delay=s.start, quarter_periods=False)
    assert s.file is not None, "validated: a piecewise_linear stimulus has a file"
    table = read_csv(s.file)
    return PiecewiseLinear(np.asarray(table["time_s"], dtype=float),
                           np.asarray(table["current_A"], dtype=float))


def element(branch, section: CircuitSection, scheme: str, live_slits: dict):
    """The provider of one branch: a reduced memristor, an HH channel or a live slit."""
    if branch.reduced is not None:
        return ReducedMemristor(ReducedModel.load(branch.reduced), scheme=scheme)
    if branch.channel is not None:
        return HodgkinHuxleyChannel(branch.channel, area=section.area, scheme=scheme,
                                    reversal=branch.battery)
    return live_slits[branch.name]


def build_circuit(section: CircuitSection, scheme: str = "bdf2",
                  live_slits: dict | None = None,
                  initial_voltage: float | None = None) -> Circuit:
    """The circuit of ``[circuit]``, its providers at steady state for the initial voltage
    (``initial_voltage``, else ``[circuit] initial_voltage``, else the resting potential where
    the steady current vanishes)."""
    branches = [Branch(element(b, section, scheme, live_slits or {}), b.battery, b.count, b.name)
                for b in section.branches]
    leak = section.leak
    circuit = Circuit(capacitance=section.capacitance, branches=branches,
                      stimulus=stimulus(section.stimulus),
                      leak_conductance=leak.conductance if leak else 0.0,
                      leak_reversal=leak.reversal if leak else 0.0)
    start = initial_voltage if initial_voltage is not None else section.initial_voltage
    if start is None:
        start = float(circuit.resting_potential()[0])
    circuit.equilibrate(start)
    return circuit


def integrator_options(analysis: AnalysisSection, scheme: Scheme = "bdf2",
                       duration: float | None = None) -> IntegratorOptions:
    """The integrator settings of ``[analysis]``. With the ``duration`` of a run, the step after
    a stimulus jump is fixed to the one a run over the whole duration takes by default
    (CircuitIntegrator: 1e-4 of the run's span), so that a run continued from a checkpoint,
    whose own span is shorter, takes the same steps."""
    options = IntegratorOptions(scheme=scheme, rtol=analysis.rtol, atol=analysis.atol,
                                spike_threshold=analysis.spike_threshold,
                                spike_rearm=analysis.spike_rearm)
    if duration is not None:
        options.restart_step = min(RESTART_STEP_FRACTION * duration, options.max_step)
    return options


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


def live_slit_group(section: CircuitSection, petsc_command_line: str,
                    comm: MPI.Comm) -> LiveSlits | None:
    """The live PNP slits of the circuit's branches (None if there are none)."""
    live = [(b, b.slit) for b in section.branches if b.slit is not None]
    if not live:
        return None
    return LiveSlits([(b.battery, load_case(slit)) for b, slit in live], petsc_command_line, comm,
                     names=[b.name for b, _ in live])


def live_slit_providers(group: LiveSlits | None) -> dict:
    """Branch name -> provider for the branches whose element is a live PNP slit (the group's
    slits are named after their branches)."""
    if group is None:
        return {}
    return {name: group.provider(k) for k, name in enumerate(group.names)}


class _CircuitRun:
    """The state of one neuron run between its phases: the main simulation ("integration"),
    then the analyses ("analyses"); checkpoints and the SIGTERM stop (ionslit.run_control)."""

    def __init__(self, context: RunContext, checkpointer: CircuitCheckpointer | None):
        self.control, self.checkpointer = context.control, checkpointer
        self.command = context.restart_command()
        self.integrator: CircuitIntegrator | None = None
        self.initial_voltage = 0.0
        self.results: dict = {}  # finished analyses

    def checkpoint(self, reason: str, phase: str) -> str:
        """Write a checkpoint now; '' or the problem."""
        assert self.checkpointer is not None and self.integrator is not None
        problem = self.checkpointer.write(self.integrator, reason, phase, self.initial_voltage,
                                          self.results)
        self.control.wrote()
        return problem

    def stop(self, written: bool, problem: str = "") -> RunInterrupted:
        run = self.integrator
        assert run is not None, "a stop comes after the integrator is built"
        return RunInterrupted(interrupted_reason(float(run.time[0]), int(run.stats["accepted"][0]),
                                                 written, self.command, problem))

    def poll_step(self, final: bool) -> None:
        """After an accepted step: a checkpoint as the schedule says; at SIGTERM also stop
        (RunInterrupted). Collective."""
        assert self.integrator is not None, "steps come after the integrator is built"
        write, stopping = self.control.poll(int(self.integrator.stats["accepted"][0]), final)
        problem = ""
        if write and self.checkpointer is not None:
            problem = self.checkpoint("SIGTERM" if stopping else "periodic", "integration")
        if stopping:
            raise self.stop(write and not problem, problem)

    def phase_boundary(self) -> None:
        """Before an analysis (which may be long: it polls nothing): a checkpoint of the
        finished parts when checkpoints are on; stop if SIGTERM came meanwhile. Collective."""
        stopping = self.control.any_signalled()
        written, problem = False, ""
        if self.checkpointer is not None and self.control.settings.enabled:
            problem = self.checkpoint("SIGTERM" if stopping else "phase", "analyses")
            written = not problem
        if stopping:
            raise self.stop(written, problem)


def run_neuron(context: RunContext) -> None:
    """Simulate the circuit for ``duration``, then run the analyses of ``[analysis]``.

    Writes checkpoints and stops at SIGTERM as ``context.control`` says (RunInterrupted);
    ``context.restart`` continues a run from its checkpoint in the same directory (the manifest
    is then first written here, once the live slits' meshes are known to be the checkpoint's)."""
    case, directory, manifest = context.case, context.directory, context.manifest
    comm, control, restart = context.comm, context.control, context.restart
    section, analysis = case.circuit, case.analysis
    assert section is not None, "a neuron case has a [circuit] section"
    group = live_slit_group(section, context.petsc, comm)
    live_slits = live_slit_providers(group)
    control.install()  # again: gmsh (live slits' meshes) resets the SIGTERM handler
    series = SeriesWriter(directory / "series.csv", comm)
    checkpointer = None
    if restart is not None or control.settings.enabled:
        checkpointer = CircuitCheckpointer(context, series, live=group)
        if restart is not None:
            checkpointer.check_meshes(restart)  # RestartRefused before anything is written
    state = None if checkpointer is None or restart is None else \
        checkpointer.shared_state(restart)
    circuit = build_circuit(section, live_slits=live_slits,
                            initial_voltage=None if state is None else state["initial_voltage_V"])
    options = integrator_options(analysis, duration=section.duration)
    run = _CircuitRun(context, checkpointer)
    run.initial_voltage = float(np.asarray(circuit.initial_voltage).ravel()[0])
    manifest.extra["initial_voltage_V"] = run.initial_voltage
    if comm.rank == 0:
        if restart is not None:
            manifest.start()  # the restart's first record (case.toml, segment list)
        else:
            manifest.write()

    integrator = run.integrator = CircuitIntegrator(circuit, options)
    phase = "integration"
    if restart is None:
        series.append({"time_s": 0.0, "membrane_voltage_V": run.initial_voltage,
                       "stimulus_current_A": float(circuit.stimulus.value(0.0))})
        if control.any_signalled():
            raise RunInterrupted(interrupted_reason(None, None, False))
    else:
        assert checkpointer is not None, "a restart has a checkpointer"
        state = checkpointer.restore(restart, integrator, state)
        phase, run.results = state["phase"], dict(state["results"])
        log.info("continuing from the checkpoint at t = %.6g s (%s, step %d, written on %d "
                 "rank(s))", restart.meta["time_s"], phase, restart.meta["step"],
                 restart.meta["ranks"])
        if control.any_signalled():  # the checkpoint is still valid
            raise run.stop(True)
    control.install()

    if phase == "integration":
        integrate(run, circuit, series, section.duration, comm)
    segments = manifest.extra.get("segments")
    if segments:
        segments[-1]["end_time_s"] = section.duration
    metrics = spike_metrics(integrator, section.duration)
    metrics["initial_voltage_V"] = run.initial_voltage
    metrics["integrator"] = integrator.statistics
    log.info("%d spike(s) in %.4g s", metrics["count"], section.duration)

    if analysis.pulse_threshold is not None:
        if "pulse_threshold" not in run.results:
            run.phase_boundary()
            p = analysis.pulse_threshold
            rest = build_circuit(section, live_slits=live_slits)
            result = pulse_threshold(rest, width=p.width, duration=p.duration,
                                     bracket=(p.lower, p.upper), start=p.start,
                                     options=integrator_options(analysis), comm=comm)
            run.results["pulse_threshold"] = {
                "threshold_A": float(result.threshold),
                "bracket_A": [float(result.lower), float(result.upper)]}
            log.info("pulse threshold (%.3g s pulse): %.6g A", p.width, result.threshold)
        found = run.results["pulse_threshold"]
        metrics["pulse_threshold_A"] = found["threshold_A"]
        metrics["pulse_threshold_bracket_A"] = list(found["bracket_A"])
    if analysis.fi_curve is not None:
        if "fi_curve" not in run.results:
            run.phase_boundary()
            f = analysis.fi_curve
            rest = build_circuit(section, live_slits=live_slits)
            curve = fi_curve(rest, f.stimuli, duration=f.duration, transient=f.transient,
                             options=integrator_options(analysis), comm=comm)
            run.results["fi_curve"] = {"stimulus_A": [float(a) for a in curve.stimulus_A],
                                       "rate_Hz": [float(r) for r in curve.rate_Hz]}
        if comm.rank == 0:
            atomic_write_csv(directory / "fi_curve.csv",
                             {k: np.asarray(v, dtype=float)
                              for k, v in run.results["fi_curve"].items()})
    if comm.rank == 0:
        atomic_write_csv(directory / "spikes.csv", {"time_s": integrator.spikes.times(0),
                                                     "peak_voltage_V": integrator.spikes.peaks(0)})
        atomic_write_json(directory / "spike_metrics.json", metrics)


def integrate(run: _CircuitRun, circuit: Circuit, series: SeriesWriter, duration: float,
              comm: MPI.Comm) -> None:
    """The main simulation from the integrator's present state to ``duration`` (s): a series
    row per accepted step, checkpoints as scheduled, the SIGTERM stop (RunInterrupted)."""
    integrator = run.integrator
    assert integrator is not None, "run_neuron builds the integrator first"
    progress = Progress(float(integrator.time[0]), duration, comm)
    end = duration - 1e-12 * duration  # the integrator's own end test

    def on_step(state: CircuitIntegrator, accepted) -> None:
        t, u = float(state.time[0]), float(state.voltage[0])
        series.append({"time_s": t, "membrane_voltage_V": u,
                       "stimulus_current_A": float(circuit.stimulus.value(t))})
        progress.update(t, float(state.dt_next[0]), 0, int(state.spikes.counts()[0]))
        run.poll_step(final=t >= end)

    try:
        integrator.run(duration, on_step=on_step)
    except RunInterrupted:
        series.flush()
        raise
    finally:
        progress.close()
    series.flush()
