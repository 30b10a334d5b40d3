"""PNPModel: one slit's Poisson-Nernst-Planck problem, from SlitMesh + Electrolyte + Boundary.

Unknowns: a mixed P1 field (phi_h, u_1, ..., u_n), with the potential phi = phi_h + V psi_left
(psi_left = 1 on the driven electrode's nodes, 0 elsewhere; phi_h = 0 on both electrodes), so the
electrode potential V is a Constant (voltage mode) or a global unknown in a real space (current
clamp, clamp.py) without changing the discrete space. Concentrations c_i = c(u_i) per the
formulation (log by default). Everything inside is scaled (scales.py); everything public is SI.

Steady solves: ``solve_steady(voltage)``, ``solve_steady_clamped(current)`` (steady_state.py), by
continuation (continuation.py) from the last steady state or from the cold start
(initial_guess.py). The
transient provider protocol (``try_step(dt, voltage) -> current``, ``accept()``, ``reject()``,
``restart_history()``, ``snapshot()``/``restore()``) is in transient.py. Boundary data and
Dirichlet conditions: dirichlet.py. The model owns its PETSc solvers: ``close()`` (or leaving a
``with PNPModel(...) as model:`` block) destroys them. Every method is collective.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, Self

import basix.ufl
import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl

from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.solvers.boundary import Boundary
from ionslit.solvers.clamp import CurrentClamp
from ionslit.solvers.continuation import (
    ContinuationMonitor,
)
from ionslit.solvers.dirichlet import (
    boundary_indicator,
    check_boundary_groups,
    dirichlet_conditions,
    harmonic_ramp,
)
from ionslit.solvers.dirichlet import facets as group_facets
from ionslit.solvers.electrolyte import Electrolyte, region_names
from ionslit.solvers.formulations import formulation as get_formulation
from ionslit.solvers.initial_guess import InitialGuess, continuation_targets
from ionslit.solvers.kinetics.conservation import steady_constraints
from ionslit.solvers.kinetics.immobile import ImmobileSpeciesEquations, characteristic_rates
from ionslit.solvers.kinetics.mass_action import bind_reactions
from ionslit.solvers.kinetics.regions import (
    LOG_FLOOR,
    RegionChargeCorrection,
    RegionMap,
    check_regions,
)
from ionslit.solvers.nonlinear import NewtonReport, NewtonSolver
from ionslit.solvers.observables import Observables
from ionslit.solvers.options import SolverOptions
from ionslit.solvers.petsc_options import DEFAULT_PETSC_OPTIONS, UnusedOption, merge_petsc_options
from ionslit.solvers.pnp_forms import PNPParameters, PNPResiduals, ScaledDomain, SpeciesData
from ionslit.solvers.reactions import Reaction, ReactionSources, VolumeSource, reacting_species
from ionslit.solvers.scales import Scales, dimensionless_groups, make_scales
from ionslit.solvers.steady_state import SteadySolves
from ionslit.solvers.transient import TransientSteps


class PNPModel(SteadySolves, TransientSteps):
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
        check_boundary_groups(boundary, slit_mesh.facet_groups)
        # Checked against the electrolyte (ReactionError naming the reaction), laws bound to it.
        self.reactions = bind_reactions(reactions, {s.name: s.valence for s in electrolyte.species},
                                        electrolyte.temperature,
                                        electrolyte.relative_permittivity)
        regional = any(s.regions for s in electrolyte.species) or \
            any(r.region is not None for r in self.reactions)
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
        #: the user's PETSc option names (``options.petsc_options``, ``petsc_options_string``),
        #: checked for use after each Newton solver's first solve that factorised
        self.user_petsc_options = tuple(merge_petsc_options(options.petsc_options,
                                                            options.petsc_options_string))
        #: called on every rank with the user's options no PETSc object read
        #: (petsc_options.UnusedOption, with suggestions), once per Newton solver; None: ignored
        self.on_unused_petsc_options: Callable[[tuple[UnusedOption, ...]], None] | None = None

        self._build_fields()

        # Parameters (Constants) and their targets.
        names = [s.name for s in self.species]
        self.parameters = PNPParameters.create(self.mesh, names,
                                               list(boundary.charged_walls()),
                                               list(boundary.potential_walls()))
        self._targets = continuation_targets(electrolyte, boundary, self.scales,
                                             self.formulation)
        self.parameters.assign(self._targets)
        self.parameters.electrode_potential.value = np.asarray(0.0)
        # Immobile species whose steady equations are dependent (kinetics.conservation): their
        # pivots keep the conserved amounts in steady mode (incl. species in no reaction).
        constraints = steady_constraints([(s.name, s.is_mobile) for s in self.species],
                                         self.reactions)
        self._steady_pivots = [c.pivot for c in constraints]

        self.bcs = dirichlet_conditions(self.space, self.scalar_space, slit_mesh, boundary,
                                        self.species, electrolyte.species, self.parameters,
                                        self.field_dofs, self.region_map, self._region_floor())
        #: the reactions' source terms (None without reactions)
        self.reaction_sources: ReactionSources | None = None
        #: every volumetric source term of the residual (reactions, corrections, ``sources``)
        self.sources = self._source_terms(constraints) + list(sources)
        self.residuals = PNPResiduals(self.domain, self.species, self.formulation,
                                      self.parameters, self.state, self.history,
                                      self.parameters.electrode_potential, self.left_indicator,
                                      self.sources, options.field_smoothing)
        self.residual_form = self.residuals.residual(self.region_tests(
            ufl.TestFunctions(self.space)))

        self.observables = Observables(self)
        self.initial_guess = InitialGuess(electrolyte, self.formulation, self.scales,
                                          self.field_dofs, self.ramp.x.array,
                                          boundary.left is not None, self.region_map,
                                          self.scalar_space, self._region_floor())
        self._solver: NewtonSolver | None = None
        self._clamp = None  # clamp.CurrentClamp, built on first use
        self.clamped = False
        #: called after every try of a steady continuation (continuation.ContinuationMonitor)
        self.on_continuation_try: ContinuationMonitor | None = None

        self._start_time_levels()
        self._cold_start()

    # ------------------------------------------------------------------------------------------
    # set-up helpers
    def _build_fields(self) -> None:
        """The mixed space, its fields and per-field dofs, the electrode indicators, the ramp."""
        # Spaces and fields: mixed (phi_h, u_1..u_n), all P1.
        P1 = basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1)
        self.space = dolfinx.fem.functionspace(
            self.mesh, basix.ufl.mixed_element([P1] * (1 + len(self.species))))
        self.scalar_space, _ = self.space.sub(0).collapse()
        # Map from P1 (collapsed) dofs to the mixed space's local dofs, one array per field.
        self.field_dofs = [np.concatenate(self.space.sub(k).collapse()[1]).astype(np.int32)
                            for k in range(1 + len(self.species))]
        self.state = dolfinx.fem.Function(self.space, name="state")
        self.history = (dolfinx.fem.Function(self.space, name="state_n"),
                        dolfinx.fem.Function(self.space, name="state_nm1"))

        # Electrodes: indicator functions (1 on the electrode's nodes) and the harmonic ramp.
        fdim = self.mesh.topology.dim - 1
        self.mesh.topology.create_connectivity(fdim, self.mesh.topology.dim)
        V, slit_mesh, boundary = self.scalar_space, self.slit_mesh, self.boundary
        self.left_indicator = (boundary_indicator(V, slit_mesh, boundary.left)
                               if boundary.left else None)
        self.right_indicator = boundary_indicator(V, slit_mesh, boundary.right)
        self.ramp = harmonic_ramp(V, slit_mesh, boundary, self.domain, f"ionslit_ramp_{id(self)}_")

    def _region_indicator(self, region):
        """DG0 indicator of a region (None for None/())."""
        if not region:
            return None
        assert self.region_map is not None  # built when any species or reaction has a region
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
        return group_facets(self.slit_mesh, group)

    def _source_terms(self, constraints) -> list:
        """The reactions' sources (sets ``reaction_sources``), the conditioning of immobile
        reacting species and the charge of region species (kinetics.regions)."""
        terms: list[VolumeSource] = []
        if self.reactions:
            indicators = [self._region_indicator(r.region) for r in self.reactions]
            self.reaction_sources = ReactionSources.create(self.reactions, self.mesh,
                                                           indicators)
            terms = [self.reaction_sources]
            immobile = self._immobile_equations(constraints)
            if immobile is not None:
                terms.append(immobile)
        region_charges = tuple((s.name, s.valence, self._region_indicator(s.regions))
                               for s in self.electrolyte.species if s.regions and s.valence != 0)
        if region_charges:
            terms.append(RegionChargeCorrection(region_charges))
        return terms

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

    def limited_dofs(self) -> np.ndarray:
        """Boolean array over the mixed space's local dofs: the updates the step limiter caps
        (potential always; concentrations only for formulations with log unknowns)."""
        mask = np.zeros(self.state.x.array.shape, dtype=bool)
        mask[self.field_dofs[0]] = True
        if self.formulation.limit_concentration_steps:
            mask[:] = True
        return mask

    def _cold_start(self) -> None:
        """The initial guess (initial_guess.py) as the state and both history levels."""
        self.initial_guess.fill(self.state.x.array, self._targets, self.reactions)
        self.state.x.scatter_forward()
        for h in self.history:
            h.x.array[:] = self.state.x.array
        self._converged_parameters = None

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
                max_krylov_iterations=self.options.max_krylov_iterations,
                checked_options=self.user_petsc_options,
                on_options_checked=self._unused_petsc_options_found)
        return self._solver

    @property
    def clamp(self) -> CurrentClamp:
        """The current clamp (clamp.CurrentClamp), built on first use."""
        if self._clamp is None:
            if self.boundary.left is None:
                raise ValueError("a current clamp needs a driven (left) electrode")
            if any(s.regions for s in self.electrolyte.species):
                raise ValueError("a current clamp does not support species restricted to a "
                                 "region yet (its residual would need region_tests)")
            self._clamp = CurrentClamp(
                domain=self.domain, species=self.species, formulation=self.formulation,
                parameters=self.parameters, space=self.space, state=self.state,
                history=self.history, bcs=self.bcs, left_indicator=self.left_indicator,
                sources=self.sources, options=self.options, petsc_options=self.petsc_options,
                limited_dofs=self.limited_dofs, checked_options=self.user_petsc_options,
                on_options_checked=self._unused_petsc_options_found)
        return self._clamp

    def _unused_petsc_options_found(self, unused: tuple[UnusedOption, ...]) -> None:
        if self.on_unused_petsc_options is not None:
            self.on_unused_petsc_options(unused)

    @property
    def built_solvers(self) -> dict[str, NewtonSolver]:
        """The Newton solvers built so far: 'pnp' (voltage mode) and 'clamp' (current clamp)."""
        solvers = {}
        if self._solver is not None:
            solvers["pnp"] = self._solver
        if self._clamp is not None:
            solvers["clamp"] = self._clamp.solver
        return solvers

    def close(self) -> None:
        """Destroy the PETSc objects of the Newton solvers built so far and remove their options
        (collective: call on all ranks; a later solve builds new solvers). Called on leaving
        ``with PNPModel(...) as model:``."""
        for solver in self.built_solvers.values():
            solver.close()
            solver.snes.destroy()
        self._solver = self._clamp = None
        self.clamped = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

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
        if self.reaction_sources is None:
            raise ValueError("this model has no reactions to update")
        self.reaction_sources.update_reaction(index, bound)
        reactions = list(self.reactions)
        reactions[index] = bound
        self.reactions = tuple(reactions)

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
            return self.clamp.solve(context, self._levels)
        dv = float(self.parameters.electrode_potential.value) - old_voltage
        if predict_voltage and dv != 0.0 and self.left_indicator is not None:
            self._add_to_field(0, dv * (self.ramp.x.array - self.left_indicator.x.array))
        return self.solver.solve(context)

    def _add_to_field(self, k: int, values: np.ndarray) -> None:
        self.state.x.array[self.field_dofs[k]] += values

    # ------------------------------------------------------------------------------------------
    # steady solves
    def _active_solver(self) -> NewtonSolver:
        return self.clamp.solver if self.clamped else self.solver

    # ------------------------------------------------------------------------------------------
    def dimensionless_groups(self, voltage: float | None = None) -> dict[str, float]:
        """scales.dimensionless_groups for this model (slit height and length from the mesh's
        characteristic lengths, else from its geometry)."""
        lengths = self.slit_mesh.characteristic_lengths
        geometry = self.slit_mesh.geometry
        return dimensionless_groups(self.electrolyte, self.boundary,
                                    height=lengths.get("height", geometry.height),
                                    length=lengths.get("length", geometry.length),
                                    voltage=voltage, reactions=self.reactions)


__all__ = ["PNPModel"]
