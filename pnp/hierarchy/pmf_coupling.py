"""A particle PMF in continuum PNP: the excess chemical potential ``mu_ex`` of a species.

:func:`mu_ex_from_pmf` turns a species' potential of mean force W(z) [kT] (a
:class:`stochastic.chain.TransportProfile` or :class:`stochastic.profiles.Profile`) into the
excess chemical potential callable ``mu_ex(x)`` of :class:`pnp.problems.transport.PNPProblem`; the
Nernst-Planck flux then reads ``J = -D (grad c + c grad(z psi + mu_ex))``.

What the PMF means in PNP (read before coupling)
------------------------------------------------
A 1D PMF along the pore axis is ``W(z) = -kT ln[n(z)/n_ref]`` with ``n(z)`` the number of ions
per unit length at equilibrium. It contains (i) the *excess* free energy of the ion at z
(dehydration, binding sites, wall interactions: what PNP lacks) and (ii) the *confinement entropy*
``-kT ln(A(z)/A_ref)`` of the accessible cross-section A(z) relative to the reference area the PMF
is normalised to (Roux, Allen, Bernèche & Im, Q. Rev. Biophys. 37, 15 (2004), sections 3.3-3.5;
Allen, Andersen & Roux, Biophys. Chem. 124, 251 (2006)). PNP resolves the geometry explicitly,
so term (ii) is already there: adding the full W counts it twice. :func:`mu_ex_from_pmf`
therefore subtracts it when told the accessible area (``confinement_area`` and
``reference_area_nm2``): ``mu_ex(z) = W(z) - W_ref + ln(A(z)/A_ref)``. It subtracts nothing by
default, which is right when W is already an excess free energy (a PMF normalised per accessible
cross-section, or computed with the lateral restraint/box that makes ``A(z) = A_ref``, as in a
cylindrical model pore whose radial confinement is the same in the simulation and in the mesh).
``mu_ex`` is applied uniformly over the cross-section at each z (a 1D PMF carries no radial
information). The solver interpolates it into P1 on the water mesh: resolve its features (binding
sites, the taper) with a few cells, i.e. ``h_pore`` below a third of their width.

The PNP solver requires ``mu_ex = 0`` on the bath ends. W is shifted by ``W_ref`` (by default the
mean of its two end values: the PMF's bath level) and multiplied by a smooth C1 taper that goes
from 0 at the ends of the sampled range to 1 within ``taper_nm``; outside the sampled range
``mu_ex = 0``. A PMF whose two ends differ (sampling not converged, or an asymmetric reference)
is warned about: the taper then puts an artificial force of order ``dW/taper_nm`` there.

The comparison of the 1D chain with PNP on the same channel is
:mod:`pnp.hierarchy.chain_comparison`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from poreflux.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["PMFExcessPotential", "mu_ex_from_pmf"]


# ----------------------------------------------------------------------------- mu_ex
def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True, eq=False)
class PMFExcessPotential:
    """Excess chemical potential ``mu_ex(x)`` [kT] from a 1D PMF (see :func:`mu_ex_from_pmf`).

    Callable on coordinates ``x`` of shape ``(3, n)`` [nm] (DOLFINx interpolation points); the
    pore axis is ``x[axis]``. Zero outside ``[z_lo, z_hi]``.

    Attributes
    ----------
    profile
        The :class:`stochastic.profiles.Profile` holding W (on the chain's axis).
    axis
        Index of the pore axis in ``x`` (1 for 2D axisymmetric meshes, 2 for 3D).
    z_offset
        Mesh ``z`` = profile ``z`` + ``z_offset`` [nm].
    W_ref
        Subtracted from W [kT].
    taper_nm
        Width of the smooth taper at both ends [nm].
    confinement_area
        Accessible cross-section A(z) [nm^2] (profile axis) whose entropy
        ``-ln(A/A_ref)`` W contains, or None.
    reference_area_nm2
        ``A_ref`` [nm^2].
    """

    profile: Any
    axis: int
    z_offset: float
    W_ref: float
    taper_nm: float
    confinement_area: Callable[[np.ndarray], np.ndarray] | None = None
    reference_area_nm2: float | None = None

    @property
    def z_lo(self) -> float:
        """Lower end of the support on the mesh axis [nm]."""
        return float(self.profile.z[0]) + self.z_offset

    @property
    def z_hi(self) -> float:
        """Upper end of the support on the mesh axis [nm]."""
        return float(self.profile.z[-1]) + self.z_offset

    def along_axis(self, z_mesh: np.ndarray) -> np.ndarray:
        """``mu_ex`` [kT] at mesh axial positions ``z_mesh`` [nm]."""
        zm = np.asarray(z_mesh, dtype=float)
        zp = zm - self.z_offset
        lo, hi = float(self.profile.z[0]), float(self.profile.z[-1])
        inside = (zp >= lo) & (zp <= hi)
        zc = np.clip(zp, lo, hi)
        w = np.asarray(self.profile.W_at(zc), dtype=float) - self.W_ref
        if self.confinement_area is not None:
            area = np.asarray(self.confinement_area(zc), dtype=float)
            w = w + np.log(area / self.reference_area_nm2)
        if self.taper_nm > 0:
            dist = np.minimum(zc - lo, hi - zc)
            w = w * _smoothstep(dist / self.taper_nm)
        return np.where(inside, w, 0.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return self.along_axis(x[self.axis])


def _as_profile(profile: Any) -> Any:
    from stochastic.chain import TransportProfile
    from stochastic.profiles import Profile

    if isinstance(profile, TransportProfile):
        return profile.profile()
    if isinstance(profile, Profile):
        return profile
    raise InputError(
        "profile must be a stochastic.chain.TransportProfile or stochastic.profiles.Profile, got "
        f"{type(profile).__name__}"
    )


def mu_ex_from_pmf(
    profile: Any,
    *,
    dim: int = 2,
    reference: str | float = "ends",
    taper_nm: float = 0.5,
    z_offset: float = 0.0,
    confinement_area: Callable[[np.ndarray], np.ndarray] | None = None,
    reference_area_nm2: float | None = None,
    domain: tuple[float, float] | None = None,
    end_tolerance_kT: float = 0.25,
) -> PMFExcessPotential:
    """The excess chemical potential ``mu_ex(x)`` [kT] of :class:`PNPProblem` from a 1D PMF.

    ``mu_ex(z) = [W(z) - W_ref + ln(A(z)/A_ref)] s(z)`` on the PMF's range (shifted by
    ``z_offset``), 0 outside it; ``s`` is a C1 smoothstep from 0 at the range ends to 1 at
    ``taper_nm`` inside them. See the module docstring for what is subtracted and why.

    Parameters
    ----------
    profile
        A :class:`stochastic.chain.TransportProfile` or :class:`stochastic.profiles.Profile`
        (W in kT; its interpolation is used between grid points).
    dim
        Mesh dimension: 2 (axisymmetric, axis ``x[1]``) or 3 (axis ``x[2]``).
    reference
        ``W_ref``: ``"ends"`` (mean of the two end values, the bath level), ``"left"``,
        ``"right"``, or a number [kT].
    taper_nm
        Taper width [nm] (> 0 unless W already equals ``W_ref`` at both ends); at most half
        the PMF range.
    z_offset
        Mesh z = profile z + ``z_offset`` [nm] (e.g. the MD pore centre onto the membrane
        centre, ``z = 0`` on channel meshes).
    confinement_area, reference_area_nm2
        Accessible cross-section ``A(z)`` [nm^2] (a callable on the profile's z) and the
        reference area the PMF is normalised to: give both to remove the confinement entropy
        ``-ln(A/A_ref)`` that PNP already represents through the geometry.
    domain
        ``(z_bottom, z_top)`` of the bath ends [nm]; checked: ``mu_ex`` must vanish there.
    end_tolerance_kT
        Warn when ``|W(end) - W_ref|`` exceeds this at either end.

    Raises
    ------
    InputError
        Bad options, a non-vanishing ``mu_ex`` at the bath ends, or a discontinuous result.
    """
    prof = _as_profile(profile)
    if dim not in (2, 3):
        raise InputError(f"dim must be 2 (axisymmetric) or 3, got {dim!r}")
    w_ref = _reference_level(prof, reference)
    taper = _checked_taper(prof, taper_nm)
    a_ref = _checked_confinement(prof, confinement_area, reference_area_nm2)
    _warn_off_reference_ends(prof, w_ref, taper, end_tolerance_kT)
    mu = PMFExcessPotential(prof, dim - 1, float(z_offset), w_ref, taper, confinement_area, a_ref)
    _check_vanishing_ends(mu, taper, domain)
    return mu


def _reference_level(prof: Any, reference: str | float) -> float:
    """``W_ref`` [kT]: ``"ends"`` (mean of the end values), ``"left"``, ``"right"`` or a number."""
    w_left, w_right = float(prof.W[0]), float(prof.W[-1])
    if isinstance(reference, str):
        table = {"ends": 0.5 * (w_left + w_right), "left": w_left, "right": w_right}
        if reference not in table:
            raise InputError(
                f"reference must be 'ends', 'left', 'right' or a number [kT], got {reference!r}"
            )
        return table[reference]
    w_ref = float(reference)
    if not math.isfinite(w_ref):
        raise InputError(f"reference must be finite [kT], got {reference!r}")
    return w_ref


def _checked_taper(prof: Any, taper_nm: float) -> float:
    """The taper width [nm]: finite, in ``[0, half the PMF range]``."""
    taper = float(taper_nm)
    length = float(prof.z[-1] - prof.z[0])
    if not (math.isfinite(taper) and 0 <= taper <= 0.5 * length):
        raise InputError(
            f"taper_nm must be in [0, {0.5 * length:g}] nm (half the PMF range), got {taper_nm!r}"
        )
    return taper


def _checked_confinement(
    prof: Any,
    confinement_area: Callable[[np.ndarray], np.ndarray] | None,
    reference_area_nm2: float | None,
) -> float | None:
    """Check ``A(z)`` and ``A_ref`` (both or neither); return ``A_ref`` [nm^2] or None."""
    if (confinement_area is None) != (reference_area_nm2 is None):
        raise InputError(
            "give both confinement_area (A(z) [nm^2]) and reference_area_nm2 (A_ref), or neither"
        )
    if confinement_area is None:
        return None
    if not callable(confinement_area):
        raise InputError("confinement_area must be a callable A(z) -> nm^2")
    a_ref = float(reference_area_nm2)
    area = np.asarray(confinement_area(prof.z), dtype=float)
    if not (math.isfinite(a_ref) and a_ref > 0):
        raise InputError(f"reference_area_nm2 must be > 0, got {reference_area_nm2!r}")
    if area.shape != prof.z.shape or not np.all(np.isfinite(area) & (area > 0)):
        raise InputError("confinement_area(z) must return finite areas > 0 nm^2 on the grid")
    return a_ref


def _warn_off_reference_ends(prof: Any, w_ref: float, taper: float, tolerance_kT: float) -> None:
    """Warn when an end of W is more than ``tolerance_kT`` from ``W_ref`` (the taper's force)."""
    offsets = {"left": float(prof.W[0]) - w_ref, "right": float(prof.W[-1]) - w_ref}
    for end, off in offsets.items():
        if abs(off) > tolerance_kT:
            logger.warning(
                "the PMF's %s end is %.3g kT from the reference %.3g kT: the taper over %.3g nm "
                "adds an artificial force there; sample further into the bath or check the gauge",
                end,
                off,
                w_ref,
                taper,
            )


def _check_vanishing_ends(
    mu: PMFExcessPotential, taper: float, domain: tuple[float, float] | None
) -> None:
    """``mu_ex`` must be continuous at the PMF's ends and vanish on the bath ends."""
    if taper == 0.0:
        ends = mu.along_axis(np.array([mu.z_lo, mu.z_hi]))
        if np.max(np.abs(ends)) > 1e-8:
            raise InputError(
                f"with taper_nm=0 mu_ex jumps by {np.max(np.abs(ends)):.3g} kT at the PMF's ends "
                "(W does not equal the reference there); use taper_nm > 0"
            )
    if domain is not None:
        zb, zt = map(float, domain)
        vals = mu.along_axis(np.array([zb, zt]))
        worst = float(np.max(np.abs(vals)))
        if worst > 1e-8:
            raise InputError(
                f"mu_ex is {worst:.3g} kT on a bath end (z = {zb:g} or {zt:g} nm): the PMF range "
                f"[{mu.z_lo:g}, {mu.z_hi:g}] nm reaches the bath ends, where the PNP solver needs "
                "mu_ex = 0; trim the PMF, shift it with z_offset, or enlarge the baths"
            )
