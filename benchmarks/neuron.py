"""Neuron benchmark (issue 5): simulated spikes per wall second of the reduced neuron, wall time
per simulated spike of the live neuron on 1 and 2 ranks.

    python benchmarks/neuron.py                      # both parts, one JSON document on stdout
    python benchmarks/neuron.py --quick              # shorter runs, fewer lanes, live on 2 ranks
    python benchmarks/neuron.py --skip-live          # the reduced neuron only
    python benchmarks/neuron.py --baseline HEAD~1    # reduced runs side by side with the
                                                     # ionslit of a git revision (>= 0.2.0)
    python benchmarks/neuron.py --ranks 1 2 --lanes 4096 8192 --skip-live
                                                     # ensembles on 1 and on 2 MPI ranks
    mpirun -n 2 python benchmarks/neuron.py --skip-live
                                                     # the ensembles split over these ranks

Targets: at least 1e4 simulated spikes per wall second for the reduced neuron; at most 10 s wall
per spike for the live neuron on 2 ranks.

Reduced neuron. The circuit of ``--reduced-case`` (default cases/neuron_reduced.toml), built as
``ionslit run`` builds it (``ionslit.case.load_case`` + ``ionslit.neuron_study.build_circuit``:
its branches at rest) and integrated with the case's [analysis] settings (BDF2, adaptive,
the case's rtol, spike threshold and re-arm level). Scenarios:

- ``reduced_single``: one neuron (one lane) driven by the case's own stimulus for the case's
  duration: the per-step cost of one circuit, as a live neuron's circuit runs;
- ``reduced_lanes_N``: N neurons advanced together as the lanes of one integrator, each under a
  constant stimulus, spread evenly over 0.2-2 nA (an f-I ensemble: 32-82 Hz), switched on at
  rest, at each tolerance of ``--rtol`` (default: the case's, and 1e-4), on each rank count of
  ``--ranks`` (default 1 and 2).

MPI. An ensemble on R ranks splits its N stimuli into contiguous blocks, one per rank
(``ionslit.coupling.analysis.lane_block``: as ``ionslit run`` splits an f-I curve), each rank integrates
its block with its own integrator; barriers before and after the timed run. Reported: the total
spikes, ``wall_s`` = the longest rank's run (so spikes per wall second is what R ranks deliver
together), ``cpu_s`` = the ranks' CPU seconds summed, and per rank its lanes, spikes, wall and
CPU seconds, loop iterations and wall microseconds per iteration (one attempt of every lane:
a fixed cost plus a cost per lane). From the plain command, ``--ranks`` runs each ensemble in a
fresh ``mpirun -n R`` job (the virtual environment's). Started under ``mpirun -n R`` itself,
the benchmark runs the ensembles in these R processes, one after the other, and rank 0 prints
the JSON (``ranks`` = R; ``reduced_single``, ``--baseline`` and the live part, which starts its
own ``mpirun``, are then left out).

Reported per run: spikes, wall and CPU seconds, spikes per wall (and CPU) second, lanes,
accepted steps per spike, provider tries per attempt, the load other processes put on the
machine meanwhile (``foreign_cpu_load``: their CPU seconds per wall second per core; above 0.1
the timings are unreliable, and ``timings_reliable`` says so). Each measurement runs in a fresh
process with one BLAS thread; with ``--baseline REV`` every scenario also runs with the
``ionslit`` of git revision REV (installed without its dependencies into a temporary directory
that comes first on PYTHONPATH; revisions from 0.2.0 on, when the folders became one package),
alternating with the present code, and ``speedup`` is the ratio of their wall (and CPU) times.
Each run records the ``coupling`` folder it imported, so the JSON shows which code ran. With more than one
rank count, ``ranks_comparison`` sets the ensembles' spikes per wall second side by side.

Live neuron. ``ionslit run cases/neuron_live.toml --output TMP --overwrite`` (``--live-case``)
under the virtual environment's ``mpirun`` on 1 and on 2 ranks (``--live-ranks``); spikes from
spikes.csv, the wall time from manifest.json (``wall_time_s``: the whole run, set-up and the
case's [analysis] runs included, which ``analyses`` lists); ``wall_s_per_spike`` is their ratio.
``--live-set KEY=VALUE`` passes ``--set`` overrides (e.g. a shorter ``circuit.duration``).
Skipped with ``--skip-live``, or if the case file does not exist.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_load import busy_cpu_seconds, foreign_cpu_load, run_measured

ROOT = Path(__file__).resolve().parent.parent
REDUCED_CASE = ROOT / "cases" / "neuron_reduced.toml"
LIVE_CASE = ROOT / "cases" / "neuron_live.toml"
STIMULI_A = (0.2e-9, 2e-9)  # the reduced lanes' constant stimuli, evenly spread
TARGET_SPIKES_PER_WALL_SECOND = 1e4
TARGET_WALL_S_PER_SPIKE = 10.0


# ---------------------------------------------------------------------------- reduced neuron
def reduced_setup(case: Path):
    """(circuit at rest, integrator options, duration of the case (s), source)."""
    from ionslit.case import load_case
    from ionslit.neuron_study import build_circuit, integrator_options

    loaded = load_case(case)
    section = loaded.case.circuit
    return (build_circuit(section), integrator_options(loaded.case.analysis),
            section.duration, _relative(case))


def _world():
    """MPI.COMM_WORLD when an MPI launcher started this process, else None (and no mpi4py)."""
    if not any(k in os.environ for k in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK",
                                         "OMPI_COMM_WORLD_SIZE")):
        return None
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _block(count: int, size: int, rank: int) -> slice:
    """Contiguous block of ``count`` lanes of ``rank`` (as ionslit.coupling.analysis.lane_block, which a
    --baseline revision may not have)."""
    base, extra = divmod(count, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def reduced_worker(spec: dict, comm=None) -> dict | None:
    """One timed integration (in its own process or processes): ``spec`` from
    ``reduced_runs``. Under MPI (``comm``) the ensemble's lanes are split over the ranks; the
    result on rank 0, None elsewhere."""
    from dataclasses import replace

    import numpy as np

    import ionslit.coupling
    from ionslit.coupling import CircuitIntegrator, Constant

    size, rank = (comm.size, comm.rank) if comm is not None else (1, 0)
    case = Path(spec["case"])
    circuit, options, case_duration, source = reduced_setup(case)
    options = replace(options, rtol=spec["rtol"])
    lanes = spec["lanes"]
    if spec["scenario"] == "reduced_single":
        if size > 1:
            raise SystemExit("reduced_single runs on one rank")
        duration = min(case_duration, spec["duration"] or case_duration)
        run = circuit.with_lanes(1) if circuit.vectorised else circuit
        stimulus = "the case's [circuit.stimulus]" if case.exists() else "1 nA constant"
    else:
        if lanes < size:
            raise SystemExit(f"{lanes} lanes cannot be split over {size} ranks")
        duration = spec["duration"]
        stimuli = np.linspace(*STIMULI_A, lanes)
        stimulus = [float(stimuli[0]), float(stimuli[-1])]
        stimuli = stimuli[_block(lanes, size, rank)]
        run = circuit.with_lanes(stimuli.size, Constant(stimuli))
    integrator = CircuitIntegrator(run, options)
    if comm is not None:
        comm.Barrier()
    busy = busy_cpu_seconds() if rank == 0 else None
    start, cpu = time.perf_counter(), time.process_time()
    integrator.run(duration)
    wall, cpu_run = time.perf_counter() - start, time.process_time() - cpu
    if comm is not None:
        comm.Barrier()
    held_wall, held_cpu = time.perf_counter() - start, time.process_time() - cpu
    if rank == 0 and busy is not None:
        after = busy_cpu_seconds()
        busy = None if after is None else after - busy
    stats = integrator.statistics
    attempts = stats["accepted"] + stats["rejected"] + stats["failed"]
    iterations = int(attempts.max()) if attempts.size else 0
    mine = {"rank": rank, "lanes": int(run.lanes), "spikes": int(integrator.spikes.counts().sum()),
            "wall_s": wall, "cpu_s": cpu_run, "held_cpu_s": held_cpu,
            "iterations": iterations, "accepted": int(stats["accepted"].sum()),
            "rejected": int(stats["rejected"].sum()), "tries": int(stats["tries"].sum()),
            "attempts": int(attempts.sum())}
    ranks = comm.gather(mine, root=0) if comm is not None else [mine]
    if rank != 0:
        return None
    spikes = sum(r["spikes"] for r in ranks)
    wall = max(r["wall_s"] for r in ranks)
    cpu = sum(r["cpu_s"] for r in ranks)
    accepted = sum(r["accepted"] for r in ranks)
    out = {
        "scenario": spec["scenario"], "code": spec["code"], "ranks": size, "lanes": lanes,
        "rtol": options.rtol, "atol_V": options.atol, "simulated_time_s": duration,
        "stimulus_A": stimulus, "spikes": spikes, "wall_s": round(wall, 4),
        "cpu_s": round(cpu, 4),
        "spikes_per_wall_second": round(spikes / wall, 1),
        "spikes_per_cpu_second": round(spikes / cpu, 1) if cpu > 0 else None,
        "accepted_steps_per_spike": round(accepted / max(spikes, 1), 1),
        "rejected_steps": sum(r["rejected"] for r in ranks),
        "tries_per_attempt": round(sum(r["tries"] for r in ranks)
                                   / max(sum(r["attempts"] for r in ranks), 1), 3),
        "source": source, "coupling": str(Path(ionslit.coupling.__file__).parent),
    }
    if busy is not None:  # other processes' load while the ranks ran (barrier to barrier)
        ours = sum(r["held_cpu_s"] for r in ranks)
        out["foreign_cpu_load_during_run"] = foreign_cpu_load(busy, ours, held_wall)
    if spec["scenario"] != "reduced_single":
        out["per_rank"] = [{
            "rank": r["rank"], "lanes": r["lanes"], "spikes": r["spikes"],
            "wall_s": round(r["wall_s"], 4), "cpu_s": round(r["cpu_s"], 4),
            "iterations": r["iterations"],
            "us_per_iteration": round(1e6 * r["wall_s"] / max(r["iterations"], 1), 1)}
            for r in ranks]
    return out


def _environment(pythonpath: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "MPI_", "HYDRA_"))}  # a fresh MPI job per run
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath,
                                                          env.get("PYTHONPATH")]))
    return env


def run_reduced(spec: dict, pythonpath: str | None) -> dict:
    """``spec`` in a fresh process, or a fresh ``mpirun -n R`` job when spec["ranks"] > 1."""
    command = [sys.executable, str(Path(__file__).resolve()), "--reduced-worker",
               json.dumps(spec)]
    if spec.get("ranks", 1) > 1:
        command = [str(Path(sys.executable).parent / "mpirun"), "-n", str(spec["ranks"]),
                   *command]
    done, extra = run_measured(command, env=_environment(pythonpath), capture_output=True,
                               text=True)
    if done.returncode != 0:
        return {**spec, "error": done.stderr.strip().splitlines()[-10:], **extra}
    return {**json.loads(done.stdout), **extra}


def install_revision(revision: str, directory: Path) -> Path:
    """``ionslit`` of git ``revision`` installed (no dependencies) into ``directory``/site, the
    directory to put first on PYTHONPATH. Revisions before 0.2.0 (top-level ``meshes``,
    ``solvers``, ``coupling``) cannot stand in for ``ionslit.coupling``: a usage error."""
    source, site = directory / "source", directory / "site"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    if not (source / "ionslit" / "version.py").is_file():
        raise SystemExit(f"--baseline {revision}: a revision before ionslit 0.2.0 (its folders "
                         "were top-level packages); choose a revision from 0.2.0 on")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "--target", str(site),
                    str(source)], check=True)
    return site


def reduced_runs(case: Path, lanes: list[int], rtols: list[float] | None, duration: float,
                 single_duration: float | None, baseline: str | None,
                 repeats: int, ranks: list[int], world=None) -> dict:
    """The reduced scenarios, each in fresh processes; with ``world`` (started under mpirun)
    the ensembles in these processes instead, on ``world.size`` ranks (result on every rank,
    printed by rank 0)."""
    from ionslit.case import load_case

    exists = case.exists()
    case_rtol = load_case(case).case.analysis.rtol if exists else 1e-4
    tolerances = list(dict.fromkeys(rtols or [case_rtol, 1e-4]))
    in_process = world is not None and world.size > 1
    if in_process:
        ranks, baseline = [world.size], None
    report = world is None or world.rank == 0
    specs = [] if in_process else [{"scenario": "reduced_single", "lanes": 1, "ranks": 1,
                                    "rtol": case_rtol, "duration": single_duration}]
    specs += [{"scenario": f"reduced_lanes_{n}", "lanes": n, "ranks": r, "rtol": rtol,
               "duration": duration}
              for rtol in tolerances for n in lanes for r in dict.fromkeys(ranks)]
    runs, speedups = [], []
    with tempfile.TemporaryDirectory() as tmp:
        codes = [("current", None)]
        if baseline:
            codes.append((f"baseline {baseline}", str(install_revision(baseline, Path(tmp)))))
        for spec in specs:
            best = {}
            for _ in range(repeats):  # alternating: the codes see the same machine
                for code, path in codes:
                    if report:
                        print(f"reduced: {spec['scenario']} rtol {spec['rtol']:g} on "
                              f"{spec['ranks']} rank(s) ({code}) ...", file=sys.stderr)
                    full = {**spec, "case": str(case), "code": code}
                    if in_process:
                        result = world.bcast(reduced_worker(full, world), root=0)
                    else:
                        result = run_reduced(full, path)
                    if code not in best or result.get("wall_s", math.inf) < best[code].get(
                            "wall_s", math.inf):
                        best[code] = result
            runs += best.values()
            if baseline and all("wall_s" in r for r in best.values()):
                now, before = best["current"], best[codes[1][0]]
                speedups.append({"scenario": spec["scenario"], "rtol": spec["rtol"],
                                 "ranks": spec["ranks"],
                                 "wall": round(before["wall_s"] / now["wall_s"], 3),
                                 "cpu": round(before["cpu_s"] / now["cpu_s"], 3)})
    current = [r for r in runs if r.get("code") == "current" and "spikes_per_wall_second" in r]
    best = max(current, key=lambda r: r["spikes_per_wall_second"], default=None)
    at_case = [r for r in current if r["rtol"] == case_rtol and r["lanes"] > 1]
    best_at_case = max(at_case, key=lambda r: r["spikes_per_wall_second"], default=None)
    out = {
        "source": current[0]["source"] if current else str(case),
        "case_rtol": case_rtol, "scheme": "bdf2", "repeats": repeats,
        "mode": (f"in-process under mpirun, {world.size} ranks" if in_process
                 else "fresh processes (mpirun -n R for R > 1 ranks)"),
        "runs": runs,
        "best": _summary(best), "best_at_case_rtol": _summary(best_at_case),
    }
    if len(set(r["ranks"] for r in current if r["lanes"] > 1)) > 1:
        out["ranks_comparison"] = _ranks_comparison(current)
    if baseline:
        out["baseline"] = baseline
        out["speedup"] = speedups
    return out


def _summary(run: dict | None) -> dict | None:
    if run is None:
        return None
    return {k: run.get(k, 1) for k in ("scenario", "lanes", "ranks", "rtol",
                                       "spikes_per_wall_second", "spikes_per_cpu_second")}


def _ranks_comparison(runs: list[dict]) -> list[dict]:
    """Spikes per wall second of each ensemble (lanes, rtol) on each rank count, and the
    speed-up over one rank."""
    table = {}
    for r in runs:
        if r["lanes"] > 1:
            table.setdefault((r["lanes"], r["rtol"]), {})[r["ranks"]] = r
    rows = []
    for (lanes, rtol), by_ranks in table.items():
        row = {"lanes": lanes, "rtol": rtol,
               "spikes_per_wall_second": {str(n): by_ranks[n]["spikes_per_wall_second"]
                                          for n in sorted(by_ranks)}}
        if 1 in by_ranks:
            row["speedup_over_1_rank"] = {
                str(n): round(by_ranks[1]["wall_s"] / by_ranks[n]["wall_s"], 3)
                for n in sorted(by_ranks) if n > 1}
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------- live neuron
def live_runs(case: Path, ranks: list[int], overrides: list[str]) -> dict:
    if not case.exists():
        return {"skipped": f"{_relative(case)} not found"}
    from ionslit.case import load_case

    analysis = load_case(case, overrides).case.analysis
    analyses = [name for name in ("fi_curve", "pulse_threshold")
                if getattr(analysis, name, None) is not None]
    mpirun = Path(sys.executable).parent / "mpirun"
    results = []
    for n in ranks:
        print(f"live: {_relative(case)} on {n} rank(s) ...", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "run"
            command = [str(mpirun), "-n", str(n), sys.executable, "-m", "ionslit", "run",
                       str(case), "--output", str(output), "--overwrite"]
            for item in overrides:
                command += ["--set", item]
            done, extra = run_measured(command, env=_environment(), capture_output=True,
                                         text=True)
            results.append({"ranks": n, "returncode": done.returncode,
                            **_live_result(output, done), **extra})
    two = next((r for r in results if r["ranks"] == 2 and "wall_s_per_spike" in r), None)
    return {"case": _relative(case), "overrides": overrides, "analyses": analyses,
            "runs": results,
            "wall_s_per_spike_2_ranks": two["wall_s_per_spike"] if two else None}


def _live_result(output: Path, done: subprocess.CompletedProcess) -> dict:
    out = {}
    try:
        manifest = json.loads((output / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    out["status"] = manifest.get("status", "no manifest")
    if manifest.get("reason"):
        out["reason"] = manifest["reason"]
    duration = (manifest.get("parameters_si", {}).get("circuit") or {}).get("duration")
    if duration is not None:
        out["simulated_time_s"] = duration
    try:
        with open(output / "spikes.csv", newline="", encoding="utf-8") as stream:
            spikes = sum(1 for _ in csv.DictReader(stream))
    except OSError:
        spikes = None
    out["spikes"] = spikes
    wall = manifest.get("wall_time_s")
    if wall is not None:
        out["wall_s"] = round(wall, 3)
        if spikes:
            out["wall_s_per_spike"] = round(wall / spikes, 3)
    if done.returncode != 0:
        out["stderr_tail"] = done.stderr.strip().splitlines()[-10:]
    return out


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# -------------------------------------------------------------------------------------- main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="shorter runs, 1024 lanes only, the live neuron on 2 ranks only")
    parser.add_argument("--reduced-case", type=Path, default=REDUCED_CASE)
    parser.add_argument("--lanes", type=int, nargs="+", default=None,
                        help="lane counts of the ensemble scenarios (default 1024 4096 16384)")
    parser.add_argument("--rtol", type=float, nargs="+", default=None,
                        help="tolerances of the ensemble scenarios (default: the case's, 1e-4)")
    parser.add_argument("--duration", type=float, default=None,
                        help="simulated time of the ensemble scenarios, s (default 0.05)")
    parser.add_argument("--baseline", metavar="REV", default=None,
                        help="also run the reduced scenarios with coupling/ of git REV")
    parser.add_argument("--ranks", type=int, nargs="+", default=None,
                        help="MPI rank counts of the ensemble scenarios (default 1 2; under "
                             "mpirun: its ranks)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per reduced scenario (and code); the fastest is kept")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--live-case", type=Path, default=LIVE_CASE)
    parser.add_argument("--live-ranks", type=int, nargs="+", default=None,
                        help="rank counts of the live runs (default 1 2; --quick: 2)")
    parser.add_argument("--live-set", action="append", default=[], metavar="KEY=VALUE",
                        help="--set override for the live runs (repeatable)")
    parser.add_argument("--reduced-worker", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    world = _world()
    if args.reduced_worker:
        result = reduced_worker(json.loads(args.reduced_worker), world)
        if result is not None:
            print(json.dumps(result))
        return
    if not args.reduced_case.exists():
        parser.error(f"--reduced-case {args.reduced_case}: no such case file")
    in_process = world is not None and world.size > 1
    if in_process:
        if args.baseline:
            parser.error("--baseline needs fresh processes: run without mpirun "
                         "(with --ranks for several ranks)")
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy's first import
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    lanes = args.lanes or ([1024] if args.quick else [1024, 4096, 16384])
    duration = args.duration or (0.02 if args.quick else 0.05)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    reduced = reduced_runs(args.reduced_case, lanes, args.rtol, duration,
                           0.03 if args.quick else None, args.baseline, args.repeats,
                           args.ranks or [1, 2], world)
    if in_process and world.rank != 0:
        return
    if in_process:
        live = {"skipped": "started under mpirun (the live runs start their own mpirun)"}
    elif args.skip_live:
        live = {"skipped": "--skip-live"}
    else:
        live = live_runs(args.live_case, args.live_ranks or ([2] if args.quick else [1, 2]),
                         args.live_set)
    best = reduced["best"]
    per_spike = live.get("wall_s_per_spike_2_ranks")
    targets = {
        "reduced_spikes_per_wall_second": {
            "value": best["spikes_per_wall_second"] if best else None,
            "scenario": best, "target": f">= {TARGET_SPIKES_PER_WALL_SECOND:g}",
            "met": bool(best and best["spikes_per_wall_second"]
                        >= TARGET_SPIKES_PER_WALL_SECOND)},
        "live_wall_s_per_spike_2_ranks": {
            "value": per_spike, "target": f"<= {TARGET_WALL_S_PER_SPIKE:g}",
            "met": None if per_spike is None else per_spike <= TARGET_WALL_S_PER_SPIKE},
    }
    foreign = [r.get("foreign_cpu_load", r.get("foreign_cpu_load_during_run", 0.0))
               for r in reduced["runs"] + live.get("runs", [])]
    import numpy as np

    print(json.dumps({
        "benchmark": "neuron",
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "cpus": os.cpu_count()},
        "load_average_1min": load,
        "targets": targets,
        "timings_reliable": all(f < 0.1 for f in foreign),
        "max_foreign_cpu_load": max(foreign, default=0.0),
        "reduced": reduced, "live": live}, indent=1))


if __name__ == "__main__":
    main()
