"""PNG plots of a results directory, made from its files alone (call on rank 0 only).

Every ``plot_*`` function takes the results directory, reads the files it needs, writes
``DIR/plots/<name>.png`` and returns the paths written: an empty list when its inputs are absent or
do not apply (a steady run has no I-V loop). ``plot_results`` makes all of them. Figures are drawn
with matplotlib's object-oriented API on the Agg canvas (no pyplot, no display, no global state)
and written atomically (rendered in memory, then ``ionslit.output.atomic_write_bytes``).

| PNG | made when | from |
|---|---|---|
| ``iv_loop.png`` | transient with a varying voltage | series.csv (+ loop_metrics.json) |
| ``conductance.png`` | transient with a finite conductance | series.csv |
| ``current.png`` | transient | series.csv |
| ``loop_area.png`` | a frequency sweep | sweep.csv |
| ``membrane_voltage.png`` | a neuron run | circuit.csv or series.csv (+ spikes.csv) |
| ``fi_curve.png`` | an f-I curve | fi_curve.csv |
| ``profile_<name>.png`` | each profile | profiles/<name>.csv |

Axes carry SI units with a prefix chosen from the data range (nA, mV, ms, ...); titles start with
the case name from manifest.json.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from ionslit.output import atomic_write_bytes, read_csv

log = logging.getLogger("ionslit.plot")

PLOTS_DIRECTORY = "plots"
NEURON_SERIES = ("circuit.csv", "series.csv")  # where the membrane voltage may be
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
_VOLTAGE_STYLE: dict[str, Any] = {"color": "0.45", "linestyle": "--", "linewidth": 1.0}


class PlotError(RuntimeError):
    """Some plots failed (``plot_results(strict=True)``); ``written`` holds those that did not."""

    def __init__(self, failures: Sequence[str], written: Sequence[Path]):
        super().__init__("; ".join(failures))
        self.failures, self.written = list(failures), list(written)


# --- SI prefixes -----------------------------------------------------------------------------

def si_prefix(values, unit: str) -> tuple[float, str]:
    """(factor, prefixed unit) so that ``values * factor`` has its largest magnitude (to two
    significant digits) in [1, 1000):
    ``si_prefix([2e-9, 5e-9], "A") == (1e9, "nA")``. No finite non-zero value: no prefix."""
    magnitudes = np.abs(np.asarray(values, dtype=float))
    magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
    if magnitudes.size == 0:
        return 1.0, unit
    largest = float(f"{magnitudes.max():.2g}")  # 0.9997 V -> 1 V, not 999.7 mV
    exponent = 3 * math.floor(math.log10(largest) / 3)
    exponent = min(max(exponent, min(_PREFIXES)), max(_PREFIXES))
    return 10.0 ** -exponent, _PREFIXES[exponent] + unit


def scaled(values, quantity: str, unit: str) -> tuple[np.ndarray, str]:
    """The values in a prefixed unit and the axis label ``"quantity (unit)"``."""
    factor, prefixed = si_prefix(values, unit)
    return np.asarray(values, dtype=float) * factor, f"{quantity} ({prefixed})"


def format_si(value: float, unit: str) -> str:
    """``format_si(1.234e-12, "W") == "1.23 pW"``."""
    factor, prefixed = si_prefix([value], unit)
    return f"{value * factor:.3g} {prefixed}"


# --- files and figures -----------------------------------------------------------------------

def _read_csv(directory: Path, name: str) -> dict[str, np.ndarray] | None:
    """The columns of DIR/name, or None when the file is absent or empty."""
    path = Path(directory) / name
    if not path.is_file() or path.stat().st_size == 0:
        return None
    return read_csv(path)


def _read_json(directory: Path, name: str) -> dict | None:
    path = Path(directory) / name
    return json.loads(path.read_text()) if path.is_file() else None


def _title(directory: Path, what: str) -> str:
    """``"<case name>: what"``, with the run's status when it did not end ``ok``."""
    manifest = _read_json(directory, "manifest.json") or {}
    name = manifest.get("case", {}).get("name") or Path(directory).resolve().name
    status = manifest.get("status", "ok")
    return f"{name}: {what}" + ("" if status == "ok" else f" [{status}]")


def _figure(rows: int = 1, height: float = 4.2) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(6.4, height), layout="constrained")
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, color="0.9", linewidth=0.6)
    return figure, list(axes)


