"""numba-compiled kernels: cell-list neighbour lists, LJ and Coulomb pair loops, Ewald k-space.

Every kernel has a plain-numpy reference twin (``lj.lj_reference``, ``ewald.ewald_reference``...)
that the tests compare against. Conventions shared by all kernels:

- ``pos`` is an ``(N, 3)`` C-contiguous float64 array [nm];
- ``lengths`` are the box lengths and ``inv`` is ``1/L`` on periodic axes and 0 elsewhere, so the
  minimum image ``d -= L * rint(d * inv)`` is a no-op on non-periodic axes;
- neighbour lists are *half* lists (each pair once) in CSR form ``start`` (N+1), ``nbr``;
- force kernels *add* into ``forces`` and return ``(energy, virial)`` with the scalar virial
  ``W = sum_pairs r_ij . F_ij`` [kJ/mol];
- ``bad`` (int64[2]) receives the first pair closer than the overlap threshold (else stays -1).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@njit(cache=True)
def _is_excluded(i, j, ex_start, ex_list):
    for k in range(ex_start[i], ex_start[i + 1]):  # noqa: SIM110 (numba: no generators)
        if ex_list[k] == j:
            return True
    return False


#: Own cell plus the 13 cells of a half shell: each pair of neighbouring cells is visited once.
_STENCIL = np.array(
    [(0, 0, 0)]
    + [
        (a, b, c)
        for a in (-1, 0, 1)
        for b in (-1, 0, 1)
        for c in (-1, 0, 1)
        if (a, b, c) > (0, 0, 0)
    ],
    dtype=np.int64,
)


@njit(cache=True)
def build_half_list_cells(
    pos, lengths, inv, origin, csize, ncell, periodic, rlist2, ex_start, ex_list, start, nbr
):
    """Half neighbour list (each pair once, r < rlist) by a cell list and a half-shell stencil.

    Returns the number of pairs found.
    If that number exceeds ``len(nbr)`` the list is incomplete: reallocate and call again.
    Cells are at least ``rlist`` wide; periodic axes need >= 3 cells (else use the brute list).
    """
    n = pos.shape[0]
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    ncells = nx * ny * nz
    cell_of = np.empty(n, dtype=np.int64)
    ci = np.empty((n, 3), dtype=np.int64)
    wpos = np.empty((n, 3))  # positions wrapped into the box on periodic axes
    counts = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):
        for d in range(3):
            x = pos[i, d]
            if periodic[d]:
                x = x - lengths[d] * math.floor(x * inv[d])
                wpos[i, d] = x
            else:
                wpos[i, d] = x
                x = x - origin[d]
            c = int(x / csize[d])
            if c < 0:
                c = 0
            if c >= ncell[d]:
                c = ncell[d] - 1
            ci[i, d] = c
        cell_of[i] = (ci[i, 0] * ny + ci[i, 1]) * nz + ci[i, 2]
        counts[cell_of[i] + 1] += 1
    for c in range(ncells):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = cell_of[i]
        members[fill[c]] = i
        fill[c] += 1
    # wrapped positions sorted by cell: the candidate loop below streams through memory, and
    # the periodic image of a neighbour cell is a fixed shift (no minimum-image rounding)
    spos = np.empty((n, 3))
    for k in range(n):
        spos[k, 0] = wpos[members[k], 0]
        spos[k, 1] = wpos[members[k], 1]
        spos[k, 2] = wpos[members[k], 2]
    cap = nbr.shape[0]
    m = 0
    for i in range(n):
        start[i] = m
        xi = wpos[i, 0]
        yi = wpos[i, 1]
        zi = wpos[i, 2]
        for s in range(14):
            # image shifts: xi - (x_j + shift) is the minimum-image separation
            sx = 0.0
            sy = 0.0
            sz = 0.0
            cx = ci[i, 0] + _STENCIL[s, 0]
            if cx < 0 or cx >= nx:
                if not periodic[0]:
                    continue
                sx = lengths[0] if cx >= nx else -lengths[0]
                cx = (cx + nx) % nx
            cy = ci[i, 1] + _STENCIL[s, 1]
            if cy < 0 or cy >= ny:
                if not periodic[1]:
                    continue
                sy = lengths[1] if cy >= ny else -lengths[1]
                cy = (cy + ny) % ny
            cz = ci[i, 2] + _STENCIL[s, 2]
            if cz < 0 or cz >= nz:
                if not periodic[2]:
                    continue
                sz = lengths[2] if cz >= nz else -lengths[2]
                cz = (cz + nz) % nz
            c = (cx * ny + cy) * nz + cz
            xs = xi - sx
            ys = yi - sy
            zs = zi - sz
            for k in range(counts[c], counts[c + 1]):
                j = members[k]
                if s == 0 and j <= i:
                    continue
                dx = xs - spos[k, 0]
                dy = ys - spos[k, 1]
                dz = zs - spos[k, 2]
                if dx * dx + dy * dy + dz * dz < rlist2:
                    if ex_start[i + 1] > ex_start[i] and _is_excluded(i, j, ex_start, ex_list):
                        continue
                    if m < cap:
                        nbr[m] = j
                    m += 1
    start[n] = m
    return m


@njit(cache=True)
def build_half_list_brute(pos, lengths, inv, rlist2, ex_start, ex_list, start, nbr):
    """Half neighbour list by the O(N^2) double loop (small systems, few cells)."""
    n = pos.shape[0]
    cap = nbr.shape[0]
    m = 0
    for i in range(n):
        start[i] = m
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            dx -= lengths[0] * np.rint(dx * inv[0])
            dy -= lengths[1] * np.rint(dy * inv[1])
            dz -= lengths[2] * np.rint(dz * inv[2])
            if dx * dx + dy * dy + dz * dz < rlist2:
                if ex_start[i + 1] > ex_start[i] and _is_excluded(i, j, ex_start, ex_list):
                    continue
                if m < cap:
                    nbr[m] = j
                m += 1
    start[n] = m
    return m


@njit(cache=True)
def max_displacement2(pos, ref, lengths, inv):
    """Largest squared (minimum-image) displacement of any particle since ``ref``."""
    best = 0.0
    for i in range(pos.shape[0]):
        dx = pos[i, 0] - ref[i, 0]
        dy = pos[i, 1] - ref[i, 1]
        dz = pos[i, 2] - ref[i, 2]
        dx -= lengths[0] * np.rint(dx * inv[0])
        dy -= lengths[1] * np.rint(dy * inv[1])
        dz -= lengths[2] * np.rint(dz * inv[2])
        d2 = dx * dx + dy * dy + dz * dz
        if d2 > best:
            best = d2
    return best


@njit(cache=True, fastmath=True)
def lj_half(
    pos, lengths, inv, types, c12, c6, eshift, rmin2, rc2, mode, rsw, start, nbr, forces, bad
):
    """Lennard-Jones ``c12/r^12 - c6/r^6 - eshift`` over a half list.

    ``mode`` 0: plain truncation (``eshift`` = 0); 1: energy shifted by ``eshift[ti, tj]``
    (= U(rc)); 2: energy switched to zero between ``rsw`` and ``rc`` by
    ``S(x) = 1 - 10x^3 + 15x^4 - 6x^5``.
    """
    n = pos.shape[0]
    energy = 0.0
    virial = 0.0
    rc = math.sqrt(rc2)
    width = rc - rsw
    lx, ly, lz = lengths[0], lengths[1], lengths[2]
    ix, iy, iz = inv[0], inv[1], inv[2]
    for i in range(n):
        xi = pos[i, 0]
        yi = pos[i, 1]
        zi = pos[i, 2]
        ti = types[i]
        c12i = c12[ti]
        c6i = c6[ti]
        shi = eshift[ti]
        rmi = rmin2[ti]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for k in range(start[i], start[i + 1]):
            j = nbr[k]
            dx = xi - pos[j, 0]
            dy = yi - pos[j, 1]
            dz = zi - pos[j, 2]
            dx -= lx * np.rint(dx * ix)
            dy -= ly * np.rint(dy * iy)
            dz -= lz * np.rint(dz * iz)
            r2 = dx * dx + dy * dy + dz * dz
            tj = types[j]
            if r2 < rmi[tj]:
                if r2 < rc2 and bad[0] < 0:
                    bad[0] = i
                    bad[1] = j
                continue
            # branch-free cutoff test: the sign of r2 - rc2 is hard to predict
            inside = 1.0 if r2 < rc2 else 0.0
            ir2 = 1.0 / r2
            ir6 = ir2 * ir2 * ir2
            a12 = c12i[tj] * ir6 * ir6
            a6 = c6i[tj] * ir6
            u = a12 - a6 - shi[tj]
            fr = (12.0 * a12 - 6.0 * a6) * ir2  # F . r / r^2
            if mode == 2 and inside > 0.0:
                r = math.sqrt(r2)
                if r > rsw:
                    x = (r - rsw) / width
                    x2 = x * x
                    s = 1.0 - x * x2 * (10.0 - 15.0 * x + 6.0 * x2)
                    ds = -30.0 * x2 * (1.0 - 2.0 * x + x2) / width
                    fr = fr * s - u * ds / r
                    u *= s
            u *= inside
            fr *= inside
            energy += u
            virial += fr * r2
            fx = fr * dx
            fy = fr * dy
            fz = fr * dz
            fxi += fx
            fyi += fy
            fzi += fz
            forces[j, 0] -= fx
            forces[j, 1] -= fy
            forces[j, 2] -= fz
        forces[i, 0] += fxi
        forces[i, 1] += fyi
        forces[i, 2] += fzi
    return energy, virial


@njit(cache=True, fastmath=True)
def coulomb_half(
    pos, lengths, inv, q, rmin2, rc2, mode, alpha, krf, crf, ke, start, nbr, forces, bad
):
    """Cutoff Coulomb pair term over a half list (``ke`` = 1/(4 pi eps0 eps_r)).

    ``mode`` 0: Ewald real space ``ke qi qj erfc(alpha r)/r``; 1: reaction field
    ``ke qi qj (1/r + krf r^2 - crf)``.
    """
    n = pos.shape[0]
    energy = 0.0
    virial = 0.0
    for i in range(n):
        qi = q[i]
        if qi == 0.0:
            continue
        xi = pos[i, 0]
        yi = pos[i, 1]
        zi = pos[i, 2]
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for k in range(start[i], start[i + 1]):
            j = nbr[k]
            qq = qi * q[j]
            if qq == 0.0:
                continue
            dx = xi - pos[j, 0]
            dy = yi - pos[j, 1]
            dz = zi - pos[j, 2]
            dx -= lengths[0] * np.rint(dx * inv[0])
            dy -= lengths[1] * np.rint(dy * inv[1])
            dz -= lengths[2] * np.rint(dz * inv[2])
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < rc2:
                if r2 < rmin2:
                    if bad[0] < 0:
                        bad[0] = i
                        bad[1] = j
                    continue
                r = math.sqrt(r2)
                ir = 1.0 / r
                if mode == 0:
                    ar = alpha * r
                    e = math.erfc(ar) * ir
                    u = ke * qq * e
                    fr = ke * qq * (e + _TWO_OVER_SQRT_PI * alpha * math.exp(-ar * ar)) * ir * ir
                else:
                    u = ke * qq * (ir + krf * r2 - crf)
                    fr = ke * qq * (ir * ir * ir - 2.0 * krf)
                energy += u
                virial += fr * r2
                fx = fr * dx
                fy = fr * dy
                fz = fr * dz
                fxi += fx
                fyi += fy
                fzi += fz
                forces[j, 0] -= fx
                forces[j, 1] -= fy
                forces[j, 2] -= fz
        forces[i, 0] += fxi
        forces[i, 1] += fyi
        forces[i, 2] += fzi
    return energy, virial


@njit(cache=True)
def ewald_kspace(pos, q, lengths, alpha, kmax, kcut2, ke, forces):
    """Ewald reciprocal-space energy, forces (added) and virial trace for charged particles.

    ``E = (2 pi ke / V) sum_{k != 0} exp(-k^2/(4 alpha^2))/k^2 |S(k)|^2`` with
    ``S(k) = sum_j q_j exp(i k.r_j)``, summed over half of k-space (factor 2) for
    ``|k|^2 < kcut2``; ``kmax`` = max integer index per axis. Returns ``(energy, virial)`` with
    the virial trace ``sum_k E_k (1 - k^2/(2 alpha^2))``.
    """
    n = pos.shape[0]
    vol = lengths[0] * lengths[1] * lengths[2]
    kx0 = 2.0 * math.pi / lengths[0]
    ky0 = 2.0 * math.pi / lengths[1]
    kz0 = 2.0 * math.pi / lengths[2]
    mx, my, mz = kmax[0], kmax[1], kmax[2]
    ex = np.empty((n, mx + 1), dtype=np.complex128)
    ey = np.empty((n, 2 * my + 1), dtype=np.complex128)
    ez = np.empty((n, 2 * mz + 1), dtype=np.complex128)
    for j in range(n):
        bx = complex(math.cos(kx0 * pos[j, 0]), math.sin(kx0 * pos[j, 0]))
        by = complex(math.cos(ky0 * pos[j, 1]), math.sin(ky0 * pos[j, 1]))
        bz = complex(math.cos(kz0 * pos[j, 2]), math.sin(kz0 * pos[j, 2]))
        ex[j, 0] = 1.0
        for a in range(1, mx + 1):
            ex[j, a] = ex[j, a - 1] * bx
        ey[j, my] = 1.0
        for a in range(1, my + 1):
            ey[j, my + a] = ey[j, my + a - 1] * by
            ey[j, my - a] = ey[j, my + a].conjugate()
        ez[j, mz] = 1.0
        for a in range(1, mz + 1):
            ez[j, mz + a] = ez[j, mz + a - 1] * bz
            ez[j, mz - a] = ez[j, mz + a].conjugate()
    energy = 0.0
    virial = 0.0
    four_a2 = 4.0 * alpha * alpha
    exy = np.empty(n, dtype=np.complex128)
    terms = np.empty(n, dtype=np.complex128)
    for a in range(mx + 1):
        kx = a * kx0
        for b in range(-my, my + 1):
            if a == 0 and b < 0:
                continue
            ky = b * ky0
            for j in range(n):
                exy[j] = ex[j, a] * ey[j, my + b]
            for c in range(-mz, mz + 1):
                if a == 0 and b == 0 and c <= 0:
                    continue
                kz = c * kz0
                k2 = kx * kx + ky * ky + kz * kz
                if k2 >= kcut2:
                    continue
                s = 0.0 + 0.0j
                for j in range(n):
                    t = exy[j] * ez[j, mz + c]
                    terms[j] = t
                    s += q[j] * t
                akk = math.exp(-k2 / four_a2) / k2
                ek = 2.0 * (2.0 * math.pi * ke / vol) * akk * (s.real * s.real + s.imag * s.imag)
                energy += ek
                virial += ek * (1.0 - 2.0 * k2 / four_a2)
                pref = 2.0 * (4.0 * math.pi * ke / vol) * akk
                for j in range(n):
                    # Im(conj(S) * e^{ik.r_j})
                    im = s.real * terms[j].imag - s.imag * terms[j].real
                    g = pref * q[j] * im
                    forces[j, 0] += g * kx
                    forces[j, 1] += g * ky
                    forces[j, 2] += g * kz
    return energy, virial


@njit(cache=True)
def bspline_weights(w, order, vals, dvals):
    """Cardinal B-spline values ``vals[j] = M_n(w + j)`` and derivatives, ``0 <= w < 1``.

    Recursion ``M_p(x) = (x M_{p-1}(x) + (p - x) M_{p-1}(x - 1)) / (p - 1)`` from
    ``M_2(x) = 1 - |x - 1|`` (Essmann et al., J. Chem. Phys. 103, 8577 (1995), eq. 4.1).
    """
    for j in range(order):
        vals[j] = 0.0
    vals[0] = w
    vals[1] = 1.0 - w
    for p in range(3, order + 1):
        if p == order:
            dvals[0] = vals[0]
            for j in range(1, order):
                dvals[j] = vals[j] - vals[j - 1]
        for j in range(p - 1, -1, -1):
            x = w + j
            prev = vals[j - 1] if j >= 1 else 0.0
            vals[j] = (x * vals[j] + (p - x) * prev) / (p - 1)


@njit(cache=True)
def pme_spread(u, q, grid, order):
    """Spread charges on the PME grid: ``Q(k) += q_i prod_d M_n(u_id - k_d)`` (periodic)."""
    k1, k2, k3 = grid.shape
    wx = np.empty(order)
    wy = np.empty(order)
    wz = np.empty(order)
    dw = np.empty(order)
    for i in range(u.shape[0]):
        fx = math.floor(u[i, 0])
        fy = math.floor(u[i, 1])
        fz = math.floor(u[i, 2])
        bspline_weights(u[i, 0] - fx, order, wx, dw)
        bspline_weights(u[i, 1] - fy, order, wy, dw)
        bspline_weights(u[i, 2] - fz, order, wz, dw)
        for a in range(order):
            ga = (int(fx) - a) % k1
            qa = q[i] * wx[a]
            for b in range(order):
                gb = (int(fy) - b) % k2
                qab = qa * wy[b]
                for c in range(order):
                    gc = (int(fz) - c) % k3
                    grid[ga, gb, gc] += qab * wz[c]


@njit(cache=True)
def pme_gather(u, q, phi, order, scale, forces):
    """Add ``F_i = -q_i sum_k grad_i(prod_d M_n(u_id - k_d)) phi(k)``; ``scale`` = K_d / L_d."""
    k1, k2, k3 = phi.shape
    wx = np.empty(order)
    wy = np.empty(order)
    wz = np.empty(order)
    dx = np.empty(order)
    dy = np.empty(order)
    dz = np.empty(order)
    for i in range(u.shape[0]):
        fx = math.floor(u[i, 0])
        fy = math.floor(u[i, 1])
        fz = math.floor(u[i, 2])
        bspline_weights(u[i, 0] - fx, order, wx, dx)
        bspline_weights(u[i, 1] - fy, order, wy, dy)
        bspline_weights(u[i, 2] - fz, order, wz, dz)
        gx = 0.0
        gy = 0.0
        gz = 0.0
        for a in range(order):
            ga = (int(fx) - a) % k1
            for b in range(order):
                gb = (int(fy) - b) % k2
                for c in range(order):
                    p = phi[ga, gb, (int(fz) - c) % k3]
                    gx += dx[a] * wy[b] * wz[c] * p
                    gy += wx[a] * dy[b] * wz[c] * p
                    gz += wx[a] * wy[b] * dz[c] * p
        forces[i, 0] -= q[i] * gx * scale[0]
        forces[i, 1] -= q[i] * gy * scale[1]
        forces[i, 2] -= q[i] * gz * scale[2]


@njit(cache=True, fastmath=True)
def coulomb_all_pairs(pos, q, ex_start, ex_list, rmin2, ke, forces, bad):
    """Plain Coulomb ``ke qi qj / r`` over all pairs ``i < j`` (open boundaries, no cutoff).

    Excluded pairs (CSR ``ex_start``, ``ex_list``) and uncharged particles are skipped; no
    minimum image. Returns ``(energy, virial)``.
    """
    n = pos.shape[0]
    energy = 0.0
    virial = 0.0
    for i in range(n):
        qi = q[i]
        if qi == 0.0:
            continue
        fxi = 0.0
        fyi = 0.0
        fzi = 0.0
        for j in range(i + 1, n):
            qq = qi * q[j]
            if qq == 0.0 or _is_excluded(i, j, ex_start, ex_list):
                continue
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < rmin2:
                if bad[0] < 0:
                    bad[0] = i
                    bad[1] = j
                continue
            ir = 1.0 / math.sqrt(r2)
            u = ke * qq * ir
            fr = u * ir * ir  # F_i . r_ij / r^2
            energy += u
            virial += u
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
