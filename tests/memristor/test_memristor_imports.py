"""The memristor modules stay light: numpy, the standard library and ``coupling`` (itself numpy
only, checked in tests/coupling; it holds the reduced model and its tables) -- no dolfinx, no
scipy -- so that circuit code and post-processing can use them without the finite-element stack."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "solvers" / "memristor"
MODULES = sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_numpy_and_stdlib_imports(path):
    allowed = {"numpy", "__future__"} | set(sys.stdlib_module_names)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: within ionslit.solvers.memristor
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            light = name.split(".")[0] in allowed or name == "ionslit.coupling" \
                or name.startswith("ionslit.coupling.")
            assert light, f"{path.name} imports {name}"


def test_package_found():
    assert {p.name for p in MODULES} >= {"loops.py", "sweep.py", "steps.py",
                                         "reduced_model.py", "spice.py"}
