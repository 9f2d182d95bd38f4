"""Plain Coulomb interaction summed over all pairs, for open (non-periodic) boundaries.

``U = ke / eps_r sum_{i<j, not excluded} q_i q_j / r_ij`` with ``ke = 138.935 kJ mol^-1 nm e^-2``
(:data:`poreflux.units.COULOMB_KJ_NM`): no cutoff, no images, no neutralising background. This
is the exact electrostatic energy of an isolated cluster in vacuum (``eps_r = 1``) or, with
``eps_r`` the solvent permittivity, of the primitive model of ions in a dielectric continuum
(e.g. ``eps_r = poreflux.water.water_permittivity(T)``). The cost is O(N^2) pairs (numba
kernel :func:`stochastic.md.kernels.coulomb_all_pairs`): meant for clusters up to a few
thousand charges; periodic systems need :class:`~stochastic.md.ewald.Ewald` or
:class:`~stochastic.md.pme.PME`; a cutoff interaction is
:class:`~stochastic.md.reaction_field.ReactionField`.

Excluded pairs (``System.exclusions``: bonded neighbours, Drude core-shell pairs) do not interact
at all, as in the other Coulomb terms. ``System`` carries no 1-4 pair list or scale factor, so
there is no scaled 1-4 interaction here; a force field that needs one would add the scaled
pairs as a separate term.

Reference: Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed. (2017), chapter 6
(long-range forces). The large-box limit of Ewald summation is tested against this term with the
surface (dipole) term of de Leeuw, Perram & Smith, Proc. R. Soc. A 373, 27 (1980).
"""

from __future__ import annotations

import math

import numpy as np

from poreflux.units import COULOMB_KJ_NM
from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import raise_overlap
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System


class CoulombDirect:
    """Direct-sum Coulomb term for an isolated system (no periodic axis, no cutoff).

    Parameters
    ----------
    system
        The system: ``box=None`` or a :class:`~stochastic.md.system.Box` with no periodic axis.
        Charges come from the particle types; excluded pairs are skipped.
    epsilon_r
        Relative permittivity dividing every pair interaction (1 in vacuum or explicit
        solvent; the solvent's permittivity for an implicit-solvent primitive model).
    min_distance
        Charged pairs closer than this [nm] raise :class:`~stochastic.md.errors.OverlapError`.
    name
        Term name (energies are reported by name).
    """

    def __init__(
        self,
        system: System,
        epsilon_r: float = 1.0,
        min_distance: float = 0.01,
        name: str = "coulomb",
    ):
        if system.box is not None and any(system.box.periodic):
            raise MDInputError(
                "CoulombDirect sums over all pairs without periodic images: it needs box=None "
                "or a box with periodic=(False, False, False), got periodic="
                f"{system.box.periodic}; use Ewald or PME for a periodic box, ReactionField for "
                "a cutoff interaction in a slab"
            )
        if not (math.isfinite(epsilon_r) and epsilon_r > 0):
            raise MDInputError(f"epsilon_r must be a finite number > 0, got {epsilon_r}")
        if not (math.isfinite(min_distance) and min_distance >= 0):
            raise MDInputError(f"min_distance must be a finite number >= 0 nm, got {min_distance}")
        self.system = system
        self.name = name
        self.cutoff: float | None = None  # no neighbour list needed
        self.epsilon_r = float(epsilon_r)
        self.ke = COULOMB_KJ_NM / self.epsilon_r
        self.q = np.ascontiguousarray(system.charges, dtype=np.float64)
        self.ex_start, self.ex_list = system.exclusion_csr()
        self.min_distance = float(min_distance)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add Coulomb forces [kJ/mol/nm] into ``forces``; return (energy, virial) [kJ/mol].

        ``nlist`` is ignored (all pairs are summed). The virial ``sum r_ij . F_ij`` equals the
        energy (the pair potential is homogeneous of degree -1).
        """
        bad = np.full(2, -1, dtype=np.int64)
        energy, virial = kernels.coulomb_all_pairs(
            positions, self.q, self.ex_start, self.ex_list, self.min_distance**2, self.ke,
            forces, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            raise_overlap(bad, positions, self.system, "Coulomb (direct sum)")
        return float(energy), float(virial)


def coulomb_direct_reference(
    system: System, positions: np.ndarray, epsilon_r: float = 1.0
) -> tuple[float, np.ndarray]:
    """Readable numpy energy [kJ/mol] and forces [kJ/mol/nm] of :class:`CoulombDirect` (tests)."""
    pos = np.asarray(positions, dtype=np.float64)
    q = system.charges
    i, j = np.triu_indices(len(pos), 1)
    excluded = set(system.exclusions)
    keep = np.array([(a, b) not in excluded for a, b in zip(i, j, strict=True)], dtype=bool)
    i, j = i[keep], j[keep]
    d = pos[i] - pos[j]
    r = np.linalg.norm(d, axis=1)
    u = COULOMB_KJ_NM / epsilon_r * q[i] * q[j] / r
    f = (u / r**2)[:, None] * d
    forces = np.zeros_like(pos)
    np.add.at(forces, i, f)
    np.subtract.at(forces, j, f)
    return float(np.sum(u)), forces
