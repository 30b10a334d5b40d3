"""``ionslit submit``: render a SLURM batch script that runs a case, and hand it to ``sbatch``.

The script (bash) asks for ``--ntasks`` MPI ranks for ``--time``, then runs
``ionslit run CASE --output RESULTS`` with the Python of the environment that rendered it, under
``srun --mpi=pmi2`` (default) or that environment's own ``mpirun`` (``--launcher mpirun``; never
another MPI's ``mpirun``: it cannot launch these MPICH ranks).

Files, next to the results directory ``R`` (which must stay empty until the run fills it):
``R.slurm/job.sbatch`` (the script), ``R.slurm/slurm-<job id>.log`` (the job's output) and, while
the job runs, ``R.slurm/cache-<job id>/`` (its form cache, see below). ``R/manifest.json`` records
the job id.

Form cache: every job compiles into a cache of its own, seeded with the finished entries of the
submitting environment's FFCx cache (and matplotlib's font list), deleted when the job ends. A
shared cache is poisoned when a job is killed (time limit, scancel) while compiling: FFCx leaves
``X.c`` without ``X.c.cached`` and every later run needing that form fails with a JIT timeout.
Seeding saves the compile time of forms already known. The cache sits on the results' file
system because with several ranks FFCx compiles on rank 0 and the other ranks, possibly on other
nodes, load the module from there.

This module has no MPI or dolfinx imports: rendering is plain text work.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

LAUNCHERS = ("srun", "mpirun")
# sbatch --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S
_TIME = re.compile(r"^\d+(:\d{1,2}){0,2}$|^\d+-\d{1,2}(:\d{1,2}){0,2}$")
_PARTITION = re.compile(r"^[A-Za-z0-9_.,\-]+$")


class SubmitError(ValueError):
    """The job cannot be rendered or submitted as asked (the message says why)."""


@dataclass(frozen=True)
class JobSpec:
    """Everything the batch script needs; paths absolute."""

    case_file: Path
    case_name: str
    results: Path
    ntasks: int
    time: str
    python: Path
    launcher: str = "srun"
    partition: str | None = None
    overrides: tuple[str, ...] = ()
    petsc: str = ""
    overwrite: bool = False
    sbatch_options: tuple[str, ...] = ()
    cache_seed: Path | None = None
    submit_directory: Path = field(default_factory=Path.cwd)

    def __post_init__(self) -> None:
        if self.ntasks < 1:
            raise SubmitError(f"--ntasks must be at least 1, got {self.ntasks}")
        if not _TIME.match(self.time):
            raise SubmitError(
                f"--time {self.time!r} is not a SLURM time limit (HH:MM:SS, MM:SS, D-HH:MM:SS ...)")
        if self.launcher not in LAUNCHERS:
            raise SubmitError(f"--launcher must be one of {', '.join(LAUNCHERS)}")
        if self.partition is not None and not _PARTITION.match(self.partition):
            raise SubmitError(f"--partition {self.partition!r} is not a partition name")
        for option in self.sbatch_options:
            if not option.startswith("--") or any(c.isspace() for c in option):
                raise SubmitError(f"--sbatch-option {option!r}: expected one '--name[=value]'")

    @property
    def job_directory(self) -> Path:
        """``R.slurm/`` next to the results directory ``R``: script, logs, per-job caches."""
        return self.results.with_name(self.results.name + ".slurm")

    @property
    def script_path(self) -> Path:
        return self.job_directory / "job.sbatch"

    @property
    def job_name(self) -> str:
        return f"ionslit-{self.case_name}"


def default_cache_seed() -> Path:
    """The cache directory this environment uses: ``$XDG_CACHE_HOME`` or ``~/.cache`` (FFCx keeps
    its forms in ``fenics/`` there, matplotlib its font list in ``matplotlib/``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").absolute()


def check_results_directory(results: Path, overwrite: bool) -> None:
    """Refuse now what ``ionslit run`` would refuse once the job starts."""
    if results.exists() and not results.is_dir():
        raise SubmitError(f"results directory {results} exists and is not a directory")
    if results.is_dir() and any(results.iterdir()):
        if not overwrite:
            raise SubmitError(f"results directory {results} is not empty; use --overwrite to "
                              "replace it or --output to choose another")
        if not (results / "manifest.json").is_file():
            raise SubmitError(f"refusing to overwrite {results}: it has no manifest.json, so it is "
                              "not an ionslit results directory")


def _sbatch_path(path: Path) -> str:
    """A path for an #SBATCH line: no white space (sbatch splits there), '%' escaped."""
    text = str(path)
    if any(c.isspace() for c in text):
        raise SubmitError(f"{text!r}: sbatch takes no path with white space in '#SBATCH' lines")
    return text.replace("%", "%%")


def _q(value: object) -> str:
    return shlex.quote(str(value))


def render(spec: JobSpec, ionslit_version: str = "") -> str:
    """The batch script for ``spec`` (bash)."""
    run = ["-m", "ionslit", "run", _q(spec.case_file), "--output", _q(spec.results)]
    for override in spec.overrides:
        run += ["--set", _q(override)]
    if spec.petsc:
        run.append(f"--petsc={_q(spec.petsc)}")
    if spec.overwrite:
        run.append("--overwrite")
    if spec.launcher == "srun":
        launch = 'srun --mpi=pmi2 "$IONSLIT_PYTHON"'
    else:  # the environment's own MPICH mpirun; inside an allocation it starts ranks via SLURM
        launch = (f'"$(dirname "$IONSLIT_PYTHON")/mpirun" -n "${{SLURM_NTASKS:-{spec.ntasks}}}" '
                  '"$IONSLIT_PYTHON"')

    directives = [
        f"--job-name={spec.job_name}",
        f"--ntasks={spec.ntasks}",
        f"--time={spec.time}",
        *([f"--partition={spec.partition}"] if spec.partition else []),
        f"--output={_sbatch_path(spec.job_directory)}/slurm-%j.log",
        f"--chdir={_sbatch_path(spec.submit_directory)}",
        *spec.sbatch_options,
    ]
    seed = _q(spec.cache_seed) if spec.cache_seed else "''"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        "#!/bin/bash",
        *[f"#SBATCH {directive}" for directive in directives],
        f"# Rendered by `ionslit submit` (ionslit {ionslit_version}) on {stamp}.",
        f"# Case {spec.case_file}; results in {spec.results}.",
        "set -euo pipefail",
        "",
        "# The Python of the environment that has ionslit, dolfinx and MPICH (edit to change).",
        f"IONSLIT_PYTHON={_q(spec.python)}",
        'if [[ ! -x "$IONSLIT_PYTHON" ]]; then',
        '    echo "ionslit job: IONSLIT_PYTHON=$IONSLIT_PYTHON is not an executable" >&2; exit 2',
        "fi",
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # one thread per MPI rank",
        "",
        "# Caches of this job's own (see ionslit/submit.py), seeded with the complete FFCx entries",
        "# and matplotlib's font list of the submitting environment; removed when the job ends.",
        f'export XDG_CACHE_HOME={_q(spec.job_directory)}/cache-"${{SLURM_JOB_ID:-$$}}"',
        'trap \'rm -rf "$XDG_CACHE_HOME"\' EXIT',
        'mkdir -p "$XDG_CACHE_HOME/fenics"',
        f"seed={seed}",
        'if [[ -n "$seed" && -d "$seed/fenics" ]]; then',
        "    # X.c.cached marks a finished form X. Copy the modules and marks, then the X.c (FFCx",
        "    # compiles anew when X.c is absent, but waits for the mark when X.c exists).",
        "    suffix=$(\"$IONSLIT_PYTHON\" -c \\",
        "        'import sysconfig as s; print(s.get_config_var(\"EXT_SUFFIX\"))')",
        "    done_forms=() sources=()",
        '    for ready in "$seed"/fenics/*.c.cached; do',
        '        stem=${ready%.c.cached}',
        '        [[ -e "$stem$suffix" && -e "$stem.c" ]] || continue',
        '        done_forms+=("$stem$suffix" "$ready") sources+=("$stem.c")',
        "    done",
        "    if [[ ${#sources[@]} -gt 0 ]]; then",
        '        cp -p "${done_forms[@]}" "$XDG_CACHE_HOME/fenics/" 2>/dev/null \\',
        '            && cp -p "${sources[@]}" "$XDG_CACHE_HOME/fenics/" 2>/dev/null || true',
        "    fi",
        "fi",
        'if [[ -n "$seed" && -d "$seed/matplotlib" ]]; then',
        '    cp -pr "$seed/matplotlib" "$XDG_CACHE_HOME/" 2>/dev/null || true',
        "fi",
        "",
        'echo "ionslit job ${SLURM_JOB_ID:-}: ${SLURM_NTASKS:-?} rank(s)" \\',
        '    "on ${SLURM_JOB_NODELIST:-?}" >&2',
        f"{launch} \\\n    {' '.join(run)}",
        "",
    ]
    return "\n".join(lines)


def write_script(spec: JobSpec, text: str) -> Path:
    """Write the script atomically (temporary name, then rename); returns its path."""
    path = spec.script_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sbatch(script: Path, cwd: Path) -> str:
    """Submit with ``sbatch --parsable``; returns the job id."""
    program = shutil.which("sbatch")
    if program is None:
        raise SubmitError("sbatch not found on PATH: submit from a SLURM login node "
                          "(--dry-run prints the script without submitting)")
    result = subprocess.run([program, "--parsable", str(script)], cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise SubmitError(f"sbatch failed ({result.returncode}): {result.stderr.strip()}")
    job_id = result.stdout.strip().split(";")[0]  # --parsable: "id" or "id;cluster"
    if not job_id.isdigit():
        raise SubmitError(f"sbatch answered {result.stdout.strip()!r}, not a job id")
    return job_id
