"""Circuit coupling: memristor providers, the neuron circuit, its implicit integrator, spikes.

Pure Python + numpy (never imports dolfinx, petsc4py, gmsh, ``meshes`` or ``solvers``): a live
PNP slit enters only through the provider protocol (``provider.MemristorProvider``).

- providers: ``ReducedMemristor`` (a ``ReducedModel``: the reduced model's tables and its
  ``reduced_model.json``, as fitted by ``ionslit.coupling.memristor``), ``HodgkinHuxleyChannel``,
  ``Resistor``; contracts ``MemristorProvider`` / ``LaneProvider`` / ``SteadyStateProvider``;
- circuit: ``Circuit``, ``Branch``; the membrane law (``membrane``);
- waveforms (stimulus currents here, clamped voltages or currents of a PNP model): ``Constant``,
  ``Step``, ``PulseTrain`` / ``pulse``, ``Sine``, ``Triangle``, ``PiecewiseLinear``;
- integration: ``CircuitIntegrator``, ``IntegratorOptions``; spikes: ``SpikeDetector``;
- analyses: ``fi_curve``, ``pulse_threshold``, ``repetitive_firing_threshold``;
- ``hodgkin_huxley_circuit``: the 1952 squid-axon membrane for verification.
"""

from ionslit.coupling.analysis import (
    FICurve,
    ThresholdResult,
    fi_curve,
    pulse_threshold,
    repetitive_firing_threshold,
    simulate_lanes,
)
from ionslit.coupling.circuit import Branch, Circuit
from ionslit.coupling.elements import Resistor
from ionslit.coupling.hodgkin_huxley import HodgkinHuxleyChannel, hodgkin_huxley_circuit
from ionslit.coupling.integration_options import IntegrationError, IntegratorOptions
from ionslit.coupling.integrator import CircuitIntegrator
from ionslit.coupling.provider import (
    LaneProvider,
    MemristorProvider,
    SteadyStateProvider,
    as_lanes,
)
from ionslit.coupling.reduced import ReducedMemristor, ReducedModel
from ionslit.coupling.spikes import SpikeDetector
from ionslit.coupling.waveforms import (
    Constant,
    PiecewiseLinear,
    PulseTrain,
    Sine,
    Step,
    Triangle,
    Waveform,
    pulse,
)

__all__ = [
    "Branch", "Circuit", "CircuitIntegrator", "Constant", "FICurve",
    "HodgkinHuxleyChannel", "IntegrationError", "IntegratorOptions", "LaneProvider",
    "MemristorProvider", "PiecewiseLinear", "PulseTrain", "ReducedMemristor",
    "ReducedModel", "Resistor", "Sine", "SpikeDetector", "SteadyStateProvider", "Step",
    "ThresholdResult", "Triangle", "Waveform", "as_lanes", "fi_curve", "hodgkin_huxley_circuit",
    "pulse", "pulse_threshold", "repetitive_firing_threshold", "simulate_lanes",
]
