"""Block bootstrap of a PMF estimate (WHAM or MBAR).

Each replicate resamples every window's time series independently by the moving-block bootstrap
(Kuensch, Ann. Stat. 17, 1217 (1989)): blocks of ``block_length`` consecutive samples drawn with
replacement until the window's length is reached. On decorrelated samples ``block_length = 1``
is the ordinary bootstrap; on correlated (weighted) series use blocks of a few ``g`` samples.
Every replicate is put in the gauge of the point estimate (the same reference bin or the same
averaging), so sigma is the error of W relative to that reference.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
from tqdm.auto import tqdm

from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import BinningWarning, EstimatorConvergenceError, PMFInputError
from stochastic.pmf.mbar import mbar
from stochastic.pmf.result import PMFResult, apply_gauge, gauge_vector
from stochastic.pmf.wham import wham

log = logging.getLogger(__name__)

__all__ = ["BootstrapPMF", "block_resample", "bootstrap_pmf"]

#: Automatic block length, in statistical inefficiencies, for weighted (correlated) series.
AUTO_BLOCK_FACTOR = 3.0

_range = range  # the builtin (bootstrap_pmf has an argument named range)


@dataclass(frozen=True)
class BootstrapPMF:
    """Bootstrap statistics of a PMF on the grid of the point estimate.

    Attributes
    ----------
    estimate : PMFResult
        Point estimate from the full data, with ``sigma`` set to the bootstrap sigma.
    mean : (B,) array
        Mean of the replicates (kT), same gauge as the estimate.
    sigma : (B,) array
        Standard deviation of the replicates (kT).
    replicas : (n_boot, B) array
        Every replicate PMF (kT; NaN where a replicate had no sample in a bin).
    sigma_f_k : (K,) array
        Bootstrap standard deviation of ``f_k - f_0``.
    n_failed : int
        Replicates whose estimator did not converge (left out).
    """

    estimate: PMFResult
    mean: np.ndarray
    sigma: np.ndarray
    replicas: np.ndarray
    sigma_f_k: np.ndarray
    n_failed: int


def block_resample(
    data: UmbrellaData, rng: np.random.Generator, block_length: int | str = 1
) -> UmbrellaData:
    """One moving-block bootstrap replicate of every window (same lengths)."""
    new_s, new_w = [], []
    for k, x in enumerate(data.samples):
        n = x.size
        if block_length == "auto":
            g = 1.0 if data.g is None or data.weights is None else data.g[k]
            bl = max(1, math.ceil(AUTO_BLOCK_FACTOR * g))
        else:
            bl = int(block_length)
        if bl < 1:
            raise PMFInputError(f"block_length must be >= 1 or 'auto', got {block_length!r}")
        bl = min(bl, n)
        n_blocks = math.ceil(n / bl)
        starts = rng.integers(0, n - bl + 1, size=n_blocks)
        idx = (starts[:, None] + np.arange(bl)[None, :]).reshape(-1)[:n]
        new_s.append(x[idx])
        if data.weights is not None:
            new_w.append(data.weights[k][idx])
    return replace(data, samples=tuple(new_s), weights=tuple(new_w) if new_w else None)


def bootstrap_pmf(
    data: UmbrellaData,
    estimator: str = "mbar",
    *,
    n_boot: int = 100,
    block_length: int | str = "auto",
    bins: int | np.ndarray = 100,
    range: tuple[float, float] | None = None,
    reference: str | float = "min",
    seed: int | None = 0,
    progress: bool = False,
    **options,
) -> BootstrapPMF:
    """PMF with bootstrap uncertainties.

    Parameters
    ----------
    data : UmbrellaData
        Decorrelated (subsampled) or weighted samples.
    estimator : {"mbar", "wham"}
        Which estimator to run on every replicate.
    n_boot : int
        Number of replicates.
    block_length : int or "auto"
        Block length in samples; ``"auto"``: 1 for subsampled data, ``ceil(3 g_k)`` for weighted
        (blocks must span several correlation times, or the variance is underestimated).
    bins, range, reference
        Grid and gauge, as in :func:`~stochastic.pmf.wham.wham`.
    seed : int, optional
        Seed of the resampling.
    progress : bool
        tqdm progress bar over replicates.
    **options
        Passed to the estimator (e.g. ``tol``).
    """
    if estimator not in ("mbar", "wham"):
        raise PMFInputError(f"estimator must be 'mbar' or 'wham', got {estimator!r}")
    if int(n_boot) < 2:
        raise PMFInputError(f"n_boot must be >= 2, got {n_boot}")
    run = mbar if estimator == "mbar" else wham
    extra = {"uncertainty": None} if estimator == "mbar" else {}
    est = run(data, bins, range, reference=reference, **extra, **options)
    d = gauge_vector(est.pmf, est.grid, reference)
    rng = np.random.default_rng(seed)
    reps, fks = [], []
    for _ in tqdm(_range(int(n_boot)), disable=not progress, desc=f"bootstrap {estimator}"):
        resampled = block_resample(data, rng, block_length)
        rep = _replicate(run, resampled, est, d, reference, **extra, **options)
        if rep is not None:
            reps.append(rep[0])
            fks.append(rep[1])
    return _summarise(est, d, reps, fks, int(n_boot))


def _replicate(
    run, data: UmbrellaData, est: PMFResult, d: np.ndarray, reference: str | float, **options
) -> tuple[np.ndarray, np.ndarray] | None:
    """One replicate PMF in the gauge ``d`` of the point estimate, and its ``f_k``.

    None if the estimator failed or the replicate left the reference bins empty. Empty bins (NaN)
    are expected in replicates, so their :class:`BinningWarning` is silenced: the point estimate
    has already warned about the bins empty in the full data.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BinningWarning)
            opts = {**options, "check": False, "f_init": est.f_k}  # a user's check= applies once
            r = run(data, est.edges, None, reference=reference, **opts)
    except (EstimatorConvergenceError, PMFInputError) as exc:
        log.debug("bootstrap replicate failed: %s", exc)
        return None
    w = np.where(np.isfinite(r.pmf), r.pmf, np.nan)
    ok = (d > 0) & np.isfinite(w)
    if not ok.any():
        return None
    return w - float(d[ok] @ w[ok]) / float(d[ok].sum()), r.f_k


def _summarise(est: PMFResult, d: np.ndarray, reps: list, fks: list, n_boot: int) -> BootstrapPMF:
    """Mean and standard deviation over the successful replicates."""
    if len(reps) < 2:
        raise EstimatorConvergenceError(
            f"bootstrap: only {len(reps)} of {n_boot} replicates succeeded", [], label="bootstrap"
        )
    reps_a = np.array(reps)
    mean = np.nanmean(reps_a, axis=0)
    sigma = np.nanstd(reps_a, axis=0, ddof=1)
    fk = np.array(fks)
    point = replace(
        est,
        pmf=apply_gauge(est.pmf, d),
        sigma=sigma,
        sigma_f_k=fk.std(axis=0, ddof=1),
        method=est.method + " + block bootstrap",
    )
    return BootstrapPMF(point, mean, sigma, reps_a, fk.std(axis=0, ddof=1), n_boot - len(reps))
