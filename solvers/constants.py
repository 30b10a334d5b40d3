"""Physical constants in SI units, in one place.

The SI (2019 redefinition) fixes e, k_B, N_A (and h, c) exactly; the Faraday and gas constants
follow exactly from them. The vacuum permittivity is no longer exact: the CODATA 2022
recommended value is used (relative standard uncertainty 1.6e-10, far below anything a
continuum model resolves).
"""

from __future__ import annotations

ELEMENTARY_CHARGE = 1.602176634e-19  # C, exact (SI 2019)
BOLTZMANN_CONSTANT = 1.380649e-23  # J/K, exact (SI 2019)
AVOGADRO_CONSTANT = 6.02214076e23  # 1/mol, exact (SI 2019)
FARADAY_CONSTANT = ELEMENTARY_CHARGE * AVOGADRO_CONSTANT  # C/mol (= 96485.33212... exact)
GAS_CONSTANT = BOLTZMANN_CONSTANT * AVOGADRO_CONSTANT  # J/(mol K) (= 8.314462618... exact)
VACUUM_PERMITTIVITY = 8.8541878188e-12  # F/m, CODATA 2022

ROOM_TEMPERATURE = 298.15  # K, the project's default temperature (25 C)
WATER_RELATIVE_PERMITTIVITY = 78.4  # dimensionless, water at 25 C


def thermal_voltage(temperature: float) -> float:
    """V_T = k_B T / e = R T / F (V) at ``temperature`` (K); 25.69 mV at 298.15 K."""
    return BOLTZMANN_CONSTANT * temperature / ELEMENTARY_CHARGE
