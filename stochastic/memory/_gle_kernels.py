"""Compiled (numba) loops of the GLE integrator: one time step over all particles.

The exact Ornstein-Uhlenbeck update of the extended state ``u = (v, w_1..w_n)`` is
``u <- T[j] u + L[j] xi`` with small dense matrices T and L (L lower triangular; see
:mod:`stochastic.memory.gle`) of the particle's window j (one window for a position-independent
kernel); the normal variates ``xi`` (one row per degree of freedom) are drawn by the caller.
The kernels are compiled once per state size ``d = 1 + n_aux`` (a compile-time constant, so the
small loops unroll: twice as fast as a runtime size) and cached on disk.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np


@cache
def step_tabulated(d: int):
    """The fused 1D step with a tabulated force for extended-state size ``d``.

    ``kernel(x, v, f, w, xi, T, L, edges, half_dt_over_m, half_dt, z0, inv_h, top, table, slope,
    lo, hi, hit, step)``: BAOAB with the exact extended O step of the window (``edges``) holding
    the particle after the first drift; linear interpolation of the force table (clamped ends);
    when particle i first reaches ``x <= lo`` or ``x >= hi``, ``hit[i] = 2 step + (x >= hi)``.
    """

    @numba.njit(cache=True)
    def kernel(
        x, v, f, w, xi, T, L, edges, half_dt_over_m, half_dt, z0, inv_h, top, table, slope, lo,
        hi, hit, step,
    ):  # fmt: skip
        u = np.empty(d)
        un = np.empty(d)
        tj, lj = T[0], L[0]
        for i in range(x.size):
            vi = v[i] + half_dt_over_m * f[i]  # B
            xx = x[i] + half_dt * vi  # A
            if edges.size:  # the window of the particle (one window: no look-up)
                j = 0
                while j < edges.size and xx >= edges[j]:
                    j += 1
                tj, lj = T[j], L[j]
            u[0] = vi  # O (exact, extended state)
            for a in range(1, d):
                u[a] = w[i, a - 1]
            for a in range(d):
                acc = 0.0
                for b in range(d):
                    acc += tj[a, b] * u[b]
                for b in range(a + 1):
                    acc += lj[a, b] * xi[i, b]
                un[a] = acc
            for a in range(1, d):
                w[i, a - 1] = un[a]
            vi = un[0]
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

    return kernel


@cache
def step_baoa(d: int):
    """B, A, O, A of one step on flat arrays for extended-state size ``d`` (the force and the
    last B are done by the caller): ``kernel(x, v, f, w, xi, T, L, win, half_dt_over_m,
    half_dt)``; ``win[i]`` is the window of degree of freedom i."""

    @numba.njit(cache=True)
    def kernel(x, v, f, w, xi, T, L, win, half_dt_over_m, half_dt):
        u = np.empty(d)
        un = np.empty(d)
        for i in range(x.size):
            vi = v[i] + half_dt_over_m * f[i]
            xx = x[i] + half_dt * vi
            j = win[i]
            u[0] = vi
            for a in range(1, d):
                u[a] = w[i, a - 1]
            for a in range(d):
                acc = 0.0
                for b in range(d):
                    acc += T[j, a, b] * u[b]
                for b in range(a + 1):
                    acc += L[j, a, b] * xi[i, b]
                un[a] = acc
            for a in range(1, d):
                w[i, a - 1] = un[a]
            x[i] = xx + half_dt * un[0]
            v[i] = un[0]

    return kernel
