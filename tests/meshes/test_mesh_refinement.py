"""The size fields do what MeshSpec asks: fine charged walls, fine mouths, enough cells across
the slit, graded up to max_size, good cells; and the report measures it."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import dataclasses

import dolfinx
import numpy as np
import pytest
from mesh_helpers import CASES
from mpi4py import MPI

from ionslit.meshes.report import adequacy_report

KINDS = ["slit", "slit_plane", "cone", "slit3d"]
# Largest cell diameter / target edge size that gmsh's cells reach: triangles, tetrahedra.
SLACK = {2: 1.6, 3: 2.5}


def slack(kind):
    return SLACK[3 if kind == "slit3d" else 2]


def cells_of(slit_mesh, group):
    """Owned cells of a cell group and their diameters (m)."""
    mesh = slit_mesh.mesh
    tdim = mesh.topology.dim
    cells = slit_mesh.cell_tags.find(slit_mesh.cell_groups[group][0])
    cells = cells[cells < mesh.topology.index_map(tdim).size_local]
    return cells, mesh.h(tdim, cells)


def global_max(comm, values):
    return comm.allreduce(float(np.max(values, initial=0.0)), op=MPI.MAX)


@pytest.mark.mpi
@pytest.mark.parametrize("kind", KINDS)
def test_charged_walls_meet_the_debye_criterion(standard, kind):
    """wall_size bounds the extent normal to the wall of every cell on a charged wall (the
    report's conservative measure), so wall_size = debye_length / 4, the default of case files,
    gives >= 4 cells per Debye length; a Debye length of one wall size does not."""
    slit_mesh = standard(kind)
    spec = dataclasses.replace(CASES[kind][1], debye_length=4 * CASES[kind][1].wall_size)
    report = adequacy_report(slit_mesh, spec)
    print(f"{kind}: {report.min_cells_per_debye:.2f} cells per Debye length")
    assert [w.group for w in report.walls] == sorted(spec.charged_walls)
    assert all(w.facets > 0 for w in report.walls)
    assert report.min_cells_per_debye >= 4
    thin = dataclasses.replace(spec, debye_length=spec.wall_size)
    assert adequacy_report(slit_mesh, thin).min_cells_per_debye < 4


@pytest.mark.mpi
@pytest.mark.parametrize("kind", KINDS)
def test_only_charged_walls_are_refined(standard, kind):
    slit_mesh = standard(kind)
    spec = CASES[kind][1]
    everywhere = dataclasses.replace(spec, charged_walls=("walls",))
    walls = {w.group: w for w in adequacy_report(slit_mesh, everywhere).walls}
    for name in spec.charged_walls:
        assert walls[name].max_cell_diameter <= slack(kind) * spec.wall_size, name
    for name in ("reservoir_side_left", "reservoir_side_right"):
        assert walls[name].mean_cell_diameter > 3 * spec.wall_size, name


@pytest.mark.mpi
@pytest.mark.parametrize("kind", KINDS)
def test_cells_across_the_slit(standard, kind):
    """Slit cells are no larger than the local opening / cells_across_slit (the full height of a
    planar slit or slab, the local radius of the cone)."""
    slit_mesh = standard(kind)
    g, spec = CASES[kind]
    cells, diameters = cells_of(slit_mesh, "slit")
    if kind == "cone":
        midpoints = dolfinx.mesh.compute_midpoints(
            slit_mesh.mesh, slit_mesh.mesh.topology.dim, cells
        )
        radius = g.tip_radius + (g.base_radius - g.tip_radius) * midpoints[:, 0] / g.length
        limit = radius / spec.cells_across_slit
    else:
        limit = (g.width if kind == "slit_plane" else g.height) / spec.cells_across_slit
    worst = global_max(slit_mesh.mesh.comm, diameters / limit)
    print(f"{kind}: largest slit cell / (opening / n) = {worst:.2f}")
    assert worst <= slack(kind)


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["slit", "cone"])
def test_mouth_corners_are_refined(standard, kind):
    slit_mesh = standard(kind)
    g, spec = CASES[kind]
    corner = np.array([0.0, g.height / 2 if kind == "slit" else g.tip_radius])
    mesh = slit_mesh.mesh
    tdim = mesh.topology.dim
    owned = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
    points = mesh.geometry.x[dolfinx.mesh.entities_to_geometry(mesh, tdim, owned)][:, :, :2]
    touching = np.any(np.linalg.norm(points - corner, axis=2) < 1e-6 * spec.mouth_size, axis=1)
    count = mesh.comm.allreduce(int(touching.sum()), op=MPI.SUM)
    worst = global_max(mesh.comm, mesh.h(tdim, owned[touching]))
    assert count >= 3
    assert worst <= slack(kind) * spec.mouth_size


@pytest.mark.mpi
@pytest.mark.parametrize("kind", KINDS)
def test_sizes_grade_up_to_max_size_with_good_cells(standard, kind):
    slit_mesh = standard(kind)
    spec = CASES[kind][1]
    report = adequacy_report(slit_mesh, spec)
    print(
        f"{kind}: {report.num_cells} cells, diameters {report.min_cell_size:.3g}.."
        f"{report.max_cell_size:.3g} m, quality min {report.min_quality:.3f} "
        f"mean {report.mean_quality:.3f}"
    )
    assert 0.5 * spec.max_size < report.max_cell_size <= slack(kind) * spec.max_size
    assert report.min_quality >= (0.2 if kind == "slit3d" else 0.5)
    assert report.mean_quality >= (0.75 if kind == "slit3d" else 0.9)


@pytest.mark.mpi
def test_report_text_and_dict(standard):
    spec = CASES["slit"][1]
    report = adequacy_report(standard("slit"), spec)
    text = report.format()
    for needle in ("slit_wall_top", "per Debye length", "quality", str(report.num_cells)):
        assert needle in text
    record = report.to_dict()
    assert record["num_cells"] == report.num_cells
    assert record["walls"][0]["group"] == "slit_wall_bottom"
    no_debye = adequacy_report(standard("slit"), dataclasses.replace(spec, debye_length=None))
    assert no_debye.min_cells_per_debye is None and "not given" in no_debye.format()


@pytest.mark.mpi
def test_short_boundary_pieces_are_resolved(build):
    """A reservoir 0.01 % wider than the cone's base leaves a 1 pm wall ring at the base: the size
    field refines around it instead of leaving slivers, and the ring's area stays exact."""
    g = dataclasses.replace(CASES["cone"][0], length=50e-9, reservoir_length=20e-9)
    g = dataclasses.replace(g, reservoir_radius=g.base_radius * (1 + 1e-4))
    spec = CASES["cone"][1]
    slit_mesh = build(g, spec)
    report = adequacy_report(slit_mesh, spec)
    ring = np.pi * (g.reservoir_radius**2 - g.base_radius**2)
    assert report.group_measures["reservoir_wall_right"] == pytest.approx(ring, rel=1e-9)
    assert report.min_quality >= 0.5
