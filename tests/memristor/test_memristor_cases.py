"""Issue-4 acceptance on the real PDE memristor cases (cases/memristor_sine.toml,
memristor_sweep.toml, memristor_steps.toml), run with ``ionslit run`` in a fresh process as users
run them, each once per module (module-scoped fixtures):

1. sine: the loop is pinched (pinch ratio < 1e-3, from loop_metrics.json and again from
   series.csv) and its crossing type is the one the case describes (unipolar: both lobes
   counterclockwise, G responds to |V|);
2. sweep: the loop area against frequency (sweep.csv) has exactly one maximum, inside the sweep;
3. the memory times of the sweep (area maximum) and of the steps (reduced model) agree within
   30 %;
4. the reduced model of the steps (reduced_model.json) reproduces the PDE loop areas of the sweep
   within 10 % at the area maximum and a factor 10^(2/3) = 4.6 on each side;
5. G(80 V) / G(0 V) >= 5;
6. the sine case gives the same currents on 1 and 2 MPI ranks.

Measured wall times of ``ionslit run`` (1 rank unless said, shared 2-core machine, low load):
sine 6 s, sine on 2 ranks 12 s, steps 20 s, sweep 30 s. The sweep (already a SLOW_CASE of
tests/verification/test_cases_run.py) is needed by items 2-4 only: those tests are marked
``slow``; the others (sine on 1 and 2 ranks, steps: ~35 s) run in ``scripts/test.sh --quick``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CASES, run_ionslit

from ionslit.case import load_case
from ionslit.coupling.memristor import ReducedModel, cycle_metrics, plateaus, sine_cycle
from ionslit.output import read_csv

AMPLITUDE_V = 80.0  # the drive amplitude of all three cases (checked in the fixtures)


def run_case(name: str, factory: pytest.TempPathFactory, ranks: int = 1) -> Path:
    """``ionslit run cases/<name>.toml`` into a fresh directory; the results directory."""
    work = factory.mktemp(f"{name}_{ranks}rank")
    out = work / "results"
    result = run_ionslit("run", str(CASES / f"{name}.toml"), "--output", str(out), ranks=ranks,
                         cwd=work, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((out / "manifest.json").read_text())["status"] == "ok"
    return out


def floats(table: dict, column: str) -> np.ndarray:
    return np.asarray(table[column], dtype=float)


def metrics(directory: Path) -> dict:
    return json.loads((directory / "loop_metrics.json").read_text())


@pytest.fixture(scope="module")
def sine(tmp_path_factory) -> Path:
    return run_case("memristor_sine", tmp_path_factory)


@pytest.fixture(scope="module")
def sine_two_ranks(tmp_path_factory) -> Path:
    return run_case("memristor_sine", tmp_path_factory, ranks=2)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    return run_case("memristor_sweep", tmp_path_factory)


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> Path:
    return run_case("memristor_steps", tmp_path_factory)


@pytest.fixture(scope="module")
def reduced(steps) -> ReducedModel:
    return ReducedModel.load(steps / "reduced_model.json")


def sweep_table(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frequency_Hz, loop_area_W) of sweep.csv in increasing frequency."""
    table = read_csv(directory / "sweep.csv")
    f, area = floats(table, "frequency_Hz"), floats(table, "loop_area_W")
    order = np.argsort(f)
    return f[order], area[order]


