"""Umbrella-sampling data: the windows and each window's time series of the coordinate xi."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from stochastic.pmf.errors import PMFInputError
from stochastic.pmf.timeseries import (
    detect_equilibration,
    statistical_inefficiency,
    subsample_indices,
)
from stochastic.pmf.windows import WindowSet

__all__ = ["UmbrellaData", "decorrelate"]


def _check_samples(samples: Sequence[np.ndarray], n_windows: int) -> tuple[np.ndarray, ...]:
    if len(samples) != n_windows:
        raise PMFInputError(
            f"got {len(samples)} sample arrays for {n_windows} windows: pass one time series of "
            "xi per window, in the order of the windows"
        )
    out = []
    for k, s in enumerate(samples):
        a = np.asarray(s, dtype=float)
        if a.ndim != 1:
            raise PMFInputError(
                f"window {k}: samples must be a 1D time series of xi, got shape {a.shape}"
            )
        if a.size < 2:
            raise PMFInputError(f"window {k}: needs at least 2 samples, got {a.size}")
        bad = ~np.isfinite(a)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise PMFInputError(
                f"window {k}: {int(bad.sum())} of {a.size} samples are NaN/inf (first at index "
                f"{first}); drop them or fix the sampler before estimating the PMF"
            )
        a = a.copy()
        a.setflags(write=False)
        out.append(a)
    return tuple(out)


def _check_weights(weights, samples) -> tuple[np.ndarray, ...] | None:
    if weights is None:
        return None
    if len(weights) != len(samples):
        raise PMFInputError(f"got {len(weights)} weight arrays for {len(samples)} windows")
    out = []
    for k, (w, s) in enumerate(zip(weights, samples, strict=True)):
        a = np.broadcast_to(np.asarray(w, dtype=float), s.shape).copy()
        if not np.all(np.isfinite(a)) or np.any(a < 0) or a.sum() <= 0:
            raise PMFInputError(f"window {k}: sample weights must be finite, >= 0, not all zero")
        a.setflags(write=False)
        out.append(a)
    return tuple(out)


@dataclass(frozen=True)
class UmbrellaData:
    """Samples of the coordinate xi from every umbrella window.

    Parameters
    ----------
    windows : WindowSet
        The restraints, one per time series.
    samples : sequence of 1D arrays
        ``samples[k]`` is the time series of xi in window ``k`` (coordinate units).
    dt : float, optional
        Time between consecutive samples (ps for particle runs); needed for D(z).
    weights : sequence of 1D arrays, optional
        Per-sample weights (e.g. ``1/g_k`` after :func:`decorrelate` with ``mode="weight"``);
        the effective count of window ``k`` is ``sum(weights[k])``. None means weight 1.
    g : tuple of float, optional
        Statistical inefficiency of each window's raw series (set by :func:`decorrelate`).
    n_discarded : tuple of int, optional
        Equilibration samples removed at the start of each window (set by :func:`decorrelate`).
    """

    windows: WindowSet
    samples: tuple[np.ndarray, ...]
    dt: float | None = None
    weights: tuple[np.ndarray, ...] | None = None
    g: tuple[float, ...] | None = None
    n_discarded: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.windows, WindowSet):
            raise PMFInputError(f"windows must be a WindowSet, got {type(self.windows)!r}")
        samples = _check_samples(self.samples, len(self.windows))
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "weights", _check_weights(self.weights, samples))
        if self.dt is not None and not (np.isfinite(self.dt) and self.dt > 0):
            raise PMFInputError(f"dt must be a finite positive time step, got {self.dt!r}")

    @property
    def n_windows(self) -> int:
        """Number of windows K."""
        return len(self.samples)

    @property
    def counts(self) -> np.ndarray:
        """Number of stored samples per window."""
        return np.array([s.size for s in self.samples], dtype=np.int64)

    @property
    def effective_counts(self) -> np.ndarray:
        """Weighted sample count per window (equal to :attr:`counts` without weights)."""
        if self.weights is None:
            return self.counts.astype(float)
        return np.array([w.sum() for w in self.weights])

    def concatenated(self) -> tuple[np.ndarray, np.ndarray | None]:
        """All samples in one array (window after window) and the matching weights (or None)."""
        x = np.concatenate(self.samples)
        w = None if self.weights is None else np.concatenate(self.weights)
        return x, w


def decorrelate(
    data: UmbrellaData,
    *,
    equilibration: str | int | None = "auto",
    mode: str = "subsample",
) -> UmbrellaData:
    """Trim equilibration and remove correlation from every window's time series.

    Parameters
    ----------
    data : UmbrellaData
        Raw time series.
    equilibration : "auto", int or None
        ``"auto"``: detect the equilibrated region (maximum effective sample count); an int:
        drop that many initial samples in every window; None: keep everything.
    mode : {"subsample", "weight"}
        ``"subsample"`` keeps every ``g_k``-th sample; ``"weight"`` keeps all samples with weight
        ``1/g_k`` (effective count ``N_k/g_k``, as in Kumar et al.'s WHAM with correlation).

    Returns
    -------
    UmbrellaData
        With ``g`` and ``n_discarded`` set.
    """
    if mode not in ("subsample", "weight"):
        raise PMFInputError(f"mode must be 'subsample' or 'weight', got {mode!r}")
    new_samples, new_weights, gs, t0s = [], [], [], []
    for k, x in enumerate(data.samples):
        if equilibration == "auto":
            t0, g, _ = detect_equilibration(x)
        elif equilibration is None:
            t0, g = 0, statistical_inefficiency(x)
        else:
            t0 = int(equilibration)
            if not 0 <= t0 < x.size - 2:
                raise PMFInputError(
                    f"window {k}: cannot discard {t0} of {x.size} samples as equilibration"
                )
            g = statistical_inefficiency(x[t0:])
        y = x[t0:]
        if mode == "subsample":
            y = y[subsample_indices(y.size, g)]
            new_weights.append(np.ones(y.size))
        else:
            new_weights.append(np.full(y.size, 1.0 / g))
        new_samples.append(y)
        gs.append(float(g))
        t0s.append(int(t0))
    return replace(
        data,
        samples=tuple(new_samples),
        weights=None if mode == "subsample" else tuple(new_weights),
        g=tuple(gs),
        n_discarded=tuple(t0s),
    )
