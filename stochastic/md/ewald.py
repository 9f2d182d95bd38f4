"""Coulomb interactions by Ewald summation (real + reciprocal + self + exclusion corrections).

``E = E_real + E_recip + E_self + E_excl (+ E_background)`` with (``ke = 138.935 kJ mol^-1 nm e^-2``
/ ``epsilon_r``)::

    E_real  = ke sum_{i<j, not excluded, r<rc} q_i q_j erfc(alpha r_ij) / r_ij
    E_recip = (2 pi ke / V) sum_{k != 0} exp(-k^2 / 4 alpha^2) / k^2 |sum_j q_j exp(i k.r_j)|^2
    E_self  = -ke alpha / sqrt(pi) sum_i q_i^2
    E_excl  = -ke sum_{excluded i<j} q_i q_j erf(alpha r_ij) / r_ij
    E_bg    = -ke pi Q^2 / (2 V alpha^2)        (neutralising background if the net charge Q != 0)

(Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., section 6.2; tin-foil boundary
conditions.) The splitting parameter ``alpha`` and the k-space cut are chosen from a relative
``tolerance``: ``erfc(alpha rc) ~ tol`` and ``exp(-k_c^2 / 4 alpha^2) ~ tol``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf, erfc

from poreflux.units import COULOMB_KJ_NM
from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import raise_overlap
from stochastic.md.neighbors import NeighborList, box_arrays, minimum_image
from stochastic.md.system import System


def _erf_over_r(alpha: float, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g(r) = erf(alpha r)/r`` and ``g'(r)/r``, with the r -> 0 limits (Drude on its core)."""
    small = r < 1e-6 / alpha
    rs = np.where(small, 1.0, r)
    g = np.where(small, 2 * alpha / math.sqrt(math.pi), erf(alpha * rs) / rs)
    dg = (
        2 * alpha / math.sqrt(math.pi) * np.exp(-((alpha * rs) ** 2)) / rs - erf(alpha * rs) / rs**2
    )
    dg_over_r = np.where(small, -4 * alpha**3 / (3 * math.sqrt(math.pi)), dg / rs)
    return g, dg_over_r


