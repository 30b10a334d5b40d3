"""A small steady + transient + clamp case whose numbers must not depend on the number of
ranks. Run as a script (``mpirun -n 2 python parallel_case.py out.json``) or via ``run()``."""

import ionslit.meshes  # noqa: F401

# isort: split
import json
import sys

import numpy as np
from mpi4py import MPI

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

# Tight, but above the residual's round-off floor (~1e-12 here): Newton ends quadratically, so the
# solution is converged to ~1e-14 relative.
TIGHT = {"snes_rtol": 1e-11, "snes_atol": 1e-11, "snes_stol": 1e-14}


def run(comm=MPI.COMM_WORLD) -> dict:
    el = Electrolyte((Species("K", 1, 1.957e-9, 10.0, 5.0),
                      Species("Cl", -1, 2.032e-9, 10.0, 5.0)))
    mesh = structured.slit_with_reservoirs(
        comm, length=40e-9, height=4e-9, reservoir_length=20e-9, reservoir_height=40e-9,
        wall_size=0.2e-9, mouth_size=0.4e-9, max_size=4e-9, growth=1.3)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.03),
                               "slit_wall_bottom": SurfaceCharge(-0.01)})
    model = PNPModel(mesh, el, boundary, SolverOptions(petsc_options=TIGHT))
    out = {"ranks": comm.size}
    steady = model.solve_steady(0.2)
    out["steady_current"] = steady.current
    profile = model.observables.line_profile([-20e-9, 0.5e-9], [60e-9, 0.5e-9], 41)
    out["profile"] = {k: np.asarray(v).tolist() for k, v in profile.items()}
    out["inventory"] = model.observables.inventories("slit")
    currents = []
    TimeIntegrator(model, Sine(0.1, 2e6, offset=0.2), TimeSteppingOptions(
        initial_step=2.5e-8, adaptive=False)).run(
        1e-7, on_step=lambda r: currents.append([r.time, r.current, r.current_right]),
        start_from_steady=False)
    out["transient"] = currents
    out["clamp_voltage"] = model.solve_steady_clamped(0.0).voltage
    return out


if __name__ == "__main__":
    result = run()
    if MPI.COMM_WORLD.rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump(result, f)
