#!/usr/bin/env bash
# Install the Debian packages the deployment tests need, when missing (idempotent, quiet).
#
#   podman, runc, debootstrap   tests/deploy: build the image from a locally made base image
#   slurmctld, slurmd,          tests/deploy: a real one-node SLURM cluster in a fixture
#   slurm-client, munge
#   ngspice                     tests/memristor: the SPICE cross-check
#
# Runs `apt-get update` only when something must be installed. Without root or apt-get it prints a
# warning and exits 0: the tests that need these programs then skip and say why.
# Usage: scripts/system-packages.sh [--check]
#   --check: install nothing; list what is missing and exit 1 if anything is
set -euo pipefail

packages=(
    podman runc debootstrap debian-archive-keyring ca-certificates
    slurmctld slurmd slurm-client munge
    ngspice
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system-packages: all present (${packages[*]})" >&2
    exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
    echo "system-packages: missing: ${missing[*]}" >&2
    exit 1
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "system-packages: WARNING: cannot install ${missing[*]} (needs root and apt-get);" \
        "the tests that need them will be skipped" >&2
    exit 0
fi

echo "system-packages: installing ${missing[*]}" >&2
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# An unreachable third-party source only makes `update` complain; the install says what matters.
if ! { apt-get update -qq || true; apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$log" 2>&1; then
    cat "$log" >&2
    echo "system-packages: WARNING: apt-get failed (above); the tests that need these" \
        "packages will be skipped" >&2
    exit 0
fi
echo "system-packages: installed ${#missing[@]} package(s) in $((SECONDS - start)) s" >&2
