"""Neuron-circuit benchmark: simulated spikes per wall second (reduced two-slit neuron and HH).

    python benchmarks/neuron_reduced.py            # all scenarios, JSON on stdout
    python benchmarks/neuron_reduced.py --quick    # smaller lane counts and durations

Scenarios, each a constant stimulus switched on at rest (tonic firing), BDF2 with adaptive
steps at each tolerance given (--rtol, default 1e-4 and 1e-3; atol = rtol * 1e-2 V). Against a
tight scipy reference the reduced neuron's spike times are within ~1e-3 relative at rtol 1e-4
and ~4e-3 at 1e-3; the single-lane scenarios report the error against a 1000x tighter run.

- ``reduced_single``: one neuron (one lane) at 1 nA: the cost of the per-step path as a live-slit
  circuit would run it (every step: a predictor, 2 Newton tries of each branch, error control);
- ``reduced_lanes_N``: N independent neurons (stimuli spread over 0.2-3 nA) advanced together
  as the lanes of one integrator (vectorised table lookups and updates; what an f-I curve or a
  threshold search does);
- ``hh_single`` / ``hh_lanes_N``: the Hodgkin-Huxley membrane (10-50 uA/cm^2).

Reported per scenario: spikes, wall and CPU time, spikes per wall (and CPU) second, accepted
steps per spike, provider tries per step, microseconds per lane-step. Timings need an otherwise
idle machine; the 1-minute load average at the start is recorded (CPU time is less sensitive to
other processes). The reduced neuron's parameters are those of
tests/coupling/test_coupling_reduced_neuron.py (repeated here: benchmarks do not import tests).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from coupling import (
    Branch,
    Circuit,
    CircuitIntegrator,
    ConstantCurrent,
    IntegratorOptions,
    ReducedMemristor,
    hodgkin_huxley_circuit,
)

VOLTAGE = np.round(np.linspace(-0.5, 0.5, 501), 12)  # V


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reduced_neuron() -> Circuit:
    """C = 10 pF; 5 fast 'sodium-like' slits (+0.15 V), 1 slow 'potassium-like' slit (-0.10 V);
    at rest. See tests/coupling/test_coupling_reduced_neuron.py for the reasoning."""
    a = np.abs(VOLTAGE)
    sodium = {"kind": "ionslit.reduced_memristor", "version": 1, "voltage_V": VOLTAGE.tolist(),
              "g_inf_S": (0.06e-9 + 30e-9 * _sigmoid((VOLTAGE + 0.17) / 0.005)).tolist(),
              "tau_s": np.full(VOLTAGE.size, 0.1e-3).tolist()}
    potassium = {"kind": "ionslit.reduced_memristor", "version": 1,
                 "voltage_V": VOLTAGE.tolist(),
                 "g_inf_S": (2e-9 + 750e-9 * _sigmoid((a - 0.08) / 0.005)).tolist(),
                 "tau_s": (1e-3 + 3e-3 / np.cosh((a - 0.08) / 0.03)).tolist()}
    circuit = Circuit(10e-12, [Branch(ReducedMemristor(sodium), 0.15, 5, "sodium_like"),
                               Branch(ReducedMemristor(potassium), -0.10, 1, "potassium_like")])
    circuit.equilibrate(circuit.resting_potential(bracket=(-0.1 + 1e-6, 0.15 - 1e-6))[0])
    return circuit


def measure(name: str, circuit: Circuit, stimuli: np.ndarray, duration: float,
            options: IntegratorOptions, check_accuracy: bool = False) -> dict:
    lanes = circuit.with_lanes(stimuli.size, ConstantCurrent(stimuli))
    integrator = CircuitIntegrator(lanes, options)
    start, cpu = time.perf_counter(), time.process_time()
    integrator.run(duration)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = integrator.statistics
    spikes = int(integrator.spikes.counts().sum())
    attempts = int((stats["accepted"] + stats["rejected"] + stats["failed"]).sum())
    out = {
        "scenario": name, "lanes": int(stimuli.size), "rtol": options.rtol,
        "simulated_time_s": duration, "stimulus_A": [float(stimuli.min()), float(stimuli.max())],
        "spikes": spikes, "wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
        "spikes_per_wall_second": round(spikes / wall, 1),
        "spikes_per_cpu_second": round(spikes / cpu, 1),
        "accepted_steps_per_spike": round(float(stats["accepted"].sum()) / max(spikes, 1), 1),
        "rejected_steps": int(stats["rejected"].sum()),
        "tries_per_step": round(float(stats["tries"].sum()) / attempts, 3),
        "us_per_lane_step": round(1e6 * wall / attempts, 3),
    }
    if check_accuracy:  # spike times against the same lanes at a 1000x tighter tolerance
        tight = IntegratorOptions(rtol=options.rtol * 1e-3, atol=options.atol * 1e-3)
        reference = CircuitIntegrator(circuit.with_lanes(stimuli.size,
                                                         ConstantCurrent(stimuli)), tight)
        reference.run(duration)
        worst = 0.0
        for lane in range(stimuli.size):
            a, b = integrator.spikes.times(lane), reference.spikes.times(lane)
            if a.size != b.size:
                worst = float("inf")
                break
            if a.size:
                worst = max(worst, float(np.max(np.abs(a - b) / b)))
        out["max_relative_spike_time_error"] = worst
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rtol", type=float, nargs="*", default=[1e-4, 1e-3],
                        help="local error tolerances (one set of scenarios each)")
    parser.add_argument("--lanes", type=int, nargs="*", default=None,
                        help="lane counts of the batch scenarios (default 256 1024 4096)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    lane_counts = args.lanes or ([256, 1024] if args.quick else [256, 1024, 4096])
    duration = 0.05 if args.quick else 0.1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = []
    neuron = reduced_neuron()
    hh = hodgkin_huxley_circuit()
    ua = 0.01  # A/m^2 per uA/cm^2
    for rtol in args.rtol:
        options = IntegratorOptions(rtol=rtol, atol=rtol * 1e-2)
        results.append(measure("reduced_single", neuron, np.array([1e-9]), duration, options,
                               check_accuracy=True))
        for n in lane_counts:
            results.append(measure(f"reduced_lanes_{n}", neuron,
                                   np.linspace(0.2e-9, 3e-9, n), duration, options))
        results.append(measure("hh_single", hh, np.array([10 * ua]), duration, options,
                               check_accuracy=True))
        for n in lane_counts[:2]:
            results.append(measure(f"hh_lanes_{n}", hh, np.linspace(10 * ua, 50 * ua, n),
                                   duration, options))
    reduced = [r for r in results if r["scenario"].startswith("reduced")]
    print(json.dumps({
        "benchmark": "neuron_reduced", "scheme": "bdf2", "atol_V": "rtol * 1e-2",
        "python": platform.python_version(), "numpy": np.__version__,
        "load_average_1min": load, "cpu_count": os.cpu_count(),
        "target_spikes_per_wall_second": 1e4,
        "reduced_best_spikes_per_wall_second": max(r["spikes_per_wall_second"]
                                                   for r in reduced),
        "reduced_best_spikes_per_cpu_second": max(r["spikes_per_cpu_second"] for r in reduced),
        "results": results}, indent=1))


if __name__ == "__main__":
    main()
