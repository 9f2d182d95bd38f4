"""Compiled (numba) kernels of the BD channel model: forces, energies and the Ermak-McCammon step.

Units: positions nm, time ns, D nm^2/ns, energies kT, forces kT/nm.

Pair potential of ions i, j at distance r (valences q, radii a, ``sigma = a_i + a_j``, Bjerrum
length ``l_B`` of the solvent)::

    U_ij = l_B q_i q_j / r + l_B |q_i q_j| sigma^8 / (9 r^9)

The ``r^-9`` core is the shifted short-range repulsion of S.-H. Chung's BD group (Corry, Kuyucak &
Chung, Biophys. J. 78, 2349 (2000)): its force balances the Coulomb attraction of an
oppositely charged pair exactly at contact ``r = sigma``, so the pair minimum is at the sum of
the ionic radii. The Coulomb sum is exact over all pairs (no cutoff): the system is not
periodic, the pore is poorly screened, and for a channel system (10^2-10^3 ions) the vectorised
direct sum costs ~1.5 ns per pair on one core.

Ion-wall energy: ``(k_w/2) (a - d)^2`` for a centre closer than its radius ``a`` to the
membrane (``d`` from :mod:`stochastic.bd.geometry`); the bath boundaries are artificial and act
on every species at the same contact distance (the largest ionic radius), so that they do not
adsorb the smaller ions (a wall that lets the small ion closer builds a double layer of it,
which shifts the cation/anion balance of a small bath by several per cent). External energy:
per-species tables on a regular grid (bilinear in (r, z) or trilinear) plus the analytic
constant-field drop.

Step (Ermak & McCammon, J. Chem. Phys. 69, 1352 (1978), Ito form with D = D(z))::

    x(t + dt) = x + D(z) F dt + (dD/dz) dt e_z + sqrt(2 D(z) dt) xi

with ``F`` in kT/nm. A drift displacement larger than ``max_drift`` (per component) is clipped and
counted (it signals a time step too large for a close contact).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# float parameters (index into fp)
F_LB, F_H, F_RB, F_ZMAX, F_KW, F_UDROP = 0, 1, 2, 3, 4, 5
F_G0, F_GI = 6, 9  # grid origin (3) and inverse spacing (3)
F_D0, F_DI, F_P0, F_PI, F_DT, F_PL0, F_PLD, F_MAXDRIFT = 12, 13, 14, 15, 16, 17, 18, 19
F_ABATH = 20  # contact distance of every ion with the (artificial) bath boundaries
N_FP = 21
# integer parameters (index into ip)
I_MODE, I_GN, I_ND, I_NP, I_NPL = 0, 1, 4, 5, 6
N_IP = 7

_JIT = {"cache": True, "error_model": "numpy"}


@njit(fastmath=True, **_JIT)
def _row_force(xi, yi, zi, qi, ai, x, y, z, q, a, lb):
    """Force on one ion from a row of others, in float32."""
    sx = np.float32(0.0)
    sy = np.float32(0.0)
    sz = np.float32(0.0)
    one = np.float32(1.0)
    for j in range(x.shape[0]):
        dx = xi - x[j]
        dy = yi - y[j]
        dz = zi - z[j]
        inv1 = one / np.sqrt(dx * dx + dy * dy + dz * dz)
        inv2 = inv1 * inv1
        qq = qi * q[j]
        s = ai + a[j]
        s2 = s * s * inv2
        s4 = s2 * s2
        f = lb * inv2 * inv1 * (qq + np.abs(qq) * s4 * s4)
        sx += f * dx
        sy += f * dy
        sz += f * dz
    return sx, sy, sz


@njit(**_JIT)
def pair_forces(x, y, z, q, a, n, lb, fx, fy, fz):
    """Exact pair forces [kT/nm] on the first ``n`` ions (Coulomb + r^-9 core), written.

    Mixed precision (as in OpenMM's mixed mode or GROMACS' single precision): positions are
    kept in float64 and the all-pairs force sum runs in float32 (8 SIMD lanes instead of 4:
    2.4x the pair rate); the forces are returned in float64. Error of a net force against the
    float64 sum (560 ions of 1 M KCl in a channel): median 5e-7 relative, at most 2e-5 (ions
    whose pair forces nearly cancel), largest 2e-4 kT/nm against an rms force of 3.1 kT/nm; the
    drift error per step (~4e-8 nm) is far below the step's thermal noise (~0.02 nm). Energies
    (GCMC acceptance) stay in float64.
    """
    xs = x[:n].astype(np.float32)
    ys = y[:n].astype(np.float32)
    zs = z[:n].astype(np.float32)
    qs = q[:n].astype(np.float32)
    as_ = a[:n].astype(np.float32)
    lb32 = np.float32(lb)
    for i in range(n):
        s1 = _row_force(xs[i], ys[i], zs[i], qs[i], as_[i], xs[:i], ys[:i], zs[:i], qs[:i],
                        as_[:i], lb32)  # fmt: skip
        s2 = _row_force(xs[i], ys[i], zs[i], qs[i], as_[i], xs[i + 1 :], ys[i + 1 :],
                        zs[i + 1 :], qs[i + 1 :], as_[i + 1 :], lb32)  # fmt: skip
        fx[i] = s1[0] + s2[0]
        fy[i] = s1[1] + s2[1]
        fz[i] = s1[2] + s2[2]


@njit(fastmath=True, **_JIT)
def _row_energy(xi, yi, zi, qi, ai, x, y, z, q, a, lb):
    u = 0.0
    for j in range(x.shape[0]):
        dx = xi - x[j]
        dy = yi - y[j]
        dz = zi - z[j]
        inv1 = 1.0 / np.sqrt(dx * dx + dy * dy + dz * dz)
        qq = qi * q[j]
        s = (ai + a[j]) * inv1
        s2 = s * s
        s4 = s2 * s2
        u += lb * inv1 * (qq + np.abs(qq) * s4 * s4 / 9.0)
    return u


@njit(**_JIT)
def pair_energy(px, py, pz, qs, as_, x, y, z, q, a, n, skip, lb):
    """Pair energy [kT] of a charge at ``(px, py, pz)`` with ions ``0..n-1`` except ``skip``."""
    lo = skip if 0 <= skip < n else n
    hi = skip + 1 if 0 <= skip < n else n
    u = _row_energy(px, py, pz, qs, as_, x[:lo], y[:lo], z[:lo], q[:lo], a[:lo], lb)
    return u + _row_energy(px, py, pz, qs, as_, x[hi:n], y[hi:n], z[hi:n], q[hi:n], a[hi:n], lb)


@njit(**_JIT)
def _pore_radius(zz, pore_r, p0, pinv):
    m = pore_r.shape[0]
    t = (zz - p0) * pinv
    if t <= 0.0:
        return pore_r[0], 0.0
    if t >= m - 1:
        return pore_r[m - 1], 0.0
    k = int(t)
    w = t - k
    return pore_r[k] * (1.0 - w) + pore_r[k + 1] * w, (pore_r[k + 1] - pore_r[k]) * pinv


@njit(**_JIT)
def wall_distance(px, py, pz, fp, pore_r):
    """Distance [nm] to the nearest membrane or bath surface and its gradient
    ``(d, gx, gy, gz)``."""
    d, gx, gy, gz = membrane_distance(px, py, pz, fp, pore_r)
    b = bath_distance(px, py, pz, fp)
    if b[0] < d:
        return b
    return d, gx, gy, gz


@njit(**_JIT)
def bath_distance(px, py, pz, fp):
    """Distance [nm] to the bath's side wall or end cap and its gradient."""
    r = math.sqrt(px * px + py * py)
    d_side = fp[F_RB] - r
    d_end = fp[F_ZMAX] - abs(pz)
    if d_side < d_end:
        if r > 0.0:
            return d_side, -px / r, -py / r, 0.0
        return d_side, 0.0, 0.0, 0.0
    return d_end, 0.0, 0.0, -1.0 if pz >= 0.0 else 1.0


