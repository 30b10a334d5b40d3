"""Frequency sweeps: the maximum of the loop area and the memory time it measures.

For the reduced model tau dg/dt = g_inf(V) - g with V = V0 sin(w t) and a constant tau, the
periodic g(t) answers each Fourier harmonic m w of g_inf(V(t)) with the factor 1 / (1 + i m w
tau). A lobe's area, A = -integral of I dV over a half period, only sees some harmonics:

- the even part of g_inf (a function of |V|: symmetric slits, the 2D Wien effect) contributes only
  through its 2 w harmonic, so both lobes have area  c2 * 2 w tau / (1 + (2 w tau)^2)  (c2 set by
  the shape and amplitude): the area peaks at **w tau = 1/2 exactly, for any even g_inf**
  (quadratic, |V|-linear, power law, saturating...);
- the odd part (g_inf = g0 + a V: asymmetric, bipolar devices) contributes through the odd
  harmonics m = 1, 3, 5...; for g_inf linear in V only m = 1, the lobes are +-a V0^3 (2/3)
  w tau / (1 + (w tau)^2) and the area peaks at **w tau = 1**; other odd shapes (tanh, V|V|) and
  mixtures of even and odd parts peak elsewhere, and a voltage-dependent tau moves the peak too.

So "w tau = 1 for g_inf linear in V, 1/2 for a quadratic one" holds when "linear" means odd
(g0 + a V); an even g_inf linear in |V| peaks at w tau = 1/2 like the quadratic one (see
docs/theory.md#memory-time).

``memory_time_from_sweep`` therefore writes tau = k / (2 pi f_peak) with k from the g_inf shape:
either a named shape with an exact k, or (recommended) k calibrated by sweeping the fitted reduced
model itself (``model_peak_frequency``), which is right for any g_inf table and tau(V) shape. With
a voltage-dependent tau the memory time reported is the effective one over the drive cycle,
tau_eff = 1 / <1 / tau(V(t))> (``reduced_model.effective_tau``), and the model's whole tau
table is rescaled by the same factor.

Areas are the ``total_area_W`` of ``loops.loop_metrics`` (sum of |lobe areas|) unless another key
is named; the calibration uses the same key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ionslit.coupling.memristor.loops import cycle_metrics
from ionslit.coupling.memristor.reduced_model import effective_tau, sine_cycle
from ionslit.coupling.reduced import ReducedModel

#: exact k = w_peak tau for a constant tau (module docstring)
SHAPE_FACTORS = {"even": 0.5, "quadratic": 0.5, "odd_linear": 1.0}

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def peak_frequency(frequency_Hz, area_W, n_fit: int = 5) -> dict:
    """The maximum of the loop area over a frequency sweep.

    The largest sample is found; if it is not at either end of the sweep a parabola is fitted to
    ln(area) against ln(f) through the ``n_fit`` samples centred on it (fewer at the ends, at
    least 3) and its vertex is the peak (kept only if it lies within the fitted samples, else the
    largest sample is returned). Returns ``frequency_Hz`` (the peak), ``area_W`` (the fitted
    maximum), ``interior`` (False when the largest area is at an end of the sweep: the peak was
    not bracketed), ``index`` (of the largest sample in frequency order), ``method``.
    """
    f = np.asarray(frequency_Hz, dtype=float).ravel()
    a = np.asarray(area_W, dtype=float).ravel()
    if f.size != a.size or f.size < 3:
        raise ValueError("a sweep needs at least 3 (frequency, area) pairs of equal length")
    if np.any(f <= 0) or not np.all(np.isfinite(a)):
        raise ValueError("frequencies must be > 0 and areas finite")
    order = np.argsort(f)
    f, a = f[order], np.abs(a[order])
    k = int(np.argmax(a))
    result = {"frequency_Hz": float(f[k]), "area_W": float(a[k]), "index": k,
              "interior": 0 < k < f.size - 1, "method": "largest sample"}
    if not result["interior"]:
        return result
    half = max(1, n_fit // 2)
    lo, hi = max(0, k - half), min(f.size, k + half + 1)
    x, y = np.log(f[lo:hi]), a[lo:hi]
    if np.any(y <= 0) or x.size < 3:
        return result
    c2, c1, c0 = np.polyfit(x, np.log(y), 2)
    if c2 >= 0:
        return result
    xv = -c1 / (2.0 * c2)
    if not (x[0] <= xv <= x[-1]):
        return result
    result.update(frequency_Hz=float(math.exp(xv)),
                  area_W=float(math.exp(c0 + c1 * xv + c2 * xv * xv)),
                  method=f"parabola in ln f through {x.size} samples")
    return result


def model_loop_area(model: ReducedModel, frequency_Hz: float, amplitude_V: float,
                    area_key: str = "total_area_W", n_steps: int = 1000) -> float:
    """The loop area (W) of the model's periodic steady state under V0 sin(2 pi f t)."""
    _, v, _, i = sine_cycle(model, frequency_Hz, amplitude_V, n_steps)
    return abs(cycle_metrics(v, i)[area_key])


def model_area_curve(model: ReducedModel, frequency_Hz, amplitude_V: float,
                     area_key: str = "total_area_W", n_steps: int = 1000) -> np.ndarray:
    """``model_loop_area`` at each frequency (Hz)."""
    return np.array([model_loop_area(model, f, amplitude_V, area_key, n_steps)
                     for f in np.atleast_1d(frequency_Hz)])