# -- 1. the sine loop is pinched, with the crossing type the case describes -------------------
def test_sine_loop_is_pinched_and_unipolar(sine):
    case = load_case(CASES / "memristor_sine.toml").case
    assert case.protocol.amplitude == AMPLITUDE_V
    # bound 1e-3 of max |I|: an ideal memristor has I = 0 at V = 0; what the PDE adds there
    # is the displacement current of the slit's capacitance, measured 1.4e-5 of max |I| at 25 Hz
    # (it grows like f: 1e-3 would be reached near 1 kHz).
    written = metrics(sine)
    assert written["pinch_ratio"] < 1e-3, written["pinch_ratio"]
    # The case's header: fields of either sign break pairs (g_inf depends on |V|), so both lobes
    # are counterclockwise and touch at the origin: "unipolar".
    assert written["crossing_type"] == "unipolar"
    assert written["positive_lobe_orientation"] == "counterclockwise"
    assert written["crossings_off_origin"] == 0

    # Again from series.csv alone (no project analysis code): the last period of the drive.
    series = read_csv(sine / "series.csv")
    t, v, i = floats(series, "time_s"), floats(series, "voltage_V"), floats(series, "current_A")
    period = 1.0 / case.protocol.frequency
    t_end = case.protocol.cycles * period
    assert t[-1] == pytest.approx(t_end, rel=1e-9)
    last = t >= t_end - period - 1e-12 * period
    t, v, i = t[last], v[last], i[last]
    assert v[0] == pytest.approx(0.0, abs=1e-9 * AMPLITUDE_V)  # the period starts at V = 0
    # V = 0 crossings: samples at V = 0 (|V| < 1e-9 V0) and sign changes between samples, where
    # I is interpolated linearly (I ~ G V is linear in V there: the interpolation error is the
    # change of G over one step times V, far below the 1e-3 bound).
    zero = np.abs(v) < 1e-9 * AMPLITUDE_V
    v = np.where(zero, 0.0, v)
    crossings_t, crossings_i = list(t[zero]), list(i[zero])
    change = np.flatnonzero(v[:-1] * v[1:] < 0)
    w = -v[change] / (v[change + 1] - v[change])
    crossings_t += list(t[change] + w * (t[change + 1] - t[change]))
    crossings_i += list(i[change] + w * (i[change + 1] - i[change]))
    order = np.argsort(crossings_t)
    crossings_t, crossings_i = np.asarray(crossings_t)[order], np.asarray(crossings_i)[order]
    # the start, the middle and the end of the period (a sine crosses zero every half period)
    assert crossings_t == pytest.approx(t_end - period + period / 2 * np.arange(3),
                                        abs=1e-6 * period)
    pinch = float(np.max(np.abs(crossings_i)) / np.max(np.abs(i)))
    assert pinch < 1e-3, pinch
    # the crossing type from the series: the signed (shoelace, counterclockwise > 0) areas of the
    # V > 0 and V < 0 halves, each closed along V = 0
    lobe_areas = []
    for start, stop in zip(crossings_t[:-1], crossings_t[1:], strict=True):
        inside = (t > start) & (t < stop)
        vv = np.concatenate([[0.0], v[inside], [0.0]])
        ii = np.concatenate([[np.interp(start, t, i)], i[inside], [np.interp(stop, t, i)]])
        lobe_areas.append(0.5 * float(np.dot(vv, np.roll(ii, -1)) - np.dot(np.roll(vv, -1), ii)))
    assert lobe_areas[0] > 0 and lobe_areas[1] > 0, lobe_areas  # both counterclockwise
    # A symmetric slit at its periodic state: the two lobes are mirror images (5 % allows for
    # what is left of the start from the 0 V steady state after one period: exp(-T / tau) with
    # T = 40 ms, tau <= 6 ms, is 1e-3; measured 3e-5).
    assert lobe_areas[0] == pytest.approx(lobe_areas[1], rel=0.05)
    # the written loop area is the sum of the two simple lobes (same polygons: 1e-6 covers the
    # interpolation of the end points)
    assert written["total_area_W"] == pytest.approx(sum(lobe_areas), rel=1e-6)


# -- 2. one maximum of the loop area, inside the sweep -----------------------------------------
@pytest.mark.slow
def test_sweep_area_has_one_interior_maximum(sweep):
    f, area = sweep_table(sweep)
    assert f.size >= 5 and np.all(area > 0)
    local_maxima = [k for k in range(f.size)
                    if (k == 0 or area[k] > area[k - 1])
                    and (k == f.size - 1 or area[k] > area[k + 1])]
    assert len(local_maxima) == 1, [f[k] for k in local_maxima]
    assert 0 < local_maxima[0] < f.size - 1, f[local_maxima[0]]
    written = metrics(sweep)
    assert written["interior_maxima_Hz"] == [pytest.approx(f[local_maxima[0]], rel=1e-12)]
    # the parabola's vertex lies between the neighbours of the largest sample
    assert f[local_maxima[0] - 1] < written["peak_frequency_Hz"] < f[local_maxima[0] + 1]


# -- 3. memory time: sweep against steps -------------------------------------------------------
@pytest.mark.slow
def test_memory_times_of_sweep_and_steps_agree(sweep, steps):
    # The sweep's tau = 1 / (4 pi f_peak) (k = 1/2, exact for a constant tau and an even
    # g_inf); the steps' tau is 1 / <1 / tau(V(t))> of the fitted tau(V) over an 80 V sine. With
    # tau varying 3.5x over the cycle (1.6 ms at 80 V, 5.6 ms at 8 V) the two definitions differ
    # by ~10-20 % even for a perfect single-time-constant device; bound 30 %.
    # Measured: sweep 3.02 ms, steps 2.62 ms (ratio 1.15).
    tau_sweep = metrics(sweep)["memory_time_s"]
    tau_steps = metrics(steps)["memory_time_s"]
    assert tau_sweep is not None and tau_steps is not None
    assert 1e-3 < tau_sweep < 1e-2 and 1e-3 < tau_steps < 1e-2  # "a few ms"
    assert max(tau_sweep, tau_steps) / min(tau_sweep, tau_steps) <= 1.3, (tau_sweep, tau_steps)


