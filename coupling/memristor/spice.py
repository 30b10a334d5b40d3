"""SPICE export of the reduced memristor: an ngspice behavioural subcircuit (``memristor.cir``).

``.subckt ionslit_memristor p n params: gi=<g_initial in S>`` holds the state on a 1 F capacitor
between an internal node x and ground, driven by a behavioural current source:

    1 F * dV(x)/dt = (g_inf(V(p,n)) / GS - V(x)) / tau(V(p,n))
    I(p -> n)      = GS * V(x) * V(p,n)

so V(x) = g / GS. GS (``state_scale_S``) defaults to max g_inf: the state node then sits at O(1)
volts, well above SPICE's voltage tolerances (a nanosiemens conductance stored as volts would sit
below vntol = 1 uV); ``state_scale_S=1`` gives V(x) = g in S as such.

ngspice (checked with ngspice-39) has no ``table()`` function in B-source expressions but has
``pwl(x, x1, y1, x2, y2, ...)``, which interpolates linearly and extrapolates the end segments
linearly. The tables are therefore the model's monotone cubics sampled on a uniform voltage grid
(plus the model's own knots), doubled until linear interpolation stays within ``tolerance`` of the
cubic (relative to max g_inf for g_inf, relative to tau for tau); the argument is clamped to the
table's range so the model is constant outside it, like the Python model. The achieved
deviation is written in the file's header.

Initial state: the capacitor's ``ic`` = gi / GS applies with ``.tran ... uic``; without ``uic``
the DC operating point puts the state at g_inf(V(t=0)) (the steady state), as the Python model
does without an initial conductance. The currents of nanofluidic slits are small (pA-nA): set
``.options abstol`` well below them (the testbench uses 1e-18 A).

Helpers run ngspice in batch mode (``run_ngspice``; the executable is $IONSLIT_NGSPICE or
``ngspice`` on PATH, see ``find_ngspice``) and read its ``wrdata`` output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ionslit.coupling.reduced import ReducedModel, atomic_write_text

SUBCKT_NAME = "ionslit_memristor"
#: tight tolerances for comparisons with the Python model (currents of pA-nA)
DEFAULT_TESTBENCH_OPTIONS = "reltol=1e-6 abstol=1e-18 vntol=1e-9 chgtol=1e-24"


def find_ngspice() -> str | None:
    """Path of the ngspice executable: $IONSLIT_NGSPICE if set, else ``ngspice`` on PATH."""
    configured = os.environ.get("IONSLIT_NGSPICE")
    if configured:
        return configured if (os.path.isfile(configured) and os.access(configured, os.X_OK)) \
            else None
    return shutil.which("ngspice")


def dense_tables(model: ReducedModel, tolerance: float = 1e-4, max_points: int = 8193):
    """(voltage_V, g_inf_S, tau_s, g_error, tau_error): the model's cubics sampled so that linear
    interpolation between the samples deviates from them by at most ``tolerance`` (g relative to
    max g_inf, tau relative to tau) where possible with ``max_points`` samples."""
    v0, v1 = float(model.voltage_V[0]), float(model.voltage_V[-1])
    if model.voltage_V.size == 1:
        return (model.voltage_V.copy(), model.g_inf_S.copy(), model.tau_s.copy(), 0.0, 0.0)
    g_scale = max(float(np.max(model.g_inf_S)), 1e-300)
    n = 65
    while True:
        grid = np.union1d(np.linspace(v0, v1, n), model.voltage_V)
        g = model.g_inf(grid)
        tau = model.tau(grid)
        check = np.linspace(v0, v1, 16 * n + 1)
        g_err = float(np.max(np.abs(np.interp(check, grid, g) - model.g_inf(check)))) / g_scale
        tau_exact = model.tau(check)
        tau_err = float(np.max(np.abs(np.interp(check, grid, tau) - tau_exact) / tau_exact))
        if (g_err <= tolerance and tau_err <= tolerance) or n >= max_points:
            return grid, g, tau, g_err, tau_err
        n = 2 * n - 1


def _num(x: float) -> str:
    return f"{x:.12g}"


def _pwl(argument: str, xs, ys, indent: str = "+ ") -> str:
    """``pwl(argument, x1, y1, ...)`` wrapped on continuation lines."""
    pairs = [f"{_num(a)}, {_num(b)}" for a, b in zip(xs, ys, strict=True)]
    lines, line = [], f"pwl({argument}"
    for p in pairs:
        piece = f", {p}"
        if len(line) + len(piece) > 96:
            lines.append(line + ",")
            line = indent + p
        else:
            line += piece
    lines.append(line + ")")
    return "\n".join(lines)


def subcircuit_netlist(model: ReducedModel, name: str = SUBCKT_NAME,
                       state_scale_S: float | None = None, tolerance: float = 1e-4) -> str:
    """The ``.subckt`` text (module docstring); ``tolerance`` as in ``dense_tables``."""
    gs = float(state_scale_S) if state_scale_S is not None else \
        max(float(np.max(model.g_inf_S)), 1e-300)
    if not gs > 0:
        raise ValueError("state_scale_S must be > 0")
    v, g, tau, g_err, tau_err = dense_tables(model, tolerance)
    vmin, vmax = float(v[0]), float(v[-1])
    g_initial = model.g_initial_S if model.g_initial_S is not None else float(model.g_inf(0.0))
    arg = f"min(max(V(p,n), {_num(vmin)}), {_num(vmax)})"
    if model.tau_is_constant:
        tau_expr = _num(float(model.tau_s[0]))
    else:
        tau_expr = _pwl(arg, v, tau)
    g_expr = _pwl(arg, v, g / gs) if v.size > 1 else _num(float(g[0] / gs))
    source = " ".join(str(model.source.get("case") or model.source.get("name") or "").split())
    header = [
        f"* {name}: reduced nanofluidic memristor exported by ionslit (ionslit.coupling.memristor.spice)",
        "* model: tau(V) dg/dt = g_inf(V) - g,  I(p->n) = g * V(p,n)   (SI units)",
        f"* state: V(x) = g / GS with GS = {_num(gs)} S on a 1 F capacitor",
        f"* tables: {v.size} points on [{_num(vmin)}, {_num(vmax)}] V, linear (pwl), constant "
        "outside (clamped);",
        f"*   deviation from the model's monotone cubics: g_inf {g_err:.2e} of max g_inf, tau "
        f"{tau_err:.2e} relative",
        f"* parameter gi: initial conductance in S (default {_num(g_initial)}), applied with "
        ".tran ... uic;",
        "*   without uic the operating point starts the state at g_inf(V(0))",
        "* set .options abstol well below the device current (e.g. 1e-18 for pA-nA currents)",
    ]
    if source:
        header.append(f"* source: {source}")
    lines = header + [
        f".subckt {name} p n params: gi={_num(g_initial)}",
        f"Cx x 0 1 ic={{gi/{_num(gs)}}}",
        "Bx 0 x I = (" + g_expr + "\n+ - V(x)) / (" + tau_expr + ")",
        f"Bi p n I = {_num(gs)} * V(x) * V(p,n)",
        f".ends {name}",
    ]
    return "\n".join(lines) + "\n"


def write_subcircuit(model: ReducedModel, path, **options) -> Path:
    """Write ``path`` (e.g. memristor.cir) atomically; options as ``subcircuit_netlist``."""
    return atomic_write_text(path, subcircuit_netlist(model, **options))


def sine_testbench(subcircuit: str, amplitude_V: float, frequency_Hz: float, n_cycles: float,
                   points_per_cycle: int = 2000, g_initial_S: float | None = None,
                   output: str = "iv.txt", name: str = SUBCKT_NAME,
                   spice_options: str = DEFAULT_TESTBENCH_OPTIONS) -> str:
    """A netlist: ``subcircuit`` (text) across V = amplitude sin(2 pi f t) from t = 0 for
    ``n_cycles``, transient with uic and at most 1/``points_per_cycle`` of a period per step,
    writing time, V(p), I(V1) (= minus the device current) and V(x) to ``output``.
    ``spice_options``: the ``.options`` line's settings (empty: ngspice's defaults)."""
    period = 1.0 / frequency_Hz
    step = period / points_per_cycle
    instance = f"X1 p 0 {name}" + (f" gi={_num(g_initial_S)}" if g_initial_S is not None else "")
    return "\n".join([
        "ionslit memristor sine testbench",
        subcircuit.rstrip("\n"),
        f"V1 p 0 SIN(0 {_num(amplitude_V)} {_num(frequency_Hz)})",
        instance,
        f".options {spice_options}" if spice_options.strip() else "* ngspice default options",
        ".control",
        "set wr_singlescale",
        "set wr_vecnames",
        "option numdgt=15",
        f"tran {_num(step)} {_num(n_cycles * period)} 0 {_num(step)} uic",
        f"wrdata {output} v(p) i(v1) v(x1.x)",
        "quit",
        ".endc",
        ".end",
    ]) + "\n"


def run_ngspice(netlist: str, workdir, timeout_s: float = 120.0,
                executable: str | None = None) -> subprocess.CompletedProcess:
    """Run ``ngspice -b`` on ``netlist`` (text) in ``workdir``; raises RuntimeError with the
    log's tail if ngspice is missing, fails or reports an error."""
    exe = executable or find_ngspice()
    if exe is None:
        raise RuntimeError("ngspice not found (install the Debian package 'ngspice' or set "
                           "IONSLIT_NGSPICE)")
    workdir = Path(workdir)
    (workdir / "netlist.cir").write_text(netlist, encoding="utf-8")
    proc = subprocess.run([exe, "-b", "netlist.cir"], cwd=workdir, capture_output=True,
                          text=True, timeout=timeout_s)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or "error" in log.lower():
        raise RuntimeError(f"ngspice failed (exit {proc.returncode}):\n{log[-3000:]}")
    return proc


