"""Noise models of the chain's profiles: sigma arrays, correlated Gaussian and log-normal draws."""

from __future__ import annotations

import math

import numpy as np

from stochastic.profiles import StochasticInputError

__all__ = ["broadcast", "correlation_factor", "freeze", "lognormal_draw", "sigma_array"]


def sigma_array(name: str, value: np.ndarray | float, z: np.ndarray, unit: str) -> np.ndarray:
    """Standard errors on the grid ``z`` (a number is broadcast), checked finite and >= 0."""
    s = np.array(value, dtype=float)
    if s.ndim == 0:
        s = np.full_like(z, float(s))
    if s.shape != z.shape:
        raise StochasticInputError(
            f"{name} has shape {s.shape}, the grid z has shape {z.shape}; give one standard "
            f"error [{unit}] per grid point (or a single number)"
        )
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        i = int(np.argmax(~np.isfinite(s) | (s < 0)))
        raise StochasticInputError(
            f"{name} must be finite and >= 0 [{unit}]; got {s[i]!r} at z = {z[i]:g} nm"
        )
    return s


def broadcast(value: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """``value`` as an array on the grid ``z`` (a number becomes a constant array)."""
    a = np.asarray(value, dtype=float)
    return np.full_like(z, float(a)) if a.ndim == 0 else a


def freeze(*arrays: np.ndarray) -> None:
    """Make arrays read-only (they belong to frozen dataclasses)."""
    for a in arrays:
        a.setflags(write=False)


def correlation_factor(z: np.ndarray, length: float) -> np.ndarray | None:
    """``A`` with ``A A^T`` = the Gaussian correlation matrix on ``z`` (None = identity)."""
    if length == 0.0:
        return None
    if math.isinf(length):
        return np.ones((z.size, 1))
    d = (z[:, None] - z[None, :]) / length
    corr = np.exp(-0.5 * d * d)
    # Cholesky with a small jitter (the Gaussian kernel is numerically singular on fine grids;
    # the jitter adds an independent variance of that fraction), eigen-decomposition otherwise
    for jitter in (1e-10, 1e-8, 1e-6):
        try:
            return np.linalg.cholesky(corr + jitter * np.eye(z.size))
        except np.linalg.LinAlgError:
            continue
    lam, vec = np.linalg.eigh(corr)
    keep = lam > 1e-12 * lam[-1]
    return vec[:, keep] * np.sqrt(lam[keep])


def lognormal_draw(mean: np.ndarray, sigma: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Log-normal values with the given mean and standard deviation from standard normals g."""
    s2 = np.log1p((sigma / mean) ** 2)
    return mean * np.exp(np.sqrt(s2) * g - 0.5 * s2)