def save(figure: Figure, directory: Path, name: str) -> list[Path]:
    """Write the figure to DIR/plots/<name>.png atomically; returns [path]."""
    path = Path(directory) / PLOTS_DIRECTORY / f"{name}.png"
    for ax in figure.axes:  # "137.12 pS", never "0.02 + 1.371e2"
        for formatter in (ax.xaxis.get_major_formatter(), ax.yaxis.get_major_formatter()):
            if isinstance(formatter, ScalarFormatter):
                formatter.set_useOffset(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    atomic_write_bytes(path, buffer.getvalue())
    return [path]


def _transient(directory: Path) -> dict[str, np.ndarray] | None:
    """series.csv of a run whose time advances (>= 3 rows) with voltage and current; else None."""
    series = _read_csv(directory, "series.csv")
    needed = ("time_s", "voltage_V", "current_A")
    if series is None or any(c not in series for c in needed) or len(series["time_s"]) < 3:
        return None
    return series if np.ptp(series["time_s"]) > 0 else None


def _versus_time_with_voltage(directory: Path, name: str, what: str, series: dict,
                              columns: dict[str, str], quantity: str, unit: str) -> list[Path]:
    """Columns ({column: legend label}) against time, with V(t) dashed on a twin axis."""
    figure, (ax,) = _figure()
    t, t_label = scaled(series["time_s"], "time t", "s")
    factor, prefixed = si_prefix(np.concatenate([series[c] for c in columns]), unit)
    for column, label in columns.items():
        ax.plot(t, series[column] * factor, label=label, linewidth=1.4)
    ax.set(xlabel=t_label, ylabel=f"{quantity} ({prefixed})", title=_title(directory, what))
    twin = ax.twinx()
    v, v_label = scaled(series["voltage_V"], "voltage V", "V")
    twin.plot(t, v, label="voltage V", **_VOLTAGE_STYLE)
    twin.set_ylabel(v_label, color=_VOLTAGE_STYLE["color"])
    twin.tick_params(axis="y", colors=_VOLTAGE_STYLE["color"])
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return save(figure, directory, name)


# --- the plots -------------------------------------------------------------------------------

def plot_iv_loop(directory: Path) -> list[Path]:
    """iv_loop.png: I against V coloured by time (transients whose voltage varies), annotated
    with the lobe areas of loop_metrics.json when present."""
    series = _transient(directory)
    if series is None or not np.ptp(series["voltage_V"]) > 0:
        return []
    figure, (ax,) = _figure(height=4.8)
    v, v_label = scaled(series["voltage_V"], "voltage V", "V")
    i, i_label = scaled(series["current_A"], "current I", "A")
    t, t_label = scaled(series["time_s"], "time t", "s")
    points = np.column_stack([v, i])
    # matplotlib's stub asks for a Sequence; LineCollection documents an (N, 2, 2) array too
    segments = LineCollection(np.stack([points[:-1], points[1:]], axis=1),  # type: ignore[arg-type]
                              cmap="viridis", linewidth=1.6)
    segments.set_array(0.5 * (t[:-1] + t[1:]))
    ax.add_collection(segments)
    ax.autoscale_view()
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.axvline(0, color="0.6", linewidth=0.6)
    figure.colorbar(segments, ax=ax, label=t_label)
    ax.set(xlabel=v_label, ylabel=i_label, title=_title(directory, "current-voltage loop"))
    metrics = _read_json(directory, "loop_metrics.json")
    if metrics and "positive_lobe_area_W" in metrics and "negative_lobe_area_W" in metrics:
        text = (f"lobe areas: V>0 {format_si(metrics['positive_lobe_area_W'], 'W')}, "
                f"V<0 {format_si(metrics['negative_lobe_area_W'], 'W')}")
        if metrics.get("crossing_type"):
            text += f"\ncrossing: {metrics['crossing_type']}"
        ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", fontsize="small",
                bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.85})
    return save(figure, directory, "iv_loop")


def plot_conductance(directory: Path) -> list[Path]:
    """conductance.png: G(t) with V(t) on a twin axis (transients with a finite conductance)."""
    series = _transient(directory)
    if series is None or not np.any(np.isfinite(series.get("conductance_S", np.nan))):
        return []
    return _versus_time_with_voltage(directory, "conductance", "conductance", series,
                                     {"conductance_S": "conductance G"}, "conductance G", "S")


