"""The two-slit memristive neuron with live PNP slits (cases/neuron_live.toml).

Its reduced counterpart is cases/neuron_reduced.toml: the same circuit with each live slit
replaced by the reduced memristor (reduced_model.json: g_inf(V) from steady solves, tau(V) from
exponential fits of the step responses) that the slit's own case (cases/sodium_slit.toml,
cases/potassium_slit.toml) writes; the committed model files are checked to be what those
cases write now. Checked:

- live vs reduced (the two case files as they are, 0.5 nA step): first-spike time and mean
  inter-spike interval within 10 %;
- the live neuron gives the same spike times on 1 and 2 ranks, to the integrator's tolerance;
- all-or-none: the live threshold of a 2 ms pulse, bracketed by bisection; half the lower end
  evokes nothing, 1.5x and 3x the upper end evoke spikes whose peaks differ by < 10 %;
- tonic firing whose rate grows with the stimulus (0.5 -> 1 nA), and a refractory period (a
  second pulse 6 ms after the first fails, one 40 ms after succeeds).

Every run here is a separate ``ionslit run`` (as users run it); runs that do not depend on each
other go two at a time (two cores).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CASES, run_ionslit

from ionslit.output import read_csv

pytestmark = pytest.mark.slow  # ~3 min: two step cases, ~15 live neuron runs of 15-100 ms

LIVE_CASE = CASES / "neuron_live.toml"
REDUCED_CASE = CASES / "neuron_reduced.toml"
BRANCH_CASES = {"sodium_slit.toml": CASES / "sodium_slit.toml",
                "potassium_slit.toml": CASES / "potassium_slit.toml"}
# slit case -> its reduced model as cases/neuron_reduced.toml uses it
COMMITTED_MODELS = {"sodium_slit.toml": CASES / "neuron" / "sodium_slit_reduced_model.json",
                    "potassium_slit.toml": CASES / "neuron" / "potassium_slit_reduced_model.json"}
PULSE_WIDTH = "2 ms"  # long against the membrane's ~us charging, short against the 15 ms tau_K


def neuron_text(stimulus: str | None = None, duration: str | None = None) -> str:
    """cases/neuron_live.toml with its slits referenced by absolute path, and optionally another
    stimulus (an inline TOML table) and duration."""
    text = LIVE_CASE.read_text()
    for name, path in BRANCH_CASES.items():
        text = text.replace(f'slit = "{name}"', f'slit = "{path}"')
    if stimulus is not None:
        text = re.sub(r"(?m)^stimulus = .*$", f"stimulus = {stimulus}", text)
    if duration is not None:
        text = re.sub(r'(?m)^duration = ".*"$', f'duration = "{duration}"', text)
    return text


def pulse(current_pA: float, start: str = "1 ms", period: str | None = None) -> str:
    train = f', period = "{period}", count = 2' if period else ""
    kind = "pulse_train" if period else "pulse"
    return (f'{{ kind = "{kind}", current = "{current_pA:.6g} pA", start = "{start}", '
            f'width = "{PULSE_WIDTH}"{train} }}')


def run_neuron(directory, case: str | Path, ranks: int = 1) -> dict[str, np.ndarray]:
    """Run ``case`` (a case file, or a case's text, written to ``directory``) with its results
    in ``directory``; its spikes.csv columns (empty arrays if none)."""
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(case, str):
        (directory / "case.toml").write_text(case)
        case = directory / "case.toml"
    done = run_ionslit("run", str(case), "-o", str(directory / "out"), ranks=ranks)
    return spikes_of((done, directory / "out"))


def spikes_of(run) -> dict[str, np.ndarray]:
    """The spikes.csv columns (empty arrays if none) of a finished ``ionslit run``: (process,
    results directory)."""
    done, out = run
    assert done.returncode == 0, done.stderr[-3000:]
    spikes = read_csv(out / "spikes.csv")
    return {key: np.atleast_1d(np.asarray(spikes.get(key, []), dtype=float))
            for key in ("time_s", "peak_voltage_V")}


def in_pairs(*jobs):
    """Run the zero-argument callables ``jobs`` two at a time; their results in order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def mean_interval(times: np.ndarray) -> float:
    return float(np.mean(np.diff(times)))


# Bounds of the reduced-model check, from what the slit cases resolve. Measured by re-running
# each case with a 4x smaller [solver] max_step (--set solver.max_step=..., the time-integration
# error of the step responses that are fitted), with Newton tightened from snes_rtol 1e-8 to
# 1e-11 (--petsc), and on 2 ranks (another LU ordering: round-off alone):
# - voltage_V: the case's [analysis] grid, an input: exact;
# - g_inf_S: steady solves (no time stepping): Newton 1e-11 moves them by <= 6e-11, 2 ranks by
#   1e-14; bound 1e-8;
# - tau_s: exponential fits of adaptive transients, whose step sequence follows Newton iteration
#   counts, so round-off on another processor can change it (a fresh clone on another machine
#   wrote tau 4.9e-9 off; 2 ranks 6e-9). Sodium slit: max_step 0.02 -> 0.005 ms moves tau by
#   <= 3.0 % at the levels 20-90 V and 9.9 % at 100 V and beyond (the 100 V level, whose four
#   step fits spread by 55 %, extrapolated as a constant), Newton 1e-11 by <= 1.3 %; potassium
#   slit: max_step 0.5 -> 0.125 ms by <= 0.13 %, Newton by 2e-6. Bounds: twice the largest
#   move, rounded up: 6 % (sodium below 100 V), 20 % (sodium at |V| >= 100 V), 0.5 % (potassium).
TAU_RTOL = {"sodium_slit.toml": lambda v: np.where(np.abs(v) < 100.0, 0.06, 0.20),
            "potassium_slit.toml": lambda v: np.full_like(v, 0.005)}
G_INF_RTOL = 1e-8


def test_reduced_models_are_what_the_slit_cases_write(case_results):
    """The tables of cases/neuron/*_slit_reduced_model.json are the reduced_model.json that the
    slit cases write when run now, to what the cases resolve (bounds above), so the reduced
    neuron stays the live one's counterpart. (The runs are the session's runs of the two cases,
    shared with the output-contract test.)"""

    def steps(name):
        done, out = case_results(BRANCH_CASES[name])
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads((out / "reduced_model.json").read_text())

    written = dict(zip(BRANCH_CASES, in_pairs(*[lambda n=n: steps(n) for n in BRANCH_CASES]), strict=True))
    for name, path in COMMITTED_MODELS.items():
        committed = json.loads(path.read_text())
        voltage = np.asarray(committed["voltage_V"], dtype=float)
        np.testing.assert_array_equal(voltage, written[name]["voltage_V"],
                                      err_msg=f"{path.name}: voltage_V")
        np.testing.assert_allclose(committed["g_inf_S"], written[name]["g_inf_S"],
                                   rtol=G_INF_RTOL, atol=0, err_msg=f"{path.name}: g_inf_S")
        tau = np.asarray(written[name]["tau_s"], dtype=float)
        off = np.abs(tau / np.asarray(committed["tau_s"], dtype=float) - 1.0)
        bound = TAU_RTOL[name](voltage)
        assert np.all(off <= bound), (f"{path.name}: tau_s off by {off.max():.3g} relative at "
                                      f"{voltage[np.argmax(off / bound)]} V")


def test_live_neuron_fires_like_its_reduced_model(case_results):
    """cases/neuron_live.toml and cases/neuron_reduced.toml, both as they are (0.5 nA from 2 ms,
    100 ms; the session's runs of the two cases, 1 rank). Measured: live 5 spikes, first at
    2.254 ms, mean interval 22.99 ms; reduced 5 spikes, first at 2.167 ms, mean interval
    21.64 ms: 4.0 % and 6.2 %. The live slits are less excitable: they also carry the charging
    current of their space charge (the latency after the onset is 254 vs 167 us) and closer to
    the rheobase the difference grows (0.3 nA: intervals 30.1 vs 26.3 ms, 14 %). Bound: 10 %,
    the agreement a reduced model fitted from step responses is asked to keep."""
    live, reduced = (spikes_of(case_results(case)) for case in (LIVE_CASE, REDUCED_CASE))
    print(f"live: {live['time_s']}, reduced: {reduced['time_s']}")
    assert live["time_s"].size >= 4 and reduced["time_s"].size >= 4
    assert live["time_s"][0] == pytest.approx(reduced["time_s"][0], rel=0.10)
    assert mean_interval(live["time_s"]) == pytest.approx(mean_interval(reduced["time_s"]),
                                                          rel=0.10)


def test_live_neuron_spike_times_on_one_and_two_ranks(tmp_path):
    """1 and 2 ranks solve each slit serially, with the same circuit steps (same accepted,
    rejected and failed counts); their voltages differ first at round-off (1e-15 relative at
    2 ms), and the circuit's Newton tolerance (1 % of the local error tolerance) and the slits'
    chord iterations carry such differences on at tolerance level, which the slow approach to
    threshold amplifies. Measured (30 ms): first spike equal to 1e-15 s, second 25.844 vs
    25.857 ms (12.7 us), while tightening rtol from 1e-4 to 2e-5 moves it by 18 us. Bound: the
    ranks' difference stays within twice that time-integration error (and the first spike
    within 1e-9 s): the same spike times to the integrator's tolerance."""
    text = neuron_text(duration="30 ms")
    tight = text.replace("rtol = 1e-4", "rtol = 2e-5")
    assert tight != text
    one, finer = in_pairs(lambda: run_neuron(tmp_path / "one", text),
                          lambda: run_neuron(tmp_path / "finer", tight))
    two = run_neuron(tmp_path / "two", text, ranks=2)
    print(f"1 rank: {one['time_s']}, 2 ranks: {two['time_s']}, rtol 2e-5: {finer['time_s']}")
    assert one["time_s"].size == two["time_s"].size == finer["time_s"].size >= 2
    assert abs(two["time_s"][0] - one["time_s"][0]) < 1e-9
    integration_error = np.max(np.abs(finer["time_s"] - one["time_s"]))
    assert np.max(np.abs(two["time_s"] - one["time_s"])) <= 2.0 * integration_error


def test_live_neuron_all_or_none(tmp_path):
    """Live threshold of a 2 ms pulse by bisection in [40, 160] pA (the reduced neuron's is
    40.5 pA; the live one lies between 61 and 121 pA: less excitable, see above), to 1/8 of
    the bracket (measured: in [92.5, 100] pA with 4 halvings); then half the lower end gives no
    spike and 1.5x and 3x the upper end give one spike each, with peaks within 10 % (measured:
    18.13 and 19.38 V, 6.4 %)."""
    lower, upper = 40.0, 160.0

    def spikes_at(current, name):
        return run_neuron(tmp_path / name, neuron_text(pulse(current), "15 ms"))

    at_lower, at_upper = in_pairs(lambda: spikes_at(lower, "lower"),
                                  lambda: spikes_at(upper, "upper"))
    assert at_lower["time_s"].size == 0 and at_upper["time_s"].size == 1
    for k in range(3):
        middle = 0.5 * (lower + upper)
        if spikes_at(middle, f"bisect{k}")["time_s"].size:
            upper = middle
        else:
            lower = middle
    below, above, far = in_pairs(lambda: spikes_at(0.5 * lower, "below"),
                                 lambda: spikes_at(1.5 * upper, "above"),
                                 lambda: spikes_at(3.0 * upper, "far"))
    print(f"threshold in [{lower}, {upper}] pA; peaks {above['peak_voltage_V']} V at 1.5x, "
          f"{far['peak_voltage_V']} V at 3x")
    assert below["time_s"].size == 0
    assert above["time_s"].size == 1 and far["time_s"].size == 1
    peaks = above["peak_voltage_V"][0], far["peak_voltage_V"][0]
    assert abs(peaks[1] - peaks[0]) < 0.10 * max(peaks)


def test_live_neuron_tonic_rate_grows_and_refractory_period(tmp_path):
    """Tonic: 0.5 and 1 nA steps from 2 ms, 50 ms: the mean inter-spike interval shortens
    (measured ~23 and ~15 ms). Refractory: two 2 ms pulses of 0.3 nA (> 2x the live threshold)
    6 ms apart evoke one spike, 40 ms apart two."""
    step = '{{ kind = "step", current = "{}", start = "2 ms" }}'
    weak, strong, close, apart = in_pairs(
        lambda: run_neuron(tmp_path / "weak", neuron_text(step.format("0.5 nA"), "50 ms")),
        lambda: run_neuron(tmp_path / "strong", neuron_text(step.format("1 nA"), "50 ms")),
        lambda: run_neuron(tmp_path / "close", neuron_text(pulse(300.0, period="6 ms"), "15 ms")),
        lambda: run_neuron(tmp_path / "apart", neuron_text(pulse(300.0, period="40 ms"),
                                                           "50 ms")))
    print(f"tonic: {weak['time_s']} (0.5 nA), {strong['time_s']} (1 nA); pulses 6 ms apart: "
          f"{close['time_s']}, 40 ms apart: {apart['time_s']}")
    assert weak["time_s"].size >= 2 and strong["time_s"].size >= 3
    assert mean_interval(strong["time_s"]) < 0.9 * mean_interval(weak["time_s"])
    assert close["time_s"].size == 1
    assert apart["time_s"].size == 2
