"""Pure UFL form builders for Poisson / Poisson-Boltzmann electrostatics.

Nothing here knows the geometry: regions and boundaries arrive as measures (``dx(tags)``,
:class:`pnp.forms.measures.Surface`) and the axisymmetric case differs from 3D only by the
``weight``
(``2 pi r`` or 1) multiplying every integrand. All quantities are non-dimensional as in
:class:`poreflux.units.Scales`: lengths over ``L0``, potential
``psi = e phi / kT``, concentrations over ``c0``. The scaled Poisson(-Boltzmann) equation is::

    -div(eps_r grad psi) = K (rho_f + sum_i z_i c_i(psi)),   K = (L0/lambda0)^2

with ``rho_f`` the scaled fixed charge (volume) and, on a charged surface, the jump
``[eps_r grad psi . n] = -K sigma`` (scaled surface charge). Weak form (residual, test ``v``)::

    F = int eps_r grad psi . grad v w dx - K int rho_f v w dx - K int sigma v w dS
        - K int sum_i z_i c_i(psi) v w dx_water

The PNP helper reuses :func:`poisson_operator`, :func:`volume_source` and
:func:`surface_source` with its own concentrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ufl

from poreflux.units import E_CHARGE, NM


def scaled_surface_charge(scales: Any, sigma_c_per_m2: float) -> float:
    """Surface charge density [C/m^2] -> scaled units (see :meth:`poreflux.units.Scales`)."""
    return scales.surface_charge_to_scaled(sigma_c_per_m2)


def scaled_volume_charge(scales: Any, rho_e_per_nm3: float) -> float:
    """Volume charge density [e/nm^3] -> scaled ``rho / (e N_A c0)``."""
    return scales.volume_charge_to_scaled(rho_e_per_nm3 * E_CHARGE / NM**3)


#: The registry of PB ion models: name -> (concentration builder, needs a lattice size ``a``).
#: A builder takes ``(boltzmann factors exp(-z psi), bulk c^b/c0, valences, psi, nu)`` and returns
#: the scaled concentrations. Adding a model is one entry here plus its test; problems, studies and
#: the CLI read the names from :data:`PB_MODELS`.
_ION_MODELS: dict[str, tuple[Callable[..., list[Any]], bool]] = {}


def _register_model(name: str, needs_ion_size: bool = False) -> Callable:
    def add(builder: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        _ION_MODELS[name] = (builder, needs_ion_size)
        return builder

    return add


@_register_model("linear")
def _debye_huckel(psi: Any, valences: Sequence[int], bulk: Sequence[Any], nus: Any) -> list[Any]:
    """Debye-Hückel: ``c_i = c_i^b (1 - z_i psi)``."""
    return [cb * (1 - z * psi) for z, cb in zip(valences, bulk, strict=True)]


@_register_model("nonlinear")
def _boltzmann(psi: Any, valences: Sequence[int], bulk: Sequence[Any], nus: Any) -> list[Any]:
    """Boltzmann: ``c_i = c_i^b exp(-z_i psi)``."""
    return [cb * ufl.exp(-z * psi) for z, cb in zip(valences, bulk, strict=True)]


@_register_model("bikerman", needs_ion_size=True)
def _bikerman(psi: Any, valences: Sequence[int], bulk: Sequence[Any], nus: Any) -> list[Any]:
    """Size-modified Boltzmann (Borukhov, Andelman & Orland, PRL 79, 435 (1997)).

    ``c_i = c_i^b exp(-z_i psi) / (1 + sum_j nu_j (exp(-z_j psi) - 1))`` with the bulk volume
    fractions ``nu_j = c_j^b N_A a^3``.
    """
    if len(nus) != len(valences):
        raise ValueError("the bikerman model needs one volume fraction per species")
    boltz = [ufl.exp(-z * psi) for z in valences]
    denom = 1
    for nu, b in zip(nus, boltz, strict=True):
        denom = denom + nu * (b - 1)
    return [cb * b / denom for cb, b in zip(bulk, boltz, strict=True)]


#: Names of the PB ion models, in registration order.
PB_MODELS: tuple[str, ...] = tuple(_ION_MODELS)


def needs_ion_size(model: str) -> bool:
    """True when the PB ion model ``model`` needs a lattice size (``ion_size``)."""
    return _ION_MODELS[model][1]


def poisson_operator(psi: Any, v: Any, eps_r: Any, weight: Any, dx: Any) -> Any:
    """``int eps_r grad(psi) . grad(v) w dx``."""
    return eps_r * ufl.inner(ufl.grad(psi), ufl.grad(v)) * weight * dx


def volume_source(density: Any, v: Any, weight: Any, dx: Any) -> Any:
    """``int rho v w dx`` for a (scaled) charge density ``rho`` on the measure ``dx``."""
    return density * v * weight * dx


def surface_source(density: Any, v: Any, weight: Any, surface: Any) -> Any:
    """``int sigma v w dS`` on a :class:`pnp.forms.measures.Surface` (``ds`` or restricted
    ``dS``)."""
    return surface.integral(density * v * weight)


def fixed_charge_source(
    v: Any,
    weight: Any,
    volume_terms: Sequence[tuple[Any, Any]] = (),
    surface_terms: Sequence[tuple[Any, Any]] = (),
) -> Any | None:
    """Sum of volume ``(density, dx)`` and surface ``(density, Surface)`` source terms.

    Returns ``None`` when there is no term. With ``v = psi/2`` this is the fixed-charge energy
    ``1/2 int rho_f psi`` (scaled).
    """
    form = None
    for density, dx in volume_terms:
        term = volume_source(density, v, weight, dx)
        form = term if form is None else form + term
    for density, surface in surface_terms:
        term = surface_source(density, v, weight, surface)
        form = term if form is None else form + term
    return form


def ion_concentrations(
    psi: Any,
    valences: Sequence[int],
    bulk: Sequence[Any],
    model: str,
    volume_fractions: Sequence[Any] = (),
) -> list[Any]:
    """Scaled equilibrium concentrations ``c_i / c0`` as UFL expressions of ``psi``.

    Parameters
    ----------
    psi
        Scaled potential ``e phi / kT``.
    valences
        ``z_i``.
    bulk
        Scaled bulk concentrations ``c_i^b / c0`` (floats or ``dolfinx.fem.Constant``).
    model
        One of :data:`PB_MODELS`: ``"linear"`` (``c^b (1 - z psi)``), ``"nonlinear"``
        (``c^b exp(-z psi)``) or ``"bikerman"`` (size-modified, see :func:`_bikerman`).
    volume_fractions
        Bulk volume fractions ``nu_j`` (Bikerman only).
    """
    if model not in _ION_MODELS:
        raise ValueError(f"unknown PB model {model!r}; choose one of {PB_MODELS}")
    if len(valences) != len(bulk):
        raise ValueError("valences and bulk concentrations differ in length")
    return _ION_MODELS[model][0](psi, valences, bulk, volume_fractions)


def mobile_charge(
    psi: Any,
    valences: Sequence[int],
    bulk: Sequence[Any],
    model: str,
    volume_fractions: Sequence[Any] = (),
) -> Any:
    """Scaled mobile charge density ``sum_i z_i c_i(psi) / c0`` (see :func:`ion_concentrations`)."""
    conc = ion_concentrations(psi, valences, bulk, model, volume_fractions)
    total = 0
    for z, c in zip(valences, conc, strict=True):
        total = total + z * c
    return total


def pb_residual(
    psi: Any,
    v: Any,
    *,
    eps_r: Any,
    weight: Any,
    dx: Any,
    coefficient: Any,
    fixed_source: Any | None = None,
    mobile: Any | None = None,
    dx_water: Any | None = None,
) -> Any:
    """Residual of the scaled PB equation.

    ``F = int eps_r grad psi . grad v w dx - K fixed_source - K int mobile v w dx_water``.

    Parameters
    ----------
    coefficient
        ``K = (L0/lambda0)^2`` (:attr:`poreflux.units.Scales.poisson_coefficient`).
    fixed_source
        A linear form in ``v`` (from :func:`fixed_charge_source`), or ``None``.
    mobile
        Mobile charge density expression (from :func:`mobile_charge`), or ``None``.
    dx_water
        Measure of the water regions (required with ``mobile``).
    """
    F = poisson_operator(psi, v, eps_r, weight, dx)
    if fixed_source is not None:
        F = F - coefficient * fixed_source
    if mobile is not None:
        if dx_water is None:
            raise ValueError("pb_residual: mobile charge given without dx_water")
        F = F - coefficient * mobile * v * weight * dx_water
    return F


def strong_poisson(u: Any, eps_r: Any, r: Any | None = None) -> Any:
    """``-(1/w) div(w eps_r grad u)`` for an expression ``u`` (manufactured sources).

    With ``r`` given (axisymmetric, ``w = 2 pi r``) this is ``-div(eps grad u) - eps du/dr / r``.
    """
    flux = eps_r * ufl.grad(u)
    out = -ufl.div(flux)
    if r is not None:
        out = out - flux[0] / r
    return out


def energy_density_form(
    psi: Any,
    weight: Any,
    volume_terms: Sequence[tuple[Any, Any]] = (),
    surface_terms: Sequence[tuple[Any, Any]] = (),
) -> Any | None:
    """Scaled fixed-charge energy ``1/2 int rho_f psi w`` (``None`` without fixed charge)."""
    return fixed_charge_source(0.5 * psi, weight, volume_terms, surface_terms)
