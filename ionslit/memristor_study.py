"""Memristor studies of one slit: frequency sweeps, voltage steps with the reduced model, and the
calibration record of a case.

- ``frequency_sweep`` protocol (``run_sweep``): one steady state at 0 V, saved once
  (``PNPModel.snapshot``) and restored before every frequency; ``cycles`` periods of
  V0 sin(2 pi f t) each, the last one analysed (ionslit.coupling.memristor.loop_metrics). Writes
  series.csv (every accepted step, with a ``frequency_Hz`` column; ``time_s`` restarts at 0 for
  each frequency), sweep.csv (frequency_Hz, period_s, loop_area_W, lobe areas, pinch ratio,
  conductance range, steps) and loop_metrics.json: the memory time from the area maximum
  (tau = k / (2 pi f_peak), k from ``[analysis] memory_time_shape``; docs/theory.md#memory-time),
  the full metrics of the loop with the largest area (docs/theory.md#hysteresis-loops) and a
  summary per frequency.
- ``step`` protocol with ``[analysis] reduced_model`` (``run_steps``): the transient as any slit
  run (ionslit.slit_study.run_slit: series, checkpoints), then g_inf(V) from steady solves at the
  listed voltages, tau(V) from exponential fits of G = I/V after each step
  (ionslit.coupling.memristor.step_responses / step_levels; docs/theory.md#step-fits), the
  reduced model tau(V) dg/dt = g_inf(V) - g (docs/theory.md#reduced-memristor) as
  reduced_model.json and memristor.cir, and loop_metrics.json with the relaxation times, the
  memory time (tau_eff of the model over a sine of the steps' largest amplitude) and the metrics
  of the model's loop at its area maximum.
- a ``[calibration]`` section (any slit case): calibration.json (``calibrate_case``), which
  ``ionslit calibrate`` prints.

Files are written atomically on rank 0; every solve is collective.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ionslit import translate
from ionslit.case.schema import Case
from ionslit.coupling.memristor import (
    ReducedModel,
    cycle_metrics,
    effective_tau,
    loop_metrics,
    memory_time_from_sweep,
    model_peak_frequency,
    sine_cycle,
    step_levels,
    step_responses,
    write_subcircuit,
)
from ionslit.logs import get_logger
from ionslit.output import atomic_write_csv, atomic_write_json, read_csv
from ionslit.results import SeriesWriter
from ionslit.run_context import RunContext
from ionslit.run_control import RunInterrupted
from ionslit.slit_study import build_model, run_slit
from ionslit.solvers.kinetics import WIEN_2D_DIVALENT_TABLE, calibrate, read_calibration_table
from ionslit.solvers.model import PNPModel
from ionslit.solvers.time_stepping import TimeIntegrator

log = get_logger("run")


def handles(case: Case) -> bool:
    """True for the studies of this module: a frequency sweep, steps with a reduced model, or
    any slit case with a [calibration] section."""
    return case.circuit is None and (
        case.protocol.kind == "frequency_sweep" or case.analysis.reduced_model is not None
        or case.calibration is not None)


def run_memristor(context: RunContext) -> None:
    """The study the case asks for (``handles``); other protocols run as plain slit runs."""
    case = context.case
    if case.calibration is not None and context.comm.rank == 0:
        write_calibration(case, context.directory / "calibration.json")
    if case.protocol.kind == "frequency_sweep":
        if context.restart is not None:
            raise RunInterrupted("a frequency sweep keeps no checkpoints: run it again")
        run_sweep(context)
        return
    if case.analysis.reduced_model is not None and case.protocol.kind != "step":
        raise ValueError("[analysis] reduced_model needs a 'step' protocol (tau(V) comes from "
                         f"the step responses), not '{case.protocol.kind}'")
    run_slit(context)
    if case.analysis.reduced_model is not None:
        run_reduced_model(context)


# -- common ------------------------------------------------------------------------------------
def _start(context: RunContext) -> PNPModel:
    """Mesh and model (mesh.xdmf written), manifest extras, first manifest write."""
    manifest, comm = context.manifest, context.comm
    model, mesh_report = build_model(context.loaded, context.petsc, comm, context.directory,
                                     manifest)
    manifest.extra["mesh"] = mesh_report
    manifest.extra["dimensionless_groups"] = model.dimensionless_groups(
        translate.peak_voltage(context.case))
    manifest.extra["degrees_of_freedom"] = model.space.dofmap.index_map.size_global * \
        model.space.dofmap.index_map_bs
    manifest.petsc_options = dict(model.petsc_options)
    if comm.rank == 0:
        manifest.write()
    return model


def _finite(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


# -- frequency sweep ---------------------------------------------------------------------------
def run_sweep(context: RunContext) -> dict:
    """The frequency sweep (module docstring); returns the loop_metrics.json content."""
    case, directory, manifest = context.case, context.directory, context.manifest
    comm, control = context.comm, context.control
    model = _start(context)
    control.install()  # again: gmsh has reset the SIGTERM handler on rank 0
    model.solve_steady(0.0)
    initial = model.snapshot()
    series = SeriesWriter(directory / "series.csv", comm)
    sweep_rows, summaries, full = [], [], {}
    total_steps = 0
    for f, protocol, end, options in translate.sweep_protocols(case):
        if control.any_signalled():
            series.flush()
            raise RunInterrupted(f"SIGTERM (time limit?) during the frequency sweep, before "
                                 f"{f:g} Hz: no checkpoint (sweeps keep none); run it again")
        started = time.perf_counter()
        model.restore(initial)
        rows = [dict(model.observables.series_row(), frequency_Hz=f)]

        def on_step(record, rows=rows, f=f):
            rows.append(dict(model.observables.series_row(), frequency_Hz=f))

        integrator = TimeIntegrator(model, protocol, options)
        integrator.run(end, on_step=on_step, start_from_steady=False)
        steps = len(integrator.records)
        total_steps += steps
        for row in rows:
            series.append(row)
        t = np.array([r["time_s"] for r in rows])
        v = np.array([r["voltage_V"] for r in rows])
        i = np.array([r["current_A"] for r in rows])
        g = np.array([r["conductance_S"] for r in rows])
        metrics = loop_metrics(t, v, i, g, frequency_Hz=f)
        wall = time.perf_counter() - started
        full[f] = metrics
        sweep_rows.append({
            "frequency_Hz": f, "period_s": 1.0 / f,
            "loop_area_W": metrics["total_area_W"],
            "positive_lobe_area_W": metrics["positive_lobe_area_W"],
            "negative_lobe_area_W": metrics["negative_lobe_area_W"],
            "pinch_ratio": metrics["pinch_ratio"],
            "max_current_A": metrics["max_current_A"],
            "conductance_min_S": metrics["conductance_min_S"],
            "conductance_max_S": metrics["conductance_max_S"],
            "time_steps": steps, "wall_time_s": wall,
        })
        summaries.append({k: metrics[k] for k in (
            "frequency_Hz", "total_area_W", "positive_lobe_area_W", "negative_lobe_area_W",
            "pinch_ratio", "crossing_type", "conductance_min_S", "conductance_max_S",
            "conductance_ratio")} | {"time_steps": steps})
        log.info("f = %.4g Hz: loop area %.4g W, pinch %.2g, %d steps, %.1f s", f,
                 metrics["total_area_W"], metrics["pinch_ratio"], steps, wall)
    series.flush()
    manifest.extra["time_steps"] = total_steps
    result = sweep_metrics(sweep_rows, summaries, full, case)
    if comm.rank == 0:
        atomic_write_csv(directory / "sweep.csv",
                         {k: [r[k] for r in sweep_rows] for k in sweep_rows[0]})
        atomic_write_json(directory / "loop_metrics.json", result)
    memory = result.get("memory_time_s")
    log.info("memory time from the sweep: %s", f"{memory:.4g} s (peak at "
             f"{result['peak_frequency_Hz']:.4g} Hz)" if memory else result.get("memory_time_note"))
    return result


def sweep_metrics(rows: list[dict], summaries: list[dict], full: dict, case: Case) -> dict:
    """loop_metrics.json of a sweep: memory time from the area maximum, the loop with the
    largest area in full, one summary per frequency."""
    f = np.array([r["frequency_Hz"] for r in rows])
    area = np.array([r["loop_area_W"] for r in rows])
    largest = float(f[int(np.argmax(area))])
    result = dict(full[largest])
    result["analysed_cycle"] = "last"
    protocol = case.protocol
    assert protocol.kind == "frequency_sweep", "metrics of a frequency sweep"
    result["amplitude_V"] = protocol.amplitude
    try:
        memory = memory_time_from_sweep(f, area, shape=case.analysis.memory_time_shape)
        result.update(memory_time_s=memory.tau_s, memory_time_factor=memory.factor,
                      peak_frequency_Hz=memory.peak_frequency_Hz,
                      peak_area_W=memory.peak_area_W,
                      memory_time_method=memory.method, peak_method=memory.peak_method)
    except ValueError as error:
        result.update(memory_time_s=None, memory_time_note=str(error))
    interior = [k for k in range(1, len(area) - 1)
                if area[k] > area[k - 1] and area[k] > area[k + 1]]
    result["interior_maxima_Hz"] = [float(f[k]) for k in interior]
    result["sweep"] = summaries
    return result


# -- steps and the reduced model ---------------------------------------------------------------
def run_reduced_model(context: RunContext) -> dict | None:
    """After a step run: g_inf from steady solves, tau from the step fits, the reduced model
    and its files (module docstring). Returns the loop_metrics.json content (rank 0). A SIGTERM
    stops it between two steady solves (status interrupted; the step series is complete)."""
    case, directory, comm, control = context.case, context.directory, context.comm, \
        context.control
    section = case.analysis.reduced_model
    assert section is not None, "run_memristor calls this for an [analysis.reduced_model]"
    model, _ = build_model(context.loaded, context.petsc, comm, manifest=context.manifest)
    voltages = sorted(set(float(v) for v in section.voltages))
    v_max = max(abs(v) for v in voltages)
    g_inf = []
    for v in voltages:
        if control.any_signalled():
            raise RunInterrupted(f"SIGTERM (time limit?) during the reduced-model analysis, "
                                 f"before the steady solve at {v:g} V: series.csv is complete; "
                                 "run the case again for reduced_model.json")
        probe = v if v != 0.0 else 1e-4 * v_max  # G at V = 0: its small-voltage limit
        steady = model.solve_steady(probe)
        g_inf.append(steady.current / probe)
        log.info("steady state at %.4g V: G = %.6g S", probe, g_inf[-1])
    if comm.rank != 0:
        return None
    series = read_csv(directory / "series.csv")
    result = reduced_model_from_steps(series, voltages, g_inf, section, case)
    atomic_write_json(directory / "loop_metrics.json", result["metrics"])
    result["model"].save(directory / "reduced_model.json")
    if section.spice:
        write_subcircuit(result["model"], directory / "memristor.cir")
    log.info("reduced model: memory time %.4g s (tau_eff over a %.4g V sine), tau from %.4g to "
             "%.4g s", result["metrics"]["memory_time_s"], v_max,
             float(np.min(result["model"].tau_s)), float(np.max(result["model"].tau_s)))
    return result["metrics"]


def _mirror(v: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, y) on V > 0 (and 0) extended to -V by symmetry, increasing in V."""
    keep = v >= 0
    v, y = v[keep], y[keep]
    positive = v > 0
    return (np.concatenate([-v[positive][::-1], v]), np.concatenate([y[positive][::-1], y]))


