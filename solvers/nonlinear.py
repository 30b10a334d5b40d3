"""Newton solves with PETSc SNES: step limiter, reason check, PC reset, LU reuse.

The method (docs/theory.md#nonlinear-solves): SNES ``newtonls`` with a backtracking line
search, a Newton step limiter (cap the infinity norm of the update at ~5 in scaled units: V_T for
potentials, ln c for log-concentrations) set as the line search pre-check, MUMPS LU. A failed
MUMPS factorisation is sticky, so the preconditioner is reset after every divergence, and the
SNES converged reason is checked after every solve (``NonlinearProblem.solve`` does not raise).

Reuse modes (``reuse``): "lu" keeps the LU factors across Newton iterations and solves (GMRES
preconditioned by the lagged LU, fresh Jacobian each iteration, so Newton stays exact; fresh
factors when GMRES needs more than ``max_krylov_iterations``); "jacobian" keeps the Jacobian and
its factors (chord iterations: residual evaluations and triangular solves only; fresh ones when
an iteration reduces the residual by less than ``max_contraction``). A solve that fails with
lagged factors is retried once from its start with fresh ones.

Option check (``checked_options``): after the first solve that factorised, the solver asks PETSc
which of these options no PETSc object read (petsc_options.check_options: misspellings, options of
other configurations) and hands them to ``on_options_checked``.
"""

from __future__ import annotations

import atexit
import itertools
import time
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from ionslit.solvers.petsc_options import UnusedOption, check_options, merge_petsc_options

#: Used instead of ksp_type/preonly when the LU factors are reused (GMRES on a lagged LU).
REUSE_KSP_OPTIONS: dict[str, Any] = {
    "ksp_type": "gmres",
    "ksp_pc_side": "right",  # unpreconditioned residual norm: the Newton residual itself
    "ksp_rtol": 1e-9,
    "ksp_atol": 1e-14,
    "ksp_max_it": 40,
    "ksp_gmres_restart": 40,
}

#: "none": Newton with a fresh Jacobian and LU every iteration; "lu": fresh Jacobian, GMRES
#: preconditioned by lagged LU factors; "jacobian": chord iterations with a lagged Jacobian and
#: its LU factors (fresh residuals only). Both reuse modes refresh automatically.
REUSE_MODES = ("none", "lu", "jacobian")

PETSC_ERR_PYTHON = 101  # PETSc's code for a Python exception raised inside a callback

_SNES_REASONS = {getattr(PETSc.SNES.ConvergedReason, k): k
                 for k in dir(PETSc.SNES.ConvergedReason) if k.isupper()}


def snes_reason_name(reason: int) -> str:
    """PETSc's name of an SNES converged reason, e.g. -5 -> 'DIVERGED_MAX_IT'."""
    return _SNES_REASONS.get(int(reason), f"REASON_{int(reason)}")


class SolverDivergedError(RuntimeError):
    """A nonlinear solve failed. ``reason`` is the SNES reason name (e.g. 'DIVERGED_MAX_IT',
    'DIVERGED_LINE_SEARCH', 'DIVERGED_FNORM_NAN') or a description of what else failed."""

    def __init__(self, reason: str, message: str = "", iterations: int | None = None,
                 residual_norm: float | None = None, context: str = ""):
        self.reason = reason
        self.iterations = iterations
        self.residual_norm = residual_norm
        self.context = context
        text = f"nonlinear solve diverged: {reason}"
        if iterations is not None:
            text += f" after {iterations} Newton iterations"
        if residual_norm is not None:
            text += f" (residual norm {residual_norm:.3e})"
        if context:
            text += f" [{context}]"
        if message:
            text += f": {message}"
        super().__init__(text)


@dataclass
class NewtonReport:
    """What one (successful) nonlinear solve cost."""

    iterations: int
    linear_iterations: int
    reason: str
    residual_norm: float
    residual_time: float = 0.0  # s, assembling residuals
    jacobian_time: float = 0.0  # s, assembling Jacobians
    factorization_time: float = 0.0  # s, LU factorisations
    factorizations: int = 0
    jacobians: int = 0  # Jacobian assemblies
    solve_time: float = 0.0  # s, the whole SNES solve
    limited_steps: int = 0  # Newton updates the step limiter scaled down
    history: list[float] = field(default_factory=list)  # residual norms per iteration


