"""Multivalent counter-ions at a strongly charged membrane face: overcharging in BD.

Mean-field theory cannot overcharge a single charged wall: in Poisson-Boltzmann (point ions, or
any local density that depends on the potential alone, such as Bikerman's steric PB) the mobile
charge density ``rho(psi) = sum_s q_s c_s exp(-q_s psi)`` has the sign opposite to ``psi``, and by
the maximum principle ``psi`` keeps the sign of the fixed charge everywhere; the counter-charge
accumulated within a distance ``x`` of the wall therefore grows monotonically towards the wall
charge and never exceeds it. Ion-ion correlations of multivalent counter-ions (a strongly
correlated, Wigner-crystal-like layer; coupling ``Xi = 2 pi q^3 l_B^2 |sigma|``) bind more
counter-charge than the wall carries, and the excess is compensated further out: charge inversion
(Torrie & Valleau, J. Chem. Phys. 73, 5807 (1980); Shklovskii, Phys. Rev. E 60, 5802 (1999);
Grosberg, Nguyen & Shklovskii, Rev. Mod. Phys. 74, 329 (2002)).

The set-up here is plain data for :mod:`stochastic.bd`: both faces of a membrane carry a uniform
surface charge ``sigma`` [e/nm^2] over the bath's cross-section (a disc of the bath radius); the
pore is closed (a tiny hole whose interior is blocked by ``block_kT``), so each bath is a charged
wall with a grand-canonical buffer at its far end. The external field is the *unscreened*
potential of the two discs (uniform dielectric: the membrane has the solvent's permittivity, no
image charges), so the buffers must use ``reference="zero"`` (the reservoir at zero potential;
the ions screen the discs). The measured quantity is the neutralisation ratio

    eta(x) = -(sum of ion charges within distance x of the face) / Q_face

with ``Q_face = sigma pi R_b^2``; ``eta > 1`` is overcharging. Both baths are pooled by symmetry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ellipk

from poreflux.species import Electrolyte
from poreflux.water import EPS_WATER_25C
from stochastic.bd.fields import ExternalField, GridField
from stochastic.bd.geometry import BDInputError, ChannelGeometry
from stochastic.bd.observables import BDResult
from stochastic.bd.system import BDSystem

__all__ = [
    "ChargeNeutralisation",
    "add_counterions",
    "charged_face_system",
    "disc_potential",
    "neutralisation",
]

#: radius of the closed pore [nm] (the ChannelGeometry needs a pore; its interior is blocked)
CLOSED_PORE = 0.02


def _gauss_panels(lo: float, hi: float, toward_hi: bool, n_panels: int = 14, order: int = 8):
    """Gauss-Legendre nodes/weights on ``[lo, hi]`` in panels graded geometrically towards one
    end (where the ring kernel has its logarithmic singularity)."""
    if hi <= lo:
        return np.zeros(0), np.zeros(0)
    frac = np.concatenate(([0.0], 0.35 ** np.arange(n_panels - 1, -1, -1)))  # 0 .. 1, fine at 0
    edges = lo + (hi - lo) * ((1 - frac) if toward_hi else frac)
    edges = np.sort(edges)
    t, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    return (0.5 * (b - a) * t + 0.5 * (a + b)).ravel(), (0.5 * (b - a) * w).ravel()


def disc_potential(
    radius: float, sigma_e_nm2: float, r: np.ndarray, z: np.ndarray, bjerrum_nm: float
) -> np.ndarray:
    """Potential [kT/e] of a uniformly charged disc (radius [nm], charge ``sigma`` [e/nm^2]) in
    the plane ``z = 0``, at the points ``r`` (1D) x ``z`` (1D), in a uniform dielectric.

    Sum of rings (Jackson, *Classical Electrodynamics*, 3rd ed., problem 3.3 / section 5.5)::

        phi(r, z) = l_B sigma int_0^R 4 s K(m) / sqrt((r + s)^2 + z^2) ds,
        m = 4 r s / ((r + s)^2 + z^2)

    with ``K`` the complete elliptic integral of the first kind (parameter ``m``), integrated by
    Gauss-Legendre panels graded towards ``s = r`` (log singularity on the disc). Checks: on the
    axis ``2 pi l_B sigma (sqrt(R^2 + z^2) - |z|)``; at the rim in the plane ``4 l_B sigma R``.
    """
    r = np.asarray(r, dtype=float)
    z = np.abs(np.asarray(z, dtype=float))
    out = np.empty((r.size, z.size))
    for i, ri in enumerate(r):
        s1, w1 = _gauss_panels(0.0, min(ri, radius), toward_hi=True)
        s2, w2 = _gauss_panels(min(ri, radius), radius, toward_hi=False)
        s, w = np.concatenate((s1, s2)), np.concatenate((w1, w2))
        den = (ri + s[:, None]) ** 2 + z[None, :] ** 2
        m = np.minimum(4.0 * ri * s[:, None] / den, 1.0 - 1e-16)
        out[i] = np.sum(w[:, None] * 4.0 * s[:, None] * ellipk(m) / np.sqrt(den), axis=0)
    return bjerrum_nm * sigma_e_nm2 * out


def charged_face_system(
    electrolyte: Electrolyte,
    sigma_e_nm2: float,
    *,
    bath_radius: float = 2.5,
    bath_length: float = 4.0,
    membrane_thickness: float = 1.0,
    buffer_length: float = 1.2,
    temperature: float = 298.15,
    eps_r: float = EPS_WATER_25C,
    spacing: float = 0.05,
    block_kT: float = 500.0,
    **system_options,
) -> BDSystem:
    """A closed membrane whose two faces carry ``sigma_e_nm2`` [e/nm^2], between two baths.

    Run it with ``BDSimulation(system, seed, reference="zero")`` (or ``simulate(...,
    reference="zero")``): the field is the unscreened potential of the charged faces. Other
    keywords go to :class:`BDSystem`.
    """
    if not math.isfinite(sigma_e_nm2) or sigma_e_nm2 == 0:
        raise BDInputError(f"sigma_e_nm2 must be finite and non-zero, got {sigma_e_nm2!r}")
    g = ChannelGeometry(membrane_thickness, CLOSED_PORE, bath_radius, bath_length, buffer_length)
    names = electrolyte.names
    probe = BDSystem(g, electrolyte, temperature=temperature, eps_r=eps_r)  # validates, l_B
    n_z = 2 * max(1, round(g.z_max / spacing)) + 1  # z = +-L/2 fall on nodes when L/2 does
    zg = np.linspace(-g.z_max, g.z_max, n_z)
    rg = np.linspace(0.0, bath_radius, max(2, round(bath_radius / spacing) + 1))
    h = g.half_length
    phi = sum(
        disc_potential(bath_radius, sigma_e_nm2, rg, zg - face, probe.bjerrum_nm)
        for face in (-h, h)
    )
    inside = np.abs(zg) < h - 1e-9
    block = np.where(inside[None, :], block_kT, 0.0) * np.ones((rg.size, 1))
    field = ExternalField(
        potential=GridField((rg, zg), phi, "kT/e"),
        self_energy={name: GridField((rg, zg), block, "kT") for name in names},
    )
    return BDSystem(
        g, electrolyte, temperature=temperature, eps_r=eps_r, field=field, **system_options
    )


@dataclass(frozen=True)
class ChargeNeutralisation:
    """``eta(x)`` with its block standard error, ``x`` [nm] the distance from the face."""

    x: np.ndarray
    eta: np.ndarray
    eta_err: np.ndarray
    face_charge_e: float

    @property
    def peak(self) -> tuple[float, float, float]:
        """``(x, eta, err)`` at the largest ``eta``."""
        k = int(np.argmax(self.eta))
        return float(self.x[k]), float(self.eta[k]), float(self.eta_err[k])


def neutralisation(system: BDSystem, result: BDResult, sigma_e_nm2: float) -> ChargeNeutralisation:
    """The neutralisation ratio ``eta(x)`` from the production blocks (both baths pooled)."""
    g = system.geometry
    q_face = sigma_e_nm2 * math.pi * g.bath_radius**2
    edges = np.concatenate(([result.z[0] - 0.5 * (result.z[1] - result.z[0])],
                            result.z + 0.5 * (result.z[1] - result.z[0])))  # fmt: skip
    counts = np.asarray(result.blocks.hist) / np.asarray(result.blocks.samples)[:, None, None]
    charge = np.einsum("s,bsk->bk", system.valences, counts)  # mean charge per bin, per block
    right = edges[:-1] >= g.half_length - 1e-9
    left = edges[1:] <= -g.half_length + 1e-9
    q_right = np.cumsum(charge[:, right], axis=1)
    q_left = np.cumsum(charge[:, left][:, ::-1], axis=1)
    eta = -0.5 * (q_right + q_left) / q_face
    x = edges[1:][right] - g.half_length
    n = eta.shape[0]
    err = eta.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(x.size, np.nan)
    return ChargeNeutralisation(x, eta.mean(axis=0), err, q_face)


def add_counterions(sim, sigma_e_nm2: float, rng: np.random.Generator) -> int:
    """Add counter-ions next to both charged faces of ``sim`` (a :class:`BDSimulation` of a
    :func:`charged_face_system`) until faces + ions are neutral to within half a counter-ion
    charge; returns the number added.

    Run with ``exchange="salt"`` (neutral groups and transfers only: the total charge is then
    conserved), so the double layers stay neutral, as a planar double layer is. The counter-ion
    is the most concentrated species of the sign opposite to ``sigma``.
    """
    system, st = sim.system, sim.state
    g, q = system.geometry, system.valences
    fill = np.where(np.sign(q) == -np.sign(sigma_e_nm2), system.targets_mM, -np.inf)
    s = int(np.argmax(fill))
    need = -2.0 * sigma_e_nm2 * math.pi * g.bath_radius**2  # ion charge that neutralises
    r_max = g.bath_radius - float(np.max(system.radii))
    added = 0
    while abs(float(np.sum(st.q[: st.n])) - need) > 0.5 * abs(q[s]):
        for _ in range(10000):
            rr, ph = r_max * math.sqrt(rng.random()), 2 * math.pi * rng.random()
            zz = (g.half_length + rng.uniform(0.3, 1.0)) * (1.0 if rng.random() < 0.5 else -1.0)
            p = (rr * math.cos(ph), rr * math.sin(ph), zz)
            d2 = (st.x[: st.n] - p[0]) ** 2 + (st.y[: st.n] - p[1]) ** 2 + (st.z[: st.n] - zz) ** 2
            if np.all(d2 > (st.a[: st.n] + system.radii[s]) ** 2):
                st.add(s, *p)
                added += 1
                break
        else:
            raise BDInputError("could not place the counter-ions of the charged faces")
    return added
