"""Bonded terms for small molecules: harmonic bonds ``U = k/2 (r - r0)^2``.

Bonded pairs usually also belong in :attr:`System.exclusions` (no LJ/Coulomb between them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.md.angles import scatter_add
from stochastic.md.errors import MDInputError
from stochastic.md.neighbors import NeighborList, box_arrays, minimum_image
from stochastic.md.system import System


class HarmonicBonds:
    """Harmonic bonds between particle pairs (minimum image in periodic boxes).

    Parameters
    ----------
    system
        The system.
    pairs
        ``(i, j)`` bonded pairs.
    k
        Force constant(s) [kJ/mol/nm^2], scalar or one per bond, >= 0.
    r0
        Equilibrium length(s) [nm], scalar or one per bond, >= 0.
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        pairs: Sequence[tuple[int, int]],
        k: float | Sequence[float],
        r0: float | Sequence[float],
        name: str = "bonds",
    ):
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n = system.n_particles
        if len(p) and (p.min() < 0 or p.max() >= n or np.any(p[:, 0] == p[:, 1])):
            raise MDInputError(f"bonds must join two different particles in 0..{n - 1}")
        self.i, self.j = p[:, 0].copy(), p[:, 1].copy()
        self.k = np.broadcast_to(np.asarray(k, dtype=float), (len(p),)).copy()
        self.r0 = np.broadcast_to(np.asarray(r0, dtype=float), (len(p),)).copy()
        if np.any(self.k < 0) or np.any(self.r0 < 0):
            raise MDInputError("bond force constants and lengths must be >= 0")
        self.lengths, self.inv, _ = box_arrays(system)
        self.name = name

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add bond forces; return (energy, virial)."""
        if len(self.i) == 0:
            return 0.0, 0.0
        d = minimum_image(positions[self.i] - positions[self.j], self.lengths, self.inv)
        r = np.sqrt(np.einsum("ij,ij->i", d, d))
        if np.any(r == 0):
            raise MDInputError("a bonded pair sits on top of each other: bond direction undefined")
        dev = r - self.r0
        fr = -self.k * dev / r  # F_i = fr * d
        f = fr[:, None] * d
        scatter_add(forces, self.i, f)
        scatter_add(forces, self.j, -f)
        return 0.5 * float(np.sum(self.k * dev**2)), float(np.sum(fr * r * r))
