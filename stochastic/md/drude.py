"""Drude oscillators: harmonic core-shell springs, Thole screening, hard wall, SCF relaxation.

A polarisable atom is a core plus a Drude particle of charge ``q_D`` on a spring ``k_D``; in a
field ``E`` the Drude moves by ``d = q_D E / k_D`` and the induced dipole is
``p = q_D d = alpha E`` with ``alpha = q_D^2 / k_D`` [e^2 nm^2 mol/kJ]; divide by
``ke = 138.935 kJ mol^-1 nm e^-2`` (:data:`poreflux.units.COULOMB_KJ_NM`) for the polarisability
volume ``alpha / (4 pi eps0)`` in nm^3, i.e. ``k_D = ke q_D^2 / alpha_vol``
(Lamoureux & Roux, J. Chem. Phys. 119, 3025 (2003)).

Thole screening between induced dipoles i and j (the four charge pairs ``(+-q_Di, +-q_Dj)``, the
core carrying ``-q_D`` of the dipole) replaces ``1/r`` by ``S(r)/r`` with
``S = 1 - (1 + u/2) exp(-u)``, ``u = a r / (alpha_i alpha_j)^(1/6)`` (``alpha`` as volumes in
nm^3; Thole, Chem. Phys. 59, 341 (1981); the CHARMM Drude / OpenMM form with ``a = a_i + a_j``).
The plain Coulomb interaction of screened pairs must be excluded from the main Coulomb term
(:meth:`DrudeModel.required_exclusions`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from poreflux.units import COULOMB_KJ_NM
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField, ForceResult
from stochastic.md.neighbors import NeighborList, box_arrays, minimum_image
from stochastic.md.system import System

log = logging.getLogger(__name__)


class DrudeConvergenceError(RuntimeError):
    """The self-consistent Drude relaxation did not converge."""


class DrudeModel:
    """Core-Drude springs (a force term) plus Thole screening, hard wall and SCF relaxation.

    Parameters
    ----------
    system
        The system; Drude particles are ordinary particles with their own type (small mass for
        the extended-Lagrangian scheme, any mass for SCF).
    pairs
        ``(core, drude)`` index pairs.
    k
        Spring constant(s) k_D [kJ/mol/nm^2], scalar or one per pair.
    thole
        Thole parameter ``a`` for the screened pairs (dimensionless; 2.6 = 1.3 + 1.3 in CHARMM).
    screened
        Pairs of *Drude-pair indices* ``(p, s)`` (positions in ``pairs``) whose dipoles interact
        through the Thole-screened Coulomb term.
    hard_wall
        Maximum core-Drude distance [nm] enforced by reflection in the extended-Lagrangian
        integrator (e.g. 0.02 nm), or None.
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        pairs: Sequence[tuple[int, int]],
        k: float | Sequence[float],
        thole: float = 2.6,
        screened: Sequence[tuple[int, int]] = (),
        hard_wall: float | None = None,
        name: str = "drude",
    ):
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n = system.n_particles
        if len(p) == 0 or p.min() < 0 or p.max() >= n:
            raise MDInputError(f"Drude pairs must be (core, drude) indices in 0..{n - 1}")
        if len(set(p[:, 1].tolist()) | set(p[:, 0].tolist())) != 2 * len(p):
            raise MDInputError("each particle may appear in at most one Drude pair")
        kk = np.broadcast_to(np.asarray(k, dtype=float), (len(p),)).copy()
        if np.any(kk <= 0):
            raise MDInputError("Drude spring constants k_D must be > 0 kJ/mol/nm^2")
        if hard_wall is not None and hard_wall <= 0:
            raise MDInputError(f"hard_wall must be > 0 nm, got {hard_wall}")
        self.system = system
        self.name = name
        self.cores = p[:, 0].copy()
        self.drudes = p[:, 1].copy()
        self.k = kk
        self.q_d = system.charges[self.drudes]
        if np.any(self.q_d == 0):
            raise MDInputError("Drude particles must carry a charge q_D != 0")
        self.alpha = self.q_d**2 / self.k  # e^2 nm^2 mol / kJ
        self.alpha_volume = self.alpha * COULOMB_KJ_NM  # nm^3
        self.thole = float(thole)
        self.screened = np.asarray(screened, dtype=np.int64).reshape(-1, 2)
        if len(self.screened) and (self.screened.min() < 0 or self.screened.max() >= len(p)):
            raise MDInputError("screened entries are indices into the Drude pairs")
        self.hard_wall = hard_wall
        self.lengths, self.inv, _ = box_arrays(system)
        self._last_d: np.ndarray | None = None

    # --- geometry ---------------------------------------------------------------------------
    def _mi(self, d: np.ndarray) -> np.ndarray:
        return minimum_image(d, self.lengths, self.inv)

    def displacements(self, positions: np.ndarray) -> np.ndarray:
        """Drude displacements ``d = r_drude - r_core`` (npairs, 3) [nm]."""
        return self._mi(positions[self.drudes] - positions[self.cores])

    def dipoles(self, positions: np.ndarray) -> np.ndarray:
        """Induced dipoles ``p = q_D d`` (npairs, 3) [e nm]."""
        return self.q_d[:, None] * self.displacements(positions)

    def required_exclusions(self) -> list[tuple[int, int]]:
        """Pairs to exclude from LJ/Coulomb: each core-Drude pair and all Thole-screened pairs."""
        out = {(int(c), int(d)) for c, d in zip(self.cores, self.drudes, strict=True)}
        for a, b in self.screened:
            for i in (self.cores[a], self.drudes[a]):
                for j in (self.cores[b], self.drudes[b]):
                    out.add((int(min(i, j)), int(max(i, j))))
        return sorted(out)

    # --- force term -------------------------------------------------------------------------
    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Spring + Thole energy; adds forces into ``forces``; returns (energy, virial)."""
        d = self.displacements(positions)
        f = -self.k[:, None] * d  # force on the Drude
        np.add.at(forces, self.drudes, f)
        np.subtract.at(forces, self.cores, f)
        energy = 0.5 * float(np.sum(self.k * np.einsum("ij,ij->i", d, d)))
        virial = float(np.sum(f * d))
        if len(self.screened):
            e_t, w_t = self._thole(positions, forces)
            energy += e_t
            virial += w_t
        return energy, virial

    def _thole(self, positions: np.ndarray, forces: np.ndarray) -> tuple[float, float]:
        a_idx, b_idx = self.screened[:, 0], self.screened[:, 1]
        scale = self.thole / (self.alpha_volume[a_idx] * self.alpha_volume[b_idx]) ** (1 / 6)
        energy = 0.0
        virial = 0.0
        for sa, ia in ((-1.0, self.cores[a_idx]), (1.0, self.drudes[a_idx])):
            for sb, ib in ((-1.0, self.cores[b_idx]), (1.0, self.drudes[b_idx])):
                qq = sa * sb * self.q_d[a_idx] * self.q_d[b_idx]
                d = self._mi(positions[ia] - positions[ib])
                r = np.sqrt(np.einsum("ij,ij->i", d, d))
                u = scale * r
                ex = np.exp(-u)
                s = 1.0 - (1.0 + 0.5 * u) * ex
                ds_dr = scale * 0.5 * (1.0 + u) * ex  # dS/dr
                e = COULOMB_KJ_NM * qq * s / r
                # F_i = -dU/dr r_hat, U = ke qq S/r
                fr = -COULOMB_KJ_NM * qq * (ds_dr / r - s / r**2) / r
                f = fr[:, None] * d
                np.add.at(forces, ia, f)
                np.subtract.at(forces, ib, f)
                energy += float(e.sum())
                virial += float(np.sum(fr * r * r))
        return energy, virial

    # --- schemes ----------------------------------------------------------------------------
    def relax(
        self,
        forcefield: ForceField,
        positions: np.ndarray,
        tol: float = 1e-6,
        max_iter: int = 200,
    ) -> ForceResult:
        """SCF: move the Drudes (in place) until the net force on each is below ``tol``.

        Fixed-point iteration ``d <- d + F_D / k_D`` (exact in one step for a uniform field);
        the Drudes first follow their cores' displacement since the previous call. Returns the
        force result at the relaxed positions. ``tol`` in kJ/mol/nm.
        """
        if self._last_d is not None:
            positions[self.drudes] = positions[self.cores] + self._last_d
        for it in range(max_iter):
            result = forcefield.compute(positions)
            fd = result.forces[self.drudes]
            err = float(np.max(np.abs(fd))) if len(fd) else 0.0
            if err < tol:
                log.debug("Drude SCF converged in %d iterations (max force %.2e)", it, err)
                self._last_d = self.displacements(positions)
                return result
            positions[self.drudes] += fd / self.k[:, None]
        raise DrudeConvergenceError(
            f"Drude SCF did not converge in {max_iter} iterations (max Drude force {err:.3e} "
            f"kJ/mol/nm > tol {tol}): increase max_iter, reduce the polarisability, check Thole "
            "screening of close dipoles (polarisation catastrophe)"
        )

    def apply_hard_wall(self, x: np.ndarray, v: np.ndarray, masses: np.ndarray) -> int:
        """Reflect Drudes beyond ``hard_wall`` back inside; returns how many were reflected.

        The displacement is mirrored at the wall and the radial relative velocity reversed,
        keeping each pair's centre-of-mass position and velocity.
        """
        if self.hard_wall is None:
            return 0
        d = self.displacements(x)
        r = np.sqrt(np.einsum("ij,ij->i", d, d))
        out = np.flatnonzero(r > self.hard_wall)
        if len(out) == 0:
            return 0
        c, dr = self.cores[out], self.drudes[out]
        mc, md = masses[c], masses[dr]
        mt = mc + md
        u = d[out] / r[out, None]
        r_new = np.maximum(2 * self.hard_wall - r[out], 0.0)
        shift = (r_new - r[out])[:, None] * u  # change of the relative vector
        x[dr] += (mc / mt)[:, None] * shift
        x[c] -= (md / mt)[:, None] * shift
        vrel = v[dr] - v[c]
        vr = np.einsum("ij,ij->i", vrel, u)
        dv = np.where(vr > 0, -2 * vr, 0.0)[:, None] * u
        v[dr] += (mc / mt)[:, None] * dv
        v[c] -= (md / mt)[:, None] * dv
        return len(out)

    def temperatures(self, v: np.ndarray, masses: np.ndarray) -> tuple[float, float]:
        """(centre-of-mass, relative) kinetic temperatures [K] of the Drude pairs."""
        from stochastic.md.system import KB_KJ_PER_MOL_K

        mc, md = masses[self.cores], masses[self.drudes]
        mt = mc + md
        mu = mc * md / mt
        vcom = (mc[:, None] * v[self.cores] + md[:, None] * v[self.drudes]) / mt[:, None]
        vrel = v[self.drudes] - v[self.cores]
        dof = 3 * len(mt)
        t_com = float(np.sum(mt[:, None] * vcom**2)) / (dof * KB_KJ_PER_MOL_K)
        t_rel = float(np.sum(mu[:, None] * vrel**2)) / (dof * KB_KJ_PER_MOL_K)
        return t_com, t_rel
