"""Checkpoint/restart end to end: a 2-rank transient run killed with SIGKILL after a
checkpoint, continued with ``ionslit run CASE --restart DIR`` on 1 and on 2 ranks, gives the
series of the uninterrupted run within 1e-10; SIGTERM stops a run at a step boundary with a
checkpoint, status ``interrupted`` and exit code 143, and the restart finishes it identically;
restarts that cannot be right are refused with exit code 2 and nothing written."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sys

import h5py
import numpy as np
import pytest
from checkpoint_helpers import (
    CASE,
    RTOL,
    manifest,
    series_difference,
    signal_job,
    start_run,
    wait_for_checkpoint,
    write_case,
)
from cli_helpers import run_ionslit

from ionslit.checkpoint.archive import checkpoint_bytes, read_checkpoint
from ionslit.fields import xdmf_times

EXIT_INTERRUPTED = 143


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("checkpoint")


@pytest.fixture(scope="module")
def case(work):
    return write_case(work)


@pytest.fixture(scope="module")
def reference(work, case):
    """The uninterrupted run on 2 ranks."""
    out = work / "reference"
    result = run_ionslit("run", str(case), "--output", str(out), ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    assert manifest(out)["status"] == "ok"
    assert not (out / "checkpoint").exists()  # removed once the run finished ok
    return out


@pytest.fixture(scope="module")
def killed(work, case):
    """A 2-rank run killed with SIGKILL (mpirun and both ranks) after its first checkpoint."""
    out = work / "killed"
    process = start_run("run", str(case), "--output", str(out), ranks=2)
    info = wait_for_checkpoint(out, process)
    signal_job(process, signal.SIGKILL)
    process.communicate(timeout=60)
    assert manifest(out)["status"] == "running"  # what a killed run leaves
    return out, info


@pytest.fixture(scope="module")
def interrupted(work, case):
    """A 2-rank run stopped by SIGTERM (sent to mpirun and both ranks, as SLURM does)."""
    out = work / "interrupted"
    process = start_run("run", str(case), "--output", str(out), ranks=2)
    wait_for_checkpoint(out, process)
    signal_job(process, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    return out, process.returncode, stderr


def field_levels(directory, name="potential"):
    """{time: values sorted by node coordinates} of fields/fields.xdmf, checking that every
    dataset it references exists."""
    folder = directory / "fields"
    text = (folder / "fields.xdmf").read_text()
    levels = {}
    grids = re.findall(r"<Grid Name=\"" + name + r"\" GridType=\"Uniform\">(.*?)</Grid>", text,
                       re.S)
    for grid in grids:
        refs = re.findall(r">([^<>]+\.h5):(/[^<]+)<", grid)
        (geometry,) = [r for r in refs if r[1].endswith("/geometry")]
        (values,) = [r for r in refs if r[1].startswith("/Function/")]
        t = float(re.search(r"<Time Value=\"([^\"]+)\"", grid).group(1))
        with h5py.File(folder / geometry[0]) as f:
            x = f[geometry[1]][...]
        with h5py.File(folder / values[0]) as f:
            v = f[values[1]][...].ravel()
        order = np.lexsort(x.T[::-1])
        levels[t] = v[order]
    return levels


def assert_fields_match(reference, other):
    times = xdmf_times(other / "fields" / "fields.xdmf")["potential"]
    assert times == xdmf_times(reference / "fields" / "fields.xdmf")["potential"]
    assert np.all(np.diff(times) > 0)  # each time once, in order, across the intervals
    ref, new = field_levels(reference), field_levels(other)
    for t in times:
        scale = np.max(np.abs(ref[t])) or 1.0
        assert np.max(np.abs(ref[t] - new[t])) <= RTOL * scale, t


@pytest.mark.slow
@pytest.mark.parametrize("ranks", [1, 2])
def test_killed_run_continues_on_any_number_of_ranks(reference, killed, work, case, ranks):
    source, info = killed
    out = work / f"restart_{ranks}"
    shutil.copytree(source, out)
    result = run_ionslit("run", str(case), "--restart", str(out), ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr
    difference = series_difference(reference / "series.csv", out / "series.csv")
    print(f"restart on {ranks} rank(s) from t = {info['time_s']:.3g} s (step {info['step']}, "
          f"written on 2): max relative difference {difference:.2e}", file=sys.stderr)
    assert difference <= RTOL
    record = manifest(out)
    assert record["status"] == "ok" and record["time_steps"] == manifest(reference)["time_steps"]
    segments = record["segments"]
    assert [s["ranks"] for s in segments] == [2, ranks]
    assert [s["status"] for s in segments] == ["killed", "ok"]
    assert segments[1]["start_time_s"] == info["time_s"]
    assert not (out / "fields.partial").exists() and not (out / "checkpoint").exists()
    assert_fields_match(reference, out)
    assert json.loads((out / "loop_metrics.json").read_text()).keys() == \
        json.loads((reference / "loop_metrics.json").read_text()).keys()


@pytest.mark.slow
def test_sigterm_stops_with_a_checkpoint_that_continues_exactly(reference, interrupted, work):
    source, code, stderr = interrupted
    assert code == EXIT_INTERRUPTED, stderr
    record = manifest(source)
    assert record["status"] == "interrupted"
    reason = record["reason"]
    assert reason.startswith("SIGTERM (time limit?): checkpoint at t = "), reason
    assert f"--restart {source}" in reason and record["finished"] is not None
    info = json.loads((source / "checkpoint" / "checkpoint.json").read_text())
    assert info["reason"] == "SIGTERM" and record["checkpoint"]["step"] == info["step"]
    assert not (source / "fields").exists() and not (source / "plots").exists()
    # Continue with a case file that differs only in a comment and the checkpoint schedule:
    # the resolved parameters, not the text, identify a case.
    out = work / "sigterm_restart"
    shutil.copytree(source, out)
    edited = write_case(work, "# continued after SIGTERM\n" + CASE, name="edited.toml")
    result = run_ionslit("run", str(edited), "--restart", str(out), "--set",
                         "output.checkpoint_steps=7", ranks=1, timeout=300)
    assert result.returncode == 0, result.stderr
    difference = series_difference(reference / "series.csv", out / "series.csv")
    print(f"restart after SIGTERM at step {info['step']}: max relative difference "
          f"{difference:.2e}", file=sys.stderr)
    assert difference <= RTOL
    segments = manifest(out)["segments"]
    assert [(s["status"], s["ranks"]) for s in segments] == [("interrupted", 2), ("ok", 1)]
    assert_fields_match(reference, out)


@pytest.mark.slow
def test_restarts_that_cannot_be_right_are_refused(interrupted, work, case):
    source = interrupted[0]

    def refused(*args, directory=None):
        out = work / "refused"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(directory or source, out)
        before = (out / "manifest.json").read_text()
        result = run_ionslit("run", *args, "--restart", str(out))
        assert result.returncode == 2, result.stderr
        assert (out / "manifest.json").read_text() == before  # nothing written
        return result.stderr

    assert "protocol.amplitude: 0.2 -> 0.3" in refused(str(case), "--set",
                                                       "protocol.amplitude='0.3 V'")
    # A mesh that is not the checkpoint's (e.g. from another gmsh): found after meshing.
    other = work / "other_mesh"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(source, other)
    document, arrays = read_checkpoint(other / "checkpoint" / "state.npz")
    path = other / "checkpoint" / "state.npz"
    from ionslit.checkpoint.archive import unpack

    meta = unpack(document["meta"], arrays)
    meta["mesh"]["coordinates_sha256"] = "0" * 64
    slits = {name: (unpack(entry["meta"], arrays),
                    {key: arrays[stored] for key, stored in entry["arrays"].items()})
             for name, entry in document["slits"].items()}
    path.write_bytes(checkpoint_bytes(meta, slits, unpack(document["state"], arrays)))
    assert "the mesh differs from the checkpoint's" in refused(str(case), directory=other)
    assert not (work / "refused" / "fields").exists()


def test_restart_needs_a_checkpoint(tmp_path):
    case = write_case(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"status": "running"}))
    result = run_ionslit("run", str(case), "--restart", str(out))
    assert result.returncode == 2 and "has no checkpoint" in result.stderr, result.stderr
    result = run_ionslit("run", str(case), "--restart", str(out), "--overwrite")
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert json.loads((out / "manifest.json").read_text()) == {"status": "running"}
