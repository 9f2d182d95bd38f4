"""Correlation-corrected electrostatics: the Bazant-Storey-Kornyshev modified Poisson equation.

Bazant, Storey & Kornyshev, Phys. Rev. Lett. 106, 046102 (2011) (BSK) replace Poisson's equation
in the electrolyte by the fourth-order equation::

    eps (l_c^2 nabla^4 - nabla^2) phi = rho

with ``l_c`` the ion-correlation length. It is written here in a mixed second-order form for
Lagrange elements: with the auxiliary field ``f = -eps nabla^2 phi`` (the charge density that the
potential actually sees, a smoothed version of ``rho``)::

    -div(eps grad phi) = f + rho_fixed          (whole mesh; surface charges as usual)
    -l_c^2 nabla^2 f + f = rho_mobile            (water only)

so ``f = (1 - l_c^2 nabla^2)^{-1} rho``: the Helmholtz smoothing of the ionic charge over
``l_c``. Boundary conditions (BSK): ``n . grad(nabla^2 phi) = 0``, i.e. ``n . grad f = 0``, on
every boundary of the electrolyte (charged walls and dielectric interfaces): a natural condition
of the second equation. The displacement ``D = -eps grad phi - l_c^2 grad f`` then has the normal
component ``-eps d phi/dn`` at the wall, so the surface charge and the continuity of the normal
displacement at a dielectric interface enter the first equation exactly as in plain Poisson. For
``l_c -> 0``, ``f = rho`` and Poisson is recovered.

Linearised (Debye-Hueckel) planar solutions decay like ``exp(-k x)`` with
``l_c^2 k^4 - k^2 + kappa^2 = 0``: monotonic for ``l_c kappa < 1/2``, damped oscillations
(overscreening) above.

Default correlation length (:func:`default_correlation_length_nm`): the larger of the ion size
``a`` (BSK's choice for ionic liquids) and the Bjerrum length of the most highly charged
counter-ion, ``z_max^2 l_B`` (the distance at which two such ions interact with kT, the scale
of counter-ion correlations in dilute multivalent electrolytes; Storey & Bazant, Phys. Rev. E
86, 056303 (2012) relate ``l_c`` to the Bjerrum length there).
All builders are in the scaled units of :mod:`pnp.forms.poisson` (lengths over ``L0``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ufl

from poreflux.errors import InputError
from poreflux.units import bjerrum_length_nm

__all__ = ["correlation_residual", "default_correlation_length_nm"]


def correlation_residual(
    f: Any,
    g: Any,
    rho: Any,
    ell: Any,
    dx: Any,
    *,
    weight: Any = 1.0,
) -> Any:
    """Weak form of ``-ell^2 nabla^2 f + f = rho`` with ``n . grad f = 0`` on the boundary.

    ``int (ell^2 grad f . grad g + f g - rho g) w dx`` (``w`` the axisymmetric ``2 pi r`` or 1).

    Parameters
    ----------
    f, g
        The smoothed charge (unknown) and its test function, on the water (sub-)mesh.
    rho
        Scaled mobile charge density ``sum_i z_i c_i/c0`` (UFL).
    ell
        Scaled correlation length ``l_c / L0`` (float or ``dolfinx.fem.Constant``).
    dx
        Measure of the water region.
    """
    return (ell**2 * ufl.inner(ufl.grad(f), ufl.grad(g)) + (f - rho) * g) * weight * dx


def default_correlation_length_nm(
    valences: Sequence[int], eps_r: float, temperature: float, ion_size_nm: float | None = None
) -> float:
    """Default BSK correlation length [nm]: ``max(a, z_max^2 l_B)``.

    Parameters
    ----------
    valences
        Valences of the mobile species (``z_max`` is the largest ``|z|``).
    eps_r
        Relative permittivity of the electrolyte.
    temperature
        Temperature [K].
    ion_size_nm
        Ion size ``a`` [nm] (the largest one for unequal sizes), or ``None``.
    """
    if not valences:
        raise InputError("the correlation length needs at least one mobile species")
    z_max = max(abs(int(z)) for z in valences)
    lc = z_max**2 * bjerrum_length_nm(eps_r, temperature)
    if ion_size_nm is not None:
        if not (math.isfinite(ion_size_nm) and ion_size_nm > 0):
            raise InputError(f"ion_size must be > 0 nm, got {ion_size_nm!r}")
        lc = max(lc, float(ion_size_nm))
    return lc