@njit(**_JIT)
def membrane_distance(px, py, pz, fp, pore_r):
    """Distance [nm] to the membrane (pore wall, faces, rims) and its gradient."""
    h = fp[F_H]
    r = math.sqrt(px * px + py * py)
    ux = px / r if r > 0.0 else 0.0
    uy = py / r if r > 0.0 else 0.0
    az = abs(pz)
    sz = 1.0 if pz >= 0.0 else -1.0
    if az <= h:
        rz, slope = _pore_radius(pz, pore_r, fp[F_P0], fp[F_PI])
        if r < rz or r - rz < h - az:
            d, gx, gy, gz = rz - r, -ux, -uy, slope
        else:
            d, gx, gy, gz = az - h, 0.0, 0.0, sz
    else:
        r_end = pore_r[0] if pz < 0.0 else pore_r[pore_r.shape[0] - 1]
        dzf = az - h
        if r >= r_end:
            d, gx, gy, gz = dzf, 0.0, 0.0, sz
        else:
            dr = r_end - r
            d = math.sqrt(dr * dr + dzf * dzf)
            gx, gy, gz = -ux * dr / d, -uy * dr / d, sz * dzf / d
    return d, gx, gy, gz


@njit(**_JIT)
def _grid_energy(s, px, py, pz, fp, ip, table):
    """Interpolated table energy [kT] of species ``s`` and its force ``(u, fx, fy, fz)``."""
    mode = ip[I_MODE]
    if mode == 0:
        return 0.0, 0.0, 0.0, 0.0
    if mode == 2:
        r = math.sqrt(px * px + py * py)
        c = ((r - fp[F_G0]) * fp[F_GI], (pz - fp[F_G0 + 1]) * fp[F_GI + 1])
        i = min(max(int(c[0]), 0), ip[I_GN] - 2)
        j = min(max(int(c[1]), 0), ip[I_GN + 1] - 2)
        t = c[0] - i
        w = c[1] - j
        v00, v10 = table[s, i, j, 0], table[s, i + 1, j, 0]
        v01, v11 = table[s, i, j + 1, 0], table[s, i + 1, j + 1, 0]
        u = (v00 * (1 - t) + v10 * t) * (1 - w) + (v01 * (1 - t) + v11 * t) * w
        dudr = ((v10 - v00) * (1 - w) + (v11 - v01) * w) * fp[F_GI]
        dudz = ((v01 - v00) * (1 - t) + (v11 - v10) * t) * fp[F_GI + 1]
        if r > 0.0:
            return u, -dudr * px / r, -dudr * py / r, -dudz
        return u, 0.0, 0.0, -dudz
    return _trilinear(s, px, py, pz, fp, ip, table)


