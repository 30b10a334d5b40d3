"""Neuron-circuit benchmark: simulated spikes per wall second (reduced two-slit neuron and HH).

    python benchmarks/neuron_reduced.py            # all scenarios, JSON on stdout
    python benchmarks/neuron_reduced.py --quick    # smaller lane counts and durations

Scenarios, each a constant stimulus switched on at rest (tonic firing), BDF2 with adaptive
steps at the tolerance given (--rtol, atol = rtol * 1e-2 V; at rtol 1e-4 spike times of the
reduced neuron are within ~1e-3 relative of a tight scipy reference, at 1e-5 within ~2e-4):

- ``reduced_single``: one neuron (one lane) at 1 nA: the cost of the per-step path as a live-slit
  circuit would run it (every step: a predictor, 2 Newton tries of each branch, error control);
- ``reduced_lanes_N``: N independent neurons (stimuli spread over 0.2-3 nA) advanced together
  as the lanes of one integrator (vectorised table lookups and updates; what an f-I curve or a
  threshold search does);
- ``hh_single`` / ``hh_lanes_N``: the Hodgkin-Huxley membrane (10-50 uA/cm^2).

Reported per scenario: spikes, wall time, spikes per wall second, accepted steps per spike,
provider tries per step, microseconds per lane-step. Timings need an otherwise idle machine; the
1-minute load average at the start is recorded. The reduced neuron's parameters are those of
tests/coupling/test_reduced_neuron.py (repeated here: benchmarks do not import tests).
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
    at rest. See tests/coupling/test_reduced_neuron.py for the reasoning."""
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
            options: IntegratorOptions) -> dict:
    lanes = circuit.with_lanes(stimuli.size, ConstantCurrent(stimuli))
    integrator = CircuitIntegrator(lanes, options)
    start = time.perf_counter()
    integrator.run(duration)
    wall = time.perf_counter() - start
    stats = integrator.statistics
    spikes = int(integrator.spikes.counts().sum())
    attempts = int((stats["accepted"] + stats["rejected"] + stats["failed"]).sum())
    return {
        "scenario": name, "lanes": int(stimuli.size), "simulated_time_s": duration,
        "stimulus_A": [float(stimuli.min()), float(stimuli.max())],
        "spikes": spikes, "wall_s": round(wall, 4),
        "spikes_per_wall_second": round(spikes / wall, 1),
        "accepted_steps_per_spike": round(float(stats["accepted"].sum()) / max(spikes, 1), 1),
        "rejected_steps": int(stats["rejected"].sum()),
        "tries_per_step": round(float(stats["tries"].sum()) / attempts, 3),
        "us_per_lane_step": round(1e6 * wall / attempts, 3),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--lanes", type=int, nargs="*", default=None,
                        help="lane counts of the batch scenarios (default 256 1024 4096)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    lane_counts = args.lanes or ([256, 1024] if args.quick else [256, 1024, 4096])
    duration = 0.05 if args.quick else 0.1
    options = IntegratorOptions(rtol=args.rtol, atol=args.rtol * 1e-2)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = []
    neuron = reduced_neuron()
    results.append(measure("reduced_single", neuron, np.array([1e-9]), duration, options))
    for n in lane_counts:
        results.append(measure(f"reduced_lanes_{n}", neuron, np.linspace(0.2e-9, 3e-9, n),
                               duration, options))
    hh = hodgkin_huxley_circuit()
    ua = 0.01  # A/m^2 per uA/cm^2
    results.append(measure("hh_single", hh, np.array([10 * ua]), duration, options))
    for n in lane_counts[:2]:
        results.append(measure(f"hh_lanes_{n}", hh, np.linspace(10 * ua, 50 * ua, n), duration,
                               options))
    best = max(r["spikes_per_wall_second"] for r in results if r["scenario"].startswith("red"))
    print(json.dumps({
        "benchmark": "neuron_reduced", "rtol": args.rtol, "atol_V": args.rtol * 1e-2,
        "scheme": options.scheme, "python": platform.python_version(),
        "numpy": np.__version__, "load_average_1min": load, "cpu_count": os.cpu_count(),
        "target_spikes_per_wall_second": 1e4,
        "reduced_best_spikes_per_wall_second": best,
        "results": results}, indent=1))


if __name__ == "__main__":
    main()
