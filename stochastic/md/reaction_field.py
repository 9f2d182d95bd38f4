"""Cutoff Coulomb with a reaction field (cheap alternative to Ewald).

``U_ij = ke q_i q_j (1/r + k_rf r^2 - c_rf)`` for ``r < rc`` with
``k_rf = (eps_rf - eps_r) / ((2 eps_rf + eps_r) rc^3)`` and ``c_rf = 1/rc + k_rf rc^2``, so the
pair energy vanishes at the cutoff (Tironi et al., J. Chem. Phys. 102, 5451 (1995); the GROMACS
form). ``eps_rf = inf`` gives ``k_rf = 1/(2 rc^3)``; ``eps_rf = eps_r`` gives a shifted cutoff
Coulomb. Excluded pairs do not interact (no reaction-field exclusion correction).
"""

from __future__ import annotations

import math

import numpy as np

from poreflux.units import COULOMB_KJ_NM
from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import raise_overlap
from stochastic.md.neighbors import NeighborList, box_arrays
from stochastic.md.system import System


class ReactionField:
    """Reaction-field Coulomb term.

    Parameters
    ----------
    system
        The system (periodic, slab or isolated).
    cutoff
        Cutoff [nm].
    epsilon_rf
        Dielectric constant of the continuum beyond the cutoff (``math.inf`` allowed).
    epsilon_r
        Relative permittivity inside the cutoff (1 for explicit solvent).
    min_distance
        Charged pairs closer than this [nm] raise :class:`OverlapError`.
    name
        Term name.
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        epsilon_rf: float = 78.5,
        epsilon_r: float = 1.0,
        min_distance: float = 0.01,
        name: str = "coulomb",
    ):
        if cutoff <= 0:
            raise MDInputError(f"reaction-field cutoff must be > 0 nm, got {cutoff}")
        if epsilon_r <= 0 or epsilon_rf < epsilon_r:
            raise MDInputError(
                f"need epsilon_r > 0 and epsilon_rf >= epsilon_r, got {epsilon_r}, {epsilon_rf}"
            )
        system.check_cutoff(cutoff)
        self.system = system
        self.name = name
        self.cutoff = float(cutoff)
        rc3 = self.cutoff**3
        if math.isinf(epsilon_rf):
            self.krf = 1.0 / (2.0 * rc3)
        else:
            self.krf = (epsilon_rf - epsilon_r) / ((2 * epsilon_rf + epsilon_r) * rc3)
        self.crf = 1.0 / self.cutoff + self.krf * self.cutoff**2
        self.ke = COULOMB_KJ_NM / epsilon_r
        self.q = np.ascontiguousarray(system.charges)
        self.lengths, self.inv, _ = box_arrays(system)
        self.min_distance = float(min_distance)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add reaction-field forces into ``forces``; return (energy, virial)."""
        assert nlist is not None
        bad = np.full(2, -1, dtype=np.int64)
        e, w = kernels.coulomb_half(
            positions, self.lengths, self.inv, self.q, self.min_distance**2, self.cutoff**2, 1,
            0.0, self.krf, self.crf, self.ke, nlist.start, nlist.nbr, forces, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            raise_overlap(bad, positions, self.system, "reaction-field Coulomb")
        return e, w
