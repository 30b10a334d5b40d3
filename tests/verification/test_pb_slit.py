"""Poisson-Boltzmann slit: both walls charged, h a few Debye lengths, in equilibrium with the
reservoirs. Wall and midplane potentials in the middle of a long slit vs an independent 1D
nonlinear PB solution (scipy solve_bvp, pb1d.py).

- ``test_case_*``: the shipped case, ``cases/pb_slit.toml`` run as ``ionslit run`` runs it
  (ionslit.study.run_study into a results directory), the potentials read from the case's
  ``profiles/cross_section.csv``;
- ``test_wall_and_midplane_potentials``: the same physics on the structured verification mesh.
"""

import ionslit.meshes  # noqa: F401

# isort: split
import numpy as np
import pytest
from pb1d import slit_potential

from ionslit.meshes import structured
from ionslit.solvers import (
    Boundary,
    Electrolyte,
    PNPModel,
    Species,
    SurfaceCharge,
    debye_length,
)


def pb_slit_case(comm, sigma=-0.02, c=10.0, height=10e-9):
    el = Electrolyte((Species("K", 1, 1.957e-9, c, c), Species("Cl", -1, 2.032e-9, c, c)))
    lam = debye_length(el)  # 3.04 nm at 10 mM: h = 3.3 lambda_D
    length = 8 * height  # entrance effects decay like exp(-pi x / h): none left at L/2
    mesh = structured.slit_with_reservoirs(
        comm, length, height, reservoir_length=3 * height, reservoir_height=6 * height,
        wall_size=lam / 80, mouth_size=lam / 10, max_size=2 * lam, growth=1.1,
        slit_max_size=lam / 16)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(sigma),
                               "slit_wall_bottom": SurfaceCharge(sigma)})
    model = PNPModel(mesh, el, boundary)
    model.solve_steady(0.0)
    return model, el, length, height


@pytest.mark.mpi
@pytest.mark.parametrize("sigma", [-0.02, -0.1])
def test_wall_and_midplane_potentials(comm, sigma):
    """< 0.5 % (measured: see the end of the module)."""
    model, el, length, height = pb_slit_case(comm, sigma)
    values = model.observables.evaluate([[length / 2, 0.0], [length / 2, height / 2],
                                          [length / 2, -height / 2]])["potential"]
    y, phi = slit_potential(height, sigma, [1, -1], [10.0, 10.0])
    mid, wall = phi[0], phi[-1]
    assert values[0] == pytest.approx(mid, rel=5e-3)
    assert values[1] == pytest.approx(wall, rel=5e-3)
    assert values[2] == pytest.approx(wall, rel=5e-3)
    # and the whole cross-section profile
    section = model.observables.evaluate(np.column_stack([np.full(21, length / 2),
                                                          np.linspace(0, height / 2, 21)]))
    exact = np.interp(np.linspace(0, height / 2, 21), y, phi)
    assert np.max(np.abs(section["potential"] - exact)) < 5e-3 * abs(wall)


# Measured (1 rank): sigma = -0.02 C/m^2: midplane error 4.7e-4, wall 1.3e-4; sigma = -0.1:
# midplane 7.9e-4, wall 3.0e-4 (12k vertices, 1.3 s each). The errors halve with the cross-slit
# cell size (P1, order 2); the potential is x-independent in the middle to 1e-5.


# ------------------------------------------------------------------------------------------
# Case-driven: cases/pb_slit.toml through `ionslit run` (in-process run_study).
import casekit  # noqa: E402


@pytest.mark.mpi
@pytest.mark.parametrize("sigma", [None, -0.1])  # None: the case as shipped (-0.02 C/m^2)
def test_case_wall_and_midplane_potentials(comm, tmp_path, sigma):
    """Wall (first and last profile points) and midplane (middle point) potentials of
    profiles/cross_section.csv within 0.5 % of the 1D PB solution, and the whole profile within
    0.5 % of the wall potential. Measured: see the end of the module."""
    overrides = [] if sigma is None else [
        f"boundary.walls.{w}.surface_charge={casekit.quantity(sigma, 'C/m^2')}"
        for w in ("slit_wall_top", "slit_wall_bottom")]
    overrides.append("output.fields=[]")  # the output contract is tested in test_cases_run.py
    loaded = casekit.load("pb_slit", *overrides)
    results = casekit.run(loaded, casekit.shared_directory(tmp_path, comm) / "pb_slit")
    assert results.manifest["status"] == "ok"
    case = loaded.case
    sigma = case.boundary.walls["slit_wall_top"].surface_charge
    concentrations = [s.concentration for s in case.electrolyte.species]
    y, phi = slit_potential(case.geometry.height, sigma, [1, -1], concentrations)
    mid, wall = phi[0], phi[-1]
    profile = results.profiles["cross_section"]
    values = profile["potential_V"]
    assert profile["y_m"][0] == case.geometry.height / 2 and profile["y_m"][50] == 0.0
    errors = {"top": values[0] / wall - 1, "bottom": values[-1] / wall - 1,
              "midplane": values[50] / mid - 1}
    exact = np.interp(np.abs(profile["y_m"]), y, phi)
    errors["profile"] = np.max(np.abs(values - exact)) / abs(wall)
    print(f"sigma={sigma}: " + ", ".join(f"{k} {v:+.2e}" for k, v in errors.items()))
    assert all(abs(e) < 5e-3 for e in errors.values()), errors
    # Equilibrium: no current (a bias of V_T would drive ~1e-4 A per metre of depth here).
    # Measured 2e-21 A (3e-19 A with Newton's tolerances 100x looser): round-off and Newton's
    # residual. Bound: 1e-9 of the current V_T drives.
    assert abs(results.series["current_A"][0]) < 1e-13


# Measured (1 rank, gmsh mesh of the case: 21k vertices, ~4 s CPU each): sigma = -0.02 C/m^2:
# walls -3.7e-4 / -4.0e-4, midplane -6.6e-4, profile 1.0e-3 of the wall potential; sigma =
# -0.1 C/m^2: walls -5.8e-4 / -7.8e-4, midplane -1.5e-3, profile 7.8e-4.
