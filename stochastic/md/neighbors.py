"""Verlet neighbour lists with a skin, built from cell lists (half lists, CSR layout)."""

from __future__ import annotations

import logging
import math

import numba
import numpy as np

from stochastic.md import cell_kernels
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


def minimum_image(d: np.ndarray, lengths: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Displacements ``d`` (n x 3) wrapped to their nearest image (``inv`` from :func:`box_arrays`:
    0 on non-periodic axes, so those are left as they are)."""
    return d - lengths * np.rint(d * inv)


class NeighborList:
    """Half Verlet list of pairs within ``cutoff + skin``, rebuilt before a pair can be missed.

    On the cell-list path (boxes of at least three list radii per periodic axis, more than 64
    particles) the particles are sorted by cell at every build and the list is kept in that
    sorted order, split into interior and boundary partners and built in row blocks in
    parallel (:mod:`stochastic.md.cell_kernels`); small or dilute systems use an all-pairs list
    in the original order.

    Parameters
    ----------
    system
        The system (box, exclusions: excluded pairs never enter the list).
    cutoff
        Largest interaction cutoff that uses this list [nm].
    skin
        Verlet skin [nm] (0.3 sigma is the classic choice for LJ).
    sort
        Use the cell-sorted path when the box allows it (default); False keeps the plain cell
        list in the original order (the reference path of the tests).
    blocks
        Row blocks of the sorted path (default: numba's thread count); results do not depend
        on it beyond rounding.

    Attributes
    ----------
    start, nbr
        The list in original particle indices, CSR: the partners of particle i are
        ``nbr[start[i]:start[i+1]]``, each pair once (made on first access after a build).
    is_sorted
        True on the cell-sorted path; then ``order`` (sorted index -> particle), ``image``
        (periodic image removed at the build, sorted order), ``sstart``, ``smid``, ``send``,
        ``snbr`` (split list in sorted indices) describe the list.
    n_builds
        Number of (re)builds so far.
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        skin: float = 0.3,
        sort: bool = True,
        blocks: int | None = None,
    ):
        if blocks is not None and not (isinstance(blocks, int) and blocks >= 1):
            raise MDInputError(f"neighbour-list blocks must be an integer >= 1, got {blocks!r}")
        self.sort = bool(sort)
        self.blocks = blocks
        if not (cutoff > 0 and skin >= 0 and math.isfinite(cutoff) and math.isfinite(skin)):
            raise MDInputError(
                f"neighbour list needs a finite cutoff > 0 and skin >= 0 nm, got {cutoff}, {skin}"
            )
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
        self._start = np.zeros(n + 1, dtype=np.int64)
        self._nbr = np.zeros(max(16, 64 * n), dtype=np.int32)
        self._csr_ready = True
        self._ref: np.ndarray | None = None
        self.is_sorted = False
        self.threaded = False
        self.n_blocks = 1
        self.reach = 1
        self.n_builds = 0

    @property
    def n_pairs(self) -> int:
        """Number of pairs in the current list."""
        if self.is_sorted:
            return int(np.sum(self.send - self.sstart))
        return int(self._start[-1])

    @property
    def start(self) -> np.ndarray:
        """CSR row starts in original particle indices."""
        self._ensure_csr()
        return self._start

    @property
    def nbr(self) -> np.ndarray:
        """CSR partners in original particle indices."""
        self._ensure_csr()
        return self._nbr

    def _ensure_csr(self) -> None:
        if self._csr_ready:
            return
        m = self.n_pairs
        if len(self._nbr) < m:
            self._nbr = np.zeros(int(m * 1.3) + 16, dtype=np.int32)
        cell_kernels.original_csr(
            self.order, self.sstart, self.smid, self.send, self.snbr, self._start, self._nbr
        )
        self._csr_ready = True

    def _cell_grid(
        self, pos: np.ndarray, reaches: tuple[int, ...] = (2,)
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Cell origin, size and counts (``self.reach`` set), or None for the all-pairs list.

        Cells are ``rlist / reach`` wide; the first reach that fits the box is taken (a
        periodic axis needs ``2 reach + 1`` cells, so reach 2 fits every box of at least
        three list radii, where the reach-1 list of the plain path fits too).
        """
        for reach in reaches:
            origin = np.zeros(3)
            ncell = np.ones(3, dtype=np.int64)
            csize = np.ones(3)
            width = self.rlist / reach
            for d in range(3):
                if self.periodic[d]:
                    extent = self.lengths[d]
                else:
                    lo, hi = float(pos[:, d].min()), float(pos[:, d].max())
                    origin[d] = lo
                    extent = max(hi - lo, 1e-12)
                nc = max(1, math.floor(extent / width))
                if self.periodic[d] and nc < 2 * reach + 1:
                    break
                ncell[d] = nc
                csize[d] = extent / nc if self.periodic[d] else max(extent / nc, width)
            else:
                if int(np.prod(ncell)) > 27 * len(pos) + 1000:  # dilute: all pairs is cheaper
                    return None
                self.reach = reach
                return origin, csize, ncell
        return None

    def build(self, positions: np.ndarray) -> None:
        """Rebuild the list for ``positions`` (N, 3) [nm]."""
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        grid = self._cell_grid(pos) if len(pos) > 64 else None
        if grid is not None and not self.sort:
            grid = self._cell_grid(pos, reaches=(1,))
        if grid is None or not self.sort:
            self._build_plain(pos, grid)
            self._ref = pos.copy()
        else:
            self._build_sorted(pos, *grid)
        self.n_builds += 1

    def _build_plain(self, pos: np.ndarray, grid: tuple | None) -> None:
        """All-pairs list, or (``grid`` given) the cell list in the original particle order."""
        from stochastic.md import kernels  # imported here: the sorted path never needs it
        r2 = self.rlist * self.rlist
        self.is_sorted = False
        self._csr_ready = True
        while True:
            if grid is None:
                m = kernels.build_half_list_brute(
                    pos, self.lengths, self.inv, r2, self.ex_start, self.ex_list, self._start,
                    self._nbr,
                )  # fmt: skip
            else:
                origin, csize, ncell = grid
                m = kernels.build_half_list_cells(
                    pos, self.lengths, self.inv, origin, csize, ncell, self.periodic, r2,
                    self.ex_start, self.ex_list, self._start, self._nbr,
                )  # fmt: skip
            if m <= len(self._nbr):
                return
            self._nbr = np.zeros(int(m * 1.3) + 16, dtype=np.int32)

    def _build_sorted(
        self, pos: np.ndarray, origin: np.ndarray, csize: np.ndarray, ncell: np.ndarray
    ) -> None:
        n = len(pos)
        if not self.is_sorted:
            self.order = np.empty(n, dtype=np.int64)
            self.image = np.empty((n, 3))
            self.spos = np.empty((n, 3))
            self.sstart = np.zeros(n, dtype=np.int64)
            self.smid = np.zeros(n, dtype=np.int64)
            self.send = np.zeros(n, dtype=np.int64)
            self.snbr = np.zeros(0, dtype=np.int32)
        cstart = np.zeros(int(np.prod(ncell)) + 1, dtype=np.int64)
        cwidth = self._coarse_grid(ncell * csize)
        cell_kernels.cell_sort(
            pos, self.lengths, self.inv, origin, csize, ncell, self.order, self.image, self.spos,
            cstart, cwidth, self._ncoarse, self._ccell,
        )  # fmt: skip
        if self.blocks is not None:
            self.n_blocks = max(1, min(self.blocks, n // 64))
        else:
            self.n_blocks = numba.get_num_threads() if cell_kernels.use_threads(n) else 1
        self.threaded = self.n_blocks > 1 and numba.get_num_threads() > 1
        used = np.zeros(self.n_blocks, dtype=np.int64)
        stencil = cell_kernels.half_stencil(self.reach)
        while True:
            cap = len(self.snbr) // self.n_blocks
            build = (
                cell_kernels.build_sorted_list
                if self.threaded
                else cell_kernels.build_sorted_list_serial
            )
            build(
                self.spos, cstart, ncell, self.periodic, self.lengths, stencil,
                self.rlist * self.rlist, self.ex_start, self.ex_list, self.order, cap,
                self.snbr, self.sstart, self.smid, self.send, used,
            )  # fmt: skip
            if used.max() <= cap:
                break
            self.snbr = np.zeros(int(used.max() * 1.25 + 64) * self.n_blocks, dtype=np.int32)
        self._ref = self.spos.copy()
        self.is_sorted = True
        self._csr_ready = False

    def _coarse_grid(self, extent: np.ndarray) -> np.ndarray:
        """Coarse cells of the rebuild test (:func:`~stochastic.md.cell_kernels.list_expired`).

        A particle may move up to ``dcap`` (the skin, less where a small box needs it: an
        interior pair's plain difference stays the minimum image while ``rc + rlist + 2 dcap``
        is shorter than the box) before the list is rebuilt regardless; cells are at least
        ``rc + 2 dcap`` wide, so particles in cells that are not adjacent cannot meet. Returns
        the cell widths; :func:`~stochastic.md.cell_kernels.cell_sort` fills ``_ccell``.
        """
        dcap = self.skin
        for length, p in zip(self.lengths, self.periodic, strict=True):
            if p:
                dcap = min(dcap, 0.5 * (length - self.cutoff - self.rlist))
        self._dcap = dcap
        nco = np.maximum(1, np.floor(extent / (self.cutoff + 2.0 * dcap))).astype(np.int64)
        self._ncoarse = nco
        self._ccell = np.empty(len(self.order), dtype=np.int64)
        self._top = np.zeros((int(np.prod(nco)), 2))
        return extent / nco

    def update(self, positions: np.ndarray) -> bool:
        """Rebuild if needed; True if rebuilt.

        Rebuilt on the first call and, on the plain path, when a particle moved more than
        skin/2; on the sorted path when two particles that can meet have moved a skin between
        them (:func:`~stochastic.md.cell_kernels.list_expired`).
        """
        if self._ref is None or self._ref.shape != positions.shape:
            self.build(positions)
            return True
        if self.is_sorted:
            big = -1.0  # list_expired computes the largest move itself
            if self.threaded:  # its first pass split over the threads
                moves = np.empty(self.n_blocks)
                cell_kernels.max_move2(positions, self.order, self.image, self._ref, moves)
                big = float(moves.max())
                if 4.0 * big < self.skin * self.skin:
                    return False
            expired = cell_kernels.list_expired(
                positions, self.order, self.image, self._ref, self._ccell, self._ncoarse,
                self.periodic, self.skin, self._dcap, self._top, big,
            )  # fmt: skip
            if expired:
                self.build(positions)
            return expired
        from stochastic.md import kernels

        d2 = kernels.max_displacement2(positions, self._ref, self.lengths, self.inv)
        if 4.0 * d2 >= self.skin * self.skin:
            self.build(positions)
            return True
        return False

    def sorted_positions(self, positions: np.ndarray) -> np.ndarray:
        """The sorted working copy ``positions[order] - image`` (cell-sorted path only).

        The LJ kernel gathers it itself (:func:`~stochastic.md.cell_kernels.lj_sorted`).
        """
        np.subtract(positions[self.order], self.image, out=self.spos)
        return self.spos

    def pairs(self) -> np.ndarray:
        """The current pairs as an ``(M, 2)`` array (for inspection and tests)."""
        start = self.start
        counts = np.diff(start)
        i = np.repeat(np.arange(len(counts)), counts)
        return np.column_stack([i, self.nbr[: self.n_pairs]])