@njit(**_JIT)
def _cell(c, n):
    k = min(max(int(math.floor(c)), 0), n - 2)  # noqa: RUF046 (numba: an int index)
    return k, c - k


@njit(**_JIT)
def _trilinear(s, px, py, pz, fp, ip, table):
    i, tx = _cell((px - fp[F_G0]) * fp[F_GI], ip[I_GN])
    j, ty = _cell((py - fp[F_G0 + 1]) * fp[F_GI + 1], ip[I_GN + 1])
    k, tz = _cell((pz - fp[F_G0 + 2]) * fp[F_GI + 2], ip[I_GN + 2])
    u = 0.0
    gx = 0.0
    gy = 0.0
    gz = 0.0
    for bx in range(2):
        wx = tx if bx else 1.0 - tx
        sx = 1.0 if bx else -1.0
        for by in range(2):
            wy = ty if by else 1.0 - ty
            sy = 1.0 if by else -1.0
            for bz in range(2):
                wz = tz if bz else 1.0 - tz
                sz = 1.0 if bz else -1.0
                v = table[s, i + bx, j + by, k + bz]
                u += v * wx * wy * wz
                gx += v * sx * wy * wz
                gy += v * wx * sy * wz
                gz += v * wx * wy * sz
    return u, -gx * fp[F_GI], -gy * fp[F_GI + 1], -gz * fp[F_GI + 2]


@njit(**_JIT)
def external(s, px, py, pz, fp, ip, table, pore_r, sq, sa):
    """External energy [kT] of one ion of species ``s`` (walls, grid, drop) and its force."""
    u, fx, fy, fz = _grid_energy(s, px, py, pz, fp, ip, table)
    h = fp[F_H]
    ud = sq[s] * fp[F_UDROP]
    if pz <= -h:
        u += ud
    elif pz < h:
        u += ud * (h - pz) / (2.0 * h)
        fz += ud / (2.0 * h)
    k = fp[F_KW]
    d, gx, gy, gz = membrane_distance(px, py, pz, fp, pore_r)
    pen = sa[s] - d
    if pen > 0.0:
        u += 0.5 * k * pen * pen
        fx += k * pen * gx
        fy += k * pen * gy
        fz += k * pen * gz
    d, gx, gy, gz = bath_distance(px, py, pz, fp)
    pen = fp[F_ABATH] - d
    if pen > 0.0:
        u += 0.5 * k * pen * pen
        fx += k * pen * gx
        fy += k * pen * gy
        fz += k * pen * gz
    return u, fx, fy, fz


@njit(**_JIT)
def ion_energy(px, py, pz, s, x, y, z, q, a, n, skip, fp, ip, table, pore_r, sq, sa):
    """Total energy [kT] of an ion of species ``s`` at a position (pairs except ``skip``)."""
    e = external(s, px, py, pz, fp, ip, table, pore_r, sq, sa)[0]
    if fp[F_LB] == 0.0:
        return e
    return e + pair_energy(px, py, pz, sq[s], sa[s], x, y, z, q, a, n, skip, fp[F_LB])


@njit(**_JIT)
def _diffusion(s, pz, fp, dtab, dgrad):
    m = dtab.shape[1]
    t = min(max((pz - fp[F_D0]) * fp[F_DI], 0.0), m - 1.0)
    k = min(int(t), m - 2)
    w = t - k
    return dtab[s, k] * (1 - w) + dtab[s, k + 1] * w, dgrad[s, k] * (1 - w) + dgrad[s, k + 1] * w


