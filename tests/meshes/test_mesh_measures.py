"""Tagged lengths, areas and volumes against their analytic values, and non-empty groups."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import math

import pytest
from mesh_helpers import CASES, global_count, group_integrals

from ionslit.meshes.report import adequacy_report

EXACT = 1e-10  # relative tolerance for straight edges and flat faces


def expected_planar(L, h, Lr, Hr):
    """Slit cross-section (also slit_plane with h = width, Hr = reservoir width): lengths and
    areas; mouth chords are interior facets (dS)."""
    facets = {
        "slit_wall_top": L,
        "slit_wall_bottom": L,
        "reservoir_wall_left": Hr - h,
        "reservoir_wall_right": Hr - h,
        "reservoir_left": Hr,
        "reservoir_right": Hr,
        "reservoir_side_left": 2 * Lr,
        "reservoir_side_right": 2 * Lr,
    }
    facets["walls"] = sum(v for k, v in facets.items() if "wall" in k or "side" in k)
    cells = {"slit": L * h, "reservoir_left_bulk": Lr * Hr, "reservoir_right_bulk": Lr * Hr}
    cells["fluid"] = sum(cells.values())
    return cells, facets, {"mouth_left": h, "mouth_right": h}


def expected_cone(g):
    """Surface areas and volumes of the body of revolution."""
    a, b, L, Lr, R = g.tip_radius, g.base_radius, g.length, g.reservoir_length, g.reservoir_radius
    facets = {
        "slit_wall": math.pi * (a + b) * math.hypot(L, b - a),
        "reservoir_wall_left": math.pi * (R**2 - a**2),
        "reservoir_wall_right": math.pi * (R**2 - b**2),
        "reservoir_left": math.pi * R**2,
        "reservoir_right": math.pi * R**2,
        "reservoir_side_left": 2 * math.pi * R * Lr,
        "reservoir_side_right": 2 * math.pi * R * Lr,
        "axis": 0.0,
    }
    facets["walls"] = sum(v for k, v in facets.items() if "wall" in k or "side" in k)
    cells = {
        "slit": math.pi * L * (a * a + a * b + b * b) / 3,
        "reservoir_left_bulk": math.pi * R**2 * Lr,
        "reservoir_right_bulk": math.pi * R**2 * Lr,
    }
    cells["fluid"] = sum(cells.values())
    return cells, facets, {"mouth_left": math.pi * a * a, "mouth_right": math.pi * b * b}


def expected_slab(g):
    L, W, h, Lr, Wr, Hr = (
        g.length,
        g.width,
        g.height,
        g.reservoir_length,
        g.reservoir_width,
        g.reservoir_height,
    )
    facets = {
        "slit_wall_top": L * W,
        "slit_wall_bottom": L * W,
        "slit_wall_side": 2 * L * h,
        "reservoir_wall_left": Wr * Hr - W * h,
        "reservoir_wall_right": Wr * Hr - W * h,
        "reservoir_left": Wr * Hr,
        "reservoir_right": Wr * Hr,
        "reservoir_side_left": 2 * Lr * (Wr + Hr),
        "reservoir_side_right": 2 * Lr * (Wr + Hr),
    }
    facets["walls"] = sum(facets[k] for k in facets if "wall" in k or "side" in k)
    cells = {
        "slit": L * W * h,
        "reservoir_left_bulk": Lr * Wr * Hr,
        "reservoir_right_bulk": Lr * Wr * Hr,
    }
    cells["fluid"] = sum(cells.values())
    return cells, facets, {"mouth_left": W * h, "mouth_right": W * h}


def expected(kind):
    g = CASES[kind][0]
    if kind == "slit":
        return expected_planar(g.length, g.height, g.reservoir_length, g.reservoir_height)
    if kind == "slit_plane":
        return expected_planar(g.length, g.width, g.reservoir_length, g.reservoir_width)
    if kind == "cone":
        return expected_cone(g)
    return expected_slab(g)


def assert_close(measured: dict, wanted: dict, what: str):
    for name, value in wanted.items():
        scale = abs(value) or max(abs(v) for v in wanted.values())  # zero: relative to the rest
        assert abs(measured[name] - value) <= EXACT * scale, (
            f"{what} {name}: {measured[name]!r} != {value!r} "
            f"(relative error {abs(measured[name] - value) / scale:.2e})"
        )


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["slit", "slit_plane", "cone", "slit3d"])
def test_tagged_measures_are_exact(standard, kind):
    """Straight edges and flat faces (with the 2 pi r weight for the cone: Pappus is exact for
    straight generators) integrate to their analytic values."""
    slit_mesh = standard(kind)
    cells, facets, mouths = expected(kind)
    revolve = kind == "cone"
    assert_close(group_integrals(slit_mesh, "dx", revolve), cells, "volume")
    exterior = group_integrals(slit_mesh, "ds", revolve)
    assert_close(exterior, facets, "boundary")
    assert_close(group_integrals(slit_mesh, "dS", revolve), mouths, "mouth")
    # Mouth chords are interior facets: an exterior-facet integral over them is empty.
    assert exterior["mouth_left"] == 0.0 and exterior["mouth_right"] == 0.0
    # The report's numpy measures agree with the assembled ones.
    report = adequacy_report(slit_mesh, CASES[kind][1])
    assert_close(report.group_measures, {**cells, **facets, **mouths}, "report")


@pytest.mark.mpi
def test_cone_axis_and_generator_lengths(standard):
    """Unweighted, the axis spans the whole device and the slit wall is the straight generator."""
    g = CASES["cone"][0]
    lengths = group_integrals(standard("cone"), "ds")
    span = g.length + 2 * g.reservoir_length
    assert abs(lengths["axis"] - span) <= EXACT * span
    generator = math.hypot(g.length, g.base_radius - g.tip_radius)
    assert abs(lengths["slit_wall"] - generator) <= EXACT * generator


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["slit", "slit_plane", "cone", "slit3d"])
def test_every_group_is_non_empty(standard, kind):
    slit_mesh = standard(kind)
    for name in slit_mesh.facet_groups:
        assert global_count(slit_mesh, name) > 0, name
    for name in slit_mesh.cell_groups:
        assert global_count(slit_mesh, name, cells=True) > 0, name
    total = slit_mesh.mesh.topology.index_map(slit_mesh.mesh.topology.dim).size_global
    assert global_count(slit_mesh, "fluid", cells=True) == total


@pytest.mark.mpi
def test_slit_metadata(standard):
    slit_mesh = standard("slit")
    g = CASES["slit"][0]
    assert slit_mesh.coordinates == "planar" and slit_mesh.depth == g.depth
    assert slit_mesh.characteristic_lengths["length"] == g.length
    assert slit_mesh.characteristic_lengths["height"] == g.height
    cone = standard("cone")
    assert cone.coordinates == "axisymmetric"
    assert cone.characteristic_lengths["height"] == 2 * CASES["cone"][0].tip_radius
    assert cone.facet_groups["axis"][0] not in cone.facet_groups["walls"]
    plane = standard("slit_plane")
    assert plane.depth == CASES["slit_plane"][0].height
    assert standard("slit3d").coordinates == "3d"
    assert slit_mesh.mesh_file is not None and slit_mesh.mesh_file.suffix == ".msh"
