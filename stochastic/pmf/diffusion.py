"""Position-dependent diffusion coefficients D(z) from simulations.

Hummer's method (G. Hummer, New J. Phys. 7, 34 (2005), Eq. 10 there, after Woolf & Roux): in a
harmonic umbrella window the restrained coordinate fluctuates about its mean with variance
``var = <dxi^2>`` and autocovariance ``C(t) = <dxi(0) dxi(t)>``; for overdamped motion in a locally
harmonic well the local diffusion coefficient is::

    D(<xi>) = var^2 / int_0^inf C(t) dt

For an Ornstein-Uhlenbeck process (which the restrained coordinate is, for a harmonic total
potential) this is exact: ``C(t) = var exp(-t D/var)``. The integral is a trapezoid sum truncated at
the first zero crossing of C. Uncertainties come from block averaging: the series is cut into
``n_blocks`` contiguous blocks, D is computed in each, and sigma is their standard error.

From unrestrained runs, :func:`msd_diffusion` fits ``MSD(t) = 2 D t + b`` to the mean squared
displacement of segments starting inside a region, over lags short compared with the time to
cross the region (so D is local).

Units: the coordinate's squared unit per unit of ``dt`` (nm^2/ps for nm and ps).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import PMFInputError, SamplingWarning
from stochastic.pmf.timeseries import _as_series, autocovariance, first_zero_crossing
from stochastic.pmf.windows import wrap

__all__ = [
    "DiffusionEstimate",
    "DiffusionProfile",
    "diffusion_profile",
    "hummer_diffusion",
    "msd_diffusion",
]


@dataclass(frozen=True)
class DiffusionEstimate:
    """A diffusion coefficient at one position.

    Attributes
    ----------
    position : float
        Where it applies: the window's mean ``<xi>`` or the region's centre.
    D : float
        Diffusion coefficient (coordinate^2 / time).
    sigma : float
        Block-averaging standard error of D (NaN with fewer than 2 usable blocks).
    variance : float
        ``<dxi^2>`` in the window (Hummer) or 0 (MSD).
    correlation_time : float
        ``int C dt / var`` (Hummer) or the longest lag fitted (MSD).
    method : str
        ``"hummer"`` or ``"msd"``.
    """

    position: float
    D: float
    sigma: float
    variance: float
    correlation_time: float
    method: str


@dataclass(frozen=True)
class DiffusionProfile:
    """D(z) over windows: positions, values and standard errors (arrays of length K)."""

    position: np.ndarray
    D: np.ndarray
    sigma: np.ndarray
    estimates: tuple[DiffusionEstimate, ...]


def _check_dt(dt: float | None) -> float:
    if dt is None or not np.isfinite(dt) or dt <= 0:
        raise PMFInputError(f"dt (time between samples) must be a positive number, got {dt!r}")
    return float(dt)


def _hummer_core(x: np.ndarray, dt: float, max_lag: int | None) -> tuple[float, float, float]:
    c = autocovariance(x, max_lag)
    var = float(c[0])
    if var <= 0:
        raise PMFInputError("the window's coordinate does not fluctuate (zero variance)")
    t_end = first_zero_crossing(c)
    integral = dt * (0.5 * c[0] + float(np.sum(c[1:t_end])))
    if integral <= 0:
        return np.nan, var, np.nan
    return var * var / integral, var, integral / var


def hummer_diffusion(
    xi: np.ndarray,
    dt: float,
    *,
    n_blocks: int = 10,
    max_lag: int | None = None,
    period: float | None = None,
) -> DiffusionEstimate:
    """Local D from one umbrella window's time series by Hummer's formula.

    Parameters
    ----------
    xi : 1D array
        Equally spaced time series of the restrained coordinate (not subsampled!).
    dt : float
        Time between samples (ps for particle runs).
    n_blocks : int
        Blocks for the standard error (each should span many correlation times).
    max_lag : int, optional
        Longest lag of the autocorrelation (default: the whole series).
    period : float, optional
        Period of the coordinate; the series is unwrapped about its circular mean.
    """
    x = _as_series(xi, "window time series")
    dt = _check_dt(dt)
    if period is not None:
        ref = x[0]
        x = ref + wrap(x - ref, period)
    d, var, tau = _hummer_core(x, dt, max_lag)
    if not np.isfinite(d):
        raise PMFInputError("the autocorrelation integral is not positive: the series is too short")
    nb = int(n_blocks)
    blocks = []
    if nb >= 2:
        size = x.size // nb
        if size < 20 or size * dt < 10 * tau:
            warnings.warn(
                f"block averaging: blocks of {size} samples span {size * dt / tau:.1f} correlation "
                f"times (want >= 10); the error bar is unreliable, "
                "use fewer blocks or a longer run",
                SamplingWarning,
                stacklevel=2,
            )
        if size >= 4:
            for b in range(nb):
                db, _, _ = _hummer_core(x[b * size : (b + 1) * size], dt, max_lag)
                if np.isfinite(db):
                    blocks.append(db)
    sigma = float(np.std(blocks, ddof=1) / np.sqrt(len(blocks))) if len(blocks) >= 2 else np.nan
    return DiffusionEstimate(float(np.mean(x)), float(d), sigma, var, float(tau), "hummer")


def diffusion_profile(
    data: UmbrellaData, *, dt: float | None = None, n_blocks: int = 10
) -> DiffusionProfile:
    """D(z) at every window's mean position by Hummer's formula (raw, correlated time series)."""
    dt = _check_dt(dt if dt is not None else data.dt)
    ests = tuple(
        hummer_diffusion(x, dt, n_blocks=n_blocks, period=data.windows.period) for x in data.samples
    )
    return DiffusionProfile(
        np.array([e.position for e in ests]),
        np.array([e.D for e in ests]),
        np.array([e.sigma for e in ests]),
        ests,
    )


def msd_diffusion(
    trajectory: np.ndarray,
    dt: float,
    *,
    region: tuple[float, float] | None = None,
    max_lag: int = 10,
    n_blocks: int = 5,
) -> DiffusionEstimate:
    """D from the mean squared displacement of unrestrained 1D motion, optionally in a region.

    Parameters
    ----------
    trajectory : (T,) or (T, P) array
        Coordinate of P independent particles over T equally spaced frames (unwrapped).
    dt : float
        Time between frames.
    region : (lo, hi), optional
        Only displacements starting inside ``[lo, hi)`` count (local D); default: all.
    max_lag : int
        Lags 1..max_lag frames are fitted by ``MSD = 2 D t + b``; keep ``max_lag*dt`` short
        compared with the time to cross the region.
    n_blocks : int
        Time blocks for the standard error.
    """
    a = np.asarray(trajectory, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise PMFInputError(f"trajectory must have shape (T,) or (T, P), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise PMFInputError("trajectory has NaN/inf values")
    dt = _check_dt(dt)
    if int(max_lag) < 1 or a.shape[0] < 2 * int(max_lag) + 2:
        raise PMFInputError(f"need max_lag >= 1 and at least {2 * max_lag + 2} frames")
    lags = np.arange(1, int(max_lag) + 1)
    lo, hi = (-np.inf, np.inf) if region is None else map(float, region)
    inside = (a >= lo) & (a < hi)
    if not inside.any():
        raise PMFInputError(f"no frame lies in the region [{lo:g}, {hi:g})")

    def estimate(seg: np.ndarray, ins: np.ndarray) -> float:
        vals = []
        for p in range(seg.shape[1]):
            vals.append((seg[:, p], ins[:, p]))
        # pool all particles: concatenate displacements per lag
        msd = np.empty(lags.size)
        for i, lag in enumerate(lags):
            num, den = 0.0, 0
            for x, ok in vals:
                disp = (x[lag:] - x[:-lag])[ok[:-lag]]
                num += float(np.sum(disp * disp))
                den += disp.size
            if den == 0:
                return np.nan
            msd[i] = num / den
        slope, _ = np.polyfit(lags * dt, msd, 1)
        return slope / 2.0

    d = estimate(a, inside)
    blocks = []
    size = a.shape[0] // max(1, int(n_blocks))
    if int(n_blocks) >= 2 and size > int(max_lag) + 1:
        for b in range(int(n_blocks)):
            sl = slice(b * size, (b + 1) * size)
            db = estimate(a[sl], inside[sl])
            if np.isfinite(db):
                blocks.append(db)
    sigma = float(np.std(blocks, ddof=1) / np.sqrt(len(blocks))) if len(blocks) >= 2 else np.nan
    pos = float(np.mean(a[inside])) if region is None else 0.5 * (lo + hi)
    return DiffusionEstimate(pos, float(d), sigma, 0.0, float(max_lag * dt), "msd")
