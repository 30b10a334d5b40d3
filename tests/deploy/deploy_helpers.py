"""Shared bits of the deployment tests (container image, SLURM batch jobs)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# CI sets this to 1 so that a missing system program fails the deployment tests instead of
# skipping them (a skipped test would otherwise pass for a deployment that was never tried).
REQUIRE = "IONSLIT_REQUIRE_SYSTEM_TESTS"
INSTALL_HINT = "scripts/system-packages.sh installs it (as root, on Debian)"


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail it when ``$IONSLIT_REQUIRE_SYSTEM_TESTS=1``."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} (and {REQUIRE}=1 requires this test to run)", pytrace=False)
    pytest.skip(reason)


def which(name: str) -> str | None:
    """``name`` on PATH, in /usr/sbin or /sbin, or next to this Python (the venv's bin)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin",
                              str(Path(sys.executable).parent)])
    return shutil.which(name, path=search)


def is_root() -> bool:
    return os.geteuid() == 0


def check_results(directory: Path, ranks: int) -> dict:
    """Assert ``directory`` holds a successful run on ``ranks`` ranks; returns the manifest."""
    manifest_path = directory / "manifest.json"
    assert manifest_path.is_file(), f"no manifest in {directory}: {sorted(directory.iterdir())}"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["status"] == "ok", manifest.get("reason")
    assert manifest["mpi_ranks"] == ranks
    lines = (directory / "series.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert {"time_s", "voltage_V", "current_A"} <= set(header), header
    assert len(lines) >= 2, "series.csv has no data row"
    row = dict(zip(header, map(float, lines[1].split(",")), strict=True))
    assert math.isfinite(row["current_A"]) and row["current_A"] > 0, row
    return manifest
