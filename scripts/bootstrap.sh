#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv (idempotent).
#
# Finds a Python >= 3.12 (python3.13 / python3.12 / python3 on PATH, then pyenv's versions),
# creates .venv and installs ionslit (editable) with the exact versions in constraints.txt.
# When nothing changed since the last successful run it returns at once.
# Environment: IONSLIT_PYTHON=/path/to/python forces the interpreter.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.ionslit-bootstrap"

is_suitable() {  # $1: interpreter; true if it runs and is >= 3.12
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    if [[ -n "${IONSLIT_PYTHON:-}" ]]; then
        is_suitable "$IONSLIT_PYTHON" && { echo "$IONSLIT_PYTHON"; return 0; }
        echo "bootstrap: IONSLIT_PYTHON=$IONSLIT_PYTHON is not a Python >= 3.12" >&2
        return 1
    fi
    for candidate in python3.14 python3.13 python3.12 python3; do
        if command -v "$candidate" >/dev/null && is_suitable "$(command -v "$candidate")"; then
            command -v "$candidate"; return 0
        fi
    done
    local pyenv_root="${PYENV_ROOT:-}"
    [[ -z "$pyenv_root" ]] && command -v pyenv >/dev/null && pyenv_root=$(pyenv root)
    [[ -z "$pyenv_root" ]] && pyenv_root="$HOME/.pyenv"
    for candidate in $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
        is_suitable "$candidate" && { echo "$candidate"; return 0; }
    done
    return 1
}

# Everything that decides the venv's content: a change in any of these triggers a re-install.
fingerprint=$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
    exit 0
fi

if ! python=$(find_python); then
    cat >&2 <<MSG
bootstrap: no Python >= 3.12 found (ionslit needs it for the dolfinx wheel).
  Looked for python3.14/3.13/3.12/python3 on PATH and under pyenv's versions.
  Install one (e.g. 'pyenv install 3.12'), or point IONSLIT_PYTHON at an interpreter.
MSG
    exit 1
fi

echo "bootstrap: setting up $venv with $python ($("$python" --version 2>&1))" >&2
if [[ ! -x "$venv/bin/python" ]] || ! is_suitable "$venv/bin/python"; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$root/constraints.txt" -e "$root[fem,test]" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "$fingerprint" > "$stamp"
echo "bootstrap: ready ($("$venv/bin/ionslit" version --short 2>/dev/null || echo installed))" >&2
