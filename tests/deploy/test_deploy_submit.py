"""``ionslit submit`` without a cluster: the rendered batch script, input validation, the sbatch
call (a stand-in sbatch), and the script itself run by bash with the mpirun launcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import CASES, run_ionslit
from deploy_helpers import check_results

CASE = CASES / "ohmic_slit.toml"


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without SLURM_* variables (the tests may themselves run in a job)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    return {**environment, **(extra or {})}


def _submit(*args: str, cwd: Path, env: dict[str, str] | None = None):
    # run_ionslit merges os.environ back in: drop SLURM_* by running with a clean environment
    command = [sys.executable, "-P", "-m", "ionslit", "submit", *args]
    environment = {k: v for k, v in _clean_env(env).items()
                   if not k.startswith(("PMI_", "MPI_", "HYDRA_"))}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**environment, "OMP_NUM_THREADS": "1"})


def test_dry_run_renders_an_srun_script_and_writes_nothing(tmp_path):
    result = run_ionslit(
        "submit", str(CASE), "--ntasks", "2", "--time", "00:05:00", "--partition", "short",
        "--set", "geometry.length=120 nm", "--petsc", "-snes_rtol 1e-9 -snes_max_it 30",
        "--sbatch-option=--account=nano", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    results = tmp_path / "results" / "ohmic_slit"
    jobs = tmp_path / "results" / "ohmic_slit.slurm"
    assert script.startswith("#!/bin/bash\n")
    for directive in ["--job-name=ionslit-ohmic_slit", "--ntasks=2", "--time=00:05:00",
                      "--partition=short", f"--output={jobs}/slurm-%j.log",
                      f"--chdir={tmp_path}", "--account=nano"]:
        assert f"#SBATCH {directive}\n" in script, directive
    assert f"IONSLIT_PYTHON={sys.executable}\n" in script
    assert "export OMP_NUM_THREADS=1" in script
    assert f"export XDG_CACHE_HOME={jobs}/cache-" in script
    assert 'srun --mpi=pmi2 "$IONSLIT_PYTHON"' in script
    assert "mpirun" not in script
    assert (f"-m ionslit run {CASE} --output {results} --set 'geometry.length=120 nm' "
            "--petsc='-snes_rtol 1e-9 -snes_max_it 30'") in script
    assert "--overwrite" not in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # valid bash
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing


def test_dry_run_mpirun_launcher_uses_the_environments_mpirun(tmp_path):
    result = run_ionslit("submit", str(CASE), "-n", "3", "-t", "1-00:00:00", "--launcher", "mpirun",
                         "--output", "out/here", "--overwrite", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    launch = '"$(dirname "$IONSLIT_PYTHON")/mpirun" -n "${SLURM_NTASKS:-3}" "$IONSLIT_PYTHON"'
    assert launch in script
    assert "srun" not in script
    assert "#SBATCH --partition" not in script
    assert "#SBATCH --time=1-00:00:00\n" in script
    assert f"--output {tmp_path / 'out' / 'here'} --overwrite" in script
    assert list(tmp_path.iterdir()) == []


BAD = {
    "case key": (["--set", "geometry.lenght=1um"], "did you mean 'length'"),
    "time": (["--time", "5 minutes"], "not a SLURM time limit"),
    "ntasks": (["--ntasks", "0"], "at least 1"),
    "petsc": (["--petsc", "snes_rtol 1"], "expected '-name'"),
    "partition": (["--partition", "a b"], "not a partition name"),
    "sbatch option": (["--sbatch-option", "account=x"], "expected one '--name[=value]'"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_invalid_input_exits_2_and_submits_nothing(name, tmp_path):
    extra, message = BAD[name]
    args = ["--ntasks", "2", "--time", "00:05:00", *extra]  # argparse: the last value wins
    fake = _fake_sbatch(tmp_path)
    result = _submit(str(CASE), *args, cwd=tmp_path,
                     env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # no script, no sbatch call


def test_non_empty_results_directory_is_refused_at_submit_time(tmp_path):
    results = tmp_path / "results" / "ohmic_slit"
    results.mkdir(parents=True)
    (results / "notes.txt").write_text("mine")
    result = run_ionslit("submit", str(CASE), "-n", "2", "-t", "10:00", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2
    assert "not empty" in result.stderr
    result = run_ionslit("submit", str(CASE), "-n", "2", "-t", "10:00", "--overwrite", "--dry-run",
                         cwd=tmp_path)
    assert result.returncode == 2
    assert "no manifest.json" in result.stderr
    assert sorted(p.name for p in results.iterdir()) == ["notes.txt"]


def _fake_sbatch(tmp_path: Path, answer: str = "4242;test", status: int = 0) -> Path:
    """An ``sbatch`` that records its arguments and the script it was given."""
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"""#!/bin/bash
printf '%s\\n' "$@" > "{tmp_path}/bin/sbatch.args"
cp "${{@: -1}}" "{tmp_path}/bin/sbatch.script"
echo "{answer}"
[[ {status} -eq 0 ]] || echo "sbatch: error: Batch job submission failed: Invalid partition" >&2
exit {status}
""")
    fake.chmod(0o755)
    return fake


def test_submit_writes_the_script_next_to_the_results_and_calls_sbatch(tmp_path):
    fake = _fake_sbatch(tmp_path)
    result = _submit(str(CASE), "--ntasks", "2", "--time", "00:05:00", cwd=tmp_path,
                     env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4242"
    script = tmp_path / "results" / "ohmic_slit.slurm" / "job.sbatch"
    assert script.is_file() and os.access(script, os.X_OK)
    arguments = (tmp_path / "bin" / "sbatch.args").read_text().splitlines()
    assert arguments == ["--parsable", str(script)]
    assert (tmp_path / "bin" / "sbatch.script").read_text() == script.read_text()
    assert not (tmp_path / "results" / "ohmic_slit").exists()  # `ionslit run` makes it
    assert [p.name for p in script.parent.iterdir()] == ["job.sbatch"]  # no temporary left


def test_sbatch_failure_exits_1_with_its_message(tmp_path):
    fake = _fake_sbatch(tmp_path, answer="", status=1)
    result = _submit(str(CASE), "-n", "2", "-t", "5", cwd=tmp_path,
                     env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert result.returncode == 1
    assert "Invalid partition" in result.stderr


def test_missing_sbatch_exits_1(tmp_path):
    result = _submit(str(CASE), "-n", "2", "-t", "5", cwd=tmp_path,
                     env={"PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 1
    assert "sbatch not found" in result.stderr


def test_rendered_mpirun_script_runs_the_case_outside_slurm(tmp_path):
    """The script's own logic (python check, cache seeding and clean-up, the run) without SLURM:
    bash runs it; the mpirun launcher falls back to --ntasks ranks."""
    result = run_ionslit("submit", str(CASE), "-n", "2", "-t", "5:00", "--launcher", "mpirun",
                         "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    script = tmp_path / "job.sh"
    script.write_text(result.stdout)
    environment = {k: v for k, v in _clean_env().items()
                   if not k.startswith(("PMI_", "MPI_", "HYDRA_"))}
    run = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600, env=environment)
    assert run.returncode == 0, run.stderr[-4000:]
    manifest = check_results(tmp_path / "results" / "ohmic_slit", ranks=2)
    assert "slurm_job_id" not in manifest
    jobs = tmp_path / "results" / "ohmic_slit.slurm"
    assert not any(jobs.glob("cache-*")), "the per-job cache outlived the job"


def test_job_cache_is_seeded_with_finished_forms_only(tmp_path):
    """The per-job FFCx cache gets the finished forms of the submitting environment's cache (for
    this Python), never a half-compiled one (X.c without X.c.cached makes FFCx wait, then fail)."""
    import sysconfig

    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    seed = tmp_path / "user-cache"
    forms = seed / "fenics"
    forms.mkdir(parents=True)
    for name in ("finished", "other_python", "half_compiled"):
        (forms / f"{name}.c").write_text("/* C */")
    (forms / "finished.c.cached").write_text("")
    (forms / f"finished{suffix}").write_text("module")
    (forms / "other_python.c.cached").write_text("")
    (forms / "other_python.cpython-39-x86_64-linux-gnu.so").write_text("module")
    (seed / "matplotlib").mkdir()
    (seed / "matplotlib" / "fontlist.json").write_text("{}")
    # a stand-in Python: answers the script's -c question, and lists the cache instead of running
    listing = tmp_path / "listing.txt"
    (tmp_path / "bin").mkdir()
    stand_in = tmp_path / "bin" / "python"
    stand_in.write_text(f"""#!/bin/bash
[[ "$1" == -c ]] && exec {sys.executable} "$@"
cd "$XDG_CACHE_HOME" && find . -type f | sort > {listing}
""")
    mpirun = tmp_path / "bin" / "mpirun"  # the launcher the script takes next to its Python
    mpirun.write_text('#!/bin/bash\nshift 2\nexec "$@"\n')
    for program in (stand_in, mpirun):
        program.chmod(0o755)
    result = run_ionslit("submit", str(CASE), "-n", "1", "-t", "5", "--launcher", "mpirun",
                         "--python", str(stand_in), "--dry-run", cwd=tmp_path,
                         env={"XDG_CACHE_HOME": str(seed)})
    assert result.returncode == 0, result.stderr
    assert f"seed={seed}\n" in result.stdout
    run = subprocess.run(["bash", "-c", result.stdout], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=_clean_env())
    assert run.returncode == 0, run.stderr
    assert listing.read_text().split() == sorted([
        "./fenics/finished.c", "./fenics/finished.c.cached", f"./fenics/finished{suffix}",
        "./matplotlib/fontlist.json"])
