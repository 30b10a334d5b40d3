"""``ionslit submit`` against a real one-node SLURM cluster (munged, slurmctld, slurmd started by
the fixture, stopped by PID at the end): the batch script the project renders, run by SLURM with
srun (pmi2) and with the environment's mpirun, on 2 ranks."""

from __future__ import annotations

import json
import sys
import time

import pytest
from cli_helpers import CASES, run_ionslit
from deploy_helpers import check_results, is_root, unavailable
from slurm_cluster import SlurmCluster, missing_programs

pytestmark = pytest.mark.slow

CASE = CASES / "ohmic_slit.toml"
JOB_TIMEOUT = 300  # s; ohmic_slit takes a few seconds on 2 ranks


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    missing = missing_programs()
    if missing:
        unavailable(f"SLURM/munge programs missing: {', '.join(missing)}; "
                    "scripts/system-packages.sh installs slurmctld, slurmd, slurm-client and "
                    "munge (root, Debian)")
    if not is_root():
        unavailable("the SLURM test starts munged and slurmd, which needs root")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    start = time.monotonic()
    try:
        cluster.start()
    except Exception as error:
        cluster.stop()
        pytest.fail(f"could not start SLURM: {error}", pytrace=False)
    print(f"\nSLURM up in {time.monotonic() - start:.1f} s")
    yield cluster
    cluster.stop()


def _submit(slurm: SlurmCluster, cwd, *args: str) -> str:
    result = run_ionslit("submit", str(CASE), "--ntasks", "2", "--time", "00:10:00", *args,
                         cwd=cwd, env=slurm.env)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip().splitlines()[-1]
    assert job_id.isdigit(), result.stdout
    return job_id


@pytest.mark.parametrize("launcher", ["srun", "mpirun"])
def test_batch_job_runs_the_case_on_two_ranks(slurm, tmp_path, launcher):
    start = time.monotonic()
    job_id = _submit(slurm, tmp_path, "--launcher", launcher)
    job = slurm.wait(job_id, timeout=JOB_TIMEOUT)
    elapsed = time.monotonic() - start
    jobs = tmp_path / "results" / "ohmic_slit.slurm"
    log = jobs / f"slurm-{job_id}.log"
    log_text = log.read_text(errors="replace") if log.exists() else "(no log)"
    assert job.get("JobState") == "COMPLETED", f"{job}\n{log_text[-4000:]}\n{slurm.diagnostics()}"
    assert job["ExitCode"] == "0:0"
    assert job["NumTasks"] == "2"
    manifest = check_results(tmp_path / "results" / "ohmic_slit", ranks=2)
    assert manifest["slurm_job_id"] == job_id
    assert f"ionslit job {job_id}: 2 rank(s)" in log_text
    assert not any(jobs.glob("cache-*")), "the per-job form cache outlived the job"
    print(f"\n{launcher} job {job_id}: {elapsed:.1f} s from submit to done")


def test_failing_job_is_reported_failed(slurm, tmp_path):
    """A job whose ranks fail ends FAILED with their exit code (so the checks above can fail)."""
    failing = tmp_path / "failing-python"
    failing.write_text(f"""#!/bin/bash
[[ "$1" == -c ]] && exec {sys.executable} "$@"   # the script's own questions: answer them
echo "failing python: rank ${{PMI_RANK:-?}}" >&2
exit 3
""")
    failing.chmod(0o755)
    job_id = _submit(slurm, tmp_path, "--python", str(failing))
    job = slurm.wait(job_id, timeout=JOB_TIMEOUT)
    log = (tmp_path / "results" / "ohmic_slit.slurm" / f"slurm-{job_id}.log").read_text()
    assert job.get("JobState") == "FAILED", f"{job}\n{log}"
    assert job["ExitCode"] == "3:0"
    assert log.count("failing python: rank") == 2, log  # srun started both ranks
    assert not (tmp_path / "results" / "ohmic_slit").exists()


def test_unsatisfiable_job_times_out_and_is_cancelled(slurm, tmp_path):
    """More ranks than the node has: the job stays pending; the wait gives up and scancels."""
    job_id = _submit(slurm, tmp_path, "--ntasks", "64")
    with pytest.raises(TimeoutError):
        slurm.wait(job_id, timeout=3)
    deadline = time.monotonic() + 30
    while slurm.job(job_id).get("JobState") != "CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert slurm.job(job_id).get("JobState") == "CANCELLED", json.dumps(slurm.job(job_id))
