"""Quantities written with units in case files ("2 um", "10 mM") -> floats in SI base units (pint)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, NamedTuple

import pint
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# Dimensions accepted by case files: name shown to users -> (pint dimensionality, example).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "length": ("[length]", "2 um"),
    "area": ("[length] ** 2", "1 cm^2"),
    "concentration": ("[substance] / [length] ** 3", "10 mM"),
    "surface charge density": ("[current] * [time] / [length] ** 2", "-20 mC/m^2"),
    "voltage": ("[mass] * [length] ** 2 / [time] ** 3 / [current]", "0.2 V"),
    "electric field": ("[mass] * [length] / [time] ** 3 / [current]", "5e7 V/m"),
    "frequency": ("1 / [time]", "1 kHz"),
    "time": ("[time]", "0.1 ms"),
    "temperature": ("[temperature]", "298.15 K"),
    "diffusivity": ("[length] ** 2 / [time]", "1e-9 m^2/s"),
    "rate constant": ("1 / [time]", "1e3 1/s"),
    "association rate constant": ("[length] ** 3 / [substance] / [time]", "1e3 m^3/(mol*s)"),
    "current": ("[current]", "0.1 nA"),
    "current density": ("[current] / [length] ** 2", "10 uA/cm^2"),
    "capacitance": ("[current] ** 2 * [time] ** 4 / [mass] / [length] ** 2", "0.1 fF"),
    "specific capacitance": ("[current] ** 2 * [time] ** 4 / [mass] / [length] ** 4", "1 uF/cm^2"),
    "conductance": ("[current] ** 2 * [time] ** 3 / [mass] / [length] ** 2", "1 nS"),
    "specific conductance": ("[current] ** 2 * [time] ** 3 / [mass] / [length] ** 4", "120 mS/cm^2"),
}


@cache
def registry() -> pint.UnitRegistry:
    """The one unit registry of the program (M = mol/L, as chemists write it)."""
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def describe_dimension(quantity: pint.Quantity) -> str:
    """A readable name for what ``quantity`` measures ('a voltage', 'dimensionless', ...)."""
    for name, (dimensionality, _) in DIMENSIONS.items():
        if quantity.dimensionality == registry().get_dimensionality(dimensionality):
            return f"a {name}"
    if quantity.dimensionless:
        return "a plain number"
    return f"a quantity of dimension {quantity.dimensionality}"


def to_si(value: object, dimension: str) -> float:
    """Parse ``value`` (a string such as ``"0.7 nm"``) and return its magnitude in SI base units.

    Raises a pydantic error (reported with the case key) when the text is not a quantity or its
    dimension is not ``dimension`` (a key of ``DIMENSIONS``). A bare number is accepted only for 0.
    """
    dimensionality, example = DIMENSIONS[dimension]
    expected = f'a {dimension} such as "{example}"'
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PydanticCustomError("quantity", "expected {expected}", {"expected": expected})
    if isinstance(value, (int, float)):
        if value == 0:
            return 0.0
        raise PydanticCustomError(
            "quantity", "a bare number needs a unit: expected {expected}", {"expected": expected}
        )
    try:
        quantity = registry().Quantity(value.strip())
    except Exception:  # pint raises several unrelated types for unparsable text
        raise PydanticCustomError(
            "quantity", "cannot read '{value}' as a quantity: expected {expected}",
            {"value": value, "expected": expected},
        ) from None
    if not isinstance(quantity, pint.Quantity):  # plain number in a string, e.g. "5"
        quantity = registry().Quantity(float(quantity))
    if quantity.dimensionality != registry().get_dimensionality(dimensionality):
        if quantity.dimensionless and quantity.magnitude == 0:
            return 0.0
        raise PydanticCustomError(
            "dimension", "'{value}' is {found}, expected {expected}",
            {"value": value, "found": describe_dimension(quantity), "expected": expected},
        )
    # 15 significant digits: "10 mM" is 10.0 mol/m^3, not 9.999999999999998.
    return float(f"{quantity.to_base_units().magnitude:.15g}")


def quantity(dimension: str) -> BeforeValidator:
    """Pydantic validator turning a unit string into SI (use as ``Annotated[float, quantity(...)]``)."""
    if dimension not in DIMENSIONS:
        raise KeyError(dimension)
    return BeforeValidator(lambda value: to_si(value, dimension))


class SIQuantity(NamedTuple):
    """A quantity whose dimension is checked later, against context (e.g. a rate constant whose
    unit depends on the reaction order): SI magnitude and SI base unit."""

    value: float
    unit: str

    def dimension_of(self, expected: str) -> bool:
        """True when ``unit`` has the dimensionality of the pint unit expression ``expected``."""
        return registry().Quantity(1, self.unit).dimensionality == \
            registry().Quantity(1, expected).dimensionality


def to_si_quantity(value: object) -> SIQuantity:
    """Parse a quantity of any dimension (pydantic error for text that is not a quantity)."""
    if isinstance(value, SIQuantity):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:  # a dumped SIQuantity
        return SIQuantity(float(value[0]), str(value[1]))
    if not isinstance(value, str):
        raise PydanticCustomError("quantity", "expected a quantity with its unit, such as "
                                  "\"1e3 m^3/(mol*s)\"")
    try:
        quantity = registry().Quantity(value.strip()).to_base_units()
    except Exception:  # pint raises several unrelated types for unparsable text
        raise PydanticCustomError("quantity", "cannot read '{value}' as a quantity",
                                  {"value": value}) from None
    return SIQuantity(float(f"{quantity.magnitude:.15g}"), str(quantity.units))


AnyQuantity = Annotated[SIQuantity, BeforeValidator(to_si_quantity)]
Length = Annotated[float, quantity("length")]
Area = Annotated[float, quantity("area")]
Concentration = Annotated[float, quantity("concentration")]
SurfaceChargeDensity = Annotated[float, quantity("surface charge density")]
Voltage = Annotated[float, quantity("voltage")]
ElectricField = Annotated[float, quantity("electric field")]
Frequency = Annotated[float, quantity("frequency")]
Time = Annotated[float, quantity("time")]
Temperature = Annotated[float, quantity("temperature")]
Diffusivity = Annotated[float, quantity("diffusivity")]
RateConstant = Annotated[float, quantity("rate constant")]
AssociationRateConstant = Annotated[float, quantity("association rate constant")]
Current = Annotated[float, quantity("current")]
CurrentDensity = Annotated[float, quantity("current density")]
Capacitance = Annotated[float, quantity("capacitance")]
SpecificCapacitance = Annotated[float, quantity("specific capacitance")]
Conductance = Annotated[float, quantity("conductance")]
SpecificConductance = Annotated[float, quantity("specific conductance")]
