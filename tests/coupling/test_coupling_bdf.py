"""BDF coefficients (ionslit.coupling.bdf): exactness on polynomials, the scheme vocabulary."""

import numpy as np
import pytest

from ionslit.coupling.bdf import SCHEMES, StepConstants, bdf_coefficients, check_scheme


def test_bdf_coefficients_are_exact_for_polynomials():
    # Variable-step BDF2 differentiates quadratics exactly; BE linear functions.
    rng = np.random.default_rng(1)
    for _ in range(5):
        dt, dt_prev = rng.uniform(0.1, 2.0, size=2)
        t1, t0, tm = 1.0, 1.0 - dt, 1.0 - dt - dt_prev
        a, b, c = rng.normal(size=3)
        def f(t, a=a, b=b, c=c):
            return a * t * t + b * t + c
        b0, b1, b2 = bdf_coefficients(2, dt, dt_prev)
        assert b0 * f(t1) + b1 * f(t0) + b2 * f(tm) == pytest.approx(2 * a * t1 + b, abs=1e-12)
        def g(t, b=b, c=c):
            return b * t + c
        e0, e1, e2 = bdf_coefficients(1, dt)
        assert e2 == 0 and e0 * g(t1) + e1 * g(t0) == pytest.approx(b, abs=1e-12)


def test_lane_constants_equal_the_scalar_coefficients():
    dt, dt_prev = np.array([0.3, 0.7, 1.1]), np.array([0.5, 0.7, 0.4])
    levels = np.array([1, 2, 2])
    k = StepConstants("bdf2", levels, dt, dt_prev)
    for lane in range(3):
        order = 2 if levels[lane] >= 2 else 1
        expected = bdf_coefficients(order, dt[lane], dt_prev[lane])
        got = (k.b0[lane], k.b1[lane], k.b2[lane])
        assert got == pytest.approx(expected, rel=1e-14, abs=0.0)
    euler = StepConstants("backward_euler", levels, dt, dt_prev)
    assert np.array_equal(euler.b0, 1.0 / dt) and not np.any(euler.b2)


def test_one_scheme_vocabulary():
    assert SCHEMES == ("backward_euler", "bdf2")
    with pytest.raises(ValueError, match="time scheme"):
        check_scheme("be")
