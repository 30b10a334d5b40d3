"""Loop analysis (ionslit.coupling.memristor.loops): areas, lobes, pinch, crossing type, cycles, G(V)."""

import math

import numpy as np
import pytest
from memristor_helpers import (
    linear_lobe_area,
    linear_periodic_g,
    quadratic_lobe_area,
    quadratic_periodic_g,
    sine_series,
)

from ionslit.coupling.memristor import (
    classify_crossing,
    cycle_metrics,
    decompose_loop,
    extract_cycle,
    loop_metrics,
    shoelace_area,
    split_cycles,
    zero_crossings,
)

F = 50.0  # Hz
OMEGA = 2 * math.pi * F


def test_shoelace_orientation_and_units():
    # unit square: +1 counterclockwise, -1 clockwise (exact)
    x, y = [0, 1, 1, 0], [0, 0, 1, 1]
    assert shoelace_area(x, y) == pytest.approx(1.0, abs=1e-15)
    assert shoelace_area(x[::-1], y[::-1]) == pytest.approx(-1.0, abs=1e-15)
    # far from the origin (1e6 offset): centring keeps full accuracy
    assert shoelace_area(np.add(x, 1e6), np.add(y, 1e6)) == pytest.approx(1.0, abs=1e-9)


def test_ellipse_area_and_pinch_ratio():
    # V = V0 sin(wt), I = I0 sin(wt + phi): an ellipse of area pi V0 I0 sin(phi), not pinched;
    # I(V=0) = I0 sin(phi), so the pinch ratio is sin(phi). I leads V: at the rising crossing
    # I > 0, so the loop runs clockwise (negative area). 600 samples per cycle, offset by 0.37
    # sample so crossings are interpolated: inscribed-polygon area error ~ (2 pi/600)^2/6 ~ 2e-5
    # and linear interpolation of I at the crossing ~ (2 pi/600)^2/8 ~ 1.4e-5 (relative).
    v0, i0, phi = 2.0, 0.5, 0.3
    t = sine_series(3, 600, F, phase_offset=0.37)
    v, i = v0 * np.sin(OMEGA * t), i0 * np.sin(OMEGA * t + phi)
    m = loop_metrics(t, v, i)
    exact = math.pi * v0 * i0 * math.sin(phi)
    assert m["total_area_W"] == pytest.approx(exact, rel=1e-4)
    assert m["net_area_W"] == pytest.approx(-exact, rel=1e-4)
    assert m["lobe_areas_W"] == pytest.approx([-exact / 2, -exact / 2], rel=1e-4)
    assert m["pinch_ratio"] == pytest.approx(math.sin(phi), rel=1e-4)
    assert m["frequency_Hz"] == pytest.approx(F, rel=1e-9)
    assert m["n_cycles"] == 2  # the 3rd cycle is cut short by the 0.37-sample offset


@pytest.mark.parametrize("shape", ["quadratic", "odd_linear"])
def test_reduced_model_loops_match_closed_form(shape):
    # periodic states of the reduced model in closed form (memristor_helpers), at w tau = 0.7
    g0, coef, v0, tau = 1e-9, 2e-9, 0.8, 0.7 / OMEGA
    t = sine_series(2, 1000, F)
    v = v0 * np.sin(OMEGA * t)
    if shape == "quadratic":
        g = quadratic_periodic_g(t, g0, coef, v0, OMEGA, tau)
        a = quadratic_lobe_area(coef, v0, OMEGA, tau)
        expected, kind = [a, a], "unipolar"
    else:
        g = linear_periodic_g(t, g0, coef / 4, v0, OMEGA, tau)
        a = linear_lobe_area(coef / 4, v0, OMEGA, tau)
        expected, kind = [a, -a], "bipolar"
    m = loop_metrics(t, v, g * v, conductance_S=g, frequency_Hz=F)
    # 1000 samples per cycle: polygon area error ~ (2 pi / 1000)^2 ~ 4e-5 relative
    assert m["lobe_areas_W"] == pytest.approx(expected, rel=2e-4)
    assert m["total_area_W"] == pytest.approx(2 * a, rel=2e-4)
    assert m["crossing_type"] == kind
    assert m["positive_lobe_orientation"] == "counterclockwise"  # G grows while V > 0
    assert [lb["polarity"] for lb in m["lobes"]] == [1, -1]
    assert m["crossings_off_origin"] == 0
    # I = g V vanishes at V = 0: the pinch is exact up to sampling (I interpolated linearly
    # between samples straddling V = 0 is O(dt^2) there)
    assert m["pinch_ratio"] < 1e-4
    # conductance metrics: max/min of the closed-form g where |V| > 5 % of V0
    mask = np.abs(v) > 0.05 * v0
    assert m["conductance_ratio"] == pytest.approx(g[mask].max() / g[mask].min(), rel=1e-12)
    g_up, g_down = m["conductance_at_zero_crossings_S"][:2]
    if kind == "bipolar":  # G differs at the two passes through the origin: transversal
        assert g_down - g_up > 0.1 * coef / 4 * v0
    else:  # equal slopes: the passes touch
        assert g_down == pytest.approx(g_up, rel=1e-6)