def plot_current(directory: Path) -> list[Path]:
    """current.png: I(t) with V(t) on a twin axis; the ionic current too when it differs from
    the total (electrode) current by more than 0.1 % of its peak (displacement current)."""
    series = _transient(directory)
    if series is None:
        return []
    columns = {"current_A": "current I"}
    total, ionic = series["current_A"], series.get("ionic_current_A")
    if ionic is not None and np.nanmax(np.abs(ionic - total)) > 1e-3 * np.nanmax(np.abs(total)):
        columns = {"current_A": "total current", "ionic_current_A": "ionic current"}
    return _versus_time_with_voltage(directory, "current", "current", series, columns,
                                     "current I", "A")


def plot_loop_area(directory: Path) -> list[Path]:
    """loop_area.png: loop area against drive frequency (log-log) from sweep.csv, the largest
    area marked when it lies inside the sweep (a bracketed peak)."""
    sweep = _read_csv(directory, "sweep.csv")
    if sweep is None or "frequency_Hz" not in sweep:
        return []
    area_column = "loop_area_W" if "loop_area_W" in sweep else next(
        (c for c in sweep if c.endswith("_area_W")), None)
    if area_column is None:
        return []
    f, area = sweep["frequency_Hz"], np.abs(sweep[area_column])
    keep = np.isfinite(f) & np.isfinite(area) & (f > 0) & (area > 0)
    if np.count_nonzero(keep) < 2:
        return []
    order = np.argsort(f[keep])
    f, area = f[keep][order], area[keep][order]
    figure, (ax,) = _figure()
    fs, f_label = scaled(f, "drive frequency f", "Hz")
    a, a_label = scaled(area, "loop area", "W")
    ax.loglog(fs, a, "o-", markersize=4)
    peak = int(np.argmax(a))
    if 0 < peak < len(a) - 1:
        ax.plot(fs[peak], a[peak], "*", color="C3", markersize=14,
                label=f"peak at {format_si(f[peak], 'Hz')}")
        ax.legend(loc="lower center")
    ax.set(xlabel=f_label, ylabel=a_label, title=_title(directory, "loop area vs frequency"))
    return save(figure, directory, "loop_area")


def plot_membrane_voltage(directory: Path) -> list[Path]:
    """membrane_voltage.png: membrane voltage against time with the spikes of spikes.csv marked,
    and the stimulus current in a panel below when the series has it."""
    candidates = (_read_csv(directory, name) for name in NEURON_SERIES)
    series = next((s for s in candidates
                   if s is not None and "membrane_voltage_V" in s and "time_s" in s), None)
    if series is None or len(series["time_s"]) < 2:
        return []
    stimulus = series.get("stimulus_current_A")
    figure, axes = _figure(rows=2 if stimulus is not None else 1,
                           height=5.6 if stimulus is not None else 4.2)
    factor_t, t_unit = si_prefix(series["time_s"], "s")
    factor_v, v_unit = si_prefix(series["membrane_voltage_V"], "V")
    axes[0].plot(series["time_s"] * factor_t, series["membrane_voltage_V"] * factor_v,
                 linewidth=1.0)
    what = "membrane voltage"
    spikes = _read_csv(directory, "spikes.csv")
    if spikes is not None and "time_s" in spikes and "peak_voltage_V" in spikes:
        count = len(spikes["time_s"])
        axes[0].plot(spikes["time_s"] * factor_t, spikes["peak_voltage_V"] * factor_v, "v",
                     color="C3", markersize=5, label="spike peaks")
        what += f" ({count} spike{'s' if count != 1 else ''})"
    axes[0].set(ylabel=f"membrane voltage V_m ({v_unit})", title=_title(directory, what))
    if stimulus is not None:
        i, i_label = scaled(stimulus, "stimulus I", "A")
        axes[1].plot(series["time_s"] * factor_t, i, color="C2", linewidth=1.0)
        axes[1].set_ylabel(i_label)
    axes[-1].set_xlabel(f"time t ({t_unit})")
    return save(figure, directory, "membrane_voltage")


def plot_fi_curve(directory: Path) -> list[Path]:
    """fi_curve.png: firing rate against stimulus current from fi_curve.csv."""
    curve = _read_csv(directory, "fi_curve.csv")
    if curve is None or "stimulus_A" not in curve or "rate_Hz" not in curve \
            or len(curve["stimulus_A"]) < 1:
        return []
    order = np.argsort(curve["stimulus_A"])
    figure, (ax,) = _figure()
    i, i_label = scaled(curve["stimulus_A"][order], "stimulus current I", "A")
    rate, rate_label = scaled(curve["rate_Hz"][order], "firing rate f", "Hz")
    ax.plot(i, rate, "o-", markersize=4)
    ax.set(xlabel=i_label, ylabel=rate_label, title=_title(directory, "f-I curve"))
    return save(figure, directory, "fi_curve")


