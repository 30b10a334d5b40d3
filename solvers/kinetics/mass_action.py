"""Mass-action reactions with a field-dependent dissociation rate; the rate law lives here.

For a reaction sum_reactants nu_i A_i <-> sum_products nu_j P_j (integer nu),

    R = k_a prod_reactants c_i^nu_i - k_d0 f(|E|) prod_products c_j^nu_j      (mol/(m^3 s))

with the association rate k_a in (mol/m^3)^(1 - n_r) / s, the zero-field dissociation rate k_d0
in (mol/m^3)^(1 - n_p) / s (n_r, n_p: the sums of the reactant and product coefficients) and the
zero-field dissociation constant K_d = k_d0 / k_a in (mol/m^3)^(n_r - n_p). For A + B <-> P:
k_a in m^3/(mol s), k_d0 in 1/s, K_d in mol/m^3 (at equilibrium c_A c_B / c_P = K_d f(|E|)).
Species i gains nu_i R (nu < 0 for reactants). ``mass_action_rate`` is the only place where
this formula is written; it serves the weak forms (UFL, with fem.Constant parameters) and the
analysis (numpy arrays) alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dolfinx
import numpy as np
import ufl

from ionslit.solvers.electrolyte import region_names
from ionslit.solvers.kinetics.equation import (
    ReactionEquation,
    check_balance,
    parse_reaction,
    validate_equation,
)
from ionslit.solvers.kinetics.errors import ReactionError
from ionslit.solvers.kinetics.laws import ConstantLaw, DissociationLaw, OnsagerLaw, make_law


def _power(c, n: int):
    """c^n for a positive integer n by repeated products (keeps UFL derivatives simple)."""
    result = c
    for _ in range(n - 1):
        result = result * c
    return result


def mass_action_rate(association_rate, dissociation_rate, field_factor,
                     concentrations: Mapping[str, Any], reactants, products):
    """THE rate law: R = k_a prod_reactants c^nu - k_d0 f prod_products c^nu (mol/(m^3 s)).

    ``concentrations``: name -> c (mol/m^3; arrays or UFL); ``reactants``/``products``:
    ((name, nu), ...); ``field_factor`` f(|E|); the rates in SI (numbers or Constants)."""
    forward = association_rate
    for name, nu in reactants:
        forward = forward * _power(concentrations[name], nu)
    backward = dissociation_rate * field_factor
    for name, nu in products:
        backward = backward * _power(concentrations[name], nu)
    return forward - backward


@dataclass(frozen=True)
class MassActionReaction:
    """A reversible reaction "A + B <-> P" with mass-action kinetics and a dissociation law.

    ``equation``: see equation.py; ``association_rate`` k_a (SI, see the module docstring);
    one of ``dissociation_constant`` K_d and ``dissociation_rate`` k_d0 (the other is derived:
    k_d0 = K_d k_a; both may be given if they agree); ``law``: the field dependence f(|E|) of
    k_d (f(0) = 1); ``region``: a cell group name (or several) the reaction is restricted to
    (None: the whole fluid); the model multiplies R by the region's indicator
    (``ionslit.solvers.kinetics.regions``), so that e.g. no pairing happens in the reservoirs.
    ``field_length`` (m): when given, the law sees the lumped field |V| / field_length (V the
    applied voltage, e.g. over the slit's length: the seed paper's E = V / L) instead of the
    local |E|; a law that falls with the field (field-driven clustering) would otherwise split
    the slit into high- and low-field domains.
    Raises ReactionError (naming the equation) for a malformed equation, rates that are not
    positive and finite, or an unusable law.
    """

    equation: str
    association_rate: float
    dissociation_constant: float | None = None
    dissociation_rate: float | None = None
    law: DissociationLaw = field(default_factory=ConstantLaw)
    region: str | tuple[str, ...] | None = None
    field_length: float | None = None  # m: lumped field |V| / field_length (None: local |E|)
    _parsed: ReactionEquation = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        parsed = parse_reaction(self.equation)
        validate_equation(parsed)
        object.__setattr__(self, "_parsed", parsed)
        text = self.equation
        if self.dissociation_constant is None and self.dissociation_rate is None:
            raise ReactionError(text, "give the dissociation constant K_d or the zero-field "
                                      "dissociation rate k_d0 (one of them)")
        for name, value in (("association rate k_a", self.association_rate),
                            ("dissociation constant K_d", self.dissociation_constant),
                            ("dissociation rate k_d0", self.dissociation_rate)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
                    or not math.isfinite(value) or value <= 0:
                raise ReactionError(text, f"the {name} must be a positive finite number "
                                          f"(got {value!r})")
        if self.dissociation_rate is None:
            assert self.dissociation_constant is not None  # one of them is given (checked above)
            object.__setattr__(self, "dissociation_rate",
                               float(self.dissociation_constant) * float(self.association_rate))
        elif self.dissociation_constant is not None:
            implied = float(self.dissociation_rate) / float(self.association_rate)
            if abs(implied - self.dissociation_constant) > 1e-9 * implied:
                raise ReactionError(text, f"K_d = {self.dissociation_constant:g} and k_d0 = "
                                          f"{self.dissociation_rate:g} contradict each other "
                                          f"(k_d0 / k_a = {implied:g}); give only one of them")
            object.__setattr__(self, "dissociation_constant", float(self.dissociation_constant))
        else:
            object.__setattr__(self, "dissociation_constant",
                               float(self.dissociation_rate) / float(self.association_rate))
        object.__setattr__(self, "association_rate", float(self.association_rate))
        if not isinstance(self.law, DissociationLaw):
            raise ReactionError(text, f"law {self.law!r} is not a dissociation law")
        if self.region is not None:
            regions = region_names(self.region)
            if not regions or not all(isinstance(r, str) and r for r in regions):
                raise ReactionError(text, f"region {self.region!r} must name one or more cell "
                                          "groups")
            object.__setattr__(self, "region", regions[0] if len(regions) == 1 else regions)
        if self.field_length is not None and not (math.isfinite(self.field_length)
                                                  and self.field_length > 0):
            raise ReactionError(text, "the length of the lumped field must be a positive "
                                      f"finite number (got {self.field_length!r})")

    @property
    def regions(self) -> tuple[str, ...]:
        """The cell groups the reaction is restricted to (empty: the whole fluid)."""
        return region_names(self.region)

    # -- structure --------------------------------------------------------------------------
    @property
    def parsed(self) -> ReactionEquation:
        return self._parsed

    @property
    def reactants(self) -> tuple[tuple[str, int], ...]:
        return self.parsed.reactants

    @property
    def products(self) -> tuple[tuple[str, int], ...]:
        return self.parsed.products

    @property
    def stoichiometry(self) -> dict[str, float]:
        """Net coefficients nu_i (< 0 consumed, > 0 produced): the source hook's protocol."""
        return {name: float(nu) for name, nu in self.parsed.stoichiometry.items()}

    @property
    def dissociation_constant_unit(self) -> str:
        """SI unit of K_d: (mol/m^3)^(n_r - n_p)."""
        power = self.parsed.reactant_order - self.parsed.product_order
        return "1" if power == 0 else "mol/m^3" if power == 1 else f"(mol/m^3)^{power}"

    def relaxation_rate(self, concentration: float) -> float:
        """A characteristic rate (1/s) at concentrations ~ ``concentration`` (mol/m^3):
        k_a c^(n_r - 1) + k_d0 c^(n_p - 1) (for A + B <-> P: k_a c + k_d0, the order of the
        linearised relaxation rate k_a (c_A + c_B) + k_d0). Used to condition equations."""
        assert self.dissociation_rate is not None  # derived in __post_init__ if not given
        return (self.association_rate * concentration ** (self.parsed.reactant_order - 1)
                + self.dissociation_rate * concentration ** (self.parsed.product_order - 1))

    # -- the rate ---------------------------------------------------------------------------
    def rate(self, c: Mapping[str, Any], field_magnitude: Any,
             constants: Mapping[str, Any] | None = None):
        """Net forward rate R (mol/(m^3 s)) for concentrations ``c`` (mol/m^3) and |E| (V/m):
        UFL when they are UFL (rates from ``constants``, see ``create_constants``, or inlined),
        numpy otherwise."""
        if _is_ufl(field_magnitude) or any(_is_ufl(v) for v in c.values()):
            if constants is None:
                ka, kd, f = self.association_rate, self.dissociation_rate, \
                    self.law.f_ufl(field_magnitude)
            else:
                ka, kd = constants["association_rate"], constants["dissociation_rate"]
                f = self.law.f_ufl(field_magnitude, constants["law"])
        else:
            ka, kd, f = self.association_rate, self.dissociation_rate, self.law.f(field_magnitude)
        return mass_action_rate(ka, kd, f, c, self.reactants, self.products)

    def create_constants(self, mesh) -> dict[str, Any]:
        """k_a, k_d0 (SI) and the law's parameters as dolfinx Constants on ``mesh``."""
        def const(value):
            return dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(value))

        return {"association_rate": const(self.association_rate),
                "dissociation_rate": const(self.dissociation_rate),
                "law": self.law.create_constants(mesh)}

    def assign_constants(self, constants: Mapping[str, Any]) -> None:
        """Put this reaction's values into Constants made by ``create_constants`` of a reaction
        with the same equation and law structure (changes need no form recompilation)."""
        constants["association_rate"].value = self.association_rate
        constants["dissociation_rate"].value = self.dissociation_rate
        self.law.assign_constants(constants["law"])

    # -- binding to an electrolyte ----------------------------------------------------------
    def check(self, valences: Mapping[str, float]) -> None:
        """Unknown species, charge and element balance against the electrolyte's valences."""
        check_balance(self.parsed, valences)

    def bound(self, valences: Mapping[str, float], temperature: float,
              relative_permittivity: float) -> MassActionReaction:
        """Checked against the electrolyte and with the law's electrolyte data filled in (the
        Onsager law's |z_A z_B| from the two ions the reaction associates)."""
        self.check(valences)
        if not isinstance(self.law, OnsagerLaw) or self.law.is_bound:
            return self
        ions = [valences[name] for name, nu in self.reactants for _ in range(nu)
                if valences[name] != 0]
        if self.law.valence_product is None and len(ions) != 2:
            raise ReactionError(self.equation, "the onsager law describes the field-assisted "
                                               "dissociation of one ion pair: the reactants must "
                                               f"be two ions (found {len(ions)} charged "
                                               "reactant units); give its valence_product "
                                               "explicitly otherwise")
        product = abs(ions[0] * ions[1]) if len(ions) == 2 else None
        return replace(self, law=self.law.bound(product, temperature, relative_permittivity))

    def describe(self) -> dict[str, Any]:
        """SI description for manifests and logs."""
        return {"equation": self.equation, "association_rate": self.association_rate,
                "dissociation_rate": self.dissociation_rate,
                "dissociation_constant": self.dissociation_constant,
                "dissociation_constant_unit": self.dissociation_constant_unit,
                "law": self.law.describe(), "region": self.region}