def read_wrdata(path) -> dict[str, np.ndarray]:
    """Columns of an ngspice ``wrdata`` file written with wr_singlescale and wr_vecnames."""
    with open(path, encoding="utf-8") as handle:
        names = handle.readline().split()
        data = np.loadtxt(handle, ndmin=2)
    if data.shape[1] != len(names):
        raise ValueError(f"{path}: {len(names)} column names but {data.shape[1]} columns")
    return {name: data[:, k] for k, name in enumerate(names)}


def ngspice_sine_response(model: ReducedModel, amplitude_V: float, frequency_Hz: float,
                          n_cycles: float, points_per_cycle: int = 2000,
                          g_initial_S: float | None = None, timeout_s: float = 120.0,
                          spice_options: str = DEFAULT_TESTBENCH_OPTIONS,
                          **options) -> dict[str, np.ndarray]:
    """Run the exported subcircuit under a sine in ngspice (temporary directory). Returns
    ``time_s``, ``voltage_V``, ``current_A`` (through the device, p to n) and ``g_S``.
    ``options``: passed to ``subcircuit_netlist``."""
    gs = options.get("state_scale_S") or max(float(np.max(model.g_inf_S)), 1e-300)
    text = subcircuit_netlist(model, **options)
    bench = sine_testbench(text, amplitude_V, frequency_Hz, n_cycles, points_per_cycle,
                           g_initial_S, name=options.get("name", SUBCKT_NAME),
                           spice_options=spice_options)
    with tempfile.TemporaryDirectory(prefix="ionslit-ngspice-") as tmp:
        run_ngspice(bench, tmp, timeout_s)
        cols = read_wrdata(Path(tmp) / "iv.txt")
    return {"time_s": cols["time"], "voltage_V": cols["v(p)"], "current_A": -cols["i(v1)"],
            "g_S": cols["v(x1.x)"] * gs}


__all__ = ["DEFAULT_TESTBENCH_OPTIONS", "SUBCKT_NAME", "dense_tables", "find_ngspice",
           "ngspice_sine_response",
           "read_wrdata", "run_ngspice", "sine_testbench", "subcircuit_netlist",
           "write_subcircuit"]