class Ewald:
    """Ewald-summed Coulomb term (needs a fully periodic box).

    Parameters
    ----------
    system
        The system (charges from the types; excluded pairs get the erf correction).
    cutoff
        Real-space cutoff [nm] (<= half the box).
    tolerance
        Relative accuracy that sets ``alpha`` and the k-space cut when they are not given.
    alpha
        Splitting parameter [1/nm] (default ``sqrt(-ln tol)/rc``).
    kmax
        Largest k index per axis (default from ``tolerance``); k vectors with ``|k| <= k_c``.
    epsilon_r
        Relative permittivity dividing all charges' interactions (1 for explicit solvent; a
        primitive-model implicit solvent uses e.g. 78.5).
    min_distance
        Charged pairs closer than this [nm] raise :class:`OverlapError`.
    name
        Term name.
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        tolerance: float = 1e-6,
        alpha: float | None = None,
        kmax: int | tuple[int, int, int] | None = None,
        epsilon_r: float = 1.0,
        min_distance: float = 0.01,
        name: str = "coulomb",
    ):
        if system.box is None or not all(system.box.periodic):
            raise MDInputError(
                "Ewald summation needs a fully periodic box; for an isolated system (box=None) use "
                "stochastic.md.coulomb_direct.CoulombDirect (all pairs, no cutoff), for a slab or "
                "isolated system with a cutoff stochastic.md.reaction_field.ReactionField"
            )
        if not (0 < tolerance < 1):
            raise MDInputError(f"Ewald tolerance must be in (0, 1), got {tolerance}")
        if epsilon_r <= 0:
            raise MDInputError(f"epsilon_r must be > 0, got {epsilon_r}")
        system.check_cutoff(cutoff)
        self.system = system
        self.name = name
        self.cutoff = float(cutoff)
        self.ke = COULOMB_KJ_NM / epsilon_r
        ln = -math.log(tolerance)
        self.alpha = float(alpha) if alpha is not None else math.sqrt(ln) / self.cutoff
        self.kcut = 2.0 * self.alpha * math.sqrt(ln)
        L = system.box.lengths_array()
        if kmax is None:
            self.kmax = np.ceil(self.kcut * L / (2 * math.pi)).astype(np.int64)
        else:
            km = (kmax,) * 3 if isinstance(kmax, int) else kmax
            self.kmax = np.asarray(km, dtype=np.int64)
            self.kcut = float(np.min(2 * math.pi * self.kmax / L)) * (1 + 1e-12)
        self.q = np.ascontiguousarray(system.charges)
        self.charged = np.flatnonzero(self.q != 0.0)
        self.lengths, self.inv, _ = box_arrays(system)
        self.min_distance = float(min_distance)
        excl = np.array(system.exclusions, dtype=np.int64).reshape(-1, 2)
        qq = self.q[excl[:, 0]] * self.q[excl[:, 1]] if len(excl) else np.zeros(0)
        self.excl = excl[qq != 0.0]
        self.excl_qq = qq[qq != 0.0]
        qtot = float(self.q.sum())
        vol = system.box.volume
        self.e_self = -self.ke * self.alpha / math.sqrt(math.pi) * float(np.sum(self.q**2))
        self.e_background = -self.ke * math.pi * qtot**2 / (2 * vol * self.alpha**2)

    def _exclusion_correction(self, pos: np.ndarray, forces: np.ndarray) -> tuple[float, float]:
        if len(self.excl) == 0:
            return 0.0, 0.0
        i, j = self.excl[:, 0], self.excl[:, 1]
        d = minimum_image(pos[i] - pos[j], self.lengths, self.inv)
        r = np.sqrt(np.einsum("ij,ij->i", d, d))
        g, dg_over_r = _erf_over_r(self.alpha, r)
        # U = -ke qq g(r); F_i = -dU/dr r_hat = ke qq g'(r)/r d
        fr = self.ke * self.excl_qq * dg_over_r
        f = fr[:, None] * d
        np.add.at(forces, i, f)
        np.subtract.at(forces, j, f)
        return float(-self.ke * np.sum(self.excl_qq * g)), float(np.sum(fr * r * r))

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add Coulomb forces into ``forces``; return (energy, virial)."""
        assert nlist is not None
        bad = np.full(2, -1, dtype=np.int64)
        e_real, w_real = kernels.coulomb_half(
            positions, self.lengths, self.inv, self.q, self.min_distance**2, self.cutoff**2, 0,
            self.alpha, 0.0, 0.0, self.ke, nlist.start, nlist.nbr, forces, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            raise_overlap(bad, positions, self.system, "Coulomb")
        e_rec, w_rec = self.reciprocal(positions, forces)
        e_ex, w_ex = self._exclusion_correction(positions, forces)
        energy = e_real + e_rec + self.e_self + e_ex + self.e_background
        # at fixed alpha the background term scales as 1/V: its virial -3V dE/dV is 3 E_bg
        return energy, w_real + w_rec + w_ex + 3.0 * self.e_background

    def reciprocal(self, positions: np.ndarray, forces: np.ndarray) -> tuple[float, float]:
        """Reciprocal-space energy and virial; adds its forces into ``forces``."""
        c = self.charged
        if len(c) == 0:
            return 0.0, 0.0
        fc = np.zeros((len(c), 3))
        e, w = kernels.ewald_kspace(
            np.ascontiguousarray(positions[c]), self.q[c], self.lengths, self.alpha, self.kmax,
            self.kcut**2, self.ke, fc,
        )  # fmt: skip
        forces[c] += fc
        return e, w


def ewald_reference(ew: Ewald, positions: np.ndarray) -> tuple[float, np.ndarray]:
    """Readable numpy Ewald energy and forces (all pairs, explicit k vectors); for tests."""
    pos = np.asarray(positions, dtype=np.float64)
    q, ke, a = ew.q, ew.ke, ew.alpha
    n = len(pos)
    L = ew.lengths
    forces = np.zeros_like(pos)
    # real space
    i, j = np.triu_indices(n, 1)
    excluded = set(ew.system.exclusions)
    keep = np.array([(p, s) not in excluded for p, s in zip(i, j, strict=True)], dtype=bool)
    i, j = i[keep], j[keep]
    d = pos[i] - pos[j]
    d -= L * np.rint(d / L)
    r = np.linalg.norm(d, axis=1)
    m = r < ew.cutoff
    i, j, d, r = i[m], j[m], d[m], r[m]
    qq = q[i] * q[j]
    e_real = ke * np.sum(qq * erfc(a * r) / r)
    fr = ke * qq * (erfc(a * r) / r + 2 * a / math.sqrt(math.pi) * np.exp(-((a * r) ** 2))) / r**2
    np.add.at(forces, i, fr[:, None] * d)
    np.subtract.at(forces, j, fr[:, None] * d)
    # reciprocal space: all k in the full sphere (k and -k both), no symmetry tricks
    ranges = [np.arange(-k, k + 1) for k in ew.kmax]
    grid = np.stack(np.meshgrid(*ranges, indexing="ij"), -1).reshape(-1, 3)
    kvec = grid * (2 * math.pi / L)
    k2 = np.einsum("ij,ij->i", kvec, kvec)
    sel = (k2 > 0) & (k2 < ew.kcut**2)
    kvec, k2 = kvec[sel], k2[sel]
    phase = pos @ kvec.T  # (n, nk)
    s = (q[:, None] * np.exp(1j * phase)).sum(0)
    vol = float(np.prod(L))
    akk = np.exp(-k2 / (4 * a * a)) / k2
    e_rec = 2 * math.pi * ke / vol * np.sum(akk * np.abs(s) ** 2)
    im = np.imag(np.conj(s)[None, :] * np.exp(1j * phase))  # (n, nk)
    forces += 4 * math.pi * ke / vol * q[:, None] * ((akk[None, :] * im) @ kvec)
    f_ex = np.zeros_like(pos)
    e_ex, _ = ew._exclusion_correction(pos, f_ex)
    forces += f_ex
    energy = e_real + e_rec + ew.e_self + e_ex + ew.e_background
    return float(energy), forces
