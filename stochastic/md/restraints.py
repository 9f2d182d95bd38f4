"""Harmonic restraints on collective variables (for umbrella sampling).

A collective variable (CV) maps positions to a scalar and gives its gradient. A
:class:`HarmonicRestraint` adds ``U = k/2 (xi(r) - xi0)^2`` and ``F = -k (xi - xi0) grad xi``.
Use one restraint per umbrella window (:func:`umbrella_restraints`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stochastic.md.errors import MDInputError
from stochastic.md.neighbors import NeighborList, box_arrays
from stochastic.md.system import System


@dataclass(frozen=True)
class PositionCV:
    """Coordinate ``axis`` (0, 1, 2 = x, y, z) of particle ``index`` [nm] (raw, unwrapped)."""

    index: int
    axis: int = 2

    def value_and_grad(self, positions: np.ndarray) -> tuple[float, np.ndarray]:
        """CV value and gradient (N, 3) [nm/nm]."""
        g = np.zeros_like(positions)
        g[self.index, self.axis] = 1.0
        return float(positions[self.index, self.axis]), g


@dataclass(frozen=True)
class DistanceCV:
    """Minimum-image distance between particles ``i`` and ``j`` [nm] (``lengths``/``inv`` from
    :func:`stochastic.md.neighbors.box_arrays`; default: no periodicity)."""

    i: int
    j: int
    lengths: tuple[float, float, float] = (1.0, 1.0, 1.0)
    inv: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def in_system(cls, system: System, i: int, j: int) -> DistanceCV:
        """Distance CV using the system's periodic box."""
        L, inv, _ = box_arrays(system)
        return cls(i, j, tuple(L), tuple(inv))

    def value_and_grad(self, positions: np.ndarray) -> tuple[float, np.ndarray]:
        """CV value and gradient (N, 3)."""
        L, inv = np.asarray(self.lengths), np.asarray(self.inv)
        d = positions[self.i] - positions[self.j]
        d -= L * np.rint(d * inv)
        r = float(np.linalg.norm(d))
        if r == 0.0:
            raise MDInputError(f"distance CV undefined: particles {self.i} and {self.j} coincide")
        g = np.zeros_like(positions)
        g[self.i] = d / r
        g[self.j] = -d / r
        return r, g


@dataclass(frozen=True)
class FunctionCV:
    """Any CV given as ``f(positions) -> (value, gradient (N, 3))``."""

    function: Callable[[np.ndarray], tuple[float, np.ndarray]]

    def value_and_grad(self, positions: np.ndarray) -> tuple[float, np.ndarray]:
        """CV value and gradient."""
        v, g = self.function(positions)
        return float(v), np.asarray(g, dtype=float)


class HarmonicRestraint:
    """``U = k/2 (xi - center)^2`` on a collective variable (a force term).

    Parameters
    ----------
    cv
        :class:`PositionCV`, :class:`DistanceCV`, :class:`FunctionCV` or any object with
        ``value_and_grad``.
    k
        Force constant [kJ/mol/nm^2] (for a length CV), >= 0.
    center
        Restraint centre xi0 (CV units).
    name
        Term name.
    """

    cutoff = None

    def __init__(self, cv: object, k: float, center: float, name: str = "restraint"):
        if k < 0:
            raise MDInputError(f"restraint force constant must be >= 0, got {k}")
        if not hasattr(cv, "value_and_grad"):
            raise MDInputError("cv must provide value_and_grad(positions)")
        self.cv = cv
        self.k = float(k)
        self.center = float(center)
        self.name = name
        self.last_value = float("nan")

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the restraint force; return (energy, virial=0: restraints are external)."""
        xi, grad = self.cv.value_and_grad(positions)  # type: ignore[attr-defined]
        self.last_value = xi
        dev = xi - self.center
        forces -= self.k * dev * grad
        return 0.5 * self.k * dev * dev, 0.0


def umbrella_restraints(
    cv: object, centers: Sequence[float], k: float, name: str = "umbrella"
) -> list[HarmonicRestraint]:
    """One :class:`HarmonicRestraint` per umbrella window centre."""
    return [HarmonicRestraint(cv, k, c, name=name) for c in centers]
