"""Lennard-Jones between listed pairs with a scaling factor (1-4 interactions).

OPLS scales intramolecular 1-4 LJ by 0.5 (Jorgensen et al., JACS 118, 11225 (1996)); TraPPE
excludes them (factor 0, then this term is simply not added). The pairs are usually also in
:attr:`System.exclusions` so that the cutoff LJ term skips them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.md.angles import check_indices, scatter_add
from stochastic.md.errors import MDInputError
from stochastic.md.mixing import lorentz_berthelot
from stochastic.md.neighbors import NeighborList, box_arrays, minimum_image
from stochastic.md.system import System


class ScaledPairLJ:
    """``U = scale * 4 eps_ij [(s_ij/r)^12 - (s_ij/r)^6]`` for the listed pairs (no cutoff).

    Parameters
    ----------
    system
        The system (types give sigma and epsilon, mixed by Lorentz-Berthelot).
    pairs
        ``(i, j)`` pairs.
    scale
        Scaling factor in [0, 1].
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self, system: System, pairs: Sequence[tuple[int, int]], scale: float, name: str = "lj14"
    ):
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        check_indices(p, system.n_particles, "pairs")
        if not (np.isfinite(scale) and 0.0 <= scale <= 1.0):
            raise MDInputError(f"1-4 scale must be in [0, 1], got {scale!r}")
        sig, eps = lorentz_berthelot(system.types)
        ti, tj = system.type_index[p[:, 0]], system.type_index[p[:, 1]]
        self.i, self.j = p[:, 0].copy(), p[:, 1].copy()
        self.c12 = scale * 4.0 * eps[ti, tj] * sig[ti, tj] ** 12
        self.c6 = scale * 4.0 * eps[ti, tj] * sig[ti, tj] ** 6
        self.lengths, self.inv, _ = box_arrays(system)
        self.name = name

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the pair forces; return (energy, virial)."""
        if len(self.i) == 0:
            return 0.0, 0.0
        d = minimum_image(positions[self.i] - positions[self.j], self.lengths, self.inv)
        r2 = np.einsum("ij,ij->i", d, d)
        ir6 = 1.0 / (r2 * r2 * r2)
        a12, a6 = self.c12 * ir6 * ir6, self.c6 * ir6
        fr = (12.0 * a12 - 6.0 * a6) / r2
        f = fr[:, None] * d
        scatter_add(forces, self.i, f)
        scatter_add(forces, self.j, -f)
        return float(np.sum(a12 - a6)), float(np.sum(fr * r2))
