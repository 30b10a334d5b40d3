"""PNPModel: one slit's Poisson-Nernst-Planck problem, from SlitMesh + Electrolyte + Boundary.

Unknowns: a mixed P1 field (phi_h, u_1, ..., u_n), with the potential phi = phi_h + V psi_left
(psi_left = 1 on the driven electrode's nodes, 0 elsewhere; phi_h = 0 on both electrodes), so the
electrode potential V is a Constant (voltage mode) or a global unknown in a real space (current
clamp, clamp.py) without changing the discrete space. Concentrations c_i = c(u_i) per the
formulation (log by default). Everything inside is scaled (scales.py); everything public is SI.

Steady solves: ``solve_steady(voltage)``, ``solve_steady_clamped(current)``. Transient provider
protocol (for time_stepping.TimeIntegrator and, later, the circuit coupling):
``try_step(dt, voltage) -> current``, ``accept()``, ``reject()``, ``restart_history()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import basix.ufl
import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl

from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.solvers.boundary import Boundary
from ionslit.solvers.electrolyte import Electrolyte, region_names
from ionslit.solvers.formulations import formulation as get_formulation
from ionslit.solvers.kinetics.conservation import steady_constraints
from ionslit.solvers.kinetics.equilibrium import steady_guess
from ionslit.solvers.kinetics.immobile import ImmobileSpeciesEquations, characteristic_rates
from ionslit.solvers.kinetics.mass_action import bind_reactions
from ionslit.solvers.kinetics.regions import (
    LOG_FLOOR,
    RegionChargeCorrection,
    RegionMap,
    check_regions,
    region_equilibrium,
)
from ionslit.solvers.nonlinear import (
    DEFAULT_PETSC_OPTIONS,
    NewtonReport,
    NewtonSolver,
    SolverDivergedError,
    merge_petsc_options,
)
from ionslit.solvers.pnp_forms import PNPParameters, PNPResiduals, ScaledDomain, SpeciesData
from ionslit.solvers.reactions import Reaction, ReactionSources, VolumeSource, reacting_species
from ionslit.solvers.scales import Scales, make_scales
from ionslit.solvers.steady import ContinuationReport, continuation


@dataclass(frozen=True)
class SolverOptions:
    """Numerical choices (the CLI builds this from [solver]; SI where dimensional).

    - ``formulation``: 'log' (u = ln c, default) or 'primitive' (u = c).
    - ``time_scheme``: 'bdf2' (variable-step, default) or 'backward_euler'.
    - ``petsc_options``: dict merged over ``nonlinear.DEFAULT_PETSC_OPTIONS`` (e.g.
      {"snes_rtol": 1e-10}); ``petsc_options_string``: CLI "-opt value ..." merged last.
    - ``length_scale`` (m, default 1 nm) and ``concentration_scale`` (mol/m^3, default the
      largest reservoir concentration of a charged species): the nondimensionalisation.
    - ``quadrature_degree``: for all forms (2: exact enough for exp(u) with P1, fast).
    - ``max_newton_step``: the limiter's cap on |du|_inf in scaled units (V_T, ln c); None: off.
    - ``max_continuation_cutbacks``: consecutive cut-backs before a steady solve gives up.
    - ``reuse`` (time steps): 'jacobian' (default: chord iterations on a lagged Jacobian and its
      LU factors, refreshed when an iteration reduces the residual by less than
      ``max_contraction``), 'lu' (GMRES on lagged LU factors with fresh Jacobians) or 'none'
      (Newton with a fresh Jacobian and LU every iteration). Steady solves always use 'none'.
      Both reuse modes converge to the same tolerances as Newton; a time step that fails with
      lagged factors is retried with fresh ones before it counts as a failure.
    - ``field_smoothing``: delta in |E| = sqrt(|grad phi|^2 + delta^2) (units V_T / L0).
    """

    formulation: Literal["log", "primitive"] = "log"
    time_scheme: Literal["bdf2", "backward_euler"] = "bdf2"
    petsc_options: Mapping[str, Any] = field(default_factory=dict)
    petsc_options_string: str = ""
    length_scale: float | None = None  # m
    concentration_scale: float | None = None  # mol/m^3
    quadrature_degree: int = 2
    max_newton_step: float | None = 5.0
    max_continuation_cutbacks: int = 10
    reuse: Literal["none", "lu", "jacobian"] = "jacobian"
    max_contraction: float = 0.25
    max_krylov_iterations: int = 12
    field_smoothing: float = 1e-6

    def __post_init__(self):
        if self.time_scheme not in ("bdf2", "backward_euler"):
            raise ValueError(f"time_scheme {self.time_scheme!r}: use 'bdf2' or 'backward_euler'")
        get_formulation(self.formulation)  # validates the name


@dataclass
class SteadyResult:
    """Outcome of a steady solve (SI): electrode potential (V), total currents (A) into the
    electrolyte at the left electrode and out of it at the right one, and the solve's cost."""

    voltage: float  # V
    current: float  # A
    current_right: float  # A
    newton_iterations: int
    continuation: ContinuationReport


