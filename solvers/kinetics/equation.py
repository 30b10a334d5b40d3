"""Reaction equations: "Ca + SO4 <-> CaSO4", "2 A + B <-> A2B", "Ca2+ + SO4-- <-> CaSO4".

Grammar (whitespace-separated tokens, so that species names may contain '+' and '-'):

    equation := side "<->" side          ("<=>" is accepted as well)
    side     := term (" + " term)*       the separator is a '+' standing alone between spaces
    term     := [coefficient] name       coefficient: a positive integer, as its own token
                                         ("2 A") or glued to the name ("2A")
    name     := [A-Za-z_][A-Za-z0-9_+-]* (the case schema's species-name pattern)

So "Ca2+ + SO4-- <-> CaSO4" is unambiguous, while "Ca+SO4" is a single (probably unknown)
species name; the error for an unknown name containing '+' says to put spaces around '+'.
Repeated names on one side are added up ("A + A" is "2 A"); a species on both sides is refused.

Balance checks (``check_balance``): every species must exist, the charge sum_i nu_i z_i must
vanish, and, when every name in the reaction reads as a chemical formula of real elements and
both sides share an element ("Ca + SO4 <-> CaSO4", "Na + Cl <-> NaCl"), the element counts must
balance. Names that are labels rather than formulas ("A + B <-> P", "K + Cl <-> pair", names
with '_' or lower-case starts) are checked for charge only. Trailing charge marks are ignored
when reading a formula: "Ca2+" -> Ca, "SO4--" -> SO4, "Na+" -> Na, and, knowing the valences,
"SO42-" -> SO4 (z = -2) but "NO3-" -> NO3 (z = -1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ionslit.solvers.kinetics.errors import ReactionError

ARROWS = ("<->", "<=>")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_+\-]*$")
_TERM = re.compile(r"^(\d+)?([A-Za-z_][A-Za-z0-9_+\-]*)$")

ELEMENTS = frozenset("""
H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br
Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho
Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es
Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og
""".split())


@dataclass(frozen=True)
class ReactionEquation:
    """A parsed equation: ``reactants`` and ``products`` as ((name, coefficient), ...) in the
    order written (coefficients positive integers), and the original ``text``."""

    text: str
    reactants: tuple[tuple[str, int], ...]
    products: tuple[tuple[str, int], ...]

    @property
    def stoichiometry(self) -> dict[str, int]:
        """Net coefficients nu_i: negative for reactants, positive for products."""
        nu = {name: -n for name, n in self.reactants}
        nu.update({name: n for name, n in self.products})
        return nu

    @property
    def species(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.reactants + self.products)

    @property
    def reactant_order(self) -> int:
        """sum of the reactants' coefficients (2 for A + B)."""
        return sum(n for _, n in self.reactants)

    @property
    def product_order(self) -> int:
        """sum of the products' coefficients (1 for P)."""
        return sum(n for _, n in self.products)

    def __str__(self) -> str:
        def side(terms):
            return " + ".join(name if n == 1 else f"{n} {name}" for name, n in terms)

        return f"{side(self.reactants)} <-> {side(self.products)}"


