"""A script using the Python API as a notebook would gives the numbers ``ionslit run`` gives for
the same case and ``--set``: same machine, same arithmetic (1e-12 relative)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from cli_helpers import CASES, run_ionslit

import ionslit

SCRIPT = Path(__file__).parent / "scripts" / "notebook_ohmic.py"
OVERRIDE = "protocol.voltage=20 mV"


def test_notebook_script_matches_the_command_line(tmp_path):
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    script = subprocess.run([sys.executable, "-P", str(SCRIPT), str(tmp_path / "api"), OVERRIDE],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            env=environment)
    assert script.returncode == 0, script.stderr
    read = json.loads(script.stdout)
    assert read["status"] == "ok"

    cli = run_ionslit("run", str(CASES / "ohmic_slit.toml"), "--set", OVERRIDE, "--output",
                      str(tmp_path / "cli"), cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    results = ionslit.open_results(tmp_path / "cli")
    for name, table in (("series", results.series), ("axis", results.profiles["axis"])):
        assert list(read[name]) == list(table.columns), name
        for column in table.columns:
            np.testing.assert_allclose(read[name][column], table[column], rtol=1e-12, atol=0,
                                       err_msg=f"{name}.{column}")
