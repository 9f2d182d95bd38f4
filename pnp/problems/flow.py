"""Plain, frozen description of the fluid flow of a PNP-Stokes (electro-osmosis) problem.

Sign convention (the same as the voltage and the current, :mod:`pnp.problems.transport`): the
pressure difference is ``dp = p_top - p_bottom`` [Pa], and a flow rate is positive when water
moves from the top bath to the bottom bath, so that ``Q = dp / R_hydraulic`` with ``R > 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from poreflux.errors import InputError
from poreflux.validation import check_temperature
from poreflux.water import water_viscosity

#: Largest accepted pressure difference [Pa] (1 GPa: far beyond any nanofluidic experiment).
MAX_PRESSURE_PA = 1e9

#: Name of the pressure-difference parameter in study files and tables (a sweep axis).
PRESSURE_AXIS = "pressure_difference_Pa"

#: Pa -> the solver's pressure unit (MPa, with lengths in nm, velocity in nm/ns, mPa s).
PA_TO_SOLVER = 1e-6


@dataclass(frozen=True)
class FlowProblem:
    """Fluid part of a PNP-Stokes problem.

    Parameters
    ----------
    pressure_difference_Pa
        ``p_top - p_bottom`` [Pa] applied between the bath ends (0: electro-osmosis alone).
    viscosity_mPa_s
        Dynamic viscosity [mPa s]; ``None`` = liquid water at the problem's temperature
        (:func:`poreflux.water.water_viscosity`).
    slip_length_nm
        Navier slip length ``b`` [nm] on the walls (``u_t = b du_t/dn``, ``u . n = 0``); ``None``
        = no slip. Slip walls must be straight lines parallel to the axes (2D) or planes normal
        to a coordinate axis (3D), e.g. a cylindrical pore's wall in (r, z).
    walls
        Names of the wall boundaries; ``None`` = every exterior boundary of the water except the
        bath ends and the symmetry axis.
    """

    pressure_difference_Pa: float = 0.0
    viscosity_mPa_s: float | None = None
    slip_length_nm: float | None = None
    walls: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        dp = _number("pressure_difference_Pa", self.pressure_difference_Pa)
        if abs(dp) > MAX_PRESSURE_PA:
            raise InputError(
                f"pressure_difference_Pa {dp:g} is beyond +-{MAX_PRESSURE_PA:g} Pa; give the "
                "pressure difference in pascal"
            )
        object.__setattr__(self, "pressure_difference_Pa", dp)
        if self.viscosity_mPa_s is not None:
            eta = _number("viscosity_mPa_s", self.viscosity_mPa_s)
            if eta <= 0:
                raise InputError(f"viscosity_mPa_s must be > 0 (water: 0.89), got {eta:g}")
            object.__setattr__(self, "viscosity_mPa_s", eta)
        if self.slip_length_nm is not None:
            b = _number("slip_length_nm", self.slip_length_nm)
            if b <= 0:
                raise InputError(f"slip_length_nm must be > 0 nm (None = no slip), got {b:g}")
            object.__setattr__(self, "slip_length_nm", b)
        if self.walls is not None:
            walls = (self.walls,) if isinstance(self.walls, str) else tuple(self.walls)
            if not walls or not all(isinstance(w, str) for w in walls):
                raise InputError("walls must be a tuple of boundary names (or None = automatic)")
            object.__setattr__(self, "walls", walls)

    def viscosity(self, temperature: float) -> float:
        """Viscosity [mPa s] at ``temperature`` [K] (the given value or water's)."""
        if self.viscosity_mPa_s is not None:
            return float(self.viscosity_mPa_s)
        t = check_temperature(temperature, "flow temperature", water=True)
        return water_viscosity(t) * 1e3

    def with_pressure(self, pressure_difference_Pa: float) -> FlowProblem:
        """The same flow description with another pressure difference [Pa]."""
        return replace(self, pressure_difference_Pa=pressure_difference_Pa)


def _number(name: str, value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise InputError(f"{name} must be finite, got {value!r}")
    return x