class PNPModel:
    """See the module docstring. ``reactions`` (reactions.Reaction) and ``sources``
    (reactions.VolumeSource) add volumetric sources to the Nernst-Planck equations. Species and
    reactions with a ``region`` live/run only in that cell group (ionslit.solvers.kinetics.regions)."""

    def __init__(self, slit_mesh: SlitMesh, electrolyte: Electrolyte, boundary: Boundary,
                 options: SolverOptions | None = None, reactions: Sequence[Reaction] = (),
                 sources: Sequence[VolumeSource] = ()):
        self.slit_mesh = slit_mesh
        self.mesh = slit_mesh.mesh
        self.comm = self.mesh.comm
        self.electrolyte = electrolyte
        self.boundary = boundary
        self.options = options = options or SolverOptions()
        self._check_groups()
        # Checked against the electrolyte (ReactionError naming the reaction), laws bound to it.
        self.reactions = bind_reactions(reactions, {s.name: s.valence for s in electrolyte.species},
                                        electrolyte.temperature,
                                        electrolyte.relative_permittivity)
        regional = any(s.regions for s in electrolyte.species) or \
            any(getattr(r, "region", None) is not None for r in self.reactions)
        #: cell groups as indicators and node sets; None without region species/reactions
        self.region_map = RegionMap(slit_mesh) if regional else None
        check_regions(electrolyte.species, self.reactions, self.region_map)

        self.scales: Scales = make_scales(electrolyte, options.length_scale,
                                          options.concentration_scale)
        self.formulation = get_formulation(options.formulation)
        self.domain = ScaledDomain(slit_mesh, self.scales, options.quadrature_degree)
        self.species = tuple(SpeciesData(s.name, s.valence, s.diffusivity / self.scales.diffusivity)
                             for s in electrolyte.species)
        self.petsc_options = merge_petsc_options(DEFAULT_PETSC_OPTIONS, options.petsc_options,
                                                 options.petsc_options_string)

        # Spaces and fields: mixed (phi_h, u_1..u_n), all P1.
        P1 = basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1)
        self.space = dolfinx.fem.functionspace(
            self.mesh, basix.ufl.mixed_element([P1] * (1 + len(self.species))))
        self.scalar_space, _ = self.space.sub(0).collapse()
        # Map from P1 (collapsed) dofs to the mixed space's local dofs, one array per field.
        self._field_dofs = [np.concatenate(self.space.sub(k).collapse()[1]).astype(np.int32)
                            for k in range(1 + len(self.species))]
        self.state = dolfinx.fem.Function(self.space, name="state")
        self.history = (dolfinx.fem.Function(self.space, name="state_n"),
                        dolfinx.fem.Function(self.space, name="state_nm1"))

        # Electrodes: indicator functions (1 on the electrode's nodes) and the harmonic ramp.
        fdim = self.mesh.topology.dim - 1
        self.mesh.topology.create_connectivity(fdim, self.mesh.topology.dim)
        self.left_indicator = (self._indicator(boundary.left) if boundary.left else None)
        self.right_indicator = self._indicator(boundary.right)
        from ionslit.solvers.observables import harmonic_ramp

        self.ramp = harmonic_ramp(self)

        # Parameters (Constants) and their targets.
        names = [s.name for s in self.species]
        self.parameters = PNPParameters.create(self.mesh, names,
                                               list(boundary.charged_walls()),
                                               list(boundary.potential_walls()))
        self._targets = self._initial_targets()
        self.parameters.assign(self._targets)
        self.parameters.electrode_potential.value = 0.0
        # Immobile species whose steady equations are dependent (kinetics.conservation): their
        # pivots keep the conserved amounts in steady mode (incl. species in no reaction).
        constraints = steady_constraints([(s.name, s.is_mobile) for s in self.species],
                                         self.reactions)
        self._steady_pivots = [c.pivot for c in constraints]

        self.bcs = self._dirichlet_conditions()
        self.reaction_sources = None
        reaction_terms = []
        if self.reactions:
            indicators = [self._region_indicator(getattr(r, "region", None))
                          for r in self.reactions]
            self.reaction_sources = ReactionSources.create(self.reactions, self.mesh,
                                                           indicators)
            reaction_terms = [self.reaction_sources]
            immobile = self._immobile_equations(constraints)
            if immobile is not None:
                reaction_terms.append(immobile)
        region_charges = tuple((s.name, s.valence, self._region_indicator(s.regions))
                               for s in electrolyte.species if s.regions and s.valence != 0)
        if region_charges:
            reaction_terms.append(RegionChargeCorrection(region_charges))
        all_sources = reaction_terms + list(sources)
        self.residuals = PNPResiduals(self.domain, self.species, self.formulation,
                                      self.parameters, self.state, self.history,
                                      self.parameters.electrode_potential, self.left_indicator,
                                      all_sources, options.field_smoothing)
        self._sources = all_sources
        self.residual_form = self.residuals.residual(self.region_tests(
            ufl.TestFunctions(self.space)))

        from ionslit.solvers.observables import Observables

        self.observables = Observables(self)
        self._solver: NewtonSolver | None = None
        self._clamp = None  # clamp.CurrentClamp, built on first use
        self.clamped = False

        # Time-stepping state (SI seconds).
        self.time = 0.0
        self._dt_prev: float | None = None
        self._levels = 0  # accepted time levels available for BDF (0: cold, 1: BE, 2: BDF2)
        self._charge_history = {"left": [0.0, 0.0], "right": [0.0, 0.0]}  # Q^n, Q^{n-1} scaled
        self._pending: dict | None = None
        self.last_currents: dict[str, float] = {}
        self._converged_parameters: dict | None = None
        self._cold_start()

    # ------------------------------------------------------------------------------------------
    # set-up helpers
    def _check_groups(self) -> None:
        b, groups = self.boundary, self.slit_mesh.facet_groups
        needed = [g for g in (b.left, b.right) if g] + list(b.walls)
        missing = [g for g in needed if g not in groups]
        if missing:
            raise ValueError(f"boundary groups {missing} are not in the mesh; it has "
                             f"{sorted(groups)}")
        seen: dict[int, str] = {}
        for name in needed:
            for tag in groups[name]:
                if tag in seen:
                    raise ValueError(f"boundary groups {seen[tag]!r} and {name!r} overlap (e.g. "
                                     "'walls' contains 'slit_wall_top'): list each wall once")
                seen[tag] = name

    def _region_indicator(self, region):
        """DG0 indicator of a region (None for None/())."""
        if not region:
            return None
        return self.region_map.indicator(region_names(region))

    def region_tests(self, tests) -> list:
        """The mixed test functions with those of region species multiplied by their region's
        indicator: their rows then see only the region's cells (kinetics.regions)."""
        tests = list(tests)
        for k, s in enumerate(self.electrolyte.species, start=1):
            if s.regions:
                tests[k] = self._region_indicator(s.regions) * tests[k]
        return tests

    def _region_floor(self) -> float:
        """The unknown of a region species outside its region (c = 0; tiny for log)."""
        return float(self.formulation.unknown(LOG_FLOOR)) \
            if self.formulation.name == "log" else 0.0

    def facets(self, group: str) -> np.ndarray:
        """Local indices of the facets in the named boundary group."""
        tags = self.slit_mesh.facet_tags
        return np.sort(tags.indices[np.isin(tags.values, self.slit_mesh.facet_groups[group])]) \
            .astype(np.int32)

    def _immobile_equations(self, constraints) -> ImmobileSpeciesEquations | None:
        """Conditioning and steady completion of immobile reacting species (kinetics.immobile)."""
        reacting = reacting_species(self.reactions)
        names = tuple(s.name for s in self.species if not s.is_mobile and s.name in reacting)
        if not names:
            return None
        sc = self.scales
        rates = characteristic_rates(self.reactions, names, sc.concentration)
        scaling = {n: dolfinx.fem.Constant(self.mesh, dolfinx.default_scalar_type(
            1.0 / (rates[n] * sc.time) if rates.get(n, 0.0) > 0 else 1.0)) for n in names}
        levels = [[sc.concentration * self.formulation.concentration(u)
                   for u in ufl.split(h)[1:]] for h in self.history]
        state = [sc.concentration * self.formulation.concentration(u)
                 for u in ufl.split(self.state)[1:]]
        b0, b1, b2 = self.parameters.bdf
        index = {s.name: k for k, s in enumerate(self.species)}
        time_derivative = {n: (b0 * state[index[n]] + b1 * levels[0][index[n]]
                               + b2 * levels[1][index[n]]) / sc.time for n in names}
        previous = {s.name: levels[0][k] for k, s in enumerate(self.species)}
        return ImmobileSpeciesEquations(
            self.reaction_sources, names, scaling, time_derivative, previous,
            self.parameters.steady_regularisation, tuple(constraints), 1.0 / sc.time)

    def _indicator(self, group: str) -> dolfinx.fem.Function:
        """P1 function equal to 1 on the nodes of a boundary group, 0 elsewhere."""
        f = dolfinx.fem.Function(self.scalar_space, name=f"indicator_{group}")
        dofs = dolfinx.fem.locate_dofs_topological(self.scalar_space, self.mesh.topology.dim - 1,
                                                   self.facets(group))
        f.x.array[dofs] = 1.0
        return f

    def _initial_targets(self) -> dict:
        """Continuation targets from the electrolyte and boundary data (scaled)."""
        sc = self.scales
        targets: dict = {("V",): 0.0}
        for wall, sigma in self.boundary.charged_walls().items():
            targets[("sigma", wall)] = sigma / sc.surface_charge
        for wall, zeta in self.boundary.potential_walls().items():
            targets[("zeta", wall)] = zeta / sc.potential
        for s in self.electrolyte.species:
            if not s.in_reservoirs:
                continue  # region species: no reservoir values (kinetics.regions)
            for side in ("left", "right"):
                c = s.concentration(side) / sc.concentration
                if self.formulation.name == "log" and c <= 0:
                    raise ValueError(
                        f"species {s.name}: the log formulation needs a positive {side} "
                        "reservoir concentration (give a tiny value, e.g. 1e-12 mol/m^3, or use "
                        "formulation = 'primitive')")
                targets[("u", s.name, side)] = self.formulation.unknown(c)
        return targets

    def _dirichlet_conditions(self) -> list:
        """phi_h = 0 on both electrodes, phi_h = zeta on potential walls, u_i = reservoir value on
        the electrodes for every mobile species (immobile ones need no boundary condition)."""
        tdim = self.mesh.topology.dim
        bcs = []
        zero = dolfinx.fem.Constant(self.mesh, dolfinx.default_scalar_type(0.0))
        electrodes = {"left": self.boundary.left, "right": self.boundary.right}
        for side, group in electrodes.items():
            if group is None:
                continue
            facets = self.facets(group)
            dofs = dolfinx.fem.locate_dofs_topological(self.space.sub(0), tdim - 1, facets)
            bcs.append(dolfinx.fem.dirichletbc(zero, dofs, self.space.sub(0)))
            for k, s in enumerate(self.species, start=1):
                if s.is_mobile:
                    dofs = dolfinx.fem.locate_dofs_topological(self.space.sub(k), tdim - 1, facets)
                    value = self.parameters.reservoir_unknown[(s.name, side)]
                    bcs.append(dolfinx.fem.dirichletbc(value, dofs, self.space.sub(k)))
        electrode_dofs = np.concatenate([
            dolfinx.fem.locate_dofs_topological(self.space.sub(0), tdim - 1, self.facets(g))
            for g in electrodes.values() if g is not None])
        for wall, value in self.parameters.surface_potential.items():
            dofs = dolfinx.fem.locate_dofs_topological(self.space.sub(0), tdim - 1,
                                                       self.facets(wall))
            shared = self.comm.allreduce(int(np.intersect1d(dofs, electrode_dofs).size))
            if shared:
                raise ValueError(f"fixed-potential wall {wall!r} touches an electrode ({shared} "
                                 "shared nodes): its potential and the electrode's would "
                                 "contradict there; fix the potential of walls away from the "
                                 "electrodes (e.g. slit walls only)")
            bcs.append(dolfinx.fem.dirichletbc(value, dofs, self.space.sub(0)))
        # Region species: fixed at the floor on every node outside their region's closure.
        for k, s in enumerate(self.electrolyte.species, start=1):
            if s.regions:
                outside = ~self.region_map.closure_mask(self.scalar_space, s.regions)
                dofs = self._field_dofs[k][outside].astype(np.int32)
                floor = dolfinx.fem.Constant(self.mesh, dolfinx.default_scalar_type(
                    self._region_floor()))
                bcs.append(dolfinx.fem.dirichletbc(floor, dofs, self.space.sub(k)))
        return bcs

    def limited_dofs(self) -> np.ndarray:
        """Boolean array over the mixed space's local dofs: the updates the step limiter caps
        (potential always; concentrations only for formulations with log unknowns)."""
        mask = np.zeros(self.state.x.array.shape, dtype=bool)
        mask[self._field_dofs[0]] = True
        if self.formulation.limit_concentration_steps:
            mask[:] = True
        return mask

    def _cold_start(self) -> None:
        """Initial guess: phi = 0, unknowns interpolated between the reservoirs along the ramp."""
        self.state.x.array[:] = 0.0
        ramp = self.ramp.x.array
        for k, s in enumerate(self.species, start=1):
            if ("u", s.name, "left") not in self._targets:
                continue  # region species: _region_guess
            u_left = self._targets[("u", s.name, "left")]
            u_right = self._targets[("u", s.name, "right")]
            if self.boundary.left is None:
                u_left = u_right
            self.state.x.array[self._field_dofs[k]] = ramp * u_left + (1 - ramp) * u_right
        self._immobile_steady_guess()
        self._region_guess()
        self.state.x.scatter_forward()
        for h in self.history:
            h.x.array[:] = self.state.x.array
        self._converged_parameters = None

    def _immobile_steady_guess(self) -> None:
        """Immobile reacting species start at their zero-field steady state for each
        reservoir's composition (kinetics.equilibrium.steady_guess: mobile species fixed,
        conserved amounts kept), interpolated along the ramp like the other unknowns."""
        reactions = [r for r in self.reactions if getattr(r, "region", None) is None]
        reacting = reacting_species(reactions)
        immobile = [k for k, s in enumerate(self.species, start=1)
                    if not s.is_mobile and s.name in reacting]
        if not immobile:
            return
        mobile = [s.name for s in self.species if s.is_mobile]
        sides = ("right", "right") if self.boundary.left is None else ("left", "right")
        guesses = [steady_guess({s.name: s.concentration(side) for s in self.electrolyte.species
                                 if s.in_reservoirs}, mobile, reactions) for side in sides]
        if any(g is None for g in guesses):
            return
        ramp = self.ramp.x.array
        for k in immobile:
            name = self.species[k - 1].name
            u_left, u_right = (self.formulation.unknown(g[name] / self.scales.concentration)
                               for g in guesses)
            self.state.x.array[self._field_dofs[k]] = ramp * u_left + (1 - ramp) * u_right

    def _region_guess(self) -> None:
        """Region species at the floor everywhere, then, on the nodes of each region that holds
        region species, the electroneutral zero-field equilibrium with each reservoir
        (kinetics.regions.region_equilibrium: Donnan potential, mobile ions, sites and pairs),
        interpolated along the ramp like the other unknowns."""
        if self.region_map is None:
            return
        species = self.electrolyte.species
        regional = [k for k, s in enumerate(species, start=1) if s.regions]
        for k in regional:
            self.state.x.array[self._field_dofs[k]] = self._region_floor()
        valences = {s.name: s.valence for s in species}
        sides = ("right", "right") if self.boundary.left is None else ("left", "right")
        ramp = self.ramp.x.array
        zones = list(dict.fromkeys(species[k - 1].regions for k in regional))
        for zone in zones:
            tags = set(self.region_map.tags(zone))
            present = [s for s in species if not s.regions
                       or tags <= set(self.region_map.tags(s.regions))]
            active = [r for r in self.reactions if getattr(r, "region", None) is None
                      or tags & set(self.region_map.tags(r.regions))]
            if not all(hasattr(r, "dissociation_constant") for r in active):
                active = []  # only mass-action reactions have a known equilibrium
            states = []
            for side in sides:
                reservoir = {s.name: s.concentration(side) for s in present if s.is_mobile}
                fixed = {s.name: s.concentration(side) for s in present if not s.is_mobile}
                try:
                    states.append(region_equilibrium(reservoir, valences, fixed, active))
                except (ValueError, np.linalg.LinAlgError, OverflowError):
                    states = []
                    break
            mask = self.region_map.closure_mask(self.scalar_space, zone)
            if not states:  # no equilibrium found: region species at their given values
                for s in present:  # (at least 1e-6 c0: Newton's log-steps are capped)
                    if s.regions:
                        k = 1 + self.electrolyte.names.index(s.name)
                        c = max(s.concentration("right"), 1e-6 * self.scales.concentration)
                        self.state.x.array[self._field_dofs[k][mask]] = \
                            self.formulation.unknown(c / self.scales.concentration)
                continue
            (psi_left, c_left), (psi_right, c_right) = states
            r = ramp[mask]
            self.state.x.array[self._field_dofs[0][mask]] = r * psi_left + (1 - r) * psi_right
            floor = LOG_FLOOR * self.scales.concentration
            for s in present:
                k = 1 + self.electrolyte.names.index(s.name)
                u_left, u_right = (self.formulation.unknown(max(c[s.name], floor)
                                                            / self.scales.concentration)
                                   for c in (c_left, c_right))
                self.state.x.array[self._field_dofs[k][mask]] = r * u_left + (1 - r) * u_right

    # ------------------------------------------------------------------------------------------
    # solvers
    @property
    def solver(self) -> NewtonSolver:
        """The voltage-mode Newton solver (built on first use)."""
        if self._solver is None:
            self._solver = NewtonSolver(
                self.residual_form, self.state, self.bcs, self.petsc_options, name="pnp",
                max_step=self.options.max_newton_step, limited=[self.limited_dofs],
                reuse=self.options.reuse, max_contraction=self.options.max_contraction,
                max_krylov_iterations=self.options.max_krylov_iterations)
        return self._solver

    @property
    def clamp(self):
        """The current clamp (clamp.CurrentClamp), built on first use."""
        if self._clamp is None:
            if self.boundary.left is None:
                raise ValueError("a current clamp needs a driven (left) electrode")
            if any(s.regions for s in self.electrolyte.species):
                raise ValueError("a current clamp does not support species restricted to a "
                                 "region yet (its residual would need region_tests)")
            from ionslit.solvers.clamp import CurrentClamp

            self._clamp = CurrentClamp(self)
        return self._clamp

    @property
    def voltage(self) -> float:
        """Potential of the driven electrode (V) at the current state."""
        return float(self.parameters.electrode_potential.value) * self.scales.potential

    # ------------------------------------------------------------------------------------------
    # parameters
    def set_surface_charge(self, wall: str, density: float) -> None:
        """New target surface charge density (C/m^2) of a SurfaceCharge wall (used by the next
        solve: ramped by steady solves, applied at once by time steps)."""
        if ("sigma", wall) not in self._targets:
            raise KeyError(f"{wall!r} is not a surface-charge wall of this model")
        self._targets[("sigma", wall)] = density / self.scales.surface_charge

    def set_surface_potential(self, wall: str, potential: float) -> None:
        """New target potential (V) of a SurfacePotential wall."""
        if ("zeta", wall) not in self._targets:
            raise KeyError(f"{wall!r} is not a surface-potential wall of this model")
        self._targets[("zeta", wall)] = potential / self.scales.potential

    def set_reservoir_concentration(self, species: str, side: Literal["left", "right"],
                                    concentration: float) -> None:
        """New bulk concentration (mol/m^3) of ``species`` at the ``side`` electrode."""
        key = ("u", species, side)
        if key not in self._targets:
            raise KeyError(f"no species {species!r} / side {side!r}")
        self._targets[key] = self.formulation.unknown(concentration / self.scales.concentration)

    def update_reaction(self, index: int, reaction: Reaction) -> None:
        """Replace reaction ``index`` by one with the same equation and law structure but other
        parameter values (k_a, K_d/k_d0, law parameters): only fem.Constants change, so the
        compiled forms are reused. Used by the next solve."""
        electrolyte = self.electrolyte
        (bound,) = bind_reactions([reaction], {s.name: s.valence for s in electrolyte.species},
                                  electrolyte.temperature, electrolyte.relative_permittivity)
        self.reaction_sources.update_reaction(index, bound)
        reactions = list(self.reactions)
        reactions[index] = bound
        self.reactions = tuple(reactions)

    def initialize(self, potential=None, concentrations: Mapping | None = None,
                   voltage: float = 0.0, time: float = 0.0) -> None:
        """Set the state from SI fields and make it the accepted level at ``time`` (s), e.g. the
        initial data of a transient or a restart. ``potential`` (V) and ``concentrations``
        (name -> mol/m^3) are callables x -> values (x: array (3, n) in m) or P1 Functions; the
        driven electrode is at ``voltage`` (V). Unspecified fields keep their values."""
        sc = self.scales
        self.parameters.electrode_potential.value = voltage / sc.potential
        scratch = dolfinx.fem.Function(self.scalar_space)

        def values(data):  # callable or Function -> nodal values on the P1 space
            scratch.interpolate(data)
            return scratch.x.array.copy()

        if potential is not None:
            phi = values(potential) / sc.potential
            if self.left_indicator is not None:
                phi -= (voltage / sc.potential) * self.left_indicator.x.array
            self.state.x.array[self._field_dofs[0]] = phi
        names = [s.name for s in self.species]
        for name, data in (concentrations or {}).items():
            k = 1 + names.index(name)
            self.state.x.array[self._field_dofs[k]] = self.formulation.unknown(
                values(data) / sc.concentration)
        self.state.x.scatter_forward()
        targets = dict(self._targets)
        targets[("V",)] = voltage / sc.potential
        self.parameters.assign(targets)
        self._converged_parameters = self.parameters.continuation_values()
        self._set_steady_mode()
        self._accept_steady()
        self.time = time

    # ------------------------------------------------------------------------------------------
    # state management (continuation protocol)
    def save_state(self) -> dict:
        saved = {"state": self.state.x.array.copy(),
                 "parameters": self.parameters.continuation_values()}
        if self._clamp is not None:
            saved["clamp"] = self._clamp.save()
        return saved

    def restore_state(self, saved: dict) -> None:
        self.state.x.array[:] = saved["state"]
        self.parameters.assign(saved["parameters"])
        if self._clamp is not None and "clamp" in saved:
            self._clamp.restore(saved["clamp"])

    def solve_at(self, parameters: Mapping, context: str = "",
                 predict_voltage: bool = True) -> NewtonReport:
        """Set the continuation parameters and solve (steady or time step, per the BDF
        coefficients currently set). With ``predict_voltage`` a change of V is added to the
        initial guess along the harmonic ramp (the linear-response potential)."""
        old_voltage = float(self.parameters.electrode_potential.value)
        self.parameters.assign({k: v for k, v in parameters.items() if k[0] != "I"})
        if self.clamped:
            self.clamp.set_target(parameters.get(("I",), self.clamp.target_current))
            return self.clamp.solve(context)
        dv = float(self.parameters.electrode_potential.value) - old_voltage
        if predict_voltage and dv != 0.0 and self.left_indicator is not None:
            self._add_to_field(0, dv * (self.ramp.x.array - self.left_indicator.x.array))
        return self.solver.solve(context)

    def _add_to_field(self, k: int, values: np.ndarray) -> None:
        self.state.x.array[self._field_dofs[k]] += values

    # ------------------------------------------------------------------------------------------
    # steady solves
    def _active_solver(self) -> NewtonSolver:
        return self.clamp.solver if self.clamped else self.solver

    def _set_steady_mode(self) -> None:
        self._active_solver().reuse = "none"
        for b in self.parameters.bdf:
            b.value = 0.0
        for name, reg in self.parameters.steady_regularisation.items():
            reg.value = 1.0 if name in self._steady_pivots else 0.0
        self.history[0].x.array[:] = self.state.x.array  # immobile species stay where they are
        self.history[1].x.array[:] = self.state.x.array

    def _describe(self, parameters: Mapping) -> str:
        sc, parts = self.scales, []
        for key, value in parameters.items():
            if key[0] == "V":
                parts.append(f"V={value * sc.potential:.4g} V")
            elif key[0] == "I":
                parts.append(f"I={value * self.observables.current_scale:.4g} A")
            elif key[0] == "sigma":
                parts.append(f"sigma[{key[1]}]={value * sc.surface_charge:.4g} C/m^2")
            elif key[0] == "zeta":
                parts.append(f"zeta[{key[1]}]={value * sc.potential:.4g} V")
        return ", ".join(parts) or "the initial state"

    def _steady(self, target: dict) -> ContinuationReport:
        self._set_steady_mode()
        total = ContinuationReport()
        if self._converged_parameters is None:
            # Cold start: first the uncharged, zero-voltage state (reservoir values at target).
            start = {k: (v if k[0] == "u" else 0.0) for k, v in target.items()}
            if self.clamped:
                start.pop(("I",), None)
            self.parameters.assign(start)
            try:
                report = self.solve_at(start, context="cold start")
            except SolverDivergedError:
                self._cold_start()  # leave the initial guess, not a failed iterate
                raise
            total.newton_iterations += report.iterations
            total.reports.append(report)
            self._converged_parameters = self.parameters.continuation_values()
        start = dict(self._converged_parameters)
        if self.clamped:
            start[("I",)] = self._current_scaled()
            target = {k: v for k, v in target.items() if k[0] != "V"}
        path = continuation(self, start, target, self.options.max_continuation_cutbacks,
                            describe=self._describe)
        total.steps, total.cutbacks = path.steps, path.cutbacks
        total.newton_iterations += path.newton_iterations
        total.reports += path.reports
        self._converged_parameters = self.parameters.continuation_values()
        self._accept_steady()
        return total

    def solve_steady(self, voltage: float = 0.0) -> SteadyResult:
        """Steady state with the driven electrode at ``voltage`` (V) and the current targets
        (surface charges/potentials, reservoir concentrations), by continuation from the last
        steady state (or from a cold start)."""
        if self.boundary.left is None and voltage != 0.0:
            raise ValueError("this model has no driven (left) electrode: only voltage = 0")
        if self.clamped:
            self.release_clamp()
        target = dict(self._targets)
        target[("V",)] = voltage / self.scales.potential
        path = self._steady(target)
        return self._steady_result(path)

    def solve_steady_clamped(self, current: float = 0.0) -> SteadyResult:
        """Steady state with the total current through the electrodes fixed at ``current`` (A);
        the driven electrode's potential is then an unknown (0 A: the zero-current potential)."""
        if self._converged_parameters is None:
            self.solve_steady(self.voltage)
        self.clamp_current(current)
        target = dict(self._targets)
        target[("I",)] = current / self.observables.current_scale
        path = self._steady(target)
        return self._steady_result(path)

    def clamp_current(self, current: float) -> None:
        """Switch to current-clamp mode with total current ``current`` (A) for later solves."""
        self.clamp.voltage_from_model()
        self.clamp.set_target(current / self.observables.current_scale)
        self.clamped = True

    def release_clamp(self) -> None:
        """Back to voltage mode (the electrode keeps its present potential)."""
        self.clamped = False

    def _current_scaled(self) -> float:
        currents = self.observables.electrode_currents()
        return currents["current_A"] / self.observables.current_scale

    def _accept_steady(self) -> None:
        self.last_currents = self.observables.electrode_currents()
        q = self.observables.electrode_charges_scaled()
        for side in ("left", "right"):
            self._charge_history[side] = [q[side], q[side]]
        for h in self.history:
            h.x.array[:] = self.state.x.array
        self._levels = 1
        self._dt_prev = None

    def _steady_result(self, path: ContinuationReport) -> SteadyResult:
        c = self.last_currents
        return SteadyResult(self.voltage, c["current_A"], c["current_right_A"],
                            path.newton_iterations, path)

    # ------------------------------------------------------------------------------------------
    # transient provider protocol
    def bdf_coefficients(self, dt: float) -> tuple[float, float, float]:
        """Scaled (1/t^) coefficients b0, b1, b2 of dc/dt ~ b0 c + b1 c^n + b2 c^{n-1} for a
        step ``dt`` (s): backward Euler on the first step after a (re)start, else variable-step
        BDF2 (ratio w = dt / dt_prev) if the scheme is 'bdf2'."""
        from ionslit.coupling.bdf import bdf_coefficients

        order = 2 if (self.options.time_scheme == "bdf2" and self._levels >= 2) else 1
        return bdf_coefficients(order, dt / self.scales.time,
                                None if self._dt_prev is None else self._dt_prev / self.scales.time)

    def try_step(self, dt: float, voltage: float | None = None) -> float:
        """Solve the step from the accepted state at ``self.time`` to ``self.time + dt`` (s) with
        the driven electrode at ``voltage`` (V; None keeps the present one; ignored under a
        current clamp). Returns the total current (A) into the electrolyte at the driven
        electrode. Raises SolverDivergedError (state restored) when Newton fails; call
        ``accept()`` or ``reject()`` afterwards (a rejected step can be tried again with another
        dt or voltage, e.g. by an implicit circuit iteration)."""
        if self._converged_parameters is None:
            raise RuntimeError("time stepping starts from a steady state: call solve_steady first")
        if not dt > 0:
            raise ValueError(f"time step {dt} s must be > 0")
        b = self.bdf_coefficients(dt)
        for const, value in zip(self.parameters.bdf, b):
            const.value = value
        for reg in self.parameters.steady_regularisation.values():
            reg.value = 0.0
        self._active_solver().reuse = self.options.reuse
        self.parameters.time.value = self.time + dt
        parameters = dict(self._targets)
        if self.clamped:
            parameters.pop(("V",))
            parameters[("I",)] = self.clamp.target_current
            self.clamp.set_charge_history(b, self._charge_history["left"])
        elif voltage is not None:
            if self.boundary.left is None and voltage != 0.0:
                raise ValueError("this model has no driven (left) electrode: only voltage = 0")
            parameters[("V",)] = voltage / self.scales.potential
        else:
            parameters[("V",)] = float(self.parameters.electrode_potential.value)
        # Predictor: linear extrapolation of the last two levels (else the last level, with a
        # change of V spread along the ramp).
        extrapolate = self._levels >= 2 and self._dt_prev is not None
        if extrapolate:
            ratio = dt / self._dt_prev
            self.state.x.array[:] = self.history[0].x.array + ratio * (
                self.history[0].x.array - self.history[1].x.array)
        else:
            self.state.x.array[:] = self.history[0].x.array
        saved_parameters = self.parameters.continuation_values()
        try:
            report = self.solve_at(parameters, context=f"time step t={self.time + dt:.6g} s, "
                                                       f"dt={dt:.3g} s",
                                   predict_voltage=not extrapolate)
        except SolverDivergedError:
            self.state.x.array[:] = self.history[0].x.array
            self.parameters.assign(saved_parameters)
            if self.clamped:
                self.clamp.voltage_from_model()
            raise
        currents = self.observables.electrode_currents(b, self._charge_history)
        self._pending = {"dt": dt, "report": report, "currents": currents,
                         "charges": self.observables.electrode_charges_scaled()}
        self.last_currents = currents
        return currents["current_A"]

    @property
    def iteration_targets(self) -> tuple[int, int]:
        """(easy, hard) nonlinear iteration counts per time step for the step controller:
        Newton converges in 2-3 iterations, chord iterations (reuse='jacobian') in 5-9."""
        return (6, 12) if self.options.reuse == "jacobian" else (3, 7)

    @property
    def last_report(self) -> NewtonReport | None:
        """Newton report of the pending (tried, not yet accepted) step."""
        return None if self._pending is None else self._pending["report"]

    def accept(self) -> None:
        """Make the tried step the new accepted time level."""
        if self._pending is None:
            raise RuntimeError("accept() without a successful try_step()")
        p, self._pending = self._pending, None
        self.history[1].x.array[:] = self.history[0].x.array
        self.history[0].x.array[:] = self.state.x.array
        for side in ("left", "right"):
            q = self._charge_history[side]
            self._charge_history[side] = [p["charges"][side], q[0]]
        self.time += p["dt"]
        self._dt_prev = p["dt"]
        self._levels = min(self._levels + 1, 2)
        self._converged_parameters = self.parameters.continuation_values()

    def reject(self) -> None:
        """Discard the tried step (the state returns to the last accepted level)."""
        self._pending = None
        self.state.x.array[:] = self.history[0].x.array
        if self._converged_parameters is not None:
            self.parameters.assign(self._converged_parameters)
        if self._clamp is not None:
            self._clamp.voltage_from_model()

    def restart_history(self) -> None:
        """Forget the older time level: the next step is backward Euler (after a jump in the
        forcing, where BDF2's smoothness assumption fails)."""
        self._levels = min(self._levels, 1)
        self._dt_prev = None

    def snapshot(self) -> dict:
        """Everything a transient needs to continue from here (same mesh partition): the
        state and its two history levels (local arrays incl. ghosts), time (s), BDF and
        electrode-charge history, parameters and targets, clamp mode and target. For
        checkpoints and for rolling a coupled simulation back; see ``restore``."""
        return {
            "state": self.state.x.array.copy(),
            "history": [h.x.array.copy() for h in self.history],
            "time": self.time, "dt_prev": self._dt_prev, "levels": self._levels,
            "charge_history": {k: list(v) for k, v in self._charge_history.items()},
            "parameters": self.parameters.continuation_values(),
            "converged_parameters": None if self._converged_parameters is None
            else dict(self._converged_parameters),
            "targets": dict(self._targets),
            "clamped": self.clamped,
            "clamp_target": self._clamp.target_current if self._clamp is not None else None,
            "last_currents": dict(self.last_currents),
        }

    def restore(self, snapshot: dict) -> None:
        """Return to a ``snapshot()`` of this model (discarding a pending step)."""
        self._pending = None
        self.state.x.array[:] = snapshot["state"]
        for h, values in zip(self.history, snapshot["history"]):
            h.x.array[:] = values
        self.time, self._dt_prev = snapshot["time"], snapshot["dt_prev"]
        self._levels = snapshot["levels"]
        self._charge_history = {k: list(v) for k, v in snapshot["charge_history"].items()}
        self.parameters.assign(snapshot["parameters"])
        self._converged_parameters = snapshot["converged_parameters"]
        self._targets = dict(snapshot["targets"])
        self.last_currents = dict(snapshot["last_currents"])
        self.clamped = snapshot["clamped"]
        if snapshot["clamp_target"] is not None:
            self.clamp.set_target(snapshot["clamp_target"])
            self.clamp.voltage_from_model()

    # ------------------------------------------------------------------------------------------
    def dimensionless_groups(self, voltage: float | None = None) -> dict[str, float]:
        """scales.dimensionless_groups for this model (slit height/length from the mesh's
        characteristic lengths or geometry when available)."""
        from ionslit.solvers.scales import dimensionless_groups

        lengths = dict(getattr(self.slit_mesh, "characteristic_lengths", {}) or {})
        geometry = self.slit_mesh.geometry
        height = lengths.get("height", getattr(geometry, "height", None))
        if self.slit_mesh.coordinates == "axisymmetric" and hasattr(geometry, "tip_radius"):
            height = lengths.get("height", 2 * geometry.tip_radius)
        length = lengths.get("length", getattr(geometry, "length", None))
        return dimensionless_groups(self.electrolyte, self.boundary, height=height,
                                    length=length, voltage=voltage, reactions=self.reactions)


__all__ = ["PNPModel", "SolverDivergedError", "SolverOptions", "SteadyResult"]
