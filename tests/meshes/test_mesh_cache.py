"""The .msh cache: reused for identical parameters, distinct otherwise, written atomically,
decided on rank 0."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import dataclasses
from pathlib import Path

import pytest
from mesh_helpers import CASES, nm
from mpi4py import MPI

import ionslit.meshes.build
from ionslit.meshes.build import build_slit_mesh
from ionslit.meshes.cache import cache_path, default_cache_dir, write_atomically

GEOMETRY = dataclasses.replace(
    CASES["slit"][0], length=20 * nm, reservoir_length=10 * nm, reservoir_height=10 * nm
)
SPEC = dataclasses.replace(CASES["slit"][1], max_size=2 * nm)


def stamp(path: Path):
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


@pytest.fixture
def count_builds(monkeypatch):
    """Counts calls of the gmsh builder on this rank."""
    calls = []
    original = ionslit.meshes.build.build_model

    def counting(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(ionslit.meshes.build, "build_model", counting)
    return calls


def cells(slit_mesh):
    return slit_mesh.mesh.topology.index_map(slit_mesh.mesh.topology.dim).size_global


@pytest.mark.mpi
def test_identical_parameters_reuse_the_file(shared_tmp, count_builds, comm):
    first = build_slit_mesh(GEOMETRY, SPEC, cache_dir=shared_tmp)
    assert len(count_builds) == (1 if comm.rank == 0 else 0)
    before = stamp(first.mesh_file) if comm.rank == 0 else None
    second = build_slit_mesh(GEOMETRY, SPEC, cache_dir=shared_tmp)
    assert len(count_builds) == (1 if comm.rank == 0 else 0)  # the builder was not called again
    assert second.mesh_file == first.mesh_file
    if comm.rank == 0:
        assert stamp(first.mesh_file) == before  # same file, untouched
        assert sorted(p.name for p in shared_tmp.iterdir()) == [first.mesh_file.name]
    assert cells(second) == cells(first)


@pytest.mark.mpi
def test_parameters_that_shape_the_mesh_change_the_file(shared_tmp, count_builds, comm):
    base = build_slit_mesh(GEOMETRY, SPEC, cache_dir=shared_tmp)
    finer = build_slit_mesh(
        GEOMETRY, dataclasses.replace(SPEC, wall_size=0.15 * nm), cache_dir=shared_tmp
    )
    longer = build_slit_mesh(
        dataclasses.replace(GEOMETRY, length=21 * nm), SPEC, cache_dir=shared_tmp
    )
    files = {base.mesh_file, finer.mesh_file, longer.mesh_file}
    assert len(files) == 3
    assert len(count_builds) == (3 if comm.rank == 0 else 0)
    assert cells(finer) > cells(base)
    # Neither the depth nor the Debye length enters the mesh: same file, no build.
    deeper = build_slit_mesh(dataclasses.replace(GEOMETRY, depth=2e-6), SPEC, cache_dir=shared_tmp)
    other_debye = dataclasses.replace(SPEC, debye_length=10 * nm)
    assert build_slit_mesh(GEOMETRY, other_debye, cache_dir=shared_tmp).mesh_file == base.mesh_file
    assert deeper.mesh_file == base.mesh_file and deeper.depth == 2e-6
    assert len(count_builds) == (3 if comm.rank == 0 else 0)
    # "walls" and the explicit list of all walls describe the same mesh.
    every = (
        "slit_wall_top",
        "slit_wall_bottom",
        "reservoir_wall_left",
        "reservoir_wall_right",
        "reservoir_side_left",
        "reservoir_side_right",
    )
    union = dataclasses.replace(SPEC, charged_walls=("walls",))
    explicit = dataclasses.replace(SPEC, charged_walls=tuple(reversed(every)))
    assert cache_path(GEOMETRY, union, shared_tmp) == cache_path(GEOMETRY, explicit, shared_tmp)


@pytest.mark.mpi
def test_only_rank_zeros_cache_directory_counts(shared_tmp, tmp_path, comm):
    """Each rank may pass its own directory; rank 0 decides, the others never touch theirs."""
    own = shared_tmp if comm.rank == 0 else tmp_path / "never-created"
    slit_mesh = build_slit_mesh(GEOMETRY, SPEC, cache_dir=own)
    assert slit_mesh.mesh_file.parent == shared_tmp
    assert comm.rank == 0 or not own.exists()


def test_default_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("IONSLIT_CACHE_DIR", str(tmp_path / "cache"))
    assert default_cache_dir() == tmp_path / "cache" / "meshes"
    monkeypatch.delenv("IONSLIT_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "ionslit" / "meshes"


def test_build_uses_the_default_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("IONSLIT_CACHE_DIR", str(tmp_path))
    slit_mesh = build_slit_mesh(GEOMETRY, SPEC, comm=MPI.COMM_SELF)
    assert slit_mesh.mesh_file.parent == tmp_path / "meshes"
    assert slit_mesh.mesh_file.exists()


def test_atomic_write_never_exposes_a_partial_file(tmp_path):
    target = tmp_path / "sub" / "mesh.msh"

    def write(temporary: Path):
        assert temporary.suffix == ".msh" and temporary.parent == target.parent
        temporary.write_text("half")
        assert not target.exists()  # readers see nothing until the rename
        temporary.write_text("whole")

    write_atomically(target, write)
    assert target.read_text() == "whole"

    def fail(temporary: Path):
        temporary.write_text("broken")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(target, fail)
    assert target.read_text() == "whole"
    assert [p.name for p in target.parent.iterdir()] == ["mesh.msh"]  # no temporary left


@pytest.mark.mpi
def test_builder_failure_reaches_every_rank(monkeypatch, shared_tmp):
    def broken(*args):
        raise RuntimeError("gmsh exploded")

    monkeypatch.setattr(ionslit.meshes.build, "build_model", broken)
    with pytest.raises(RuntimeError, match="gmsh exploded"):
        build_slit_mesh(GEOMETRY, SPEC, cache_dir=shared_tmp)
    assert not any(shared_tmp.iterdir())
