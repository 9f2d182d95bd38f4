"""Lennard-Jones pair term: plain / shifted / switched cutoff and long-range tail corrections."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from stochastic.md import cell_kernels
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import raise_overlap
from stochastic.md.mixing import PairOverrides, lorentz_berthelot
from stochastic.md.neighbors import NeighborList, box_arrays
from stochastic.md.system import System

CutoffMode = Literal["plain", "shifted", "switched"]
_MODES = {"plain": 0, "shifted": 1, "switched": 2}


class LennardJones:
    """``U = 4 eps_ij [(sigma_ij/r)^12 - (sigma_ij/r)^6]`` for ``r < cutoff``.

    Parameters
    ----------
    system
        The system (types give sigma/epsilon; mixed by Lorentz-Berthelot).
    cutoff
        Cutoff [nm]; must not exceed half a periodic box length.
    mode
        ``"plain"`` truncation, ``"shifted"`` (energy shifted to 0 at the cutoff, forces
        unchanged) or ``"switched"`` (energy and force go smoothly to 0 between
        ``switch_distance`` and ``cutoff``, polynomial ``1 - 10x^3 + 15x^4 - 6x^5``).
    switch_distance
        Start of the switching region [nm] (mode ``"switched"`` only).
    tail_correction
        Add the homogeneous-fluid long-range corrections (g(r) = 1 beyond the cutoff;
        Allen & Tildesley, *Computer Simulation of Liquids*, section 2.8):
        ``E_tail = (2 pi / V) sum_ab N_a N_b int_rc^inf u_ab(r) r^2 dr`` and
        ``P_tail = -(2 pi / 3 V^2) sum_ab N_a N_b int_rc^inf r^3 u_ab'(r) dr``, in closed form.
        Only with ``mode="plain"`` (the convention of the NIST SRSW tables) and a fully
        periodic box.
    overrides
        NBFIX-style ``{(type_a, type_b): (sigma, epsilon)}``.
    overlap_fraction
        Pairs closer than ``overlap_fraction * sigma_ij`` raise :class:`OverlapError`
        (at 0.5 sigma the LJ energy is already ~1.6e4 epsilon).
    name
        Term name for energy reports.
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        mode: CutoffMode = "plain",
        switch_distance: float | None = None,
        tail_correction: bool = False,
        overrides: PairOverrides | None = None,
        overlap_fraction: float = 0.5,
        name: str = "lj",
    ):
        if mode not in _MODES:
            raise MDInputError(f"LJ cutoff mode must be one of {list(_MODES)}, got {mode!r}")
        if not (cutoff > 0 and math.isfinite(cutoff)):
            raise MDInputError(f"LJ cutoff must be a positive length in nm, got {cutoff!r}")
        system.check_cutoff(cutoff)
        if mode == "switched" and (switch_distance is None or not 0 < switch_distance < cutoff):
            raise MDInputError(
                f"switched LJ needs 0 < switch_distance < cutoff ({cutoff}), "
                f"got {switch_distance!r}"
            )
        if tail_correction and (
            mode != "plain" or system.box is None or not all(system.box.periodic)
        ):
            raise MDInputError(
                "LJ tail corrections assume a homogeneous periodic fluid and plain truncation: use "
                "mode='plain' with a fully periodic box, or tail_correction=False"
            )
        self.system = system
        self.name = name
        self.cutoff = float(cutoff)
        self.mode = mode
        self.switch_distance = float(switch_distance) if switch_distance else 0.0
        self.tail_correction = bool(tail_correction)
        self.sigma, self.epsilon = lorentz_berthelot(system.types, overrides)
        self.c12 = 4.0 * self.epsilon * self.sigma**12
        self.c6 = 4.0 * self.epsilon * self.sigma**6
        rc6 = self.cutoff**-6
        self.eshift = self.c12 * rc6 * rc6 - self.c6 * rc6 if mode == "shifted" else 0 * self.c12
        self.rmin2 = (overlap_fraction * self.sigma) ** 2
        self.types = np.ascontiguousarray(system.type_index, dtype=np.int32)
        self.lengths, self.inv, _ = box_arrays(system)
        self.e_tail, self.w_tail = self._tail() if tail_correction else (0.0, 0.0)
        self._sorted_build: tuple[int, int] = (0, -1)
        self._stypes = self.types
        self._fbuf = np.empty((0, 0, 3))
        # one pair type and no switch: the sorted path's scalar-coefficient loop
        self._uniform = mode != "switched" and all(
            np.all(a == a.flat[0]) for a in (self.c12, self.c6, self.eshift, self.rmin2)
        )

    def _tail(self) -> tuple[float, float]:
        """Tail energy [kJ/mol] and its virial W_tail (P_tail = W_tail / (3V))."""
        vol = self.system.box.volume  # type: ignore[union-attr]
        counts = np.bincount(self.types, minlength=len(self.system.types)).astype(float)
        nn = counts[:, None] * counts[None, :]
        rc = self.cutoff
        s3 = self.sigma**3
        x3 = (self.sigma / rc) ** 3
        x9 = x3**3
        # E_tail = (2 pi / V) sum_ab Na Nb 4 eps s^3 [x^9/9 - x^3/3]
        e = 2.0 * math.pi / vol * float(np.sum(nn * 4 * self.epsilon * s3 * (x9 / 9 - x3 / 3)))
        # P_tail = (8 pi / (3 V^2)) sum_ab Na Nb eps s^3 [(4/3) x^9 - 2 x^3]; W = 3 V P
        p = (
            8.0
            * math.pi
            / (3 * vol**2)
            * float(np.sum(nn * self.epsilon * s3 * (4 / 3 * x9 - 2 * x3)))
        )
        return e, 3.0 * vol * p

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add LJ forces into ``forces``; return (energy, virial) including tail corrections."""
        assert nlist is not None
        if nlist.is_sorted:
            e, w = self._compute_sorted(positions, nlist, forces)
            return e + self.e_tail, w + self.w_tail
        from stochastic.md import kernels  # the plain path only (start-up of the sorted one)

        bad = np.full(2, -1, dtype=np.int64)
        e, w = kernels.lj_half(
            positions, self.lengths, self.inv, self.types, self.c12, self.c6, self.eshift,
            self.rmin2, self.cutoff**2, _MODES[self.mode], self.switch_distance, nlist.start,
            nlist.nbr, forces, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            raise_overlap(bad, positions, self.system, "Lennard-Jones")
        return e + self.e_tail, w + self.w_tail

    def _compute_sorted(
        self, positions: np.ndarray, nlist: NeighborList, forces: np.ndarray
    ) -> tuple[float, float]:
        """The cell-sorted, row-block path (:func:`stochastic.md.cell_kernels.lj_sorted`)."""
        nb, n = nlist.n_blocks, len(positions)
        if self._sorted_build != (id(nlist), nlist.n_builds):
            self._stypes = np.ascontiguousarray(self.types[nlist.order])
            self._sorted_build = (id(nlist), nlist.n_builds)
            if self._fbuf.shape != (nb, n, 3):
                self._fbuf = np.empty((nb, n, 3))
        spos = nlist.spos
        ew = np.zeros((nb, 3))
        kernel = cell_kernels.lj_sorted if nlist.threaded else cell_kernels.lj_sorted_serial
        kernel(
            positions, nlist.order, nlist.image, spos, self._stypes, self.c12, self.c6,
            self.eshift, self.rmin2, self.cutoff**2, _MODES[self.mode], self.switch_distance,
            self.lengths, self.inv, nlist.sstart, nlist.smid, nlist.send, nlist.snbr, self._fbuf,
            ew, self._uniform, forces,
        )  # fmt: skip
        if ew[:, 2].min() < 0.0:
            pair = cell_kernels.first_overlap(
                spos, self._stypes, self.rmin2, self.lengths, self.inv, nlist.sstart, nlist.smid,
                nlist.send, nlist.snbr,
            )  # fmt: skip
            raise_overlap(nlist.order[np.array(pair)], positions, self.system, "Lennard-Jones")
        return float(ew[:, 0].sum()), float(ew[:, 1].sum())


def lj_reference(lj: LennardJones, positions: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Readable all-pairs numpy evaluation of ``lj`` (energy, forces, virial); for tests."""
    pos = np.asarray(positions, dtype=np.float64)
    n = len(pos)
    i, j = np.triu_indices(n, 1)
    excluded = set(lj.system.exclusions)
    keep = np.array([(a, b) not in excluded for a, b in zip(i, j, strict=True)], dtype=bool)
    i, j = i[keep], j[keep]
    d = pos[i] - pos[j]
    d -= lj.lengths * np.rint(d * lj.inv)
    r2 = np.einsum("ij,ij->i", d, d)
    inside = r2 < lj.cutoff**2
    i, j, d, r2 = i[inside], j[inside], d[inside], r2[inside]
    ti, tj = lj.types[i], lj.types[j]
    ir6 = r2**-3
    a12 = lj.c12[ti, tj] * ir6**2
    a6 = lj.c6[ti, tj] * ir6
    u = a12 - a6
    fr = (12 * a12 - 6 * a6) / r2
    if lj.mode == "shifted":
        u = u - lj.eshift[ti, tj]
    elif lj.mode == "switched":
        r = np.sqrt(r2)
        x = np.clip((r - lj.switch_distance) / (lj.cutoff - lj.switch_distance), 0, 1)
        s = 1 - 10 * x**3 + 15 * x**4 - 6 * x**5
        ds = (-30 * x**2 + 60 * x**3 - 30 * x**4) / (lj.cutoff - lj.switch_distance)
        fr = fr * s - u * ds / r
        u = u * s
    f = fr[:, None] * d
    forces = np.zeros_like(pos)
    np.add.at(forces, i, f)
    np.subtract.at(forces, j, f)
    return float(u.sum()) + lj.e_tail, forces, float((fr * r2).sum()) + lj.w_tail
