"""The meshes -> solvers contract: a distributed mesh whose regions and boundaries have names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dolfinx
import ufl

from ionslit.meshes.geometry import CoordinateSystem, Geometry


@dataclass
class SlitMesh:
    """A dolfinx mesh with its physical groups, ready for the solvers.

    ``cell_groups`` / ``facet_groups`` map a physical-group name to the tags it covers in
    ``cell_tags`` / ``facet_tags`` (a union name such as ``fluid`` or ``walls`` covers several
    tags; every cell and facet carries exactly one tag). Solvers refer to regions only by name.
    Coordinates are in metres. ``depth`` (m) is the out-of-plane extent planar results refer to
    (1 for "per unit depth", the sheet spacing for ``slit_plane``); for axisymmetric meshes x is
    the axis and y the radius, and integrals carry the 2 pi r weight (see ``measure_weight``).
    ``mesh_file`` is the gmsh ``.msh`` file the mesh was read from (for provenance).
    """

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    facet_tags: dolfinx.mesh.MeshTags
    cell_groups: dict[str, tuple[int, ...]]
    facet_groups: dict[str, tuple[int, ...]]
    coordinates: CoordinateSystem
    geometry: Geometry
    depth: float = 1.0
    characteristic_lengths: dict[str, float] = field(default_factory=dict)
    mesh_file: Path | None = None

    def dx(self, group: str | None = None, **kwargs) -> ufl.Measure:
        """Cell measure over the named region (the whole mesh when ``group`` is None)."""
        measure = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags, **kwargs)
        return measure if group is None else measure(self.cell_groups[group])

    def ds(self, group: str, **kwargs) -> ufl.Measure:
        """Exterior-facet measure over the named boundary group."""
        measure = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.facet_tags, **kwargs)
        return measure(self.facet_groups[group])

    def dS(self, group: str, **kwargs) -> ufl.Measure:
        """Interior-facet measure over the named group (``mouth_left``, ``mouth_right``: the
        slit's cross-sections at x = 0 and x = length, or where rounded mouths end, see
        ``ionslit.meshes.layout``). Restrict integrands with ("+")/("-"); which side is "+" varies from
        facet to facet."""
        measure = ufl.Measure("dS", domain=self.mesh, subdomain_data=self.facet_tags, **kwargs)
        return measure(self.facet_groups[group])

    def measure_weight(self) -> ufl.core.expr.Expr:
        """Factor turning a 2D/3D integral into a physical one: 2 pi r (axisymmetric, m),
        ``depth`` (planar, m) or 1 (3D)."""
        if self.coordinates == "axisymmetric":
            return 2 * ufl.pi * ufl.SpatialCoordinate(self.mesh)[1]
        if self.coordinates == "planar":
            return dolfinx.fem.Constant(self.mesh, dolfinx.default_scalar_type(self.depth))
        return dolfinx.fem.Constant(self.mesh, dolfinx.default_scalar_type(1.0))
