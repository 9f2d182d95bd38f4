"""Harmonic bond angles ``U = k/2 (theta - theta0)^2`` (TraPPE/GROMACS form, harmonic in theta).

For an angle i-j-k with ``u = r_i - r_j`` and ``v = r_k - r_j``, ``cos(theta) = u.v / (|u||v|)``
and the forces are ``F_i = k (theta - theta0) / sin(theta) (v_hat - cos(theta) u_hat) / |u|``,
``F_k`` likewise with u and v swapped, ``F_j = -(F_i + F_k)`` (Allen & Tildesley, *Computer
Simulation of Liquids*, 2nd ed., appendix C.2). The scalar virial is ``u.F_i + v.F_k``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.md.bonded_kernels import angle_forces
from stochastic.md.errors import MDInputError
from stochastic.md.neighbors import NeighborList, box_arrays
from stochastic.md.system import System


def _per_term(value: float | Sequence[float], n: int, name: str) -> np.ndarray:
    """Broadcast a scalar or per-term sequence to length ``n``; refuse non-finite values."""
    arr = np.asarray(value, dtype=float)
    try:
        out = np.broadcast_to(arr, (n,)).copy()
    except ValueError as err:
        raise MDInputError(f"{name} needs one value or {n} values, got shape {arr.shape}") from err
    if not np.all(np.isfinite(out)):
        raise MDInputError(f"{name} must be finite")
    return out


def scatter_add(forces: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``forces[index] += values`` with repeated indices summed (``np.bincount`` per axis, several
    times faster than ``np.add.at``)."""
    n = forces.shape[0]
    for d in range(3):
        forces[:, d] += np.bincount(index, values[:, d], minlength=n)


def check_indices(index: np.ndarray, n_particles: int, what: str) -> None:
    """Raise unless every row of ``index`` names distinct particles in ``0..n_particles-1``."""
    if len(index) == 0:
        return
    if index.min() < 0 or index.max() >= n_particles:
        raise MDInputError(f"{what} must name particles in 0..{n_particles - 1}")
    srt = np.sort(index, axis=1)
    if np.any(srt[:, 1:] == srt[:, :-1]):
        raise MDInputError(f"each {what[:-1]} must join different particles")


class HarmonicAngles:
    """Harmonic angle term over triplets ``(i, j, k)`` (j is the vertex).

    Parameters
    ----------
    system
        The system (box for minimum images).
    triplets
        ``(i, j, k)`` angles.
    k
        Force constant(s) [kJ/mol/rad^2], scalar or one per angle, >= 0.
    theta0
        Equilibrium angle(s) [rad], scalar or one per angle, in [0, pi].
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        triplets: Sequence[tuple[int, int, int]],
        k: float | Sequence[float],
        theta0: float | Sequence[float],
        name: str = "angles",
    ):
        t = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
        check_indices(t, system.n_particles, "angles")
        self.i, self.j, self.k_idx = t[:, 0].copy(), t[:, 1].copy(), t[:, 2].copy()
        self.k = _per_term(k, len(t), "angle force constant k")
        self.theta0 = _per_term(theta0, len(t), "angle theta0")
        if np.any(self.k < 0):
            raise MDInputError("angle force constants must be >= 0 kJ/mol/rad^2")
        if np.any((self.theta0 < 0) | (self.theta0 > np.pi)):
            raise MDInputError("angle theta0 must lie in [0, pi] rad")
        self.lengths, self.inv, _ = box_arrays(system)
        self.name = name

    def _vectors(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = positions[self.i] - positions[self.j]
        v = positions[self.k_idx] - positions[self.j]
        u -= self.lengths * np.rint(u * self.inv)
        v -= self.lengths * np.rint(v * self.inv)
        return u, v

    def angles(self, positions: np.ndarray) -> np.ndarray:
        """Current angles [rad]."""
        u, v = self._vectors(np.asarray(positions, float))
        c = np.einsum("ij,ij->i", u, v) / np.sqrt(
            np.einsum("ij,ij->i", u, u) * np.einsum("ij,ij->i", v, v)
        )
        return np.arccos(np.clip(c, -1.0, 1.0))

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add angle forces; return (energy, virial)."""
        e, w, bad = angle_forces(
            positions, self.i, self.j, self.k_idx, self.k, self.theta0, self.lengths, self.inv,
            forces,
        )  # fmt: skip
        if bad >= 0:
            raise MDInputError(f"angle {bad} has two particles on top of each other")
        return float(e), float(w)
