"""Neuron analyses on a circuit: f-I curve, single-pulse threshold, repetitive-firing threshold.

Every run starts from the circuit's present state (``initial_voltage`` and the providers' states,
e.g. after ``Circuit.equilibrate``) at t = 0 and is independent of the others. With vectorised
providers (``Circuit.vectorised``) the runs of one round go into the lanes of one integrator
(``simulate_lanes``), and the threshold searches become multisections: each round tries
``lanes`` amplitudes spread over the bracket and shrinks it by a factor lanes + 1 (with one lane,
plain bisection). With scalar providers (a live PNP slit) the runs go one after the other, the
providers being restored to their snapshots in between.

MPI ranks (``comm``). Every analysis takes an optional communicator: an mpi4py communicator, or
any object with ``rank``, ``size`` and ``allgather(obj) -> list`` (``Communicator``; this package
never imports mpi4py; without one, or with one rank, everything runs here). With a vectorised circuit the
amplitudes of a call (the stimuli of an f-I curve, the points of one multisection round) are
split into contiguous blocks, one per rank in rank order (``lane_block``: the first
``count % size`` ranks take one more), each rank integrates its block, and the results are
gathered to every rank (``allgather``), so every rank returns the full, identical result and
takes the same decisions (the multisections' brackets). A lane's trajectory depends only on its
own values (``integrator``), so the results equal the one-rank results bit for bit, on any
number of ranks; the multisections try the same ``lanes`` points per round on any number of
ranks, so their rounds and results are rank-count independent too. If a run fails on some rank,
every rank raises the lowest failing rank's exception (after the gather, so no rank is left
waiting). A circuit with a scalar provider (a live PNP slit: a collective solve distributed over
the same ranks) is not split: every rank runs every amplitude, in lockstep. What the split saves:
an integrator's loop runs until its slowest lane is done, at a cost per iteration of a fixed part
plus a part per lane, so it divides the time of many lanes nearly by the number of ranks but
hardly that of a few (the stimuli of an f-I curve, the points of a round), where the slowest
lane's steps set the time on every rank.

Spike criteria (``IntegratorOptions.spike_threshold`` / ``spike_rearm``):
- pulse threshold: the pulse evokes a spike if at least one spike occurs after its onset within
  ``duration``;
- repetitive firing: at least ``min_spikes`` spikes in the last ``window`` of the run (default
  the second half), so a stimulus that evokes a few spikes and then falls silent (damped
  oscillation) does not count;
- f-I: the mean-ISI rate (n - 1) / (t_last - t_first) of the spikes after ``transient``
  (0 with fewer than two such spikes).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ionslit.coupling.circuit import Circuit
from ionslit.coupling.integration_options import IntegratorOptions
from ionslit.coupling.integrator import CircuitIntegrator
from ionslit.coupling.provider import provider_snapshot
from ionslit.coupling.waveforms import Constant, pulse


class Communicator(Protocol):
    """What the analyses need of an MPI communicator (mpi4py's has it): this process's ``rank``,
    the number of ranks ``size`` and ``allgather(obj)``, every rank's ``obj`` in rank order."""

    @property
    def rank(self) -> int: ...

    @property
    def size(self) -> int: ...

    def allgather(self, obj: Any) -> list[Any]: ...


@dataclass
class LaneResult:
    """Spikes of one run: times (s) and peak voltages (V); the final voltage (V)."""

    amplitude: float
    spike_times: np.ndarray
    spike_peaks: np.ndarray
    final_voltage: float


def lane_block(count: int, size: int, rank: int) -> slice:
    """The contiguous block of ``count`` lanes that rank ``rank`` of ``size`` integrates: the
    blocks in rank order cover 0..count, the first ``count % size`` ranks take one lane more."""
    if not 0 <= rank < size:
        raise ValueError(f"rank {rank} outside 0..{size - 1}")
    base, extra = divmod(int(count), int(size))
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def _splits(circuit: Circuit, comm: Communicator) -> bool:
    """Whether the runs are split over the ranks of ``comm`` (see the module docstring)."""
    return comm.size > 1 and circuit.vectorised


def simulate_lanes(circuit: Circuit, amplitudes: Sequence[float], make_stimulus: Callable,
                   duration: float, options: IntegratorOptions | None = None,
                   max_lanes: int = 256, comm: Communicator | None = None) -> list[LaneResult]:
    """Run ``circuit`` from its present state to ``duration`` (s) once per amplitude, with the
    stimulus ``make_stimulus(amplitudes_array)`` (a stimulus whose amplitude may be an array of
    per-lane values). One integrator with up to ``max_lanes`` lanes when the circuit is
    vectorised, else one run after the other. With ``comm`` (several ranks, a vectorised
    circuit) each rank runs its contiguous block of the amplitudes (``lane_block``) and every
    rank returns all the results, in the order of ``amplitudes`` (module docstring)."""
    values = np.asarray(amplitudes, dtype=float).ravel()
    if comm is not None and _splits(circuit, comm):
        block = values[lane_block(values.size, comm.size, comm.rank)]
        return _gathered(comm, lambda: _vectorised_runs(circuit, block, make_stimulus,
                                                        duration, options, max_lanes))
    if circuit.vectorised:
        return _vectorised_runs(circuit, values, make_stimulus, duration, options, max_lanes)
    results: list[LaneResult] = []
    snapshots = [provider_snapshot(b.provider) for b in circuit.branches]
    try:
        for a in values:
            for b, snap in zip(circuit.branches, snapshots, strict=True):
                b.provider.restore(snap)
            run = circuit.with_stimulus(make_stimulus(float(a)))
            integrator = CircuitIntegrator(run, options).run(duration)
            results.append(LaneResult(float(a), integrator.spikes.times(0),
                                      integrator.spikes.peaks(0),
                                      float(integrator.voltage[0])))
    finally:
        for b, snap in zip(circuit.branches, snapshots, strict=True):
            b.provider.restore(snap)
    return results


def _vectorised_runs(circuit: Circuit, amplitudes: np.ndarray, make_stimulus: Callable,
                     duration: float, options: IntegratorOptions | None,
                     max_lanes: int) -> list[LaneResult]:
    results: list[LaneResult] = []
    for first in range(0, amplitudes.size, max_lanes):
        chunk = amplitudes[first:first + max_lanes]
        lanes = circuit.with_lanes(chunk.size, stimulus=make_stimulus(chunk))
        integrator = CircuitIntegrator(lanes, options).run(duration)
        for i, a in enumerate(chunk):
            results.append(LaneResult(float(a), integrator.spikes.times(i),
                                      integrator.spikes.peaks(i),
                                      float(integrator.voltage[i])))
    return results


def _gathered(comm: Communicator, work: Callable[[], list]) -> list:
    """``work()`` on every rank, the ranks' lists concatenated in rank order on every rank. A
    failure on any rank is raised on every rank (the lowest failing rank's exception), after
    the gather."""
    local: list | None = None
    failure: Exception | None = None
    try:
        local = work()
    except Exception as error:  # noqa: BLE001 (re-raised below, on every rank)
        failure = error
    payload: bytes | None = None
    if failure is not None:
        try:
            payload = pickle.dumps(failure)
        except Exception:  # noqa: BLE001 (an exception that does not pickle)
            payload = pickle.dumps(RuntimeError(f"{type(failure).__name__}: {failure}"))
    gathered = comm.allgather((local, payload))
    failed = [rank for rank, (_, p) in enumerate(gathered) if p is not None]
    if failed:
        rank = failed[0]
        if failure is not None and rank == comm.rank:
            raise failure
        remote = pickle.loads(gathered[rank][1])
        remote.add_note(f"(raised on MPI rank {rank} of {comm.size})")
        raise remote
    return [item for block, _ in gathered for item in block]


@dataclass
class FICurve:
    """Firing rate (Hz) against constant stimulus current (A)."""

    stimulus_A: np.ndarray
    rate_Hz: np.ndarray
    spike_times: list[np.ndarray] = field(default_factory=list)


def fi_curve(circuit: Circuit, amplitudes: Sequence[float], duration: float, transient: float,
             options: IntegratorOptions | None = None, max_lanes: int = 256,
             comm: Communicator | None = None) -> FICurve:
    """Constant stimuli switched on at t = 0 (s); rate = mean-ISI rate of the spikes in
    [transient, duration] (0 with fewer than two). With ``comm`` the stimuli are split over the
    ranks in contiguous blocks and every rank returns the whole curve, equal bit for bit to the
    one-rank curve (module docstring)."""
    if not 0 <= transient < duration:
        raise ValueError(f"transient {transient} s must lie in [0, duration={duration} s)")
    runs = simulate_lanes(circuit, amplitudes, Constant, duration, options, max_lanes,
                          comm)
    rates = []
    for r in runs:
        t = r.spike_times[r.spike_times >= transient]
        rates.append((t.size - 1) / (t[-1] - t[0]) if t.size >= 2 else 0.0)
    return FICurve(np.array([r.amplitude for r in runs]), np.array(rates),
                   [r.spike_times for r in runs])


@dataclass
class ThresholdResult:
    """Bracket [lower, upper] (A) around the threshold: lower gives no response, upper does."""

    threshold: float
    lower: float
    upper: float
    runs: int
    rounds: int


def _multisection(respond: Callable[[np.ndarray], np.ndarray], bracket, rtol: float,
                  lanes: int, max_expansions: int = 8) -> ThresholdResult:
    lo, hi = (float(bracket[0]), float(bracket[1]))
    if not 0 < lo < hi:
        raise ValueError(f"bracket {bracket} must satisfy 0 < lower < upper")
    runs = rounds = 0
    for _ in range(max_expansions + 1):  # make sure the bracket brackets
        fires = respond(np.array([lo, hi]))
        runs += 2
        rounds += 1
        if not fires[0] and fires[1]:
            break
        if fires[0]:
            lo, hi = lo / 2.0, lo
        if not fires[1]:
            lo, hi = hi, hi * 2.0
    else:
        raise RuntimeError(f"no threshold found around {bracket} after {max_expansions} "
                           f"expansions")
    while hi - lo > rtol * hi:
        points = lo + (hi - lo) * np.arange(1, lanes + 1) / (lanes + 1)
        fires = respond(points)
        runs += points.size
        rounds += 1
        first = int(np.argmax(fires)) if fires.any() else points.size
        if first < points.size:
            hi = float(points[first])
        if first > 0:
            lo = float(points[first - 1])
    return ThresholdResult(0.5 * (lo + hi), lo, hi, runs, rounds)


def _lanes(circuit: Circuit, lanes: int | None) -> int:
    if not circuit.vectorised:
        return 1
    return 8 if lanes is None else max(1, int(lanes))


def pulse_threshold(circuit: Circuit, width: float, duration: float, bracket=(1e-12, 1e-9),
                    start: float = 0.0, rtol: float = 1e-4, lanes: int | None = None,
                    options: IntegratorOptions | None = None,
                    comm: Communicator | None = None) -> ThresholdResult:
    """Smallest amplitude (A) of one rectangular pulse of ``width`` (s) starting at ``start``
    that evokes a spike within ``duration`` (s), to relative tolerance ``rtol``. With ``comm``
    the points of each round (``lanes``, default 8, on any number of ranks) are split over the
    ranks; every rank returns the same result as one rank would (module docstring)."""

    def respond(amplitudes):
        runs = simulate_lanes(circuit, amplitudes, lambda a: pulse(a, width, start), duration,
                              options, comm=comm)
        return np.array([np.any(r.spike_times > start) for r in runs])

    return _multisection(respond, bracket, rtol, _lanes(circuit, lanes))


def repetitive_firing_threshold(circuit: Circuit, duration: float, bracket=(1e-12, 1e-9),
                                window: float | None = None, min_spikes: int = 2,
                                rtol: float = 1e-4, lanes: int | None = None,
                                options: IntegratorOptions | None = None,
                                comm: Communicator | None = None) -> ThresholdResult:
    """Smallest constant stimulus (A, switched on at t = 0) that keeps the neuron firing: at
    least ``min_spikes`` spikes in the last ``window`` (s; default duration / 2) of the run.
    ``comm``: as for ``pulse_threshold``."""
    window = 0.5 * duration if window is None else float(window)

    def respond(amplitudes):
        runs = simulate_lanes(circuit, amplitudes, Constant, duration, options,
                              comm=comm)
        return np.array([np.count_nonzero(r.spike_times >= duration - window) >= min_spikes
                         for r in runs])

    return _multisection(respond, bracket, rtol, _lanes(circuit, lanes))
