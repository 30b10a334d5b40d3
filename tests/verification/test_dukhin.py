"""Dukhin crossover: a charged slit swept from 1e-4 M to 1 M.

The slit conductance (per unit depth) is measured with four probes on the axis at L/4 and 3L/4,
which excludes the access resistance and the concentration polarisation at the mouths
(docs/theory.md#verification-references): G L = I (x2 - x1) / (phi1 - phi2). Expected:
- low c: the surface-conduction plateau G L = 2 |sigma| mu_K, mu = D F / (R T);
- high c: the bulk line G L = kappa h (plus the small surface excess);
- everywhere: the cross-section conductance of the 1D Poisson-Boltzmann solution
  (F^2 / R T) int sum z_i^2 D_i c_i(y) dy (scipy, pb1d.py).

``test_case_*``: the shipped case, ``cases/dukhin_slit.toml`` swept with
--set electrolyte.species.<name>.concentration, its model built and solved as ``ionslit run`` does
(through the API, to subtract the equilibrium profile, see ``case_conductances``), the probes on
the case's axis profile line. ``test_surface_conduction_*``: the same on the structured mesh.
"""

import ionslit.meshes  # noqa: F401

# isort: split
import pytest
from pb1d import cross_section_conductance

from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    Species,
    SurfaceCharge,
    debye_length,
    gouy_chapman_length,
)
from ionslit.solvers.constants import FARADAY_CONSTANT

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


# ------------------------------------------------------------------------------------------
# Case-driven: cases/dukhin_slit.toml through `ionslit run` (in-process run_study).
import casekit  # noqa: E402
import numpy as np  # noqa: E402

from ionslit.solvers.constants import GAS_CONSTANT  # noqa: E402


def case_conductances(c):
    """(four-probe G L, two-electrode G L, loaded case) of the case at c mol/m^3.

    Four probes on the case's axis profile at x = L/4 and 3L/4, on the linear response
    phi(V) - phi(0): the equilibrium (Donnan) potential in the slit, -155 mV at 1e-4 M, carries
    a discretisation error that varies along an unstructured mesh by ~1e-4 V, as much as the
    ohmic drop between the probes at 0.1 V_T; it is the same in both solves on one mesh and
    cancels in the difference (on a structured mesh it is x-independent and cancels anyway)."""
    loaded = casekit.load("dukhin_slit", *[
        f"electrolyte.species.{n}.concentration={casekit.quantity(c, 'mM')}"
        for n in ("K", "Cl")])
    model = casekit.build(loaded)
    line = loaded.case.output.profiles[0]
    model.solve_steady(0.0)
    equilibrium = model.observables.line_profile(line.start, line.end, line.points)
    result = casekit.solve(model, loaded)
    biased = model.observables.line_profile(line.start, line.end, line.points)
    g = loaded.case.geometry
    x1, x2 = g.length / 4, 3 * g.length / 4
    phi1, phi2 = np.interp([x1, x2], biased["x"], biased["potential"] - equilibrium["potential"])
    four_probe = result.current * (x2 - x1) / (phi1 - phi2) / g.depth
    return four_probe, result.current / result.voltage * g.length / g.depth, loaded


@pytest.mark.mpi
def test_case_plateau_and_bulk_line(comm):
    """Sweep 1e-4 ... 1 M: at 1e-4 M the four-probe G L within 5 % of the plateau
    2 |sigma| mu_K (mu = D F / R T, K the counter-ion); at 1 M within 5 % of the bulk line
    kappa h; at every concentration within 2 % of the 1D PB cross-section conductance (which
    has the surface excess and co-ion exclusion exactly). Measured: see the end of the module."""
    rows = []
    for c in (0.1, 1.0, 10.0, 100.0, 1000.0):  # mol/m^3
        four, two, loaded = case_conductances(c)
        case = loaded.case
        el, g = case.electrolyte, case.geometry
        sigma = case.boundary.walls["slit_wall_top"].surface_charge
        species = el.species
        pb = cross_section_conductance(g.height, sigma, [s.valence for s in species],
                                       [s.diffusivity for s in species],
                                       [s.concentration for s in species])
        kappa = FARADAY_CONSTANT**2 / (GAS_CONSTANT * el.temperature) * sum(
            s.valence**2 * s.diffusivity * s.concentration for s in species)
        counter = next(s for s in species if s.valence * sigma < 0)
        plateau = 2 * abs(sigma) * counter.diffusivity * FARADAY_CONSTANT / (
            GAS_CONSTANT * el.temperature)
        rows.append((c, four, two, pb, plateau, kappa * g.height))
        print(f"c={c:g} mol/m^3: four-probe {four:.4e} S, vs PB {four / pb - 1:+.1e}, "
              f"vs plateau {four / plateau - 1:+.1e}, vs bulk {four / (kappa * g.height) - 1:+.1e}"
              f", two-electrode {two:.3e} S")
        assert four == pytest.approx(pb, rel=0.02), (c, four, pb)
    c, four, two, pb, plateau, bulk = rows[0]
    assert four == pytest.approx(plateau, rel=0.05)  # 1e-4 M: the surface-conduction plateau
    assert two < 0.5 * four  # the two-electrode value: access and polarisation dominate
    c, four, two, pb, plateau, bulk = rows[-1]
    assert four == pytest.approx(bulk, rel=0.05)  # 1 M: the bulk line


# Measured, case-driven (1 rank, gmsh mesh of cases/dukhin_slit.toml: 6.8k vertices, ~1-2 s per
# concentration), G L (S, per unit depth), four probes on phi(V) - phi(0):
#   c (mol/m^3)  four-probe   vs PB 1D    vs plateau  vs bulk    two-electrode
#   0.1          1.5234e-09   -1.2e-07    +7.7e-06    +253       1.01e-10
#   1            1.5246e-09   -3.5e-06    +7.7e-04    +24        4.64e-10
#   10           1.6373e-09   -6.6e-05    +7.5e-02    +1.7       1.25e-09
#   100          6.1988e-09   -3.8e-04    +3.1        +3.5e-02   5.80e-09
#   1000         5.9959e-08   +1.6e-05    +38         +6.3e-04   5.64e-08
# Without subtracting phi(0) the four-probe value at 1e-4 M was 29 % low (Donnan-potential
# discretisation noise ~1e-4 V along the slit, as large as the ohmic drop between the probes).
