"""The electrolyte: ionic (and neutral) species, temperature and permittivity, in SI units."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ionslit.solvers.constants import (
    FARADAY_CONSTANT,
    ROOM_TEMPERATURE,
    VACUUM_PERMITTIVITY,
    WATER_RELATIVE_PERMITTIVITY,
    thermal_voltage,
)

Side = Literal["left", "right"]


def region_names(region) -> tuple[str, ...]:
    """The cell groups a ``region`` value names: one name, several, or none (None)."""
    if region is None:
        return ()
    return (region,) if isinstance(region, str) else tuple(region)

@dataclass(frozen=True)
class Species:
    """One dissolved species.

    ``valence`` is the charge number z (e.g. +1, -2, 0 for a neutral pair); ``diffusivity``
    D (m^2/s) may be 0 for an immobile species (its Nernst-Planck equation reduces to
    dc/dt = sources, and it needs no reservoir condition); ``concentration_left`` /
    ``concentration_right`` are the bulk concentrations (mol/m^3, 1 mM = 1 mol/m^3) held at the
    left and right reservoir ends (electrodes).

    ``region``: a cell group name (or several) for a species that exists only there, e.g.
    charged sites bound to the sheets of the slit (``"slit"``). Such a species must be immobile;
    its two concentrations are then both its initial value *inside* the region (0 outside); it
    has no boundary condition, counts in a reservoir's electroneutrality only if its region
    holds that electrode (``at_electrode``), and ``ionslit.solvers.kinetics.regions`` says how the model
    restricts it.
    """

    name: str
    valence: float
    diffusivity: float  # m^2/s
    concentration_left: float  # mol/m^3
    concentration_right: float  # mol/m^3
    region: str | tuple[str, ...] | None = None

    def __post_init__(self):
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"species name {self.name!r}: use letters, digits and '_' only")
        if self.diffusivity < 0:
            raise ValueError(f"species {self.name}: diffusivity {self.diffusivity} m^2/s < 0")
        for side, value in (("left", self.concentration_left),
                            ("right", self.concentration_right)):
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"species {self.name}: concentration_{side} = {value} mol/m^3 "
                                 "must be finite and >= 0")
        if self.region is not None:
            regions = region_names(self.region)
            if not regions or not all(isinstance(r, str) and r for r in regions):
                raise ValueError(f"species {self.name}: region {self.region!r} must name one or "
                                 "more cell groups")
            object.__setattr__(self, "region", regions[0] if len(regions) == 1 else regions)
            if self.diffusivity != 0:
                raise ValueError(f"species {self.name}: only immobile species (diffusivity 0) "
                                 f"can be restricted to a region (region = {self.region!r})")

    @property
    def regions(self) -> tuple[str, ...]:
        """The cell groups the species is restricted to (empty: everywhere)."""
        return region_names(self.region)

    @property
    def in_reservoirs(self) -> bool:
        """False for a species restricted to a region (it has no reservoir values)."""
        return self.region is None

    def at_electrode(self, side: Side) -> bool:
        """True if the species is present where the ``side`` electrode is: every species
        without a region, and region species whose region is ``fluid`` or the reservoir cell
        group ``reservoir_<side>_bulk`` of the slit geometries (e.g. fixed sites of
        ion-exchange contacts); they count in that reservoir's electroneutrality."""
        return self.region is None or bool({"fluid", f"reservoir_{side}_bulk"}
                                           & set(self.regions))

    @property
    def is_mobile(self) -> bool:
        """False for D = 0 (immobile clusters/pairs)."""
        return self.diffusivity > 0

    def concentration(self, side: Side) -> float:
        """Bulk concentration (mol/m^3) in the ``left`` or ``right`` reservoir."""
        return self.concentration_left if side == "left" else self.concentration_right


@dataclass(frozen=True)
class Electrolyte:
    """Species plus the solvent's temperature (K) and relative permittivity."""

    species: tuple[Species, ...]
    temperature: float = ROOM_TEMPERATURE  # K
    relative_permittivity: float = WATER_RELATIVE_PERMITTIVITY

    def __post_init__(self):
        object.__setattr__(self, "species", tuple(self.species))
        if not self.species:
            raise ValueError("the electrolyte needs at least one species")
        names = [s.name for s in self.species]
        if len(set(names)) != len(names):
            raise ValueError(f"species names must be unique, got {names}")
        if self.temperature <= 0 or self.relative_permittivity <= 0:
            raise ValueError("temperature (K) and relative permittivity must be > 0")
        for side in ("left", "right"):  # species restricted to a region are not in reservoirs
            charge = sum(s.valence * s.concentration(side) for s in self.species
                         if s.at_electrode(side))
            scale = sum(abs(s.valence) * s.concentration(side) for s in self.species
                        if s.at_electrode(side))
            if scale > 0 and abs(charge) > 1e-6 * scale:
                raise ValueError(
                    f"the {side} reservoir is not electroneutral: sum z_i c_i = {charge:.6g} "
                    f"mol/m^3 (sum |z_i| c_i = {scale:.6g}); adjust the bulk concentrations")
        if not any(s.valence != 0 and s.is_mobile for s in self.species):
            raise ValueError("the electrolyte needs at least one mobile charged species")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    def __getitem__(self, name: str) -> Species:
        for s in self.species:
            if s.name == name:
                return s
        raise KeyError(f"no species {name!r}; the electrolyte has {list(self.names)}")

    @property
    def thermal_voltage(self) -> float:
        """V_T = R T / F (V)."""
        return thermal_voltage(self.temperature)

    @property
    def permittivity(self) -> float:
        """eps0 eps_r (F/m)."""
        return VACUUM_PERMITTIVITY * self.relative_permittivity

    def ionic_strength(self, side: Side) -> float:
        """I = 1/2 sum z_i^2 c_i (mol/m^3) in a reservoir."""
        return 0.5 * sum(s.valence**2 * s.concentration(side) for s in self.species
                         if s.in_reservoirs)

    def conductivity(self, side: Side) -> float:
        """Bulk conductivity kappa = (F^2 / R T) sum z_i^2 D_i c_i (S/m) in a reservoir."""
        return FARADAY_CONSTANT / self.thermal_voltage * sum(
            s.valence**2 * s.diffusivity * s.concentration(side) for s in self.species
            if s.in_reservoirs)


def debye_length(electrolyte: Electrolyte, side: Side | None = None) -> float:
    """Debye length lambda_D = sqrt(eps R T / (2 F^2 I)) (m).

    With ``side`` None, the smaller of the two reservoirs' values (the one that sets the mesh
    size at charged walls). Infinite for a reservoir without ions.
    """
    sides: tuple[Side, ...] = ("left", "right") if side is None else (side,)
    strength = max(electrolyte.ionic_strength(s) for s in sides)
    if strength <= 0:
        return math.inf
    return math.sqrt(electrolyte.permittivity * electrolyte.thermal_voltage
                     / (2 * FARADAY_CONSTANT * strength))


def gouy_chapman_length(electrolyte: Electrolyte, surface_charge_density: float,
                        valence: float = 1.0) -> float:
    """Gouy-Chapman length l_GC = 2 eps V_T / (|z| |sigma|) (m) = e / (2 pi l_B |z sigma|).

    The second resolution scale at a charged wall (0.36 nm at 0.1 C/m^2 in water at 25 C).
    """
    if surface_charge_density == 0:
        return math.inf
    return 2 * electrolyte.permittivity * electrolyte.thermal_voltage / (
        abs(valence) * abs(surface_charge_density))
