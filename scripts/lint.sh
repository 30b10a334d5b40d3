#!/usr/bin/env bash
# Static checks (part of scripts/test.sh): ruff (style, import order, likely bugs, banned
# top-level imports), import-linter (the package layers) and mypy (types) on the library.
#
# The folders meshes/, solvers/ and coupling/ install as ionslit.meshes, ionslit.solvers and
# ionslit.coupling. import-linter and mypy find a package by walking one directory tree, so they
# check a copy laid out as installed (.lint-stage/ionslit/), and mypy's paths are mapped back.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.venv/bin"

failed=0
echo "== ruff ==" >&2
"$bin/ruff" check --no-cache "$root" || failed=1

stage="$root/.lint-stage"
rm -rf "$stage"
mkdir -p "$stage/ionslit"
cp -rp "$root/ionslit/." "$stage/ionslit/"
for package in meshes solvers coupling; do
    cp -rp "$root/$package" "$stage/ionslit/$package"
done
find "$stage" -name __pycache__ -prune -exec rm -rf {} +

echo "== import-linter ==" >&2
(cd "$stage" && PYTHONPATH="$stage" "$bin/lint-imports" --no-cache --config "$root/pyproject.toml") \
    || failed=1

echo "== mypy ==" >&2
(cd "$stage" && MYPYPATH="$stage" "$bin/mypy" --config-file "$root/pyproject.toml" \
    --cache-dir "$root/.mypy_cache" -p ionslit) \
    | sed -E "s#^ionslit/(meshes|solvers|coupling)/#\1/#" || failed=1
exit $failed
