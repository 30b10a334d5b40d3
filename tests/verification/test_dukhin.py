"""Dukhin crossover: a charged slit swept from 1e-4 M to 1 M.

The slit conductance (per unit depth) is measured with four probes on the axis at L/4 and 3L/4,
which excludes the access resistance and the concentration polarisation at the mouths
(PHYSICS.md): G L = I (x2 - x1) / (phi1 - phi2). Expected:
- low c: the surface-conduction plateau G L = 2 |sigma| mu_K, mu = D F / (R T);
- high c: the bulk line G L = kappa h (plus the small surface excess);
- everywhere: the cross-section conductance of the 1D Poisson-Boltzmann solution
  (F^2 / R T) int sum z_i^2 D_i c_i(y) dy (scipy, pb1d.py).
"""

import meshes  # noqa: F401

import pytest
from pb1d import cross_section_conductance

from meshes import structured
from solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    Species,
    SurfaceCharge,
    debye_length,
    gouy_chapman_length,
)
from solvers.constants import FARADAY_CONSTANT

D_K, D_CL = 1.957e-9, 2.032e-9
SIGMA, HEIGHT, LENGTH = -0.01, 4e-9, 200e-9


def slit_conductance(comm, c):
    el = Electrolyte((Species("K", 1, D_K, c, c), Species("Cl", -1, D_CL, c, c)))
    lam = debye_length(el)
    wall = min(lam / 10, 0.3 * gouy_chapman_length(el, SIGMA)) / 2
    mesh = structured.slit_with_reservoirs(
        comm, LENGTH, HEIGHT, reservoir_length=100e-9, reservoir_height=200e-9,
        wall_size=wall, mouth_size=0.2e-9, max_size=10e-9, growth=1.2,
        slit_max_size=min(HEIGHT / 8, lam / 2))
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(SIGMA),
                               "slit_wall_bottom": SurfaceCharge(SIGMA)})
    model = PNPModel(mesh, el, boundary)
    voltage = 0.1 * el.thermal_voltage  # linear response
    result = model.solve_steady(voltage)
    x1, x2 = LENGTH / 4, 3 * LENGTH / 4
    phi = model.observables.evaluate([[x1, 0.0], [x2, 0.0]])["potential"]
    four_probe = result.current * (x2 - x1) / (phi[0] - phi[1])  # G L (S m / m)
    return four_probe, result.current / voltage * LENGTH, el


@pytest.mark.mpi
def test_surface_conduction_plateau_and_bulk_line(comm):
    concentrations = [0.1, 1.0, 10.0, 100.0, 1000.0]  # mol/m^3: 1e-4 ... 1 M
    mu_k = D_K * FARADAY_CONSTANT / (8.31446261815324 * 298.15)
    plateau = 2 * abs(SIGMA) * mu_k
    rows = []
    for c in concentrations:
        g4, g2, el = slit_conductance(comm, c)
        pb = cross_section_conductance(HEIGHT, SIGMA, [1, -1], [D_K, D_CL], [c, c])
        bulk = el.conductivity("left") * HEIGHT
        rows.append((c, g4, g2, pb, bulk))
        # The whole curve against the independent cross-section integral: 2 %.
        assert g4 == pytest.approx(pb, rel=0.02), (c, g4, pb)
    c, g4, g2, pb, bulk = rows[0]
    assert g4 == pytest.approx(plateau, rel=0.05)  # 1e-4 M: the plateau
    assert g2 < 0.5 * g4  # two-electrode value: dominated by access and polarisation
    c, g4, g2, pb, bulk = rows[-1]
    assert g4 == pytest.approx(bulk, rel=0.05)  # 1 M: the bulk line


# Measured (1 rank, 0.6-1.5 s per concentration), G L (S, per unit depth):
#   c (mol/m^3)  four-probe   PB 1D       vs PB      vs plateau  vs bulk    two-electrode
#   0.1          1.5234e-09   1.5234e-09  -8.3e-07   +7.0e-06    +253       1.00e-10
#   1            1.5246e-09   1.5246e-09  -4.4e-06   +7.7e-04    +24.4      4.63e-10
#   10           1.6373e-09   1.6375e-09  -8.0e-05   +7.5e-02    +1.73      1.25e-09
#   100          6.1984e-09   6.2012e-09  -4.5e-04   +3.07      +3.4e-02    5.79e-09
#   1000         5.9957e-08   5.9958e-08  -8.3e-06   +38.4      +6.1e-04    5.63e-08
# (plateau 2 |sigma| mu_K = 1.5234e-9 S; at 1 M the counter-ion excess and the co-ion
# deficit nearly cancel, +6e-4 over kappa h).
