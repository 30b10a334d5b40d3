"""The hook for volumetric sources: reactions and other source terms of the Nernst-Planck equations.

A reaction provides its stoichiometry and its rate law, written once:

    class Reaction(Protocol):
        equation: str                            # names the reaction in messages
        stoichiometry: Mapping[str, float]       # nu_i: < 0 consumed, > 0 produced
        region: str | tuple[str, ...] | None     # cell group(s) it runs in; None: everywhere
        field_length: float | None               # m: sees |V| / field_length; None: local |E|
        def rate(self, c, field_magnitude) -> ufl.Expr   # R (mol/(m^3 s))
        def relaxation_rate(self, concentration) -> float  # 1/s at c ~ concentration (mol/m^3)

``c`` maps species names to UFL concentrations (mol/m^3) and ``field_magnitude`` is a smooth |E|
(V/m). The solver adds sum_r nu_{i,r} R_r to the Nernst-Planck residual of species i in every
formulation. Anything else that acts like a volumetric source (e.g. a manufactured solution's
forcing) implements :class:`VolumeSource` and may also add a charge density to Poisson.

Mass-action reactions with field-dependent dissociation (equations such as "Ca + SO4 <-> CaSO4",
laws constant / onsager / power / table, reservoir equilibrium, calibration) live in
``ionslit.solvers.kinetics``. Reactions that can (``create_constants(mesh)``) get their rate parameters
as ``dolfinx.fem.Constant`` objects here, so that compiled forms are reused when they change.
The equations of immobile reacting species are conditioned (and, where they are dependent,
completed in steady mode) by ``ionslit.solvers.kinetics.immobile``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Reaction(Protocol):
    """A reaction with mass-action (or any) kinetics; see the module docstring."""

    @property
    def equation(self) -> str: ...

    @property
    def stoichiometry(self) -> Mapping[str, float]: ...

    @property
    def region(self) -> str | tuple[str, ...] | None: ...

    @property
    def field_length(self) -> float | None: ...

    def rate(self, c: Mapping[str, Any], field_magnitude: Any) -> Any:
        """Net forward rate R (mol/(m^3 s)) as a UFL expression."""
        ...

    def relaxation_rate(self, concentration: float) -> float:
        """A characteristic rate (1/s) at concentrations ~ ``concentration`` (mol/m^3), used to
        condition the equations of immobile reacting species (kinetics.immobile)."""
        ...


@runtime_checkable
class ParametrisedReaction(Protocol):
    """A Reaction whose rate parameters can live in ``dolfinx.fem.Constant`` objects, so that
    compiled forms are reused when they change (e.g. kinetics.MassActionReaction)."""

    def create_constants(self, mesh) -> Any:
        """Constants on ``mesh`` holding this reaction's parameter values."""
        ...

    def assign_constants(self, constants: Any) -> None:
        """Put this reaction's parameter values into ``create_constants``' Constants."""
        ...

    def rate(self, c: Mapping[str, Any], field_magnitude: Any, constants: Any = None) -> Any:
        """R (mol/(m^3 s)) with the parameters read from ``constants``."""
        ...


@dataclass(frozen=True)
class SourceContext:
    """What a source term may depend on, all UFL in SI units.

    ``concentrations``: name -> c (mol/m^3); ``potential``: phi (V); ``field_magnitude``: smooth
    |E| (V/m); ``voltage_magnitude``: smooth |V| (V) of the applied voltage; ``x``: spatial
    coordinate (m); ``time``: the time (s) of the new time level.
    """

    concentrations: Mapping[str, Any]
    potential: Any
    field_magnitude: Any
    x: Any
    time: Any
    voltage_magnitude: Any = None


@runtime_checkable
class VolumeSource(Protocol):
    """A volumetric source: species rates (mol/(m^3 s)) and an optional extra charge density
    (C/m^3) on the right-hand side of Poisson."""

    def species_rates(self, context: SourceContext) -> Mapping[str, Any]: ...

    def charge_density(self, context: SourceContext) -> Any | None: ...


