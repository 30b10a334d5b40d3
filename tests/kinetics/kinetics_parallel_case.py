"""A small 2D slit with reservoirs, ion pairing and field-assisted dissociation: steady state at
0 V, a step to 0.3 V and a few time steps. ``run(comm)`` returns the currents, pair inventories
and Newton iterations (the same numbers on any number of ranks, to round-off)."""

import meshes  # noqa: F401  (MPI before dolfinx)

from meshes import structured
from solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    SolverOptions,
    Species,
    StepVoltage,
    SurfaceCharge,
    TimeIntegrator,
    TimeSteppingOptions,
)
from solvers.kinetics import MassActionReaction, PowerLaw, equilibrium_concentrations

#: pairs immobile; the power law with a saturation field caps f at the slit's mouths/corners.
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
                     inv["mean_concentration_CaSO4_mol_m3"], inv["mean_concentration_Ca_mol_m3"],
                     step.newton_iterations])

    TimeIntegrator(model, StepVoltage(0.0, 0.3), TimeSteppingOptions(
        initial_step=2e-5, adaptive=False)).run(1e-4, on_step=record)
    return {"ranks": comm.size, "rows": rows,
            "dofs": model.space.dofmap.index_map.size_global * model.space.dofmap.index_map_bs}
