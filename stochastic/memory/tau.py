"""The memory time ``tau_mem = int K dt / K(0)`` with block-bootstrap uncertainties.

``tau_mem`` is the time over which the friction remembers the velocity history: for an
exponential kernel it is the decay time; when it is short compared with the momentum relaxation
time ``m / int K`` and with the time scales of the mean force, the Markovian (Langevin /
Smoluchowski) description holds. :func:`memory_time` takes one kernel or several independent
estimates (one per time block or run); :func:`memory_time_from_velocities` goes from a tagged
particle's velocity time series to ``tau_mem +- sigma`` by resampling whole blocks of the
velocity autocorrelation (block bootstrap: Kuensch, Ann. Statist. 17, 1217 (1989); each block
must span many correlation times) and inverting each resample (:func:`kernel_from_vacf`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stochastic.memory.correlation import block_correlations
from stochastic.memory.errors import MemoryInputError, as_lag_grid, as_series
from stochastic.memory.volterra import MemoryKernel, kernel_from_vacf

__all__ = [
    "MemoryTime",
    "memory_time",
    "memory_time_from_vacf_blocks",
    "memory_time_from_velocities",
]


@dataclass(frozen=True)
class MemoryTime:
    """``tau_mem`` [ps] with its bootstrap standard error and 95% interval (NaN for one
    estimate), the friction ``integral`` = int K dt [amu/ps] with its error, ``K0`` = K(0)
    [amu/ps^2] and the number of independent estimates behind it."""

    tau: float
    sigma: float
    ci95: tuple[float, float]
    integral: float
    integral_sigma: float
    K0: float
    n_estimates: int


def _tau_of(k: np.ndarray, h: float) -> tuple[float, float]:
    integral = float(h * (np.sum(k) - 0.5 * (k[0] + k[-1])))
    if not k[0] > 0:
        raise MemoryInputError(f"K(0) must be > 0 amu/ps^2 to define tau_mem, got {k[0]!r}")
    return integral / float(k[0]), integral


def _summary(tau, integral, k0, boot_tau, boot_int, n) -> MemoryTime:
    if len(boot_tau) < 2:
        return MemoryTime(tau, float("nan"), (float("nan"),) * 2, integral, float("nan"), k0, n)
    lo, hi = np.percentile(boot_tau, [2.5, 97.5])
    return MemoryTime(
        tau,
        float(np.std(boot_tau, ddof=1)),
        (float(lo), float(hi)),
        integral,
        float(np.std(boot_int, ddof=1)),
        k0,
        n,
    )


def memory_time(
    t: np.ndarray,
    K: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> MemoryTime:
    """``tau_mem = int_0^t_max K dt / K(0)`` [ps] (trapezoid over the given lags).

    Parameters
    ----------
    t
        Uniform lags [ps] from 0; the integral runs to ``t[-1]`` (cut the grid where K has
        decayed: a longer noisy tail only adds noise).
    K
        One kernel (N,) or independent estimates (B, N), e.g. one per time block or per run; the
        estimate uses their mean and the standard error comes from ``n_boot`` bootstrap
        resamples of the rows (B >= 2).
    """
    t, h = as_lag_grid(t)
    k = as_series(K, "K", ndim=None)
    if k.ndim not in (1, 2) or k.shape[-1] != t.size:
        raise MemoryInputError(f"K must have shape ({t.size},) or (B, {t.size}), got {k.shape}")
    rows = k[None, :] if k.ndim == 1 else k
    mean = rows.mean(axis=0)
    tau, integral = _tau_of(mean, h)
    boot_tau, boot_int = [], []
    if rows.shape[0] >= 2:
        rng = np.random.default_rng(seed)
        for _ in range(int(n_boot)):
            sample = rows[rng.integers(0, rows.shape[0], rows.shape[0])].mean(axis=0)
            if sample[0] > 0:
                bt, bi = _tau_of(sample, h)
                boot_tau.append(bt)
                boot_int.append(bi)
    return _summary(tau, integral, float(mean[0]), boot_tau, boot_int, rows.shape[0])


def memory_time_from_vacf_blocks(
    t: np.ndarray,
    vacf_blocks: np.ndarray,
    mass: float,
    temperature: float,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[MemoryTime, MemoryKernel]:
    """``tau_mem +- sigma`` from independent VACF estimates (one row per time block or run).

    The kernel is the Volterra inversion (:func:`kernel_from_vacf`) of the mean VACF; the error
    comes from ``n_boot`` resamples of the rows, each inverted in turn.

    Parameters
    ----------
    t
        Uniform lags [ps] from 0 (the integral of K runs to ``t[-1]``).
    vacf_blocks
        Shape (B, len(t)), B >= 2: per-component VACFs [nm^2/ps^2] of independent blocks.
    mass, temperature
        Tagged-particle mass [amu] and temperature [K].
    """
    blocks = as_series(vacf_blocks, "vacf_blocks", ndim=2)
    t, _ = as_lag_grid(t)
    if blocks.shape[0] < 2 or blocks.shape[1] != t.size:
        raise MemoryInputError(
            f"vacf_blocks must have shape (B >= 2, {t.size}), got {blocks.shape}"
        )
    kern = kernel_from_vacf(t, blocks.mean(axis=0), mass, temperature)
    rng = np.random.default_rng(seed)
    boot_tau, boot_int = [], []
    for _ in range(int(n_boot)):
        c = blocks[rng.integers(0, blocks.shape[0], blocks.shape[0])].mean(axis=0)
        kb = kernel_from_vacf(t, c, mass, temperature)
        if kb.K[0] > 0:
            boot_tau.append(kb.memory_time)
            boot_int.append(kb.integral)
    out = _summary(kern.memory_time, kern.integral, float(kern.K[0]), boot_tau, boot_int,
                   blocks.shape[0])  # fmt: skip
    return out, kern


def memory_time_from_velocities(
    velocities: np.ndarray,
    dt: float,
    mass: float,
    temperature: float,
    *,
    max_lag: int,
    n_blocks: int = 10,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[MemoryTime, MemoryKernel]:
    """``tau_mem +- sigma`` of a tagged particle from its velocity time series.

    Parameters
    ----------
    velocities
        Velocities [nm/ps], shape (T,), (T, P) or (T, P, 3), sampled every ``dt`` [ps] (short
        compared with the kernel's decay; see :func:`kernel_from_vacf`).
    mass, temperature
        Tagged-particle mass [amu] and temperature [K].
    max_lag
        Kernel length in frames (the integral of K runs to ``max_lag * dt``).
    n_blocks, n_boot, seed
        Contiguous time blocks (each >= 2 max_lag frames) and bootstrap resamples of them.

    Returns
    -------
    (MemoryTime, MemoryKernel)
        ``tau_mem`` from the kernel of the full VACF, its block-bootstrap error, and the kernel.
    """
    if not (np.isfinite(dt) and dt > 0):
        raise MemoryInputError(f"dt must be a finite positive sampling interval in ps, got {dt!r}")
    blocks = block_correlations(velocities, n_blocks=n_blocks, max_lag=max_lag)
    t = np.arange(blocks.shape[1]) * float(dt)
    return memory_time_from_vacf_blocks(t, blocks, mass, temperature, n_boot=n_boot, seed=seed)
