"""The one check per kind of parameter, used wherever a value enters poreflux.

Every check returns the value as a plain ``float`` and raises :class:`poreflux.errors.InputError`
(a ``ValueError``) with a message that names the input and says what to give instead. The ranges
are written here once: a temperature is finite and positive; where a water model is used
(permittivity or viscosity following the temperature) it must also lie in the liquid range of
:data:`poreflux.water.LIQUID_WATER_K`.
"""

from __future__ import annotations

import math
from typing import Any

from poreflux.errors import InputError

__all__ = ["check_finite", "check_positive", "check_temperature"]

#: Liquid water at 1 atm [K]: the range of the water correlations in :mod:`poreflux.water`.
LIQUID_WATER_K: tuple[float, float] = (273.15, 373.15)


def _as_float(value: Any, name: str, unit: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number{_in(unit)}, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite{_in(unit)}, got {value!r}")
    return number


def _in(unit: str) -> str:
    return f" in {unit}" if unit else ""


def check_finite(value: Any, name: str, unit: str = "") -> float:
    """``value`` as a finite float, else :class:`InputError` naming ``name``."""
    return _as_float(value, name, unit)


def check_positive(value: Any, name: str, unit: str = "") -> float:
    """``value`` as a finite float > 0, else :class:`InputError` naming ``name``."""
    number = _as_float(value, name, unit)
    if number <= 0:
        raise InputError(f"{name} must be > 0{_in(unit)}, got {value!r}")
    return number


def check_temperature(value: Any, name: str = "temperature", *, water: bool = False) -> float:
    """A temperature [K]: finite and > 0; with ``water=True`` also liquid water (273.15-373.15 K).

    Parameters
    ----------
    value
        The temperature as given by the user [K].
    name
        How the message names the input (e.g. ``"temperature_K of the study"``).
    water
        True where a water model (permittivity or viscosity as a function of T) will be
        evaluated at this temperature.
    """
    t = _as_float(value, name, "K")
    if t <= 0:
        raise InputError(f"{name} must be > 0 K, got {value!r} (e.g. 298.15 for 25 degC)")
    low, high = LIQUID_WATER_K
    if water and not (low <= t <= high):
        raise InputError(
            f"{name} = {t:g} K is outside liquid water ({low:g}-{high:g} K), where the water "
            "permittivity and viscosity models hold; give a temperature in that range or fix "
            "the water properties ('fixed' diffusion and permittivity models)"
        )
    return t
