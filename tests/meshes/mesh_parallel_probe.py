"""Launched by test_mesh_parallel.py under ``mpirun -n 2``: builds the standard meshes on COMM_WORLD
(cache directory argv[2]), writes their XDMF files to argv[1] and prints a JSON summary on rank 0.
"""

import ionslit.meshes  # noqa: F401  (orders MPI before dolfinx)

# isort: split
import json
import sys
from pathlib import Path

from mesh_helpers import CASES, group_integrals
from mpi4py import MPI

from ionslit.meshes.build import build_slit_mesh
from ionslit.meshes.report import adequacy_report
from ionslit.meshes.xdmf import write_mesh_xdmf


def main() -> None:
    out, cache = Path(sys.argv[1]), Path(sys.argv[2])
    comm = MPI.COMM_WORLD
    summary = {}
    for kind, (geometry, spec) in CASES.items():
        slit_mesh = build_slit_mesh(geometry, spec, comm=comm, cache_dir=cache)
        report = adequacy_report(slit_mesh, spec)
        revolve = kind == "cone"
        tdim = slit_mesh.mesh.topology.dim
        summary[kind] = {
            "ranks": comm.size,
            "local_cells": comm.gather(slit_mesh.mesh.topology.index_map(tdim).size_local, root=0),
            "cells": report.num_cells,
            "vertices": report.num_vertices,
            "measures": report.group_measures,
            "areas": group_integrals(slit_mesh, "ds", revolve),
            "volumes": group_integrals(slit_mesh, "dx", revolve),
        }
        write_mesh_xdmf(slit_mesh, out / f"{kind}.xdmf")
    if comm.rank == 0:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
