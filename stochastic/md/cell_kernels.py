"""Fast path of the pair loop: cell-sorted particle order, split half lists, threaded kernels.

The algorithms of production MD codes (LAMMPS's binned half lists and atom sorting, GROMACS's
spatially sorted particle order; Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed.,
section 5.3), kept in numba:

- at every neighbour-list build the particles are sorted by cell (a counting sort); the kernels
  work on a *sorted copy* of the positions, gathered once per step, so that the partners of a
  particle sit close to it in memory. User-visible arrays keep the original order: forces are
  scattered back through the permutation ``order`` (sorted index -> original index);
- the sorted copy is the position minus the periodic image it had at the build (``image``).
  Between builds every particle moves by less than ``dcap`` (:func:`list_expired`), which keeps
  ``rc + rlist + 2 dcap`` below the box length, so a pair found *without* a periodic shift
  needs no minimum image until the next build. Each row of the half list is split into
  these *interior* partners ``nbr[start[i]:mid[i]]`` (plain differences, no rounding) and the
  *boundary* partners ``nbr[mid[i]:end[i]]`` (minimum image);
- cells are about ``rlist / reach`` wide and the stencil is the half shell of reach ``reach``
  (with reach 2 the candidate volume is ~40 % smaller than with rlist-wide cells);
- rows are split into ``n_chunks`` contiguous blocks processed by ``numba.prange``; each block
  writes its own region of the pair array (so the build needs one pass) and its own force
  buffer (so the Newton's-third-law updates of a half list never race). The reduction over the
  buffers is ordered, so results do not depend on thread scheduling;
- few distinct kernels: a process loads each one from numba's cache at its first call (a few
  ms each, after numba's one-off target set-up), so the sort also fills the coarse cells of the
  rebuild test and one LJ call gathers, computes and scatters. The serial path never loads a
  ``parallel=True`` kernel (nor numba's threading layer).
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np
from numba import njit, prange

#: Below this many particles the thread launch costs more than it saves: serial kernels.
PARALLEL_MIN_PARTICLES = 4096
#: The threaded kernels are opt-in (``POREFLUX_MD_THREADS=1`` and ``NUMBA_NUM_THREADS >= 2``):
#: on the shared, loaded 2-core machine they were measured slower than the serial path (every
#: parallel region waits for its slowest thread; bench/results/md_lj.json, thread_speedup_2).
THREADS_ENABLED = os.environ.get("POREFLUX_MD_THREADS", "0") == "1"


def half_stencil(reach: int) -> np.ndarray:
    """Cell columns ``(a, b, z_lo, z_hi)`` of a half shell of ``reach`` (own column first).

    Each pair of distinct cells appears once; the cells of a column are consecutive along z, so
    in the cell-sorted order a column is one contiguous range of particles (up to two more when
    it wraps through a periodic z boundary): 13 ranges per cell instead of 63 cells at reach 2.
    """
    r = range(-reach, reach + 1)
    cols = [(0, 0, 0, reach)] + [(a, b, -reach, reach) for a in r for b in r if (a, b) > (0, 0)]
    return np.array(cols, dtype=np.int64).reshape(-1, 4)


@njit(cache=True)
def cell_sort(pos, lengths, inv, origin, csize, ncell, order, image, spos, cstart, cwidth,
              ncoarse, ccell):  # fmt: skip
    """Counting sort of particles by cell (also fills the coarse cells of the rebuild test).

    ``image`` (sorted order) is the periodic image removed from each particle (``L floor(x/L)``
    on periodic axes, 0 elsewhere); ``spos = pos[order] - image``; ``cstart`` (ncells + 1) is
    the CSR of the cells in the sorted order; ``ccell`` the coarse cell (``cwidth`` wide,
    ``ncoarse`` per axis, same origin, clamped) of each sorted particle, for
    :func:`list_expired`. One kernel for all of it: each distinct kernel costs a cache load
    when a process starts.
    """
    n = pos.shape[0]
    cell_of = np.empty(n, dtype=np.int64)
    cstart[:] = 0
    for i in range(n):
        idx = 0
        for d in range(3):
            x = pos[i, d]
            x = x - lengths[d] * math.floor(x * inv[d]) - origin[d]
            c = int(x / csize[d])
            c = min(max(c, 0), ncell[d] - 1)
            idx = idx * ncell[d] + c if d > 0 else c
        cell_of[i] = idx
        cstart[idx + 1] += 1
    for c in range(cstart.shape[0] - 1):
        cstart[c + 1] += cstart[c]
    fill = cstart[:-1].copy()
    for i in range(n):
        k = fill[cell_of[i]]
        fill[cell_of[i]] += 1
        order[k] = i
        cidx = 0
        for d in range(3):
            img = lengths[d] * math.floor(pos[i, d] * inv[d])
            image[k, d] = img
            spos[k, d] = pos[i, d] - img
            c = int((spos[k, d] - origin[d]) / cwidth[d])
            cidx = cidx * ncoarse[d] + min(max(c, 0), ncoarse[d] - 1)
        ccell[k] = cidx


@njit(cache=True)
def _excluded(a, b, ex_start, ex_list):
    for k in range(ex_start[a], ex_start[a + 1]):  # noqa: SIM110 (numba: no generators)
        if ex_list[k] == b:
            return True
    return False


@njit(cache=True, inline="always")
def _wrap(c, nc, length, periodic):
    """Cell index ``c`` wrapped into ``0..nc-1``, its image shift, and whether it exists."""
    if 0 <= c < nc:
        return c, 0.0, True
    if not periodic:
        return c, 0.0, False
    return (c + nc) % nc, (length if c >= nc else -length), True


@njit(cache=True)
def _neighbour_ranges(cell, ncell, periodic, lengths, stencil, segs, shifts):
    """Stencil columns of ``cell`` as runs of consecutive cells ``segs[s] = (first, last)``.

    Own cell first, unshifted runs before shifted ones; returns ``(count, first_shifted)``.
    """
    ny, nz = ncell[1], ncell[2]
    c0 = cell // (ny * nz)
    c1 = (cell // nz) % ny
    c2 = cell % nz
    m = 0
    first_shifted = 0
    for shifted in (False, True):
        if shifted:
            first_shifted = m
        for s in range(stencil.shape[0]):
            cx, sx, okx = _wrap(c0 + stencil[s, 0], ncell[0], lengths[0], periodic[0])
            cy, sy, oky = _wrap(c1 + stencil[s, 1], ncell[1], lengths[1], periodic[1])
            if not (okx and oky):
                continue
            base = (cx * ny + cy) * nz
            # the column's z cells split into runs below 0, inside, and beyond nz
            for part in range(3):
                lo = c2 + stencil[s, 2]
                hi = c2 + stencil[s, 3]
                if part == 0:
                    hi = min(hi, -1)
                elif part == 1:
                    lo, hi = max(lo, 0), min(hi, nz - 1)
                else:
                    lo = max(lo, nz)
                if lo > hi or (part != 1 and not periodic[2]):
                    continue
                sz = 0.0 if part == 1 else (-lengths[2] if part == 0 else lengths[2])
                if (sx != 0.0 or sy != 0.0 or sz != 0.0) != shifted:
                    continue
                off = 0 if part == 1 else (nz if part == 0 else -nz)
                segs[m, 0] = base + lo + off
                segs[m, 1] = base + hi + off
                shifts[m, 0] = sx
                shifts[m, 1] = sy
                shifts[m, 2] = sz
                m += 1
    return m, first_shifted


@njit(cache=True, parallel=True)
def build_sorted_list(spos, cstart, ncell, periodic, lengths, stencil, rlist2, ex_start, ex_list,
                      order, chunk_cap, nbr, start, mid, end, used):  # fmt: skip
    """Split half list of the cell-sorted particles, blocks of cells in parallel.

    Block ``b`` (cells ``b C / B`` to ``(b+1) C / B``) writes from ``b * chunk_cap``; row ``i``
    has interior partners ``nbr[start[i]:mid[i]]`` and boundary partners ``nbr[mid[i]:end[i]]``.
    ``used[b]`` receives the pairs block ``b`` needed: if any exceeds ``chunk_cap`` the list is
    incomplete (enlarge and call again).
    """
    for b in prange(used.shape[0]):
        _build_block(b, spos, cstart, ncell, periodic, lengths, stencil, rlist2, ex_start,
                     ex_list, order, chunk_cap, nbr, start, mid, end, used)  # fmt: skip


@njit(cache=True)
def build_sorted_list_serial(spos, cstart, ncell, periodic, lengths, stencil, rlist2, ex_start,
                             ex_list, order, chunk_cap, nbr, start, mid, end, used):  # fmt: skip
    """Serial twin of :func:`build_sorted_list`."""
    for b in range(used.shape[0]):
        _build_block(b, spos, cstart, ncell, periodic, lengths, stencil, rlist2, ex_start,
                     ex_list, order, chunk_cap, nbr, start, mid, end, used)  # fmt: skip


@njit(cache=True)
def _build_block(b, spos, cstart, ncell, periodic, lengths, stencil, rlist2, ex_start, ex_list,
                 order, chunk_cap, nbr, start, mid, end, used):  # fmt: skip
    """Rows of the cells of block ``b`` (see :func:`build_sorted_list`)."""
    ncells = cstart.shape[0] - 1
    nblocks = used.shape[0]
    segs = np.empty((3 * stencil.shape[0], 2), dtype=np.int64)
    shifts = np.empty((3 * stencil.shape[0], 3))
    m = b * chunk_cap
    cap = m + chunk_cap
    for cell in range(b * ncells // nblocks, (b + 1) * ncells // nblocks):
        count, first_shifted = _neighbour_ranges(
            cell, ncell, periodic, lengths, stencil, segs, shifts
        )
        for i in range(cstart[cell], cstart[cell + 1]):
            start[i] = m
            has_ex = ex_start[order[i] + 1] > ex_start[order[i]]
            for s in range(count):
                if s == first_shifted:
                    mid[i] = m
                xs = spos[i, 0] - shifts[s, 0]
                ys = spos[i, 1] - shifts[s, 1]
                zs = spos[i, 2] - shifts[s, 2]
                # the first run starts at the own cell: only partners after i
                for k in range(i + 1 if s == 0 else cstart[segs[s, 0]], cstart[segs[s, 1] + 1]):
                    dx = xs - spos[k, 0]
                    dy = ys - spos[k, 1]
                    dz = zs - spos[k, 2]
                    # branch-free compaction: always store, advance only on a hit (about a
                    # quarter of the candidates are hits, a branch would be mispredicted often)
                    hit = dx * dx + dy * dy + dz * dz < rlist2
                    if has_ex and hit:
                        hit = not _excluded(order[i], order[k], ex_start, ex_list)
                    if m < cap:
                        nbr[m] = k
                    m += 1 if hit else 0
            if first_shifted == count:
                mid[i] = m
            end[i] = m
    used[b] = m - b * chunk_cap


@njit(cache=True, inline="always")
def _gather_one(k, pos, order, image, spos):
    i = order[k]
    for d in range(3):
        spos[k, d] = pos[i, d] - image[k, d]


@njit(cache=True, inline="always")
def _scatter_one(k, fbuf, order, forces):
    i = order[k]
    for d in range(3):
        acc = 0.0
        for b in range(fbuf.shape[0]):
            acc += fbuf[b, k, d]
        forces[i, d] += acc


@njit(cache=True, fastmath=True, inline="always")
def _lj_pair(r2, c12, c6, shift, rc2, mode, rsw, width):
    """LJ energy and ``F.r / r^2`` of one pair (0 beyond the cutoff, without a branch)."""
    # branch-free cutoff: about 30 % of the list pairs lie between rc and rc + skin, a
    # test on r2 < rc2 would be mispredicted often
    inside = 1.0 if r2 < rc2 else 0.0
    ir2 = 1.0 / r2
    ir6 = ir2 * ir2 * ir2
    a12 = c12 * ir6 * ir6
    a6 = c6 * ir6
    u = a12 - a6 - shift
    fr = (12.0 * a12 - 6.0 * a6) * ir2
    if mode == 2 and inside > 0.0:
        r = math.sqrt(r2)
        if r > rsw:
            x = (r - rsw) / width
            x2 = x * x
            s = 1.0 - x * x2 * (10.0 - 15.0 * x + 6.0 * x2)
            ds = -30.0 * x2 * (1.0 - 2.0 * x + x2) / width
            fr = fr * s - u * ds / r
            u *= s
    return u * inside, fr * inside


@njit(cache=True, fastmath=True)
def _lj_rows(lo, hi, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw, lengths, inv, start,
             mid, end, nbr, f):  # fmt: skip
    """LJ over sorted rows ``lo..hi`` into the buffer ``f``; returns (energy, virial, close).

    ``close`` is the smallest ``r^2 - rmin2`` met: negative if a pair overlaps (the caller
    then locates it with :func:`first_overlap`; no branch in the pair loop).
    """
    energy = 0.0
    virial = 0.0
    close = 1e300  # not inf: fastmath assumes finite values
    width = math.sqrt(rc2) - rsw
    for i in range(lo, hi):
        xi, yi, zi = spos[i, 0], spos[i, 1], spos[i, 2]
        ti = stypes[i]
        c12i, c6i, shi, rmi = c12[ti], c6[ti], eshift[ti], rmin2[ti]
        fxi = fyi = fzi = 0.0
        for boundary in (False, True):
            k0, k1 = (mid[i], end[i]) if boundary else (start[i], mid[i])
            for k in range(k0, k1):
                j = nbr[k]
                dx = xi - spos[j, 0]
                dy = yi - spos[j, 1]
                dz = zi - spos[j, 2]
                if boundary:  # minimum image
                    dx -= lengths[0] * np.rint(dx * inv[0])
                    dy -= lengths[1] * np.rint(dy * inv[1])
                    dz -= lengths[2] * np.rint(dz * inv[2])
                r2 = dx * dx + dy * dy + dz * dz
                tj = stypes[j]
                close = min(close, r2 - rmi[tj])
                u, fr = _lj_pair(r2, c12i[tj], c6i[tj], shi[tj], rc2, mode, rsw, width)
                energy += u
                virial += fr * r2
                fxi += fr * dx
                fyi += fr * dy
                fzi += fr * dz
                f[j, 0] -= fr * dx
                f[j, 1] -= fr * dy
                f[j, 2] -= fr * dz
        f[i, 0] += fxi
        f[i, 1] += fyi
        f[i, 2] += fzi
    return energy, virial, close


@njit(cache=True, fastmath=True)
def _lj_rows_uniform(lo, hi, spos, c12, c6, eshift, rc2, lengths, inv, start, mid, end, nbr, f):
    """:func:`_lj_rows` for one pair type and a plain or shifted cutoff: scalar coefficients.

    Without the per-pair lookups of the type tables the loop is about 25 % faster (in.lj);
    returns (energy, virial, smallest r^2).
    """
    energy = 0.0
    virial = 0.0
    close = 1e300  # not inf: fastmath assumes finite values
    for i in range(lo, hi):
        xi, yi, zi = spos[i, 0], spos[i, 1], spos[i, 2]
        fxi = fyi = fzi = 0.0
        for boundary in (False, True):
            k0, k1 = (mid[i], end[i]) if boundary else (start[i], mid[i])
            for k in range(k0, k1):
                j = nbr[k]
                dx = xi - spos[j, 0]
                dy = yi - spos[j, 1]
                dz = zi - spos[j, 2]
                if boundary:
                    dx -= lengths[0] * np.rint(dx * inv[0])
                    dy -= lengths[1] * np.rint(dy * inv[1])
                    dz -= lengths[2] * np.rint(dz * inv[2])
                r2 = dx * dx + dy * dy + dz * dz
                close = min(close, r2)
                # branch-free cutoff (about 30 % of the list pairs lie between rc and rlist)
                inside = 1.0 if r2 < rc2 else 0.0
                ir2 = 1.0 / r2
                ir6 = ir2 * ir2 * ir2
                a12 = c12 * ir6 * ir6
                a6 = c6 * ir6
                energy += (a12 - a6 - eshift) * inside
                fr = (12.0 * a12 - 6.0 * a6) * ir2 * inside
                virial += fr * r2
                fxi += fr * dx
                fyi += fr * dy
                fzi += fr * dz
                f[j, 0] -= fr * dx
                f[j, 1] -= fr * dy
                f[j, 2] -= fr * dz
        f[i, 0] += fxi
        f[i, 1] += fyi
        f[i, 2] += fzi
    return energy, virial, close


@njit(cache=True, inline="always")
def _lj_block(b, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw, lengths, inv, start, mid,
              end, nbr, fbuf, ew, uniform):  # fmt: skip
    n = spos.shape[0]
    nb = fbuf.shape[0]
    f = fbuf[b]
    f[:] = 0.0
    lo, hi = b * n // nb, (b + 1) * n // nb
    if uniform:
        e, w, close = _lj_rows_uniform(lo, hi, spos, c12[0, 0], c6[0, 0], eshift[0, 0], rc2,
                                       lengths, inv, start, mid, end, nbr, f)  # fmt: skip
        close -= rmin2[0, 0]
    else:
        e, w, close = _lj_rows(lo, hi, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw,
                               lengths, inv, start, mid, end, nbr, f)  # fmt: skip
    ew[b, 0] = e
    ew[b, 1] = w
    ew[b, 2] = close


@njit(cache=True, parallel=True)
def lj_sorted(pos, order, image, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw, lengths,
              inv, start, mid, end, nbr, fbuf, ew, uniform, forces):  # fmt: skip
    """LJ over the split half list in row blocks (one force buffer ``fbuf[b]`` per block).

    Gathers the sorted working copy ``spos[k] = pos[order[k]] - image[k]``, runs the blocks and
    adds ``sum_b fbuf[b, k]`` (blocks in a fixed order) to ``forces[order[k]]``: one call per
    step. Same pair function as :func:`stochastic.md.kernels.lj_half`; ``ew[b]`` receives the
    block's (energy, virial, smallest ``r^2 - rmin2``): a negative last entry means an
    overlap. ``uniform`` selects the scalar-coefficient loop (one pair type, plain or shifted).
    """
    for k in prange(order.shape[0]):
        _gather_one(k, pos, order, image, spos)
    for b in prange(fbuf.shape[0]):
        _lj_block(b, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw, lengths, inv, start,
                  mid, end, nbr, fbuf, ew, uniform)  # fmt: skip
    for k in prange(order.shape[0]):
        _scatter_one(k, fbuf, order, forces)


@njit(cache=True)
def lj_sorted_serial(pos, order, image, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw,
                     lengths, inv, start, mid, end, nbr, fbuf, ew, uniform, forces):  # fmt: skip
    """Serial twin of :func:`lj_sorted` (same blocks, one after the other)."""
    for k in range(order.shape[0]):
        _gather_one(k, pos, order, image, spos)
    for b in range(fbuf.shape[0]):
        _lj_block(b, spos, stypes, c12, c6, eshift, rmin2, rc2, mode, rsw, lengths, inv, start,
                  mid, end, nbr, fbuf, ew, uniform)  # fmt: skip
    for k in range(order.shape[0]):
        _scatter_one(k, fbuf, order, forces)


@njit(cache=True)
def first_overlap(spos, stypes, rmin2, lengths, inv, start, mid, end, nbr):
    """First listed pair (sorted indices) closer than its ``rmin2``, or (-1, -1)."""
    for i in range(spos.shape[0]):
        for k in range(start[i], end[i]):
            j = nbr[k]
            r2 = 0.0
            for d in range(3):
                x = spos[i, d] - spos[j, d]
                if k >= mid[i]:
                    x -= lengths[d] * np.rint(x * inv[d])
                r2 += x * x
            if r2 < rmin2[stypes[i], stypes[j]]:
                return i, j
    return -1, -1


@njit(cache=True)
def original_csr(order, start, mid, end, nbr, out_start, out_nbr):
    """The split sorted list as a plain half list in the original particle indices.

    Each pair is stored once, under its smaller original index (partner > row).
    """
    n = order.shape[0]
    out_start[:] = 0
    for k in range(n):
        for p in range(start[k], end[k]):
            a, b = order[k], order[nbr[p]]
            out_start[min(a, b) + 1] += 1
    for i in range(n):
        out_start[i + 1] += out_start[i]
    fill = out_start[:-1].copy()
    for k in range(n):
        for p in range(start[k], end[k]):
            a, b = order[k], order[nbr[p]]
            lo = min(a, b)
            out_nbr[fill[lo]] = max(a, b)
            fill[lo] += 1


@njit(cache=True, inline="always")
def _disp2(k, pos, order, image, ref):
    i = order[k]
    dx = pos[i, 0] - image[k, 0] - ref[k, 0]
    dy = pos[i, 1] - image[k, 1] - ref[k, 1]
    dz = pos[i, 2] - image[k, 2] - ref[k, 2]
    return dx * dx + dy * dy + dz * dz


@njit(cache=True, parallel=True)
def max_move2(pos, order, image, ref, out):
    """Largest squared move since the build of each row block into ``out`` (threads only).

    The first pass of :func:`list_expired` split over the threads; ``max(out)`` is passed to it
    as ``big`` so that the serial kernel only runs its cell-by-cell test.
    """
    n, nb = order.shape[0], out.shape[0]
    for b in prange(nb):
        big = 0.0
        for k in range(b * n // nb, (b + 1) * n // nb):
            big = max(big, _disp2(k, pos, order, image, ref))
        out[b] = big


@njit(cache=True)
def list_expired(pos, order, image, ref, ccell, ncoarse, periodic, skin, dcap, top, big=-1.0):
    """Whether a pair may have entered the cutoff since the build (then rebuild).

    A pair missing from the list was at least ``rc + skin`` apart at the build; after moves
    ``d_i`` and ``d_j`` it is at least ``rc + skin - d_i - d_j`` apart, so the list is valid
    while ``d_i + d_j < skin`` for every pair that can reach the cutoff. With every
    ``d < dcap`` only pairs in the same or adjacent coarse cells (at least ``rc + 2 dcap``
    wide) can; so the test is: the largest move plus the second largest in each cell, and the
    largest moves of adjacent cells, sum to less than ``skin``. This is the half-skin rule
    (``max d < skin/2``, Allen & Tildesley section 5.3.1) sharpened: equally safe, it only
    rebuilds when two particles that can meet have moved skin together.
    ``top`` (ncells, 2) is scratch space; ``big``, if >= 0, is the largest squared move
    (from :func:`max_move2`).
    """
    # first a plain maximum: while every move is below skin/2 nothing else is needed
    n = order.shape[0]
    if big < 0.0:
        big = 0.0
        for k in range(n):
            big = max(big, _disp2(k, pos, order, image, ref))
    if 4.0 * big < skin * skin:
        return False
    if big >= dcap * dcap:
        return True
    top[:] = 0.0
    for k in range(n):
        d = math.sqrt(_disp2(k, pos, order, image, ref))
        c = ccell[k]
        if d > top[c, 1]:
            if d > top[c, 0]:
                top[c, 1] = top[c, 0]
                top[c, 0] = d
            else:
                top[c, 1] = d
    nx, ny, nz = ncoarse[0], ncoarse[1], ncoarse[2]
    for c in range(top.shape[0]):
        if top[c, 0] + top[c, 1] >= skin:
            return True
        cx, cy, cz = c // (ny * nz), (c // nz) % ny, c % nz
        for ox in range(-1, 2):
            x, _, okx = _wrap(cx + ox, nx, 0.0, periodic[0])
            for oy in range(-1, 2):
                y, _, oky = _wrap(cy + oy, ny, 0.0, periodic[1])
                for oz in range(-1, 2):
                    z, _, okz = _wrap(cz + oz, nz, 0.0, periodic[2])
                    other = (x * ny + y) * nz + z
                    if okx and oky and okz and other != c and top[c, 0] + top[other, 0] >= skin:
                        return True
    return False


@njit(cache=True, inline="always")
def _kick_drift_one(i, x, v, f, inv_m, half_dt, dt):
    h = half_dt * inv_m[i]
    for d in range(3):
        v[i, d] += h * f[i, d]
        x[i, d] += dt * v[i, d]


@njit(cache=True, inline="always")
def _kick_one(i, v, f, inv_m, half_dt):
    h = half_dt * inv_m[i]
    for d in range(3):
        v[i, d] += h * f[i, d]


@njit(cache=True, parallel=True)
def kick_drift(x, v, f, inv_m, half_dt, dt):
    """Velocity Verlet first half: ``v += (dt/2) f/m; x += dt v`` in one pass."""
    for i in prange(x.shape[0]):
        _kick_drift_one(i, x, v, f, inv_m, half_dt, dt)


@njit(cache=True)
def kick_drift_serial(x, v, f, inv_m, half_dt, dt):
    """Serial twin of :func:`kick_drift`."""
    for i in range(x.shape[0]):
        _kick_drift_one(i, x, v, f, inv_m, half_dt, dt)


@njit(cache=True, parallel=True)
def kick(v, f, inv_m, half_dt):
    """Velocity Verlet second half: ``v += (dt/2) f/m``."""
    for i in prange(v.shape[0]):
        _kick_one(i, v, f, inv_m, half_dt)


@njit(cache=True)
def kick_serial(v, f, inv_m, half_dt):
    """Serial twin of :func:`kick`."""
    for i in range(v.shape[0]):
        _kick_one(i, v, f, inv_m, half_dt)


def use_threads(n_particles: int) -> bool:
    """Whether the per-particle kernels of a system of this size should run threaded."""
    return (
        THREADS_ENABLED and numba.get_num_threads() > 1 and n_particles >= PARALLEL_MIN_PARTICLES
    )
