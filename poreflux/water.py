"""Liquid water: one permittivity model and one viscosity model, valid 273.15-373.15 K.

Every default water permittivity in poreflux is :data:`EPS_WATER_25C` (the Malmberg-Maryott value
at 25 degC); studies that follow the temperature scale it by :func:`water_permittivity`.
"""

from __future__ import annotations

from poreflux.validation import check_temperature

__all__ = [
    "EPS_WATER_25C",
    "ETA_WATER_25C",
    "REFERENCE_TEMPERATURE",
    "water_permittivity",
    "water_viscosity",
]

#: Temperature of the library diffusion coefficients and of the water defaults [K] (25 degC).
REFERENCE_TEMPERATURE = 298.15


def water_viscosity(temperature: float) -> float:
    """Dynamic viscosity of liquid water [Pa s] at ``temperature`` [K].

    Vogel equation ``eta = A 10^(B / (T - C))`` with A = 2.414e-5 Pa s, B = 247.8 K, C = 140 K
    (the correlation quoted with the CRC Handbook viscosity table; within ~1% of the tabulated
    values between 273 and 373 K: 0.890 mPa s at 25 degC, 0.692 mPa s at 37 degC).
    """
    t = check_temperature(temperature, "water viscosity temperature", water=True)
    return 2.414e-5 * 10.0 ** (247.8 / (t - 140.0))


def water_permittivity(temperature: float) -> float:
    """Static relative permittivity of liquid water at ``temperature`` [K].

    Malmberg and Maryott, J. Res. Natl. Bur. Stand. 56, 1 (1956):
    ``eps = 87.740 - 0.40008 t + 9.398e-4 t^2 - 1.410e-6 t^3`` with ``t`` in degC, 0-100 degC
    (78.30 at 25 degC, 74.15 at 37 degC).
    """
    t = check_temperature(temperature, "water permittivity temperature", water=True)
    c = t - 273.15
    return 87.740 - 0.40008 * c + 9.398e-4 * c**2 - 1.410e-6 * c**3


#: Relative permittivity of water at 25 degC (78.30): the default wherever water is meant.
EPS_WATER_25C: float = water_permittivity(REFERENCE_TEMPERATURE)

#: Viscosity of water at 25 degC [Pa s] (0.890 mPa s).
ETA_WATER_25C: float = water_viscosity(REFERENCE_TEMPERATURE)
