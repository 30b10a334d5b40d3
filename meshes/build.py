"""Build (or reuse) the gmsh mesh on rank 0 and distribute it as a dolfinx mesh in metres."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dolfinx.io.gmsh
import gmsh
from mpi4py import MPI

from ionslit.meshes import kinds
from ionslit.meshes.builders import build_model
from ionslit.meshes.cache import cache_path, default_cache_dir, write_atomically
from ionslit.meshes.geometry import Geometry, MeshSpec
from ionslit.meshes.layout import MODEL_SCALE
from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.meshes.validation import validate_geometry, validate_mesh_spec

logger = logging.getLogger(__name__)


@contextmanager
def _gmsh_model(verbose: bool) -> Iterator[None]:
    """A fresh current gmsh model; gmsh is initialised (and finalised) here unless the caller
    already runs a gmsh session."""
    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(readConfigFiles=False, interruptible=False)
    gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
    gmsh.model.add(f"ionslit-{uuid.uuid4().hex}")
    try:
        yield
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()


def _load_or_build(geometry: Geometry, spec: MeshSpec, path: Path) -> None:
    """Fill gmsh's current model with the mesh: read ``path`` if present, else build and cache."""
    if path.exists():
        gmsh.merge(str(path))
        logger.info("reusing cached mesh %s", path)
        return
    start = time.perf_counter()
    build_model(geometry, spec)
    write_atomically(path, lambda temporary: gmsh.write(str(temporary)))
    logger.info(
        "built %s mesh in %.2f s, cached as %s", geometry.kind, time.perf_counter() - start, path
    )


def _check_groups(physical_groups: dict, gdim: int) -> None:
    """Every group in the file must carry this builder's tag for its name."""
    for name, (dim, tag) in physical_groups.items():
        table = kinds.CELL_TAGS if dim == gdim else kinds.FACET_TAGS
        if table.get(name) != tag:
            raise RuntimeError(
                f"mesh file has group {name!r} with tag {tag}, expected {table.get(name)}: "
                "a stale or foreign cache file; delete it"
            )


def build_slit_mesh(
    geometry: Geometry,
    spec: MeshSpec,
    comm: MPI.Comm = MPI.COMM_WORLD,
    cache_dir: str | Path | None = None,
    verbose: bool = False,
) -> SlitMesh:
    """Distributed, tagged mesh of ``geometry`` (SI units) sized by ``spec``.

    Validates first (GeometryError / MeshSpecError on every rank). Rank 0 reads the cached
    ``.msh`` for these parameters from ``cache_dir`` (default: ``ionslit.meshes.cache.default_cache_dir``)
    or builds it with gmsh and caches it; only rank 0's ``cache_dir`` is used. dolfinx then
    partitions the mesh over ``comm``. ``verbose`` lets gmsh print to the terminal.
    """
    validate_geometry(geometry)
    validate_mesh_spec(spec, geometry)
    gdim = 3 if geometry.kind == "slit3d" else 2
    with ExitStack() as session:
        failure, path = None, None
        if comm.rank == 0:
            try:
                session.enter_context(_gmsh_model(verbose))
                path = cache_path(geometry, spec, Path(cache_dir or default_cache_dir()))
                _load_or_build(geometry, spec, path)
            except Exception as error:  # reported on every rank below
                failure = f"{type(error).__name__}: {error}"
                logger.exception("mesh generation failed")
        failure, path = comm.bcast((failure, path), root=0)
        if failure is not None:
            raise RuntimeError(f"mesh generation on rank 0 failed: {failure}")
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=gdim)
    _check_groups(data.physical_groups, gdim)
    data.mesh.geometry.x[:] /= MODEL_SCALE
    assert data.cell_tags is not None and data.facet_tags is not None  # groups checked above
    return SlitMesh(
        mesh=data.mesh,
        cell_tags=data.cell_tags,
        facet_tags=data.facet_tags,
        cell_groups=kinds.cell_groups(),
        facet_groups=kinds.facet_groups(geometry.kind),
        coordinates=kinds.coordinates(geometry),
        geometry=geometry,
        depth=kinds.depth(geometry),
        characteristic_lengths=kinds.characteristic_lengths(geometry),
        mesh_file=path,
    )