def _profile_abscissa(profile: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """(label, values): the coordinate that varies along a profile when it is the only one
    (x, y or z), else the distance along the line."""
    varying = [a for a in ("x", "y", "z") if f"{a}_m" in profile and np.ptp(profile[f"{a}_m"]) > 0]
    if len(varying) == 1:
        return f"position {varying[0]}", profile[f"{varying[0]}_m"]
    return "distance s", profile["distance_m"]


def _slit_length(directory: Path) -> float | None:
    """The slit's length from the manifest (it spans 0 <= x <= length in every geometry)."""
    manifest = _read_json(directory, "manifest.json") or {}
    length = (manifest.get("parameters_si", {}).get("geometry") or {}).get("length")
    return float(length) if isinstance(length, (int, float)) else None


def plot_profile(directory: Path, name: str) -> list[Path]:
    """profile_<name>.png: potential (top) and concentrations (bottom, log-scaled when they span
    more than two decades) along profiles/<name>.csv; the slit (0 <= x <= length) is shaded."""
    profile = _read_csv(directory, f"profiles/{name}.csv")
    if profile is None or "potential_V" not in profile or len(profile["potential_V"]) < 2:
        return []
    species = {c[2:-len("_mol_per_m3")]: profile[c] for c in profile
               if c.startswith("c_") and c.endswith("_mol_per_m3")}
    figure, axes = _figure(rows=2 if species else 1, height=6.0 if species else 4.2)
    axis, coordinate = _profile_abscissa(profile)
    s_factor, s_unit = si_prefix(coordinate, "m")
    s = coordinate * s_factor
    phi, phi_label = scaled(profile["potential_V"], "potential φ", "V")
    axes[0].plot(s, phi, linewidth=1.4)
    axes[0].set(ylabel=phi_label, title=_title(directory, f"profile '{name}'"))
    if species:
        values = np.concatenate(list(species.values()))
        positive = values[np.isfinite(values) & (values > 0)]
        logarithmic = positive.size > 0 and positive.max() > 100 * positive.min()
        factor, c_unit = si_prefix(values, "mol/m³")
        for (label, c), style in zip(species.items(), itertools.cycle(["-", "--", ":", "-."])):
            axes[1].plot(s, c * factor, linestyle=style, linewidth=1.4, label=label)
        if logarithmic:
            axes[1].set_yscale("log")
        axes[1].set_ylabel(f"concentration c ({c_unit})")
        axes[1].legend(loc="best", fontsize="small")
    axes[-1].set_xlabel(f"{axis} ({s_unit})")
    length = _slit_length(directory)
    if axis == "position x" and length is not None:
        length *= s_factor
        for ax in axes:
            ax.axvspan(0.0, length, color="0.93", zorder=0)
        axes[0].text(0.5 * length, 0.97, "slit", transform=axes[0].get_xaxis_transform(),
                     ha="center", va="top", color="0.45", fontsize="small")
    return save(figure, directory, f"profile_{name}")


def plot_profiles(directory: Path) -> list[Path]:
    """profile_<name>.png for every profiles/<name>.csv."""
    folder = Path(directory) / "profiles"
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    return [p for path in paths for p in plot_profile(directory, path.stem)]


PLOTTERS = (plot_iv_loop, plot_conductance, plot_current, plot_loop_area, plot_membrane_voltage,
            plot_fi_curve, plot_profiles)


def plot_results(directory: Path, strict: bool = False) -> list[Path]:
    """Make every plot whose inputs exist in ``directory``; returns the PNG paths written.

    A plot that fails is logged as a warning and the others are still made; with ``strict`` a
    ``PlotError`` listing the failures is raised at the end. Call on rank 0 only."""
    directory = Path(directory)
    written, failures = [], []
    for plotter in PLOTTERS:
        try:
            written += plotter(directory)
        except Exception as error:  # one bad file must not cost the other plots
            failures.append(f"{plotter.__name__}: {type(error).__name__}: {error}")
            log.warning("plot failed: %s", failures[-1])
    if strict and failures:
        raise PlotError(failures, written)
    return written
