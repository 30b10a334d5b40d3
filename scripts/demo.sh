#!/usr/bin/env bash
# The main demo: set up .venv if needed, then run the flagship case on 2 MPI ranks.
# Results go to results/<case name>/ (replaced on each run). Usage: scripts/demo.sh [CASE]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # one thread per MPI rank
case_file=${1:-"$root/cases/neuron_live.toml"}
exec "$root/.venv/bin/mpirun" -n "${IONSLIT_RANKS:-2}" "$root/.venv/bin/ionslit" run "$case_file" --overwrite