def test_crossing_type_matches_geometry():
    # Bipolar <=> the two passes through the origin swap sides (the loop crosses itself);
    # unipolar <=> the outgoing and returning passes keep their order (they touch). Check the
    # geometry directly: I of the pass after the rising crossing minus I of the pass before the
    # falling... i.e. compare the two branches at V = +-0.05 V0.
    g0, coef, v0, tau = 1.0, 1.0, 1.0, 0.5 / OMEGA
    eps = 0.05
    theta_plus = math.asin(eps)  # V = +eps V0 on the rising branch at theta, falling at pi - theta
    for shape, expected in (("quadratic", "unipolar"), ("odd_linear", "bipolar")):
        gfun = (quadratic_periodic_g if shape == "quadratic" else linear_periodic_g)

        def current(theta, gfun=gfun):
            t = theta / OMEGA
            return float(gfun(t, g0, coef, v0, OMEGA, tau) * v0 * math.sin(theta))
        # branch A: through the rising crossing (theta ~ 0 and 2 pi); branch B: falling (~ pi)
        above_plus = current(math.pi - theta_plus) - current(theta_plus)       # V = +eps
        above_minus = current(math.pi + theta_plus) - current(-theta_plus)     # V = -eps
        crosses = (above_plus > 0) != (above_minus > 0)
        t = sine_series(1, 2000, F)
        v = v0 * np.sin(OMEGA * t)
        kind = cycle_metrics(v, gfun(t, g0, coef, v0, OMEGA, tau) * v)["crossing_type"]
        assert kind == expected
        assert crosses == (kind == "bipolar")


def test_classify_crossing_edge_cases():
    assert classify_crossing(1.0, -0.5) == "bipolar"
    assert classify_crossing(1.0, 0.5) == "unipolar"
    assert classify_crossing(-1.0, -0.5) == "unipolar"
    assert classify_crossing(1.0, 0.0) == "indeterminate"         # missing lobe
    assert classify_crossing(1.0, -1e-4) == "indeterminate"       # below lobe_tolerance 1e-3
    assert classify_crossing(1.0, -1e-4, lobe_tolerance=1e-5) == "bipolar"
    assert classify_crossing(1e-12, 1e-12, scale_W=1.0) == "indeterminate"  # no hysteresis


def test_no_hysteresis_is_indeterminate():
    # a memoryless nonlinear resistor: I = V + V^3 retraces itself, zero area
    t = sine_series(1, 500, F)
    v = np.sin(OMEGA * t)
    m = cycle_metrics(v, v + v**3)
    assert m["total_area_W"] < 1e-12
    assert m["crossing_type"] == "indeterminate"


