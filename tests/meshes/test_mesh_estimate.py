"""estimate_cell_count: within a factor 2 of gmsh's count, and cheap (no gmsh, no dolfinx)."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import subprocess
import sys

import pytest
from mesh_helpers import CASES, nm

from ionslit.meshes import MeshSpec, SlitPlaneGeometry, estimate_cell_count

# The project's in-plane device: L = W = 2 um with 0.5 um reservoir strips.
PLANE_2UM = (
    SlitPlaneGeometry(
        length=2000 * nm,
        width=2000 * nm,
        height=0.7 * nm,
        reservoir_length=500 * nm,
        reservoir_width=3000 * nm,
        mouth_radius=20 * nm,
    ),
    MeshSpec(
        wall_size=2 * nm,
        max_size=200 * nm,
        mouth_size=2 * nm,
        charged_walls=("slit_wall_top", "slit_wall_bottom"),
    ),
)


@pytest.mark.mpi
@pytest.mark.parametrize("case", ["slit", "slit_plane", "cone", "slit3d", "plane_2um"])
def test_estimate_within_factor_two(build, case):
    geometry, spec = PLANE_2UM if case == "plane_2um" else CASES[case]
    slit_mesh = build(geometry, spec)
    real = slit_mesh.mesh.topology.index_map(slit_mesh.mesh.topology.dim).size_global
    estimate = estimate_cell_count(geometry, spec)
    print(f"{case}: real {real}, estimate {estimate}, ratio {estimate / real:.3f}")
    assert 0.5 < estimate / real < 2.0


def test_estimate_scales_with_the_wall_size():
    """Halving every size roughly quadruples a 2D mesh."""
    geometry, spec = CASES["slit"]
    finer = MeshSpec(
        wall_size=spec.wall_size / 2,
        max_size=spec.max_size / 2,
        mouth_size=spec.mouth_size / 2,
        charged_walls=spec.charged_walls,
        cells_across_slit=2 * spec.cells_across_slit,
    )
    ratio = estimate_cell_count(geometry, finer) / estimate_cell_count(geometry, spec)
    assert 3.5 < ratio < 4.5


def test_estimate_needs_neither_gmsh_nor_dolfinx():
    code = (
        "import sys, ionslit.meshes\n"
        "from ionslit.meshes import SlitGeometry, MeshSpec, estimate_cell_count\n"
        "geometry = SlitGeometry(1e-6, 2e-9, 5e-7, 5e-7)\n"
        "n = estimate_cell_count(geometry, MeshSpec(2e-10, 5e-8, 2e-10))\n"
        "assert n > 1000, n\n"
        "assert 'gmsh' not in sys.modules and 'dolfinx' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-P", "-c", code], check=True, timeout=60)
