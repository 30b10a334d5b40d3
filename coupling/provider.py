"""The memristor provider protocol: the contract between a memristive element and the circuit.

A *provider* is one memristive element (a live PNP slit, a reduced ``tau dg/dt = g_inf - g``
model, a Hodgkin-Huxley channel, a resistor) that the circuit integrator advances through an
implicit iteration. SI units throughout (s, V, A, S).

``MemristorProvider`` (the scalar contract, what ``ionslit.solvers.model.PNPModel`` implements):

- ``time`` (s): the accepted time;
- ``try_step(dt, voltage) -> current``: advance *tentatively* from the accepted state by ``dt``
  with ``voltage`` across the element at the new time level (implicit), return the current (A)
  through it at the new time level, positive from the battery side into the element (``I = g V``
  for an ohmic element). Calling it again without ``accept`` re-solves the same step with another
  voltage. It may raise an exception derived from ``RuntimeError`` (e.g. a Newton divergence):
  the integrator then calls ``reject()`` and cuts the step;
- ``accept()``: the last try becomes the accepted state; ``reject()``: discard it;
- ``restart_history()``: forget older time levels, so the next step is backward Euler (after a
  start or a discontinuity of the forcing);
- ``snapshot()``: a picklable checkpoint; ``restore(snapshot)``.

A scalar provider gives no dI/dV: the integrator uses secants between tries and reuses them
across steps. ``SteadyStateProvider`` adds ``equilibrate(voltage)`` and
``steady_current(voltage)`` (the resting-potential search, ``Circuit.equilibrate``);
``SchemeOptions``: a provider with ``options.time_scheme`` (a PNP model) names its time scheme.

``LaneProvider`` is the vectorised extension used by the providers of this package
(``vectorised = True``): ``lanes`` independent copies of the element (e.g. one per stimulus
amplitude of an f-I curve), ``time``, ``dt``, ``voltage`` and the returned current are arrays of
shape ``(lanes,)``, and ``accept``, ``reject`` and ``restart_history`` take a boolean lane mask.
``with_lanes(n)`` returns a fresh copy whose present state is broadcast to ``n`` lanes;
``differential_conductance`` (S, or None) is dI/dV of the last try at fixed dt (the derivative of
the implicit step map), which makes the circuit Newton iteration exact; ``local_error(rtol)``
estimates the local error of the hidden states of the last try (in units of the tolerance, or
None) for the integrator's step control; ``optional_conductance`` says whether
``try_step(dt, voltage, conductance=False)`` computes the current alone (no dI/dV, which the
integrator does not need on tries that only confirm convergence); ``scheme`` is the time scheme
(settable on vectorised providers; None when unknown). A scalar provider is wrapped by
``as_lanes`` (one lane).

Caveat: ``dt`` arrays passed to a lane provider must not be modified until the step is accepted
or rejected (the tries of one step are recognised by the identity of the ``dt`` array).

Parallel runs: a provider distributed over MPI ranks (a live slit) must return the *global*
current, the same on every rank, and raise on every rank alike, so that all ranks take the same
decisions in lockstep.

Time-scheme consistency: the providers here integrate their internal state with the circuit's
scheme (backward Euler, or variable-step BDF2 after the first step since a restart): the
integrator sets their ``scheme`` attribute and restarts their history at the same events as its
own, so the coupled system is one implicit BDF method of a single order.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeGuard, runtime_checkable

import numpy as np


@runtime_checkable
class MemristorProvider(Protocol):
    """Scalar provider contract (see the module docstring)."""

    @property
    def time(self) -> float:
        """Accepted time (s)."""
        ...

    def try_step(self, dt: float, voltage: float) -> float:
        """Current (A) at the new time level after a tentative step ``dt`` (s) at ``voltage``
        (V) across the element."""
        ...

    def accept(self) -> None:
        ...

    def reject(self) -> None:
        ...

    def restart_history(self) -> None:
        ...

    def snapshot(self) -> Any:
        ...

    def restore(self, snapshot: Any) -> None:
        ...


@runtime_checkable
class SteadyStateProvider(Protocol):
    """A provider that can be put at, and report, its steady state at a fixed voltage."""

    def equilibrate(self, voltage) -> None:
        """Set the steady state for ``voltage`` (V) across the element."""
        ...

    def steady_current(self, voltage):
        """Steady-state current (A) at ``voltage`` (V) across the element."""
        ...


class SchemeOptions(Protocol):
    time_scheme: str


@runtime_checkable
class SchemeProvider(Protocol):
    """A scalar provider whose ``options.time_scheme`` names its time scheme (a PNP model)."""

    options: SchemeOptions


@runtime_checkable
class LaneProvider(Protocol):
    """Vectorised provider: ``lanes`` independent elements, arrays of shape ``(lanes,)``."""

    lanes: int
    vectorised: bool
    optional_conductance: bool

    @property
    def scheme(self) -> str | None:
        """The time scheme the provider integrates with (``bdf.SCHEMES``; None: unknown). The
        integrator sets it on vectorised providers."""
        ...

    @scheme.setter
    def scheme(self, scheme: str) -> None:
        ...

    @property
    def time(self) -> np.ndarray:
        ...

    def try_step(self, dt: np.ndarray, voltage: np.ndarray,
                 conductance: bool = True) -> np.ndarray:
        ...

    @property
    def differential_conductance(self) -> np.ndarray | None:
        ...

    def local_error(self, rtol: float) -> np.ndarray | None:
        ...

    def accept(self, mask: np.ndarray | None = None) -> None:
        ...

    def reject(self, mask: np.ndarray | None = None) -> None:
        ...

    def restart_history(self, mask: np.ndarray | None = None) -> None:
        ...

    @property
    def state(self) -> Any:
        ...

    def restore(self, state: Any) -> None:
        ...

    def with_lanes(self, lanes: int) -> LaneProvider:
        ...


Provider = MemristorProvider | LaneProvider


def is_lane_provider(provider: Provider) -> TypeGuard[LaneProvider]:
    """Whether ``provider`` is natively vectorised (a ``LaneProvider`` with lane masks)."""
    return isinstance(provider, LaneProvider) and provider.vectorised


def provider_snapshot(provider: Provider) -> Any:
    """A checkpoint of ``provider``: ``state`` of a lane provider, else ``snapshot()``."""
    return as_lanes(provider).state


class ScalarLanes:
    """One-lane ``LaneProvider`` view of a scalar ``MemristorProvider`` (e.g. a PNP slit).

    Converts the integrator's one-element arrays to floats and back; ``accept(mask)`` accepts
    when the lane is selected and rejects otherwise. The clock of the wrapped provider is set to
    the integrator's exact (milestone) time after each accepted step, as the PNP time stepper
    does, so no round-off drift accumulates. A scalar provider gives no dI/dV and no state
    error estimate.
    """

    lanes = 1
    vectorised = False
    optional_conductance = False
    differential_conductance = None

    def __init__(self, provider: MemristorProvider):
        self.provider = provider
        #: the wrapped provider's time scheme (``options.time_scheme``), None when unknown
        self.scheme: str | None = (provider.options.time_scheme
                                   if isinstance(provider, SchemeProvider) else None)

    @property
    def time(self) -> np.ndarray:
        return np.array([float(self.provider.time)])

    def try_step(self, dt: np.ndarray, voltage: np.ndarray, conductance: bool = True
                 ) -> np.ndarray:
        return np.array([float(self.provider.try_step(float(dt[0]), float(voltage[0])))])

    def local_error(self, rtol: float) -> None:
        return None

    def accept(self, mask=None) -> None:
        if mask is None or bool(mask[0]):
            self.provider.accept()
        else:
            self.provider.reject()

    def reject(self, mask=None) -> None:
        if mask is None or bool(mask[0]):
            self.provider.reject()

    def restart_history(self, mask=None) -> None:
        if mask is None or bool(mask[0]):
            self.provider.restart_history()

    @property
    def state(self) -> Any:
        return self.provider.snapshot()

    def restore(self, state: Any) -> None:
        self.provider.restore(state)

    def with_lanes(self, lanes: int) -> LaneProvider:
        raise TypeError(f"{type(self.provider).__name__} is a scalar provider: it cannot be "
                        f"copied into {lanes} lanes (run the lanes one after the other)")


def as_lanes(provider: Provider) -> LaneProvider:
    """``provider`` itself if it is a lane provider, else a one-lane wrapper."""
    if is_lane_provider(provider):
        return provider
    if not isinstance(provider, MemristorProvider):
        raise TypeError(f"{type(provider).__name__} is not a memristor provider: it lacks "
                        f"one of try_step, accept, reject, restart_history, snapshot, restore "
                        f"or time")
    return ScalarLanes(provider)