def reduced_model_from_steps(series: dict, voltages, g_inf, section, case: Case) -> dict:
    """The reduced model and loop_metrics.json content from a step series (dict of columns)
    and steady conductances ``g_inf`` at ``voltages`` (numpy only)."""
    fits = step_responses(series["time_s"], series["voltage_V"], series["current_A"],
                          skip_s=section.skip, skip_fraction=section.skip_fraction)
    levels = step_levels(fits)
    if not levels:
        raise ValueError("no step could be fitted: give plateaus at nonzero voltages, long "
                         "enough for G to relax")
    v_table = np.asarray(voltages, dtype=float)
    g_table = np.asarray(g_inf, dtype=float)
    tau_v = np.array([lv["voltage_V"] for lv in levels])
    tau = np.array([lv["tau_s"] for lv in levels])
    if section.symmetric:  # g_inf(|V|), tau(|V|): mirror what was measured at V > 0
        v_table, g_table = _mirror(v_table, g_table)
        tau_v, tau = _mirror(tau_v, tau)
    protocol = case.protocol
    assert protocol.kind == "step", "a reduced model comes from a step protocol"
    amplitude = float(max(abs(v) for v in protocol.voltages))
    model = ReducedModel.from_tables(
        v_table, g_table, tau, tau_voltage_V=tau_v,
        source={"case": case.name, "g_inf": "steady solves at the listed voltages (G at 0 V: "
                "its small-voltage limit)", "tau": "exponential fits of G = I/V after each step "
                "(mean per voltage level)", "step_levels": levels})
    tau_eff = effective_tau(model, amplitude)
    metrics = {
        "kind": "voltage steps",
        "memory_time_s": tau_eff,
        "memory_time_method": f"effective tau 1 / <1 / tau(V(t))> of the reduced model over a "
                              f"sine of amplitude {amplitude:g} V (the largest step voltage)",
        "relaxation_times": levels,
        "step_fits": [{k: _finite(v) if isinstance(v, float) else v
                       for k, v in vars(fit).items()} for fit in fits],
        "g_inf_voltage_V": v_table.tolist(), "g_inf_S": g_table.tolist(),
        "conductance_ratio": float(np.max(g_table) / np.min(g_table)),
    }
    try:
        f_peak = model_peak_frequency(model, amplitude)
        _, v, _, i = sine_cycle(model, f_peak, amplitude)
        loop = cycle_metrics(v, i)
        loop.pop("lobes", None)
        metrics["reduced_model_loop_at_peak"] = {"frequency_Hz": f_peak,
                                                 "amplitude_V": amplitude, **loop}
        metrics["memory_time_from_model_peak_s"] = 0.5 / (2 * math.pi * f_peak)
    except RuntimeError as error:
        metrics["reduced_model_loop_at_peak"] = {"note": str(error)}
    return {"model": model, "metrics": metrics, "fits": fits, "levels": levels}


