"""Transient PNP benchmark: K+, Cl- and a neutral species in a charged slit, BDF2, sine drive.

    python benchmarks/pnp_transient.py                 # driver: all sizes on 1 and 2 ranks
    python benchmarks/pnp_transient.py --sizes 70k --ranks 1 --baseline
    mpirun -n 2 python benchmarks/pnp_transient.py --worker --size 70k --output run.json

The driver runs every size on each rank count one after the other (each in its own ``mpirun``
with one thread per rank, so the ranks do not compete with BLAS threads), then prints one JSON
document: DOFs, ranks, Newton (chord) and linear iterations per step, time per step split into
assembly (residuals + Jacobians), LU factorisation, solve (triangular solves, line search and
SNES bookkeeping) and other (predictor, currents), microseconds per DOF per step, peak memory,
the 2-rank speed-ups and the project's targets (<= 8 us/DOF/step on 1 rank at 70k DOFs with
Newton rtol 1e-8; 2-rank speed-up >= 1.6 at 70k DOFs and above). Timings need an otherwise idle
machine: each run records ``foreign_cpu_load``, the CPU time other processes used during it per
wall second per core, and ``timings_reliable`` says whether all runs stayed below 0.1.

Case: a 100 nm x 4 nm slit (sigma = -0.02 C/m^2 on both walls) between 100 nm x 100 nm
reservoirs, 10 mM KCl plus 10 mM of a neutral species (4 fields), V(t) = 0.5 V sin(2 pi 1e5 t),
200 steps per period (BDF2, fixed step), starting from the steady state at V = 0; the timed steps
follow a few warm-up steps. Solver defaults: log concentrations, MUMPS LU, snes_rtol 1e-8,
chord iterations on lagged Jacobians/factors (``--reuse none`` for plain Newton).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_load import run_measured

#: mesh scale factor for each nominal size (the DOF count is measured and reported)
SIZES = {"20k": 0.77, "70k": 2.2, "270k": 5.2}
PERIOD = 1e-5  # s
STEPS_PER_PERIOD = 200


def build_model(scale: float, reuse: str, comm):
    import ionslit.meshes  # noqa: F401  (MPI before dolfinx)
    # isort: split
    from ionslit.meshes import structured
    from ionslit.solvers import Boundary, Electrolyte, PNPModel, SolverOptions, Species, SurfaceCharge

    c = 10.0
    electrolyte = Electrolyte((Species("K", 1, 1.957e-9, c, c),
                               Species("Cl", -1, 2.032e-9, c, c),
                               Species("N", 0, 1.0e-9, c, c)))
    mesh = structured.slit_with_reservoirs(
        comm, 100e-9, 4e-9, 100e-9, 100e-9, wall_size=0.15e-9 / scale,
        mouth_size=0.3e-9 / scale, max_size=4e-9 / scale, growth=1.15,
        slit_max_size=0.5e-9 / scale)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.02),
                               "slit_wall_bottom": SurfaceCharge(-0.02)})
    options = SolverOptions(reuse=reuse, petsc_options={"snes_rtol": 1e-8})
    return PNPModel(mesh, electrolyte, boundary, options)


def worker(size: str, reuse: str, steps: int, warmup: int, output: Path) -> None:
    from mpi4py import MPI

    from ionslit.coupling.waveforms import Sine

    comm = MPI.COMM_WORLD
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    model = build_model(SIZES[size], reuse, comm)
    dofs = model.space.dofmap.index_map.size_global * model.space.dofmap.index_map_bs
    protocol = Sine(0.5, 1.0 / PERIOD)
    model.solve_steady(protocol.voltage(0.0))
    setup = time.perf_counter() - t0
    dt = PERIOD / STEPS_PER_PERIOD
    rows = []
    for k in range(warmup + steps):
        comm.Barrier()
        start = time.perf_counter()
        t_new = model.time + dt
        model.try_step(dt, protocol.voltage(t_new))
        report = model.last_report
        model.accept()
        comm.Barrier()
        wall = time.perf_counter() - start
        if k >= warmup:
            rows.append({
                "wall": wall, "snes": report.solve_time,
                "assembly": report.residual_time + report.jacobian_time,
                "factorization": report.factorization_time,
                "newton": report.iterations, "linear": report.linear_iterations,
                "jacobians": report.jacobians})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    memory = comm.gather(rss_mb, root=0)
    if comm.rank != 0:
        return
    n = len(rows)

    def mean(key):
        return sum(r[key] for r in rows) / n

    wall, snes = mean("wall"), mean("snes")
    assembly, factorization = mean("assembly"), mean("factorization")
    result = {
        "size": size, "dofs": dofs, "ranks": comm.size, "reuse": reuse, "timed_steps": n,
        "newton_iterations_per_step": mean("newton"),
        "newton_iterations": [r["newton"] for r in rows],
        "linear_iterations_per_step": mean("linear"),
        "jacobian_assemblies_per_step": mean("jacobians"),
        "time_per_step_s": wall,
        "assembly_s_per_step": assembly,
        "factorization_s_per_step": factorization,
        "solve_s_per_step": snes - assembly - factorization,
        "other_s_per_step": wall - snes,
        "us_per_dof_per_step": wall / dofs * 1e6,
        "peak_memory_mb_total": sum(memory),
        "peak_memory_mb_max_rank": max(memory),
        "setup_and_steady_s": setup,
        "load_average_before": load,
    }
    output.write_text(json.dumps(result))


def run_worker(size: str, ranks: int, reuse: str, steps: int, warmup: int) -> dict:
    """One ``mpirun``; also measures how busy *other* processes kept the machine meanwhile
    (``foreign_cpu_load``: their CPU seconds per wall second per core; > 0.1 spoils timings)."""
    mpirun = Path(sys.executable).parent / "mpirun"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "MPI_", "HYDRA_"))}  # a fresh MPI job per run
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [str(mpirun), "-n", str(ranks), sys.executable, str(Path(__file__).resolve()),
               "--worker", "--size", size, "--reuse", reuse, "--steps", str(steps),
               "--warmup", str(warmup), "--output", str(out)]
        _, load = run_measured(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        result = json.loads(out.read_text())
    if "foreign_cpu_load" in load:
        result["foreign_cpu_load"] = load["foreign_cpu_load"]
    return result


def clean_run(size: str, ranks: int, reuse: str, steps: int, warmup: int,
              retries: int) -> dict:
    """Run, and re-run up to ``retries`` times while other processes load the machine
    (foreign_cpu_load > 0.1); keep the cleanest attempt."""
    best = None
    for attempt in range(retries + 1):
        print(f"running {size} DOFs on {ranks} rank(s), reuse={reuse} (attempt {attempt + 1})"
              " ...", file=sys.stderr)
        result = run_worker(size, ranks, reuse, steps, warmup)
        result["attempts"] = attempt + 1
        if best is None or result.get("foreign_cpu_load", 0) < best.get("foreign_cpu_load", 0):
            best = result
        if best.get("foreign_cpu_load", 0.0) < 0.1:
            break
    return best


def driver(sizes, ranks, reuse, steps, warmup, baseline, retries=0) -> dict:
    runs = []
    for size in sizes:
        for r in ranks:
            runs.append(clean_run(size, r, reuse, steps, warmup, retries))
    if baseline:
        runs.append(clean_run("70k", 1, "none", steps, warmup, retries))
    by_key = {(r["size"], r["ranks"], r["reuse"]): r for r in runs}
    speedups = {}
    for size in sizes:
        one, two = by_key.get((size, 1, reuse)), by_key.get((size, 2, reuse))
        if one and two:
            speedups[size] = one["time_per_step_s"] / two["time_per_step_s"]
    targets = {}
    one70 = by_key.get(("70k", 1, reuse))
    if one70:
        targets["us_per_dof_per_step_1_rank_70k"] = {
            "value": one70["us_per_dof_per_step"], "target": "<= 8",
            "met": one70["us_per_dof_per_step"] <= 8.0}
    big = {s: v for s, v in speedups.items() if s in ("70k", "270k")}
    if big:
        targets["speedup_2_ranks_70k_and_above"] = {
            "value": big, "target": ">= 1.6", "met": all(v >= 1.6 for v in big.values())}
    foreign = [r.get("foreign_cpu_load", 0.0) for r in runs]
    return {"benchmark": "pnp_transient", "case": __doc__.split("Case:")[1].strip(),
            "versions": versions(), "runs": runs, "speedup_2_ranks": speedups,
            "targets": targets,
            "timings_reliable": all(f < 0.1 for f in foreign),
            "max_foreign_cpu_load": max(foreign, default=0.0)}


def versions() -> dict:
    import ionslit.meshes  # noqa: F401
    # isort: split
    import dolfinx
    from petsc4py import PETSc

    return {"dolfinx": dolfinx.__version__,
            "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
            "python": sys.version.split()[0], "cpus": os.cpu_count()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help="run one size (under mpirun)")
    parser.add_argument("--size", choices=sorted(SIZES), default="70k")
    parser.add_argument("--sizes", default="20k,70k,270k")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--reuse", choices=["jacobian", "lu", "none"], default="jacobian")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--baseline", action="store_true",
                        help="also run plain Newton (reuse none) at 70k DOFs on 1 rank")
    parser.add_argument("--retries", type=int, default=3,
                        help="re-run a size/rank count disturbed by other processes")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.size, args.reuse, args.steps, args.warmup, args.output)
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    ranks = [int(r) for r in args.ranks.split(",")]
    print(json.dumps(driver(sizes, ranks, args.reuse, args.steps, args.warmup,
                            args.baseline, args.retries), indent=2))


if __name__ == "__main__":
    main()
