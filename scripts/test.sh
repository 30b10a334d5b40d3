#!/usr/bin/env bash
# Run the whole test suite (setting up .venv and, as root on Debian, the system packages the
# container/SLURM/SPICE tests need, first if needed):
#   0. the static checks (scripts/lint.sh);  1. every test in serial;
#   2. the tests marked `mpi` again on 2 ranks (the venv's mpirun).
# Options: --quick skips the tests marked `slow`; further arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"
# Debian packages for the container, SLURM and SPICE tests. Once they are all present, a test
# that cannot use them fails instead of skipping.
"$root/scripts/system-packages.sh"
if "$root/scripts/system-packages.sh" --check 2>/dev/null; then
    export IONSLIT_REQUIRE_SYSTEM_TESTS=1
fi
python="$root/.venv/bin/python"
mpirun="$root/.venv/bin/mpirun"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # one thread per MPI rank

selection=""
if [[ "${1:-}" == "--quick" ]]; then selection="not slow"; shift; fi

pytest_allowing_empty() {  # pytest's exit code 5 means "no tests collected": not a failure here
    local status=0
    "$@" || status=$?
    [[ $status -eq 5 ]] && status=0
    return $status
}

cd "$root"
"$root/scripts/lint.sh"
echo "== serial ==" >&2
pytest_allowing_empty "$python" -P -m pytest ${selection:+-m "$selection"} "$@"
echo "== mpi, 2 ranks ==" >&2
pytest_allowing_empty "$mpirun" -n 2 "$python" -P -m pytest -p no:cacheprovider \
    -m "mpi${selection:+ and ($selection)}" "$@"
