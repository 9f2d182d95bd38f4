"""Tabulated pair potentials as an MD force term (cubic Hermite interpolation, numba kernel).

A :class:`PairTable` stores ``U(r)`` and ``F(r) = -dU/dr`` on a uniform grid up to the cutoff
``r_cut`` (where U is shifted to zero). Between nodes the energy is the cubic Hermite
interpolant of (U, dU/dr) and the force is its exact derivative, so energy and force are
consistent and the force is continuous. Below the first node the force is held constant
(linear energy extrapolation) so a table never produces infinities. An optional switching
region ``[r_cut - smooth_width, r_cut]`` (``1 - 10x^3 + 15x^4 - 6x^5``) takes the force smoothly
to zero at the cutoff.
"""

from __future__ import annotations

import math
from collections.abc import Mapping as TMapping
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.interpolate import CubicSpline

from stochastic.cg.errors import CGInputError
from stochastic.md.forcefield import raise_overlap
from stochastic.md.neighbors import NeighborList, box_arrays
from stochastic.md.system import System


@dataclass(frozen=True)
class PairTable:
    """``U`` [kJ/mol] and ``F = -dU/dr`` [kJ/mol/nm] on the uniform grid ``r0 + k h``.

    Build it with :meth:`from_potential`, :meth:`from_force` or :meth:`from_function`.
    """

    r0: float
    h: float
    u: np.ndarray
    f: np.ndarray

    def __post_init__(self) -> None:
        u = np.ascontiguousarray(self.u, dtype=float)
        f = np.ascontiguousarray(self.f, dtype=float)
        if u.shape != f.shape or u.ndim != 1 or len(u) < 3:
            raise CGInputError("table needs >= 3 nodes and equal-length U and F arrays")
        if not (self.h > 0 and self.r0 >= 0):
            raise CGInputError(f"table grid needs h > 0 and r0 >= 0, got {self.h}, {self.r0}")
        if not (np.all(np.isfinite(u)) and np.all(np.isfinite(f))):
            raise CGInputError("table values must be finite (extrapolate empty RDF bins first)")
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "f", f)

    @property
    def r_cut(self) -> float:
        """Cutoff [nm] (last node)."""
        return self.r0 + self.h * (len(self.u) - 1)

    @property
    def r(self) -> np.ndarray:
        """Grid nodes [nm]."""
        return self.r0 + self.h * np.arange(len(self.u))

    @classmethod
    def from_potential(
        cls,
        r: np.ndarray,
        u: np.ndarray,
        r_cut: float,
        r0: float | None = None,
        h: float = 0.002,
        smooth_width: float = 0.0,
    ) -> PairTable:
        """Table from potential values ``u`` at ``r`` (cubic spline), shifted to U(r_cut) = 0."""
        r = np.asarray(r, float)
        spline = CubicSpline(r, np.asarray(u, float), extrapolate=True)
        start = float(r[0]) if r0 is None else float(r0)
        n = round((r_cut - start) / h)
        grid = np.linspace(start, r_cut, n + 1)
        return cls._finish(grid, spline(grid), -spline(grid, 1), smooth_width)

    @classmethod
    def from_function(
        cls, func, r0: float, r_cut: float, h: float = 0.002, smooth_width: float = 0.0
    ) -> PairTable:
        """Table of ``func(r) -> (U, F)`` (both arrays), shifted to U(r_cut) = 0."""
        n = round((r_cut - r0) / h)
        grid = np.linspace(r0, r_cut, n + 1)
        u, f = func(grid)
        return cls._finish(grid, np.asarray(u, float), np.asarray(f, float), smooth_width)

    @classmethod
    def from_force(cls, r: np.ndarray, f: np.ndarray, r_cut: float, h: float = 0.002) -> PairTable:
        """Table from force values (spline), ``U(r) = int_r^r_cut F dr'``."""
        spline = CubicSpline(np.asarray(r, float), np.asarray(f, float), extrapolate=True)
        n = round((r_cut - float(r[0])) / h)
        grid = np.linspace(float(r[0]), r_cut, n + 1)
        anti = spline.antiderivative()
        return cls._finish(grid, anti(r_cut) - anti(grid), spline(grid), 0.0)

    @classmethod
    def _finish(
        cls, grid: np.ndarray, u: np.ndarray, f: np.ndarray, smooth_width: float
    ) -> PairTable:
        u = u - u[-1]
        if smooth_width > 0:
            rc = grid[-1]
            if smooth_width >= rc - grid[0]:
                raise CGInputError("smooth_width must be shorter than the table range")
            x = np.clip((grid - (rc - smooth_width)) / smooth_width, 0.0, 1.0)
            s = 1 - 10 * x**3 + 15 * x**4 - 6 * x**5
            ds = (-30 * x**2 + 60 * x**3 - 30 * x**4) / smooth_width
            f = f * s - u * ds
            u = u * s
        return cls(float(grid[0]), float(grid[1] - grid[0]), u, f)

    def evaluate(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(U, F)`` at distances ``r`` [nm] with the kernel's interpolation (0 beyond r_cut)."""
        r = np.atleast_1d(np.asarray(r, float))
        u = np.empty_like(r)
        f = np.empty_like(r)
        for k, x in enumerate(r):
            u[k], f[k] = _hermite(x, self.r0, self.h, self.u, self.f)
        return u, f

    def energy(self, r: np.ndarray) -> np.ndarray:
        """U(r) [kJ/mol]."""
        return self.evaluate(r)[0]

    def force(self, r: np.ndarray) -> np.ndarray:
        """F(r) = -dU/dr [kJ/mol/nm]."""
        return self.evaluate(r)[1]


@njit(cache=True)
def _hermite(r, r0, h, u, f):
    n = u.shape[0]
    x = (r - r0) / h
    if x < 0.0:
        return u[0] + f[0] * (r0 - r), f[0]
    k = int(x)
    if k >= n - 1:
        return 0.0, 0.0
    t = x - k
    t2 = t * t
    t3 = t2 * t
    m0 = -f[k] * h
    m1 = -f[k + 1] * h
    e = (2 * t3 - 3 * t2 + 1) * u[k] + (t3 - 2 * t2 + t) * m0 + (3 * t2 - 2 * t3) * u[k + 1]
    e += (t3 - t2) * m1
    du = (6 * t2 - 6 * t) * u[k] + (3 * t2 - 4 * t + 1) * m0 + (6 * t - 6 * t2) * u[k + 1]
    du += (3 * t2 - 2 * t) * m1
    return e, -du / h


@njit(cache=True)  # no fastmath: bit-identical forces from a fresh compile and the cache
def _table_half(
    pos, lengths, inv, types, tid, r0, h, utab, ftab, rc2, rmin2, start, nbr, forces, bad
):
    n = pos.shape[0]
    energy = 0.0
    virial = 0.0
    for i in range(n):
        ti = types[i]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for k in range(start[i], start[i + 1]):
            j = nbr[k]
            p = tid[ti, types[j]]
            if p < 0:
                continue
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            dx -= lengths[0] * np.rint(dx * inv[0])
            dy -= lengths[1] * np.rint(dy * inv[1])
            dz -= lengths[2] * np.rint(dz * inv[2])
            r2 = dx * dx + dy * dy + dz * dz
            if r2 >= rc2[p]:
                continue
            if r2 < rmin2 and bad[0] < 0:
                bad[0] = i
                bad[1] = j
            r = math.sqrt(r2)
            e, fmag = _hermite(r, r0[p], h[p], utab[p], ftab[p])
            fr = fmag / r
            energy += e
            virial += fr * r2
            fxi += fr * dx
            fyi += fr * dy
            fzi += fr * dz
            forces[j, 0] -= fr * dx
            forces[j, 1] -= fr * dy
            forces[j, 2] -= fr * dz
        forces[i, 0] += fxi
        forces[i, 1] += fyi
        forces[i, 2] += fzi
    return energy, virial


class TabulatedPair:
    """Pair force term from tables per type pair; plugs into :class:`stochastic.md.ForceField`.

    Parameters
    ----------
    system
        The (CG) system.
    tables
        ``{(type_a, type_b): PairTable}``; order within a key does not matter, missing pairs do
        not interact.
    overlap_distance
        Pairs closer than this [nm] raise :class:`~stochastic.md.errors.OverlapError`.
    name
        Term name.
    """

    def __init__(
        self,
        system: System,
        tables: TMapping[tuple[str, str], PairTable],
        overlap_distance: float = 0.0,
        name: str = "table",
    ):
        names = [t.name for t in system.types]
        if not tables:
            raise CGInputError("need at least one pair table")
        tid = -np.ones((len(names), len(names)), dtype=np.int64)
        tabs = list(tables.items())
        for p, ((a, b), _) in enumerate(tabs):
            if a not in names or b not in names:
                raise CGInputError(f"table for unknown type pair ({a!r}, {b!r}); types: {names}")
            ia, ib = names.index(a), names.index(b)
            if tid[ia, ib] >= 0:
                raise CGInputError(f"two tables for the pair ({a!r}, {b!r})")
            tid[ia, ib] = tid[ib, ia] = p
        n = max(len(t.u) for _, t in tabs)
        self.utab = np.zeros((len(tabs), n))
        self.ftab = np.zeros((len(tabs), n))
        for p, (_, t) in enumerate(tabs):
            self.utab[p, : len(t.u)] = t.u
            self.ftab[p, : len(t.f)] = t.f
        self.r0 = np.array([t.r0 for _, t in tabs])
        self.h = np.array([t.h for _, t in tabs])
        self.rc2 = np.array([t.r_cut for _, t in tabs]) ** 2
        self.cutoff = float(np.sqrt(self.rc2.max()))
        system.check_cutoff(self.cutoff)
        self.tid = tid
        self.tables = dict(tables)
        self.system = system
        self.name = name
        self.rmin2 = float(overlap_distance) ** 2
        self.types = np.ascontiguousarray(system.type_index, dtype=np.int64)
        self.lengths, self.inv, _ = box_arrays(system)

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the tabulated forces into ``forces``; return (energy, virial) [kJ/mol]."""
        assert nlist is not None
        bad = np.full(2, -1, dtype=np.int64)
        e, w = _table_half(
            positions, self.lengths, self.inv, self.types, self.tid, self.r0, self.h, self.utab,
            self.ftab, self.rc2, self.rmin2, nlist.start, nlist.nbr, forces, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            raise_overlap(bad, positions, self.system, "tabulated pair")
        return e, w


def lj_table(
    epsilon: float = 1.0, sigma: float = 1.0, r_cut: float = 2.5, r0: float = 0.5, h: float = 0.002
) -> PairTable:
    """Table of the Lennard-Jones potential shifted to zero at ``r_cut`` (reference/tests)."""

    def func(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s6 = (sigma / r) ** 6
        return 4 * epsilon * (s6 * s6 - s6), 24 * epsilon * (2 * s6 * s6 - s6) / r

    return PairTable.from_function(func, r0, r_cut, h)
