"""Steric (lattice-gas) ion model for PNP: pure UFL builders in chemical-potential unknowns.

Bikerman / Kilic-Bazant-Ajdari excess chemical potential (Kilic, Bazant & Ajdari, Phys. Rev. E
75, 021503 (2007), "modified PNP")::

    mu_i^st = -ln(1 - Phi),   Phi = sum_j v_j c_j   (local packing fraction),

with ``v_j = N_A a_j^3`` the lattice-cell volume of species ``j`` (side ``a_j``; unequal sizes:
every species sees the same void fraction ``1 - Phi`` and fills ``v_j`` of it per ion, so that a
species alone saturates at ``c_j = 1/v_j``). With equal sizes this is the lattice gas of Borukhov,
Andelman & Orland, Phys. Rev. Lett. 79, 435 (1997), i.e. the ``"bikerman"`` PB model of
:mod:`pnp.forms.poisson`.

Unknowns. Instead of ``ln c_i`` the steric solver uses the chemical potentials (ideal + steric,
in kT)::

    w_i = ln(c_i/c0) - ln(1 - Phi)

Solving ``Phi = (1 - Phi) sum_j vh_j exp(w_j)`` gives the concentrations explicitly::

    c_i/c0 = exp(w_i) / (1 + sum_j vh_j exp(w_j)),    vh_j = c0 N_A a_j^3,

so every ``c_i`` is positive and ``Phi = S/(1 + S) < 1`` (``S = sum_j vh_j exp(w_j)``) for any
value of the unknowns: close packing cannot be exceeded, not even in a Newton iterate. The
Nernst-Planck flux is ``J_i = -D_i c_i grad(w_i + z_i psi + mu_i)`` (see
:func:`pnp.forms.nernst_planck.electrochemical_flux`). At zero current ``w_i + z_i psi`` is
constant and the concentrations are the size-modified Boltzmann distribution of the Bikerman PB
model with bulk volume fractions ``nu_j = vh_j c_j^b/c0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import ufl

from poreflux.errors import InputError
from poreflux.units import MM, N_A, NM

__all__ = [
    "chemical_potentials",
    "concentrations",
    "log_concentration_values",
    "packing_fraction",
    "scaled_volumes",
    "steric_potential",
]


def scaled_volumes(sizes_nm: Sequence[float], c0_mM: float) -> tuple[float, ...]:
    """Lattice-cell volumes in scaled units, ``vh_j = c0 N_A a_j^3`` (dimensionless).

    Parameters
    ----------
    sizes_nm
        Ion sizes ``a_j`` [nm] (cube side of the lattice cell), one per species.
    c0_mM
        Reference concentration of the scaled equations [mM].
    """
    out = []
    for a in sizes_nm:
        a = float(a)
        if not (math.isfinite(a) and 0.0 < a <= 5.0):
            raise InputError(f"ion sizes must be in (0, 5] nm, got {a!r}")
        out.append(c0_mM * MM * N_A * (a * NM) ** 3)
    return tuple(out)


def _crowding(ws: Sequence[Any], volumes: Sequence[Any]) -> Any:
    """``1 + sum_j vh_j exp(w_j)`` = ``1/(1 - Phi)``."""
    if len(ws) != len(volumes):
        raise ValueError("one volume per chemical-potential unknown")
    total = 1
    for w, v in zip(ws, volumes, strict=True):
        total = total + v * ufl.exp(w)
    return total


def concentrations(ws: Sequence[Any], volumes: Sequence[Any]) -> list[Any]:
    """Scaled concentrations ``c_i/c0 = exp(w_i)/(1 + sum_j vh_j exp(w_j))`` (UFL)."""
    denom = _crowding(ws, volumes)
    return [ufl.exp(w) / denom for w in ws]


def packing_fraction(ws: Sequence[Any], volumes: Sequence[Any]) -> Any:
    """Local packing fraction ``Phi = S/(1 + S)`` (UFL), always below 1."""
    denom = _crowding(ws, volumes)
    return 1 - 1 / denom


def steric_potential(ws: Sequence[Any], volumes: Sequence[Any]) -> Any:
    """Steric excess chemical potential ``-ln(1 - Phi) = ln(1 + sum_j vh_j exp(w_j))`` (kT)."""
    return ufl.ln(_crowding(ws, volumes))


def chemical_potentials(conc: Sequence[float], volumes: Sequence[float]) -> tuple[float, ...]:
    """Unknowns ``w_i = ln c_i - ln(1 - Phi)`` of given scaled concentrations (e.g. a bath).

    Raises :class:`~poreflux.errors.InputError` when the packing fraction reaches 1.
    """
    phi = sum(v * c for v, c in zip(volumes, conc, strict=True))
    if not phi < 1.0:
        raise InputError(
            f"packing fraction sum(c_j N_A a_j^3) = {phi:.3f} >= 1 in a bath: the ions do not fit; "
            "lower the ion sizes or the concentrations"
        )
    return tuple(math.log(c) - math.log1p(-phi) for c in conc)


def log_concentration_values(ws: Sequence[np.ndarray], volumes: Sequence[float]) -> list:
    """Nodal ``ln(c_i/c0) = w_i - ln(1 + sum_j vh_j exp(w_j))`` from nodal ``w`` arrays."""
    ws = [np.asarray(w, dtype=float) for w in ws]
    big = np.maximum(np.max(np.stack(ws), axis=0), 0.0) if ws else 0.0
    # log-sum-exp with the void term exp(0): no overflow for large w, none for very negative w
    acc = np.exp(-big)
    for w, v in zip(ws, volumes, strict=True):
        acc = acc + v * np.exp(w - big)
    log_denom = big + np.log(acc)
    return [w - log_denom for w in ws]
