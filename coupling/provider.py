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
- a picklable snapshot for checkpoints: ``snapshot()`` if the provider has it (PNPModel, whose
  ``state`` attribute is its finite-element function), else the ``state`` property; and
  ``restore(snapshot)``.

Optional: ``differential_conductance`` (S), dI/dV of the last try at fixed dt (the derivative of
the implicit step map). Providers that know it make the circuit Newton iteration exact;
without it the integrator uses secants between tries and reuses them across steps.

``LaneProvider`` is the vectorised extension used by the providers of this package
(``vectorised = True``): ``lanes`` independent copies of the element (e.g. one per stimulus
amplitude of an f-I curve), ``time``, ``dt``, ``voltage`` and the returned current are arrays of
shape ``(lanes,)``, and ``accept``, ``reject`` and ``restart_history`` take a boolean lane mask.
``with_lanes(n)`` returns a fresh copy whose present state is broadcast to ``n`` lanes;
``local_error(rtol)`` (optional) estimates the local error of the hidden states of the last try
for the integrator's step control; ``optional_conductance = True`` (optional) says that
``try_step(dt, voltage, conductance=False)`` computes the current alone (no dI/dV, which the
integrator does not need on tries that only confirm convergence). A scalar provider is wrapped
by ``as_lanes`` (one lane).

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

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class MemristorProvider(Protocol):
    """Scalar provider contract (see the module docstring)."""

    time: float

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

    def restore(self, state: Any) -> None:
        ...


@runtime_checkable
class LaneProvider(Protocol):
    """Vectorised provider: ``lanes`` independent elements, arrays of shape ``(lanes,)``."""

    lanes: int
    vectorised: bool
    time: np.ndarray

    def try_step(self, dt: np.ndarray, voltage: np.ndarray) -> np.ndarray:
        ...

    @property
    def differential_conductance(self) -> np.ndarray | None:
        ...

    def accept(self, mask: np.ndarray | None = None) -> None:
        ...

    def reject(self, mask: np.ndarray | None = None) -> None:
        ...

    def restart_history(self, mask: np.ndarray | None = None) -> None:
        ...

    @property
    def state(self) -> dict:
        ...

    def restore(self, state: dict) -> None:
        ...

    def with_lanes(self, lanes: int) -> LaneProvider:
        ...


def provider_snapshot(provider) -> Any:
    """A checkpoint of ``provider``: ``snapshot()`` when it has one, else ``state``."""
    snap = getattr(provider, "snapshot", None)
    if callable(snap):
        return snap()
    return provider.state


def is_lane_provider(provider) -> bool:
    """Whether ``provider`` is natively vectorised (``vectorised = True``, lane masks)."""
    return bool(getattr(provider, "vectorised", False))


class ScalarLanes:
    """One-lane ``LaneProvider`` view of a scalar ``MemristorProvider`` (e.g. a PNP slit).

    Converts the integrator's one-element arrays to floats and back; ``accept(mask)`` accepts
    when the lane is selected and rejects otherwise. The clock of the wrapped provider is set to
    the integrator's exact (milestone) time after each accepted step, as the PNP time stepper
    does, so no round-off drift accumulates.
    """

    lanes = 1
    vectorised = False

    def __init__(self, provider):
        self.provider = provider

    @property
    def time(self) -> np.ndarray:
        return np.array([float(self.provider.time)])

    @property
    def scheme(self):
        return getattr(self.provider, "scheme", None)

    def try_step(self, dt: np.ndarray, voltage: np.ndarray) -> np.ndarray:
        return np.array([float(self.provider.try_step(float(dt[0]), float(voltage[0])))])

    @property
    def differential_conductance(self):
        g = getattr(self.provider, "differential_conductance", None)
        return None if g is None else np.array([float(g)])

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
            restart = getattr(self.provider, "restart_history", None)
            if restart is not None:
                restart()

    @property
    def state(self):
        return provider_snapshot(self.provider)

    def restore(self, state) -> None:
        self.provider.restore(state)

    def with_lanes(self, lanes: int):
        raise TypeError(f"{type(self.provider).__name__} is a scalar provider: it cannot be "
                        f"copied into {lanes} lanes (run the lanes one after the other)")


def as_lanes(provider) -> LaneProvider:
    """``provider`` itself if it is a lane provider, else a one-lane wrapper."""
    if is_lane_provider(provider):
        return provider
    missing = [m for m in ("try_step", "accept", "reject", "restore") if
               not callable(getattr(provider, m, None))]
    if missing or not hasattr(provider, "time"):
        raise TypeError(f"{type(provider).__name__} is not a memristor provider: it lacks "
                        f"{', '.join(missing) or 'time'}")
    return ScalarLanes(provider)
