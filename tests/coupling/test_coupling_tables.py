"""PCHIP tables against scipy's PchipInterpolator (an independent implementation)."""

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from ionslit.coupling.tables import MonotoneTable, pchip_slopes


def _tables():
    rng = np.random.default_rng(1)
    yield np.linspace(-0.5, 0.5, 41), np.tanh(np.linspace(-0.5, 0.5, 41) / 0.1)  # uniform
    x = np.sort(rng.uniform(-1.0, 1.0, 25))
    yield x, rng.uniform(0.0, 1.0, 25)  # non-uniform, non-monotone data
    yield np.array([0.0, 1.0, 3.0]), np.array([1.0, 1.0, 2.0])  # a flat piece
    yield np.array([0.0, 2.0]), np.array([1.0, 3.0])  # two knots: a straight line


@pytest.mark.parametrize("x, y", list(_tables()))
def test_matches_scipy_pchip_with_constant_extrapolation(x, y):
    table = MonotoneTable(x, [y, 2.0 * y + 1.0])
    v = np.concatenate([np.linspace(x[0] - 0.3, x[-1] + 0.3, 2001), x[:-1]])
    values, slopes = table.evaluate(v)
    reference = PchipInterpolator(x, y)
    inside = (v >= x[0]) & (v <= x[-1])
    expected = reference(np.clip(v, x[0], x[-1]))
    expected_slope = np.where(inside, reference.derivative()(np.clip(v, x[0], x[-1])), 0.0)
    # Same algorithm, different arithmetic order: agreement to a few ulps of the data scale.
    scale = np.max(np.abs(y))
    assert np.max(np.abs(values[0] - expected)) <= 1e-13 * scale
    assert np.max(np.abs(values[1] - (2.0 * expected + 1.0))) <= 1e-13 * (2 * scale + 1)
    # Derivatives are compared away from the last knot, where the one-sided convention differs
    # (the table reports the constant extrapolation's zero slope at x_last).
    away = v != x[-1]
    slope_scale = np.max(np.abs(expected_slope)) + 1e-300
    assert np.max(np.abs(slopes[0][away] - expected_slope[away])) <= 1e-11 * slope_scale


def test_monotone_data_stay_monotone_and_in_range():
    x = np.linspace(-1, 1, 11)
    y = np.array([0, 0, 0, 0.1, 0.5, 3.0, 3.1, 3.1, 3.1, 3.2, 10.0])
    v = np.linspace(-1.5, 1.5, 5001)
    values = MonotoneTable(x, [y])(v)[0]
    assert np.all(np.diff(values) >= 0)
    assert values.min() == y.min() and values.max() == y.max()


def test_scalar_and_shaped_inputs():
    table = MonotoneTable([0.0, 1.0, 2.0], [[0.0, 1.0, 4.0]])
    assert table(0.5)[0].shape == ()
    assert table(np.zeros((3, 2)))[0].shape == (3, 2)


@pytest.mark.parametrize("x, y, message", [
    ([0.0, 0.0, 1.0], [1.0, 2.0, 3.0], "strictly increasing"),
    ([0.0, 1.0], [1.0], "length"),
    ([0.0, np.nan], [1.0, 2.0], "NaN"),
])
def test_invalid_tables_are_refused(x, y, message):
    with pytest.raises(ValueError, match=message):
        MonotoneTable(x, [y])


def test_flat_end_slopes_are_the_harmonic_means_inside_and_zero_at_the_ends():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.uniform(0.1, 1.0, 9))
    y = np.cumsum(rng.uniform(0.0, 2.0, 9))
    y[4] = y[3]  # a flat interval: zero slopes at both its knots
    h, secant = np.diff(x), np.diff(y) / np.diff(x)
    expected = np.zeros_like(y)
    for k in range(1, x.size - 1):
        if secant[k - 1] * secant[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            expected[k] = (w1 + w2) / (w1 / secant[k - 1] + w2 / secant[k])
    flat = pchip_slopes(x, y, ends="flat")
    assert np.array_equal(flat, expected)
    assert flat[3] == flat[4] == 0.0
    three_point = pchip_slopes(x, y)
    assert np.array_equal(three_point[1:-1], flat[1:-1]) and three_point[0] > 0
