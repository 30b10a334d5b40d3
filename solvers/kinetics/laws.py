"""Field laws of the dissociation rate: k_d(|E|) = k_d0 f(|E|), with f(0) = 1
(docs/theory.md#dissociation-laws).

- ``ConstantLaw``: f = 1.
- ``OnsagerLaw`` (bulk, 3D second Wien effect): f = I_1(2 sqrt(2b)) / sqrt(2b) = 1 + b + b^2/3
  + ..., b = |z_A z_B| e^3 |E| / (8 pi eps0 eps_r k_B^2 T^2) (b = 5.56 at 1e8 V/m for z = +-2 in
  water at 25 C). UFL has ``bessel_I`` but FFCx cannot generate code for it, so f is evaluated
  as the power series sum_k (2b)^k / (k! (k+1)!) (32 terms, Horner) for b < 50 and as the
  large-argument expansion 2 e^x / (x sqrt(2 pi x)) sum_k (-1)^k a_k(1) / x^k (x = 2 sqrt(2b),
  15 terms) above; both agree with I_1 to round-off on their ranges, so the switch at b = 50 is
  smooth to round-off. b is capped at 5e4
  (f ~ 1e270; fields of ~1e12 V/m are not physical, and exp() would overflow).
- ``PowerLaw`` (confined, 2D Wien effect): f = 1 + (E_eff / E0)^beta with the optional
  saturation E_eff = |E| / (1 + (|E| / E_sat)^m)^(1/m) (a smooth min(|E|, E_sat); m = 4 by
  default: E_eff = 0.84 E_sat at |E| = E_sat, and within 1e-4 relative of |E| below E_sat / 6),
  so f never exceeds 1 + (E_sat / E0)^beta: double-layer and corner fields (1e8-1e9 V/m) then do
  not make the kinetics absurdly stiff. ``OnsagerLaw`` accepts the same saturation.
- ``TableLaw``: f from a monotone table (E_k, f_k), E in V/m: a monotone C1 cubic (Fritsch-Butland
  slopes, zero slope at E = 0 and at the last point) or piecewise-linear interpolation; constant
  beyond the last point. A table that starts above E = 0 gets the point (0, 1) prepended; one
  that starts at E = 0 must have f = 1 there (K_d is the zero-field constant).

Every law gives f on arrays (``f(E)``, for analysis) and in UFL (``f_ufl(E, constants)``) from
one formula (``factor``). In the weak forms the parameters are ``dolfinx.fem.Constant`` objects
(``create_constants``), so that changing them reuses the compiled forms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import dolfinx
import numpy as np

from ionslit.coupling.tables import pchip_slopes
from ionslit.solvers.constants import BOLTZMANN_CONSTANT, ELEMENTARY_CHARGE, VACUUM_PERMITTIVITY
from ionslit.solvers.kinetics.backend import NUMPY, UFL

# -- Onsager's function -----------------------------------------------------------------------
ONSAGER_SWITCH = 50.0  # b: series below, asymptotic expansion above
ONSAGER_CAP = 5.0e4  # b is capped here (exp(2 sqrt(2b)) ~ 1e274)
_SERIES_TERMS = 32
_ASYMPTOTIC_TERMS = 15


def _asymptotic_coefficients(order: int) -> list[float]:
    """c_k = (-1)^k a_k(nu=1), a_k = prod_{j<=k} (4 - (2j-1)^2) / (k! 8^k)."""
    coefficients, a = [1.0], 1.0
    for k in range(1, order + 1):
        a *= (4 - (2 * k - 1) ** 2) / (8.0 * k)
        coefficients.append((-1) ** k * a)
    return coefficients


_ASYMPTOTIC = _asymptotic_coefficients(_ASYMPTOTIC_TERMS)


def onsager_function(b, ops=NUMPY):
    """Onsager's F(b) = I_1(2 sqrt(2b)) / sqrt(2b) (b >= 0, dimensionless), on arrays
    (ops=NUMPY) or in UFL (ops=UFL); b above ONSAGER_CAP is capped (see the module docstring
    and docs/theory.md#dissociation-laws)."""
    b = ops.if_less(b, ONSAGER_CAP, b, ONSAGER_CAP)
    # Series, on b clipped to the switch (the other branch is selected above it).
    y = 2.0 * ops.if_less(b, ONSAGER_SWITCH, b, ONSAGER_SWITCH)
    series = 1.0
    for k in range(_SERIES_TERMS, 0, -1):
        series = 1.0 + y * (1.0 / (k * (k + 1))) * series
    # Large-argument expansion, on b clipped from below to the switch.
    x = 2.0 * ops.sqrt(2.0 * ops.if_less(b, ONSAGER_SWITCH, ONSAGER_SWITCH, b))
    inverse = 1.0 / x
    tail = _ASYMPTOTIC[-1]
    for c in reversed(_ASYMPTOTIC[:-1]):
        tail = c + inverse * tail
    asymptotic = 2.0 * ops.exp(x) * tail / (x * ops.sqrt(2.0 * math.pi * x))
    return ops.if_less(b, ONSAGER_SWITCH, series, asymptotic)


def onsager_parameter_per_field(valence_product: float, temperature: float,
                                relative_permittivity: float) -> float:
    """b / |E| = |z_A z_B| e^3 / (8 pi eps0 eps_r k_B^2 T^2) (m/V)."""
    e, kT = ELEMENTARY_CHARGE, BOLTZMANN_CONSTANT * temperature
    return abs(valence_product) * e**3 / (
        8 * math.pi * VACUUM_PERMITTIVITY * relative_permittivity * kT**2)


def saturated_field(E, saturation, exponent):
    """Smooth min(E, E_sat): E / (1 + (E / E_sat)^m)^(1/m) (same code for arrays and UFL)."""
    return E / (1.0 + (E / saturation) ** exponent) ** (1.0 / exponent)


def _saturation_parameters(law) -> dict[str, float]:
    """The optional saturation of a law (``saturation``, ``saturation_exponent``) as
    parameters: empty without one."""
    if law.saturation is None:
        return {}
    return {"saturation": law.saturation, "saturation_exponent": law.saturation_exponent}


def _effective_field(E, p: Mapping[str, Any]):
    """|E| seen by a law with parameters ``p``: saturated if ``p`` has a saturation."""
    if "saturation" in p:
        return saturated_field(E, p["saturation"], p["saturation_exponent"])
    return E


# -- the laws ---------------------------------------------------------------------------------
class _Law:
    """Shared machinery: numpy and UFL evaluation, Constants."""

    kind: ClassVar[str] = ""

    def parameters(self) -> dict[str, Any]:
        """Numerical parameters (SI) by name: what ``create_constants`` turns into Constants."""
        return {}

    def factor(self, E, ops, p: Mapping[str, Any]):
        """f(E) for |E| = ``E`` (V/m) with the parameters ``p`` (floats/arrays or Constants)."""
        raise NotImplementedError

    def f(self, field_magnitude) -> np.ndarray:
        """f at field magnitudes |E| (V/m; array or scalar; the sign is ignored)."""
        E = np.abs(np.asarray(field_magnitude, dtype=float))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = self.factor(E, NUMPY, self.parameters())
        return np.array(np.broadcast_to(value, E.shape), dtype=float)

    def f_ufl(self, field_magnitude, constants: Mapping[str, Any] | None = None):
        """f as a UFL expression of the (smooth, > 0) field magnitude (V/m); parameters from
        ``constants`` (``create_constants``), else inlined as numbers."""
        return self.factor(field_magnitude, UFL,
                           self.parameters() if constants is None else constants)

    def create_constants(self, mesh) -> dict[str, Any]:
        """The parameters as dolfinx Constants on ``mesh``."""
        scalar = dolfinx.default_scalar_type
        return {name: dolfinx.fem.Constant(mesh, np.asarray(value, dtype=scalar))
                for name, value in self.parameters().items()}

    def assign_constants(self, constants: Mapping[str, Any]) -> None:
        """Put this law's parameter values into Constants made by an equivalent law (same kind,
        same structure: saturation or not, same table length)."""
        values = self.parameters()
        if set(values) != set(constants):
            raise ValueError(f"{self.kind} law with parameters {sorted(values)} cannot update "
                             f"Constants {sorted(constants)}: build a new model")
        for name, value in values.items():
            value = np.asarray(value, dtype=float)
            if np.shape(constants[name].value) != value.shape:
                raise ValueError(f"{self.kind} law: parameter {name!r} changed shape "
                                 f"{np.shape(constants[name].value)} -> {value.shape} (e.g. a "
                                 "table of another length): build a new model")
            constants[name].value = value

    def bound(self, valence_product: float, temperature: float,
              relative_permittivity: float) -> _Law:
        """This law with the electrolyte's data filled in where it needs them (Onsager)."""
        return self

    def describe(self) -> dict[str, Any]:
        """kind and parameters (SI, JSON-friendly)."""
        out: dict[str, Any] = {"kind": self.kind}
        for name, value in self.__dict__.items():
            if value is None:
                continue
            out[name] = list(map(float, value)) if isinstance(value, tuple | np.ndarray) \
                else value
        return out


@dataclass(frozen=True)
class ConstantLaw(_Law):
    """f = 1: the dissociation rate does not depend on the field."""

    kind: ClassVar[str] = "constant"

    def factor(self, E, ops, p):
        return 1.0


def _check_saturation(kind: str, saturation, exponent) -> None:
    if saturation is not None and not (saturation > 0 and math.isfinite(saturation)):
        raise ValueError(f"{kind} law: saturation field {saturation} V/m must be > 0")
    if not (exponent > 0 and math.isfinite(exponent)):
        raise ValueError(f"{kind} law: saturation exponent {exponent} must be > 0")


@dataclass(frozen=True)
class PowerLaw(_Law):
    """f = 1 + (E_eff / E0)^beta; ``field`` E0 (V/m), ``exponent`` beta, optional
    ``saturation`` E_sat (V/m) with ``saturation_exponent`` m (see the module docstring)."""

    field: float  # E0, V/m
    exponent: float  # beta
    saturation: float | None = None  # E_sat, V/m
    saturation_exponent: float = 4.0  # m

    kind: ClassVar[str] = "power"

    def __post_init__(self):
        if not (self.field > 0 and math.isfinite(self.field)):
            raise ValueError(f"power law: field E0 = {self.field} V/m must be > 0")
        if not (self.exponent > 0 and math.isfinite(self.exponent)):
            raise ValueError(f"power law: exponent beta = {self.exponent} must be > 0")
        _check_saturation("power", self.saturation, self.saturation_exponent)

    def parameters(self):
        return {"field": self.field, "exponent": self.exponent, **_saturation_parameters(self)}

    def factor(self, E, ops, p):
        return 1.0 + (_effective_field(E, p) / p["field"]) ** p["exponent"]

    @property
    def maximum(self) -> float:
        """sup f: 1 + (E_sat / E0)^beta with saturation, else inf."""
        if self.saturation is None:
            return math.inf
        return 1.0 + (self.saturation / self.field) ** self.exponent


@dataclass(frozen=True)
class OnsagerLaw(_Law):
    """f = F(b) = I_1(2 sqrt(2b)) / sqrt(2b), b = |z_A z_B| e^3 |E_eff| / (8 pi eps0 eps_r k_B^2
    T^2). ``valence_product`` |z_A z_B|, ``temperature`` (K) and ``relative_permittivity`` may be
    left None: ``bound`` (called by the model with the reaction's ions and the electrolyte)
    fills them in. Optional ``saturation`` as for PowerLaw."""

    valence_product: float | None = None
    temperature: float | None = None  # K
    relative_permittivity: float | None = None
    saturation: float | None = None  # V/m
    saturation_exponent: float = 4.0

    kind: ClassVar[str] = "onsager"

    def __post_init__(self):
        for name, value in (("valence_product", self.valence_product),
                            ("temperature", self.temperature),
                            ("relative_permittivity", self.relative_permittivity)):
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ValueError(f"onsager law: {name} = {value} must be > 0")
        _check_saturation("onsager", self.saturation, self.saturation_exponent)

    @property
    def is_bound(self) -> bool:
        return None not in (self.valence_product, self.temperature, self.relative_permittivity)

    def bound(self, valence_product, temperature, relative_permittivity):
        return replace(
            self,
            valence_product=self.valence_product if self.valence_product is not None
            else abs(valence_product),
            temperature=self.temperature if self.temperature is not None else temperature,
            relative_permittivity=self.relative_permittivity
            if self.relative_permittivity is not None else relative_permittivity)

    @property
    def parameter_per_field(self) -> float:
        """b / |E| (m/V)."""
        valence, temperature, permittivity = (self.valence_product, self.temperature,
                                              self.relative_permittivity)
        if valence is None or temperature is None or permittivity is None:
            raise ValueError("onsager law: valence_product, temperature and "
                             "relative_permittivity are needed (give them, or let the model "
                             "bind the law to the reaction's ions and the electrolyte)")
        return onsager_parameter_per_field(valence, temperature, permittivity)

    def parameters(self):
        return {"b_per_field": self.parameter_per_field, **_saturation_parameters(self)}

    def factor(self, E, ops, p):
        return onsager_function(p["b_per_field"] * _effective_field(E, p), ops)


@dataclass(frozen=True)
class TableLaw(_Law):
    """f from a monotone table: ``field`` E_k (V/m, increasing, >= 0) and ``factor_values`` f_k
    (> 0); ``interpolation`` 'pchip' (monotone C1 cubic, default) or 'linear'. See the module
    docstring for the end conditions."""

    field: tuple[float, ...]
    factor_values: tuple[float, ...]
    interpolation: str = "pchip"
    source: str | None = None  # where the table came from (file name), for reports

    kind: ClassVar[str] = "table"

    def __post_init__(self):
        E = np.asarray(self.field, dtype=float).ravel()
        f = np.asarray(self.factor_values, dtype=float).ravel()
        if E.size == 0 or E.size != f.size:
            raise ValueError(f"table law: {E.size} field values and {f.size} factors; give the "
                             "same number (at least one)")
        if not (np.all(np.isfinite(E)) and np.all(np.isfinite(f))):
            raise ValueError("table law: field values and factors must be finite")
        if np.any(E < 0) or np.any(np.diff(E) <= 0):
            raise ValueError("table law: field values must be >= 0 and strictly increasing")
        if np.any(f <= 0):
            raise ValueError("table law: factors f must be > 0")
        if E[0] == 0.0:
            if abs(f[0] - 1.0) > 1e-9:
                raise ValueError(f"table law: f(0) = {f[0]:g}, but f(0) must be 1 (K_d is the "
                                 "zero-field dissociation constant): divide the table by f(0) "
                                 "and multiply K_d by it")
            f = f.copy()
            f[0] = 1.0
        else:
            E, f = np.concatenate([[0.0], E]), np.concatenate([[1.0], f])
        steps = np.diff(f)
        if np.any(steps < 0) and np.any(steps > 0):
            raise ValueError("table law: f must be monotone in |E| (including f(0) = 1, "
                             "prepended when the table starts above 0)")
        if self.interpolation not in ("pchip", "linear"):
            raise ValueError(f"table law: interpolation {self.interpolation!r}: use 'pchip' or "
                             "'linear'")
        object.__setattr__(self, "field", tuple(map(float, E)))
        object.__setattr__(self, "factor_values", tuple(map(float, f)))

    @classmethod
    def from_csv(cls, path: str | Path, interpolation: str = "pchip") -> TableLaw:
        """Read the first two columns (E in V/m, f) of a CSV file ('#' comments and a header
        line allowed; commas or whitespace between columns)."""
        E, f = read_two_columns(path)
        return cls(tuple(E), tuple(f), interpolation, source=str(path))

    def to_csv(self, path: str | Path, comment: str = "") -> None:
        """Write the knots as 'field_V_m,dissociation_factor' (readable by ``from_csv``)."""
        lines = [f"# {line}" for line in comment.splitlines()]
        lines.append("field_V_m,dissociation_factor")
        lines += [f"{E:.10g},{f:.10g}" for E, f in zip(self.field, self.factor_values, strict=True)]
        Path(path).write_text("\n".join(lines) + "\n")

    def parameters(self):
        E, f = np.array(self.field), np.array(self.factor_values)
        if self.interpolation == "linear":
            return {"E": E, "f": f}
        return {"E": E, "f": f, "d": pchip_slopes(E, f, ends="flat")}

    def factor(self, E, ops, p):
        n = len(self.field)
        Ek, fk = p["E"], p["f"]
        result = fk[n - 1]
        for k in range(n - 2, -1, -1):
            h = Ek[k + 1] - Ek[k]
            t = (E - Ek[k]) / h
            if self.interpolation == "linear":
                piece = fk[k] + (fk[k + 1] - fk[k]) * t
            else:
                dk = p["d"]
                s = 1.0 - t
                piece = ((1.0 + 2.0 * t) * s * s * fk[k] + t * s * s * h * dk[k]
                         + t * t * (3.0 - 2.0 * t) * fk[k + 1] - t * t * s * h * dk[k + 1])
            result = ops.if_less(E, Ek[k + 1], piece, result)
        return result

    def describe(self):
        out = {"kind": self.kind, "field": list(self.field),
               "factor_values": list(self.factor_values), "interpolation": self.interpolation}
        if self.source:
            out["source"] = self.source
        return out


DissociationLaw = ConstantLaw | OnsagerLaw | PowerLaw | TableLaw
LAW_KINDS = ("constant", "onsager", "power", "table")


def read_two_columns(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The first two numeric columns of a small CSV/whitespace table ('#' comments, optional
    header line)."""
    rows: list[list[float]] = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        cells = [c for c in text.replace(",", " ").replace(";", " ").split()]
        try:
            values = [float(c) for c in cells[:2]]
        except ValueError:
            if rows:
                raise ValueError(f"{path}:{number}: cannot read numbers from {line!r}") from None
            continue  # a header line
        if len(values) < 2:
            raise ValueError(f"{path}:{number}: expected two columns (E in V/m, value)")
        rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no data rows")
    data = np.array(rows)
    return data[:, 0], data[:, 1]


def make_law(kind: str = "constant", field: float | None = None, exponent: float | None = None,
             saturation: float | None = None, table: tuple | None = None,
             file: str | Path | None = None, **options) -> DissociationLaw:
    """A law from the case file's fields (SI): ``kind`` constant | onsager | power | table;
    ``field`` E0 (V/m) and ``exponent`` beta for power; ``saturation`` E_sat (V/m) for power and
    onsager; ``table`` = (E values, f values) or ``file`` (CSV path) for table. ``options`` go
    to the law's class (e.g. saturation_exponent, interpolation, valence_product). ValueError
    with what is missing or superfluous."""
    given = {name for name, value in (("field", field), ("exponent", exponent),
                                      ("saturation", saturation), ("table", table),
                                      ("file", file)) if value is not None}
    allowed = {"constant": set(), "onsager": {"saturation"},
               "power": {"field", "exponent", "saturation"}, "table": {"table", "file"}}
    if kind not in allowed:
        raise ValueError(f"unknown dissociation law {kind!r}; choose one of {list(LAW_KINDS)}")
    extra = given - allowed[kind]
    if extra:
        raise ValueError(f"the {kind} law does not take {sorted(extra)} (it uses "
                         f"{sorted(allowed[kind]) or 'no parameters'})")
    if kind == "constant":
        return ConstantLaw()
    if kind == "onsager":
        return OnsagerLaw(saturation=saturation, **options)
    if kind == "power":
        if field is None or exponent is None:
            missing = [n for n in ("field", "exponent") if n not in given]
            raise ValueError(f"the power law needs {missing} (f = 1 + (|E| / field)^exponent)")
        return PowerLaw(field, exponent, saturation, **options)
    if file is not None and table is None:
        return TableLaw.from_csv(file, **options)
    if table is not None and file is None:
        E, f = table
        return TableLaw(tuple(np.ravel(E)), tuple(np.ravel(f)), **options)
    raise ValueError("the table law needs exactly one of a table (E, f) and a file")


__all__ = ["ConstantLaw", "DissociationLaw", "LAW_KINDS", "OnsagerLaw", "PowerLaw", "TableLaw",
           "make_law", "onsager_function", "onsager_parameter_per_field",
           "read_two_columns"]
