"""Write a SlitMesh for ParaView and for the record: XDMF/HDF5 plus a JSON of its group names."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import dolfinx.io

from ionslit.meshes.cache import write_atomically
from ionslit.meshes.slit_mesh import SlitMesh


def groups_path(path: str | Path) -> Path:
    """The JSON written next to the XDMF file ``path``: ``<stem>.groups.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.groups.json")


def write_mesh_xdmf(slit_mesh: SlitMesh, path: str | Path) -> Path:
    """Write mesh, ``cell_tags`` and ``facet_tags`` to ``path`` (.xdmf + .h5, collective, in
    parallel) and, from rank 0, the group-name -> tags mapping with the coordinate system,
    depth, characteristic lengths and geometry to ``groups_path(path)``; returns that path."""
    path = Path(path)
    mesh = slit_mesh.mesh
    if mesh.comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
    mesh.comm.barrier()
    mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
    with dolfinx.io.XDMFFile(mesh.comm, path, "w") as xdmf:
        xdmf.write_mesh(mesh)
        xdmf.write_meshtags(slit_mesh.cell_tags, mesh.geometry)
        xdmf.write_meshtags(slit_mesh.facet_tags, mesh.geometry)
    record = {
        "xdmf": path.name,
        "cell_tags": slit_mesh.cell_tags.name,
        "facet_tags": slit_mesh.facet_tags.name,
        "cell_groups": slit_mesh.cell_groups,
        "facet_groups": slit_mesh.facet_groups,
        "coordinates": slit_mesh.coordinates,
        "depth": slit_mesh.depth,
        "characteristic_lengths": slit_mesh.characteristic_lengths,
        "geometry": asdict(slit_mesh.geometry),
        "mesh_file": None if slit_mesh.mesh_file is None else str(slit_mesh.mesh_file),
    }
    target = groups_path(path)
    if mesh.comm.rank == 0:
        text = json.dumps(record, indent=2)
        write_atomically(target, lambda temporary: temporary.write_text(text))
    mesh.comm.barrier()
    return target
