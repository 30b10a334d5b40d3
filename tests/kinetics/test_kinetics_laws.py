"""Dissociation laws f(|E|) on arrays: Onsager's function against scipy's Bessel I_1, the power
law and its saturation, monotone tables; and the UFL versions against the numpy ones."""

import ionslit.meshes  # noqa: F401  (MPI before dolfinx)

# isort: split
import math

import numpy as np
import pytest

from ionslit.solvers.kinetics import (
    ConstantLaw,
    OnsagerLaw,
    PowerLaw,
    TableLaw,
    make_law,
    onsager_function,
    onsager_parameter_per_field,
)

scipy_special = pytest.importorskip("scipy.special")


def test_onsager_function_matches_bessel_i1():
    """F(b) = I_1(2 sqrt(2b)) / sqrt(2b): series below b = 50, asymptotic expansion above; the
    claim is 1e-12 relative over every b that matters (up to 3e4, i.e. |E| ~ 5e11 V/m for
    z = +-2), and a smooth switch (continuity at b = 50 to round-off)."""
    b = np.concatenate([np.logspace(-12, math.log10(3e4), 4001), [49.999999, 50.0, 50.000001]])
    x = 2 * np.sqrt(2 * b)
    exact = scipy_special.ive(1, x) * np.exp(x) / np.sqrt(2 * b)  # ive: no overflow
    assert np.max(np.abs(onsager_function(b) / exact - 1)) < 1e-12
    # Small b: F = 1 + b + b^2/3 + b^3/18 + b^4/180 + ... (Onsager 1934; the next term,
    # b^5/2700, is 4e-14 at b = 0.01).
    small = np.array([1e-6, 1e-4, 1e-2])
    assert np.allclose(onsager_function(small),
                       1 + small + small**2 / 3 + small**3 / 18 + small**4 / 180,
                       rtol=1e-13, atol=0)
    assert onsager_function(np.array([0.0]))[0] == 1.0


def test_onsager_parameter():
    """b = |z_A z_B| e^3 E / (8 pi eps0 eps_r k_B^2 T^2), evaluated here from CODATA numbers:
    b = 5.56 for z = +-2 at 1e8 V/m in water (eps_r 78.4) at 298.15 K."""
    e, kB, eps0 = 1.602176634e-19, 1.380649e-23, 8.8541878188e-12
    expected = 4 * e**3 * 1e8 / (8 * math.pi * eps0 * 78.4 * (kB * 298.15) ** 2)
    assert onsager_parameter_per_field(4, 298.15, 78.4) * 1e8 == pytest.approx(expected,
                                                                               rel=1e-14)
    assert expected == pytest.approx(5.56, abs=0.01)
    law = OnsagerLaw(4, 298.15, 78.4)
    b = expected
    x = 2 * math.sqrt(2 * b)
    assert law.f(1e8) == pytest.approx(scipy_special.iv(1, x) / math.sqrt(2 * b), rel=1e-12)
    with pytest.raises(ValueError, match="valence_product"):
        OnsagerLaw().f(1e8)  # unbound: the model binds it to the reaction's ions


def test_power_law_and_saturation():
    E = np.array([0.0, 1e6, 5e7, 1e8, 3e8])
    law = PowerLaw(5e7, 4.0)
    assert np.allclose(law.f(E), 1 + (E / 5e7) ** 4, rtol=1e-15)
    sat = PowerLaw(5e7, 4.0, saturation=1e9)
    # Below E_sat / 6 the effective field is within 1e-4 of |E| (m = 4: (1/6)^4 / 4 = 1.9e-4
    # at E_sat/6 -> f within 4 x that, scaled by the share of the power term).
    low = np.linspace(0, 1e9 / 6, 50)
    assert np.allclose(sat.f(low), law.f(low), rtol=8e-4)
    assert np.allclose(sat.f(low[:10]), law.f(low[:10]), rtol=1e-6)
    # Bounded by 1 + (E_sat / E0)^beta and increasing.
    high = np.logspace(6, 10.5, 200)
    assert np.all(sat.f(high) < sat.maximum) and np.all(np.diff(sat.f(high)) > 0)
    assert sat.f(1e13) == pytest.approx(sat.maximum, rel=1e-10)
    assert sat.maximum == pytest.approx(1 + 20.0**4)
    # E_eff(E_sat) = E_sat / 2^(1/4).
    assert sat.f(1e9) == pytest.approx(1 + (1e9 / 2**0.25 / 5e7) ** 4, rel=1e-14)


