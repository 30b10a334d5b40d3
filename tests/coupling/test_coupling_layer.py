"""``ionslit.coupling`` is the pure-numpy bottom layer: importing it loads no MPI and no finite
elements."""

import subprocess
import sys

import pytest

HEAVY = ("mpi4py", "dolfinx", "petsc4py", "gmsh", "scipy", "ufl", "basix")


@pytest.mark.parametrize("module", ["ionslit.coupling", "ionslit.coupling.memristor"])
def test_importing_the_coupling_layer_loads_no_mpi_or_finite_elements(module):
    code = (f"import sys, {module}\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.split() == []
