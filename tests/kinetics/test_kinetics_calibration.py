"""Calibration of the dissociation law against the 2D Brownian-dynamics G(E)/G_free table
(data/wien_2d_divalent.csv): every point within 10 % (relative)."""

import math

import numpy as np
import pytest

from ionslit.solvers.kinetics import (
    WIEN_2D_DIVALENT_TABLE,
    MassActionReaction,
    PowerLaw,
    TableLaw,
    areal_to_volume_concentration,
    calibrate,
    least_squares,
    pair_free_fraction,
    read_calibration_table,
)

# 1e-3 nm^-2 per species in a 0.7 nm slit (the quasi-2D layer of slit_plane cases).
C_TOTAL = areal_to_volume_concentration(1e15, 0.7e-9)  # 2.372 mol/m^3


def table():
    return read_calibration_table(WIEN_2D_DIVALENT_TABLE)


def test_the_data_file():
    E, g = table()
    assert E.tolist() == [3.0e7, 4.9e7, 6.7e7, 8.3e7, 9.8e7, 1.1e8, 1.28e8]
    assert g.tolist() == [0.16, 0.45, 0.71, 0.845, 0.91, 0.93, 0.955]
    header = WIEN_2D_DIVALENT_TABLE.read_text()
    assert "Robin et al., Science 379, 161 (2023)" in header and "supplement section 3" in header


def test_power_law_fit_meets_every_point():
    E, g = table()
    result = calibrate(E, g, "power", total_concentration=C_TOTAL)
    assert np.all(np.abs(result.relative_residuals) < 0.10)
    # A pure power kappa ~ E^beta with beta ~ 5 fits these data to ~2.6 % (measured 2.59 %):
    # a regression guard well inside the 10 % requirement.
    assert result.max_relative_residual < 0.03
    assert 4.5 < result.law.exponent < 5.5
    # The table constrains K_d from above only: the fit picks the largest K_d within 10 % of
    # the best achievable cost, which leaves the zero-field state mostly paired.
    assert result.dissociation_constant_fitted and "from above" in result.notes
    assert result.zero_field_free_fraction < 0.1
    # Independent re-evaluation of the fitted model (closed form written out here).
    kappa = result.dissociation_constant / C_TOTAL * (1 + (E / result.law.field)
                                                      ** result.law.exponent)
    nf = (np.sqrt(kappa**2 + 4 * kappa) - kappa) / 2
    assert np.allclose(nf, result.fitted, rtol=1e-12)


def test_power_law_with_fitted_saturation():
    """Letting E_sat free bends the law at the top of the table: ~0.4 % per point, and the K_d
    profile then has an interior minimum (K_d fitted jointly)."""
    E, g = table()
    result = calibrate(E, g, "power", total_concentration=C_TOTAL, saturation="fit")
    assert result.max_relative_residual < 0.01
    assert "jointly" in result.notes
    assert result.law.saturation is not None and 1e8 < result.law.saturation < 2e8


def test_fixed_dissociation_constant_and_table_law():
    E, g = table()
    fixed = calibrate(E, g, "power", total_concentration=C_TOTAL,
                      dissociation_constant=1e-3 * C_TOTAL)
    assert not fixed.dissociation_constant_fitted
    assert fixed.dissociation_constant == 1e-3 * C_TOTAL
    assert fixed.max_relative_residual < 0.10
    tab = calibrate(E, g, "table", total_concentration=C_TOTAL)
    assert isinstance(tab.law, TableLaw)
    assert tab.max_relative_residual < 1e-12  # through every point
    assert np.all(np.diff(tab.law.factor_values) > 0)
    reaction = tab.reaction("Ca + SO4 <-> CaSO4", 1e3)
    assert isinstance(reaction, MassActionReaction)
    assert reaction.dissociation_rate == pytest.approx(1e3 * tab.dissociation_constant)
    with pytest.raises(ValueError, match="too large"):
        calibrate(E, g, "table", total_concentration=C_TOTAL, dissociation_constant=C_TOTAL)


def test_fit_recovers_known_parameters():
    """Synthetic data from a known power law (K_d given): E0 and beta come back to 1e-6."""
    law = PowerLaw(2.2e7, 3.7)
    E = np.linspace(2e7, 1.5e8, 9)
    g = pair_free_fraction(E, 2.0, 4e-3, law)
    result = calibrate(E, g, "power", total_concentration=2.0, dissociation_constant=4e-3)
    assert result.law.field == pytest.approx(2.2e7, rel=1e-6)
    assert result.law.exponent == pytest.approx(3.7, rel=1e-6)
    assert result.max_relative_residual < 1e-8


def test_levenberg_marquardt():
    """Rosenbrock as least squares, r = (10 (y - x^2), 1 - x): minimum at (1, 1)."""
    p, cost = least_squares(lambda p: np.array([10 * (p[1] - p[0] ** 2), 1 - p[0]]),
                            [-1.2, 1.0])
    assert np.allclose(p, [1.0, 1.0], atol=1e-6) and cost < 1e-12


def test_bad_tables():
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibrate([1e7, 2e7], [0.5, 1.2], total_concentration=1.0)
    with pytest.raises(ValueError, match="increasing"):
        calibrate([2e7, 1e7], [0.5, 0.6], total_concentration=1.0)
    with pytest.raises(ValueError, match="'power' or 'table'"):
        calibrate([1e7, 2e7], [0.5, 0.6], "onsager", total_concentration=1.0)
    assert math.isfinite(calibrate([1e7, 2e7], [0.5, 0.6],
                                   total_concentration=1.0).dissociation_constant)
