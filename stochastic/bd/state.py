"""The ions of a BD run: positions and species in growable arrays, and the initial configuration.

Arrays hold ``capacity`` slots of which the first ``n`` are ions; a deletion moves the last ion
into the freed slot. Valence ``q`` and radius ``a`` are kept per ion (the pair kernel reads them
without an indirection through the species index).
"""

from __future__ import annotations

import math

import numpy as np

from stochastic.bd.geometry import BDInputError
from stochastic.bd.system import MM_TO_PER_NM3, BDSystem

__all__ = ["IonState", "check_no_overlap", "initial_state"]

#: two ions closer than this fraction of the sum of their radii count as overlapping
OVERLAP_FRACTION = 0.8


class IonState:
    """Positions [nm] and species of the ions (growable arrays)."""

    def __init__(self, system: BDSystem, capacity: int = 64) -> None:
        self.sq = system.valences
        self.sa = system.radii
        self.n = 0
        self._alloc(max(int(capacity), 16))

    def _alloc(self, cap: int) -> None:
        old = getattr(self, "x", None)
        fields = {"x": float, "y": float, "z": float, "q": float, "a": float, "sp": np.int64}
        for name, dtype in fields.items():
            arr = np.zeros(cap, dtype=dtype)
            if old is not None:
                arr[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, arr)
        self.work = np.zeros((3, cap))

    @property
    def capacity(self) -> int:
        """Number of slots."""
        return self.x.size

    def add(self, s: int, px: float, py: float, pz: float) -> int:
        """Append an ion of species ``s``; returns its index."""
        if self.n == self.capacity:
            self._alloc(2 * self.capacity)
        i = self.n
        self.x[i], self.y[i], self.z[i] = px, py, pz
        self.sp[i], self.q[i], self.a[i] = s, self.sq[s], self.sa[s]
        self.n += 1
        return i

    def remove(self, i: int) -> None:
        """Delete ion ``i`` (the last ion takes its slot)."""
        last = self.n - 1
        for arr in (self.x, self.y, self.z, self.q, self.a, self.sp):
            arr[i] = arr[last]
        self.n = last

    def positions(self) -> np.ndarray:
        """``(n, 3)`` copy of the positions."""
        return np.stack([self.x[: self.n], self.y[: self.n], self.z[: self.n]], axis=1)

    def species_index(self) -> np.ndarray:
        """Copy of the species index of each ion."""
        return self.sp[: self.n].copy()

    def counts(self) -> np.ndarray:
        """Number of ions of each species."""
        return np.bincount(self.sp[: self.n], minlength=self.sq.size)

    @classmethod
    def from_arrays(cls, system: BDSystem, positions: np.ndarray, species: np.ndarray) -> IonState:
        """State from ``(n, 3)`` positions [nm] and species indices (validated)."""
        pos = np.asarray(positions, dtype=float).reshape(-1, 3)
        sp = np.asarray(species).astype(np.int64).ravel()
        if pos.shape[0] != sp.size:
            raise BDInputError(f"{pos.shape[0]} positions but {sp.size} species indices")
        if not np.all(np.isfinite(pos)):
            raise BDInputError("initial positions must be finite")
        if sp.size and (sp.min() < 0 or sp.max() >= len(system.names)):
            raise BDInputError(f"species indices must lie in 0..{len(system.names) - 1}")
        d = system.geometry.wall_distance(pos[:, 0], pos[:, 1], pos[:, 2])
        bad = np.flatnonzero(d < 0)
        if bad.size:
            raise BDInputError(
                f"{bad.size} initial ion(s) lie inside the membrane or outside the baths "
                f"(first: ion {bad[0]} at {pos[bad[0]].round(3).tolist()} nm)"
            )
        check_no_overlap(pos, system.radii[sp])
        st = cls(system, capacity=2 * max(sp.size, 32))
        for (px, py, pz), s in zip(pos, sp, strict=True):
            st.add(int(s), px, py, pz)
        return st


def check_no_overlap(pos: np.ndarray, radii: np.ndarray) -> None:
    """Raise :class:`BDInputError` if two ions are closer than 0.8 x the sum of their radii."""
    for i in range(pos.shape[0] - 1):
        r = np.linalg.norm(pos[i + 1 :] - pos[i], axis=1)
        close = np.flatnonzero(r < OVERLAP_FRACTION * (radii[i] + radii[i + 1 :]))
        if close.size:
            j = i + 1 + int(close[0])
            raise BDInputError(
                f"ions {i} and {j} overlap at the start (distance {r[close[0]]:.3g} nm, radii "
                f"{radii[i]:g} + {radii[j]:g} nm); move them apart or let initial_state place ions"
            )


def initial_state(system: BDSystem, rng: np.random.Generator) -> IonState:
    """Both baths filled at the target concentrations (pore empty), without overlaps, each
    bath electroneutral (counter-ions of the most concentrated species fill up the charge).

    Trial positions are accepted with the Boltzmann factor of the external energy relative to
    the far end of the bath (so a bath with a potential well or barrier starts near
    equilibrium); the total number is kept.
    """
    g = system.geometry
    model = system.compile()
    st = IonState(system, capacity=64)
    a_max = float(np.max(system.radii))
    r_max, z_lo, z_hi = g.bath_radius - a_max, g.half_length + a_max, g.z_max - a_max
    vol = math.pi * r_max**2 * (z_hi - z_lo)
    counts = np.array([round(c * MM_TO_PER_NM3 * vol) for c in system.targets_mM])
    q = system.valences
    for _ in range(100):
        charge = float(np.sum(counts * q))
        if charge == 0:
            break
        fill = np.where(np.sign(q) == -np.sign(charge), system.targets_mM, -np.inf)
        counts[int(np.argmax(fill))] += 1
    for side in (-1, 1):
        for s, n_s in enumerate(counts):
            u_ref = model.external_energy(s, np.zeros(1), np.zeros(1), np.array([side * z_hi]))
            for _ in range(int(n_s)):
                _place(st, s, side, (r_max, z_lo, z_hi), rng, model, float(u_ref[0]))
    return st


def _place(st: IonState, s: int, side: int, box, rng, model, u_ref: float) -> None:
    r_max, z_lo, z_hi = box
    for _ in range(10000):
        rho, phi = r_max * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        p = np.array([rho * math.cos(phi), rho * math.sin(phi), side * rng.uniform(z_lo, z_hi)])
        n = st.n
        d = np.sqrt((st.x[:n] - p[0]) ** 2 + (st.y[:n] - p[1]) ** 2 + (st.z[:n] - p[2]) ** 2)
        if np.any(d < st.a[:n] + st.sa[s]):
            continue
        u = model.external_energy(s, p[:1], p[1:2], p[2:])[0] - u_ref
        if rng.random() < math.exp(-min(max(u, -50.0), 50.0)):
            st.add(s, *p)
            return
    raise BDInputError(
        "could not place the initial ions without overlaps: the target concentrations are too "
        "high for the ion sizes (or the external energy excludes them from the baths)"
    )
