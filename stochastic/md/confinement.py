"""Confinement potentials: slab walls, a cylindrical pore through a membrane, a binding site.

All are smooth-enough external terms acting on a chosen set of particles (all by default):

- :class:`SlabWalls`: harmonic walls ``k/2 (z_lo - z)^2`` below ``z_lo`` and ``k/2 (z - z_hi)^2``
  above ``z_hi``.
- :class:`CylindricalPore`: a membrane occupying ``z_lo < z < z_hi`` pierced by a cylinder of
  radius ``R`` about the axis ``(x0, y0)``. A particle in the forbidden region (inside the slab
  and outside the cylinder) feels ``k/2 delta^2`` with ``delta`` its distance to the allowed
  region, ``min(rho - R, z - z_lo, z_hi - z)``; the energy is continuous and zero in the water.
- :class:`GaussianSite`: an attractive binding site ``-depth exp(-|r - r0|^2 / (2 w^2))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.md.errors import MDInputError
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System


def _indices(system: System, indices: Sequence[int] | None) -> np.ndarray:
    if indices is None:
        return np.arange(system.n_particles)
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= system.n_particles):
        raise MDInputError(f"confinement indices must be in 0..{system.n_particles - 1}")
    return idx


class SlabWalls:
    """Harmonic walls at ``z_lo`` and ``z_hi`` [nm], force constant ``k`` [kJ/mol/nm^2]."""

    cutoff = None

    def __init__(
        self,
        system: System,
        z_lo: float,
        z_hi: float,
        k: float = 1e4,
        indices: Sequence[int] | None = None,
        name: str = "walls",
    ):
        if not z_lo < z_hi or k <= 0:
            raise MDInputError(f"need z_lo < z_hi and k > 0, got {z_lo}, {z_hi}, {k}")
        self.z_lo, self.z_hi, self.k, self.name = float(z_lo), float(z_hi), float(k), name
        self.idx = _indices(system, indices)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add wall forces; return (energy, 0)."""
        z = positions[self.idx, 2]
        below = np.minimum(z - self.z_lo, 0.0)
        above = np.maximum(z - self.z_hi, 0.0)
        forces[self.idx, 2] -= self.k * (below + above)
        return 0.5 * self.k * float(np.sum(below**2 + above**2)), 0.0


class CylindricalPore:
    """Membrane slab ``z_lo < z < z_hi`` with a cylindrical pore of ``radius`` [nm].

    Parameters
    ----------
    system
        The system.
    radius
        Pore radius R [nm] (of the region accessible to particle centres).
    z_lo, z_hi
        Membrane faces [nm].
    k
        Wall stiffness [kJ/mol/nm^2].
    center
        Pore axis position ``(x0, y0)`` [nm].
    indices
        Particles that feel the membrane (default all).
    name
        Term name.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        radius: float,
        z_lo: float,
        z_hi: float,
        k: float = 1e4,
        center: tuple[float, float] = (0.0, 0.0),
        indices: Sequence[int] | None = None,
        name: str = "pore",
    ):
        if radius <= 0 or not z_lo < z_hi or k <= 0:
            raise MDInputError(
                f"need radius > 0, z_lo < z_hi and k > 0, got {radius}, {z_lo}, {z_hi}, {k}"
            )
        self.radius, self.z_lo, self.z_hi, self.k = (
            float(radius),
            float(z_lo),
            float(z_hi),
            float(k),
        )
        self.center = np.asarray(center, dtype=float)
        self.name = name
        self.idx = _indices(system, indices)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the membrane/pore forces; return (energy, 0)."""
        p = positions[self.idx]
        rel = p[:, :2] - self.center
        rho = np.sqrt(np.einsum("ij,ij->i", rel, rel))
        d_rad = rho - self.radius
        d_lo = p[:, 2] - self.z_lo
        d_hi = self.z_hi - p[:, 2]
        inside = (d_rad > 0) & (d_lo > 0) & (d_hi > 0)
        if not np.any(inside):
            return 0.0, 0.0
        stack = np.stack([d_rad, d_lo, d_hi], axis=1)
        which = np.argmin(stack, axis=1)
        delta = np.where(inside, stack[np.arange(len(p)), which], 0.0)
        grad = np.zeros_like(p)  # gradient of delta
        safe = np.where(rho > 0, rho, 1.0)
        radial = which == 0
        grad[radial, :2] = rel[radial] / safe[radial, None]
        grad[which == 1, 2] = 1.0
        grad[which == 2, 2] = -1.0
        forces[self.idx] -= (self.k * delta)[:, None] * grad
        return 0.5 * self.k * float(np.sum(delta**2)), 0.0


class GaussianSite:
    """Binding site ``U = -depth exp(-|r - site|^2 / (2 width^2))`` [kJ/mol] on given particles."""

    cutoff = None

    def __init__(
        self,
        system: System,
        site: Sequence[float],
        depth: float,
        width: float,
        indices: Sequence[int] | None = None,
        name: str = "site",
    ):
        if width <= 0:
            raise MDInputError(f"binding-site width must be > 0 nm, got {width}")
        self.site = np.asarray(site, dtype=float)
        self.depth, self.width, self.name = float(depth), float(width), name
        self.idx = _indices(system, indices)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the site forces; return (energy, 0)."""
        d = positions[self.idx] - self.site
        g = np.exp(-np.einsum("ij,ij->i", d, d) / (2 * self.width**2))
        u = -self.depth * g
        forces[self.idx] -= (self.depth / self.width**2 * g)[:, None] * d
        return float(u.sum()), 0.0
