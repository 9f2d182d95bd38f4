"""Fit a tabulated kernel by a sum of exponentials (and damped oscillations).

Variable projection (Golub & Pereyra, SIAM J. Numer. Anal. 10, 413 (1973)): for given decay
times and frequencies the amplitudes follow from a linear (non-negative) least-squares problem,
so the nonlinear search (:func:`scipy.optimize.least_squares`) runs only over ``log tau`` and
``log omega``, from several starts. The result is an :class:`ExponentialKernel` for the Markovian
embedding of :mod:`stochastic.memory.gle`, with the fit quality (R^2, rms residual).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, nnls

from stochastic.memory.errors import MemoryInputError, as_lag_grid, as_series
from stochastic.memory.terms import ExponentialKernel

__all__ = ["ExponentialFit", "fit_exponentials"]


@dataclass(frozen=True, eq=False)
class ExponentialFit:
    """A kernel fit: the :class:`ExponentialKernel`, R^2 and rms residual [amu/ps^2]."""

    kernel: ExponentialKernel
    r2: float
    rms: float
    residual: np.ndarray

    @property
    def rms_relative(self) -> float:
        """rms residual relative to K(0) of the fitted data."""
        return self.rms / float(abs(self.kernel(0.0)))


def _basis(t: np.ndarray, theta: np.ndarray, n_exp: int, n_osc: int) -> np.ndarray:
    tau_e = np.exp(theta[:n_exp])
    tau_o = np.exp(theta[n_exp : n_exp + n_osc])
    om = np.exp(theta[n_exp + n_osc :])
    cols = [np.exp(-t[:, None] / tau_e)]
    if n_osc:
        cols.append(np.exp(-t[:, None] / tau_o) * np.cos(om * t[:, None]))
    return np.hstack(cols)


def _with_integral(
    b: np.ndarray, k: np.ndarray, theta: np.ndarray, n_exp: int, n_osc: int, integral, weight
) -> tuple[np.ndarray, np.ndarray]:
    """Append the weighted row ``sum_i c_i int_0^inf basis_i = integral`` (if one is given)."""
    if integral is None:
        return b, k
    tau = np.exp(theta[: n_exp + n_osc])
    om = np.concatenate([np.zeros(n_exp), np.exp(theta[n_exp + n_osc :])])
    row = tau / (1.0 + (om * tau) ** 2)  # int_0^inf e^{-t/tau} cos(om t) dt
    return np.vstack([b, weight * row]), np.append(k, weight * integral)


def _amplitudes(b: np.ndarray, k: np.ndarray, nonnegative: bool) -> np.ndarray:
    if nonnegative:
        return nnls(b, k)[0]
    return np.linalg.lstsq(b, k, rcond=None)[0]


def _starts(t: np.ndarray, k: np.ndarray, n_exp: int, n_osc: int, n_starts: int) -> list:
    h = t[1] - t[0]
    integral = float(np.sum(k) * h)
    tau0 = integral / k[0] if integral > 0 and k[0] > 0 else 0.1 * t[-1]
    tau0 = float(np.clip(tau0, 2 * h, t[-1] / 2))
    rng = np.random.default_rng(12345)
    out = []
    for s in range(n_starts):
        spread = 5.0 if s == 0 else float(rng.uniform(2.0, 30.0))
        tau_e = tau0 * np.geomspace(1 / spread, spread, n_exp) if n_exp > 1 else [tau0]
        tau_o = np.full(n_osc, tau0 * rng.uniform(0.5, 3.0) if s else tau0)
        om = np.full(n_osc, (np.pi / (2 * tau0)) * (rng.uniform(0.5, 2.0) if s else 1.0))
        out.append(np.log(np.concatenate([np.asarray(tau_e)[:n_exp], tau_o, om])))
    return out


def fit_exponentials(
    t: np.ndarray,
    K: np.ndarray,
    n_terms: int,
    *,
    n_oscillatory: int = 0,
    nonnegative: bool = True,
    n_starts: int = 6,
    integral: float | None = None,
) -> ExponentialFit:
    """Fit ``K(t) ~ sum_i c_i exp(-t/tau_i) [cos(omega_i t)]`` by least squares.

    Parameters
    ----------
    t, K
        Uniform lags [ps] from 0 and kernel values [amu/ps^2] (e.g. ``MemoryKernel.t, .K``).
    n_terms
        Plain exponential terms (>= 0).
    n_oscillatory
        Damped-oscillation terms ``c exp(-t/tau) cos(omega t)`` (>= 0).
    nonnegative
        Constrain the amplitudes to be >= 0 (needed for the embedding); terms whose amplitude
        ends at 0 are dropped from the returned kernel.
    n_starts
        Starting guesses of the nonlinear search (the best fit is kept).
    integral
        If given, ``int_0^inf K dt`` [amu/ps] of the fit is held at this value (a heavily
        weighted extra residual: the friction, hence D = kT / int K, is kept while the shape is
        fitted; e.g. for a CG thermostat whose D must match).

    Returns
    -------
    ExponentialFit
        ``kernel`` (:class:`ExponentialKernel`), ``r2`` (coefficient of determination),
        ``rms`` residual [amu/ps^2] and the residual array.
    """
    t, _ = as_lag_grid(t)
    k = as_series(K, "K", n=t.size)
    n_exp, n_osc = int(n_terms), int(n_oscillatory)
    if n_exp < 0 or n_osc < 0 or n_exp + n_osc < 1:
        raise MemoryInputError(
            f"need n_terms >= 0, n_oscillatory >= 0 and at least one term, got {n_terms!r}, "
            f"{n_oscillatory!r}"
        )
    if t.size < 2 * (n_exp + 2 * n_osc) + 2:
        raise MemoryInputError(f"{t.size} points are too few for {n_exp + n_osc} terms")
    if integral is not None and not (np.isfinite(integral) and integral > 0):
        raise MemoryInputError(f"integral must be a finite friction > 0 amu/ps, got {integral!r}")
    # a 1 % error of the integral costs as much as a residual of 0.3 max|K| at every lag
    weight = 0.0 if integral is None else 30.0 * np.sqrt(t.size) * np.max(np.abs(k)) / integral

    def resid(theta: np.ndarray) -> np.ndarray:
        b, kk = _with_integral(_basis(t, theta, n_exp, n_osc), k, theta, n_exp, n_osc,
                               integral, weight)  # fmt: skip
        return b @ _amplitudes(b, kk, nonnegative) - kk

    # decay times between h/4 and 100 t_max, frequencies below the Nyquist one: a term faster
    # than the sampling would carry K(0) without any integral (and break the embedding)
    h = float(t[1] - t[0])
    lower = np.log(np.r_[np.full(n_exp + n_osc, h / 4), np.full(n_osc, 1e-3 / t[-1])])
    upper = np.log(np.r_[np.full(n_exp + n_osc, 100 * t[-1]), np.full(n_osc, np.pi / h)])
    best = None
    for theta0 in _starts(t, k, n_exp, n_osc, max(1, int(n_starts))):
        theta0 = np.clip(theta0, lower + 1e-9, upper - 1e-9)
        sol = least_squares(resid, theta0, method="trf", bounds=(lower, upper), max_nfev=2000)
        if best is None or sol.cost < best.cost:
            best = sol
    theta = best.x
    b = _basis(t, theta, n_exp, n_osc)
    amp = _amplitudes(*_with_integral(b, k, theta, n_exp, n_osc, integral, weight), nonnegative)
    res = b @ amp - k
    taus = np.exp(theta[: n_exp + n_osc])
    freqs = np.concatenate([np.zeros(n_exp), np.exp(theta[n_exp + n_osc :])])
    keep = amp > 0 if nonnegative else np.ones(amp.size, bool)
    if not np.any(amp > 0):
        raise MemoryInputError("no positive exponential term fits K: is the kernel negative?")
    kern = ExponentialKernel(amp[keep], taus[keep], freqs[keep])
    ss_tot = float(np.sum((k - k.mean()) ** 2))
    r2 = 1.0 - float(np.sum(res * res)) / ss_tot if ss_tot > 0 else float("nan")
    return ExponentialFit(kern, r2, float(np.sqrt(np.mean(res * res))), res)
