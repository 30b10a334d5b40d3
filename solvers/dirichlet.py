"""Boundary data of a PNPModel on its mesh: facet sets, electrode indicators, the harmonic ramp and
the Dirichlet conditions.

Unknowns are those of model.py: a mixed P1 field (phi_h, u_1, ..., u_n) in scaled units, with
phi = phi_h + V psi_left. The Dirichlet conditions are phi_h = 0 on both electrodes, phi_h = zeta
on fixed-potential walls, u_i = reservoir value on the electrodes for every mobile species, and
region species fixed at their floor outside their region's closure (ionslit.solvers.kinetics.regions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl

from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.solvers.boundary import Boundary
from ionslit.solvers.electrolyte import Species
from ionslit.solvers.kinetics.regions import RegionMap
from ionslit.solvers.pnp_forms import PNPParameters, ScaledDomain, SpeciesData


def check_boundary_groups(boundary: Boundary, facet_groups: Mapping[str, Sequence[int]]) -> None:
    """The boundary's electrode and wall groups must be facet groups of the mesh and must not
    share tags (ValueError)."""
    b = boundary
    needed = [g for g in (b.left, b.right) if g] + list(b.walls)
    missing = [g for g in needed if g not in facet_groups]
    if missing:
        raise ValueError(f"boundary groups {missing} are not in the mesh; it has "
                         f"{sorted(facet_groups)}")
    seen: dict[int, str] = {}
    for name in needed:
        for tag in facet_groups[name]:
            if tag in seen:
                raise ValueError(f"boundary groups {seen[tag]!r} and {name!r} overlap (e.g. "
                                 "'walls' contains 'slit_wall_top'): list each wall once")
            seen[tag] = name


def facets(slit_mesh: SlitMesh, group: str) -> np.ndarray:
    """Local indices (sorted, int32) of the facets in the named boundary group."""
    tags = slit_mesh.facet_tags
    return np.sort(tags.indices[np.isin(tags.values, slit_mesh.facet_groups[group])]) \
        .astype(np.int32)


def boundary_indicator(scalar_space, slit_mesh: SlitMesh, group: str) -> dolfinx.fem.Function:
    """P1 function equal to 1 on the nodes of a boundary group, 0 elsewhere."""
    f = dolfinx.fem.Function(scalar_space, name=f"indicator_{group}")
    mesh = slit_mesh.mesh
    dofs = dolfinx.fem.locate_dofs_topological(scalar_space, mesh.topology.dim - 1,
                                               facets(slit_mesh, group))
    f.x.array[dofs] = 1.0
    return f


def harmonic_ramp(scalar_space, slit_mesh: SlitMesh, boundary: Boundary, domain: ScaledDomain,
                  options_prefix: str) -> dolfinx.fem.Function:
    """P1 function from 1 on the driven electrode to 0 on the grounded one, harmonic in between
    (div(r grad ramp) = 0, insulated walls): the linear-response potential shape, used as a
    predictor for voltage changes and to interpolate the cold-start concentrations. Zero without
    a driven electrode. ``options_prefix`` names the linear solve's PETSc options."""
    V = scalar_space
    ramp = dolfinx.fem.Function(V, name="ramp")
    if boundary.left is None:
        return ramp
    mesh = slit_mesh.mesh
    tdim = mesh.topology.dim
    left = dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets(slit_mesh, boundary.left))
    right = dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets(slit_mesh, boundary.right))
    one = dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(1.0))
    zero = dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(0.0))
    bcs = [dolfinx.fem.dirichletbc(one, left, V), dolfinx.fem.dirichletbc(zero, right, V)]
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    d = domain
    a = d.integral(ufl.dot(d.grad(p), d.grad(q)))
    L = d.integral(zero * q)
    problem = dolfinx.fem.petsc.LinearProblem(
        a, L, bcs=bcs, u=ramp, petsc_options_prefix=options_prefix,
        petsc_options={"ksp_type": "preonly", "pc_type": "lu",
                       "pc_factor_mat_solver_type": "mumps"})
    problem.solve()
    ramp.x.scatter_forward()
    return ramp


def dirichlet_conditions(space, scalar_space, slit_mesh: SlitMesh, boundary: Boundary,
                         species: Sequence[SpeciesData], electrolyte_species: Sequence[Species],
                         parameters: PNPParameters, field_dofs: Sequence[np.ndarray],
                         region_map: RegionMap | None, region_floor: float) -> list:
    """The Dirichlet conditions of the module docstring on the mixed ``space``. ``field_dofs``:
    per field, the mixed space's local dofs of the collapsed P1 dofs; ``region_floor``: the
    unknown of a region species outside its region. Raises ValueError when a fixed-potential wall
    shares nodes with an electrode."""
    mesh = slit_mesh.mesh
    tdim = mesh.topology.dim
    bcs = []
    zero = dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(0.0))
    electrodes = {"left": boundary.left, "right": boundary.right}
    for side, group in electrodes.items():
        if group is None:
            continue
        group_facets = facets(slit_mesh, group)
        dofs = dolfinx.fem.locate_dofs_topological(space.sub(0), tdim - 1, group_facets)
        bcs.append(dolfinx.fem.dirichletbc(zero, dofs, space.sub(0)))
        for k, s in enumerate(species, start=1):
            if s.is_mobile:
                dofs = dolfinx.fem.locate_dofs_topological(space.sub(k), tdim - 1, group_facets)
                value = parameters.reservoir_unknown[(s.name, side)]
                bcs.append(dolfinx.fem.dirichletbc(value, dofs, space.sub(k)))
    electrode_dofs = np.concatenate([
        dolfinx.fem.locate_dofs_topological(space.sub(0), tdim - 1, facets(slit_mesh, g))
        for g in electrodes.values() if g is not None])
    for wall, value in parameters.surface_potential.items():
        dofs = dolfinx.fem.locate_dofs_topological(space.sub(0), tdim - 1,
                                                   facets(slit_mesh, wall))
        shared = mesh.comm.allreduce(int(np.intersect1d(dofs, electrode_dofs).size))
        if shared:
            raise ValueError(f"fixed-potential wall {wall!r} touches an electrode ({shared} "
                             "shared nodes): its potential and the electrode's would "
                             "contradict there; fix the potential of walls away from the "
                             "electrodes (e.g. slit walls only)")
        bcs.append(dolfinx.fem.dirichletbc(value, dofs, space.sub(0)))
    # Region species: fixed at the floor on every node outside their region's closure.
    for k, region_species in enumerate(electrolyte_species, start=1):
        if region_species.regions:
            assert region_map is not None  # built when any species has a region
            outside = ~region_map.closure_mask(scalar_space, region_species.regions)
            dofs = field_dofs[k][outside].astype(np.int32)
            floor = dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(region_floor))
            bcs.append(dolfinx.fem.dirichletbc(floor, dofs, space.sub(k)))
    return bcs


__all__ = ["boundary_indicator", "check_boundary_groups", "dirichlet_conditions", "facets", "harmonic_ramp"]