def parse_reaction(text: str) -> ReactionEquation:
    """Parse an equation (see the module docstring); ReactionError naming it if malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ReactionError(str(text), "empty equation; write e.g. 'Ca + SO4 <-> CaSO4'")
    arrows = [a for a in ARROWS if a in text]
    count = sum(text.count(a) for a in ARROWS)
    if count != 1:
        if count == 0 and ("->" in text or "<-" in text or "=" in text):
            raise ReactionError(text, "reactions are reversible mass-action equilibria: write "
                                      "the arrow as '<->'")
        raise ReactionError(text, "expected exactly one '<->' between reactants and products")
    left, right = text.split(arrows[0])
    return ReactionEquation(text, _side(text, left, "reactant"), _side(text, right, "product"))


def _side(text: str, side: str, what: str) -> tuple[tuple[str, int], ...]:
    tokens = side.split()
    if not tokens:
        raise ReactionError(text, f"no {what}s: each side needs at least one species")
    terms: list[list[str]] = [[]]
    for token in tokens:
        if token == "+":
            terms.append([])
        else:
            terms[-1].append(token)
    counts: dict[str, int] = {}
    for term in terms:
        if not term:
            raise ReactionError(text, f"a '+' without a species on one side ({side.strip()!r})")
        if len(term) == 2 and term[0].isdigit():
            coefficient, name = int(term[0]), term[1]
            if not NAME_PATTERN.match(name):
                raise ReactionError(text, f"{name!r} is not a species name (names start with a "
                                          "letter or '_' and contain letters, digits, _, +, -)")
        elif len(term) == 1:
            match = _TERM.match(term[0])
            if match is None:
                raise ReactionError(text, _bad_token_message(term[0]))
            coefficient = int(match.group(1)) if match.group(1) else 1
            name = match.group(2)
        else:
            raise ReactionError(text, f"cannot read the term {' '.join(term)!r}: separate "
                                      "species with ' + ' (spaces around '+') and write "
                                      "coefficients as positive integers, e.g. '2 A + B'")
        if coefficient <= 0:
            raise ReactionError(text, f"coefficient {coefficient} of {name}: coefficients are "
                                      "positive integers")
        counts[name] = counts.get(name, 0) + coefficient
    return tuple(counts.items())


def _bad_token_message(token: str) -> str:
    if re.match(r"^\d*\.\d*", token) or re.match(r"^\d+[eE]", token):
        return f"{token!r}: stoichiometric coefficients must be positive integers"
    if token.startswith(("+", "-")):
        return f"{token!r}: separate species with ' + ' (spaces around '+')"
    return (f"{token!r} is not a species name (names start with a letter or '_' and contain "
            "letters, digits, _, +, -; separate species with ' + ')")


def validate_equation(equation: ReactionEquation) -> None:
    """Checks that need no electrolyte: a species on both sides is refused."""
    both = {n for n, _ in equation.reactants} & {n for n, _ in equation.products}
    if both:
        raise ReactionError(equation.text, f"species {sorted(both)} on both sides; write the "
                                           "net reaction")


# -- balance ---------------------------------------------------------------------------------
def formula_composition(name: str, valence: float | None = None) -> dict[str, int] | None:
    """Element counts of a species name read as a chemical formula ("CaSO4" -> {Ca: 1, S: 1,
    O: 4}), ignoring a trailing charge mark; None if the name is not a formula of real elements
    (e.g. "A", "pair_1", "X2"). With the ``valence`` z, a digit equal to |z| > 1 just before a
    single trailing sign is read as the charge ("SO42-" -> SO4, "Ca2+" -> Ca; "NO3-" -> NO3)."""
    core = _strip_charge(name, valence)
    if not core or not re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", core):
        return None
    composition: dict[str, int] = {}
    for symbol, digits in re.findall(r"([A-Z][a-z]?)(\d*)", core):
        if symbol not in ELEMENTS:
            return None
        composition[symbol] = composition.get(symbol, 0) + (int(digits) if digits else 1)
    return composition


def _strip_charge(name: str, valence: float | None) -> str:
    match = re.fullmatch(r"(.*?)([+-]+)", name)
    if match is None:
        return name
    core, signs = match.groups()
    if (len(signs) == 1 and valence is not None and abs(valence) > 1
            and core.endswith(str(int(abs(valence))))):
        core = core[: -len(str(int(abs(valence))))]
    return core


def element_balance(equation: ReactionEquation,
                    valences: Mapping[str, float] | None = None) -> dict[str, int] | None:
    """Net element counts (products - reactants) if every name reads as a formula and the two
    sides share an element; None when element balance does not apply (see module docstring)."""
    valences = valences or {}
    parsed = {name: formula_composition(name, valences.get(name)) for name in equation.species}
    compositions = {name: c for name, c in parsed.items() if c is not None}
    if len(compositions) < len(parsed):
        return None
    left = {e for name, _ in equation.reactants for e in compositions[name]}
    right = {e for name, _ in equation.products for e in compositions[name]}
    if not left & right:
        return None
    net: dict[str, int] = {}
    for name, nu in equation.stoichiometry.items():
        for element, count in compositions[name].items():
            net[element] = net.get(element, 0) + nu * count
    return net


def check_balance(equation: ReactionEquation, valences: Mapping[str, float]) -> None:
    """Unknown species, charge balance sum nu_i z_i = 0 and (where it applies) element balance;
    ReactionError naming the reaction otherwise. ``valences``: the electrolyte's name -> z."""
    unknown = [name for name in equation.species if name not in valences]
    if unknown:
        hint = ""
        if any("+" in n[1:] or "-" in n[1:] for n in unknown):
            hint = " (if a '+' separates two species, put spaces around it: 'A + B')"
        raise ReactionError(equation.text, f"unknown species {unknown}; the electrolyte has "
                                           f"{sorted(valences)}{hint}")
    charge = sum(nu * valences[name] for name, nu in equation.stoichiometry.items())
    if abs(charge) > 1e-12:
        reactant_charge = sum(n * valences[name] for name, n in equation.reactants)
        product_charge = sum(n * valences[name] for name, n in equation.products)
        raise ReactionError(equation.text, f"does not conserve charge: the reactants carry "
                                           f"{reactant_charge:g} e, the products "
                                           f"{product_charge:g} e (sum nu_i z_i = {charge:g})")
    net = element_balance(equation, valences)
    if net is not None:
        unbalanced = {e: n for e, n in net.items() if n != 0}
        if unbalanced:
            raise ReactionError(equation.text, f"elements do not balance (products minus "
                                               f"reactants: {unbalanced}); the names were read "
                                               "as chemical formulas")


__all__ = ["ELEMENTS", "ReactionEquation", "check_balance", "element_balance",
           "formula_composition", "parse_reaction", "validate_equation"]
