"""Observables in SI units: electrode currents, charges, inventories, profiles, output fields.

Currents are computed conservatively from the assembled residuals (docs/theory.md): with psi = 1 on
an electrode's nodes and 0 elsewhere, N_i(psi) = -<j_i . n>_electrode exactly at the discrete
level (all other residual entries vanish at convergence), and P(psi) = <dphi/dn>_electrode is
the electrode's charge. The current reported (``current_A``) is the *total* current in the
driven (left) electrode's lead, i.e. what an ammeter in the external circuit reads:

    I_left  = F sum_i z_i N_i(psi_left) + dQ_left/dt      (ionic + displacement; into the cell)
    I_right = -F sum_i z_i N_i(psi_right) - dQ_right/dt   (out of the cell at the grounded end)

N_i contains the time-derivative and source terms, and dQ/dt uses the same BDF formula as the
concentrations, so I_left = I_right at every time level up to the Newton tolerance (charge
conservation; a fixed-potential wall would act as a third electrode). At steady state the
displacement part vanishes and both equal the ionic currents. The ionic parts are reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import dolfinx
import numpy as np
from mpi4py import MPI

from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.solvers.boundary import Boundary
from ionslit.solvers.constants import FARADAY_CONSTANT
from ionslit.solvers.dirichlet import boundary_indicator
from ionslit.solvers.formulations import Formulation
from ionslit.solvers.pnp_forms import PNPParameters, PNPResiduals, ScaledDomain, SpeciesData
from ionslit.solvers.scales import Scales

#: |V| below this many thermal voltages gives conductance NaN (I/V is meaningless there).
CONDUCTANCE_VOLTAGE_FLOOR = 1e-6


class ObservedModel(Protocol):
    """The public members of a PNPModel that its observables read (see model.py)."""

    comm: Any
    mesh: Any
    slit_mesh: SlitMesh
    boundary: Boundary
    scales: Scales
    domain: ScaledDomain
    residuals: PNPResiduals
    species: tuple[SpeciesData, ...]
    formulation: Formulation
    parameters: PNPParameters
    scalar_space: Any
    state: Any  # the mixed dolfinx Function of scaled unknowns
    field_dofs: list[np.ndarray]
    left_indicator: Any
    right_indicator: Any
    observables: Observables
    time: float  # s
    last_currents: dict[str, float]  # A

    @property
    def voltage(self) -> float: ...  # V


def _assemble(comm, form) -> float:
    return float(comm.allreduce(dolfinx.fem.assemble_scalar(form), op=MPI.SUM))


class Observables:
    """Compiled functionals of a PNPModel and their SI values."""

    def __init__(self, model: ObservedModel):
        self.model = model
        self.comm = model.comm
        r, d, sc = model.residuals, model.domain, model.scales
        #: A per unit scaled current: F (D0 c0 / L0) L0^(d-1) x (depth | 2 pi L0 | 1).
        self.current_scale = (FARADAY_CONSTANT * sc.flux * sc.length ** (d.dim - 1)
                              * d.si_factor)
        #: mol per unit scaled amount: c0 L0^d x (depth | 2 pi L0 | 1).
        self.amount_scale = sc.concentration * sc.length**d.dim * d.si_factor
        #: m^d per unit scaled volume (m^3 for planar with depth, axisymmetric and 3D).
        self.volume_scale = sc.length**d.dim * d.si_factor
        form = dolfinx.fem.form
        indicators = {"left": model.left_indicator, "right": model.right_indicator}
        self._ionic = {side: form(r.ionic_current(psi)) for side, psi in indicators.items()
                       if psi is not None}
        self._charge = {side: form(r.electrode_charge(psi)) for side, psi in indicators.items()
                        if psi is not None}
        self._region_forms: dict[str, dict] = {}
        self._wall_forms: dict[str, tuple] = {}
        self._tree: dolfinx.geometry.BoundingBoxTree | None = None
        self._scratch = dolfinx.fem.Function(model.scalar_space)

    # -- currents --------------------------------------------------------------------------
    def electrode_charges_scaled(self) -> dict[str, float]:
        """Scaled electrode charges P(psi)/K of the present state ('left' 0 without one)."""
        q = {side: _assemble(self.comm, f) for side, f in self._charge.items()}
        q.setdefault("left", 0.0)
        return q

    def electrode_currents(self, bdf: Sequence[float] | None = None,
                           charge_history: dict | None = None) -> dict[str, float]:
        """Total and ionic electrode currents (A) of the present state; see the module
        docstring. ``bdf`` = (b0, b1, b2) and ``charge_history`` = {side: [Q^n, Q^{n-1}]} give the
        displacement part of a time step; omit them at steady state."""
        ionic = {side: _assemble(self.comm, f) for side, f in self._ionic.items()}
        displacement = {"left": 0.0, "right": 0.0}
        if bdf is not None and charge_history is not None:
            q = self.electrode_charges_scaled()
            for side in ("left", "right"):
                qn, qnm1 = charge_history[side]
                displacement[side] = bdf[0] * q[side] + bdf[1] * qn + bdf[2] * qnm1
        s = self.current_scale
        ionic_left = ionic.get("left", 0.0) * s
        ionic_right = -ionic["right"] * s
        return {
            "current_A": ionic_left + displacement["left"] * s,
            "current_right_A": ionic_right - displacement["right"] * s,
            "ionic_current_A": ionic_left,
            "ionic_current_right_A": ionic_right,
        }

    def conductance(self, current: float, voltage: float) -> float:
        """I / V (S), NaN where |V| < CONDUCTANCE_VOLTAGE_FLOOR V_T."""
        if abs(voltage) < CONDUCTANCE_VOLTAGE_FLOOR * self.model.scales.potential:
            return float("nan")
        return current / voltage

    def wall_charge(self, group: str) -> tuple[float, float]:  # collective
        """Charge on a wall group: (total charge (C), mean surface charge density (C/m^2)).

        Conservative, like the currents: P(psi_wall) / K with psi_wall = 1 on the group's nodes,
        i.e. the Poisson residual the Dirichlet rows absorb (eps dphi/dn integrated over the
        wall). Meaningful for SurfacePotential walls (the charge the fixed potential requires);
        for a SurfaceCharge wall it returns ~0 (its charge is prescribed, see boundary)."""
        model = self.model
        if group not in self._wall_forms:
            psi = boundary_indicator(model.scalar_space, model.slit_mesh, group)
            one = dolfinx.fem.Constant(model.mesh, dolfinx.default_scalar_type(1.0))
            self._wall_forms[group] = (
                dolfinx.fem.form(model.residuals.electrode_charge(psi)),
                dolfinx.fem.form(model.domain.boundary_integral(one, group)))
        charge_form, area_form = self._wall_forms[group]
        charge = (_assemble(self.comm, charge_form) * FARADAY_CONSTANT * self.amount_scale)
        area = _assemble(self.comm, area_form) * self.volume_scale / model.scales.length
        return charge, charge / area

    # -- inventories -----------------------------------------------------------------------
    def _region(self, region: str | None) -> dict:
        key = region or "__all__"
        if key not in self._region_forms:
            model, d, r = self.model, self.model.domain, self.model.residuals
            if region is not None and region not in model.slit_mesh.cell_groups:
                raise KeyError(f"no cell group {region!r}; the mesh has "
                               f"{sorted(model.slit_mesh.cell_groups)}")
            one = dolfinx.fem.Constant(model.mesh, dolfinx.default_scalar_type(1.0))
            self._region_forms[key] = {
                "volume": dolfinx.fem.form(d.integral(one, region)),
                "amounts": {s.name: dolfinx.fem.form(d.integral(c, region))
                            for s, c in zip(model.species, r.concentrations, strict=True)},
                "field": dolfinx.fem.form(d.integral(r.field_magnitude, region)),
            }
        return self._region_forms[key]

    def region_volume(self, region: str | None = "slit") -> float:
        """Volume (m^3; m^2 x depth for planar meshes) of a cell group (None: everything)."""
        return _assemble(self.comm, self._region(region)["volume"]) * self.volume_scale

    def inventories(self, region: str | None = "slit") -> dict[str, float]:
        """Amount (mol) and mean concentration (mol/m^3) of each species in a cell group, and
        the mean field magnitude (V/m) there: keys amount_<name>_mol,
        mean_concentration_<name>_mol_m3, mean_field_V_m."""
        forms = self._region(region)
        volume = _assemble(self.comm, forms["volume"])
        out = {}
        for name, f in forms["amounts"].items():
            amount = _assemble(self.comm, f)
            out[f"amount_{name}_mol"] = amount * self.amount_scale
            out[f"mean_concentration_{name}_mol_m3"] = (
                amount / volume * self.model.scales.concentration)
        out["mean_field_V_m"] = (_assemble(self.comm, forms["field"]) / volume
                                 * self.model.scales.field)
        return out

    def default_region(self) -> str | None:
        """'slit' if the mesh has it, else None (whole domain)."""
        return "slit" if "slit" in self.model.slit_mesh.cell_groups else None

    def series_row(self) -> dict[str, float]:
        """One row of series.csv for the present state (after a steady solve or try_step):
        time_s, voltage_V, current_A, current_right_A, conductance_S, ionic currents and the
        slit inventories."""
        model = self.model
        currents = dict(model.last_currents)
        row = {"time_s": model.time, "voltage_V": model.voltage}
        row.update(currents)
        row["conductance_S"] = self.conductance(currents.get("current_A", np.nan), model.voltage)
        row.update(self.inventories(self.default_region()))
        return row

    # -- fields and profiles ---------------------------------------------------------------
    def potential_values(self) -> np.ndarray:
        """Nodal potential (V) on the P1 space (local dofs incl. ghosts)."""
        m = self.model
        phi = m.state.x.array[m.field_dofs[0]].copy()
        if m.left_indicator is not None:
            phi += float(m.parameters.electrode_potential.value) * m.left_indicator.x.array
        return phi * m.scales.potential

    def concentration_values(self, name: str) -> np.ndarray:
        """Nodal concentration (mol/m^3) of species ``name`` on the P1 space."""
        m = self.model
        k = 1 + [s.name for s in m.species].index(name)
        return m.formulation.concentration_values(m.state.x.array[m.field_dofs[k]]) \
            * m.scales.concentration

    def _point_cells(self, points: np.ndarray) -> np.ndarray:
        """Owned cell containing each point (-1: none on this rank).

        dolfinx's collision test uses an absolute tolerance, which accepts wrong cells in
        meshes measured in metres with sub-nanometre cells; here candidates from the bounding
        box tree are checked with barycentric coordinates (affine simplices) relative to the
        cell, and the most interior candidate wins."""
        mesh = self.model.mesh
        tdim, gdim = mesh.topology.dim, mesh.geometry.dim
        if self._tree is None:
            self._tree = dolfinx.geometry.bb_tree(mesh, tdim)
        candidates = dolfinx.geometry.compute_collisions_points(self._tree, points)
        num_owned = mesh.topology.index_map(tdim).size_local
        x = mesh.geometry.x
        dofmap = mesh.geometry.dofmaps[0]
        cells = np.full(len(points), -1, dtype=np.int32)
        for i in range(len(points)):
            links = candidates.links(i)
            links = links[links < num_owned]
            best, best_score = -1, -1e-9  # accept points on faces/edges (round-off)
            for cell in links:
                vertices = x[dofmap[cell][: tdim + 1], :gdim]
                origin = vertices[0]
                A = (vertices[1:] - origin).T  # gdim x tdim
                rhs = points[i, :gdim] - origin
                lam = np.linalg.lstsq(A, rhs, rcond=None)[0] if gdim != tdim \
                    else np.linalg.solve(A, rhs)
                bary = np.concatenate([[1.0 - lam.sum()], lam])
                score = bary.min()
                if score > best_score:
                    best, best_score = cell, score
            cells[i] = best
        return cells

    def evaluate(self, points) -> dict[str, np.ndarray]:
        """Potential (V) and concentrations (mol/m^3) at points (m, shape (n, gdim)), on every
        rank: each point is evaluated by the lowest rank owning a cell that contains it; NaN
        for points outside the mesh."""
        m = self.model
        points = np.atleast_2d(np.asarray(points, dtype=float))
        padded = np.zeros((points.shape[0], 3))
        padded[:, : points.shape[1]] = points
        cells = self._point_cells(padded)
        found = cells >= 0
        n_fields = 1 + len(m.species)
        values = np.full((len(points), n_fields), np.nan)
        if np.any(found):
            # Mixed functions cannot be evaluated at points: copy each field to a P1 function
            # (created in __init__: creating a Function is collective).
            scratch = self._scratch
            for k in range(n_fields):
                scratch.x.array[:] = m.state.x.array[m.field_dofs[k]]
                if k == 0 and m.left_indicator is not None:
                    scratch.x.array[:] += (float(m.parameters.electrode_potential.value)
                                           * m.left_indicator.x.array)
                values[found, k] = scratch.eval(padded[found], cells[found]).reshape(-1)
        gathered = self.comm.gather((found, values), root=0)
        if self.comm.rank == 0:
            result = np.full((len(points), n_fields), np.nan)
            taken = np.zeros(len(points), dtype=bool)
            for rank_found, rank_values in gathered:
                new = rank_found & ~taken
                result[new] = rank_values[new]
                taken |= new
        else:
            result = None
        result = self.comm.bcast(result, root=0)
        out = {"potential": result[:, 0] * m.scales.potential}
        for k, s in enumerate(m.species, start=1):
            out[s.name] = m.formulation.concentration_values(result[:, k]) \
                * m.scales.concentration
        return out

    def line_profile(self, start, end, points: int) -> dict[str, np.ndarray]:
        """Values along the segment start -> end (m) at ``points`` equally spaced points:
        arrays x, y (, z), distance (m), potential (V) and c_<name> (mol/m^3), identical on
        every rank (parallel-safe point evaluation)."""
        start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
        gdim = self.model.mesh.geometry.dim
        if start.shape != (gdim,) or end.shape != (gdim,):
            raise ValueError(f"profile end points need {gdim} coordinates")
        t = np.linspace(0.0, 1.0, int(points))
        xyz = start[None, :] + t[:, None] * (end - start)[None, :]
        values = self.evaluate(xyz)
        out = {axis: xyz[:, k] for k, axis in enumerate("xyz"[:gdim])}
        out["distance"] = t * np.linalg.norm(end - start)
        out["potential"] = values["potential"]
        for s in self.model.species:
            out[f"c_{s.name}"] = values[s.name]
        return out


class FieldOutput:
    """SI-valued P1 Functions for XDMF output (potential in V, concentrations in mol/m^3),
    refreshed from the model's state by ``update()``; the same Function objects every time so
    that a writer can append time levels. Works on any number of ranks."""

    def __init__(self, model: ObservedModel):
        self.model = model
        V = model.scalar_space
        self.potential = dolfinx.fem.Function(V, name="potential")
        self.concentrations = {s.name: dolfinx.fem.Function(V, name=f"c_{s.name}")
                               for s in model.species}
        self.update()

    def update(self) -> list[dolfinx.fem.Function]:
        """Copy the present state in (SI) and return [potential, c_1, ..., c_n]."""
        obs = self.model.observables
        self.potential.x.array[:] = obs.potential_values()
        for name, f in self.concentrations.items():
            f.x.array[:] = obs.concentration_values(name)
        return [self.potential, *self.concentrations.values()]
