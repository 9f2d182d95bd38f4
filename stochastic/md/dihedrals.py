"""Proper dihedrals in the OPLS cosine series (TraPPE form).

``U(phi) = c0 + c1 (1 + cos phi) + c2 (1 - cos 2 phi) + c3 (1 + cos 3 phi)`` with the polymer
convention trans = 180 deg (Jorgensen, Madura & Swenson, JACS 106, 6638 (1984); the TraPPE-UA
torsions of Martin & Siepmann, J. Phys. Chem. B 102, 2569 (1998) and 103, 4508 (1999)). The
Ryckaert-Bellemans form ``sum_n C_n cos^n psi`` (psi = phi - 180 deg) is the same function
(:func:`rb_from_opls`).

Forces follow Bekker's formulation as used in GROMACS (Bekker, PhD thesis, Groningen (1996);
Blondel & Karplus, J. Comput. Chem. 17, 1132 (1996)): with ``r_ij = x_i - x_j``,
``r_kj = x_k - x_j``, ``r_kl = x_k - x_l``, ``m = r_ij x r_kj``, ``n = r_kj x r_kl``,
``F_i = -U'(phi) |r_kj| m / |m|^2``, ``F_l = U'(phi) |r_kj| n / |n|^2`` and the middle atoms
share the rest so that total force and torque vanish.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.md.angles import check_indices
from stochastic.md.bonded_kernels import dihedral_forces
from stochastic.md.errors import MDInputError
from stochastic.md.neighbors import NeighborList, box_arrays, minimum_image
from stochastic.md.system import System


def opls_energy(phi: np.ndarray, c: np.ndarray) -> np.ndarray:
    """OPLS series ``U(phi)`` [kJ/mol] for coefficients ``c`` (..., 4) [kJ/mol]."""
    c = np.asarray(c, float)
    return (
        c[..., 0]
        + c[..., 1] * (1 + np.cos(phi))
        + c[..., 2] * (1 - np.cos(2 * phi))
        + c[..., 3] * (1 + np.cos(3 * phi))
    )


def rb_from_opls(c: Sequence[float]) -> np.ndarray:
    """Ryckaert-Bellemans ``C_0..C_3`` of ``sum_n C_n cos^n(psi)``, ``psi = phi - pi``.

    With ``cos phi = -cos psi``, ``cos 2 phi = 2 cos^2 psi - 1`` and
    ``cos 3 phi = -4 cos^3 psi + 3 cos psi``: ``C0 = c0 + c1 + 2 c2 + c3``, ``C1 = -c1 + 3 c3``,
    ``C2 = -2 c2``, ``C3 = -4 c3``.
    """
    c0, c1, c2, c3 = (float(x) for x in c)
    return np.array([c0 + c1 + 2 * c2 + c3, -c1 + 3 * c3, -2 * c2, -4 * c3])


class OPLSDihedrals:
    """Proper dihedral term over quadruplets ``(i, j, k, l)`` (rotation about j-k).

    Parameters
    ----------
    system
        The system (box for minimum images).
    quads
        ``(i, j, k, l)`` dihedrals.
    coefficients
        ``(c0, c1, c2, c3)`` [kJ/mol]: one row for all or one row per dihedral.
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        quads: Sequence[tuple[int, int, int, int]],
        coefficients: Sequence[float] | np.ndarray,
        name: str = "dihedrals",
    ):
        q = np.asarray(quads, dtype=np.int64).reshape(-1, 4)
        check_indices(q, system.n_particles, "dihedrals")
        self.idx = q
        c = np.asarray(coefficients, dtype=float)
        try:
            self.c = np.broadcast_to(c, (len(q), 4)).copy()
        except ValueError as err:
            raise MDInputError(
                f"dihedral coefficients need shape (4,) or ({len(q)}, 4), got {c.shape}"
            ) from err
        if not np.all(np.isfinite(self.c)):
            raise MDInputError("dihedral coefficients must be finite")
        self.lengths, self.inv, _ = box_arrays(system)
        self.name = name

    def _vectors(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i, j, k, l_ = self.idx.T
        out = []
        for a, b in ((i, j), (k, j), (k, l_)):
            out.append(minimum_image(x[a] - x[b], self.lengths, self.inv))
        return out[0], out[1], out[2]

    @staticmethod
    def _phi(rij: np.ndarray, rkj: np.ndarray, rkl: np.ndarray):
        m = np.cross(rij, rkj)
        n = np.cross(rkj, rkl)
        cos = np.einsum("ij,ij->i", m, n)
        sin = np.einsum("ij,ij->i", np.cross(m, n), rkj) / np.linalg.norm(rkj, axis=1)
        return np.arctan2(sin, cos), m, n

    def dihedrals(self, positions: np.ndarray) -> np.ndarray:
        """Current dihedral angles [rad] in (-pi, pi] (trans = +-pi)."""
        return self._phi(*self._vectors(np.asarray(positions, float)))[0]

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add dihedral forces; return (energy, virial)."""
        e, w, bad = dihedral_forces(positions, self.idx, self.c, self.lengths, self.inv, forces)
        if bad >= 0:
            raise MDInputError(
                f"dihedral {bad} has three collinear particles: its angle is undefined"
            )
        return float(e), float(w)
