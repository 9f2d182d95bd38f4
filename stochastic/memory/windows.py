"""Friction kernels per umbrella window from the restrained coordinate's time series.

In a harmonic window ``(kappa/2)(xi - xi_k)^2`` the restraint force ``-kappa (xi - xi_k)``
balances the force of the environment on the coordinate; its fluctuation ``dF = -kappa dxi``
gives the window's kernel ``K_k(t) = kappa^2 <dxi(0) dxi(t)> / kT`` [amu/ps^2] (Kirkwood's
constrained-particle formula, the restraint standing in for the constraint). Consistency
relation with Hummer's D(z) of the same windows (:func:`stochastic.pmf.diffusion.
hummer_diffusion`, ``D = var^2 / int C``, same estimator and zero-crossing cut-off)::

    int K_k dt = r_k^2 kT / D_k,     r_k = kappa var_k / kT,

so ``int K = kT / D(z)`` when the window is harmonic overall (``var = kT / kappa``, ``r = 1``,
stiff spring ``kappa >> |W''|``); then ``int K`` is the particle's friction gamma(z) exactly,
with or without memory (the s -> 0 limit of the GLE in a harmonic well). The shape of K_k(t),
however, mixes the true memory with the spring relaxation time ``gamma / kappa``
(:attr:`WindowKernel.spring_time`): it approaches the constrained-particle kernel only when
``gamma / kappa`` is short compared with the memory time. The cut-off at the first zero
crossing assumes overdamped motion in the window (as Hummer's formula does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poreflux import units
from stochastic.memory.errors import MemoryInputError, check_temperature_K
from stochastic.memory.volterra import MemoryKernel, kernel_from_force_acf
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.timeseries import autocovariance, first_zero_crossing
from stochastic.pmf.windows import wrap

__all__ = ["WindowKernel", "window_kernels"]


@dataclass(frozen=True, eq=False)
class WindowKernel:
    """One window's kernel.

    Attributes
    ----------
    position
        Mean of the restrained coordinate ``<xi>`` [nm].
    kernel
        ``K(t) = kappa^2 C_xi(t) / kT`` up to the first zero crossing of C_xi.
    integral, sigma
        ``int K dt`` [amu/ps] and its block-averaging standard error (NaN with < 2 blocks).
    stiffness_ratio
        ``r = kappa var / kT`` (1 for a harmonic window overall).
    diffusion
        ``r^2 kT / int K`` [nm^2/ps]: Hummer's D of the window.
    spring_time
        ``int K / kappa`` [ps]: relaxation time of the coordinate in the spring.
    """

    position: float
    kernel: MemoryKernel
    integral: float
    sigma: float
    stiffness_ratio: float
    diffusion: float
    spring_time: float


def _integral(x: np.ndarray, kappa: float, kt: float, dt: float, max_lag):
    c = autocovariance(x, max_lag)
    end = first_zero_crossing(c)
    k = kappa * kappa * c[: max(end, 3)] / kt
    return c, end, float(dt * (0.5 * k[0] + np.sum(k[1:end])))


def _temperature(data: UmbrellaData, temperature: float | None) -> float:
    t_win = data.windows.temperature
    if temperature is None and t_win is None:
        raise MemoryInputError(
            "give the temperature [K] (the windows do not carry one): it converts the spring "
            "constants and kT"
        )
    if temperature is not None and t_win is not None and abs(temperature - t_win) > 1e-9:
        raise MemoryInputError(f"temperature {temperature} K differs from the windows' {t_win} K")
    return check_temperature_K(temperature if temperature is not None else t_win)


def window_kernels(
    data: UmbrellaData,
    temperature: float | None = None,
    *,
    dt: float | None = None,
    max_lag: int | None = None,
    n_blocks: int = 10,
) -> tuple[WindowKernel, ...]:
    """The restraint-force kernel of every umbrella window (see the module notes).

    Parameters
    ----------
    data
        Raw (not subsampled) time series of xi per window, as :mod:`stochastic.pmf` stores them,
        with the windows' spring constants.
    temperature
        [K]; default the windows' own.
    dt
        Sampling interval [ps]; default ``data.dt``.
    max_lag
        Longest lag in samples (default: the whole series, cut at the first zero crossing).
    n_blocks
        Contiguous blocks for the standard error of ``int K``.
    """
    if not isinstance(data, UmbrellaData):
        raise MemoryInputError(
            f"data must be stochastic.pmf.UmbrellaData (windows + xi series), got {type(data)!r}"
        )
    temp = _temperature(data, temperature)
    step = dt if dt is not None else data.dt
    if step is None or not (np.isfinite(step) and step > 0):
        raise MemoryInputError(f"dt (time between samples, ps) must be > 0, got {step!r}")
    kt = units.kT_kj_per_mol(temp)
    period = data.windows.period
    out = []
    for x, kap_kT in zip(data.samples, data.windows.kappas, strict=True):
        if period is not None:
            x = x[0] + wrap(x - x[0], period)
        kappa = float(kap_kT) * kt  # kJ/(mol nm^2)
        c, end, integral = _integral(x, kappa, kt, step, max_lag)
        t = np.arange(max(end, 3)) * step
        kern = kernel_from_force_acf(t, kappa * kappa * c[: t.size], temp)
        size = x.size // max(int(n_blocks), 1)
        blocks = [
            _integral(x[b * size : (b + 1) * size], kappa, kt, step, max_lag)[2]
            for b in range(int(n_blocks))
            if int(n_blocks) >= 2 and size >= 4
        ]
        sigma = np.std(blocks, ddof=1) / np.sqrt(len(blocks)) if len(blocks) >= 2 else np.nan
        r = kappa * float(c[0]) / kt
        out.append(
            WindowKernel(
                float(np.mean(x)),
                kern,
                integral,
                float(sigma),
                r,
                r * r * kt / integral,
                integral / kappa,
            )
        )
    return tuple(out)
