"""Constants, electrolyte validation, scales and dimensionless groups."""

import math

import pytest
from solver_helpers import kcl

from ionslit.solvers import Boundary, Electrolyte, Species, SurfaceCharge, constants, debye_length
from ionslit.solvers.scales import dimensionless_groups, make_scales


def test_si_2019_exact_constants():
    assert constants.ELEMENTARY_CHARGE == 1.602176634e-19
    assert constants.BOLTZMANN_CONSTANT == 1.380649e-23
    assert constants.AVOGADRO_CONSTANT == 6.02214076e23
    # Derived exactly: F = 96485.33212... C/mol, R = 8.314462618... J/(mol K)
    assert constants.FARADAY_CONSTANT == pytest.approx(96485.33212331001, rel=1e-15)
    assert constants.GAS_CONSTANT == pytest.approx(8.31446261815324, rel=1e-15)
    assert constants.VACUUM_PERMITTIVITY == pytest.approx(8.8541878188e-12, rel=1e-10)
    # V_T at 25 C = 25.693 mV; 59.16 mV per decade for a Nernst potential.
    vt = constants.thermal_voltage(298.15)
    assert vt == pytest.approx(0.02569257912, rel=1e-9)
    assert vt * math.log(10) == pytest.approx(0.05916, abs=5e-6)


def test_debye_length_of_1mM_kcl():
    # lambda_D = sqrt(eps0 eps_r R T / (2 F^2 c)) = 9.614 nm at 1 mM, 78.4, 25 C
    el = kcl(1.0)
    expected = math.sqrt(8.8541878188e-12 * 78.4 * 8.314462618 * 298.15
                         / (2 * 96485.33212**2 * 1.0))
    assert debye_length(el) == pytest.approx(expected, rel=1e-9)
    assert debye_length(el) == pytest.approx(9.6137e-9, rel=1e-4)
    # The smaller reservoir Debye length sizes the mesh; per side on request.
    el2 = kcl(1.0, left=1.0, right=100.0)
    assert debye_length(el2) == pytest.approx(debye_length(kcl(100.0)), rel=1e-12)
    assert debye_length(el2, "left") == pytest.approx(debye_length(el), rel=1e-12)


def test_electroneutrality_and_names_are_checked():
    with pytest.raises(ValueError, match="electroneutral"):
        Electrolyte((Species("K", 1, 1e-9, 1.0, 1.0), Species("Cl", -1, 1e-9, 2.0, 1.0)))
    with pytest.raises(ValueError, match="unique"):
        Electrolyte((Species("K", 1, 1e-9, 1, 1), Species("K", -1, 1e-9, 1, 1)))
    with pytest.raises(ValueError, match="diffusivity"):
        Species("K", 1, -1e-9, 1, 1)
    # 2:1 electrolyte is neutral with c(SO4) = c(Na)/2
    Electrolyte((Species("Na", 1, 1e-9, 2.0, 2.0), Species("SO4", -2, 1e-9, 1.0, 1.0)))


def test_scales_and_poisson_coefficient():
    el = kcl(10.0)
    sc = make_scales(el)
    assert sc.length == 1e-9 and sc.concentration == 10.0
    assert sc.diffusivity == pytest.approx(2.032e-9)
    assert sc.time == pytest.approx(1e-18 / 2.032e-9)
    # K = (L0 / lambda_D)^2 / 2 for a 1:1 electrolyte at c0
    assert sc.poisson_coefficient == pytest.approx(0.5 * (1e-9 / debye_length(el)) ** 2,
                                                   rel=1e-12)


def test_dimensionless_groups():
    el = kcl(1.0)
    boundary = Boundary(walls={"slit_wall_top": SurfaceCharge(-0.01)})
    g = dimensionless_groups(el, boundary, height=2e-9, voltage=0.1)
    assert g["debye_length_over_height"] == pytest.approx(debye_length(el) / 2e-9)
    # Dukhin number |sigma| / (F c h) = 0.01 / (96485 * 1 * 2e-9) = 51.8
    assert g["dukhin_slit_wall_top"] == pytest.approx(0.01 / (96485.33212 * 2e-9), rel=1e-9)
    assert g["voltage_over_thermal_voltage"] == pytest.approx(0.1 / 0.02569257912, rel=1e-9)
    assert g["gouy_chapman_length_over_height_slit_wall_top"] == pytest.approx(
        2 * el.permittivity * el.thermal_voltage / 0.01 / 2e-9)
