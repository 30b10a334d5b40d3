"""Case-file sections of a neuron and of the analyses: ``[circuit]`` (stimulus, leak, branches),
``[analysis]`` (f-I curve, pulse threshold, reduced model) and ``[calibration]`` (SI units).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ionslit.case.section import CasePath, Name, PositiveTime, Section
from ionslit.case.units import (
    Area,
    Capacitance,
    Concentration,
    Conductance,
    Current,
    ElectricField,
    Frequency,
    Time,
    Voltage,
)


# ----------------------------------------------------------------------------------- circuit
class StimulusSection(Section):
    """Stimulus current into the membrane node.

    ``constant``: ``current``; ``step``: ``baseline`` until ``start``, then ``current``;
    ``pulse``/``pulse_train``: ``baseline`` with pulses of ``current`` lasting ``width`` from
    ``start`` (every ``period``, ``count`` times); ``sine``: ``baseline + current sin(2 pi
    frequency (t - start))``; ``piecewise_linear``: a CSV ``file`` with time_s, current_A.
    """

    kind: Literal["constant", "step", "pulse", "pulse_train", "sine", "piecewise_linear"] = "constant"
    current: Current = 0.0
    baseline: Current = 0.0
    start: Annotated[Time, Field(ge=0)] = 0.0
    width: PositiveTime | None = None
    period: PositiveTime | None = None
    count: int = Field(default=1, ge=1)
    frequency: Annotated[Frequency, Field(gt=0)] | None = None
    file: CasePath | None = None

    @model_validator(mode="after")
    def _needed_keys(self) -> StimulusSection:
        needed = {"pulse": ["width"], "pulse_train": ["width", "period"], "sine": ["frequency"],
                  "piecewise_linear": ["file"]}.get(self.kind, [])
        given = {"width": self.width, "period": self.period, "frequency": self.frequency,
                 "file": self.file}
        missing = [key for key in needed if given[key] is None]
        if missing:
            raise ValueError(f"a '{self.kind}' stimulus needs {', '.join(missing)}")
        return self


class LeakSection(Section):
    """A linear leak g_L (U - E_L)."""

    conductance: Annotated[Conductance, Field(ge=0)]
    reversal: Voltage = 0.0


class BranchSection(Section):
    """A battery in series with ``count`` identical elements in parallel; the element is a live
    slit (``slit``: a slit case file), a reduced memristor (``reduced``: reduced_model.json) or a
    Hodgkin-Huxley channel (``channel``: na, k or leak; 1952 squid-axon parameters per unit
    area, scaled by ``[circuit] area``; docs/theory.md#hodgkin-huxley)."""

    name: Name
    battery: Voltage = 0.0
    count: int = Field(default=1, ge=1)
    slit: CasePath | None = None
    reduced: CasePath | None = None
    channel: Literal["na", "k", "leak"] | None = None

    @model_validator(mode="after")
    def _one_element(self) -> BranchSection:
        elements = {"slit": self.slit, "reduced": self.reduced, "channel": self.channel}
        given = [key for key, value in elements.items() if value is not None]
        if len(given) != 1:
            raise ValueError(f"branch '{self.name}': give exactly one of 'slit', 'reduced', "
                             f"'channel' (got {given or 'none'})")
        return self


class CircuitSection(Section):
    """Lumped neuron: C dU/dt = I_stim - sum_k n_k I_k(U - E_k) - g_L (U - E_L) (C in F, U in V,
    currents in A; docs/theory.md#circuit)."""

    capacitance: Annotated[Capacitance, Field(gt=0)]
    duration: PositiveTime
    area: Annotated[Area, Field(gt=0)] = 1.0
    initial_voltage: Voltage | None = None
    stimulus: StimulusSection = StimulusSection()
    leak: LeakSection | None = None
    branches: list[BranchSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_branch_names(self) -> CircuitSection:
        names = [b.name for b in self.branches]
        if len(set(names)) != len(names):
            raise ValueError(f"branch names must be unique: {names}")
        if self.initial_voltage is None and any(b.slit is not None for b in self.branches):
            raise ValueError("a circuit with live slits needs 'initial_voltage' (finding the "
                             "resting potential would take many steady PNP solves; take it "
                             "from the reduced neuron, e.g.)")
        return self


class FICurveSection(Section):
    """Firing rate at each constant stimulus, after a transient."""

    stimuli: list[Current] = Field(min_length=1)
    duration: PositiveTime
    transient: Annotated[Time, Field(ge=0)] = 0.0


class PulseThresholdSection(Section):
    """Smallest amplitude of one pulse of ``width`` that evokes a spike within ``duration``,
    by bisection in [``lower``, ``upper``]."""

    width: PositiveTime
    lower: Current
    upper: Current
    duration: PositiveTime
    start: Annotated[Time, Field(ge=0)] = 0.0


class ReducedModelSection(Section):
    """The reduced memristor tau(V) dg/dt = g_inf(V) - g of a slit under a ``step`` protocol:
    g_inf(V) from steady solves at ``voltages`` (include 0 V and the drive amplitude), tau(V)
    from exponential fits of G = I/V after each step (the first ``skip`` after a step and
    ``skip_fraction`` of each plateau are left out: the fast ionic transient). ``symmetric``:
    the slit is symmetric (g_inf and tau depend on |V| only), so what is measured at V > 0 is
    used at -V as well (give the voltages and steps for V >= 0 only). Written as
    reduced_model.json and, with ``spice``, memristor.cir. See docs/theory.md#reduced-memristor
    and docs/theory.md#step-fits."""

    voltages: list[Voltage] = Field(min_length=2)
    skip: Annotated[Time, Field(ge=0)] = 0.0
    skip_fraction: float = Field(default=0.0, ge=0, lt=1)
    symmetric: bool = False
    spice: bool = True


class AnalysisSection(Section):
    """Spike detection and the neuron analyses to run after the main simulation; for slits,
    the memristor analyses: ``reduced_model`` (steps) and ``memory_time_shape`` (sweeps: the
    g_inf shape that fixes k in tau = k / (2 pi f_peak): "even" (k = 1/2, symmetric slits) or
    "odd_linear" (k = 1); docs/theory.md#memory-time). ``rtol`` and ``atol`` bound the circuit
    integrator's local error in U per step: atol + rtol |U| (atol in volts; lower it for
    circuits that swing millivolts; docs/theory.md#circuit-integrator). ``spike_threshold`` and
    ``spike_rearm`` (V): docs/theory.md#spike-detection."""

    spike_threshold: Voltage = 0.0
    spike_rearm: Voltage | None = None
    rtol: float = Field(default=1e-4, gt=0, lt=1)
    atol: Annotated[Voltage, Field(gt=0)] = 1e-6
    fi_curve: FICurveSection | None = None
    pulse_threshold: PulseThresholdSection | None = None
    reduced_model: ReducedModelSection | None = None
    memory_time_shape: Literal["even", "odd_linear"] = "even"


class CalibrationSection(Section):
    """Fit of a reaction's dissociation law (and K_d) to a target G(E)/G_free table
    (``ionslit calibrate``; ``ionslit run`` also writes calibration.json): ``table`` a CSV with
    columns field_V_m, conductance_ratio (default: the packaged 2D Brownian-dynamics table of
    divalent ions), ``reaction`` the index of the [[reactions]] entry, ``law`` power or table,
    ``total_concentration`` c_tot of each partner (default: the concentration given for the
    reaction's immobile reactant, e.g. the sites), ``dissociation_constant`` to fix K_d (else
    fitted), ``saturation`` of the power law: a field, "fit" or none
    (docs/theory.md#dissociation-laws)."""

    table: CasePath | None = None
    reaction: int = Field(default=0, ge=0)
    law: Literal["power", "table"] = "power"
    total_concentration: Annotated[Concentration, Field(gt=0)] | None = None
    dissociation_constant: Annotated[Concentration, Field(gt=0)] | None = None
    saturation: Annotated[ElectricField, Field(gt=0)] | Literal["fit"] | None = "fit"
