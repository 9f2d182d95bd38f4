"""Helpers to validate force terms: central-difference forces and their relative error."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_forces(
    energy: Callable[[np.ndarray], float], positions: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """``-dE/dx`` by central differences with step ``h`` [nm] for every coordinate."""
    x = np.array(positions, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        for d in range(3):
            old = x[i, d]
            x[i, d] = old + h
            ep = energy(x)
            x[i, d] = old - h
            em = energy(x)
            x[i, d] = old
            out[i, d] = -(ep - em) / (2 * h)
    return out


def relative_force_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max |F - F_num| / max |F_num|`` (one number for the whole configuration)."""
    return float(np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric)))
