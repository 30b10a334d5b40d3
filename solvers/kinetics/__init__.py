"""Cluster kinetics: ion pairing with field-assisted dissociation (the second Wien effect).

Ions in angstrom slits bind into Bjerrum pairs/clusters that do not conduct; the field breaks
them; slow association gives the slit a memory of past voltage. Everything is SI.

- errors.py        ReactionError(reaction_text, message), a ValueError
- equation.py      parse_reaction("Ca + SO4 <-> CaSO4" | "2 A + B <-> A2B" | "Ca2+ + SO4-- <-> P"),
                   charge and element balance
- laws.py          dissociation laws f(|E|) (k_d = k_d0 f): ConstantLaw, OnsagerLaw, PowerLaw
                   (optional saturation), TableLaw (monotone); make_law; numpy f(E) and UFL
- mass_action.py   MassActionReaction (k_a, K_d or k_d0, law), mass_action_rate (THE rate law),
                   reaction_from_si (from a case file's fields), check_reactions (species and
                   charge balance of any Reaction), bind_reactions
- equilibrium.py   equilibrium_concentrations (reservoirs at zero-field equilibrium),
                   equilibrium_composition (closed 0D box), pair_free_fraction and
                   quasi_static_free_fraction (G/G_free vs E), pair_relaxation_rate (memory
                   time), pair_zero_field_concentrations, areal_to_volume_concentration,
                   steady_guess (initial guess of steady solves)
- conservation.py  conserved combinations of immobile species (well-posed steady states)
- immobile.py      the equations of immobile reacting species: row conditioning and the steady
                   conservation constraints (a VolumeSource PNPModel adds)
- calibration.py   calibrate(table_E, table_ratio, law_kind, total_concentration=...): power or
                   table law and K_d from a G(E)/G_free table (numpy only)

The solver side: ``PNPModel(..., reactions=[MassActionReaction(...), ...])``; the source terms
are added in ionslit.solvers.reactions.ReactionSources (rates as fem.Constant). The data table of the
seed paper's Brownian dynamics is ``solvers/kinetics/data/wien_2d_divalent.csv`` (``WIEN_2D_DIVALENT_TABLE``).
"""

from pathlib import Path

from ionslit.solvers.kinetics.calibration import (
    CalibrationResult,
    calibrate,
    least_squares,
    read_calibration_table,
)
from ionslit.solvers.kinetics.conservation import MoietyConstraint, steady_constraints
from ionslit.solvers.kinetics.equation import ReactionEquation, check_balance, parse_reaction
from ionslit.solvers.kinetics.equilibrium import (
    EQUILIBRIUM,
    areal_to_volume_concentration,
    equilibrium_composition,
    equilibrium_concentrations,
    free_fraction_from_kappa,
    kappa_from_free_fraction,
    pair_free_fraction,
    pair_relaxation_rate,
    pair_zero_field_concentrations,
    quasi_static_free_fraction,
)
from ionslit.solvers.kinetics.errors import ReactionError
from ionslit.solvers.kinetics.laws import (
    LAW_KINDS,
    ConstantLaw,
    DissociationLaw,
    OnsagerLaw,
    PowerLaw,
    TableLaw,
    make_law,
    onsager_function,
    onsager_parameter_per_field,
)
from ionslit.solvers.kinetics.mass_action import (
    MassActionReaction,
    bind_reactions,
    check_reactions,
    mass_action_rate,
    reaction_from_si,
)

#: The 2D Brownian-dynamics G(E)/G_free table for divalent ions (see its header).
WIEN_2D_DIVALENT_TABLE = Path(__file__).resolve().parent / "data" / "wien_2d_divalent.csv"

__all__ = [
    "EQUILIBRIUM", "LAW_KINDS", "WIEN_2D_DIVALENT_TABLE", "CalibrationResult", "ConstantLaw",
    "DissociationLaw", "MassActionReaction", "MoietyConstraint", "OnsagerLaw", "PowerLaw",
    "ReactionEquation", "ReactionError", "TableLaw", "areal_to_volume_concentration",
    "bind_reactions", "calibrate", "check_balance", "check_reactions", "equilibrium_composition",
    "equilibrium_concentrations", "free_fraction_from_kappa", "kappa_from_free_fraction",
    "least_squares", "make_law", "mass_action_rate", "onsager_function",
    "onsager_parameter_per_field", "pair_free_fraction", "pair_relaxation_rate",
    "pair_zero_field_concentrations", "parse_reaction",
    "quasi_static_free_fraction", "reaction_from_si", "read_calibration_table",
    "steady_constraints",
]
