"""A small 2D slit with charged walls between reservoirs, ion pairing (immobile pairs) and
field-assisted dissociation (power law with a saturation field, which caps f near the mouths'
corners): steady state at 0 V, then a 2.5 kHz, 0.3 V sine for a quarter period in 20 fixed
steps. ``run(comm)`` returns, per step, the time, both electrode currents and the slit's mean
pair and Ca concentrations: the same numbers on any number of ranks, up to round-off."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
from ionslit.coupling.waveforms import Sine
from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    SolverOptions,
    Species,
    SurfaceCharge,
    TimeIntegrator,
    TimeSteppingOptions,
)
from ionslit.solvers.kinetics import MassActionReaction, PowerLaw, equilibrium_concentrations

REACTION = MassActionReaction("Ca + SO4 <-> CaSO4", 2e3, dissociation_constant=0.5,
                              law=PowerLaw(2e7, 4.0, saturation=2e8))


def run(comm) -> dict:
    bulk = equilibrium_concentrations({"Ca": 2.0, "SO4": 2.0, "CaSO4": "equilibrium"},
                                      [REACTION])
    electrolyte = Electrolyte((Species("Ca", 2, 0.79e-9, 2.0, 2.0),
                               Species("SO4", -2, 1.07e-9, 2.0, 2.0),
                               Species("CaSO4", 0, 0.0, *bulk["CaSO4"])))
    mesh = structured.slit_with_reservoirs(
        comm, length=20e-9, height=2e-9, reservoir_length=10e-9, reservoir_height=12e-9,
        wall_size=0.25e-9, mouth_size=0.4e-9, max_size=2e-9, growth=1.3)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.01),
                               "slit_wall_bottom": SurfaceCharge(-0.01)})
    model = PNPModel(mesh, electrolyte, boundary, reactions=[REACTION],
                     options=SolverOptions(petsc_options={"snes_rtol": 1e-11,
                                                          "snes_atol": 1e-14}))
    rows = []

    def record(step):
        inv = model.observables.inventories("slit")
        rows.append([step.time, step.current, step.current_right,
                     inv["mean_concentration_CaSO4_mol_m3"], inv["mean_concentration_Ca_mol_m3"]])

    records = TimeIntegrator(model, Sine(0.3, 2.5e3), TimeSteppingOptions(
        initial_step=5e-6, adaptive=False)).run(1e-4, on_step=record)
    return {"ranks": comm.size, "rows": rows,
            "cutbacks": sum(r.cutbacks for r in records),
            "iterations": [r.newton_iterations for r in records]}
