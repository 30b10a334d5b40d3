"""What the two halves of PNPModel (steady_state.SteadySolves, transient.TransientSteps) use of
the model: its members, declared once for the type checker. PNPModel (model.py) sets and
defines them; nothing here exists at run time but the class itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import dolfinx
import numpy as np

from ionslit.solvers.boundary import Boundary
from ionslit.solvers.clamp import CurrentClamp
from ionslit.solvers.continuation import ContinuationMonitor
from ionslit.solvers.formulations import Formulation
from ionslit.solvers.nonlinear import NewtonReport, NewtonSolver
from ionslit.solvers.observables import Observables
from ionslit.solvers.options import SolverOptions
from ionslit.solvers.pnp_forms import PNPParameters, SpeciesData
from ionslit.solvers.scales import Scales


class ModelMembers:
    """The members of PNPModel that its steady and transient halves share (see model.py)."""

    options: SolverOptions
    scales: Scales
    species: tuple[SpeciesData, ...]
    formulation: Formulation
    boundary: Boundary
    parameters: PNPParameters
    scalar_space: dolfinx.fem.FunctionSpace
    field_dofs: list[np.ndarray]
    state: dolfinx.fem.Function
    history: tuple[dolfinx.fem.Function, dolfinx.fem.Function]
    left_indicator: dolfinx.fem.Function | None
    observables: Observables
    clamped: bool
    on_continuation_try: ContinuationMonitor | None
    last_currents: dict[str, float]
    _clamp: CurrentClamp | None
    _targets: dict[tuple[str, ...], float]
    _steady_pivots: list[str]
    _converged_parameters: dict | None
    _charge_history: dict[str, list[float]]
    _levels: int
    _dt_prev: float | None

    if TYPE_CHECKING:
        @property
        def clamp(self) -> CurrentClamp: ...

        @property
        def voltage(self) -> float: ...

        def solve_at(self, parameters: Mapping, context: str = "",
                     predict_voltage: bool = True) -> NewtonReport: ...

        def save_state(self) -> dict: ...

        def restore_state(self, saved: dict) -> None: ...

        def _active_solver(self) -> NewtonSolver: ...

        def _cold_start(self) -> None: ...

        def _set_steady_mode(self) -> None: ...

        def _accept_steady(self) -> None: ...
