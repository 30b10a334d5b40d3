"""Poisson-Nernst-Planck residuals in UFL, written like the equations (scaled units, see scales.py).

    Poisson:        -div(grad phi) = K (sum_i z_i c_i + rho_extra / (F c0))
    Nernst-Planck:  dc_i/dt + div j_i = sum_r nu_{i,r} R_r,
                    j_i = -D_i (grad c_i + z_i c_i grad phi)

Weak forms (tested with v, weighted by r in axisymmetric coordinates):

    P(v)   = (grad phi, grad v) - K (sum_i z_i c_i, v) - sum_walls <sigma_w, v>_w
    N_i(v) = (dc_i/dt - S_i, v) - (j_i, grad v)

Integrating by parts, N_i(v) = -<j_i . n, v> on the boundary and P(v) = <dphi/dn, v>: the
electrode currents and charges are these functionals tested with a function equal to 1 on the
electrode (see observables.py). Every formulation (log, primitive) goes through the same code:
only c(u) differs (formulations.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dolfinx
import numpy as np
import ufl

from ionslit.meshes.slit_mesh import SlitMesh
from ionslit.solvers.constants import FARADAY_CONSTANT
from ionslit.solvers.formulations import Formulation
from ionslit.solvers.reactions import SourceContext, VolumeSource
from ionslit.solvers.scales import Scales


def nernst_planck_flux(c, valence, diffusivity, grad_c, grad_phi):
    """The Nernst-Planck flux j = -D (grad c + z c grad phi) (scaled: phi in V_T)."""
    return -diffusivity * (grad_c + valence * c * grad_phi)


class ScaledDomain:
    """A SlitMesh seen in scaled units: gradients in 1/L0, integrals in L0^d, and the weight.

    The mesh stays in metres; ``grad`` multiplies by L0 and ``integral``/``boundary_integral``
    divide by L0^d / L0^(d-1) so that integrals are those of the scaled problem. In axisymmetric
    coordinates (x axial, y radial) integrands carry r^ = y / L0 (the 2 pi is in ``si_factor``).
    """

    def __init__(self, slit_mesh: SlitMesh, scales: Scales, quadrature_degree: int = 2):
        self.slit_mesh = slit_mesh
        self.mesh = slit_mesh.mesh
        self.scales = scales
        self.dim = self.mesh.topology.dim
        self.quadrature_degree = quadrature_degree
        self.x = ufl.SpatialCoordinate(self.mesh)  # m
        L0 = scales.length
        if slit_mesh.coordinates == "axisymmetric":
            if self.dim != 2:
                raise ValueError("axisymmetric meshes must be 2D (x axial, y radial)")
            self.geometric_weight = self.x[1] / L0
        else:
            self.geometric_weight = 1.0
        self._volume_weight = self.geometric_weight * L0 ** (-self.dim)
        self._surface_weight = self.geometric_weight * L0 ** (1 - self.dim)

    @property
    def si_factor(self) -> float:
        """Factor turning a scaled d-dimensional integral (times L0^d) into a physical one:
        out-of-plane depth (m, planar 2D; m^2 cross-section for 1D), 2 pi L0 (axisymmetric,
        m; the r^ weight is in the integrand), or 1 (3D)."""
        if self.slit_mesh.coordinates == "axisymmetric":
            return 2 * np.pi * self.scales.length
        if self.dim == 3:
            return 1.0
        return float(self.slit_mesh.depth)

    def grad(self, f):
        """Scaled gradient grad^ = L0 grad."""
        return self.scales.length * ufl.grad(f)

    def integral(self, integrand, group: str | None = None, degree: int | None = None):
        """Scaled volume integral of ``integrand`` over ``group`` (the whole mesh if None)."""
        md = {"quadrature_degree": self.quadrature_degree if degree is None else degree}
        return integrand * self._volume_weight * self.slit_mesh.dx(group, metadata=md)

    def boundary_integral(self, integrand, group: str, degree: int | None = None):
        """Scaled integral over the boundary group ``group``."""
        md = {"quadrature_degree": self.quadrature_degree if degree is None else degree}
        return integrand * self._surface_weight * self.slit_mesh.ds(group, metadata=md)


@dataclass
class PNPParameters:
    """Everything that changes between solves, as fem.Constants (scaled units) so that the
    compiled forms are reused: applied potential, wall data, reservoir values of the unknowns,
    BDF coefficients, time and the steady-state regularisation of immobile species."""

    electrode_potential: dolfinx.fem.Constant  # V_left / V_T (voltage mode)
    surface_charge: dict[str, dolfinx.fem.Constant]  # sigma / sigma0 per wall
    surface_potential: dict[str, dolfinx.fem.Constant]  # zeta / V_T per wall
    reservoir_unknown: dict[tuple[str, str], dolfinx.fem.Constant]  # (species, side) -> u
    bdf: tuple[dolfinx.fem.Constant, dolfinx.fem.Constant, dolfinx.fem.Constant]  # 1/t^
    time: dolfinx.fem.Constant  # s (SI): the new time level, for source terms
    steady_regularisation: dict[str, dolfinx.fem.Constant]  # species -> 0 or 1

    @staticmethod
    def create(mesh, species: Sequence[str], walls_charge: Sequence[str],
               walls_potential: Sequence[str]) -> PNPParameters:
        def const(value=0.0):
            return dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(value))

        return PNPParameters(
            electrode_potential=const(),
            surface_charge={w: const() for w in walls_charge},
            surface_potential={w: const() for w in walls_potential},
            reservoir_unknown={(s, side): const() for s in species for side in ("left", "right")},
            bdf=(const(), const(), const()),
            time=const(),
            steady_regularisation={s: const() for s in species},
        )

    def continuation_values(self) -> dict:
        """Current values of the parameters that steady continuation ramps."""
        values: dict[tuple[str, ...], float] = {("V",): float(self.electrode_potential.value)}
        values.update({("sigma", w): float(c.value) for w, c in self.surface_charge.items()})
        values.update({("zeta", w): float(c.value) for w, c in self.surface_potential.items()})
        values.update({("u",) + k: float(c.value) for k, c in self.reservoir_unknown.items()})
        return values

    def assign(self, values: Mapping) -> None:
        """Set the continuation parameters from a dict like ``continuation_values()``."""
        for key, value in values.items():
            kind = key[0]
            if kind == "V":
                self.electrode_potential.value = value
            elif kind == "sigma":
                self.surface_charge[key[1]].value = value
            elif kind == "zeta":
                self.surface_potential[key[1]].value = value
            elif kind == "u":
                self.reservoir_unknown[key[1:]].value = value


@dataclass(frozen=True)
class SpeciesData:
    """Scaled species data the forms need: valence, D / D0, mobility flag."""

    name: str
    valence: float
    diffusivity: float  # D / D0

    @property
    def is_mobile(self) -> bool:
        return self.diffusivity > 0


class PNPResiduals:
    """The PNP residual functionals for one state (phi = phi_h + V psi_left).

    ``state`` is the mixed Function (phi_h, u_1, ..., u_n); ``electrode_potential`` the scaled V of
    the driven electrode (a Constant in voltage mode, a real-space Function under a current
    clamp); ``lift`` the P1 function equal to 1 on the driven electrode's nodes (None without one).
    ``history`` holds the two previous time levels (mixed Functions).
    """

    def __init__(self, domain: ScaledDomain, species: Sequence[SpeciesData],
                 formulation: Formulation, parameters: PNPParameters, state, history,
                 electrode_potential, lift, sources: Sequence[VolumeSource] = (),
                 field_smoothing: float = 1e-6):
        self.domain = domain
        self.species = tuple(species)
        self.formulation = formulation
        self.parameters = parameters
        scales = domain.scales
        self.poisson_coefficient = scales.poisson_coefficient

        fields = ufl.split(state)
        self.potential = fields[0] if lift is None else fields[0] + electrode_potential * lift
        self.unknowns = fields[1:]
        self.concentrations = [formulation.concentration(u) for u in self.unknowns]
        self.previous_concentrations = [
            [formulation.concentration(u) for u in ufl.split(h)[1:]] for h in history]

        grad = domain.grad
        self.field_magnitude = ufl.sqrt(ufl.dot(grad(self.potential), grad(self.potential))
                                        + field_smoothing**2)  # |E| / E0, smooth at E = 0

        # Volumetric sources, given in SI by the source objects and scaled here.
        context = SourceContext(
            concentrations={s.name: scales.concentration * c
                            for s, c in zip(self.species, self.concentrations, strict=True)},
            potential=scales.potential * self.potential,
            field_magnitude=scales.field * self.field_magnitude,
            x=domain.x, time=parameters.time,
            voltage_magnitude=scales.potential * ufl.sqrt(electrode_potential**2
                                                          + field_smoothing**2))
        self.species_sources = {s.name: 0 for s in self.species}
        self.extra_charge = 0
        for source in sources:
            for name, rate in source.species_rates(context).items():
                self.species_sources[name] = self.species_sources[name] + rate / scales.rate
            rho = source.charge_density(context)
            if rho is not None:
                self.extra_charge = self.extra_charge + rho / (
                    FARADAY_CONSTANT * scales.concentration)

    # -- the two equations ---------------------------------------------------------------------
    def flux(self, i: int):
        """Scaled Nernst-Planck flux of species i."""
        s, c = self.species[i], self.concentrations[i]
        grad = self.domain.grad
        return nernst_planck_flux(c, s.valence, s.diffusivity, grad(c), grad(self.potential))

    def charge_density(self):
        """Scaled charge density sum_i z_i c_i (+ extra source charge), in units of F c0."""
        return sum(s.valence * c for s, c in zip(self.species, self.concentrations, strict=True)) \
            + self.extra_charge

    def time_derivative(self, i: int):
        """BDF approximation of dc_i/dt (zero in steady mode: all coefficients 0)."""
        b0, b1, b2 = self.parameters.bdf
        c = self.concentrations[i]
        c_n, c_nm1 = (h[i] for h in self.previous_concentrations)
        return b0 * c + b1 * c_n + b2 * c_nm1

    def poisson(self, v, factor=1.0):
        """P(v) = (grad phi, grad v) - K (rho, v) - sum_w <sigma_w, v>_w.

        ``factor`` multiplies the integrand but stays out of grad (e.g. a real-space test
        function, which is constant)."""
        d, grad = self.domain, self.domain.grad
        form = d.integral(factor * (ufl.dot(grad(self.potential), grad(v))
                                    - self.poisson_coefficient * self.charge_density() * v))
        for wall, sigma in self.parameters.surface_charge.items():
            form -= d.boundary_integral(factor * sigma * v, wall)
        return form

    def nernst_planck(self, i: int, v, factor=1.0):
        """N_i(v) = (dc_i/dt - S_i, v) - (j_i, grad v) (+ steady regularisation of immobile c);
        ``factor`` as in ``poisson``."""
        d, s = self.domain, self.species[i]
        c, c_n = self.concentrations[i], self.previous_concentrations[0][i]
        volume_terms = self.time_derivative(i) - self.species_sources[s.name]
        if not s.is_mobile:
            # Immobile species: dc/dt = S. In steady mode and without reactions this would be
            # 0 = 0; the regularisation (1 exactly then, 0 otherwise) keeps c at its last value.
            volume_terms += self.parameters.steady_regularisation[s.name] * (c - c_n)
            return d.integral(factor * volume_terms * v)
        return d.integral(factor * (volume_terms * v - ufl.dot(self.flux(i), d.grad(v))))

    def residual(self, tests):
        """The monolithic residual for the mixed test functions (q, w_1, ..., w_n)."""
        q, *w = tests
        return self.poisson(q) + sum(self.nernst_planck(i, wi) for i, wi in enumerate(w))

    # -- electrode functionals (observables.py turns them into amperes) -------------------------
    def ionic_current(self, indicator, factor=1.0):
        """sum_i z_i N_i(indicator): scaled ionic current *into* the electrolyte through the
        electrode where ``indicator`` = 1 (indicator 0 on the other electrode)."""
        return sum(self.nernst_planck(i, indicator, factor * s.valence)
                   for i, s in enumerate(self.species) if s.valence != 0)

    def electrode_charge(self, indicator, factor=1.0):
        """P(indicator) / K: scaled charge (units F c0 L0^d) on the electrode where
        indicator = 1."""
        return self.poisson(indicator, factor * (1.0 / self.poisson_coefficient))
