"""A force field: a list of force terms sharing one neighbour list; energies split by term."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stochastic.md.errors import MDInputError, OverlapError
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System


class ForceTerm(Protocol):
    """What a force term provides. ``cutoff`` is None for terms that need no neighbour list."""

    name: str
    cutoff: float | None

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add this term's forces [kJ/mol/nm] into ``forces``; return (energy, virial) [kJ/mol]."""
        ...


@dataclass(frozen=True)
class ForceResult:
    """Energies by term [kJ/mol], forces (N, 3) [kJ/mol/nm] and scalar virial W = sum r.F."""

    energies: dict[str, float]
    forces: np.ndarray
    virial: float

    @property
    def potential_energy(self) -> float:
        """Total potential energy [kJ/mol]."""
        return float(sum(self.energies.values()))


def raise_overlap(bad: np.ndarray, positions: np.ndarray, system: System, term: str) -> None:
    """Raise :class:`OverlapError` for the pair recorded by a kernel in ``bad``."""
    i, j = int(bad[0]), int(bad[1])
    d = positions[i] - positions[j]
    if system.box is not None:
        L = system.box.lengths_array()
        d -= L * np.rint(d * system.box.inverse_periodic())
    r = float(np.linalg.norm(d))
    raise OverlapError(
        i,
        j,
        r,
        f"{term}: particles {i} ({system.type_names[i]}) and {j} ({system.type_names[j]}) "
        f"overlap (distance {r:.4g} nm), the force between them is huge; move them apart "
        "(minimise the energy first, or place particles with a larger min_distance) or shorten "
        "the time step",
    )


class ForceField:
    """Sum of force terms on one system.

    Parameters
    ----------
    system
        The system.
    terms
        Force terms (:class:`~stochastic.md.lj.LennardJones`, :class:`~stochastic.md.ewald.Ewald`,
        restraints, confinement...). Term names must be unique (energies are reported by name).
    skin
        Verlet skin [nm] of the shared neighbour list.
    """

    def __init__(self, system: System, terms: Sequence[ForceTerm], skin: float = 0.3):
        names = [t.name for t in terms]
        if len(set(names)) != len(names):
            raise MDInputError(f"force term names must be unique, got {names}")
        self.system = system
        self.terms = tuple(terms)
        cutoffs = [t.cutoff for t in terms if t.cutoff is not None]
        self.nlist = NeighborList(system, max(cutoffs), skin) if cutoffs else None

    def compute(self, positions: np.ndarray) -> ForceResult:
        """Energies, forces and virial at ``positions`` (N, 3) [nm]."""
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        if pos.shape != (self.system.n_particles, 3):
            raise MDInputError(
                f"positions must have shape ({self.system.n_particles}, 3), got {pos.shape}"
            )
        if self.nlist is not None:
            self.nlist.update(pos)
        forces = np.zeros_like(pos)
        energies: dict[str, float] = {}
        virial = 0.0
        for term in self.terms:
            e, w = term.compute(pos, self.nlist, forces)
            energies[term.name] = float(e)
            virial += w
        if not np.isfinite(np.sum(forces)):  # one pass, no temporary; NaN/inf propagate
            bad = np.argwhere(~np.isfinite(forces).all(axis=1)).ravel()
            raise OverlapError(
                int(bad[0]),
                -1,
                float("nan"),
                f"non-finite force on particle(s) {bad[:10].tolist()}: check for overlapping "
                "particles, zero-length Drude springs with charges, or an unstable time step",
            )
        return ForceResult(energies, forces, float(virial))

    def energy(self, positions: np.ndarray) -> float:
        """Total potential energy [kJ/mol] (for minimisers and finite-difference checks)."""
        return self.compute(positions).potential_energy