# -- calibration -------------------------------------------------------------------------------
def calibrate_case(case: Case):
    """The ``[calibration]`` fit of a case (a CalibrationResult): the target table (default
    the packaged Brownian-dynamics table), the reaction's total concentration (default: the
    concentration given for its immobile reactant, e.g. the sites) and the law kind."""
    section = case.calibration
    if section is None:
        raise ValueError("the case has no [calibration] section")
    if section.reaction >= len(case.reactions):
        raise ValueError(f"calibration.reaction = {section.reaction}: the case has "
                         f"{len(case.reactions)} reaction(s)")
    reaction = translate.reactions(case)[section.reaction]
    total = section.total_concentration
    if total is None:
        assert case.electrolyte is not None, "a slit case has an [electrolyte] section"
        species = {s.name: s for s in case.electrolyte.species}
        reactants = [species[name] for name, _ in reaction.reactants if name in species]
        immobile = [s for s in reactants if s.diffusivity == 0] or reactants
        value = immobile[0].concentration if immobile else None
        if not isinstance(value, float) or value <= 0:
            raise ValueError("give calibration.total_concentration (c_tot of each partner)")
        total = value
    table = section.table or WIEN_2D_DIVALENT_TABLE
    field, ratio = read_calibration_table(table)
    return calibrate(field, ratio, section.law, total_concentration=total,
                     dissociation_constant=section.dissociation_constant,
                     saturation=section.saturation), reaction, Path(table)


def calibration_record(case: Case) -> dict:
    """The fitted law, K_d and per-point residuals of the case's [calibration] (JSON-ready)."""
    result, reaction, table = calibrate_case(case)
    return {"reaction": reaction.equation, "table": str(table), **result.to_dict()}


def write_calibration(case: Case, path: Path) -> dict:
    """calibration.json (rank 0): ``calibration_record`` of the case."""
    data = calibration_record(case)
    atomic_write_json(path, data)
    return data


__all__ = ["calibrate_case", "calibration_record", "handles", "reduced_model_from_steps", "run_memristor",
           "run_reduced_model", "run_sweep", "sweep_metrics", "write_calibration"]