def test_pinch_ratio_with_capacitive_current():
    # a pinched memristor plus a parallel capacitance C: I(V=0) = +-C w V0 exactly (g V = 0
    # there), so the ratio is C w V0 / max|I|. Areas add (they are linear in I): a capacitor's
    # loop is the ellipse I = C w V0 cos(wt) of area pi C w V0^2, clockwise, half in each lobe.
    g0, b, v0, tau, cap = 1.0, 1.0, 1.0, 0.5 / OMEGA, 0.05 / OMEGA
    t = sine_series(2, 2000, F, phase_offset=0.5)
    v = v0 * np.sin(OMEGA * t)
    i = quadratic_periodic_g(t, g0, b, v0, OMEGA, tau) * v + cap * v0 * OMEGA * np.cos(OMEGA * t)
    m = loop_metrics(t, v, i, frequency_Hz=F)
    assert m["pinch_ratio"] == pytest.approx(cap * OMEGA * v0 / np.abs(i).max(), rel=1e-4)
    assert m["pinch_currents_A"][0] == pytest.approx(cap * OMEGA * v0, rel=1e-4)
    lobe = quadratic_lobe_area(b, v0, OMEGA, tau) - math.pi * cap * OMEGA * v0**2 / 2
    assert m["lobe_areas_W"] == pytest.approx([lobe, lobe], rel=1e-4)


def test_lobe_with_a_crossing_off_the_origin():
    # V = sin(theta), I = V (1 + c cos 3theta) for V >= 0, I = V for V < 0: the V > 0 lobe's
    # branches (theta and pi - theta) differ by 2 c V cos 3theta, which changes sign at
    # theta = pi/6 (V = 1/2): the lobe crosses itself there. Shoelace areas with
    # F(x) = (cos x - cos 5x / 5)/2 the primitive of sin 2x cos 3x:
    # whole lobe  -(c/2) (F(pi) - F(0)) = 0.4 c
    # inner loop (V < 1/2)  -c (F(pi/6) - F(0)) = -(3 sqrt3/10 - 2/5) c = -0.1196152 c
    # outer loop (V > 1/2)  -(c/2) (F(5pi/6) - F(pi/6)) = +(3 sqrt3/10) c = 0.5196152 c
    c = 0.3
    theta = np.linspace(0, 2 * np.pi, 8001)
    v = np.sin(theta)
    i = v * (1 + c * np.where(v >= 0, np.cos(3 * theta), 0.0))
    m = cycle_metrics(v, i, theta)
    positive = m["lobes"][0]
    assert positive["signed_area_W"] == pytest.approx(0.4 * c, rel=1e-5)
    subs = sorted(s["signed_area_W"] for s in positive["sub_lobes"])
    inner, outer = -(3 * math.sqrt(3) / 10 - 0.4) * c, 3 * math.sqrt(3) / 10 * c
    assert subs == pytest.approx([inner, outer], rel=1e-4)
    assert m["crossings_off_origin"] == 1
    assert m["total_area_W"] == pytest.approx(outer - inner, rel=1e-4)
    assert m["lobes"][1]["signed_area_W"] == pytest.approx(0.0, abs=1e-12)  # I = V: no area


def test_decompose_loop_figure_eight_and_simple_loops():
    # Lissajous (2 + sin t, sin 2t): a figure eight crossing at (2, 0), lobes of area
    # integral_0^pi sin(2t) cos(t) dt = 4/3 with opposite orientations
    t = np.linspace(0, 2 * np.pi, 4001)[:-1]
    loops = decompose_loop(2 + np.sin(t), np.sin(2 * t))
    areas = sorted(lp["signed_area"] for lp in loops)
    assert areas == pytest.approx([-4 / 3, 4 / 3], rel=1e-5)
    # a circle: one loop, area pi
    circle = decompose_loop(np.cos(t), np.sin(t))
    assert len(circle) == 1 and circle[0]["signed_area"] == pytest.approx(math.pi, rel=1e-5)
    # two squares touching at a shared vertex (1, 1): split there, both counterclockwise
    x = [0, 1, 2, 2, 1, 1, 0]
    y = [0, 0, 0, 1, 1, 2, 2]
    assert sorted(lp["signed_area"] for lp in decompose_loop(
        [0, 1, 1, 2, 2, 1, 1, 0], [0, 0, 1, 1, 2, 2, 1, 1])) == pytest.approx([1.0, 1.0])
    assert len(decompose_loop(x, y)) == 1  # an L-shaped simple polygon stays whole


