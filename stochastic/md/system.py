"""System description: particle types, per-particle type indices, periodic box, exclusions.

Units (OpenMM/GROMACS convention): nm, ps, amu, kJ/mol, e, K.

Reduced Lennard-Jones units are obtained by choosing ``sigma = 1 nm``, ``epsilon = 1 kJ/mol``
and ``mass = 1 amu``: then lengths are in sigma, energies in epsilon, the time unit is
``sigma sqrt(m/epsilon) = 1 ps`` and a reduced temperature ``T*`` corresponds to
``T = T* epsilon / k_B = T* / (R/1000) K`` (``R/1000 = 0.0083144626 kJ/mol/K``; see
:func:`reduced_temperature_to_kelvin`). Pressure comes out in kJ/mol/nm^3 = epsilon/sigma^3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from poreflux.units import R_GAS
from stochastic.md.errors import MDInputError

#: Boltzmann constant in MD units [kJ/mol/K].
KB_KJ_PER_MOL_K: float = R_GAS / 1e3


def reduced_temperature_to_kelvin(t_star: float, epsilon_kj_per_mol: float = 1.0) -> float:
    """Temperature [K] of the reduced LJ temperature ``T* = k_B T / epsilon``."""
    return float(t_star) * float(epsilon_kj_per_mol) / KB_KJ_PER_MOL_K


@dataclass(frozen=True)
class ParticleType:
    """One particle type.

    Parameters
    ----------
    name
        Unique name (``"Na"``, ``"Cl"``, ``"W"``...).
    mass
        Mass [amu], > 0 (a Drude particle carries a small mass, e.g. 0.4 amu).
    charge
        Charge [e].
    sigma
        Lennard-Jones diameter [nm], >= 0.
    epsilon
        Lennard-Jones well depth [kJ/mol], >= 0.
    """

    name: str
    mass: float
    charge: float = 0.0
    sigma: float = 0.0
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        for attr in ("mass", "charge", "sigma", "epsilon"):
            v = getattr(self, attr)
            if not math.isfinite(float(v)):
                raise MDInputError(f"particle type {self.name!r}: {attr} must be finite, got {v!r}")
        if self.mass <= 0:
            raise MDInputError(
                f"particle type {self.name!r}: mass must be > 0 amu, got {self.mass!r}"
            )
        if self.sigma < 0:
            raise MDInputError(
                f"particle type {self.name!r}: LJ sigma must be >= 0 nm, got {self.sigma!r}"
            )
        if self.epsilon < 0:
            raise MDInputError(
                f"particle type {self.name!r}: LJ epsilon must be >= 0 kJ/mol, got {self.epsilon!r}"
            )


@dataclass(frozen=True)
class Box:
    """Orthorhombic simulation box [nm] with per-axis periodicity.

    ``Box((Lx, Ly, Lz))`` is fully periodic; ``Box((Lx, Ly, Lz), periodic=(True, True, False))``
    is a slab (confine z with :mod:`stochastic.md.confinement`). Use ``box=None`` in
    :class:`System` for an isolated (non-periodic) system.
    """

    lengths: tuple[float, float, float]
    periodic: tuple[bool, bool, bool] = (True, True, True)

    def __post_init__(self) -> None:
        lengths = tuple(float(x) for x in self.lengths)
        if len(lengths) != 3 or not all(math.isfinite(x) and x > 0 for x in lengths):
            raise MDInputError(f"box lengths must be three positive numbers in nm, got {lengths}")
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "periodic", tuple(bool(p) for p in self.periodic))

    @property
    def volume(self) -> float:
        """Box volume [nm^3]."""
        return self.lengths[0] * self.lengths[1] * self.lengths[2]

    def lengths_array(self) -> np.ndarray:
        """Lengths as a float64 array."""
        return np.asarray(self.lengths, dtype=np.float64)

    def inverse_periodic(self) -> np.ndarray:
        """``1/L`` on periodic axes and 0 on the others (minimum image is then a no-op there)."""
        return np.array(
            [1.0 / L if p else 0.0 for L, p in zip(self.lengths, self.periodic, strict=True)]
        )


@dataclass(frozen=True)
class System:
    """Particles (by type), box and excluded pairs. Positions/velocities live in the state.

    Parameters
    ----------
    types
        The particle types.
    type_names
        Type name of each particle (length N); unknown names raise :class:`MDInputError`.
    box
        :class:`Box` or None (isolated system).
    exclusions
        Pairs ``(i, j)`` with no non-bonded (LJ / Coulomb) interaction, e.g. Drude core-shell
        pairs or bonded atoms; Ewald corrects for the excluded reciprocal-space part.
    """

    types: tuple[ParticleType, ...]
    type_names: tuple[str, ...]
    box: Box | None = None
    exclusions: tuple[tuple[int, int], ...] = ()
    type_index: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [t.name for t in self.types]
        if len(set(names)) != len(names):
            raise MDInputError(f"particle type names must be unique, got {names}")
        lookup = {n: k for k, n in enumerate(names)}
        idx = np.fromiter(
            (lookup.get(n, -1) for n in self.type_names), dtype=np.int32,
            count=len(self.type_names),
        )  # fmt: skip
        if len(idx) and idx.min() < 0:
            i = int(np.argmin(idx))
            raise MDInputError(
                f"particle {i} has unknown type {self.type_names[i]!r}; "
                f"known types: {sorted(lookup)}"
            )
        idx.setflags(write=False)
        object.__setattr__(self, "type_index", idx)
        object.__setattr__(self, "types", tuple(self.types))
        object.__setattr__(self, "type_names", tuple(self.type_names))
        n = len(self.type_names)
        clean = []
        for pair in self.exclusions:
            i, j = (int(p) for p in pair)
            if i == j or not (0 <= i < n and 0 <= j < n):
                raise MDInputError(f"exclusion {pair} is not a pair of two particles in 0..{n - 1}")
            clean.append((min(i, j), max(i, j)))
        object.__setattr__(self, "exclusions", tuple(sorted(set(clean))))

    @classmethod
    def from_counts(
        cls,
        types: Sequence[ParticleType],
        counts: Sequence[int],
        box: Box | None = None,
        exclusions: Sequence[tuple[int, int]] = (),
    ) -> System:
        """System with ``counts[k]`` particles of ``types[k]``, in that order."""
        names: list[str] = []
        for t, c in zip(types, counts, strict=True):
            names += [t.name] * int(c)
        return cls(tuple(types), tuple(names), box, tuple(exclusions))

    @property
    def n_particles(self) -> int:
        """Number of particles."""
        return len(self.type_names)

    @property
    def masses(self) -> np.ndarray:
        """Per-particle masses [amu]."""
        return np.array([t.mass for t in self.types])[self.type_index]

    @property
    def charges(self) -> np.ndarray:
        """Per-particle charges [e]."""
        return np.array([t.charge for t in self.types])[self.type_index]

    def count(self, name: str) -> int:
        """Number of particles of type ``name``."""
        return sum(1 for n in self.type_names if n == name)

    def indices_of(self, name: str) -> np.ndarray:
        """Indices of the particles of type ``name``."""
        if name not in {t.name for t in self.types}:
            raise MDInputError(f"unknown type {name!r}; known: {[t.name for t in self.types]}")
        return np.array([i for i, n in enumerate(self.type_names) if n == name], dtype=np.int64)

    def exclusion_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Exclusions as CSR: partners of i (both ways) are ``ex[start[i]:start[i+1]]``."""
        n = self.n_particles
        ex = np.array(self.exclusions, dtype=np.int64).reshape(-1, 2)
        rows = np.concatenate([ex[:, 0], ex[:, 1]])
        cols = np.concatenate([ex[:, 1], ex[:, 0]])
        by_row = np.lexsort((cols, rows))  # partners of each row in ascending order
        start = np.zeros(n + 1, dtype=np.int64)
        start[1:] = np.cumsum(np.bincount(rows, minlength=n))
        return start, cols[by_row].astype(np.int32)

    def check_cutoff(self, cutoff: float) -> None:
        """Raise if ``cutoff`` is longer than half of a periodic box length."""
        if self.box is None:
            return
        for L, p, ax in zip(self.box.lengths, self.box.periodic, "xyz", strict=True):
            if p and cutoff > 0.5 * L:
                raise MDInputError(
                    f"cutoff {cutoff} nm is longer than half the box along {ax} ({0.5 * L} nm): "
                    "the minimum-image convention would miss interactions; use a larger box or a "
                    "shorter cutoff"
                )
