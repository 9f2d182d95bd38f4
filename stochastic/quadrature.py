"""Composite Gauss-Legendre quadrature on a 1D grid (8 points per cell), for 1D profiles.

A profile's interpolant is smooth between its grid points but not across them, so the range is
split at the grid points and each piece integrated with the 8-point Gauss-Legendre rule (exact
for polynomials of degree <= 15 on the piece; Abramowitz & Stegun, Handbook of Mathematical
Functions, 25.4.29). Used by :mod:`stochastic.smoluchowski` for fluxes, densities and mean
first-passage times.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["cumulative", "gl_nodes", "integrate", "segments"]

_GL_T, _GL_W = np.polynomial.legendre.leggauss(8)


def segments(breaks: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``[lo, breaks strictly inside (lo, hi)..., hi]``: the pieces of the composite rule."""
    inner = breaks[(breaks > lo) & (breaks < hi)]
    return np.concatenate(([lo], inner, [hi]))


def gl_nodes(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes (n_seg, 8) and weights on consecutive segments of ``pts``."""
    a, b = pts[:-1, None], pts[1:, None]
    half = 0.5 * (b - a)
    return 0.5 * (a + b) + half * _GL_T, half * _GL_W


def integrate(
    f: Callable[[np.ndarray], np.ndarray], breaks: np.ndarray, lo: float, hi: float
) -> float:
    """``int_lo^hi f`` by composite Gauss-Legendre on segments split at ``breaks``."""
    if hi <= lo:
        return 0.0
    x, w = gl_nodes(segments(breaks, lo, hi))
    return float(np.sum(w * f(x)))


def cumulative(
    f: Callable[[np.ndarray], np.ndarray], breaks: np.ndarray, lo: float, points: np.ndarray
) -> np.ndarray:
    """``int_lo^p f`` for every p in ``points`` (all >= lo)."""
    p = np.asarray(points, dtype=float)
    flat = p.ravel()
    hi = float(np.max(flat)) if flat.size else lo
    pts = np.union1d(segments(breaks, lo, hi), flat[flat > lo])
    pts = np.concatenate(([lo], pts[pts > lo]))
    if pts.size < 2:
        return np.zeros_like(p)
    x, w = gl_nodes(pts)
    cum = np.concatenate(([0.0], np.cumsum(np.sum(w * f(x), axis=1))))
    idx = np.searchsorted(pts, flat)
    return cum[idx].reshape(p.shape)
