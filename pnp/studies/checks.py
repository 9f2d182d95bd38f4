"""The checks of a study's parameters, run once on every distinct value before any mesh is built.

Each check names the parameter by its table column (``temperature_K``, ``voltage_mV``, ...) and
raises :class:`StudyInputError`, an :class:`~poreflux.errors.InputError` that also carries that
name (:attr:`StudyInputError.key`), so the TOML reader (:mod:`pnp.studies.config`) can say in
which section and key of the file the bad value was given.

Ranges (written once here, or imported from where the physics is):

- temperature: :func:`poreflux.validation.check_temperature`, with the liquid-water range
  whenever a water model follows the temperature (``diffusion_model = "stokes-einstein"`` or
  ``permittivity_model = "malmberg-maryott"``, the defaults);
- voltage: finite, ``|V| <=`` :data:`pnp.studies.config.MAX_VOLTAGE_MV`;
- surface charge: finite, ``|sigma| <=`` :data:`pnp.problems.electrostatics.MAX_SURFACE_CHARGE`;
- bath concentrations: finite and > 0 (checked where the salt is built,
  :func:`pnp.studies.channel.salt_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pnp.studies.config import MAX_VOLTAGE_MV
from pnp.studies.grid import SURFACE_CHARGE, TEMPERATURE, VOLTAGE
from poreflux.errors import InputError
from poreflux.validation import check_finite, check_temperature

__all__ = ["StudyInputError", "check_conditions", "check_voltage"]


class StudyInputError(InputError):
    """A bad study parameter; :attr:`key` is its name (table column, TOML key or model field).

    Parameters
    ----------
    message
        What is wrong and what to give instead.
    key
        The parameter's name.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    def __reduce__(self) -> tuple[Any, ...]:  # (sent between MPI ranks with its key)
        return (type(self), (str(self), self.key))


def _named(key: str, check: Any, *args: Any, **kwargs: Any) -> float:
    try:
        return check(*args, **kwargs)
    except InputError as exc:
        raise StudyInputError(str(exc), key) from None


def check_voltage(value: Any, name: str = VOLTAGE) -> float:
    """An applied voltage [mV]: finite and within +-:data:`MAX_VOLTAGE_MV`."""
    v = _named(name, check_finite, value, name, "mV")
    if abs(v) > MAX_VOLTAGE_MV:
        raise StudyInputError(
            f"{name} = {v:g} mV is beyond +-{MAX_VOLTAGE_MV:g} mV; the unit is mV (0.1 V = 100)",
            name,
        )
    return v


def check_surface_charge(value: Any, name: str = SURFACE_CHARGE) -> float:
    """A surface charge density [C/m^2]: finite and physical (see the module docstring)."""
    from pnp.problems.electrostatics import MAX_SURFACE_CHARGE

    sigma = _named(name, check_finite, value, name, "C/m^2")
    if abs(sigma) > MAX_SURFACE_CHARGE:
        raise StudyInputError(
            f"{name} = {sigma:g} C/m^2 is an unphysical surface charge (|sigma| > "
            f"{MAX_SURFACE_CHARGE:g} C/m^2); check the unit (1 e/nm^2 = 0.1602 C/m^2)",
            name,
        )
    return sigma


def check_conditions(conditions: Mapping[str, Any], *, water: bool) -> None:
    """Check the temperature, voltage and surface charge of one point (see module docstring).

    Parameters
    ----------
    conditions
        :meth:`pnp.studies.channel.ChannelPNPModel.conditions` of a point.
    water
        True when a water model follows the temperature (liquid-water range enforced).

    Raises
    ------
    StudyInputError
        Naming the parameter and its value.
    """
    _named(TEMPERATURE, check_temperature, conditions[TEMPERATURE], TEMPERATURE, water=water)
    check_voltage(conditions[VOLTAGE])
    check_surface_charge(conditions[SURFACE_CHARGE])