def test_zero_crossings_and_cycles():
    # sine with a delay (V = 0 before it, as ionslit.coupling.waveforms.Sine): the first rising
    # crossing is the delay itself (last sample of the zero run)
    delay = 0.013
    t = np.arange(9301) * 1e-5  # 0 .. delay + 4 periods, with a sample at the delay
    v = np.where(t <= delay, 0.0, np.sin(OMEGA * (t - delay)))
    ups = zero_crossings(t, v, direction="up")
    assert ups[0] == pytest.approx(delay, abs=1e-12)
    # later crossings fall on samples too (0.02 s = 2000 samples): interpolation is exact
    assert np.diff(ups) == pytest.approx(1 / F, rel=1e-9)
    downs = zero_crossings(t, v, direction="down")
    assert downs == pytest.approx(ups[:downs.size] + 0.5 / F, rel=1e-6)
    detected = split_cycles(t, v)
    given = split_cycles(t, v, frequency_Hz=F)
    assert len(detected) == len(given) == 4
    assert np.array(detected) == pytest.approx(np.array(given), abs=1e-9)
    c = extract_cycle(t, v, v, cycle=1)
    assert (c.index, c.n_cycles) == (1, 4)
    assert c.t_start_s == pytest.approx(delay + 1 / F, abs=1e-9)
    assert c.voltage_V[0] == 0.0 and c.voltage_V[-1] == 0.0
    with pytest.raises(ValueError, match="complete"):
        split_cycles(t[t < delay + 0.9 / F], v[t < delay + 0.9 / F])
    with pytest.raises(ValueError, match="requested"):
        extract_cycle(t, v, v, cycle=7)
    with pytest.raises(ValueError, match="never rises"):
        split_cycles(t, np.abs(v) + 0.1)


def test_conductance_loop_of_a_given_series_and_last_cycle_choice():
    # a run that starts away from the periodic state: the last cycle matches the periodic
    # closed form, the first does not (transient e^{-t/tau}, tau = half a period here, so
    # e^{-14} ~ 1e-6 of it is left in the last cycle)
    g0, b, v0 = 1.0, 1.0, 1.0
    tau = 0.5 / F
    t = sine_series(8, 800, F)
    v = v0 * np.sin(OMEGA * t)
    periodic = quadratic_periodic_g(t, g0, b, v0, OMEGA, tau)
    g = periodic + 0.5 * np.exp(-t / tau)  # homogeneous solution added: still a solution
    first = loop_metrics(t, v, g * v, g, frequency_Hz=F, cycle=0)
    last = loop_metrics(t, v, g * v, g, frequency_Hz=F)
    a = quadratic_lobe_area(b, v0, OMEGA, tau)
    # 800 samples per cycle: polygon area error ~ (2 pi / 800)^2 ~ 6e-5 relative
    assert last["lobe_areas_W"] == pytest.approx([a, a], rel=2e-4)
    assert abs(first["lobe_areas_W"][0] - a) > 0.05 * a
    assert last["cycle_index"] == 7


def test_cycle_starting_inside_a_lobe_and_offset_drive():
    # the same loop sampled from theta = 0.5 (inside the V > 0 lobe): the lobes are found by
    # wrapping around; g = 1 + 0.3 cos(theta) (bipolar) gives lobes of -+0.3 * 2/3 = -+0.2
    # (integral_0^pi sin(x) cos(x) cos(x) dx = 2/3), to the polygon's (2 pi / 1000)^2 accuracy
    theta = np.linspace(0.5, 0.5 + 2 * np.pi, 1001)
    v = np.sin(theta)
    m = cycle_metrics(v, v * (1 + 0.3 * np.cos(theta)), theta)
    assert sorted(m["lobe_areas_W"]) == pytest.approx([-0.2, 0.2], rel=1e-4)
    assert m["crossing_type"] == "bipolar"
    assert [(lb["polarity"], round(lb["t_start_s"], 6), round(lb["t_end_s"], 6))
            for lb in m["lobes"]] == [(-1, round(math.pi, 6), round(2 * math.pi, 6)),
                                      (1, round(2 * math.pi, 6), round(3 * math.pi, 6))]
    # an offset drive that never changes sign: cycles from crossings of its mean, one lobe,
    # crossing type indeterminate
    t = sine_series(3, 400, F)
    v = 1.0 + 0.5 * np.sin(OMEGA * t)
    g = 1.0 + 0.2 * np.cos(OMEGA * t)
    m = loop_metrics(t, v, g * v, level_V=1.0)
    assert len(m["lobes"]) == 1 and m["crossing_type"] == "indeterminate"
    assert math.isnan(m["pinch_ratio"])
