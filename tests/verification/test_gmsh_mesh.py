"""Meshes and solvers together: the same charged slit on the gmsh mesh
(ionslit.meshes.build.build_slit_mesh) and on the structured verification mesh gives the same current,
inventory and zero-current potential (different meshes: agreement to the discretisation
error)."""

import ionslit.meshes  # noqa: F401

# isort: split
import pytest

from ionslit.meshes import MeshSpec, SlitGeometry, structured
from ionslit.meshes.build import build_slit_mesh
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    Species,
    SurfaceCharge,
)

GEOMETRY = SlitGeometry(length=50e-9, height=4e-9, reservoir_length=25e-9,
                        reservoir_height=50e-9)
WALLS = ("slit_wall_top", "slit_wall_bottom")


def solve(mesh):
    el = Electrolyte((Species("K", 1, 1.957e-9, 10.0, 2.0), Species("Cl", -1, 2.032e-9, 10.0, 2.0)))
    model = PNPModel(mesh, el, Boundary(walls={w: SurfaceCharge(-0.02) for w in WALLS}))
    current = model.solve_steady(0.1).current
    inventory = model.observables.inventories("slit")["amount_K_mol"]
    reversal = model.solve_steady_clamped(0.0).voltage
    return current, inventory, reversal


@pytest.mark.mpi
def test_gmsh_and_structured_meshes_agree(comm, tmp_path_factory):
    cache = tmp_path_factory.mktemp("meshes") if comm.rank == 0 else None
    spec = MeshSpec(wall_size=0.1e-9, max_size=5e-9, mouth_size=0.2e-9, charged_walls=WALLS,
                    cells_across_slit=8, growth=1.3)
    gmsh_mesh = build_slit_mesh(GEOMETRY, spec, comm, cache)
    reference = structured.slit_with_reservoirs(
        comm, GEOMETRY.length, GEOMETRY.height, GEOMETRY.reservoir_length,
        GEOMETRY.reservoir_height, wall_size=0.1e-9, mouth_size=0.2e-9, max_size=5e-9,
        growth=1.2)
    g, s = solve(gmsh_mesh), solve(reference)
    assert g[0] == pytest.approx(s[0], rel=1e-2)  # current (measured 0.15 %)
    assert g[1] == pytest.approx(s[1], rel=5e-3)  # K in the slit
    assert g[2] == pytest.approx(s[2], rel=1e-2)  # reversal potential
