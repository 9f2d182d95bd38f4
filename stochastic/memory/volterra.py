"""Friction memory kernels K(t) from correlation functions (Volterra inversion).

The generalized Langevin equation (GLE) of a tagged particle of mass ``m``,
``m dv/dt = F(x) - int_0^t K(s) v(t - s) ds + R(t)`` with ``<R(0) R(t)> = kT K(t)``, implies for
the velocity autocorrelation ``C(t) = <v(0) v(t)>`` (per Cartesian component) the Volterra
equation ``m dC/dt = -int_0^t K(s) C(t - s) ds`` (Berne & Harp, Adv. Chem. Phys. 17, 63 (1970)).
It is of the first kind in K; two second-kind forms are solved here with the trapezoidal rule:

- integrated: with ``G(t) = int_0^t K``, integration by
  parts gives ``G(t) C(0) = -m C'(t) - int_0^t G(s) C'(t - s) ds``; only the first derivative of
  C enters and ``G(inf) = int K dt`` (the friction coefficient gamma) comes out directly. K is
  ``dG/dt`` by central differences (K(0) extrapolated linearly from K(h), K(2h)).
- direct (default of :func:`kernel_from_vacf`): differentiating once more,
  ``K(t) C(0) = -m C''(t) - int_0^t K(s) C'(t - s) ds`` (Berne & Harp's second-kind form).
- force-velocity (:func:`kernel_from_correlations`, Shin, Kim, Talkner & Lee, Chem. Phys. 375,
  316 (2010)): with the total force F on the tagged particle, ``C_FF(t) = <F(0) F(t)> = -m^2
  C''(t)`` and ``C_Fv(t) = <F(t) v(0)> = m C'(t)``, so
  ``kT K(t) = C_FF(t) - int_0^t K(s) C_Fv(t - s) ds``: no numerical derivative at all (the
  method of choice for MD data, which has the forces).

The discretisation error is O(h^2) in the sampling interval h; sample at h <= tau_min / 20 for
per-cent accuracy of K(0). For a particle held fixed (or stiffly restrained) the kernel is the
fluctuating-force autocorrelation itself, ``K(t) = <dF(0) dF(t)>/kT``
(:func:`kernel_from_force_acf`; Kirkwood's formula).

Units: t [ps], C [nm^2/ps^2], forces [kJ/(mol nm)], mass [amu], K [amu/ps^2] (= kJ/(mol nm^2)),
int K dt = gamma [amu/ps], D = kT/gamma [nm^2/ps].
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from poreflux import units
from stochastic.memory.errors import (
    MemoryInputError,
    as_lag_grid,
    as_series,
    check_mass,
    check_temperature_K,
)

__all__ = [
    "MemoryKernel",
    "kernel_from_correlations",
    "kernel_from_force_acf",
    "kernel_from_vacf",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class MemoryKernel:
    """A tabulated friction kernel K(t) [amu/ps^2] on lags ``t`` [ps].

    ``running_integral`` is ``G(t) = int_0^t K`` [amu/ps] (trapezoid unless the inversion gives
    it directly); ``method`` names the estimator.
    """

    t: np.ndarray
    K: np.ndarray
    temperature: float
    running_integral: np.ndarray
    method: str
    mass: float | None = None

    @property
    def kT(self) -> float:
        """Thermal energy [kJ/mol]."""
        return units.kT_kj_per_mol(self.temperature)

    @property
    def integral(self) -> float:
        """``int_0^t_max K dt`` = the friction coefficient gamma [amu/ps]."""
        return float(self.running_integral[-1])

    @property
    def diffusion(self) -> float:
        """``D = kT / int K`` [nm^2/ps] (the GLE's long-time diffusion coefficient)."""
        return self.kT / self.integral

    @property
    def memory_time(self) -> float:
        """``tau_mem = int K dt / K(0)`` [ps] (no error bar: see :func:`memory_time`)."""
        return self.integral / float(self.K[0])


def _trapezoid_running(k: np.ndarray, h: float) -> np.ndarray:
    g = np.empty_like(k)
    g[0] = 0.0
    g[1:] = np.cumsum(0.5 * h * (k[1:] + k[:-1]))
    return g


def _volterra_second_kind(
    rhs: np.ndarray, kern: np.ndarray, diag: float, h: float, y0: float, zero_first: bool
) -> np.ndarray:
    """Solve ``y_n diag = rhs_n - h [w0 y_0 kern_n + sum_{j=1}^{n-1} y_j kern_{n-j}]`` (trapezoid;
    ``w0 = 0`` when ``zero_first`` else 1/2), ``y_0 = y0``. O(N^2) with one dot product per n."""
    n = rhs.size
    y = np.empty(n)
    y[0] = y0
    rev = kern[::-1].copy()  # rev[n - 1 - j] = kern[j]... used as kern[n-j] for j = 1..n-1
    w0 = 0.0 if zero_first else 0.5
    for i in range(1, n):
        conv = float(np.dot(y[1:i], rev[n - i : n - 1])) + w0 * y[0] * kern[i]
        y[i] = (rhs[i] - h * conv) / diag
    return y


def _derivatives(c: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """C' and C'' of an even function sampled at t >= 0 (C'(0) = 0, second order)."""
    ext = np.concatenate([c[1:3][::-1], c])  # C(-2h), C(-h), C(0), ...
    d1 = np.gradient(ext, h, edge_order=2)[2:]
    d1[0] = 0.0
    d2 = np.empty_like(c)
    d2[1:-1] = (c[2:] - 2.0 * c[1:-1] + c[:-2]) / (h * h)
    d2[0] = 2.0 * (c[1] - c[0]) / (h * h)
    d2[-1] = 2.0 * d2[-2] - d2[-3]
    return d1, d2


def _check_c0(c0: float, mass: float, temperature: float, what: str) -> None:
    if not c0 > 0:
        raise MemoryInputError(f"{what}(0) must be > 0 (a variance), got {c0!r}")
    eq = units.kT_kj_per_mol(temperature) / mass
    if abs(c0 / eq - 1.0) > 0.1:
        logger.warning(
            "%s(0) = %.4g nm^2/ps^2 differs from kT/m = %.4g by %.0f%%: check the mass, the "
            "temperature and that C is per Cartesian component",
            what,
            c0,
            eq,
            100 * (c0 / eq - 1.0),
        )


def kernel_from_vacf(
    t: np.ndarray,
    vacf: np.ndarray,
    mass: float,
    temperature: float,
    *,
    method: str = "direct",
) -> MemoryKernel:
    """Friction kernel K(t) from a velocity autocorrelation function by Volterra inversion.

    Parameters
    ----------
    t
        Uniform time lags [ps] starting at 0.
    vacf
        ``C(t) = <v_a(0) v_a(t)>`` per Cartesian component [nm^2/ps^2] (e.g.
        :func:`stochastic.memory.correlation.autocorrelation` of the velocities).
    mass
        Mass of the tagged particle [amu].
    temperature
        Temperature [K] (for ``D = kT / int K``; C(0) is checked against kT/m).
    method
        ``"direct"`` (solve for K, Berne & Harp; O(h^2) in K(0) and in int K) or
        ``"integrated"`` (solve for ``G = int K``: one derivative of C, O(h^2) in int K but only
        O(h) in K(0)). See the module notes.

    Returns
    -------
    MemoryKernel
        K on the same lags; ``integral`` is gamma [amu/ps].
    """
    t, h = as_lag_grid(t)
    c = as_series(vacf, "vacf", n=t.size)
    m = check_mass(mass)
    temp = check_temperature_K(temperature)
    _check_c0(float(c[0]), m, temp, "vacf")
    if method not in ("integrated", "direct"):
        raise MemoryInputError(f"method must be 'integrated' or 'direct', got {method!r}")
    d1, d2 = _derivatives(c, h)
    diag = c[0] + 0.5 * h * d1[0]
    if method == "integrated":
        g = _volterra_second_kind(-m * d1, d1, diag, h, 0.0, zero_first=True)
        k = np.gradient(g, h, edge_order=2)
        k[0] = 2.0 * k[1] - k[2]
        return MemoryKernel(t, k, temp, g, "vacf-integrated", m)
    k = _volterra_second_kind(-m * d2, d1, diag, h, -m * d2[0] / c[0], zero_first=False)
    k[0] = 2.0 * k[1] - k[2]
    return MemoryKernel(t, k, temp, _trapezoid_running(k, h), "vacf-direct", m)


def kernel_from_correlations(
    t: np.ndarray,
    force_acf: np.ndarray,
    force_velocity: np.ndarray,
    temperature: float,
) -> MemoryKernel:
    """Friction kernel from the total-force ACF and the force-velocity cross correlation.

    ``kT K(t) = C_FF(t) - int_0^t K(s) C_Fv(t - s) ds`` (Shin, Kim, Talkner & Lee, Chem. Phys.
    375, 316 (2010)), with ``C_FF(t) = <F(0) F(t)>`` [(kJ/(mol nm))^2] and ``C_Fv(t) = <F(t) v(0)>``
    [kJ/(mol nm) nm/ps] per Cartesian component (``cross_correlation(F, v)``), where F is the
    total force on the freely moving tagged particle. ``K(0) = C_FF(0)/kT`` exactly.
    """
    t, h = as_lag_grid(t)
    cff = as_series(force_acf, "force_acf", n=t.size)
    cfv = as_series(force_velocity, "force_velocity", n=t.size)
    temp = check_temperature_K(temperature)
    kt = units.kT_kj_per_mol(temp)
    if not cff[0] > 0:
        raise MemoryInputError(f"force_acf(0) must be > 0 (a variance), got {cff[0]!r}")
    k = _volterra_second_kind(
        cff / kt, cfv / kt, 1.0 + 0.5 * h * cfv[0] / kt, h, cff[0] / kt, zero_first=False
    )
    return MemoryKernel(t, k, temp, _trapezoid_running(k, h), "force-velocity")


def kernel_from_force_acf(t: np.ndarray, facf: np.ndarray, temperature: float) -> MemoryKernel:
    """``K(t) = <dF(0) dF(t)> / kT`` for a constrained (fixed or stiffly restrained) particle.

    ``facf`` is the autocorrelation of the fluctuating force (mean removed) per Cartesian
    component [(kJ/(mol nm))^2] (Kirkwood; e.g. ``autocorrelation(F, remove_mean=True)``). Its
    integral is the friction of the particle held fixed; for a mobile particle the same integral
    decays to zero (plateau problem): use :func:`kernel_from_vacf` or
    :func:`kernel_from_correlations` instead.
    """
    t, h = as_lag_grid(t)
    c = as_series(facf, "facf", n=t.size)
    temp = check_temperature_K(temperature)
    if not c[0] > 0:
        raise MemoryInputError(f"facf(0) must be > 0 (a variance), got {c[0]!r}")
    k = c / units.kT_kj_per_mol(temp)
    return MemoryKernel(t, k, temp, _trapezoid_running(k, h), "force-acf")