_prefix_counter = itertools.count()
_LIVE_SOLVERS: weakref.WeakSet = weakref.WeakSet()


def live_solvers() -> list[NewtonSolver]:
    """Every NewtonSolver still alive in this process, in creation order (the same on every
    rank), e.g. to destroy the ones a test built at a point all ranks reach."""
    return sorted(_LIVE_SOLVERS, key=lambda solver: solver.creation_index)


@atexit.register
def _remove_options_at_exit() -> None:
    # Registered after petsc4py's own exit handler, so it runs first (atexit is LIFO).
    for solver in list(_LIVE_SOLVERS):
        solver.close()


class NewtonSolver:
    """An SNES solve of F(u) = 0 built on ``dolfinx.fem.petsc.NonlinearProblem``.

    ``u`` is a Function or a list (block system, e.g. [mixed state, real clamp voltage]).
    ``limited`` lists, per block, a function returning a boolean array over that block's local
    dofs (True: the limiter caps this dof's update at ``max_step``), or None for "all dofs".
    ``checked_options``: names in ``petsc_options`` (the user's) whose use is checked after the
    first solve that factorised; ``unused_options`` then holds those no PETSc object read (None
    before), also passed to ``on_options_checked`` (called once, on every rank).
    """

    def __init__(self, F, u, bcs, petsc_options: Mapping[str, Any], *, name: str = "pnp",
                 max_step: float | None = 5.0,
                 limited: Sequence[Callable[[], np.ndarray] | None] | None = None,
                 reuse: str = "none", max_krylov_iterations: int = 12,
                 max_contraction: float = 0.25,
                 stagnation_window: int = 5, stagnation_decrease: float = 0.02,
                 jit_options: dict | None = None, form_compiler_options: dict | None = None,
                 checked_options: Collection[str] = (),
                 on_options_checked: Callable[[tuple[UnusedOption, ...]], None] | None = None):
        self._option_keys: list[str] = []  # this solver's entries in the PETSc options database
        #: place in creation order; the PETSc options prefix is ionslit_<name>_<index>_
        self.creation_index = next(_prefix_counter)
        self.prefix = f"ionslit_{name}_{self.creation_index}_"
        self.u = u
        self.bcs = list(bcs)
        self.max_step = max_step
        if reuse not in REUSE_MODES:
            raise ValueError(f"reuse {reuse!r}: choose one of {REUSE_MODES}")
        self._reuse = reuse
        self.max_krylov_iterations = max_krylov_iterations
        self.max_contraction = max_contraction
        self.stagnation_window = stagnation_window
        self.stagnation_decrease = stagnation_decrease
        self._norms: list[float] = []
        self.checked_options = tuple(key.lstrip("-") for key in checked_options)
        self.on_options_checked = on_options_checked
        self.unused_options: tuple[UnusedOption, ...] | None = None
        # With LU reuse the factorised matrix P is separate from the Jacobian A and only
        # re-assembled when fresh factors are wanted (PETSc refactorises when P changes).
        # The derivative of a residual (one form or one per block) is a form or a block matrix
        # of forms; derivative_block's annotation also admits a flat list (of a functional).
        jacobian = dolfinx.fem.forms.derivative_block(F, u)
        preconditioner = jacobian if reuse == "lu" else None
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            F, u, bcs=self.bcs, J=jacobian, P=preconditioner,  # type: ignore[arg-type]
            petsc_options_prefix=self.prefix, jit_options=jit_options,
            form_compiler_options=form_compiler_options)
        self.snes = self.problem.solver
        self.comm = self.snes.comm.tompi4py()

        options = dict(petsc_options)
        if reuse == "lu":
            options = merge_petsc_options(options, REUSE_KSP_OPTIONS)
        self._set_options(options)

        # Our own timed callbacks replace the ones NonlinearProblem installed.
        self._blocks = self.problem.b.getAttr("_blocks")  # block layout (clamp) or None
        self._jacobian_ctx: dict[str, Any] = {"u": self.problem.u, "jacobian": self.problem.J,
                              "preconditioner": self.problem.preconditioner, "bcs": self.bcs}
        self.snes.setFunction(self._residual, self.problem.b)
        self.snes.setJacobian(self.jacobian_callback, self.problem.A, self.problem.P_mat)
        self.snes.setMonitor(self._monitor)
        self.snes.setConvergenceTest(self._converged)

        self._mask = self._limiter_mask(limited) if max_step else None
        if max_step:
            self.snes.setLineSearchPreCheck(self._limit_step)

        self._report: NewtonReport | None = None
        #: True: the next Jacobian callback assembles and factorises afresh (reuse modes)
        self.refresh_factorization = True
        _LIVE_SOLVERS.add(self)

    @property
    def reuse(self) -> str:
        """Reuse mode for the next solves; 'none' and 'jacobian' can be switched freely, 'lu'
        only if the solver was built with it (it needs the separate matrix P)."""
        return self._reuse

    @reuse.setter
    def reuse(self, mode: str) -> None:
        if mode not in REUSE_MODES:
            raise ValueError(f"reuse {mode!r}: choose one of {REUSE_MODES}")
        if (mode == "lu") != (self.problem.P_mat is not None) and mode != "none":
            raise ValueError("switching to or from reuse='lu' needs a new solver")
        if mode != self._reuse:
            self.refresh_factorization = True
        self._reuse = mode

    @property
    def reuse_factorization(self) -> bool:
        return self._reuse != "none"

    # -- options ----------------------------------------------------------------------------
    def _set_options(self, options: Mapping[str, Any]) -> None:
        db = PETSc.Options()
        self._option_keys = []
        for key, value in options.items():
            if value is False or (isinstance(value, str) and value.lower() == "false"):
                value = "0"
            db.setValue(self.prefix + key, "" if value is None else value)
            self._option_keys.append(self.prefix + key)
        # Options stay in the database while the solver lives: MUMPS reads mat_mumps_* when it
        # first factorises, i.e. inside the first solve.
        self.snes.setFromOptions()
        self.options = dict(options)

    def close(self) -> None:
        """Remove this solver's options from the PETSc database."""
        db = PETSc.Options()
        for key in self._option_keys:
            if db.hasName(key):
                db.delValue(key)
        self._option_keys = []

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown)
            pass

    # -- callbacks --------------------------------------------------------------------------
    def _residual(self, snes, x, b):
        """F(x) with Dirichlet rows x - g, lifted (dolfinx's exact-Newton treatment of Dirichlet
        data) only while the iterate violates the Dirichlet data: once a full Newton step has
        put the boundary values in place the lifting term is exactly zero and is skipped."""
        t0 = time.perf_counter()
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        # dolfinx's assign and assemble_vector dispatch on their first argument (a Vec here);
        # their annotations describe the other overload.
        dolfinx.fem.petsc.assign(x, self.problem.u)  # type: ignore[arg-type]
        if self._blocks is not None:
            b.setAttr("_blocks", self._blocks)
            x.setAttr("_blocks", self._blocks)
        with b.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(b, self.problem.F)  # type: ignore[arg-type]
        if self._violates_dirichlet_data():
            J = self.problem.J
            if isinstance(J, Sequence):
                spaces = dolfinx.fem.extract_function_spaces(J, 1)
                assert isinstance(spaces, list)  # one space per block
                dolfinx.fem.petsc.apply_lifting(b, J, bcs=dolfinx.fem.bcs_by_block(spaces,
                                                                                   self.bcs),
                                                x0=x, alpha=-1.0)
            else:
                dolfinx.fem.petsc.apply_lifting(b, [J], bcs=[self.bcs], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        if isinstance(self.problem.F, Sequence):
            spaces = dolfinx.fem.extract_function_spaces(self.problem.F)
            assert isinstance(spaces, list)  # one space per block
            dolfinx.fem.petsc.set_bc(b, dolfinx.fem.bcs_by_block(spaces, self.bcs), x0=x,
                                     alpha=-1.0)
        else:
            dolfinx.fem.petsc.set_bc(b, self.bcs, x0=x, alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        if self._report is not None:
            self._report.residual_time += time.perf_counter() - t0

    def _violates_dirichlet_data(self) -> bool:
        """True if the present iterate differs from the Dirichlet values anywhere."""
        values = (self.u[0] if isinstance(self.u, Sequence) else self.u).x.array
        defect = np.zeros_like(values)
        for bc in self.bcs:
            bc.set(defect, x0=values, alpha=1.0)  # defect = g - x on constrained dofs
        local = float(np.max(np.abs(defect), initial=0.0))
        return self.comm.allreduce(local, op=MPI.MAX) > 0.0

    def jacobian_callback(self, snes, x, A, P):
        """The SNES Jacobian callback: assemble J (and P) at ``x`` and factorise when fresh
        factors are due, else keep the lagged ones (reuse modes; ``refresh_factorization``)."""
        t0 = time.perf_counter()
        refactor = self.reuse == "none" or self.refresh_factorization
        if self.reuse == "jacobian" and not refactor:
            return  # chord step: A and its LU factors from an earlier iterate
        ctx = dict(self._jacobian_ctx)
        if not refactor:
            ctx["preconditioner"] = None  # keep P (and its LU factors) from an earlier iterate
        dolfinx.fem.petsc.assemble_jacobian(snes, x, A, P, **ctx)
        t1 = time.perf_counter()
        if refactor:
            ksp = snes.getKSP()
            ksp.setOperators(A, P)
            ksp.getPC().setUp()  # factorise now, so that its cost is measured apart
            self.refresh_factorization = False
        t2 = time.perf_counter()
        if self._report is not None:
            self._report.jacobian_time += t1 - t0
            self._report.jacobians += 1
            if refactor:
                self._report.factorization_time += t2 - t1
                self._report.factorizations += 1

    def _monitor(self, snes, its, fnorm):
        if self._report is not None:
            self._report.history.append(float(fnorm))
        if its == 0 or self.reuse == "none":
            return
        if self.reuse == "lu":
            if snes.getKSP().getIterationNumber() > self.max_krylov_iterations:
                self.refresh_factorization = True
        elif self._report is not None and len(self._report.history) >= 2:
            previous = self._report.history[-2]
            if previous > 0 and fnorm > self.max_contraction * previous:
                self.refresh_factorization = True  # the stale Jacobian converges too slowly

    def _limiter_mask(self, limited) -> np.ndarray:
        """Boolean array over the owned entries of the solution vector: dofs the limiter caps."""
        functions = self.u if isinstance(self.u, Sequence) else [self.u]
        limited = list(limited) if limited is not None else [None] * len(functions)
        masks = []
        for f, rule in zip(functions, limited, strict=True):
            m = dolfinx.fem.Function(f.function_space)
            m.x.array[:] = 1.0 if rule is None else np.asarray(rule(), dtype=float)
            masks.append(m)
        vec = self.problem.x.duplicate()
        dolfinx.fem.petsc.assign(masks if isinstance(self.u, Sequence) else masks[0], vec)
        mask = vec.array_r > 0.5
        vec.destroy()
        return mask

    def _limit_step(self, x, y):
        """Line search pre-check: scale the Newton update so that max |dy| <= max_step over the
        limited dofs (direction kept, so it stays a descent direction for the line search)."""
        local = np.max(np.abs(y.array_r[self._mask]), initial=0.0)
        largest = self.comm.allreduce(local, op=MPI.MAX)
        if largest > self.max_step:
            y.scale(self.max_step / largest)
            if self._report is not None:
                self._report.limited_steps += 1

    def _converged(self, snes, its, norms):
        """PETSc's default test (atol, rtol, stol, divtol, max_it) plus stagnation: if the
        residual norm fell by less than ``stagnation_decrease`` over the last
        ``stagnation_window`` iterations, stop with DIVERGED_LOCAL_MIN (Newton is stuck at a
        local minimum of |F|) so that continuation or time-step cut-back takes over early."""
        xnorm, ynorm, fnorm = norms
        reason = PETSc.SNES.ConvergedReason
        rtol, atol, stol, max_it = snes.getTolerances()
        if its == 0:
            self._norms = []
        self._norms.append(fnorm)
        if not np.isfinite(fnorm):
            return reason.DIVERGED_FUNCTION_NANORINF
        # Chord iterations converge linearly: a residual below atol says little about the
        # error while they still contract well, so then rtol or stol decide. Once they stop
        # contracting below atol, the residual has reached its round-off floor (e.g. a time
        # step just after a voltage jump back to equilibrium starts barely above it): accept.
        contracting = its > 0 and fnorm <= self.max_contraction * self._norms[-2]
        if fnorm < atol and (its == 0 or self._reuse != "jacobian" or not contracting):
            return reason.CONVERGED_FNORM_ABS
        if its > 0:
            if fnorm <= rtol * self._norms[0]:
                return reason.CONVERGED_FNORM_RELATIVE
            if ynorm < stol * xnorm:
                return reason.CONVERGED_SNORM_RELATIVE
            divtol = snes.getDivergenceTolerance()
            if divtol > 0 and fnorm > divtol * self._norms[0]:
                return reason.DIVERGED_DTOL
            window = self.stagnation_window
            if window and its >= window and \
                    fnorm > (1.0 - self.stagnation_decrease) * self._norms[its - window]:
                return reason.DIVERGED_LOCAL_MIN
        if its >= max_it:
            return reason.DIVERGED_MAX_IT
        return reason.ITERATING

    # -- solving ----------------------------------------------------------------------------
    def reset_preconditioner(self) -> None:
        """Drop the (possibly failed) factorisation: a failed MUMPS factorisation is sticky."""
        ksp = self.snes.getKSP()
        ksp.getPC().reset()
        self.refresh_factorization = True

    def request_fresh_factorization(self) -> None:
        """Make the next Jacobian evaluation refactorise (e.g. after dt changed a lot)."""
        self.refresh_factorization = True

    def solve(self, context: str = "") -> NewtonReport:
        """Solve from the current values of ``u``; raise SolverDivergedError on failure (after
        resetting the preconditioner); return the cost report on success. ``u`` holds the
        last iterate either way (the caller restores a saved state on failure).

        With LU reuse, a failure that started from lagged factors is retried once from the same
        initial state with a fresh factorisation before it counts as a divergence."""
        report, started_fresh = self._solve_once()
        if not self._succeeded(report) and self.reuse_factorization and not started_fresh:
            self.reset_preconditioner()
            self._restore_initial()
            report, _ = self._solve_once()
        if self.unused_options is None and report.factorizations:
            self._check_options()
        if not self._succeeded(report):
            self.reset_preconditioner()
            reason = report.reason if not report.reason.startswith("CONVERGED") \
                else "NONFINITE_SOLUTION"
            raise SolverDivergedError(reason, iterations=report.iterations,
                                      residual_norm=report.residual_norm, context=context)
        return report

    def _check_options(self) -> None:
        """Find the checked options no PETSc object read (all of them are read by now: the
        SNES, KSP and PC in setFromOptions, the factorisation package when it factorised)."""
        self.unused_options = check_options(self.prefix, self.checked_options, self.options,
                                            self.comm)
        if self.on_options_checked is not None:
            self.on_options_checked(self.unused_options)

    def _succeeded(self, report: NewtonReport) -> bool:
        return report.reason.startswith("CONVERGED") and self._finite()

    def _solve_once(self) -> tuple[NewtonReport, bool]:
        functions = self.u if isinstance(self.u, Sequence) else [self.u]
        self._initial = [f.x.array.copy() for f in functions]
        started_fresh = self.refresh_factorization
        self._report = report = NewtonReport(0, 0, "", np.nan)
        t0 = time.perf_counter()
        try:
            self.problem.solve()
        except PETSc.Error as error:  # e.g. a failed factorisation reported as an error
            self._report = None
            code = error.ierr  # type: ignore[attr-defined]  # set by PETSc.Error, not in its stub
            if code == PETSC_ERR_PYTHON:  # an exception in our callbacks: a bug, not a
                self.reset_preconditioner()  # divergence, so let it surface
                raise
            report.solve_time = time.perf_counter() - t0
            report.iterations = self.snes.getIterationNumber()
            report.reason = f"PETSC_ERROR_{code}"
            return report, started_fresh
        self._report = None
        report.solve_time = time.perf_counter() - t0
        report.iterations = self.snes.getIterationNumber()
        report.linear_iterations = self.snes.getLinearSolveIterations()
        report.residual_norm = float(self.snes.getFunctionNorm())
        # petsc4py's stub types the reason (an int) as the ConvergedReason namespace class.
        report.reason = snes_reason_name(self.snes.getConvergedReason())  # type: ignore[arg-type]
        return report, started_fresh

    def _restore_initial(self) -> None:
        functions = self.u if isinstance(self.u, Sequence) else [self.u]
        for f, values in zip(functions, self._initial, strict=True):
            f.x.array[:] = values

    def _finite(self) -> bool:
        functions = self.u if isinstance(self.u, Sequence) else [self.u]
        local = all(np.all(np.isfinite(f.x.array)) for f in functions)
        return bool(self.comm.allreduce(local, op=MPI.LAND))
