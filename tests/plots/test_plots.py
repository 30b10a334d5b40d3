"""ionslit.plots and ``ionslit plot DIR`` on small synthetic results directories."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_ionslit
from matplotlib.image import imread

from ionslit.output import atomic_write_csv, atomic_write_json
from ionslit.plots import PlotError, format_si, plot_results, si_prefix

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_manifest(directory: Path, name: str, protocol: dict, status: str = "ok") -> None:
    atomic_write_json(directory / "manifest.json", {
        "status": status, "reason": "",
        "case": {"name": name},
        "parameters_si": {"geometry": {"kind": "slit", "length": 100e-9, "height": 10e-9},
                          "protocol": protocol},
    })


def write_profile(directory: Path, span_decades: float) -> None:
    x = np.linspace(-100e-9, 200e-9, 61)
    inside = (x > 0) & (x < 100e-9)
    atomic_write_csv(directory / "profiles" / "axis.csv", {
        "x_m": x, "y_m": np.zeros_like(x), "distance_m": x - x[0],
        "potential_V": np.interp(x, [-100e-9, 0, 100e-9, 200e-9], [0.05, 0.045, 0.005, 0.0]),
        "c_K_mol_per_m3": np.where(inside, 100 * 10 ** span_decades, 100.0),
        "c_Cl_mol_per_m3": np.where(inside, 100 / 10 ** span_decades, 100.0),
    })


def series_columns(t, v, g, tau_rc=0.0) -> dict:
    i = g * v
    displacement = tau_rc * np.gradient(v, t) * g if tau_rc else 0.0 * v
    return {"time_s": t, "voltage_V": v, "current_A": i + displacement,
            "current_right_A": i + displacement, "ionic_current_A": i, "ionic_current_right_A": i,
            "conductance_S": np.where(np.abs(v) > 1e-6,
                                      (i + displacement) / np.where(v == 0, 1, v), np.nan),
            "amount_K_mol": np.full_like(t, 1e-19),
            "mean_concentration_K_mol_m3": np.full_like(t, 10.0), "mean_field_V_m": v / 100e-9}


@pytest.fixture
def steady_dir(tmp_path):
    directory = tmp_path / "steady"
    write_manifest(directory, "steady_slit", {"kind": "steady", "voltage": 0.05})
    atomic_write_csv(directory / "series.csv", series_columns(np.zeros(1), np.full(1, 0.05),
                                                              np.full(1, 2e-9)))
    write_profile(directory, span_decades=0.2)
    return directory


@pytest.fixture
def sine_dir(tmp_path):
    directory = tmp_path / "sine"
    write_manifest(directory, "memristor_sine",
                   {"kind": "sine", "amplitude": 1.0, "frequency": 100.0})
    t = np.linspace(0, 0.02, 401)
    v = np.sin(2 * np.pi * 100 * t)
    g = 1e-10 * (1 + 0.5 * np.sin(2 * np.pi * 100 * t - 1.0) ** 2)  # a lagging conductance
    atomic_write_csv(directory / "series.csv", series_columns(t, v, g, tau_rc=1e-4))
    atomic_write_json(directory / "loop_metrics.json", {
        "positive_lobe_area_W": 3.2e-13, "negative_lobe_area_W": -3.1e-13, "total_area_W": 6.3e-13,
        "crossing_type": "bipolar"})
    write_profile(directory, span_decades=2.5)  # log-scaled concentrations
    return directory


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def check_plots(directory: Path, written, expected: set[str]) -> None:
    assert {p.name for p in written} == expected
    assert all(p.parent == directory / "plots" for p in written)
    assert {p.name for p in (directory / "plots").iterdir()} == expected  # no temporary files
    for path in written:
        width, height = png_size(path)
        assert 600 <= width <= 2000 and 400 <= height <= 2000, (path.name, width, height)
        assert path.stat().st_size > 10_000


def test_si_prefix():
    assert si_prefix([2e-9, -5e-9], "A") == (pytest.approx(1e9), "nA")
    assert si_prefix([0.5], "V") == (pytest.approx(1e3), "mV")
    assert si_prefix([1.0, np.nan], "V") == (1.0, "V")
    assert si_prefix([0.9997], "V") == (1.0, "V")  # not "999.7 mV"
    assert si_prefix([990.0], "Hz") == (1.0, "Hz")
    assert si_prefix([1.2e3], "Hz") == (pytest.approx(1e-3), "kHz")
    assert si_prefix([0.0, np.nan], "S") == (1.0, "S")
    assert si_prefix([1e-30], "W")[1] == "fW"  # clamped to the smallest prefix
    assert format_si(1.234e-12, "W") == "1.23 pW"


def test_steady_run_has_only_its_profile(steady_dir):
    check_plots(steady_dir, plot_results(steady_dir, strict=True), {"profile_axis.png"})


def test_sine_transient(sine_dir):
    written = plot_results(sine_dir, strict=True)
    check_plots(sine_dir, written,
                {"iv_loop.png", "conductance.png", "current.png", "profile_axis.png"})
    image = imread(sine_dir / "plots" / "iv_loop.png")
    assert image.ndim == 3 and image.shape[0] > 400 and np.ptp(image[..., :3]) > 0.5


def test_constant_voltage_transient_has_no_loop(tmp_path):
    directory = tmp_path / "step"
    write_manifest(directory, "step", {"kind": "step"})
    t = np.linspace(0, 1e-3, 50)
    atomic_write_csv(directory / "series.csv",
                     series_columns(t, np.full_like(t, 0.2), 1e-9 * (2 - np.exp(-t / 2e-4))))
    check_plots(directory, plot_results(directory, strict=True), {"conductance.png", "current.png"})


def test_sweep(tmp_path):
    directory = tmp_path / "sweep"
    write_manifest(directory, "sweep", {"kind": "sine"})
    f = np.logspace(1, 5, 9)
    wtau = 2 * np.pi * f * 1e-4
    atomic_write_csv(directory / "sweep.csv",
                     {"frequency_Hz": f, "loop_area_W": 1e-12 * wtau / (1 + wtau**2),
                      "conductance_ratio": 1 + 0.1 * wtau / (1 + wtau**2)})
    check_plots(directory, plot_results(directory, strict=True), {"loop_area.png"})


@pytest.mark.parametrize("series_name", ["circuit.csv", "series.csv"])
def test_neuron_run(tmp_path, series_name):
    directory = tmp_path / "neuron"
    write_manifest(directory, "neuron", {"kind": "pulse_train"})
    t = np.linspace(0, 0.05, 2001)
    spike_times = np.array([0.012, 0.027, 0.042])
    vm = -0.065 + 0.1 * sum(np.exp(-((t - s) / 4e-4) ** 2) for s in spike_times)
    stimulus = np.where(t > 0.01, 2e-10, 0.0)
    atomic_write_csv(directory / series_name, {
        "time_s": t, "membrane_voltage_V": vm, "stimulus_current_A": stimulus,
        "memristor_current_A": 1e-10 * np.sin(t * 400)})
    atomic_write_csv(directory / "spikes.csv",
                     {"time_s": spike_times, "peak_voltage_V": np.full(3, 0.035)})
    atomic_write_json(directory / "spike_metrics.json", {"count": 3, "rate_Hz": 66.7})
    atomic_write_csv(directory / "fi_curve.csv",
                     {"stimulus_A": np.linspace(0, 5e-10, 11),
                      "rate_Hz": np.maximum(0, np.linspace(-50, 200, 11))})
    check_plots(directory, plot_results(directory, strict=True),
                {"membrane_voltage.png", "fi_curve.png"})


def test_a_bad_file_costs_only_its_plot(sine_dir, caplog):
    (sine_dir / "series.csv").write_text("time_s,voltage_V,current_A\n0,1,oops\n1,2,3\n2,3,4\n")
    written = plot_results(sine_dir)
    assert {p.name for p in written} == {"profile_axis.png"}
    assert "plot failed" in caplog.text
    with pytest.raises(PlotError) as error:
        plot_results(sine_dir, strict=True)
    assert [p.name for p in error.value.written] == ["profile_axis.png"]


def test_cli_plot_regenerates(sine_dir, tmp_path):
    result = run_ionslit("plot", str(sine_dir), timeout=120)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (sine_dir / "plots").iterdir()} == \
        {"iv_loop.png", "conductance.png", "current.png", "profile_axis.png"}
    (tmp_path / "not_results").mkdir()
    result = run_ionslit("plot", str(tmp_path / "not_results"), timeout=120)
    assert result.returncode == 2
    assert "manifest.json" in result.stderr
    assert not (tmp_path / "not_results" / "plots").exists()
