"""Unbuildable geometries and meshing parameters fail early, naming the offending field."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import dataclasses
import math
import pickle

import pytest
from mesh_helpers import CASES, global_count, nm

from ionslit.meshes import (
    GeometryError,
    MeshSpecError,
    validate_geometry,
    validate_mesh_spec,
)
from ionslit.meshes.build import build_slit_mesh

SLIT, CONE, PLANE, SLAB = (CASES[k][0] for k in ("slit", "cone", "slit_plane", "slit3d"))

BAD_GEOMETRIES = [
    (SLIT, "length", 0.0),
    (SLIT, "height", -2 * nm),
    (SLIT, "reservoir_length", math.nan),
    (SLIT, "reservoir_height", 1 * nm),  # narrower than the 2 nm slit
    (SLIT, "depth", 0.0),
    (SLIT, "mouth_radius", -1 * nm),
    (SLIT, "mouth_radius", 24 * nm),  # (50 - 2) / 2 nm of reservoir wall beside the mouth
    (SLIT, "mouth_radius", 50 * nm),  # two fillets on a 100 nm slit
    (SLIT, "length", "100 nm"),
    (CONE, "tip_radius", 0.0),
    (CONE, "base_radius", -1 * nm),
    (CONE, "reservoir_radius", 9 * nm),  # narrower than the 10 nm base
    (CONE, "mouth_radius", 45 * nm),
    (PLANE, "width", 0.0),
    (PLANE, "height", -0.7 * nm),
    (PLANE, "reservoir_width", 99 * nm),
    (SLAB, "reservoir_width", 9 * nm),
    (SLAB, "reservoir_height", 3 * nm),
    (SLAB, "height", math.inf),
    (SLIT, "reservoir_height", 2 * nm * (1 + 1e-9)),  # a sliver wider than the slit
    (SLIT, "kind", "cone"),
]


@pytest.mark.parametrize(("geometry", "key", "value"), BAD_GEOMETRIES)
def test_bad_geometry_names_the_field(geometry, key, value):
    bad = dataclasses.replace(geometry, **{key: value})
    with pytest.raises(GeometryError) as caught:
        validate_geometry(bad)
    assert caught.value.key == key
    assert key in str(caught.value)
    assert caught.value.value == value or math.isnan(value)


def test_good_geometries_and_equal_widths_pass():
    for geometry, _ in CASES.values():
        validate_geometry(geometry)
    validate_geometry(dataclasses.replace(SLIT, reservoir_height=SLIT.height))
    validate_geometry(dataclasses.replace(CONE, reservoir_radius=CONE.base_radius))
    validate_geometry(dataclasses.replace(SLIT, mouth_radius=23.9 * nm))


def test_geometry_error_survives_pickling():
    """MPI moves exceptions between ranks by pickling them."""
    error = pickle.loads(pickle.dumps(GeometryError("height", -1.0, "must be > 0")))
    assert (error.key, error.value, error.message) == ("height", -1.0, "must be > 0")


BAD_SPECS = [
    ("wall_size", 0.0),
    ("max_size", -1 * nm),
    ("mouth_size", math.nan),
    ("wall_size", 20 * nm),  # above max_size
    ("growth", 1.0),
    ("cells_across_slit", 0),
    ("cells_across_slit", 2.5),
    ("debye_length", -1 * nm),
    ("charged_walls", ("slit_wall",)),  # the cone's name, not the slit's
    ("charged_walls", ("axis",)),
    ("charged_walls", "slit_wall_top"),  # a bare string, not a tuple
]


@pytest.mark.parametrize(("key", "value"), BAD_SPECS)
def test_bad_mesh_spec_names_the_field(key, value):
    spec = dataclasses.replace(CASES["slit"][1], **{key: value})
    with pytest.raises(MeshSpecError) as caught:
        validate_mesh_spec(spec, SLIT)
    assert caught.value.key == key
    assert isinstance(caught.value, GeometryError)  # one exit code for the CLI


def test_charged_walls_may_name_the_union():
    validate_mesh_spec(dataclasses.replace(CASES["cone"][1], charged_walls=("walls",)), CONE)
    with pytest.raises(MeshSpecError):
        validate_mesh_spec(
            dataclasses.replace(CASES["cone"][1], charged_walls=("walls", "axis")), CONE
        )


@pytest.mark.mpi
def test_build_validates_before_meshing(shared_tmp):
    bad = dataclasses.replace(SLIT, reservoir_height=1 * nm)
    with pytest.raises(GeometryError) as caught:
        build_slit_mesh(bad, CASES["slit"][1], cache_dir=shared_tmp)
    assert caught.value.key == "reservoir_height"
    assert not any(shared_tmp.iterdir())


@pytest.mark.mpi
def test_reservoir_as_wide_as_the_slit_builds_with_empty_mouth_walls(build):
    """Equal widths are allowed: the slit wall runs into the reservoir side, the mouth walls are
    empty (their names stay in the mapping), and every other group is present."""
    geometry = dataclasses.replace(
        SLIT, reservoir_height=SLIT.height, length=20 * nm, reservoir_length=10 * nm
    )
    spec = dataclasses.replace(CASES["slit"][1], max_size=2 * nm)
    slit_mesh = build(geometry, spec)
    for name in slit_mesh.facet_groups:
        count = global_count(slit_mesh, name)
        assert (count == 0) == (name in ("reservoir_wall_left", "reservoir_wall_right")), name