@njit(**_JIT)
def _planes_below(pz, p0, pd, npl):
    c = math.floor((pz - p0) / pd) + 1.0
    return min(max(c, 0.0), float(npl))


@njit(**_JIT)
def _clip(v, cap):
    if v > cap:
        return cap, 1
    if v < -cap:
        return -cap, 1
    return v, 0


@njit(**_JIT)
def advance(x, y, z, sp, q, a, n, noise, fp, ip, table, dtab, dgrad, pore_r, sq, sa, work, cross):
    """``noise.shape[0]`` Ermak-McCammon steps of the first ``n`` ions, in place.

    ``cross[s]`` accumulates the net number of plane crossings (left to right positive) of
    species ``s``, summed over the ``ip[I_NPL]`` counting planes. ``work`` is (3, capacity)
    scratch. Returns the number of clipped drift components.
    """
    dt = fp[F_DT]
    cap = fp[F_MAXDRIFT]
    p0, pd, npl = fp[F_PL0], fp[F_PLD], ip[I_NPL]
    clipped = 0
    fx, fy, fz = work[0], work[1], work[2]
    for step in range(noise.shape[0]):
        if fp[F_LB] > 0.0:
            pair_forces(x, y, z, q, a, n, fp[F_LB], fx, fy, fz)
        else:  # independent ions
            fx[:n] = 0.0
            fy[:n] = 0.0
            fz[:n] = 0.0
        for i in range(n):
            s = sp[i]
            e = external(s, x[i], y[i], z[i], fp, ip, table, pore_r, sq, sa)
            d, dd = _diffusion(s, z[i], fp, dtab, dgrad)
            amp = math.sqrt(2.0 * d * dt)
            ddt = d * dt
            gx, c0 = _clip(ddt * (fx[i] + e[1]), cap)
            gy, c1 = _clip(ddt * (fy[i] + e[2]), cap)
            gz, c2 = _clip(ddt * (fz[i] + e[3]) + dd * dt, cap)
            clipped += c0 + c1 + c2
            z_new = z[i] + gz + amp * noise[step, i, 2]
            if npl > 0:
                cross[s] += _planes_below(z_new, p0, pd, npl) - _planes_below(z[i], p0, pd, npl)
            x[i] += gx + amp * noise[step, i, 0]
            y[i] += gy + amp * noise[step, i, 1]
            z[i] = z_new
    return clipped


@njit(**_JIT)
def histogram(z, sp, n, z0, inv_w, counts, h, in_pore):
    """Add the ions' z positions to ``counts[s, bin]`` and the pore occupancy to ``in_pore``."""
    nb = counts.shape[1]
    for i in range(n):
        b = math.floor((z[i] - z0) * inv_w)
        if 0 <= b < nb:
            counts[sp[i], b] += 1.0
        if abs(z[i]) < h:
            in_pore[sp[i]] += 1.0


@njit(**_JIT)
def buffer_labels(x, y, z, sp, n, regions, out):
    """``out[i] = 2 s + k`` if ion i (species s) is in buffer k (``regions[s, k]`` =
    ``(z_lo, z_hi, r_max)``), else -1."""
    for i in range(n):
        s = sp[i]
        out[i] = -1
        r2 = x[i] * x[i] + y[i] * y[i]
        for k in range(2):
            z_lo, z_hi, r_max = regions[s, k, 0], regions[s, k, 1], regions[s, k, 2]
            if z_lo <= z[i] <= z_hi and r2 <= r_max * r_max:
                out[i] = 2 * s + k


def advance_state(state: object, model: object, noise: np.ndarray, cross: np.ndarray) -> int:
    """Advance ``state`` (a :class:`stochastic.bd.state.IonState`) by ``len(noise)`` steps of
    ``model``'s compiled parameters; crossings are added to ``cross``. Returns the number of
    clipped drift components (see :func:`advance`)."""
    st, m = state, model
    return advance(
        st.x, st.y, st.z, st.sp, st.q, st.a, st.n, noise,
        m.fp, m.ip, m.table, m.dtab, m.dgrad, m.pore_r, m.sq, m.sa, st.work, cross,
    )  # fmt: skip


@njit(**_JIT)
def widom_sum(px, py, pz, s, x, y, z, q, a, n, fp, ip, table, pore_r, sq, sa):
    """``sum_k exp(-U_k)`` over test insertions of species ``s`` at the points ``(px, py, pz)[k]``
    (``U_k`` = the ion's full energy there, :func:`ion_energy`; Widom, J. Chem. Phys. 39, 2808
    (1963))."""
    w = 0.0
    for k in range(px.shape[0]):
        u = ion_energy(px[k], py[k], pz[k], s, x, y, z, q, a, n, -1, fp, ip, table, pore_r, sq, sa)
        if u < 700.0:
            w += math.exp(-u)
    return w
