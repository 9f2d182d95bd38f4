"""Time-series statistics: autocorrelation, statistical inefficiency, equilibration detection.

The statistical inefficiency follows Chodera, Swope, Pitera, Seok & Dill, J. Chem. Theory Comput.
3, 26 (2007): ``g = 1 + 2 sum_{t=1}^{N-1} (1 - t/N) C(t)`` with ``C`` the normalised
autocorrelation function, the sum truncated at the first lag where ``C`` drops to zero or below.
Equilibration detection picks the start ``t0`` that maximises the number of uncorrelated samples
``(N - t0)/g(t0)`` (Chodera, J. Chem. Theory Comput. 12, 1799 (2016)).
"""

from __future__ import annotations

import numpy as np

from stochastic.pmf.errors import PMFInputError

__all__ = [
    "autocovariance",
    "detect_equilibration",
    "first_zero_crossing",
    "statistical_inefficiency",
    "subsample_indices",
]


def _as_series(x: np.ndarray, name: str = "time series") -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise PMFInputError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size < 2:
        raise PMFInputError(f"{name} needs at least 2 samples, got {a.size}")
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a))
        raise PMFInputError(
            f"{name} has {bad.size} non-finite (NaN/inf) values, first at index {bad[0]}: "
            "remove them or fix the sampler"
        )
    return a


def autocovariance(x: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Autocovariance ``C(t) = <dx(0) dx(t)>`` for lags ``0..max_lag`` (FFT, O(N log N)).

    Each lag is averaged over its ``N - t`` available pairs (unbiased normalisation).
    """
    a = _as_series(x)
    n = a.size
    m = n - 1 if max_lag is None else min(int(max_lag), n - 1)
    d = a - a.mean()
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, nfft)
    acov = np.fft.irfft(f * np.conj(f), nfft)[: m + 1]
    return acov / (n - np.arange(m + 1))


def first_zero_crossing(c: np.ndarray) -> int:
    """First lag ``t >= 1`` with ``c[t] <= 0`` (``len(c)`` if there is none)."""
    neg = np.flatnonzero(np.asarray(c)[1:] <= 0.0)
    return int(neg[0]) + 1 if neg.size else len(c)


def statistical_inefficiency(x: np.ndarray) -> float:
    """Statistical inefficiency ``g >= 1`` of a time series (Chodera et al. 2007).

    ``N/g`` is the number of effectively independent samples. A constant series gives ``g = 1``.
    """
    a = _as_series(x)
    n = a.size
    c = autocovariance(a)
    if c[0] <= 0.0:
        return 1.0
    rho = c / c[0]
    t_end = first_zero_crossing(rho)
    t = np.arange(1, t_end)
    g = 1.0 + 2.0 * float(np.sum((1.0 - t / n) * rho[1:t_end]))
    return max(1.0, g)


def subsample_indices(n: int, g: float) -> np.ndarray:
    """Indices of roughly uncorrelated samples: every ``g``-th of ``n`` (rounded down, unique)."""
    if g < 1.0:
        raise PMFInputError(f"statistical inefficiency must be >= 1, got {g}")
    idx = np.floor(np.arange(0.0, n, g)).astype(np.int64)
    return np.unique(idx[idx < n])


def _suffix_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``sum(values[t0:])`` for every ``t0`` in ``starts`` (0 past the end)."""
    cum = np.concatenate(([0.0], np.cumsum(values)))
    return cum[-1] - cum[np.minimum(starts, values.size)]


def _inefficiencies(a: np.ndarray, starts: np.ndarray, max_lag: int = 64) -> np.ndarray:
    """:func:`statistical_inefficiency` of ``a[t0:]`` for every ``t0`` in ``starts`` at once.

    The same ``g`` (up to rounding), but the autocovariances of all the sub-series come from one
    product ``d_i d_{i+t}`` per lag and suffix sums, lag after lag, until every sub-series has
    reached its first zero crossing: ``O(N x lags)`` in all instead of one FFT per start.
    Sub-series still positive at ``max_lag`` fall back to :func:`statistical_inefficiency`.
    """
    d = a - a.mean()  # the sub-series means are subtracted exactly below; this keeps sums small
    n = d.size
    lengths = (n - starts).astype(float)
    total = _suffix_sums(d, starts)
    mu = total / lengths
    c0 = (_suffix_sums(d * d, starts) - lengths * mu * mu) / lengths
    g = np.ones(starts.size)
    acc = np.zeros(starts.size)
    active = c0 > 0.0
    cum_d = np.concatenate(([0.0], np.cumsum(d)))
    for t in range(1, min(int(max_lag), n - 1) + 1):
        if not active.any():
            break
        ended = active & (lengths <= t)  # no zero crossing before the end of the sub-series
        g[ended] = 1.0 + 2.0 * acc[ended]
        active &= ~ended
        pairs = lengths - t
        lead = cum_d[n - t] - cum_d[np.minimum(starts, n - t)]  # sum of d_i, i = t0..n-1-t
        lag = cum_d[n] - cum_d[np.minimum(starts + t, n)]  # sum of d_{i+t}
        prod = _suffix_sums(d[:-t] * d[t:], starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (prod - mu * (lead + lag) + pairs * mu * mu) / np.where(pairs > 0, pairs, 1.0)
            rho = rho / np.where(c0 > 0, c0, 1.0)
        crossed = active & (rho <= 0.0)
        g[crossed] = 1.0 + 2.0 * acc[crossed]
        active &= ~crossed
        acc[active] += (1.0 - t / lengths[active]) * rho[active]
    for j in np.flatnonzero(active):  # long correlations: the FFT route
        g[j] = statistical_inefficiency(a[starts[j]:])
    return np.maximum(g, 1.0)


def detect_equilibration(x: np.ndarray, n_candidates: int = 50) -> tuple[int, float, float]:
    """Start of the equilibrated region of a time series.

    Tries ``n_candidates`` evenly spaced starts ``t0`` in the first half of the series and keeps
    the one maximising ``(N - t0)/g(t0)`` (the inefficiencies of all candidates are computed
    together, see :func:`_inefficiencies`).

    Returns
    -------
    t0 : int
        Number of initial samples to discard.
    g : float
        Statistical inefficiency of ``x[t0:]``.
    n_eff : float
        Effective number of uncorrelated samples in ``x[t0:]``.
    """
    a = _as_series(x)
    n = a.size
    starts = np.unique(np.linspace(0, n // 2, max(1, int(n_candidates))).astype(int))
    starts = starts[n - starts >= 3]
    if starts.size == 0:
        return 0, 1.0, -1.0
    g = _inefficiencies(a, starts)
    neff = (n - starts) / g
    best = int(np.argmax(neff))  # the first of equal maxima, as a strict ">" scan keeps
    return int(starts[best]), float(g[best]), float(neff[best])
