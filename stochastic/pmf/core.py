"""The convex objective shared by binned WHAM and binless MBAR, evaluated by streaming over samples.

For states k = 1..K with effective sample counts ``N_k`` and samples n with weights ``s_n`` and
reduced potentials ``u_kn``, the free energies ``f_k`` minimise (Shirts & Chodera, J. Chem. Phys.
129, 124105 (2008); Zhu & Hummer, J. Comput. Chem. 33, 453 (2012))::

    F(f) = sum_n s_n ln sum_k N_k exp(f_k - u_kn) - sum_k N_k f_k

with gradient ``g_k = sum_n s_n P_nk - N_k`` and Hessian ``H = diag(sum_n s_n P_nk) - P^T S P``,
where ``P_nk = N_k exp(f_k - u_kn) / sum_j N_j exp(f_j - u_jn)``. ``g = 0`` is exactly the
self-consistent (WHAM/MBAR) equation. Binned WHAM is the case where the "samples" are bin centres
weighted by their histogram counts.

Only chunks of ``u_kn`` (K x chunk) exist at any time: the memory is O(K * chunk + N).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from stochastic.pmf.errors import EstimatorConvergenceError, PMFInputError
from stochastic.pmf.windows import WindowSet, wrap

try:  # optional: limit BLAS threads (see blas_threads)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - the limit is then simply not applied
    threadpool_limits = None

log = logging.getLogger(__name__)

#: Target number of K x chunk matrix entries held at once (8 MB per matrix of doubles).
CHUNK_ENTRIES = 1 << 20


@dataclass
class HarmonicStates:
    """Reduced potentials ``u_kn = kappa_k/2 * (x_n - c_k)^2`` generated chunk by chunk.

    Parameters
    ----------
    windows : WindowSet
        The K biased states.
    x : (N,) array
        Sample coordinates (all windows concatenated) or bin centres.
    s : (N,) array
        Sample weights (1 per uncorrelated sample, or histogram counts).
    n_k : (K,) array
        Effective number of samples drawn from each state.
    """

    windows: WindowSet
    x: np.ndarray
    s: np.ndarray
    n_k: np.ndarray
    chunk: int = field(default=0)

    def __post_init__(self) -> None:
        if self.chunk <= 0:
            self.chunk = max(256, CHUNK_ENTRIES // max(1, len(self.windows)))
        self.log_n_k = np.log(self.n_k)

    @property
    def n_samples(self) -> int:
        return self.x.size

    def chunks(self) -> Iterator[slice]:
        for start in range(0, self.x.size, self.chunk):
            yield slice(start, min(start + self.chunk, self.x.size))

    def log_terms(self, f: np.ndarray, sl: slice, out: np.ndarray | None = None) -> np.ndarray:
        """``ln N_k + f_k - u_kn`` for the samples in ``sl``: shape (K, m)."""
        c = self.windows.centers
        kap = self.windows.kappas
        d = self.x[None, sl] - c[:, None]
        if self.windows.period is not None:
            d = wrap(d, self.windows.period)
        np.multiply(d, d, out=d)
        d *= (-0.5 * kap)[:, None]
        d += (self.log_n_k + f)[:, None]
        return d

    def reduced(self, sl: slice) -> np.ndarray:
        """``u_kn`` for the samples in ``sl``: shape (K, m)."""
        return self.windows.reduced_bias(self.x[sl])


#: Exponents below this are clamped before exp(): exp(-300) ~ 5e-131 is negligible next to the
#: column maximum 1, and it keeps products of two such numbers normal. Subnormal floating-point
#: numbers (below ~1e-308) would otherwise slow every arithmetic operation by ~100x.
LOG_FLOOR = -300.0


def blas_threads(n: int | None) -> contextlib.AbstractContextManager:
    """Context limiting BLAS to ``n`` threads (no-op for None or without threadpoolctl).

    The K x K Hessian is a skinny product (K x m times m x K) that gains little from threads, and
    on a busy machine threaded BLAS oversubscribes the cores: one thread was 10x faster than two
    on a loaded 2-core machine (measured on this project's development machine).
    """
    if n is None or threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n), user_api="blas")


def _softmax_cols(a: np.ndarray) -> np.ndarray:
    """In place: column-wise softmax of ``a``; returns the column log-sum-exp."""
    mx = a.max(axis=0)
    a -= mx
    np.maximum(a, LOG_FLOOR, out=a)
    np.exp(a, out=a)
    ssum = a.sum(axis=0)
    a /= ssum
    return mx + np.log(ssum)


def evaluate(
    states: HarmonicStates, f: np.ndarray, hessian: bool = True
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Objective, gradient and (optionally) Hessian at ``f`` in one pass over the samples."""
    k = len(f)
    obj = 0.0
    grad = np.zeros(k)
    hess = np.zeros((k, k)) if hessian else None
    for sl in states.chunks():
        p = states.log_terms(f, sl)
        lse = _softmax_cols(p)
        s = states.s[sl]
        obj += float(s @ lse)
        ps = p * s
        grad += ps.sum(axis=1)
        if hessian:
            hess -= ps @ p.T
    if hessian:
        hess[np.diag_indices(k)] += grad
    obj -= float(states.n_k @ f)
    grad -= states.n_k
    return obj, grad, hess


def log_denominators(states: HarmonicStates, f: np.ndarray) -> np.ndarray:
    """``ln sum_k N_k exp(f_k - u_kn)`` for every sample (length N).

    Minus the log of each sample's unbiased weight.
    """
    out = np.empty(states.n_samples)
    for sl in states.chunks():
        out[sl] = _softmax_cols(states.log_terms(f, sl))
    return out


def self_consistent_step(states: HarmonicStates, f: np.ndarray) -> np.ndarray:
    """One self-consistent iteration ``f_k <- -ln sum_n s_n exp(-u_kn) / D_n`` (gauge f_0 = 0)."""
    lden = log_denominators(states, f)
    acc = np.full((len(f),), -np.inf)
    logs = np.log(states.s)
    for sl in states.chunks():
        t = -states.reduced(sl) + (logs[sl] - lden[sl])[None, :]
        acc = np.logaddexp(acc, logsumexp(t, axis=1))
    new = -acc
    return new - new[0]


def _residual(grad: np.ndarray, n_k: np.ndarray) -> float:
    """Relative self-consistency residual ``max_k |g_k| / N_k``."""
    return float(np.max(np.abs(grad) / n_k))


def solve(
    states: HarmonicStates,
    f0: np.ndarray | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 200,
    label: str = "MBAR",
    callback: Callable[[np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, int, list[float]]:
    """Minimise the objective over ``f_1..f_{K-1}`` (``f_0 = 0``) by trust-region Newton.

    Returns ``(f, hessian, n_passes, history)``; raises :class:`EstimatorConvergenceError` if the
    relative self-consistency residual ``max_k |g_k|/N_k`` does not reach ``tol``.
    """
    k = len(states.n_k)
    f = np.zeros(k) if f0 is None else np.asarray(f0, dtype=float) - float(f0[0])
    if k == 1:
        return f, np.zeros((1, 1)), 0, [0.0]
    history: list[float] = []
    best: list = [np.inf, f, None]
    cache: dict[str, object] = {}
    scale = 1.0 / float(states.n_k.sum())

    def full(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        key = y.tobytes()
        if cache.get("key") != key:
            ff = np.concatenate(([0.0], y))
            obj, g, h = evaluate(states, ff, hessian=True)
            r = _residual(g, states.n_k)
            history.append(r)
            if r < best[0]:
                best[:] = [r, ff, h]
            cache.update(key=key, val=(obj * scale, g[1:] * scale, h[1:, 1:] * scale, g, h))
        return cache["val"]  # type: ignore[return-value]

    def fun(y):
        v = full(y)
        return v[0], v[1]

    def hess(y):
        return full(y)[2]

    y0 = f[1:].copy()
    full(y0)
    if history[-1] < tol:
        return f, full(y0)[4], 1, history
    gtol = tol * float(states.n_k.min()) * scale
    res = optimize.minimize(
        fun,
        y0,
        jac=True,
        hess=hess,
        method="trust-exact",
        options={"gtol": gtol, "maxiter": max_iter},
    )
    full(res.x)
    # trust-exact may stop on round-off near the optimum: keep the best point it evaluated
    r, f, hfull = best
    if not np.isfinite(r) or r > tol:
        raise EstimatorConvergenceError(
            f"{label}: free energies did not converge to a self-consistency residual of {tol:g} "
            f"(reached {r:.3g} after {len(history)} passes; scipy says: {res.message}). Check the "
            "window overlap, or raise max_iter/tol.",
            history,
            f_k=f,
            label=label,
        )
    if callback is not None:
        callback(f)
    log.debug("%s converged: residual %.2e after %d passes", label, r, len(history))
    return f, hfull, len(history), history


def check_counts(n_k: np.ndarray) -> None:
    """Every state needs a positive (effective) sample count."""
    if np.any(~np.isfinite(n_k)) or np.any(n_k <= 0):
        bad = np.flatnonzero(~(n_k > 0))
        raise PMFInputError(f"windows {bad.tolist()} have no samples in the estimator's range")