# -- 4. the reduced model reproduces the PDE loop areas -----------------------------------------
# Measured (sweep.csv loop_area_W against the periodic state of reduced_model.json):
#   5.39 Hz: PDE 5.335e-10 W, model 4.903e-10 W (-8.1 %)
#   25.0 Hz: PDE 1.126e-09 W, model 1.221e-09 W (+8.4 %)   (the sample at the maximum)
#   116 Hz:  PDE 5.707e-10 W, model 5.782e-10 W (+1.3 %)
# Bound: 10 %. What the model leaves out is the PDE conductance that is not
# the memory state: the space-charge-limited current of Ca injected by the contacts, which
# follows V at once. It scales as E / L^2 at a given field: with the 1 um slit used before it
# doubled G within 1 us of a 0 -> 40 V step and the model missed the area by 17 % at the
# maximum; the 2 um slit of the cases brings it to 8 %.


@pytest.mark.slow
@pytest.mark.parametrize("offset", [pytest.param(-2, id="below"), pytest.param(0, id="peak"),
                                    pytest.param(2, id="above")])
def test_reduced_model_reproduces_the_pde_loop_areas(sweep, reduced, offset):
    f, area = sweep_table(sweep)
    peak = int(np.argmax(area))
    # 3 points per decade: 2 samples away is a factor 10^(2/3) = 4.6 in frequency
    assert 0 <= peak + offset < f.size
    frequency, pde_area = f[peak + offset], area[peak + offset]
    # the periodic state of the model (exact, no transient); 1000 steps per period: the area
    # changes by 2e-5 between 1000 and 4000 steps
    _, v, _, i = sine_cycle(reduced, frequency, AMPLITUDE_V, n_steps=1000)
    model_area = cycle_metrics(v, i)["total_area_W"]
    assert model_area == pytest.approx(pde_area, rel=0.10), (frequency, pde_area, model_area)


# -- 5. conductance ratio ---------------------------------------------------------------------
def test_conductance_ratio_at_least_five(steps, reduced):
    case = load_case(CASES / "memristor_steps.toml").case
    assert max(case.protocol.voltages) == AMPLITUDE_V
    # the reduced model's g_inf (steady PNP solves; at 0 V its small-voltage limit):
    # measured 8.5e-14 S -> 6.2e-13 S, 7.2x; required: a conductance ratio of at least 5,
    # a memristor whose states are well apart.
    g0, g80 = float(reduced.g_inf(0.0)), float(reduced.g_inf(AMPLITUDE_V))
    assert g80 / g0 >= 5.0, (g0, g80)
    assert metrics(steps)["conductance_ratio"] == pytest.approx(
        float(np.max(reduced.g_inf_S) / np.min(reduced.g_inf_S)), rel=1e-12)
    # The transient itself (series.csv, no steady solve): G = I/V at the end of the first 80 V
    # plateau and of the 8 V plateau (both relaxed: 20 ms = 12 tau at 80 V, 100 ms = 18 tau at
    # 8 V). g_inf grows with |V|, so G(80 V) / G(8 V) is a lower bound of G(80 V) / G(0 V).
    series = read_csv(steps / "series.csv")
    t, v, i = floats(series, "time_s"), floats(series, "voltage_V"), floats(series, "current_A")
    ends = {}
    for _first, last in plateaus(t, v):
        ends.setdefault(round(float(v[last]), 6), i[last] / v[last] if v[last] else math.nan)
    assert ends[80.0] / ends[8.0] >= 5.0, ends
    # ... and they are the steady solves' values: after 12 and 18 tau what is left of the
    # relaxation is < 1e-5 of the change, the rest is solver tolerance (measured 1e-5, 5e-4)
    assert ends[80.0] == pytest.approx(g80, rel=1e-3)
    assert ends[8.0] == pytest.approx(float(reduced.g_inf(8.0)), rel=1e-3)


# -- 6. 1 and 2 ranks --------------------------------------------------------------------------
def test_sine_same_currents_on_one_and_two_ranks(sine, sine_two_ranks):
    one, two = read_csv(sine / "series.csv"), read_csv(sine_two_ranks / "series.csv")
    assert list(one) == list(two)
    # the adaptive steps are taken from Newton iteration counts: the same steps on both
    assert floats(one, "time_s") == pytest.approx(floats(two, "time_s"), rel=1e-12, abs=0)
    columns = [c for c in one if "current" in c]
    assert "current_A" in columns and len(columns) >= 2
    for column in columns:
        a, b = floats(one, column), floats(two, column)
        # relative to max |I| (at t = 0 the current is a round-off 1e-29 A): 2 ranks change only
        # the order of floating-point sums in assembly and solve, measured 4e-15 of max |I|;
        # 1e-8 is far above that and far below any partition error (a ghost or ownership bug
        # shows at 1e-3 or more).
        scale = float(np.max(np.abs(a)))
        assert scale > 0
        assert float(np.max(np.abs(a - b))) <= 1e-8 * scale, column
