"""Atoms -> beads: centre-of-mass, geometric-centre and charge-weighted linear maps.

A bead ``I`` sits at ``R_I = sum_{i in I} c_Ii r_i`` with ``sum_i c_Ii = 1``; its mass and
charge are the sums over its atoms. Forces map as ``F_I = sum_{i in I} f_i`` (the consistent
force map for non-overlapping beads, Noid et al., J. Chem. Phys. 128, 244114 (2008)) and
momenta as ``P_I = sum_{i in I} m_i v_i``, so total force and momentum are conserved; with the
mass-weighted map ``P_I = M_I dR_I/dt``. Before averaging, the atoms of a bead are unwrapped
to the periodic image nearest to the bead's first atom, so beads of molecules split by the box
boundary land in the right place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.md.system import Box

Weighting = Literal["mass", "geometric", "charge"]


@dataclass(frozen=True)
class Bead:
    """One bead: its type name and the indices of its atoms."""

    type_name: str
    atoms: tuple[int, ...]

    def __post_init__(self) -> None:
        atoms = tuple(int(a) for a in self.atoms)
        if not atoms:
            raise CGInputError(f"bead of type {self.type_name!r} has no atoms")
        if len(set(atoms)) != len(atoms):
            raise CGInputError(f"bead {self.type_name!r} lists an atom twice: {atoms}")
        object.__setattr__(self, "atoms", atoms)


@dataclass(frozen=True)
class Mapping:
    """A linear atoms -> beads map.

    Parameters
    ----------
    beads
        The beads; every atom may belong to at most one bead.
    masses, charges
        Per-atom masses [amu] and charges [e] (length ``n_atoms``).
    weighting
        ``"mass"`` (centre of mass), ``"geometric"`` (centre) or ``"charge"`` (charge-weighted;
        each bead's net charge must be non-zero).
    """

    beads: tuple[Bead, ...]
    masses: np.ndarray
    charges: np.ndarray
    weighting: Weighting = "mass"
    weights: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        m = np.asarray(self.masses, dtype=float)
        q = np.asarray(self.charges, dtype=float)
        if m.ndim != 1 or q.shape != m.shape:
            raise CGInputError(
                f"masses and charges need the same 1D shape, got {m.shape}, {q.shape}"
            )
        if np.any(m <= 0):
            raise CGInputError("all atom masses must be > 0 amu")
        if self.weighting not in ("mass", "geometric", "charge"):
            raise CGInputError(
                f"weighting must be 'mass', 'geometric' or 'charge', got {self.weighting!r}"
            )
        seen: set[int] = set()
        for b in self.beads:
            for a in b.atoms:
                if not 0 <= a < len(m):
                    raise CGInputError(f"bead {b.type_name!r}: atom {a} not in 0..{len(m) - 1}")
                if a in seen:
                    raise CGInputError(f"atom {a} belongs to more than one bead")
                seen.add(a)
        w = np.zeros((len(self.beads), len(m)))
        for k, b in enumerate(self.beads):
            idx = np.array(b.atoms)
            if self.weighting == "mass":
                c = m[idx] / m[idx].sum()
            elif self.weighting == "geometric":
                c = np.full(len(idx), 1.0 / len(idx))
            else:
                qs = q[idx].sum()
                if abs(qs) < 1e-12:
                    raise CGInputError(
                        f"bead {k} ({b.type_name!r}) has zero net charge: a charge-weighted map "
                        "is undefined; use weighting='mass' or 'geometric' for it"
                    )
                c = q[idx] / qs
            w[k, idx] = c
        for name, arr in (("masses", m), ("charges", q), ("weights", w)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "beads", tuple(self.beads))

    @classmethod
    def by_molecule(
        cls,
        n_molecules: int,
        sites: Sequence[Sequence[int]],
        bead_types: Sequence[str],
        masses: np.ndarray,
        charges: np.ndarray | None = None,
        weighting: Weighting = "mass",
    ) -> Mapping:
        """Same bead pattern repeated for consecutive molecules of ``n_sites`` atoms each.

        ``sites[k]`` are the atom offsets within a molecule of bead ``k``.
        """
        n_sites = 1 + max(max(s) for s in sites)
        beads = [
            Bead(t, tuple(mol * n_sites + a for a in s))
            for mol in range(n_molecules)
            for s, t in zip(sites, bead_types, strict=True)
        ]
        q = np.zeros(len(masses)) if charges is None else charges
        return cls(tuple(beads), np.asarray(masses), np.asarray(q), weighting)

    @property
    def n_beads(self) -> int:
        """Number of beads."""
        return len(self.beads)

    @property
    def bead_masses(self) -> np.ndarray:
        """Bead masses [amu] (sums of atom masses)."""
        return np.array([self.masses[list(b.atoms)].sum() for b in self.beads])

    @property
    def bead_charges(self) -> np.ndarray:
        """Bead charges [e] (sums of atom charges)."""
        return np.array([self.charges[list(b.atoms)].sum() for b in self.beads])

    @property
    def bead_type_names(self) -> tuple[str, ...]:
        """Type name of each bead."""
        return tuple(b.type_name for b in self.beads)

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[-2:] != (len(self.masses), 3):
            raise CGInputError(
                f"expected (..., {len(self.masses)}, 3) atom arrays, got shape {x.shape}"
            )
        return x

    def _unwrap(self, x: np.ndarray, box: Box | None) -> np.ndarray:
        """Atoms moved to the image nearest to their bead's first atom (per frame)."""
        if box is None:
            return x
        L, inv = box.lengths_array(), box.inverse_periodic()
        out = x.copy()
        for b in self.beads:
            a0 = b.atoms[0]
            rest = list(b.atoms[1:])
            if rest:
                d = x[..., rest, :] - x[..., [a0], :]
                out[..., rest, :] = x[..., [a0], :] + d - L * np.rint(d * inv)
        return out

    def map_positions(self, positions: np.ndarray, box: Box | None = None) -> np.ndarray:
        """Bead positions (..., n_beads, 3) [nm] from atom positions (..., n_atoms, 3).

        Works on one frame or a trajectory; with a periodic ``box`` each bead's atoms are made
        whole first (bead positions are then not wrapped back into the box).
        """
        x = self._unwrap(self._check(positions), box)
        return np.einsum("ba,...ad->...bd", self.weights, x)

    def map_forces(self, forces: np.ndarray) -> np.ndarray:
        """Bead forces (..., n_beads, 3) [kJ/mol/nm]: sums of their atoms' forces."""
        f = self._check(forces)
        member = (self.weights != 0).astype(float)
        return np.einsum("ba,...ad->...bd", member, f)

    def map_momenta(self, velocities: np.ndarray) -> np.ndarray:
        """Bead momenta (..., n_beads, 3) [amu nm/ps]: ``P_I = sum_i m_i v_i``."""
        v = self._check(velocities)
        member = (self.weights != 0).astype(float)
        return np.einsum("ba,a,...ad->...bd", member, self.masses, v)

    def map_velocities(self, velocities: np.ndarray) -> np.ndarray:
        """Bead velocities ``P_I / M_I`` [nm/ps] (the time derivative of the mass-weighted map)."""
        return self.map_momenta(velocities) / self.bead_masses[:, None]
