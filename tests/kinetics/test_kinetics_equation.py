"""Reaction equations, balance checks and the errors the case translation maps to exit code 2:
every problem is a ReactionError whose message names the reaction as the user wrote it."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import math

import numpy as np
import pytest

from ionslit.solvers.kinetics import (
    MassActionReaction,
    PowerLaw,
    ReactionError,
    check_balance,
    parse_reaction,
    reaction_from_si,
)
from ionslit.solvers.kinetics.equation import formula_composition


@pytest.mark.parametrize("text, reactants, products", [
    ("Ca + SO4 <-> CaSO4", (("Ca", 1), ("SO4", 1)), (("CaSO4", 1),)),
    ("2 A + B <-> A2B", (("A", 2), ("B", 1)), (("A2B", 1),)),
    ("2A + B <-> A2B", (("A", 2), ("B", 1)), (("A2B", 1),)),
    ("Ca2+ + SO4-- <-> CaSO4", (("Ca2+", 1), ("SO4--", 1)), (("CaSO4", 1),)),
    ("Na+ + Cl- <=> NaCl", (("Na+", 1), ("Cl-", 1)), (("NaCl", 1),)),
    ("  A + A <->   A2 ", (("A", 2),), (("A2", 1),)),  # repeated names add up
    ("A+B<->P", (("A+B", 1),), (("P", 1),)),  # no spaces: one (odd) name, see the unknown test
    ("3 X_1 <-> X3_cluster + 2 Y", (("X_1", 3),), (("X3_cluster", 1), ("Y", 2))),
])
def test_parse(text, reactants, products):
    eq = parse_reaction(text)
    assert eq.reactants == reactants and eq.products == products
    assert eq.text == text


def test_stoichiometry_and_orders():
    eq = parse_reaction("2 A + B <-> A2B")
    assert eq.stoichiometry == {"A": -2, "B": -1, "A2B": 1}
    assert (eq.reactant_order, eq.product_order) == (3, 1)
    r = MassActionReaction("2 A + B <-> A2B", 5.0, dissociation_constant=0.25)
    assert r.dissociation_rate == pytest.approx(1.25, rel=1e-15)  # k_d0 = K_d k_a
    assert r.dissociation_constant_unit == "(mol/m^3)^2"
    r = MassActionReaction("A + B <-> P", 4.0, dissociation_rate=2.0)
    assert r.dissociation_constant == pytest.approx(0.5, rel=1e-15)  # K_d = k_d0 / k_a
    assert r.dissociation_constant_unit == "mol/m^3"


@pytest.mark.parametrize("text, fragment", [
    ("A + B -> P", "'<->'"),
    ("A + B = P", "'<->'"),
    ("A + B <-> P <-> Q", "exactly one"),
    ("A + <-> P", "without a species"),
    (" <-> P", "no reactants"),
    ("A B <-> P", "' + '"),
    ("2.5 A <-> B", "integers"),
    ("0 A + B <-> P", "positive integers"),
    ("A +B <-> P", "' + '"),
    ("A + B <-> A", "both sides"),
    ("", "empty"),
])
def test_malformed_equations_name_the_reaction(text, fragment):
    with pytest.raises(ReactionError) as info:
        MassActionReaction(text, 1.0, dissociation_constant=1.0)
    assert fragment in str(info.value)
    assert info.value.reaction == text
    assert isinstance(info.value, ValueError)  # mapped with the other input errors


@pytest.mark.parametrize("kwargs, fragment", [
    ({"association_rate": -1.0, "dissociation_constant": 1.0}, "association rate"),
    ({"association_rate": 0.0, "dissociation_constant": 1.0}, "association rate"),
    ({"association_rate": 1.0, "dissociation_constant": -2.0}, "dissociation constant"),
    ({"association_rate": 1.0, "dissociation_rate": math.nan}, "dissociation rate"),
    ({"association_rate": math.inf, "dissociation_rate": 1.0}, "association rate"),
    ({"association_rate": 1.0}, "K_d or"),
    ({"association_rate": 2.0, "dissociation_constant": 1.0, "dissociation_rate": 3.0},
     "contradict"),
])
def test_bad_rates(kwargs, fragment):
    with pytest.raises(ReactionError, match=fragment) as info:
        MassActionReaction("Ca + SO4 <-> CaSO4", **kwargs)
    assert "reaction 'Ca + SO4 <-> CaSO4'" in str(info.value)


def test_law_errors_name_the_reaction():
    with pytest.raises(ReactionError, match="needs") as info:
        reaction_from_si("A + B <-> P", 1.0, 1.0, law_kind="power", field=1e7)
    assert info.value.reaction == "A + B <-> P"
    with pytest.raises(ReactionError, match="does not take"):
        reaction_from_si("A + B <-> P", 1.0, 1.0, law_kind="constant", field=1e7)
    with pytest.raises(ReactionError, match="exponent"):
        reaction_from_si("A + B <-> P", 1.0, 1.0, law_kind="power", field=1e7, exponent=-1)
    with pytest.raises(ReactionError, match="monotone"):
        reaction_from_si("A + B <-> P", 1.0, 1.0, law_kind="table",
                         table=([1e7, 2e7, 3e7], [2.0, 5.0, 3.0]))
    with pytest.raises(ReactionError, match="No such file|no data|cannot"):
        reaction_from_si("A + B <-> P", 1.0, 1.0, law_kind="table", file="/nonexistent.csv")
    r = reaction_from_si("A + B <-> P", 2.0, dissociation_rate=3.0, law_kind="power",
                         field=1e7, exponent=4, saturation=1e9)
    assert r.law == PowerLaw(1e7, 4.0, 1e9)


VALENCES = {"Ca": 2, "SO4": -2, "CaSO4": 0, "Cl": -1, "CaCl": 1, "A": 1, "B": -1, "P": 0,
            "Ca2+": 2, "SO42-": -2, "NO3-": -1, "Na+": 1, "NaNO3": 0, "K": 1, "pair": 0}


@pytest.mark.parametrize("text", ["Ca + SO4 <-> CaSO4", "A + B <-> P", "Ca + Cl <-> CaCl",
                                  "Ca2+ + SO42- <-> CaSO4", "Na+ + NO3- <-> NaNO3",
                                  "K + Cl <-> pair"])
def test_balanced(text):
    check_balance(parse_reaction(text), VALENCES)


def test_unknown_species():
    with pytest.raises(ReactionError, match=r"unknown species \['Mg'\]") as info:
        check_balance(parse_reaction("Mg + SO4 <-> CaSO4"), VALENCES)
    assert info.value.reaction == "Mg + SO4 <-> CaSO4"
    with pytest.raises(ReactionError, match="spaces around"):
        check_balance(parse_reaction("Ca+SO4 <-> CaSO4"), VALENCES)


def test_unbalanced_charge():
    # Ca (2+) + Cl (1-) -> a neutral "pair" would lose one charge.
    with pytest.raises(ReactionError, match="charge") as info:
        check_balance(parse_reaction("Ca + Cl <-> pair"), VALENCES)
    assert "reactants carry 1 e" in str(info.value)


def test_unbalanced_elements():
    # Names that read as formulas of real elements sharing an element must balance them.
    with pytest.raises(ReactionError, match="elements") as info:
        check_balance(parse_reaction("Ca + SO4 <-> CaSO3"), {**VALENCES, "CaSO3": 0})
    assert info.value.reaction == "Ca + SO4 <-> CaSO3"
    # Charge balances in both of these; only the first one balances the elements.
    valences = {"Ca": 2, "SO4": -2, "Ca2SO4": 2, "CaSO4": 0}
    check_balance(parse_reaction("2 Ca + SO4 <-> Ca2SO4"), valences)
    with pytest.raises(ReactionError, match="elements"):
        check_balance(parse_reaction("CaSO4 <-> Ca2SO4 + SO4"), valences)


def test_formula_reading():
    assert formula_composition("CaSO4") == {"Ca": 1, "S": 1, "O": 4}
    assert formula_composition("SO4--") == {"S": 1, "O": 4}
    assert formula_composition("SO42-", -2) == {"S": 1, "O": 4}
    assert formula_composition("NO3-", -1) == {"N": 1, "O": 3}
    assert formula_composition("Ca2+", 2) == {"Ca": 1}
    for label in ("A", "X2", "pair_1", "AB", "Qq"):
        assert formula_composition(label) is None


def test_model_rejects_reactions_naming_them(comm):
    from ionslit.meshes import structured
    from ionslit.solvers import Boundary, Electrolyte, PNPModel, Species

    el = Electrolyte((Species("K", 1, 2e-9, 10.0, 10.0), Species("Cl", -1, 2e-9, 10.0, 10.0),
                      Species("P", 0, 0.0, 1.0, 1.0)))
    mesh = structured.interval(comm, np.linspace(0.0, 1e-9, 3))
    with pytest.raises(ReactionError, match="unknown species") as info:
        PNPModel(mesh, el, Boundary(), reactions=[
            MassActionReaction("K + SO4 <-> P", 1.0, dissociation_constant=1.0)])
    assert info.value.reaction == "K + SO4 <-> P"
    with pytest.raises(ReactionError, match="charge") as info:
        PNPModel(mesh, el, Boundary(), reactions=[
            MassActionReaction("K + K <-> P", 1.0, dissociation_constant=1.0)])
    assert info.value.reaction == "K + K <-> P"
