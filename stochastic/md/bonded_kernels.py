"""Numba loops for the angle and dihedral terms (one pass, no temporaries).

The formulas are those documented in :mod:`stochastic.md.angles` and
:mod:`stochastic.md.dihedrals`; the numpy expressions there cost ~10 array temporaries per term
and dominate a united-atom step, these loops do the same arithmetic in one pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _min_image(x, a, b, lengths, inv, out):
    for d in range(3):
        v = x[a, d] - x[b, d]
        out[d] = v - lengths[d] * np.rint(v * inv[d])


@njit(cache=True)
def angle_forces(x, ii, jj, kk, kf, theta0, lengths, inv, forces):
    """Add harmonic-angle forces; return (energy, virial, index of a degenerate angle or -1)."""
    u = np.empty(3)
    v = np.empty(3)
    e = 0.0
    w = 0.0
    for t in range(ii.shape[0]):
        i, j, k = ii[t], jj[t], kk[t]
        _min_image(x, i, j, lengths, inv, u)
        _min_image(x, k, j, lengths, inv, v)
        lu = math.sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])
        lv = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        if lu == 0.0 or lv == 0.0:
            return e, w, t
        c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (lu * lv)
        c = min(1.0, max(-1.0, c))
        s = max(math.sqrt(1.0 - c * c), 1e-12)
        dev = math.acos(c) - theta0[t]
        e += 0.5 * kf[t] * dev * dev
        pref = kf[t] * dev / s
        for d in range(3):
            uh = u[d] / lu
            vh = v[d] / lv
            fi = pref / lu * (vh - c * uh)
            fk = pref / lv * (uh - c * vh)
            forces[i, d] += fi
            forces[k, d] += fk
            forces[j, d] -= fi + fk
            w += u[d] * fi + v[d] * fk
    return e, w, -1


@njit(cache=True)
def _cross(a, b, out):
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]


@njit(cache=True)
def dihedral_forces(x, idx, c, lengths, inv, forces):
    """Add OPLS dihedral forces; return (energy, virial, index of a degenerate dihedral or -1)."""
    rij = np.empty(3)
    rkj = np.empty(3)
    rkl = np.empty(3)
    m = np.empty(3)
    n = np.empty(3)
    mn = np.empty(3)
    e = 0.0
    w = 0.0
    for t in range(idx.shape[0]):
        i, j, k, l_ = idx[t, 0], idx[t, 1], idx[t, 2], idx[t, 3]
        _min_image(x, i, j, lengths, inv, rij)
        _min_image(x, k, j, lengths, inv, rkj)
        _min_image(x, k, l_, lengths, inv, rkl)
        _cross(rij, rkj, m)
        _cross(rkj, rkl, n)
        _cross(m, n, mn)
        m2 = m[0] * m[0] + m[1] * m[1] + m[2] * m[2]
        n2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2]
        if m2 == 0.0 or n2 == 0.0:
            return e, w, t
        nkj2 = rkj[0] * rkj[0] + rkj[1] * rkj[1] + rkj[2] * rkj[2]
        nkj = math.sqrt(nkj2)
        cosv = m[0] * n[0] + m[1] * n[1] + m[2] * n[2]
        sinv = (mn[0] * rkj[0] + mn[1] * rkj[1] + mn[2] * rkj[2]) / nkj
        phi = math.atan2(sinv, cosv)
        e += (c[t, 0] + c[t, 1] * (1 + math.cos(phi)) + c[t, 2] * (1 - math.cos(2 * phi))
              + c[t, 3] * (1 + math.cos(3 * phi)))  # fmt: skip
        du = (-c[t, 1] * math.sin(phi) + 2 * c[t, 2] * math.sin(2 * phi)
              - 3 * c[t, 3] * math.sin(3 * phi))  # fmt: skip
        p = (rij[0] * rkj[0] + rij[1] * rkj[1] + rij[2] * rkj[2]) / nkj2
        q = (rkl[0] * rkj[0] + rkl[1] * rkj[1] + rkl[2] * rkj[2]) / nkj2
        for d in range(3):
            fi = -du * nkj / m2 * m[d]
            fl = du * nkj / n2 * n[d]
            sv = p * fi - q * fl
            forces[i, d] += fi
            forces[j, d] -= fi - sv
            forces[k, d] -= fl + sv
            forces[l_, d] += fl
            w += rij[d] * fi - rkj[d] * (fl + sv) + (rkj[d] - rkl[d]) * fl
    return e, w, -1
