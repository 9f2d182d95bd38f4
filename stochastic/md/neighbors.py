"""Verlet neighbour lists with a skin, built from cell lists (half lists, CSR layout)."""

from __future__ import annotations

import logging
import math

import numpy as np

from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.system import System

log = logging.getLogger(__name__)


def box_arrays(system: System) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lengths, inv, periodic)`` arrays for the kernels; an isolated system has no image."""
    if system.box is None:
        return np.ones(3), np.zeros(3), np.zeros(3, dtype=np.bool_)
    return (
        system.box.lengths_array(),
        system.box.inverse_periodic(),
        np.array(system.box.periodic, dtype=np.bool_),
    )


class NeighborList:
    """Half Verlet list of pairs within ``cutoff + skin``, rebuilt when any particle moved > skin/2.

    Parameters
    ----------
    system
        The system (box, exclusions: excluded pairs never enter the list).
    cutoff
        Largest interaction cutoff that uses this list [nm].
    skin
        Verlet skin [nm] (0.3 sigma is the classic choice for LJ).

    Attributes
    ----------
    start, nbr
        CSR list: the partners ``j > i`` of particle i are ``nbr[start[i]:start[i+1]]``.
    n_builds
        Number of (re)builds so far.
    """

    def __init__(self, system: System, cutoff: float, skin: float = 0.3):
        if cutoff <= 0 or skin < 0:
            raise MDInputError(f"need cutoff > 0 and skin >= 0, got {cutoff}, {skin}")
        system.check_cutoff(cutoff)
        self.system = system
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.rlist = self.cutoff + self.skin
        self.lengths, self.inv, self.periodic = box_arrays(system)
        if system.box is not None:
            for L, p, ax in zip(system.box.lengths, system.box.periodic, "xyz", strict=True):
                if p and self.rlist > 0.5 * L:
                    log.debug("cutoff+skin exceeds half the box along %s; using brute list", ax)
        self.ex_start, self.ex_list = system.exclusion_csr()
        n = system.n_particles
        self.start = np.zeros(n + 1, dtype=np.int64)
        self.nbr = np.zeros(max(16, 64 * n), dtype=np.int32)
        self._ref: np.ndarray | None = None
        self.n_builds = 0

    @property
    def n_pairs(self) -> int:
        """Number of pairs in the current list."""
        return int(self.start[-1])

    def _cell_grid(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        origin = np.zeros(3)
        ncell = np.ones(3, dtype=np.int64)
        csize = np.ones(3)
        for d in range(3):
            if self.periodic[d]:
                extent = self.lengths[d]
            else:
                lo, hi = float(pos[:, d].min()), float(pos[:, d].max())
                origin[d] = lo
                extent = max(hi - lo, 1e-12)
            nc = max(1, math.floor(extent / self.rlist))
            if self.periodic[d] and nc < 3:
                return None
            ncell[d] = nc
            csize[d] = extent / nc if self.periodic[d] else max(extent / nc, self.rlist)
        if int(np.prod(ncell)) > 27 * len(pos) + 1000:  # very dilute: the double loop is cheaper
            return None
        return origin, csize, ncell

    def build(self, positions: np.ndarray) -> None:
        """Rebuild the list for ``positions`` (N, 3) [nm]."""
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        grid = self._cell_grid(pos) if len(pos) > 64 else None
        r2 = self.rlist * self.rlist
        while True:
            if grid is None:
                m = kernels.build_half_list_brute(
                    pos, self.lengths, self.inv, r2, self.ex_start, self.ex_list, self.start,
                    self.nbr,
                )  # fmt: skip
            else:
                origin, csize, ncell = grid
                m = kernels.build_half_list_cells(
                    pos, self.lengths, self.inv, origin, csize, ncell, self.periodic, r2,
                    self.ex_start, self.ex_list, self.start, self.nbr,
                )  # fmt: skip
            if m <= len(self.nbr):
                break
            self.nbr = np.zeros(int(m * 1.3) + 16, dtype=np.int32)
        self._ref = pos.copy()
        self.n_builds += 1

    def update(self, positions: np.ndarray) -> bool:
        """Rebuild if needed (first call, or a particle moved more than skin/2); True if rebuilt."""
        if self._ref is None or self._ref.shape != positions.shape:
            self.build(positions)
            return True
        d2 = kernels.max_displacement2(positions, self._ref, self.lengths, self.inv)
        if 4.0 * d2 >= self.skin * self.skin:
            self.build(positions)
            return True
        return False

    def pairs(self) -> np.ndarray:
        """The current pairs as an ``(M, 2)`` array (for inspection and tests)."""
        counts = np.diff(self.start)
        i = np.repeat(np.arange(len(counts)), counts)
        return np.column_stack([i, self.nbr[: self.n_pairs]])
