"""Well-posed steady states for immobile species: their conserved combinations.

An immobile species (D = 0) has no transport and no reservoir condition: its equation is
dc_i/dt = S_i = sum_r nu_ir R_r. At steady state that is S_i = 0, the reaction equilibrium
itself, and for a pair P formed from mobile ions it fixes c_P = c_A c_B / (K_d f(|E|)). But when
a combination l of immobile species is conserved by every reaction (l^T N_I = 0, N_I the rows of
the stoichiometric matrix for the immobile species), the steady equations S_i = 0 are dependent
and do not fix the amount sum_i l_i c_i: e.g. immobile A, B and P in A + B <-> P (A + P and
B + P are conserved), or an immobile species in no reaction at all (l = e_i).

For each such combination one immobile species, its *pivot* j, trades its steady equation for
"sum_i l_i c_i keeps its value from before the solve", i.e. l . (c - c_n) = 0 with l_j = 1, so the
steady state is the equilibrium reached by the reactions alone (the last accepted state's
amounts, the initial data on a cold start). The pivots are chosen so that the remaining rows of
N_I are independent (reduced row echelon form of N_I^T, exact rational arithmetic): the steady
system is then non-singular. Time steps keep the plain equations (dc/dt = S), which already
conserve every l . c exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class MoietyConstraint:
    """sum_i coefficients[i] c_i is conserved by the reactions; ``pivot`` (coefficient 1) is
    the immobile species whose steady equation states it."""

    pivot: str
    coefficients: dict[str, float]


def _rref(rows: list[list[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form and pivot columns (exact)."""
    matrix = [list(r) for r in rows]
    pivots: list[int] = []
    row = 0
    n_cols = len(matrix[0]) if matrix else 0
    for col in range(n_cols):
        pivot_row = next((k for k in range(row, len(matrix)) if matrix[k][col] != 0), None)
        if pivot_row is None:
            continue
        matrix[row], matrix[pivot_row] = matrix[pivot_row], matrix[row]
        lead = matrix[row][col]
        matrix[row] = [v / lead for v in matrix[row]]
        for k in range(len(matrix)):
            if k != row and matrix[k][col] != 0:
                factor = matrix[k][col]
                matrix[k] = [a - factor * b for a, b in zip(matrix[k], matrix[row], strict=True)]
        pivots.append(col)
        row += 1
        if row == len(matrix):
            break
    return matrix, pivots


def steady_constraints(species: Sequence[tuple[str, bool]], reactions) -> list[MoietyConstraint]:
    """The conserved combinations of immobile species and their pivots (module docstring).

    ``species``: (name, is_mobile) in the model's order; ``reactions``: objects with a
    ``stoichiometry`` mapping. An immobile species in no reaction gives {name: 1}."""
    immobile = [name for name, mobile in species if not mobile]
    if not immobile:
        return []
    # N_I^T: one row per reaction, one column per immobile species.
    rows = [[Fraction(r.stoichiometry.get(name, 0)).limit_denominator(10**6) for name in immobile]
            for r in reactions]
    rows = [r for r in rows if any(v != 0 for v in r)]
    reduced, pivot_columns = _rref(rows) if rows else ([], [])
    constraints = []
    for free in range(len(immobile)):
        if free in pivot_columns:
            continue
        coefficients = {immobile[free]: 1.0}
        for k, col in enumerate(pivot_columns):
            value = -reduced[k][free]
            if value != 0:
                coefficients[immobile[col]] = float(value)
        constraints.append(MoietyConstraint(immobile[free], coefficients))
    return constraints


__all__ = ["MoietyConstraint", "steady_constraints"]