@dataclass(frozen=True)
class ReactionSources:
    """The reactions as a VolumeSource: species i gains sum_r nu_{i,r} R_r.

    With ``constants`` (one entry per reaction: the dict of ``reaction.create_constants(mesh)``
    or None) the rates are evaluated with them; ``create`` builds them. ``indicators`` (one
    entry per reaction: None, or a UFL function equal to 1 on the cells of the reaction's
    region and 0 elsewhere, see ionslit.solvers.kinetics.regions) restrict reactions to a region: the
    rate used is indicator * R. A reaction with a ``field_length`` L sees the lumped field
    |V| / L instead of the local |E|."""

    reactions: tuple[Reaction, ...]
    constants: tuple | None = None
    indicators: tuple | None = None

    @classmethod
    def create(cls, reactions: Sequence[Reaction], mesh=None,
               indicators: Sequence | None = None) -> ReactionSources:
        """Sources with Constants on ``mesh`` for reactions that support them, restricted by
        ``indicators`` (None or one entry per reaction)."""
        reactions = tuple(reactions)
        constants = None
        if mesh is not None:
            constants = tuple(r.create_constants(mesh) if isinstance(r, ParametrisedReaction)
                              else None for r in reactions)
        if indicators is not None:
            indicators = tuple(indicators)
            if len(indicators) != len(reactions):
                raise ValueError("give one indicator (or None) per reaction")
            if all(i is None for i in indicators):
                indicators = None
        return cls(reactions, constants, indicators)

    def update_reaction(self, index: int, reaction: Reaction) -> None:
        """New parameter values for reaction ``index`` (same equation and law structure): only
        Constants change, the compiled forms stay."""
        if self.constants is None or self.constants[index] is None:
            raise ValueError("these sources have no Constants for that reaction (build them "
                             "with ReactionSources.create(..., mesh=...))")
        if reaction.stoichiometry != self.reactions[index].stoichiometry:
            raise ValueError("update_reaction keeps the equation: build a new model to change it")
        if not isinstance(reaction, ParametrisedReaction):
            raise ValueError("update_reaction needs a reaction whose parameters live in Constants")
        reaction.assign_constants(self.constants[index])

    def reaction_rates(self, context: SourceContext) -> list[Any]:
        """R_r (mol/(m^3 s)) of every reaction, in order (times its region's indicator)."""
        rates = []
        for k, reaction in enumerate(self.reactions):
            constants = None if self.constants is None else self.constants[k]
            length = reaction.field_length
            field = context.field_magnitude if length is None \
                else context.voltage_magnitude / length
            if constants is None:
                rate = reaction.rate(context.concentrations, field)
            else:
                assert isinstance(reaction, ParametrisedReaction)  # it created the constants
                rate = reaction.rate(context.concentrations, field, constants)
            indicator = None if self.indicators is None else self.indicators[k]
            rates.append(rate if indicator is None else indicator * rate)
        return rates

    def species_rates(self, context: SourceContext) -> dict[str, Any]:
        rates: dict[str, Any] = {}
        for reaction, rate in zip(self.reactions, self.reaction_rates(context), strict=True):
            for name, nu in reaction.stoichiometry.items():
                if nu == 0:
                    continue
                term = nu * rate
                rates[name] = term if name not in rates else rates[name] + term
        return rates

    def charge_density(self, context: SourceContext) -> None:
        return None


def reacting_species(reactions: Sequence[Reaction]) -> set[str]:
    """Names of the species that take part in at least one reaction."""
    return {name for r in reactions for name, nu in r.stoichiometry.items() if nu != 0}


@dataclass(frozen=True)
class FirstOrderConversion:
    """A <-> B with R = k_forward c_A - k_backward c_B (mol/(m^3 s)); rate constants in 1/s.

    The simplest reaction (a verification aid for the source hook), e.g. a neutral isomerisation.
    """

    reactant: str
    product: str
    forward_rate: float  # 1/s
    backward_rate: float  # 1/s
    region: ClassVar[None] = None  # runs everywhere
    field_length: ClassVar[None] = None  # sees the local field (it does not depend on it)

    @property
    def equation(self) -> str:
        return f"{self.reactant} <-> {self.product}"

    @property
    def stoichiometry(self) -> dict[str, float]:
        return {self.reactant: -1.0, self.product: 1.0}

    def rate(self, c, field_magnitude):
        return self.forward_rate * c[self.reactant] - self.backward_rate * c[self.product]

    def relaxation_rate(self, concentration: float) -> float:
        """k_forward + k_backward (1/s), whatever the concentration."""
        return self.forward_rate + self.backward_rate


__all__ = ["FirstOrderConversion", "ParametrisedReaction", "Reaction", "ReactionSources", "SourceContext",
           "VolumeSource", "reacting_species"]
