"""The case file's ``[protocol]`` section: one model per ``kind`` (steady, current clamp, steps,
sine, triangle, pulse train, concentration step, frequency sweep, piecewise linear), values in
SI units.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ionslit.case.section import CasePath, PositiveTime, Section
from ionslit.case.units import Concentration, Current, Frequency, Time, Voltage


# ---------------------------------------------------------------------------------- protocol
class SteadyProtocol(Section):
    """One steady solve at a fixed applied voltage (left electrode, right grounded)."""

    kind: Literal["steady"]
    voltage: Voltage = 0.0


class CurrentClampProtocol(Section):
    """Steady solve with the electrode potential as unknown and the total current prescribed."""

    kind: Literal["current_clamp"]
    current: Current = 0.0


class StepProtocol(Section):
    """Piecewise-constant voltage: ``voltages[k]`` held for ``durations[k]``."""

    kind: Literal["step"]
    voltages: list[Voltage] = Field(min_length=1)
    durations: list[PositiveTime] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> StepProtocol:
        if len(self.voltages) != len(self.durations):
            raise ValueError("'voltages' and 'durations' must have the same length")
        return self


class SineProtocol(Section):
    """V(t) = offset + amplitude sin(2 pi f t) for a number of cycles."""

    kind: Literal["sine"]
    amplitude: Voltage
    frequency: Annotated[Frequency, Field(gt=0)]
    cycles: float = Field(default=1.0, gt=0)
    offset: Voltage = 0.0


class TriangleProtocol(Section):
    """Triangle wave 0 -> +amplitude -> -amplitude -> 0 for a number of cycles."""

    kind: Literal["triangle"]
    amplitude: Voltage
    frequency: Annotated[Frequency, Field(gt=0)]
    cycles: float = Field(default=1.0, gt=0)


class PulseTrainProtocol(Section):
    """Rectangular pulses of ``amplitude`` and ``width`` every ``period``, after ``delay``."""

    kind: Literal["pulse_train"]
    amplitude: Voltage
    width: PositiveTime
    period: PositiveTime
    count: int = Field(default=1, ge=1)
    delay: Annotated[Time, Field(ge=0)] = 0.0
    baseline: Voltage = 0.0

    @model_validator(mode="after")
    def _width_fits(self) -> PulseTrainProtocol:
        if self.width >= self.period:
            raise ValueError("pulse 'width' must be shorter than 'period'")
        return self


class ConcentrationStepProtocol(Section):
    """Steady state at ``voltage`` with the reservoirs of [electrolyte]; at t = 0 the reservoir
    concentrations given in ``left`` / ``right`` (species name -> concentration) replace them
    and the relaxation is followed for ``duration`` at constant ``voltage``."""

    kind: Literal["concentration_step"]
    duration: PositiveTime
    voltage: Voltage = 0.0
    left: dict[str, Annotated[Concentration, Field(ge=0)]] = {}
    right: dict[str, Annotated[Concentration, Field(ge=0)]] = {}

    @model_validator(mode="after")
    def _something_steps(self) -> ConcentrationStepProtocol:
        if not self.left and not self.right:
            raise ValueError("give the new reservoir concentrations in 'left' and/or 'right' "
                             '(e.g. left = { K = "20 mM", Cl = "20 mM" })')
        return self


class FrequencySweepProtocol(Section):
    """V(t) = amplitude sin(2 pi f t) at each frequency of a sweep: ``frequencies`` (a list) or
    ``frequency_min`` .. ``frequency_max`` with ``points_per_decade`` (log-spaced, both ends
    included). Every frequency starts from the same steady state at 0 V and runs ``cycles``
    periods (the last one is analysed) with at most 1 / (``steps_per_cycle`` f) per step."""

    kind: Literal["frequency_sweep"]
    amplitude: Voltage
    frequencies: list[Annotated[Frequency, Field(gt=0)]] | None = None
    frequency_min: Annotated[Frequency, Field(gt=0)] | None = None
    frequency_max: Annotated[Frequency, Field(gt=0)] | None = None
    points_per_decade: float = Field(default=4.0, gt=0)
    cycles: int = Field(default=2, ge=1)
    steps_per_cycle: int = Field(default=150, ge=8)

    @model_validator(mode="after")
    def _frequencies_given(self) -> FrequencySweepProtocol:
        listed = self.frequencies is not None
        ranged = self.frequency_min is not None or self.frequency_max is not None
        if listed == ranged:
            raise ValueError("give either 'frequencies' (a list) or 'frequency_min' and "
                             "'frequency_max' (with 'points_per_decade')")
        if ranged and (self.frequency_min is None or self.frequency_max is None
                       or not self.frequency_min < self.frequency_max):
            raise ValueError("give both 'frequency_min' < 'frequency_max'")
        if self.frequencies is not None and len(self.frequencies) < 3:
            raise ValueError("a sweep needs at least 3 frequencies")
        return self

    def frequency_list(self) -> list[float]:
        """The sweep's frequencies (Hz), increasing."""
        if self.frequencies is not None:
            return sorted(self.frequencies)
        assert self.frequency_min is not None and self.frequency_max is not None, \
            "validated: a list or both ends"
        decades = math.log10(self.frequency_max / self.frequency_min)
        n = max(2, round(decades * self.points_per_decade) + 1)
        return [self.frequency_min * 10 ** (decades * k / (n - 1)) for k in range(n)]


class PiecewiseLinearProtocol(Section):
    """Voltage interpolated linearly from a CSV file with columns time_s, voltage_V."""

    kind: Literal["piecewise_linear"]
    file: CasePath


ProtocolSection = Annotated[
    SteadyProtocol
    | CurrentClampProtocol
    | StepProtocol
    | SineProtocol
    | TriangleProtocol
    | PulseTrainProtocol
    | PiecewiseLinearProtocol
    | ConcentrationStepProtocol
    | FrequencySweepProtocol,
    Field(discriminator="kind"),
]
