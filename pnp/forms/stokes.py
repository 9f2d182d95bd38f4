"""Incompressible Stokes weak forms and the ion-fluid coupling terms: pure UFL builders.

Units (consistent without further factors): lengths in nm, velocity in nm/ns (= m/s),
pressure in MPa, viscosity in mPa s, body force in MPa/nm. Then
``eta [mPa s] * u [m/s] / L [nm] = 1 MPa``.

Stokes equations in the water ``Omega``::

    -eta lap(u) + grad(p) = f,     div(u) = 0

written in the Laplacian ("do-nothing") form: tested with ``(v, q)`` and the volume weight
``J`` (1 in 3D, ``2 pi r`` for axisymmetric meshes)::

    int eta grad(u) : grad(v) J + [axisym.] int eta u_r v_r / r^2 J
      - int p div(v) J - int f . v J + sum_ends int p_end (v . n) J ds = 0
    - int q div(u) J = 0

with ``div(v) = d_r v_r + v_r / r + d_z v_z`` for a swirl-free axisymmetric field
(``x[0] = r``, components ``(u_r, u_z)``) and the usual divergence in 3D. The natural condition
on an open bath end is ``eta du/dn - p n = -p_end n``: a fully developed flow leaves through it
unperturbed (so a finite cylinder with pressure ends carries the exact Poiseuille profile).

Ion-fluid coupling (see Probstein, *Physicochemical Hydrodynamics*, 2nd ed., ch. 6, and
Rubinstein, *Electro-Diffusion of Ions*, 1990):

- body force on the fluid: ``f = -rho_e grad(phi) - sum_i c_i grad(mu_ex_i)``. Since
  ``c_i grad(ln c_i + z_i psi + mu_i) = grad(c_i) + (z_i c_i grad(psi) + c_i grad(mu_i))``,
  it equals ``-sum_i c_i grad(mu~_i) + grad(Pi)`` with the osmotic pressure ``Pi = sum_i c_i kT``
  and the electrochemical potentials ``mu~_i`` (kT). The solver uses the reduced pressure
  ``p~ = p - Pi`` and the force ``-kT sum_i c_i grad(mu~_i)`` (:func:`electrochemical_force`),
  which vanishes identically at equilibrium, also discretely: no spurious flow;
- advective flux ``c_i u`` added to the Nernst-Planck flux (:func:`advective_residual`).
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

from pnp.forms import nernst_planck as transport


def divergence(u: ufl.core.expr.Expr, r: ufl.core.expr.Expr | None = None) -> ufl.core.expr.Expr:
    """``div(u)``; for an axisymmetric field (``r`` given, ``u = (u_r, u_z)``) plus ``u_r / r``."""
    if r is None:
        return ufl.div(u)
    return ufl.div(u) + u[0] / r


def stokes_residual(
    u: ufl.core.expr.Expr,
    p: ufl.core.expr.Expr,
    v: ufl.core.expr.Expr,
    q: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    viscosity: float | ufl.core.expr.Expr,
    weight: ufl.core.expr.Expr | float = 1.0,
    r: ufl.core.expr.Expr | None = None,
    body_force: ufl.core.expr.Expr | None = None,
) -> tuple[ufl.Form, ufl.Form]:
    """Momentum and continuity residuals of the Stokes equations (Laplacian form).

    Parameters
    ----------
    u, p
        Velocity [nm/ns] (vector) and pressure [MPa] (trial functions or coefficients).
    v, q
        Test functions of velocity and pressure.
    dx
        Volume measure of the water region(s).
    viscosity
        Dynamic viscosity [mPa s].
    weight
        Volume weight (``2 pi r`` axisymmetric, 1 in 3D).
    r
        Radial coordinate ``x[0]`` for an axisymmetric (swirl-free) problem, else ``None``: adds
        the hoop term ``eta u_r v_r / r^2`` and the ``u_r / r`` part of the divergence.
    body_force
        Force density [MPa/nm] (vector), or ``None``.

    Returns
    -------
    (F_momentum, F_continuity)
        ``F_continuity = -int q div(u) weight dx`` (symmetric saddle-point Jacobian).
    """
    momentum = viscosity * ufl.inner(ufl.grad(u), ufl.grad(v))
    if r is not None:
        momentum = momentum + viscosity * u[0] * v[0] / (r * r)
    momentum = momentum - p * divergence(v, r)
    if body_force is not None:
        momentum = momentum - ufl.inner(body_force, v)
    continuity = -q * divergence(u, r)
    return momentum * weight * dx, continuity * weight * dx


def pressure_end(
    pressure: float | ufl.core.expr.Expr,
    v: ufl.core.expr.Expr,
    ds: ufl.Measure,
    *,
    weight: ufl.core.expr.Expr | float = 1.0,
) -> ufl.Form:
    """Open-end term ``int p_end (v . n) weight ds``: imposes ``eta du/dn - p n = -p_end n``."""
    n = ufl.FacetNormal(ds.ufl_domain())
    return pressure * ufl.dot(v, n) * weight * ds


def navier_slip(
    u: ufl.core.expr.Expr,
    v: ufl.core.expr.Expr,
    ds: ufl.Measure,
    *,
    viscosity: float | ufl.core.expr.Expr,
    slip_length: float | ufl.core.expr.Expr,
    weight: ufl.core.expr.Expr | float = 1.0,
) -> ufl.Form:
    """Tangential friction ``int (eta / b) u_t . v_t weight ds`` of a Navier slip wall.

    Pairs with ``u . n = 0`` imposed strongly (walls aligned with the coordinate axes).
    The Navier condition ``u_t = b (du_t/dn)`` (Navier 1823; slip length ``b`` [nm]).
    """
    n = ufl.FacetNormal(ds.ufl_domain())
    ut = u - ufl.dot(u, n) * n
    vt = v - ufl.dot(v, n) * n
    return viscosity / slip_length * ufl.inner(ut, vt) * weight * ds


def coulomb_force(
    charge_density: ufl.core.expr.Expr, potential: ufl.core.expr.Expr
) -> ufl.core.expr.Expr:
    """Body force ``-rho_e grad(phi)`` for a given charge density and potential.

    Units are the caller's: ``rho_e`` [C/m^3] times ``grad(phi)`` [V/nm] is in Pa/nm, so scale
    by 1e-6 for the solver's MPa/nm.
    """
    return -charge_density * ufl.grad(potential)


def electrochemical_force(
    us: Sequence[ufl.core.expr.Expr],
    psi: ufl.core.expr.Expr,
    valences: Sequence[float],
    *,
    pressure_scale: float | ufl.core.expr.Expr,
    mu_ex: Sequence[ufl.core.expr.Expr | None] | None = None,
    variables: str = "log",
    concentrations: Sequence[ufl.core.expr.Expr] | None = None,
) -> ufl.core.expr.Expr:
    """Force density ``-c0 kT sum_i (c_i/c0) grad(ln c_i + z_i psi + mu_i)`` [MPa/nm].

    Equals the Coulomb force ``-rho_e grad(phi)`` (plus ``-c_i grad(mu_ex)``) up to the gradient
    of the osmotic pressure, which the reduced pressure absorbs. Built from the Nernst-Planck
    flux with unit diffusion coefficient (``c grad(mu~) = -J/D``).

    Parameters
    ----------
    us
        Concentration unknowns (``ln(c/c0)`` or ``c/c0``).
    psi
        Potential in kT/e.
    valences
        Charge numbers.
    pressure_scale
        ``c0 kT N_A`` in MPa (the osmotic pressure of the reference concentration).
    mu_ex
        Excess chemical potentials in kT per species (``None`` entries allowed).
    variables
        ``"log"`` or ``"primitive"``.
    concentrations
        Scaled concentrations ``c_i/c0`` of an ion model whose unknowns are chemical potentials
        (the steric model, :mod:`pnp.forms.steric`: ``us`` are then ``w_i = ln c_i - ln(1-Phi)``
        and the force is ``-c0 kT sum_i c_i grad(w_i + z_i psi + mu_i)``); ``None`` = point ions.
    """
    mus = list(mu_ex) if mu_ex is not None else [None] * len(us)
    total = 0
    if concentrations is not None:
        for c, u, z, mu in zip(concentrations, us, valences, mus, strict=True):
            total = total + transport.electrochemical_flux(
                c, u, psi, valence=z, diffusion=1.0, mu_ex=mu
            )
        return pressure_scale * total
    for u, z, mu in zip(us, valences, mus, strict=True):
        total = total + transport.flux(
            u, psi, valence=z, diffusion=1.0, mu_ex=mu, variables=variables
        )
    return pressure_scale * total


def advective_residual(
    u: ufl.core.expr.Expr,
    velocity: ufl.core.expr.Expr,
    w: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    weight: ufl.core.expr.Expr | float = 1.0,
    variables: str = "log",
    concentration: ufl.core.expr.Expr | None = None,
) -> ufl.Form:
    """Advective part ``-int c u . grad(w) weight dx`` of the steady Nernst-Planck residual.

    Added to :func:`pnp.forms.nernst_planck.steady_residual` (which is ``-int J_diff . grad(w)``)
    it makes the residual ``-int (J_diff + c u) . grad(w)``; with ``w`` the end indicator its
    value is the convective flux leaving through that end. ``concentration`` overrides ``c`` of
    the unknown ``u`` (ion models whose unknowns are not ``ln c``, e.g. the steric model).
    """
    c = transport.concentration(u, variables) if concentration is None else concentration
    return -c * ufl.inner(velocity, ufl.grad(w)) * weight * dx
