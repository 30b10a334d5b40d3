"""Spike detector semantics on synthetic signals (exact values and slopes at the step ends)."""

import numpy as np
import pytest

from ionslit.coupling.spikes import SpikeDetector


def feed(detector, times, u, du, lanes=1):
    """Present consecutive samples as accepted steps (the same signal on every lane)."""
    for k in range(len(times) - 1):
        args = [np.full(lanes, x) for x in (times[k], u[k], du[k], times[k + 1], u[k + 1],
                                            du[k + 1])]
        detector.update(*args)


def sine(h, t_end=3.0):
    t = np.arange(0.0, t_end + h / 2, h)
    return t, np.sin(2 * np.pi * t), 2 * np.pi * np.cos(2 * np.pi * t)


@pytest.mark.parametrize("interpolation, h, tolerance", [
    # Hermite interpolation of exact end values and slopes: error O(h^4 U''''/384)
    # ~ 0.05^4 * (2 pi)^4 / 384 / |U'| ~ 3e-6 s at h = 0.05
    ("hermite", 0.05, 5e-6),
    # linear interpolation: error ~ h^2 |U''| / (8 |U'|) ~ 0.05^2 * 20 / (8 * 5.4) ~ 1.2e-3 s
    ("linear", 0.05, 2e-3),
])
def test_crossing_times_are_interpolated(interpolation, h, tolerance):
    detector = SpikeDetector(1, threshold=0.5, interpolation=interpolation)
    t, u, du = sine(h)
    detector.start(u[0])
    feed(detector, t, u, du)
    expected = np.arange(3) + 1.0 / 12.0  # sin(2 pi t) = 0.5 going up
    np.testing.assert_allclose(detector.times(), expected, atol=tolerance, rtol=0)
    if interpolation == "hermite":
        # the interior maximum of the cubic finds the peak between samples: error O(h^4)
        np.testing.assert_allclose(detector.peaks(), 1.0, atol=5e-5)
        np.testing.assert_allclose(detector.intervals(), 1.0, atol=2 * tolerance)
        assert detector.rate() == pytest.approx(1.0, abs=1e-5)


def test_rearm_level_prevents_double_counting():
    # up through 0, back to -0.5 (above the re-arm level -1), up again, then down to -2, up
    t = np.arange(8.0)
    u = np.array([-2.0, 1.0, -0.5, 1.0, -2.0, 1.0, -0.5, 1.0])
    du = np.zeros_like(u)  # linear interpolation is what matters here
    detector = SpikeDetector(1, threshold=0.0, rearm=-1.0, interpolation="linear")
    detector.start(u[0])
    feed(detector, t, u, du)
    np.testing.assert_allclose(detector.times(), [2.0 / 3.0, 4.0 + 2.0 / 3.0])
    np.testing.assert_allclose(detector.peaks(), [1.0, 1.0])
    # with the re-arm at the threshold, every upward crossing counts
    detector = SpikeDetector(1, threshold=0.0, interpolation="linear")
    detector.start(u[0])
    feed(detector, t, u, du)
    assert detector.counts()[0] == 4


def test_a_start_above_threshold_is_not_a_spike():
    detector = SpikeDetector(1, threshold=0.0, interpolation="linear")
    t = np.arange(4.0)
    u = np.array([1.0, 2.0, -1.0, 1.0])
    detector.start(u[0])
    feed(detector, t, u, np.zeros(4))
    np.testing.assert_allclose(detector.times(), [2.5])


def test_lanes_and_masks_and_state():
    detector = SpikeDetector(2, threshold=0.0, interpolation="linear")
    detector.start(np.array([-1.0, -1.0]))
    one = np.ones(2)
    detector.update(0 * one, -one, 0 * one, one, one, 0 * one, mask=np.array([True, False]))
    assert list(detector.counts()) == [1, 0]
    saved = detector.state()
    detector.update(one, one, 0 * one, 2 * one, -one, 0 * one)
    detector.update(2 * one, -one, 0 * one, 3 * one, one, 0 * one)
    assert list(detector.counts()) == [2, 1]
    detector.restore(saved)
    assert list(detector.counts()) == [1, 0]
    assert detector.peaks(0)[0] == 1.0  # running maximum of the unfinished spike
    with pytest.raises(ValueError, match="re-arm"):
        SpikeDetector(1, threshold=0.0, rearm=0.1)
