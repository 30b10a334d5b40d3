"""Writers of a run's fields: potential and concentrations (SI) as XDMF/HDF5 under ``fields/``.

Both writers go through dolfinx's parallel XDMF writer into ``fields.partial/`` and rename the
folder to ``fields/`` when they close, so a crashed run never leaves field files that look
complete. ``FieldWriter`` writes one XDMF/HDF5 pair (runs without checkpoints).

Fields across checkpoints (``SegmentedFieldWriter``): each interval between two checkpoints is
its own XDMF/HDF5 pair in ``fields.partial/`` (``fields.xdmf`` while only one exists, then
``fields.0.xdmf``/``fields.h5``, ``fields.<k>.xdmf``/``fields.<k>.h5``), closed at the
checkpoint, so a killed run can only lose the interval after its last checkpoint. A restart
deletes the files of that lost interval; at the end ``fields.xdmf`` becomes an index of all
intervals (one temporal collection per field, each time level with its own mesh data, since
intervals written on different numbers of ranks order the nodes differently) and the folder is
renamed ``fields/``. A run without checkpoints writes exactly what ``FieldWriter`` writes.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

from mpi4py import MPI  # loaded before dolfinx

# isort: split
import dolfinx.io

from ionslit.output import atomic_write_text


class FieldWriter:
    """Potential and concentrations (SI) to ``fields/fields.xdmf`` at chosen times (collective)."""

    def __init__(self, directory: Path, field_output, comm: MPI.Comm):
        self.final = Path(directory) / "fields"
        self.partial = Path(directory) / "fields.partial"
        self.field_output, self.comm = field_output, comm
        if comm.rank == 0:
            self.partial.mkdir(parents=True, exist_ok=True)
        comm.barrier()
        self.file = dolfinx.io.XDMFFile(comm, str(self.partial / "fields.xdmf"), "w")
        self.file.write_mesh(field_output.potential.function_space.mesh)

    def write(self, time_s: float) -> None:
        for function in self.field_output.update():
            self.file.write_function(function, time_s)

    def close(self) -> None:
        """Finish the files and publish them under ``fields/``."""
        self.file.close()
        self.comm.barrier()
        if self.comm.rank == 0:
            self.partial.rename(self.final)
        self.comm.barrier()


class SegmentedFieldWriter:
    """Like ``FieldWriter`` (``write``, ``close``), plus ``rotate`` at checkpoints and
    ``state``/restore for restarts (see the module docstring). Collective."""

    def __init__(self, directory: Path, field_output, comm: MPI.Comm, state: dict | None = None):
        self.final = Path(directory) / "fields"
        self.partial = Path(directory) / "fields.partial"
        self.field_output, self.comm = field_output, comm
        self.closed: list[dict[str, str]] = []
        self.index = 0
        self.file: dolfinx.io.XDMFFile | None = None  # the open interval's file
        if state is not None:
            self.closed = [dict(entry) for entry in state["closed"]]
            self.index = int(state["index"])
        if comm.rank == 0:
            if state is not None:
                self._discard_lost_files()
            self.partial.mkdir(parents=True, exist_ok=True)
        comm.barrier()

    def _discard_lost_files(self) -> None:
        """Restart: keep the intervals the checkpoint lists, delete the one that was lost."""
        if self.final.is_dir() and not self.partial.exists():
            self.final.rename(self.partial)  # killed between the rename and the manifest
        if not self.partial.is_dir():
            return
        keep = {name for entry in self.closed for name in entry.values()}
        for path in self.partial.iterdir():
            if path.name not in keep and path.name.startswith("fields") \
                    and path.suffix in (".xdmf", ".h5"):
                path.unlink()

    def _name(self, index: int) -> str:
        return "fields.xdmf" if index == 0 else f"fields.{index}.xdmf"

    def write(self, time_s: float) -> None:
        if self.file is None:
            self.file = dolfinx.io.XDMFFile(self.comm, str(self.partial / self._name(self.index)),
                                            "w")
            self.file.write_mesh(self.field_output.potential.function_space.mesh)
        file = self.file
        for function in self.field_output.update():
            file.write_function(function, time_s)

    def rotate(self) -> None:
        """Close the open interval's files (at a checkpoint); the next write opens new ones."""
        if self.file is None:
            return
        self.file.close()
        self.file = None
        self.comm.barrier()
        name = self._name(self.index)
        h5 = Path(name).with_suffix(".h5").name
        if self.index == 0:  # fields.xdmf is the index name at the end
            name = "fields.0.xdmf"
            if self.comm.rank == 0:
                (self.partial / "fields.xdmf").rename(self.partial / name)
        self.closed.append({"xdmf": name, "h5": h5})
        self.index += 1
        self.comm.barrier()

    def state(self) -> dict:
        return {"closed": [dict(entry) for entry in self.closed], "index": self.index}

    def abandon(self) -> None:
        """Close the open file without publishing anything (an interrupted run)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        self.comm.barrier()

    def close(self) -> None:
        """Finish the files, write the index of all intervals if there are several, and
        publish them under ``fields/``."""
        parts = [entry["xdmf"] for entry in self.closed]
        if self.file is not None:
            self.file.close()
            self.file = None
            parts.append(self._name(self.index))
        self.comm.barrier()
        if self.comm.rank == 0:
            if self.closed:
                atomic_write_text(self.partial / "fields.xdmf", combined_xdmf(self.partial, parts))
            self.partial.rename(self.final)
        self.comm.barrier()


def _child(element: ET.Element, tag: str) -> ET.Element:
    """The first child ``tag`` of an XDMF element (ValueError if there is none)."""
    found = element.find(tag)
    if found is None:
        raise ValueError(f"XDMF: <{element.tag}> has no <{tag}>")
    return found


def _attribute(element: ET.Element, key: str) -> str:
    """The attribute ``key`` of an XDMF element (ValueError if it is missing)."""
    value = element.get(key)
    if value is None:
        raise ValueError(f"XDMF: <{element.tag}> has no attribute {key}")
    return value


def combined_xdmf(folder: Path, parts: list[str]) -> str:
    """One XDMF document with every time level of the dolfinx XDMF files ``parts`` (in
    ``folder``, in time order): a temporal collection per field whose levels carry their own
    copies of their file's Topology/Geometry (intervals may order nodes differently)."""
    root = ET.Element("Xdmf", Version="3.0")
    domain = ET.SubElement(root, "Domain")
    collections: dict[str, ET.Element] = {}
    for index, part in enumerate(parts):
        document = _child(ET.parse(folder / part).getroot(), "Domain")
        mesh = next(g for g in document.findall("Grid") if g.get("GridType") == "Uniform")
        topology, geometry = _child(mesh, "Topology"), _child(mesh, "Geometry")
        if index == 0:
            domain.append(copy.deepcopy(mesh))
        for collection in document.findall("Grid"):
            if collection.get("GridType") != "Collection":
                continue
            name = _attribute(collection, "Name")
            if name not in collections:
                collections[name] = ET.SubElement(domain, "Grid", Name=name,
                                                  GridType="Collection",
                                                  CollectionType="Temporal")
            for level in collection.findall("Grid"):
                grid = ET.SubElement(collections[name], "Grid", Name=level.get("Name", name),
                                     GridType="Uniform")
                grid.append(copy.deepcopy(topology))
                grid.append(copy.deepcopy(geometry))
                for child in level:
                    if not child.tag.endswith("include"):
                        grid.append(copy.deepcopy(child))
    ET.indent(root, space="  ")
    return ('<?xml version="1.0"?>\n<!DOCTYPE Xdmf SYSTEM "Xdmf.dtd" []>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def xdmf_times(path: Path) -> dict[str, list[float]]:
    """Time values of every temporal collection of an XDMF file (for checks and tests)."""
    domain = _child(ET.parse(path).getroot(), "Domain")
    out = {}
    for collection in domain.findall("Grid"):
        if collection.get("GridType") == "Collection":
            out[_attribute(collection, "Name")] = [float(_attribute(_child(g, "Time"), "Value"))
                                                   for g in collection.findall("Grid")]
    return out

