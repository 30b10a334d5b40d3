"""The volumetric-source hook, exercised with the simplest reaction A <-> B (rate
R = kf c_A - kb c_B), and the handling of immobile species."""

import math

import numpy as np
import pytest
from solver_helpers import D_CL, D_K

from ionslit.coupling.waveforms import Step
from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    FirstOrderConversion,
    PNPModel,
    Species,
    TimeIntegrator,
    TimeSteppingOptions,
)


def electrolyte(extra):
    return Electrolyte((Species("K", 1, D_K, 10.0, 10.0), Species("Cl", -1, D_CL, 10.0, 10.0))
                       + tuple(extra))


@pytest.mark.mpi
def test_steady_reaction_diffusion_profile(comm):
    """A, B neutral and mobile, both held at c0 at the ends of [0, L]: c_A + c_B = 2 c0 and
    Delta = kf c_A - kb c_B obeys D Delta'' = (kf + kb) Delta (D_A = D_B = D), so
    Delta = (kf - kb) c0 cosh(m (x - L/2)) / cosh(m L / 2), m^2 = (kf + kb) / D."""
    L, D, c0, kf, kb = 50e-9, 1e-9, 5.0, 4e7, 1e7  # m, m^2/s, mol/m^3, 1/s
    el = electrolyte([Species("A", 0, D, c0, c0), Species("B", 0, D, c0, c0)])
    mesh = structured.interval(comm, np.linspace(0.0, L, 401))
    model = PNPModel(mesh, el, Boundary(), reactions=[FirstOrderConversion("A", "B", kf, kb)])
    model.solve_steady(0.0)
    x = np.linspace(0.0, L, 41)
    values = model.observables.evaluate(x[:, None])
    m = math.sqrt((kf + kb) / D)
    delta = (kf - kb) * c0 * np.cosh(m * (x - L / 2)) / math.cosh(m * L / 2)
    c_a = (delta + kb * 2 * c0) / (kf + kb)
    # m L = 11: boundary layers of 4.5 nm resolved by 0.125 nm cells: P1 error ~1e-4.
    assert np.max(np.abs(values["A"] - c_a)) / c0 < 2e-4
    assert np.allclose(values["A"] + values["B"], 2 * c0, rtol=1e-6)
    assert np.allclose(values["K"], 10.0, rtol=1e-12)


@pytest.mark.mpi
def test_immobile_species_relaxes_through_the_reaction(comm):
    """A immobile (D = 0) converts to a mobile B held at c_B by the reservoirs of a 1 nm cell
    (diffusion time 1e-9 s, so B stays at c_B): dA/dt = -(kf A - kb c_B). After a step of c_B
    the inventory of A relaxes to kb c_B / kf with rate kf. An immobile species without
    reactions (X) keeps its value through steady solves and time steps."""
    kf, kb = 2e3, 1e3
    el = electrolyte([Species("A", 0, 0.0, 1.0, 1.0), Species("B", 0, 1e-9, 2.0, 2.0),
                      Species("X", 0, 0.0, 3.0, 3.0)])
    mesh = structured.interval(comm, np.linspace(0.0, 1e-9, 5))
    model = PNPModel(mesh, el, Boundary(), reactions=[FirstOrderConversion("A", "B", kf, kb)])
    model.solve_steady(0.0)
    inv = model.observables.inventories(None)
    # measured 2e-16 and 3e-16: round-off. A is resolved to Newton's relative tolerance
    # (1e-8): bound 1e-7; X's steady row c - c_n is linear, so X is kept exactly
    assert inv["mean_concentration_A_mol_m3"] == pytest.approx(kb * 2.0 / kf, rel=1e-7)
    assert inv["mean_concentration_X_mol_m3"] == pytest.approx(3.0, rel=1e-12)

    for side in ("left", "right"):
        model.set_reservoir_concentration("B", side, 6.0)
    records = []
    TimeIntegrator(model, Step(0.0, 0.0), TimeSteppingOptions(
        initial_step=5e-6, adaptive=False)).run(1e-3, on_step=records.append,
                                                start_from_steady=False)
    a_eq, a0 = kb * 6.0 / kf, kb * 2.0 / kf
    exact = a_eq + (a0 - a_eq) * math.exp(-kf * 1e-3)
    inv = model.observables.inventories(None)
    # BDF2 with kf dt = 0.01: relative error ~(kf dt)^2 / 3 ~ 3e-5 of the change.
    assert inv["mean_concentration_A_mol_m3"] == pytest.approx(exact, abs=1e-4 * (a_eq - a0))
    assert inv["mean_concentration_X_mol_m3"] == pytest.approx(3.0, rel=1e-12)
    assert len(records) == 200


def test_reactions_must_balance_charge(comm):
    el = electrolyte([])
    mesh = structured.interval(comm, np.linspace(0.0, 1e-9, 3))
    with pytest.raises(ValueError, match="charge"):
        PNPModel(mesh, el, Boundary(), reactions=[FirstOrderConversion("K", "Cl", 1.0, 1.0)])
    with pytest.raises(ValueError, match="unknown species"):
        PNPModel(mesh, el, Boundary(), reactions=[FirstOrderConversion("K", "Na", 1.0, 1.0)])
