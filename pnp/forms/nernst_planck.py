"""Nernst-Planck weak forms: pure UFL builders, geometry-agnostic.

Non-dimensional Nernst-Planck flux of species ``i`` (lengths in ``L0``, potential ``psi`` in
``kT/e``, concentrations in ``c0``, diffusion coefficients in nm^2/ns)::

    J_i = -D_i (grad c_i + c_i grad(z_i psi + mu_i)) = -D_i c_i grad(ln c_i + z_i psi + mu_i)

where ``mu_i(x)`` is an optional excess chemical potential in kT (e.g. a PMF from a particle
model). Steady state: ``div J_i = 0``; transient: ``dc_i/dt + div J_i = 0``. The weak form, tested
with ``w_i`` and with no flux through walls (natural condition), is::

    int (dc_i/dt) w_i  J dx - int J_i . grad(w_i)  J dx = 0

with ``J`` the volume weight (1 in 3D, ``2 pi r`` for axisymmetric meshes: the caller passes it).

Two sets of unknowns are supported (see :mod:`pnp.solvers.steady` for the measurement behind the
default):

``"log"``
    ``u_i = ln(c_i/c0)``, ``c_i = exp(u_i)``: concentrations positive by construction; the flux is
    ``-D_i exp(u_i) grad(u_i + z_i psi + mu_i)``.
``"primitive"``
    ``u_i = c_i/c0`` directly (linear in ``c``; may go negative at large potentials).

Other ion models (e.g. the steric model of :mod:`pnp.forms.steric`) use other unknowns; their
residual is assembled from :func:`electrochemical_flux` (``J = -D c grad(chem + z psi + mu)`` for a
given concentration expression ``c`` and chemical potential ``chem``) and
:func:`transport_residual`, to which a caller may add further flux terms (e.g. advection ``c u``)
before testing.

Nothing here knows about regions or meshes: the measure (``dx(water)``), the volume weight and the
functions come from the caller, so one set of builders serves 2D axisymmetric and 3D problems and
any number of species.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

VARIABLES = ("log", "primitive")


def check_variables(variables: str) -> str:
    """Validate the name of the concentration unknowns (``"log"`` or ``"primitive"``)."""
    if variables not in VARIABLES:
        from poreflux.errors import InputError

        raise InputError(f"unknown concentration variables {variables!r}; use one of {VARIABLES}")
    return variables


def concentration(u: ufl.core.expr.Expr, variables: str = "log") -> ufl.core.expr.Expr:
    """Scaled concentration ``c/c0`` as a UFL expression of the unknown ``u``."""
    check_variables(variables)
    return ufl.exp(u) if variables == "log" else u


def flux(
    u: ufl.core.expr.Expr,
    psi: ufl.core.expr.Expr,
    *,
    valence: float,
    diffusion: float | ufl.core.expr.Expr,
    mu_ex: ufl.core.expr.Expr | None = None,
    variables: str = "log",
) -> ufl.core.expr.Expr:
    """Scaled Nernst-Planck flux ``J = -D (grad c + c grad(z psi + mu_ex))``.

    Parameters
    ----------
    u
        Concentration unknown (``ln(c/c0)`` or ``c/c0``, see ``variables``).
    psi
        Potential in units of kT/e.
    valence
        Charge number ``z``.
    diffusion
        Diffusion coefficient (nm^2/ns when ``L0`` = 1 nm and time in ns).
    mu_ex
        Optional excess chemical potential in kT.
    variables
        ``"log"`` or ``"primitive"``.
    """
    drive = valence * psi if mu_ex is None else valence * psi + mu_ex
    if check_variables(variables) == "log":
        return -diffusion * ufl.exp(u) * ufl.grad(u + drive)
    return -diffusion * (ufl.grad(u) + u * ufl.grad(drive))


def steady_residual(
    u: ufl.core.expr.Expr,
    w: ufl.core.expr.Expr,
    psi: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    valence: float,
    diffusion: float | ufl.core.expr.Expr,
    weight: ufl.core.expr.Expr | float = 1.0,
    mu_ex: ufl.core.expr.Expr | None = None,
    variables: str = "log",
) -> ufl.Form:
    """Weak steady Nernst-Planck residual ``-int J . grad(w) weight dx`` of one species.

    Its value with a test function equal to 1 on one end and 0 on the other is the (conservative)
    flux leaving through that end, see :func:`weak_flux`.
    """
    return -weak_flux(
        u, psi, w, dx, valence=valence, diffusion=diffusion, weight=weight, mu_ex=mu_ex,
        variables=variables,
    )  # fmt: skip


def mass_term(
    u: ufl.core.expr.Expr,
    u_history: Sequence[ufl.core.expr.Expr],
    coefficients: Sequence[ufl.core.expr.Expr | float],
    w: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    weight: ufl.core.expr.Expr | float = 1.0,
    variables: str = "log",
) -> ufl.Form:
    """Time-derivative term ``int (sum_k a_k c^{n+1-k}) w weight dx`` of a multistep scheme.

    ``coefficients`` are ``(a_0, a_1, ...)`` applied to ``(c^{n+1}, c^n, c^{n-1}, ...)``; e.g.
    backward Euler ``(1/dt, -1/dt)``, BDF2 with constant step ``(3/(2dt), -2/dt, 1/(2dt))``.
    """
    if len(coefficients) != len(u_history) + 1:
        raise ValueError("need one coefficient per time level")
    rate = coefficients[0] * concentration(u, variables)
    for a, uk in zip(coefficients[1:], u_history, strict=True):
        rate = rate + a * concentration(uk, variables)
    return rate * w * weight * dx


def charge_density(
    us: Sequence[ufl.core.expr.Expr], valences: Sequence[float], variables: str = "log"
) -> ufl.core.expr.Expr:
    """Scaled mobile charge density ``sum_i z_i c_i/c0``."""
    if len(us) != len(valences):
        raise ValueError("one valence per concentration unknown")
    rho = 0
    for u, z in zip(us, valences, strict=True):
        rho = rho + z * concentration(u, variables)
    return rho


def screening(
    us: Sequence[ufl.core.expr.Expr], valences: Sequence[float], variables: str = "log"
) -> ufl.core.expr.Expr:
    """``sum_i z_i^2 c_i/c0``: minus the derivative of the charge density in ``psi`` at fixed
    electrochemical potentials ``ln c_i + z_i psi`` (the linearised Debye screening)."""
    if len(us) != len(valences):
        raise ValueError("one valence per concentration unknown")
    out = 0
    for u, z in zip(us, valences, strict=True):
        out = out + z * z * concentration(u, variables)
    return out


def weak_flux(
    u: ufl.core.expr.Expr,
    psi: ufl.core.expr.Expr,
    w: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    valence: float,
    diffusion: float | ufl.core.expr.Expr,
    weight: ufl.core.expr.Expr | float = 1.0,
    mu_ex: ufl.core.expr.Expr | None = None,
    variables: str = "log",
) -> ufl.Form:
    """Functional ``int J . grad(w) weight dx`` (a number once assembled).

    With ``div J = 0`` and no wall flux, for ``w`` = 1 on one end and 0 on the other this equals the
    flux *leaving* the domain through the end where ``w`` = 1 (``int J.n ds`` there, outward
    normal). Evaluated with the
    discrete solution it is the residual-based boundary flux: exactly conservative up to the
    Newton tolerance, unlike ``J_h . n`` from Galerkin gradients.
    """
    j = flux(u, psi, valence=valence, diffusion=diffusion, mu_ex=mu_ex, variables=variables)
    return ufl.inner(j, ufl.grad(w)) * weight * dx


def electrochemical_flux(
    c: ufl.core.expr.Expr,
    chem: ufl.core.expr.Expr,
    psi: ufl.core.expr.Expr,
    *,
    valence: float,
    diffusion: float | ufl.core.expr.Expr,
    mu_ex: ufl.core.expr.Expr | None = None,
) -> ufl.core.expr.Expr:
    """Flux ``J = -D c grad(chem + z psi + mu_ex)`` for a concentration expression ``c``.

    ``chem`` is the chemical potential (kT) whose gradient drives diffusion: ``ln c`` for point
    ions (then this equals :func:`flux` with log variables), ``ln c - ln(1 - Phi)`` for the steric
    model (:mod:`pnp.forms.steric`). Linear irreversible thermodynamics: the flux is the mobility
    ``D c / kT`` times the gradient of the electrochemical potential.
    """
    drive = chem + valence * psi
    if mu_ex is not None:
        drive = drive + mu_ex
    return -diffusion * c * ufl.grad(drive)


def transport_residual(
    j: ufl.core.expr.Expr,
    w: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    weight: ufl.core.expr.Expr | float = 1.0,
) -> ufl.Form:
    """Weak steady residual ``-int J . grad(w) weight dx`` of ``div J = 0`` for any flux ``J``.

    ``J`` may be a sum of terms (diffusion-migration from :func:`electrochemical_flux`, advection
    ``c u`` of a flow solver, ...); walls are natural no-flux boundaries.
    """
    return -ufl.inner(j, ufl.grad(w)) * weight * dx


def mass_term_of(
    rates: Sequence[ufl.core.expr.Expr],
    coefficients: Sequence[ufl.core.expr.Expr | float],
    w: ufl.core.expr.Expr,
    dx: ufl.Measure,
    *,
    weight: ufl.core.expr.Expr | float = 1.0,
) -> ufl.Form:
    """Multistep time-derivative term ``int (sum_k a_k c^{n+1-k}) w weight dx`` for given
    concentration expressions ``rates = (c^{n+1}, c^n, ...)`` (any ion model)."""
    if len(coefficients) != len(rates):
        raise ValueError("need one coefficient per time level")
    rate = 0
    for a, c in zip(coefficients, rates, strict=True):
        rate = rate + a * c
    return rate * w * weight * dx
