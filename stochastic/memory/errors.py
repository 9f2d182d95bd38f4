"""Exceptions of :mod:`stochastic.memory` and the checks applied where a value enters it."""

from __future__ import annotations

import math

import numpy as np

from poreflux.validation import check_temperature
from stochastic.profiles import StochasticInputError

__all__ = [
    "MemoryInputError",
    "as_lag_grid",
    "as_series",
    "check_mass",
    "check_temperature_K",
]


class MemoryInputError(StochasticInputError):
    """Invalid input to the memory-kernel / GLE tools; the message says what to change."""


def as_lag_grid(t: np.ndarray, name: str = "t", min_points: int = 3) -> tuple[np.ndarray, float]:
    """A uniform grid of time lags [ps] starting at 0: returns the array and its spacing.

    Raises :class:`MemoryInputError` for non-finite, non-increasing, non-uniform grids or grids
    that do not start at lag 0.
    """
    a = np.asarray(t, dtype=float)
    if a.ndim != 1 or a.size < min_points:
        raise MemoryInputError(
            f"{name} must be a 1D array of at least {min_points} time lags in ps, got shape "
            f"{a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise MemoryInputError(f"{name} has non-finite (NaN/inf) values: give finite lags in ps")
    steps = np.diff(a)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0])
        raise MemoryInputError(
            f"{name} must be strictly increasing: {name}[{k + 1}] = {a[k + 1]!r} <= "
            f"{name}[{k}] = {a[k]!r}"
        )
    h = float(steps.mean())
    if np.max(np.abs(steps - h)) > 1e-6 * h:
        raise MemoryInputError(
            f"{name} must be uniformly spaced (the Volterra and correlation estimators assume "
            f"one sampling interval); spacings range from {steps.min():g} to {steps.max():g} ps"
        )
    if abs(a[0]) > 1e-9 * h:
        raise MemoryInputError(f"{name} must start at lag 0, got {name}[0] = {a[0]!r} ps")
    return a, h


def as_series(x: np.ndarray, name: str, n: int | None = None, ndim: int | None = 1) -> np.ndarray:
    """``x`` as a finite float array (of length ``n`` along axis 0 and ``ndim`` dims if given)."""
    a = np.asarray(x, dtype=float)
    if ndim is not None and a.ndim != ndim:
        raise MemoryInputError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise MemoryInputError(f"{name} must have {n} values (one per time lag), got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a.reshape(-1)))
        raise MemoryInputError(
            f"{name} has {bad.size} non-finite (NaN/inf) values (first at flat index {bad[0]}): "
            "remove them or fix the run that produced them"
        )
    return a


def check_mass(mass: float, name: str = "mass") -> float:
    """A finite positive mass [amu]."""
    try:
        m = float(mass)
    except (TypeError, ValueError):
        raise MemoryInputError(f"{name} must be a number in amu, got {mass!r}") from None
    if not (math.isfinite(m) and m > 0):
        raise MemoryInputError(f"{name} must be a finite positive mass in amu, got {mass!r}")
    return m


def check_temperature_K(temperature: float) -> float:
    """A finite positive temperature [K] (raises an ``InputError`` naming ``temperature``)."""
    return check_temperature(temperature, "temperature")
