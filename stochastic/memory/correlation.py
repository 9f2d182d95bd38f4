"""Time correlation functions of particle time series (FFT, all time origins).

``autocorrelation(x)`` returns ``C(t) = <x(t0) x(t0 + t)>`` averaged over time origins ``t0``,
particles and Cartesian components (shapes (T,), (T, P) or (T, P, 3)); ``cross_correlation(a, b)``
returns ``<a(t0 + t) b(t0)>``. Each lag is averaged over its ``T - t`` pairs (unbiased
normalisation). The FFT route costs O(T log T) per series (Allen & Tildesley, *Computer
Simulation of Liquids*, 2nd ed., section 8.4). :func:`block_correlations` gives the same
function per contiguous time block, for block-bootstrap error bars.
"""

from __future__ import annotations

import numpy as np

from stochastic.memory.errors import MemoryInputError, as_series

__all__ = ["autocorrelation", "block_correlations", "cross_correlation"]


def _as_columns(x: np.ndarray, name: str) -> np.ndarray:
    a = as_series(x, name, ndim=None)
    if a.ndim == 0 or a.ndim > 3:
        raise MemoryInputError(f"{name} must have shape (T,), (T, P) or (T, P, 3), got {a.shape}")
    if a.shape[0] < 2:
        raise MemoryInputError(f"{name} needs at least 2 time frames, got {a.shape[0]}")
    return a.reshape(a.shape[0], -1)


def _max_lag(n: int, max_lag: int | None) -> int:
    if max_lag is None:
        return n - 1
    m = int(max_lag)
    if not 1 <= m <= n - 1:
        raise MemoryInputError(f"max_lag must be in 1..{n - 1} (frames), got {max_lag!r}")
    return m


def cross_correlation(
    a: np.ndarray,
    b: np.ndarray,
    max_lag: int | None = None,
    *,
    remove_mean: bool = False,
) -> np.ndarray:
    """``C_ab(t) = <a(t0 + t) b(t0)>`` for lags ``0..max_lag`` frames.

    Parameters
    ----------
    a, b
        Time series of equal shape (T,), (T, P) or (T, P, 3): frames along axis 0; the average
        runs over time origins, particles and components.
    max_lag
        Longest lag in frames (default T - 1).
    remove_mean
        Subtract each column's time average first (fluctuations ``da``, ``db``).
    """
    x = _as_columns(a, "a")
    y = _as_columns(b, "b")
    if x.shape != y.shape:
        raise MemoryInputError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    n = x.shape[0]
    m = _max_lag(n, max_lag)
    if remove_mean:
        x = x - x.mean(axis=0)
        y = y - y.mean(axis=0)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    fx = np.fft.rfft(x, nfft, axis=0)
    fy = fx if y is x else np.fft.rfft(y, nfft, axis=0)
    prod = (fx * np.conj(fy)).mean(axis=1)
    c = np.fft.irfft(prod, nfft)[: m + 1]
    return c / (n - np.arange(m + 1))


def autocorrelation(
    x: np.ndarray, max_lag: int | None = None, *, remove_mean: bool = False
) -> np.ndarray:
    """``C(t) = <x(t0) x(t0 + t)>`` for lags ``0..max_lag`` frames (see :func:`cross_correlation`).

    Velocities: leave ``remove_mean=False`` (their mean is zero in equilibrium). Forces on a
    constrained or restrained particle: ``remove_mean=True`` (the fluctuating force ``dF``).
    """
    x = _as_columns(x, "x")
    return cross_correlation(x, x, max_lag, remove_mean=remove_mean)


def block_correlations(
    a: np.ndarray,
    b: np.ndarray | None = None,
    *,
    n_blocks: int,
    max_lag: int,
    remove_mean: bool = False,
) -> np.ndarray:
    """The correlation function of each of ``n_blocks`` contiguous time blocks, shape (B, L+1).

    Their mean estimates the correlation function; resampling the rows (block bootstrap)
    estimates its uncertainty when each block spans many correlation times.
    """
    x = _as_columns(a, "a")
    y = x if b is None else _as_columns(b, "b")
    nb = int(n_blocks)
    size = x.shape[0] // max(nb, 1)
    if nb < 2 or size < 2 * int(max_lag):
        raise MemoryInputError(
            f"n_blocks = {n_blocks!r} blocks of {size} frames: need n_blocks >= 2 and blocks of "
            f"at least 2 * max_lag = {2 * int(max_lag)} frames; use fewer blocks or a longer run"
        )
    return np.array(
        [
            cross_correlation(
                x[k * size : (k + 1) * size],
                y[k * size : (k + 1) * size],
                max_lag,
                remove_mean=remove_mean,
            )
            for k in range(nb)
        ]
    )