def test_table_law():
    E = [2e7, 4e7, 8e7, 1.2e8]
    f = [3.0, 10.0, 200.0, 400.0]
    for interpolation in ("pchip", "linear"):
        law = TableLaw(tuple(E), tuple(f), interpolation)
        assert law.field[0] == 0.0 and law.factor_values[0] == 1.0  # (0, 1) prepended
        assert np.allclose(law.f(np.array([0.0] + E)), [1.0] + f, rtol=1e-14)
        dense = np.linspace(0, 2e8, 20001)
        values = law.f(dense)
        assert np.all(np.diff(values) >= -1e-12)  # monotone: no overshoot between knots
        assert np.all(values[dense >= 1.2e8] == 400.0)  # constant beyond the last point
    linear = TableLaw(tuple(E), tuple(f), "linear")
    assert linear.f(6e7) == pytest.approx(105.0)
    # A decreasing table (monotone the other way) is allowed too; f(0) must be 1.
    TableLaw((0.0, 1e7, 2e7), (1.0, 0.5, 0.2))
    with pytest.raises(ValueError, match="f\\(0\\)"):
        TableLaw((0.0, 1e7), (2.0, 3.0))
    with pytest.raises(ValueError, match="monotone"):
        TableLaw((1e7, 2e7), (0.5, 3.0))  # 1 -> 0.5 -> 3 after prepending (0, 1)
    with pytest.raises(ValueError, match="increasing"):
        TableLaw((2e7, 1e7), (2.0, 3.0))


def test_table_law_file_round_trip(tmp_path):
    law = TableLaw((1e7, 5e7), (2.0, 30.0))
    path = tmp_path / "law.csv"
    law.to_csv(path, comment="test table")
    again = make_law("table", file=path)
    assert again.field == law.field and again.factor_values == law.factor_values


@pytest.mark.parametrize("law", [ConstantLaw(), OnsagerLaw(4, 298.15, 78.4),
                                 OnsagerLaw(4, 298.15, 78.4, saturation=2e8),
                                 PowerLaw(5e7, 4.0), PowerLaw(5e7, 3.5, 2e8),
                                 TableLaw((2e7, 4e7, 8e7), (3.0, 10.0, 200.0)),
                                 TableLaw((2e7, 4e7, 8e7), (3.0, 10.0, 200.0), "linear")],
                         ids=lambda law: law.kind)
def test_ufl_matches_numpy(comm, law):
    """f_ufl with Constants, integrated over the cells of a 1D mesh on which |E| = x + 1 V/m
    (x up to 4e9 V/m: Onsager's b reaches 220, both branches), against the numpy law on the
    same quadrature points: the two evaluations are one formula, so they agree to round-off."""
    import basix
    import dolfinx
    import ufl

    mesh = dolfinx.mesh.create_interval(comm, 64, [0.0, 4e9])
    x = ufl.SpatialCoordinate(mesh)[0]
    constants = law.create_constants(mesh)
    indicator = dolfinx.fem.functionspace(mesh, ("DG", 0))
    form = dolfinx.fem.form(law.f_ufl(x + 1.0, constants) * ufl.TestFunction(indicator)
                            * ufl.dx(metadata={"quadrature_degree": 8}))
    cell_values = dolfinx.fem.assemble_vector(form).array
    points, weights = basix.make_quadrature(basix.CellType.interval, 8)
    nodes = mesh.geometry.x[:, 0]
    dofmap = mesh.geometry.dofmaps[0]
    n_local = mesh.topology.index_map(1).size_local
    for cell in range(n_local):
        a, b = sorted(nodes[dofmap[cell]])
        Eq = a + (b - a) * points[:, 0] + 1.0
        expected = (b - a) * np.sum(weights * law.f(Eq))
        dof = indicator.dofmap.cell_dofs(cell)[0]
        assert cell_values[dof] == pytest.approx(expected, rel=1e-11)
    # Changing a parameter through the Constants changes the form's values (no recompilation).
    if law.kind == "power":
        other = PowerLaw(2 * law.field, law.exponent, law.saturation)
        other.assign_constants(constants)
        assert dolfinx.fem.assemble_vector(form).array[0] != pytest.approx(cell_values[0])
