"""1 rank and 2 ranks give the same mesh; XDMF files written in parallel read back with h5py."""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from mesh_helpers import CASES, global_count, group_integrals
from mpi4py import MPI

from ionslit.meshes.kinds import CELL_TAGS, FACET_TAGS
from ionslit.meshes.report import adequacy_report
from ionslit.meshes.xdmf import write_mesh_xdmf

PROBE = Path(__file__).with_name("mesh_parallel_probe.py")
MPIRUN = Path(sys.executable).parent / "mpirun"


def check_xdmf(path: Path, slit_mesh) -> None:
    """The .h5 next to ``path`` holds every cell once, every tagged facet once, and the tags."""
    cells = slit_mesh.mesh.topology.index_map(slit_mesh.mesh.topology.dim).size_global
    atomic = [name for name, tags in slit_mesh.facet_groups.items() if len(tags) == 1]
    tagged_facets = sum(global_count(slit_mesh, name) for name in atomic)
    with h5py.File(path.with_suffix(".h5"), "r") as h5:
        assert h5["Mesh/mesh/topology"].shape[0] == cells
        cell_values = h5["MeshTags/cell_tags/Values"][:].ravel()
        facet_values = h5["MeshTags/facet_tags/Values"][:].ravel()
        assert h5["MeshTags/facet_tags/topology"].shape[0] == len(facet_values)
    assert len(cell_values) == cells
    assert set(np.unique(cell_values)) == set(CELL_TAGS.values())
    assert len(facet_values) == tagged_facets
    assert set(np.unique(facet_values)) <= set(FACET_TAGS.values())
    groups = json.loads(path.with_name(f"{path.stem}.groups.json").read_text())
    assert groups["facet_groups"]["walls"] == list(slit_mesh.facet_groups["walls"])
    assert groups["coordinates"] == slit_mesh.coordinates


@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="launches its own 2-rank job")
def test_two_ranks_match_one_rank(standard, tmp_path):
    """A 2-rank job (building its own mesh) has the serial mesh's cells, vertices and measures,
    and writes XDMF files with every cell and tag."""
    command = [str(MPIRUN), "-n", "2", sys.executable, str(PROBE), str(tmp_path), str(tmp_path)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA_"))}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    parallel = json.loads(result.stdout.strip().splitlines()[-1])
    for kind, (_, spec) in CASES.items():
        serial_mesh = standard(kind)
        serial = adequacy_report(serial_mesh, spec)
        run = parallel[kind]
        assert run["ranks"] == 2 and min(run["local_cells"]) > 0  # really distributed
        assert run["cells"] == serial.num_cells
        assert run["vertices"] == serial.num_vertices
        revolve = kind == "cone"
        for key, values in (
            ("measures", serial.group_measures),
            ("areas", group_integrals(serial_mesh, "ds", revolve)),
            ("volumes", group_integrals(serial_mesh, "dx", revolve)),
        ):
            for name, value in values.items():
                expected = pytest.approx(value, rel=1e-12, abs=1e-30)
                assert run[key][name] == expected, f"{kind} {key} {name}"
        check_xdmf(tmp_path / f"{kind}.xdmf", serial_mesh)


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["slit", "cone", "slit3d"])
def test_xdmf_readable_with_h5py(standard, shared_tmp, kind):
    """Written collectively (closed and synchronised on return), then read by every rank."""
    slit_mesh = standard(kind)
    path = shared_tmp / "out" / f"{kind}.xdmf"
    assert write_mesh_xdmf(slit_mesh, path) == path.with_name(f"{kind}.groups.json")
    check_xdmf(path, slit_mesh)
