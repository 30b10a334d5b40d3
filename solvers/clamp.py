"""Current clamp: the driven electrode's potential as a global unknown fixed by the total current.

The monolithic block system is [state (mixed P1), V (real space)] with the extra equation

    I_total(state, V) - I_target = 0,   I_total = sum_i z_i N_i(psi) + dQ/dt,  Q = P(psi) / K

tested with the real space's constant test function mu (psi: 1 on the driven electrode's nodes).
The current is the same conservative functional observables.py reports, so a clamp at 0 A gives
exactly the zero-current (reversal) potential of the discrete model. In time steps dQ/dt uses
the BDF coefficients: b0 Q(state) + [b1 Q^n + b2 Q^{n-1}] (the bracket is a Constant).
The same block layout will carry a circuit equation instead of a fixed current.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import basix.ufl
import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from ionslit.solvers.formulations import Formulation
from ionslit.solvers.nonlinear import NewtonReport, NewtonSolver
from ionslit.solvers.options import SolverOptions
from ionslit.solvers.petsc_options import UnusedOption
from ionslit.solvers.pnp_forms import PNPParameters, PNPResiduals, ScaledDomain, SpeciesData


class CurrentClamp:
    """The clamp block system of a PNPModel (see module docstring); scaled units inside.

    Built from the model's discrete problem: its scaled ``domain``, ``species``, ``formulation``,
    ``parameters`` (the clamp writes the solved potential into ``electrode_potential``), mixed
    ``space`` with ``state`` and the two ``history`` levels, Dirichlet conditions ``bcs``, the
    driven electrode's ``left_indicator`` (psi), the volumetric ``sources``, the numerical
    ``options`` with the merged ``petsc_options``, ``limited_dofs`` (the step limiter's mask
    of the state), ``checked_options`` and ``on_options_checked`` (see nonlinear.NewtonSolver).
    """

    def __init__(self, *, domain: ScaledDomain, species: Sequence[SpeciesData],
                 formulation: Formulation, parameters: PNPParameters, space, state, history,
                 bcs: Sequence, left_indicator, sources: Sequence, options: SolverOptions,
                 petsc_options: dict, limited_dofs: Callable,
                 checked_options: Collection[str] = (),
                 on_options_checked: Callable[[tuple[UnusedOption, ...]], None] | None = None):
        self.parameters = parameters
        mesh = domain.mesh
        real = basix.ufl.real_element(mesh.basix_cell(), value_shape=())
        self.real_space = dolfinx.fem.functionspace(mesh, real)
        self.voltage = dolfinx.fem.Function(self.real_space, name="electrode_potential")

        def const(value=0.0):
            return dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(value))

        self.target = const()  # scaled target current
        self.history_term = const()  # b1 Q^n + b2 Q^{n-1} (scaled)
        self.residuals = PNPResiduals(domain, species, formulation, parameters, state, history,
                                      self.voltage, left_indicator, sources,
                                      options.field_smoothing)
        d = domain
        one = const(1.0)
        volume = float(mesh.comm.allreduce(
            dolfinx.fem.assemble_scalar(dolfinx.fem.form(d.integral(one))), op=MPI.SUM))
        mu = ufl.TestFunction(self.real_space)
        psi = left_indicator
        b0 = parameters.bdf[0]
        self.current_equation = (
            self.residuals.ionic_current(psi, factor=mu)
            + self.residuals.electrode_charge(psi, factor=b0 * mu)
            + d.integral((self.history_term - self.target) * (1.0 / volume) * mu))
        state_equation = self.residuals.residual(ufl.TestFunctions(space))
        self.solver = NewtonSolver(
            [state_equation, self.current_equation], [state, self.voltage], bcs,
            petsc_options, name="clamp", max_step=options.max_newton_step,
            limited=[limited_dofs, None],
            reuse=options.reuse, max_contraction=options.max_contraction,
            max_krylov_iterations=options.max_krylov_iterations,
            checked_options=checked_options, on_options_checked=on_options_checked)

    @property
    def target_current(self) -> float:
        """Scaled target current."""
        return float(self.target.value)

    def set_target(self, current_scaled: float) -> None:
        self.target.value = current_scaled

    def set_charge_history(self, bdf, charges) -> None:
        """Displacement history term for a time step: b1 Q^n + b2 Q^{n-1} (scaled)."""
        self.history_term.value = bdf[1] * charges[0] + bdf[2] * charges[1]

    def voltage_from_model(self) -> None:
        """Start the unknown V at the model's present electrode potential."""
        self.voltage.x.array[:] = float(self.parameters.electrode_potential.value)

    def save(self) -> np.ndarray:
        return self.voltage.x.array.copy()

    def restore(self, saved: np.ndarray) -> None:
        self.voltage.x.array[:] = saved
        self.parameters.electrode_potential.value = np.asarray(float(saved[0]) if saved.size else 0.0)

    def solve(self, context: str = "", history_levels: int = 0) -> NewtonReport:
        """Solve the block system; on success copy V into the model's electrode Constant.
        ``history_levels``: accepted time levels behind the state (0: no displacement history)."""
        if history_levels == 0 or all(float(b.value) == 0 for b in self.parameters.bdf):
            self.history_term.value = 0.0
        report = self.solver.solve(context=f"current clamp; {context}")
        self.parameters.electrode_potential.value = np.asarray(self._global_voltage())
        return report

    def _global_voltage(self) -> float:
        """The real unknown's value (owned by one rank, ghosted on the others)."""
        local = self.voltage.x.array
        return float(local[0]) if local.size else 0.0