def _is_ufl(value) -> bool:
    return isinstance(value, ufl.core.expr.Expr)


def reaction_from_si(equation: str, association_rate: float,
                     dissociation_constant: float | None = None,
                     dissociation_rate: float | None = None, law_kind: str = "constant",
                     field: float | None = None, exponent: float | None = None,
                     saturation: float | None = None, table: tuple | None = None,
                     file=None, region=None, field_length=None,
                     **law_options) -> MassActionReaction:
    """A reaction from a case file's [[reactions]] entry in SI units (what the case translation
    calls): every problem is a ReactionError naming the equation. ``region``: the cell group(s)
    it is restricted to (None: everywhere); ``field_length``: see MassActionReaction."""
    try:
        law = make_law(law_kind, field=field, exponent=exponent, saturation=saturation,
                       table=table, file=file, **law_options)
    except (ValueError, OSError) as error:
        raise ReactionError(equation, f"dissociation law: {error}") from None
    return MassActionReaction(equation, association_rate, dissociation_constant,
                              dissociation_rate, law, region, field_length)


def check_reactions(reactions: Sequence, valences: Mapping[str, float]) -> None:
    """Every species a reaction names must exist, and each reaction must conserve charge
    (ReactionError, a ValueError, naming the reaction)."""
    for reaction in reactions:
        text = reaction.equation
        unknown = set(reaction.stoichiometry) - set(valences)
        if unknown:
            raise ReactionError(text, f"names unknown species {sorted(unknown)}; "
                                      f"the electrolyte has {sorted(valences)}")
        charge = sum(nu * valences[name] for name, nu in reaction.stoichiometry.items())
        if abs(charge) > 1e-12:
            raise ReactionError(text, f"does not conserve charge (sum nu_i z_i = {charge})")


def bind_reactions(reactions, valences: Mapping[str, float], temperature: float,
                   relative_permittivity: float) -> tuple:
    """Check every reaction against the electrolyte (unknown species, charge balance) and bind
    mass-action reactions' laws to it; other Reaction objects pass through the generic check."""
    out = []
    for reaction in reactions:
        if isinstance(reaction, MassActionReaction):
            out.append(reaction.bound(valences, temperature, relative_permittivity))
        else:
            check_reactions([reaction], valences)
            out.append(reaction)
    return tuple(out)


__all__ = ["MassActionReaction", "bind_reactions", "check_reactions", "mass_action_rate", "reaction_from_si"]
