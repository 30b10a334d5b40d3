"""Case-file sections of a slit: ``[geometry]``, ``[mesh]``, ``[electrolyte]``, ``[[reactions]]``
and ``[boundary]`` (values in SI units).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ionslit.case.section import CasePath, Name, PositiveLength, Section
from ionslit.case.units import (
    AnyQuantity,
    Diffusivity,
    ElectricField,
    Length,
    SurfaceChargeDensity,
    Temperature,
    Voltage,
    to_si,
)


# ---------------------------------------------------------------------------------- geometry
class SlitGeometrySection(Section):
    """Planar 2D cross-section: slit of length x height between rectangular reservoirs."""

    kind: Literal["slit"]
    length: Length
    height: Length
    reservoir_length: Length
    reservoir_height: Length
    mouth_radius: Length = 0.0
    depth: Length = 1.0


class ConeGeometrySection(Section):
    """Axisymmetric conical channel between cylindrical reservoirs."""

    kind: Literal["cone"]
    length: Length
    tip_radius: Length
    base_radius: Length
    reservoir_length: Length
    reservoir_radius: Length
    mouth_radius: Length = 0.0


class SlitPlaneGeometrySection(Section):
    """In-plane view of an ångström slit; ``height`` is the sheet spacing (layer depth)."""

    kind: Literal["slit_plane"]
    length: Length
    width: Length
    height: Length
    reservoir_length: Length
    reservoir_width: Length
    mouth_radius: Length = 0.0


class Slit3DGeometrySection(Section):
    """3D slab slit between box reservoirs."""

    kind: Literal["slit3d"]
    length: Length
    width: Length
    height: Length
    reservoir_length: Length
    reservoir_width: Length
    reservoir_height: Length


GeometrySection = Annotated[
    SlitGeometrySection | ConeGeometrySection | SlitPlaneGeometrySection | Slit3DGeometrySection,
    Field(discriminator="kind"),
]


class MeshSection(Section):
    """Cell sizes: at charged walls a fraction of the Debye length unless ``wall_size`` is given."""

    cells_per_debye_length: float = Field(default=4.0, gt=0)
    wall_size: PositiveLength | None = None
    max_size: PositiveLength | None = None
    mouth_size: PositiveLength | None = None
    cells_across_slit: int = Field(default=8, ge=1)
    growth: float = Field(default=1.3, gt=1.0, le=3.0)
    cache_dir: CasePath | None = None


# ------------------------------------------------------------------------------- electrolyte
def _concentration_or_equilibrium(value: Any) -> Any:
    return value if value == "equilibrium" else to_si(value, "concentration")


ConcentrationOrEquilibrium = Annotated[
    float | Literal["equilibrium"], BeforeValidator(_concentration_or_equilibrium)
]


RegionNames = Annotated[Name | list[Name], Field(min_length=1)]


class SpeciesSection(Section):
    """An ion or a cluster: valence, diffusivity (0 for immobile) and bulk concentrations.

    ``region`` (a cell group, e.g. "slit", or a list of them): an immobile species that exists
    only there (charged sites bound to the sheets and their pairs); ``concentration`` is then
    its value inside the region ("equilibrium": none of it before the reactions form it) and it
    is 0 elsewhere, with no reservoir condition (docs/theory.md#regions)."""

    name: Name
    valence: int
    diffusivity: Annotated[Diffusivity, Field(ge=0)]
    concentration: ConcentrationOrEquilibrium | None = None
    concentration_left: ConcentrationOrEquilibrium | None = None
    concentration_right: ConcentrationOrEquilibrium | None = None
    region: RegionNames | None = None

    @model_validator(mode="after")
    def _both_reservoirs_known(self) -> SpeciesSection:
        if self.region is not None:
            if self.diffusivity != 0:
                raise ValueError(f"species '{self.name}': only immobile species (diffusivity "
                                 "'0 m^2/s') can be restricted to a region")
            if self.concentration is None or self.concentration_left is not None \
                    or self.concentration_right is not None:
                raise ValueError(f"species '{self.name}' (region {self.region!r}): give its "
                                 "value inside the region as 'concentration' (no "
                                 "concentration_left/right: it is not in the reservoirs)")
        for side in ("left", "right"):
            value = self.reservoir_value(side)
            if value is None and self.concentration is None:
                raise ValueError(
                    f"species '{self.name}': give 'concentration' (both reservoirs) "
                    f"or 'concentration_{side}'"
                )
            if isinstance(value, float) and value < 0:
                raise ValueError(f"species '{self.name}': concentration_{side} must be >= 0")
        if isinstance(self.concentration, float) and self.concentration < 0:
            raise ValueError(f"species '{self.name}': concentration must be >= 0")
        return self

    def reservoir_value(self, side: Literal["left", "right"]) -> float | str | None:
        """``concentration_left`` or ``concentration_right`` as written (None if not given)."""
        return self.concentration_left if side == "left" else self.concentration_right

    def reservoir_concentration(self, side: Literal["left", "right"]) -> float | str:
        """Bulk concentration (mol/m^3) in the given reservoir, or "equilibrium"."""
        value = self.reservoir_value(side)
        if value is not None:
            return value
        assert self.concentration is not None, "validated: a reservoir value or 'concentration'"
        return self.concentration


class ElectrolyteSection(Section):
    """Solvent properties and the list of species."""

    temperature: Annotated[Temperature, Field(gt=0)] = 298.15
    relative_permittivity: float = Field(default=78.4, gt=0)
    species: list[SpeciesSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> ElectrolyteSection:
        names = [s.name for s in self.species]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"species names must be unique; repeated: {', '.join(duplicates)}")
        return self


# --------------------------------------------------------------------------------- reactions
class DissociationLawSection(Section):
    """Field dependence f(|E|) of the dissociation rate k_d = k_d0 f(|E|), E in V/m
    (docs/theory.md#dissociation-laws)."""

    kind: Literal["constant", "onsager", "power", "table"] = "constant"
    field: Annotated[ElectricField, Field(gt=0)] | None = None
    exponent: float | None = Field(default=None, gt=0)
    saturation: Annotated[ElectricField, Field(gt=0)] | None = None
    file: CasePath | None = None


class ReactionSection(Section):
    """A reaction such as "Ca + SO4 <-> CaSO4" with mass-action kinetics
    (docs/theory.md#mass-action).

    Rate constants are quantities whose unit follows the reaction's orders (checked against the
    equation): k_a in (mol/m^3)^(1 - n_reactants)/s (m^3/(mol s) for A + B), K_d in
    (mol/m^3)^(n_reactants - n_products) (mol/m^3 for A + B <-> P), k_d0 in
    (mol/m^3)^(1 - n_products)/s. ``lumped_field = true``: the law sees the slit's mean field
    |V| / L (applied voltage over the geometry's length, docs/theory.md#lumped-field) instead
    of the local |E| (needed for a law that falls with the field: see MassActionReaction).
    """

    equation: str
    association_rate: AnyQuantity
    dissociation_constant: AnyQuantity | None = None
    dissociation_rate: AnyQuantity | None = None
    law: DissociationLawSection = DissociationLawSection()
    region: RegionNames | None = None  # cell group(s) the reaction runs in (None: everywhere)
    lumped_field: bool = False

    @model_validator(mode="after")
    def _one_dissociation_parameter(self) -> ReactionSection:
        if (self.dissociation_constant is None) == (self.dissociation_rate is None):
            raise ValueError(
                f"reaction '{self.equation}': give exactly one of 'dissociation_constant' "
                "(K_d) and 'dissociation_rate' (k_d0)"
            )
        return self


# ---------------------------------------------------------------------------------- boundary
class WallSection(Section):
    """A wall carries either a surface charge density or a fixed surface potential."""

    surface_charge: SurfaceChargeDensity | None = None
    surface_potential: Voltage | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> WallSection:
        if (self.surface_charge is None) == (self.surface_potential is None):
            raise ValueError("give exactly one of 'surface_charge' and 'surface_potential'")
        return self


class BoundarySection(Section):
    """Electrode ends (potential V(t) on ``left``, 0 on ``right``) and charged walls by name."""

    left: str = "reservoir_left"
    right: str = "reservoir_right"
    walls: dict[str, WallSection] = {}
