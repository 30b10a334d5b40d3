"""Rounded mouths: straight parts stay exact, the arcs converge at second order."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import math

import dolfinx
import numpy as np
import pytest
from mesh_helpers import group_integrals, nm
from mpi4py import MPI

from ionslit.meshes import ConeGeometry, MeshSpec, SlitGeometry

R = 2 * nm
FILLETED = SlitGeometry(
    length=20 * nm,
    height=2 * nm,
    reservoir_length=10 * nm,
    reservoir_height=20 * nm,
    mouth_radius=R,
)


def spec(mouth_size):
    return MeshSpec(wall_size=0.5 * nm, max_size=4 * nm, mouth_size=mouth_size)


def arc_facets(slit_mesh) -> int:
    """Facets of the left fillet arcs (reservoir_wall_left facets off the plane x = 0)."""
    mesh = slit_mesh.mesh
    fdim = mesh.topology.dim - 1
    facets = slit_mesh.facet_tags.find(slit_mesh.facet_groups["reservoir_wall_left"][0])
    facets = facets[facets < mesh.topology.index_map(fdim).size_local]
    dofs = dolfinx.mesh.entities_to_geometry(mesh, fdim, facets)
    midpoints_x = mesh.geometry.x[dofs][:, :, 0].mean(axis=1)
    return mesh.comm.allreduce(int(np.sum(midpoints_x > 1e-3 * R)), op=MPI.SUM)


@pytest.mark.mpi
def test_fillet_arcs_converge_at_second_order(build):
    g = FILLETED
    arc_walls = g.reservoir_height - g.height - 2 * R + math.pi * R  # two straight parts, two arcs
    pockets = 2 * R**2 * (1 - math.pi / 4)  # solid removed by the two left fillets
    reservoir = g.reservoir_length * g.reservoir_height + R * g.height + pockets
    counts, length_errors, area_errors = [], [], []
    for mouth_size in (0.4 * nm, 0.2 * nm, 0.1 * nm):
        slit_mesh = build(g, spec(mouth_size))
        lengths = group_integrals(slit_mesh, "ds")
        areas = group_integrals(slit_mesh, "dx")
        # Straight parts and the slit between the arcs stay exact.
        assert lengths["slit_wall_top"] == pytest.approx(g.length - 2 * R, rel=1e-10)
        assert areas["slit"] == pytest.approx((g.length - 2 * R) * g.height, rel=1e-10)
        assert group_integrals(slit_mesh, "dS")["mouth_left"] == pytest.approx(g.height, rel=1e-10)
        counts.append(arc_facets(slit_mesh))
        length_errors.append(arc_walls - lengths["reservoir_wall_left"])  # chords are shorter
        area_errors.append(areas["reservoir_left_bulk"] - reservoir)  # polygon cuts the pockets
    assert all(e > 0 for e in length_errors + area_errors)
    span = math.log(counts[-1] / counts[0])
    length_order = math.log(length_errors[0] / length_errors[-1]) / span
    area_order = math.log(area_errors[0] / area_errors[-1]) / span
    print(f"arc facets {counts}, length errors {length_errors}, area errors {area_errors}")
    print(f"orders: length {length_order:.3f}, area {area_order:.3f}")
    assert 1.8 < length_order < 2.3
    assert 1.8 < area_order < 2.3


@pytest.mark.mpi
def test_cone_fillets_shorten_the_generator_exactly(build):
    """Tangent points sit R / tan(theta / 2) from each corner along the generator."""
    g = ConeGeometry(
        length=40 * nm,
        tip_radius=2 * nm,
        base_radius=8 * nm,
        reservoir_length=20 * nm,
        reservoir_radius=20 * nm,
        mouth_radius=1 * nm,
    )
    slit_mesh = build(g, spec(0.2 * nm))
    opening = math.atan2(g.base_radius - g.tip_radius, g.length)  # half-angle of the cone
    theta_tip, theta_base = math.pi / 2 - opening, math.pi / 2 + opening
    cut = g.mouth_radius * (1 / math.tan(theta_tip / 2) + 1 / math.tan(theta_base / 2))
    straight = math.hypot(g.length, g.base_radius - g.tip_radius) - cut
    assert group_integrals(slit_mesh, "ds")["slit_wall"] == pytest.approx(straight, rel=1e-10)
