"""Kernels as sums of (damped-oscillating) exponentials: the form a Markovian embedding needs.

``K(t) = sum_i c_i exp(-t/tau_i) cos(omega_i t)`` [amu/ps^2] with amplitudes ``c_i`` > 0,
decay times ``tau_i`` > 0 [ps] and angular frequencies ``omega_i`` >= 0 [rad/ps] (0 for a plain
exponential). Each plain exponential is carried by one auxiliary variable and each damped
oscillation by two in :mod:`stochastic.memory.gle` (Ceriotti, Bussi & Parrinello, J. Chem. Theory
Comput. 6, 1170 (2010)); every such term has a non-negative spectrum, so the embedding obeys the
fluctuation-dissipation theorem for any positive amplitudes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stochastic.memory.errors import MemoryInputError

__all__ = ["ExponentialKernel", "PiecewiseKernel"]


@dataclass(frozen=True, eq=False)
class ExponentialKernel:
    """``K(t) = sum_i c_i exp(-t/tau_i) cos(omega_i t)`` [amu/ps^2].

    Parameters
    ----------
    amplitudes
        ``c_i`` [amu/ps^2] (> 0; ``K(0) = sum c_i``).
    taus
        Decay times ``tau_i`` [ps] (> 0).
    frequencies
        Angular frequencies ``omega_i`` [rad/ps] (>= 0); default all 0 (plain exponentials).
    """

    amplitudes: np.ndarray
    taus: np.ndarray
    frequencies: np.ndarray | None = None

    def __post_init__(self) -> None:
        c = np.atleast_1d(np.asarray(self.amplitudes, dtype=float))
        tau = np.atleast_1d(np.asarray(self.taus, dtype=float))
        w = np.zeros_like(tau) if self.frequencies is None else self.frequencies
        w = np.atleast_1d(np.asarray(w, dtype=float))
        if c.ndim != 1 or c.shape != tau.shape or w.shape != tau.shape or c.size == 0:
            raise MemoryInputError(
                "amplitudes, taus and frequencies must be 1D arrays of one common length >= 1, "
                f"got shapes {c.shape}, {tau.shape}, {w.shape}"
            )
        for name, a in (("amplitudes", c), ("taus", tau), ("frequencies", w)):
            if not np.all(np.isfinite(a)):
                raise MemoryInputError(f"kernel {name} must be finite, got {a}")
        if np.any(c <= 0):
            raise MemoryInputError(
                f"kernel amplitudes must be > 0 amu/ps^2 (a Markovian embedding needs positive "
                f"terms), got {c}; drop or refit the negative terms"
            )
        if np.any(tau <= 0):
            raise MemoryInputError(f"kernel decay times taus must be > 0 ps, got {tau}")
        if np.any(w < 0):
            raise MemoryInputError(f"kernel frequencies must be >= 0 rad/ps, got {w}")
        for name, a in (("amplitudes", c), ("taus", tau), ("frequencies", w)):
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @classmethod
    def single(cls, gamma: float, tau: float) -> ExponentialKernel:
        """``K(t) = (gamma/tau) exp(-t/tau)``: friction ``gamma`` [amu/ps], memory time tau [ps]."""
        if not (np.isfinite(gamma) and gamma > 0 and np.isfinite(tau) and tau > 0):
            raise MemoryInputError(
                f"gamma (amu/ps) and tau (ps) must be finite and > 0, got {gamma!r}, {tau!r}"
            )
        return cls(np.array([gamma / tau]), np.array([tau]))

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        """K at times ``t`` [ps] (t >= 0)."""
        tt = np.asarray(t, dtype=float)[..., None]
        terms = self.amplitudes * np.exp(-tt / self.taus) * np.cos(self.frequencies * tt)
        return terms.sum(axis=-1)

    @property
    def n_terms(self) -> int:
        """Number of terms."""
        return self.amplitudes.size

    @property
    def n_aux(self) -> int:
        """Auxiliary variables of the Markovian embedding (1 per exponential, 2 per oscillation)."""
        return int(self.n_terms + np.count_nonzero(self.frequencies))

    @property
    def integral(self) -> float:
        """``int_0^inf K dt = sum c tau / (1 + omega^2 tau^2)`` = friction gamma [amu/ps]."""
        wt = self.frequencies * self.taus
        return float(np.sum(self.amplitudes * self.taus / (1.0 + wt * wt)))

    @property
    def memory_time(self) -> float:
        """``tau_mem = int K dt / K(0)`` [ps]."""
        return self.integral / float(np.sum(self.amplitudes))

    def laplace(self, s: np.ndarray | float) -> np.ndarray:
        """Laplace transform ``K^(s) = sum c (s + 1/tau) / ((s + 1/tau)^2 + omega^2)``, s [1/ps]."""
        ss = np.asarray(s, dtype=float)[..., None] + 1.0 / self.taus
        return (self.amplitudes * ss / (ss * ss + self.frequencies**2)).sum(axis=-1)


@dataclass(frozen=True, eq=False)
class PiecewiseKernel:
    """Position-dependent memory: ``kernels[j]`` applies where ``edges[j-1] <= z < edges[j]``.

    Parameters
    ----------
    edges
        Increasing interior boundaries [nm] (``len(kernels) - 1`` of them) along the coordinate
        (the last Cartesian component in 3D).
    kernels
        One :class:`ExponentialKernel` per window, all with the same number of auxiliary
        variables (``n_aux``); e.g. fits of the window kernels of an umbrella run.

    In :func:`stochastic.memory.gle` the exact O step of each particle uses its window's
    matrices; every window's step preserves the Gaussian distribution of the velocity and the
    auxiliary variables, so the canonical distribution is kept (up to the BAOAB position error).
    """

    edges: np.ndarray
    kernels: tuple[ExponentialKernel, ...]

    def __post_init__(self) -> None:
        kernels = tuple(self.kernels)
        edges = np.atleast_1d(np.asarray(self.edges, dtype=float))
        if len(kernels) < 1 or not all(isinstance(k, ExponentialKernel) for k in kernels):
            raise MemoryInputError("kernels must be a non-empty sequence of ExponentialKernel")
        if edges.ndim != 1 or edges.size != len(kernels) - 1:
            raise MemoryInputError(
                f"need len(kernels) - 1 = {len(kernels) - 1} window edges, got {edges.size}"
            )
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise MemoryInputError(f"window edges must be finite and increasing (nm), got {edges}")
        n_aux = {k.n_aux for k in kernels}
        if len(n_aux) != 1:
            raise MemoryInputError(
                f"all window kernels need the same number of auxiliary variables, got {n_aux}: "
                "fit every window with the same n_terms and n_oscillatory"
            )
        edges.setflags(write=False)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "kernels", kernels)

    @property
    def n_aux(self) -> int:
        """Auxiliary variables of the embedding (common to all windows)."""
        return self.kernels[0].n_aux

    def window_of(self, z: np.ndarray) -> np.ndarray:
        """Window index of each position ``z`` [nm]."""
        return np.searchsorted(self.edges, np.asarray(z, dtype=float), side="right")
