"""Compiled (numba) loops of the GLE integrator: one time step over all particles.

The exact Ornstein-Uhlenbeck update of the extended state ``u = (v, w_1..w_n)`` is
``u <- T u + L xi`` with small dense matrices T and L (see :mod:`stochastic.memory.gle`); the
normal variates ``xi`` (one row per degree of freedom) are drawn by the caller.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _ou(vi, wi, xii, T, L, u, un):
    d = T.shape[0]
    u[0] = vi
    for a in range(1, d):
        u[a] = wi[a - 1]
    for a in range(d):
        acc = 0.0
        for b in range(d):
            acc += T[a, b] * u[b]
        for b in range(d):
            acc += L[a, b] * xii[b]
        un[a] = acc
    for a in range(1, d):
        wi[a - 1] = un[a]
    return un[0]


@numba.njit(cache=True)
def step_tabulated(
    x, v, f, w, xi, T, L, half_dt_over_m, half_dt, z0, inv_h, top, table, slope, lo, hi, hit, step
):
    """One BAOAB-GLE step in 1D with a tabulated force (linear interpolation, clamped ends);
    when particle i first reaches ``x <= lo`` or ``x >= hi``, ``hit[i] = 2 step + (x >= hi)``."""
    d = T.shape[0]
    u = np.empty(d)
    un = np.empty(d)
    for i in range(x.size):
        vi = v[i] + half_dt_over_m * f[i]  # B
        xx = x[i] + half_dt * vi  # A
        vi = _ou(vi, w[i], xi[i], T, L, u, un)  # O (exact, extended state)
        xx = xx + half_dt * vi  # A
        if (xx <= lo or xx >= hi) and hit[i] < 0:
            hit[i] = 2 * step + (1 if xx >= hi else 0)
        s = (xx - z0) * inv_h
        s = min(max(s, 0.0), top)
        k = int(s)
        fi = (s - k) * slope[k] + table[k]
        x[i] = xx
        v[i] = vi + half_dt_over_m * fi  # B
        f[i] = fi


@numba.njit(cache=True)
def step_baoa(x, v, f, w, xi, T, L, half_dt_over_m, half_dt):
    """B, A, O, A of one step on flat arrays (the force and the last B are done by the caller)."""
    d = T.shape[0]
    u = np.empty(d)
    un = np.empty(d)
    for i in range(x.size):
        vi = v[i] + half_dt_over_m * f[i]
        xx = x[i] + half_dt * vi
        vi = _ou(vi, w[i], xi[i], T, L, u, un)
        x[i] = xx + half_dt * vi
        v[i] = vi
