"""Friction kernels without derivatives of the VACF: the first-kind (midpoint) Volterra inversion.

For a tagged particle of mass m in a potential (a restraint, a PMF, the walls of a pore) with
conservative force F(x), the GLE ``m dv/dt = F(x) - int_0^t K(s) v(t - s) ds + R(t)`` gives, after
multiplying by v(0), averaging (``<R(t) v(0)> = 0`` for t > 0) and integrating once in time,

    int_0^t G(s) C(t - s) ds = m [C(0) - C(t)] + int_0^t C_Fv(u) du,        G(t) = int_0^t K,

with ``C(t) = <v(0) v(t)>`` and ``C_Fv(t) = <F(x(t)) v(0)>`` per Cartesian component (zero for a
free particle). No derivative of C appears, so the equation holds also when C has a kink at t = 0,
as it has for Langevin (memoryless) friction, where the second-kind forms of
:mod:`stochastic.memory.volterra` (which differentiate C once or twice and assume it even and
smooth) fail. It is solved by the midpoint (product rectangle) rule, G constant on each cell
``[(j - 1) h, j h]`` with the cell average of C by the trapezoid (Linz, *Analytical and Numerical
Methods for Volterra Equations*, SIAM 1985, ch. 8: the midpoint method is convergent for
first-kind equations with ``C(0) != 0``). For an exponential VACF (Langevin friction ``m gamma``)
the solution is exact at every lag: ``G = (2 m / h) tanh(gamma h / 2)``, equal to ``m gamma`` up
to ``(gamma h)^2 / 12``.

The kernel is the derivative of the cell values: ``K_0 = G_{1/2} / (h/2)`` and
``K_n = (G_{n+1/2} - G_{n-1/2}) / h``, whose trapezoid integral telescopes to ``G``. A memoryless
(delta) kernel then comes out as one spike at lag 0 with ``tau_mem = int K / K(0) = h / 2``: the
resolution limit of the sampling, i.e. "no memory longer than the sampling interval".
"""

from __future__ import annotations

import numpy as np

from stochastic.memory.errors import MemoryInputError, as_lag_grid, as_series, check_mass
from stochastic.memory.errors import check_temperature_K as _check_temperature
from stochastic.memory.volterra import MemoryKernel

__all__ = ["kernel_in_potential"]


def _cell_values(rhs: np.ndarray, cbar: np.ndarray, h: float) -> np.ndarray:
    """Solve ``h sum_{j=1}^{n} g_j cbar_{n-j} = rhs_n`` (n = 1..N-1) for the cell values g_j."""
    n = rhs.size
    g = np.zeros(n)  # g[j]: G on cell j (j >= 1), g[0] unused
    for i in range(1, n):
        conv = float(np.dot(g[1:i], cbar[i - 1 : 0 : -1])) if i > 1 else 0.0
        g[i] = (rhs[i] / h - conv) / cbar[0]
    return g


def kernel_in_potential(
    t: np.ndarray,
    vacf: np.ndarray,
    mass: float,
    temperature: float,
    *,
    force_velocity: np.ndarray | None = None,
) -> MemoryKernel:
    """Friction kernel of a particle in a potential by first-kind (midpoint) Volterra inversion.

    Parameters
    ----------
    t
        Uniform time lags [ps] from 0.
    vacf
        ``C(t) = <v_a(0) v_a(t)>`` [nm^2/ps^2] of the component a along which the kernel is
        wanted (e.g. the pore axis).
    mass
        Mass of the tagged particle [amu].
    temperature
        Temperature [K].
    force_velocity
        ``C_Fv(t) = <F_a(x(t)) v_a(0)>`` [kJ/(mol nm) nm/ps] of the conservative force (the mean
        force plus any restraint; not the friction or the thermostat's noise), e.g.
        ``cross_correlation(F, v)``; None for a free particle.

    Returns
    -------
    MemoryKernel
        K [amu/ps^2] on the lags ``t``; ``running_integral`` is G at the lags (cell values, the
        value of G at ``t_n - h/2``), ``integral`` the friction gamma [amu/ps].

    Notes
    -----
    See the module notes. Sample at least a few points per momentum relaxation time m/gamma; the
    integral is exact for Langevin friction and second order in h for smooth kernels.
    """
    t, h = as_lag_grid(t)
    c = as_series(vacf, "vacf", n=t.size)
    m = check_mass(mass)
    temp = _check_temperature(temperature)
    if not c[0] > 0:
        raise MemoryInputError(f"vacf(0) must be > 0 (a variance), got {c[0]!r}")
    rhs = m * (c[0] - c)
    if force_velocity is not None:
        cfv = as_series(force_velocity, "force_velocity", n=t.size)
        rhs += np.concatenate([[0.0], np.cumsum(0.5 * h * (cfv[1:] + cfv[:-1]))])
    cbar = 0.5 * (c[1:] + c[:-1])  # cell averages of C: cbar[k] on [k h, (k + 1) h]
    g = _cell_values(rhs, cbar, h)
    k = np.empty_like(c)
    k[0] = 2.0 * g[1] / h
    k[1:-1] = (g[2:] - g[1:-1]) / h
    k[-1] = k[-2]
    running = g.copy()
    running[0] = 0.0
    return MemoryKernel(t, k, temp, running, "first-kind-midpoint", m)