def model_peak_frequency(model: ReducedModel, amplitude_V: float,
                         area_key: str = "total_area_W", n_steps: int = 1000,
                         rtol: float = 1e-5) -> float:
    """The frequency (Hz) at which the model's loop area is largest: a scan over six decades
    around 1 / (2 pi tau_eff), then golden-section search in ln f to relative ``rtol``."""
    tau_eff = effective_tau(model, amplitude_V)
    f0 = 1.0 / (2.0 * math.pi * tau_eff)
    grid = np.log(f0) + np.linspace(-3 * math.log(10), 3 * math.log(10), 31)

    def area(x):
        return model_loop_area(model, math.exp(x), amplitude_V, area_key, n_steps)
    values = np.array([area(x) for x in grid])
    k = int(np.argmax(values))
    if k in (0, grid.size - 1):
        raise RuntimeError("the model's loop area has no maximum within 3 decades of "
                           "1 / (2 pi tau_eff): is g_inf constant?")
    a, b = grid[k - 1], grid[k + 1]
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = area(c), area(d)
    while b - a > rtol:
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = area(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = area(d)
    return math.exp(0.5 * (a + b))


def memory_time_factor(model: ReducedModel, amplitude_V: float,
                       area_key: str = "total_area_W", n_steps: int = 1000) -> float:
    """k = 2 pi f_peak tau_eff of the model under a sine of amplitude ``amplitude_V`` (V).

    Independent of the model's time scale (scaling every tau by s scales f_peak by 1/s)."""
    f_peak = model_peak_frequency(model, amplitude_V, area_key, n_steps)
    return 2.0 * math.pi * f_peak * effective_tau(model, amplitude_V)


@dataclass(frozen=True)
class MemoryTime:
    """Memory time from a frequency sweep.

    ``tau_s``: the memory time (s; with a tau(V) table, the effective time over the drive
    cycle); ``factor``: k in tau = k / (2 pi f_peak); ``peak_frequency_Hz``, ``peak_area_W``;
    ``method``: how k was obtained; ``model``: the calibration model with its tau table rescaled
    to this memory time (None for a named shape)."""

    tau_s: float
    factor: float
    peak_frequency_Hz: float
    peak_area_W: float
    method: str
    peak_method: str
    model: ReducedModel | None = None


def memory_time_from_sweep(frequency_Hz, area_W, *, model: ReducedModel | None = None,
                           amplitude_V: float | None = None, shape: str | None = None,
                           area_key: str = "total_area_W", n_fit: int = 5,
                           sampling_correction: bool = True) -> MemoryTime:
    """Memory time from sweep data (frequencies in Hz, loop areas in W).

    Give either ``model`` (a reduced model with the fitted g_inf table and tau(V) shape; its tau
    scale does not matter) and the sweep's ``amplitude_V``: k is calibrated by sweeping the model
    (recommended, right for any g_inf); or ``shape``: "even" (= "quadratic"; any g_inf(|V|),
    k = 1/2) or "odd_linear" (g_inf = g0 + a V, k = 1), exact for a constant tau. Raises
    ValueError if the sweep does not bracket the maximum.

    ``sampling_correction`` (model only): the parabola's vertex is biased when the sweep has few
    frequencies per decade and the area curve is asymmetric in ln f; with the correction the
    model, sampled at the same frequencies, is put through the same estimate and its tau
    rescaled until both agree (a fixed-point iteration of at most 8 sweeps of the model, stopped
    when the ratio of the estimates is within 1e-6 of 1), which removes that bias whenever the
    model's shape is right.
    """
    peak = peak_frequency(frequency_Hz, area_W, n_fit)
    if not peak["interior"]:
        raise ValueError(f"the loop area is largest at the {'lowest' if peak['index'] == 0 else
                         'highest'} frequency of the sweep ({peak['frequency_Hz']:g} Hz): extend "
                         f"the sweep past the maximum")
    if model is not None:
        if amplitude_V is None:
            raise ValueError("calibrating on a model needs the sweep's amplitude_V")
        factor = memory_time_factor(model, amplitude_V, area_key)
        tau = factor / (2.0 * math.pi * peak["frequency_Hz"])
        method = (f"k = {factor:.6g} calibrated by sweeping the reduced model (sine, amplitude "
                  f"{amplitude_V:g} V, {area_key})")
        tau_eff = effective_tau(model, amplitude_V)
        if sampling_correction:
            # apply the same peak estimate to the model sampled at the sweep's frequencies and
            # rescale its tau until it reproduces the measured estimate: this cancels the bias
            # of the parabola (the area curve is not a parabola in ln f, nor symmetric)
            f = np.asarray(frequency_Hz, dtype=float).ravel()
            for _ in range(8):
                trial = model.with_tau_scaled(tau / tau_eff)
                estimate = peak_frequency(f, model_area_curve(trial, f, amplitude_V, area_key),
                                          n_fit)["frequency_Hz"]
                ratio = estimate / peak["frequency_Hz"]
                tau *= ratio
                if abs(ratio - 1.0) < 1e-6:
                    break
            factor = 2.0 * math.pi * peak["frequency_Hz"] * tau
            method += (f"; corrected for the sampling of the sweep (effective k = {factor:.6g})")
        scaled = model.with_tau_scaled(tau / tau_eff)
        return MemoryTime(tau, factor, peak["frequency_Hz"], peak["area_W"], method,
                          peak["method"], scaled)
    if shape is None:
        raise ValueError("give model= (recommended: k calibrated on the fitted reduced model) or "
                         f"shape= one of {sorted(SHAPE_FACTORS)}")
    if shape not in SHAPE_FACTORS:
        raise ValueError(f"unknown g_inf shape {shape!r}; known: {sorted(SHAPE_FACTORS)}")
    factor = SHAPE_FACTORS[shape]
    tau = factor / (2.0 * math.pi * peak["frequency_Hz"])
    return MemoryTime(tau, factor, peak["frequency_Hz"], peak["area_W"],
                      f"k = {factor:g} for a {shape} g_inf with constant tau (exact)",
                      peak["method"])
