"""Checkpoint/restart of neuron (circuit) runs: runs killed with SIGKILL after a
checkpoint and continued with ``ionslit run CASE --restart DIR`` give the series.csv and
spikes.csv of the uninterrupted run within 1e-10 (measured: identical files, as the integrator,
its providers and the spike detector continue bit for bit); SIGTERM writes a checkpoint, records
status ``interrupted`` and exits with 143; a restart skips the analyses already done.

Circuits: the two reduced memristors of cases/neuron_reduced.toml (its model files), the
Hodgkin-Huxley membrane of cases/hh_squid.toml and a live PNP slit (the small slit of
checkpoint_helpers), each shortened. The runs go through neuron_run_driver.py, which leaves out
the plots and interrupts them deterministically (see there)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from checkpoint_helpers import (
    CASE,
    RTOL,
    environment,
    manifest,
    series_difference,
    signal_job,
    wait_for_checkpoint,
    write_case,
)
from cli_helpers import CASES, MPIRUN

from ionslit.output import read_csv

EXIT_INTERRUPTED, EXIT_KILLED = 143, -signal.SIGKILL
DRIVER = Path(__file__).with_name("neuron_run_driver.py")

# The reduced-memristor neuron of cases/neuron_reduced.toml over 40 ms under 1 nA (3 spikes,
# ~1400 steps), without its analyses; a checkpoint every 500 steps.
REDUCED = f"""
name = "reduced_neuron"
[circuit]
capacitance = "0.445 fF"
duration = "40 ms"
stimulus = {{ kind = "step", current = "1 nA", start = "5 ms" }}
[[circuit.branches]]
name = "sodium_like"
battery = "48.1 V"
count = 5
reduced = "{CASES / 'neuron' / 'sodium_slit_reduced_model.json'}"
[[circuit.branches]]
name = "potassium_like"
battery = "-104.2 V"
count = 322
reduced = "{CASES / 'neuron' / 'potassium_slit_reduced_model.json'}"
[analysis]
spike_threshold = "0 V"
spike_rearm = "-30 V"
rtol = 1e-5
atol = "1 mV"
[output]
checkpoint_steps = 500
"""

# cases/hh_squid.toml over 25 ms (the 10 uA step at 10 ms, 1 spike) with cheap pulse-threshold
# and f-I analyses.
HH = """
name = "hh_neuron"
[circuit]
capacitance = "1 uF"
area = "1 cm^2"
duration = "25 ms"
stimulus = { kind = "step", current = "10 uA", start = "10 ms" }
leak = { conductance = "0.3 mS", reversal = "-54.387 mV" }
[[circuit.branches]]
name = "na"
battery = "50 mV"
channel = "na"
[[circuit.branches]]
name = "k"
battery = "-77 mV"
channel = "k"
[analysis]
spike_threshold = "0 mV"
spike_rearm = "-30 mV"
rtol = 1e-5
[analysis.pulse_threshold]
width = "1 ms"
lower = "5 uA"
upper = "10 uA"
duration = "5 ms"
start = "1 ms"
[analysis.fi_curve]
stimuli = ["10 uA"]
duration = "20 ms"
transient = "5 ms"
"""

# A live PNP slit (checkpoint_helpers' 20 nm slit, 326 nodes) charged by a current step through
# a leak: ~50 circuit steps of 2-3 PNP solves each; a checkpoint every 10 steps.
LIVE = """
name = "live_neuron"
[circuit]
capacitance = "1 pF"
duration = "2 ns"
initial_voltage = "0 V"
stimulus = { kind = "step", current = "2 mA", start = "0.2 ns" }
leak = { conductance = "10 mS", reversal = "0 V" }
[[circuit.branches]]
name = "pore"
slit = "slit.toml"
[analysis]
rtol = 1e-3
[output]
checkpoint_steps = 10
"""


def command(mode: str, *args: str, ranks: int = 1) -> list[str]:
    words = [sys.executable, str(DRIVER), mode, *args]
    return [str(MPIRUN), "-n", str(ranks), *words] if ranks > 1 else words


def drive(mode: str, *args: str, ranks: int = 1) -> subprocess.CompletedProcess:
    """``ionslit ARGS`` through the driver in a fresh process."""
    return subprocess.run(command(mode, *args, ranks=ranks), capture_output=True, text=True,
                          timeout=300, env=environment())


def run_here(*args: str, forbid: str | None = None) -> int:
    """``ionslit -q ARGS`` in this process (one rank, no plots): what ``drive("plain", ...)``
    does, without the second or two a fresh process spends importing. ``forbid``: a function of
    ionslit.neuron_study the run must not call."""
    import ionslit.neuron_study
    import ionslit.study
    from ionslit.cli import main

    def forbidden(*args, **kwargs):
        raise AssertionError(f"{forbid} called")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ionslit.study, "plot_results", lambda directory: [])
        if forbid:
            patch.setattr(ionslit.neuron_study, forbid, forbidden)
        return main(["-q", *args])


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("neuron_checkpoint")
    write_case(folder, CASE, "slit.toml")
    return folder


def reference(work: Path, name: str, text: str) -> tuple[Path, Path]:
    """(case file, results of the uninterrupted run)."""
    case = write_case(work, text, f"{name}.toml")
    out = work / f"{name}_reference"
    assert run_here("run", str(case), "--output", str(out)) == 0
    assert manifest(out)["status"] == "ok" and not (out / "checkpoint").exists()
    return case, out


def killed(work: Path, case: Path, name: str, after: int, *args: str) -> tuple[Path, dict]:
    """A run SIGKILLed ``after`` steps past its first checkpoint (``args``: e.g. another
    checkpoint schedule, which restarts may change), and its checkpoint's record. A copy of
    the directory stays as it was (``<name>_killed.before_restart``)."""
    out = work / f"{name}_killed"
    result = drive(f"kill:{after}", "run", str(case), "--output", str(out), *args)
    assert result.returncode == EXIT_KILLED, result.stderr
    assert manifest(out)["status"] == "running"  # what a killed run leaves
    info = json.loads((out / "checkpoint" / "checkpoint.json").read_text())
    on_disk = read_csv(out / "series.csv")["time_s"]
    assert on_disk[-1] > info["time_s"]  # rows past the checkpoint: the restart drops them
    shutil.copytree(out, out.with_name(f"{out.name}.before_restart"))
    return out, info


def assert_same_run(reference: Path, other: Path, label: str) -> None:
    differences = {name: series_difference(reference / name, other / name)
                   for name in ("series.csv", "spikes.csv")}
    print(f"{label}: max relative differences {differences}", file=sys.stderr)
    assert all(d <= RTOL for d in differences.values()), differences
    assert len(read_csv(other / "spikes.csv")["time_s"]) >= 1
    record = manifest(other)
    assert record["status"] == "ok" and not (other / "checkpoint").exists()
    stats = json.loads((other / "spike_metrics.json").read_text())["integrator"]
    assert stats == json.loads((reference / "spike_metrics.json").read_text())["integrator"]


@pytest.fixture(scope="module")
def reduced(work):
    return reference(work, "reduced", REDUCED)


@pytest.fixture(scope="module")
def reduced_killed(reduced, work):
    return killed(work, reduced[0], "reduced", 300)


def test_killed_reduced_neuron_continues_exactly(reduced, reduced_killed):
    (case, ref), (out, info) = reduced, reduced_killed
    assert info["step"] == 500 and info["reason"] == "periodic"
    assert run_here("run", str(case), "--restart", str(out)) == 0
    assert_same_run(ref, out, f"reduced neuron from step {info['step']}")
    segments = manifest(out)["segments"]
    assert [s["status"] for s in segments] == ["killed", "ok"]
    assert segments[1]["start_time_s"] == info["time_s"]


def test_sigterm_stops_a_neuron_run_with_a_checkpoint(reduced, work):
    """2 ranks, SIGTERM to mpirun and both ranks (as SLURM does), continued on 1 rank."""
    case, ref = reduced
    out = work / "reduced_sigterm"
    process = subprocess.Popen(command("slow", "run", str(case), "--output", str(out), ranks=2),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(), start_new_session=True)
    wait_for_checkpoint(out, process)
    signal_job(process, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    record = manifest(out)
    assert record["status"] == "interrupted", record["reason"]
    assert record["reason"].startswith("SIGTERM (time limit?): checkpoint at t = ")
    assert f"--restart {out}" in record["reason"]
    info = json.loads((out / "checkpoint" / "checkpoint.json").read_text())
    assert info["reason"] == "SIGTERM" and info["run"] == "neuron" and info["ranks"] == 2
    assert record["checkpoint"]["step"] == info["step"] > 500
    assert not (out / "spikes.csv").exists()
    assert run_here("run", str(case), "--restart", str(out)) == 0
    assert_same_run(ref, out, f"reduced neuron after SIGTERM at step {info['step']}")
    segments = manifest(out)["segments"]
    assert [(s["status"], s["ranks"]) for s in segments] == [("interrupted", 2), ("ok", 1)]


def refusal(directory: Path, text: str, work: Path) -> str:
    """Why ``--restart`` of ``directory`` with the case ``text`` is refused (the check that
    runs before anything is written; the CLI's exit code 2 for it is tested with slit runs)."""
    from mpi4py import MPI

    from ionslit.case import load_case
    from ionslit.checkpoint.restart import RestartRefused, open_restart

    case = load_case(write_case(work, text, "refused.toml"))
    with pytest.raises(RestartRefused) as error:
        open_restart(directory, case, "", MPI.COMM_SELF)
    return str(error.value)


def test_neuron_restarts_that_cannot_be_right_are_refused(reduced_killed, work):
    """Another reduced model file under the same key, another value, or a slit case."""
    source = reduced_killed[0].with_name(f"{reduced_killed[0].name}.before_restart")
    path = CASES / "neuron" / "sodium_slit_reduced_model.json"
    model = json.loads(path.read_text())
    model["tau_s"] = [2 * t for t in model["tau_s"]] if isinstance(model["tau_s"], list) \
        else 2 * model["tau_s"]
    other = work / "sodium_slower.json"
    other.write_text(json.dumps(model))
    reason = refusal(source, REDUCED.replace(str(path), str(other)), work)
    assert "referenced_inputs.branch sodium_like" in reason, reason
    reason = refusal(source, REDUCED.replace("count = 5", "count = 4"), work)
    assert "circuit.branches.0.count: 5 -> 4" in reason, reason
    reason = refusal(source, CASE, work)
    assert "the checkpoint is of a neuron run, the case is a slit run" in reason, reason
    assert manifest(source)["status"] == "running"  # nothing written


def test_hodgkin_huxley_run_killed_then_stopped_in_its_analyses(work):
    """Killed after a checkpoint taken before the stimulus jump (after which the restart must
    take the step the uninterrupted run takes), continued, stopped by SIGTERM during the
    pulse-threshold search (noticed when it ends: a checkpoint of phase "analyses"), continued
    again without simulating or searching again: the files of the uninterrupted run."""
    from mpi4py import MPI

    from ionslit.checkpoint.archive import load_checkpoint

    case, ref = reference(work, "hh", HH)
    out = work / "hh_interrupted"
    result = drive("kill:1", "run", str(case), "--output", str(out), "--set",
                   "output.checkpoint_steps=2")
    assert result.returncode == EXIT_KILLED, result.stderr
    info = json.loads((out / "checkpoint" / "checkpoint.json").read_text())
    assert info["step"] == 2 and info["time_s"] < 10e-3  # before the step of the stimulus
    result = drive("term_in_analysis", "run", str(case), "--restart", str(out))
    assert result.returncode == EXIT_INTERRUPTED, result.stderr
    stored = load_checkpoint(out / "checkpoint" / "state.npz", MPI.COMM_SELF)
    assert stored.meta["reason"] == "SIGTERM" and stored.state["phase"] == "analyses"
    assert stored.state["results"]["pulse_threshold"]["threshold_A"] > 0
    assert "fi_curve" not in stored.state["results"]
    assert run_here("run", str(case), "--restart", str(out), forbid="pulse_threshold") == 0
    assert_same_run(ref, out, f"Hodgkin-Huxley membrane from t = {info['time_s']:.3g} s")
    metrics = [json.loads((d / "spike_metrics.json").read_text()) for d in (ref, out)]
    # exact: the analyses after the restart repeat the reference's arithmetic on this machine
    assert metrics[0] == metrics[1]
    assert (out / "fi_curve.csv").read_text() == (ref / "fi_curve.csv").read_text()
    segments = manifest(out)["segments"]
    assert [s["status"] for s in segments] == ["killed", "interrupted", "ok"]


def test_killed_live_slit_neuron_continues_exactly(work):
    """The slit's fields (keyed by the mesh's input nodes) and lagged Jacobian are restored:
    the same number of ranks continues to round-off (measured: identical files). On another
    number of ranks the continuation differs like a fresh run on that number does (the slit's
    currents near 0 V are at the solver tolerance: fresh 1- and 2-rank runs differ by 4e-5 in
    the final voltage and take 53 and 57 steps), so that is not compared here."""
    case, ref = reference(work, "live", LIVE)
    out, info = killed(work, case, "live", 5)
    assert info["step"] == 10 and sorted(info["meshes"]) == ["pore"]
    assert run_here("run", str(case), "--restart", str(out)) == 0
    assert_same_run(ref, out, f"live slit neuron from step {info['step']}")


def test_sigterm_stops_the_reduced_model_analysis_between_solves(tmp_path):
    """After a step run the reduced-model analysis (one steady solve per voltage) polls the
    SIGTERM flag before each solve: a signalled run stops there, as interrupted."""
    from mpi4py import MPI

    from ionslit.case import load_case
    from ionslit.manifest import Manifest
    from ionslit.memristor_study import run_reduced_model
    from ionslit.run_context import RunContext
    from ionslit.run_control import CheckpointSettings, RunControl, RunInterrupted

    control = RunControl(MPI.COMM_WORLD, CheckpointSettings())
    control.signalled = True  # its SIGTERM arrived
    loaded = load_case(CASES / "memristor_steps.toml")
    context = RunContext(loaded, tmp_path, Manifest(tmp_path, loaded, MPI.COMM_WORLD.size, {}),
                         MPI.COMM_WORLD, control)
    with pytest.raises(RunInterrupted, match="reduced-model analysis"):
        run_reduced_model(context)
    assert list(tmp_path.iterdir()) == []  # nothing written
