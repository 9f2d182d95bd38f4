"""Binless MBAR (Shirts & Chodera, J. Chem. Phys. 129, 124105 (2008)) for umbrella sampling.

The reduced potential of sample n in window k is the bias alone, ``u_kn = w_k(xi_n)/kT`` (the
unbiased energy is common to all windows at one temperature and cancels). ``u_kn`` is never stored:
:class:`~stochastic.pmf.core.HarmonicStates` generates it chunk by chunk from the window
definitions and the samples, so memory is O(N + K * chunk) rather than O(N * K).

The free energies minimise the convex MBAR objective (the same one pymbar 4 and Zhu & Hummer use),
solved by scipy's trust-region Newton method from a warm start given by binned WHAM on a fine
histogram (its self-consistent solution is within a small fraction of kT of the MBAR one, so one
to three Newton passes over the samples finish the job).

Uncertainties: the asymptotic covariance of Kong et al. / Shirts & Chodera (their Eq. 8),
``Theta = W^T (I - W N W^T)^+ W``, is evaluated in its K x K form through the eigen-decomposition of
``W^T W``. The PMF bins enter as extra states with ``N = 0`` (as in pymbar's FES), so the PMF
covariance comes out of the same formula. It assumes uncorrelated samples: decorrelate first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from stochastic.pmf import core
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import EstimatorConvergenceError, PMFInputError
from stochastic.pmf.overlap import check_overlap
from stochastic.pmf.result import PMFResult, apply_gauge, gauge_vector, make_bins
from stochastic.pmf.wham import solve_wham, warn_empty_bins

log = logging.getLogger(__name__)

__all__ = ["MBAR", "mbar"]


def _theta(g: np.ndarray, n_k: np.ndarray) -> np.ndarray:
    """``W^T (I - W N W^T)^+ W`` from ``G = W^T W`` and the counts ``N`` (0 for bin states)."""
    evals, v = np.linalg.eigh(g)
    evals = np.clip(evals, 0.0, None)
    s = np.sqrt(evals)
    vs = v * s  # V Sigma
    inner = np.eye(g.shape[0]) - vs.T @ (n_k[:, None] * vs)
    inner_pinv = np.linalg.pinv(inner, rcond=1e-10, hermitian=True)
    return vs @ inner_pinv @ vs.T


@dataclass
class MBAR:
    """MBAR solution for an umbrella-sampling data set.

    Parameters
    ----------
    data : UmbrellaData
        Decorrelated samples (or weighted ones, see :func:`~stochastic.pmf.data.decorrelate`).
    tol : float
        Relative self-consistency residual ``max_k |sum_n P_nk - N_k| / N_k`` to reach.
    max_iter : int
        Newton iteration cap.
    f_init : array, optional
        Warm start (kT); default binned WHAM on 4x the default number of bins.
    check : bool
        Warn about non-overlapping neighbouring windows.
    blas_threads : int or None
        BLAS threads while solving (default 1, see :func:`stochastic.pmf.core.blas_threads`);
        None leaves the BLAS default.

    Attributes
    ----------
    f_k : (K,) array
        Free energies of the biased windows, kT, ``f_0 = 0``.
    log_denominator : (N,) array
        ``ln sum_k N_k exp(f_k - u_kn)`` per sample: the unbiased weight of sample n is
        ``s_n exp(-log_denominator[n])`` (the one length-N array kept).
    passes : int
        Passes over the samples used by the solver.
    """

    data: UmbrellaData
    tol: float = 1e-8
    max_iter: int = 100
    f_init: np.ndarray | None = None
    check: bool = True
    blas_threads: int | None = 1
    f_k: np.ndarray = field(init=False)
    log_denominator: np.ndarray = field(init=False, repr=False)
    passes: int = field(init=False)

    def __post_init__(self) -> None:
        with core.blas_threads(self.blas_threads):
            self._solve()

    def _solve(self) -> None:
        if self.check:
            check_overlap(self.data)
        x, s = self.data.concatenated()
        if s is None:
            s = np.ones_like(x)
        n_k = self.data.effective_counts
        core.check_counts(n_k)
        self._states = core.HarmonicStates(self.data.windows, x, s, n_k)
        f0 = self.f_init
        if f0 is None:
            try:
                b = make_bins(self.data, 400)
                f0, _ = solve_wham(self.data, b, tol=1e-6)
                if not np.all(np.isfinite(f0)):
                    raise ValueError("warm start left some windows out")
            except (ValueError, EstimatorConvergenceError) as exc:  # costs only Newton steps
                log.debug("MBAR warm start by WHAM failed (%s); starting from zeros", exc)
                f0 = np.zeros(self.data.n_windows)
        f, _, passes, _ = core.solve(
            self._states, np.asarray(f0, float), tol=self.tol, max_iter=self.max_iter, label="MBAR"
        )
        self.f_k = f
        self.log_denominator = core.log_denominators(self._states, f)
        self.passes = passes + 1

    @property
    def samples(self) -> np.ndarray:
        """All samples, window after window (the order of :attr:`log_denominator`)."""
        return self._states.x

    def unbiased_log_weights(self) -> np.ndarray:
        """Normalised log weights of every sample in the unbiased ensemble (sum of exp = 1)."""
        lw = np.log(self._states.s) - self.log_denominator
        return lw - logsumexp(lw)

    def expectation(self, a: np.ndarray) -> float:
        """Unbiased ensemble average of an observable given per sample (window-concatenated)."""
        a = np.asarray(a, dtype=float)
        if a.shape != self._states.x.shape:
            raise PMFInputError(
                f"observable has shape {a.shape}, expected one value per sample "
                f"{self._states.x.shape}"
            )
        return float(np.exp(self.unbiased_log_weights()) @ a)

    def covariance_f(self) -> np.ndarray:
        """Asymptotic covariance of the ``f_k`` (kT^2) before gauge fixing."""
        return self._covariance(None)[0]

    def sigma_f(self) -> np.ndarray:
        """Standard error of ``f_k - f_0`` (kT)."""
        th = self.covariance_f()
        var = np.diag(th) + th[0, 0] - 2.0 * th[:, 0]
        return np.sqrt(np.clip(var, 0.0, None))

    def _covariance(
        self, bin_index: np.ndarray | None, n_bins: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Theta over the K windows plus (optionally) the occupied bins; returns (theta, occ).

        ``bin_index`` gives each sample's bin (-1 outside the range) among ``n_bins`` bins;
        ``occ`` (length ``n_bins``) marks the bins holding a sample, the only ones in theta.
        """
        st = self._states
        k = len(self.f_k)
        nb = 0 if bin_index is None else int(n_bins)
        g_kk = np.zeros((k, k))
        g_kb = np.zeros((k, nb))
        g_bb = np.zeros(nb)
        if nb:
            lw = np.log(st.s) - self.log_denominator
            keep = bin_index >= 0
            f_b = np.full(nb, np.inf)
            lsum = np.full(nb, -np.inf)
            np.logaddexp.at(lsum, bin_index[keep], lw[keep])
            f_b = -lsum
            occ = np.isfinite(f_b)
        else:
            occ = np.zeros(0, bool)
        for sl in st.chunks():
            w = st.log_terms(self.f_k, sl)
            w -= (st.log_n_k)[:, None]
            w -= self.log_denominator[None, sl]
            np.maximum(w, core.LOG_FLOOR, out=w)  # no subnormal numbers (see core.LOG_FLOOR)
            np.exp(w, out=w)  # W_nk (columns of W sum to 1 over n)
            s = st.s[sl]
            g_kk += (w * s) @ w.T
            if nb:
                idx = bin_index[sl]
                m = idx >= 0
                rows = np.flatnonzero(m)
                # W_nb = exp(f_b - lden_n) for n in bin b
                vals = s[m] * np.exp(f_b[idx[m]] - self.log_denominator[sl][m])
                ind = sparse.csr_matrix((vals, (rows, idx[m])), shape=(w.shape[1], nb))
                g_kb += np.asarray((ind.T @ w.T).T)
                g_bb += np.bincount(
                    idx[m],
                    weights=vals * np.exp(f_b[idx[m]] - self.log_denominator[sl][m]),
                    minlength=nb,
                )
        if nb:
            occ_idx = np.flatnonzero(occ)
            g = np.zeros((k + occ_idx.size, k + occ_idx.size))
            g[:k, :k] = g_kk
            g[:k, k:] = g_kb[:, occ_idx]
            g[k:, :k] = g_kb[:, occ_idx].T
            g[k:, k:] = np.diag(g_bb[occ_idx])
            n_all = np.concatenate((st.n_k, np.zeros(occ_idx.size)))
        else:
            g, n_all = g_kk, st.n_k
        return _theta(g, n_all), occ

    def pmf(
        self,
        bins: int | np.ndarray = 100,
        range: tuple[float, float] | None = None,
        *,
        reference: str | float = "min",
        uncertainty: str | None = "analytic",
    ) -> PMFResult:
        """PMF on uniform bins from the unbiased weights.

        Parameters
        ----------
        bins, range
            As in :func:`~stochastic.pmf.wham.wham`.
        reference : "min", "mean" or float
            Gauge (where W = 0); sigma is the error of W relative to that gauge.
        uncertainty : "analytic" or None
            ``"analytic"``: asymptotic MBAR covariance (one more pass over the samples).
        """
        b = make_bins(self.data, bins, range)
        idx = b.index(self._states.x)
        keep = idx >= 0
        lw = np.log(self._states.s) - self.log_denominator
        lsum = np.full(b.n, -np.inf)
        np.logaddexp.at(lsum, idx[keep], lw[keep])
        pmf = -(lsum - np.log(b.width))
        counts = np.bincount(idx[keep], weights=self._states.s[keep], minlength=b.n)
        d = gauge_vector(pmf, b.centers, reference)
        pmf = apply_gauge(pmf, d)
        sigma = sigma_f = None
        if uncertainty == "analytic":
            with core.blas_threads(self.blas_threads):
                theta, occ = self._covariance(np.where(keep, idx, -1), b.n)
            k = len(self.f_k)
            tb = theta[k:, k:]
            dd = d[occ]
            # Cov of (W_b - d . W) over occupied bins
            td = tb @ dd
            var = np.diag(tb) - 2.0 * td + float(dd @ td)
            sigma = np.full(b.n, np.nan)
            sigma[occ] = np.sqrt(np.clip(var, 0.0, None))
            tk = theta[:k, :k]
            sigma_f = np.sqrt(np.clip(np.diag(tk) + tk[0, 0] - 2.0 * tk[:, 0], 0.0, None))
        elif uncertainty is not None:
            raise PMFInputError(f"uncertainty must be 'analytic' or None, got {uncertainty!r}")
        warn_empty_bins(counts, b, "MBAR")
        return PMFResult(
            grid=b.centers,
            edges=b.edges,
            pmf=pmf,
            sigma=sigma,
            f_k=self.f_k.copy(),
            sigma_f_k=sigma_f,
            counts=counts,
            method="MBAR" + (" (analytic sigma)" if sigma is not None else ""),
            reference=reference,
            iterations=self.passes,
            period=self.data.windows.period,
        )


def mbar(
    data: UmbrellaData,
    bins: int | np.ndarray = 100,
    range: tuple[float, float] | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    reference: str | float = "min",
    uncertainty: str | None = "analytic",
    check: bool = True,
    f_init: np.ndarray | None = None,
) -> PMFResult:
    """Potential of mean force by binless MBAR (see :class:`MBAR`), histogrammed on ``bins``."""
    est = MBAR(data, tol=tol, max_iter=max_iter, f_init=f_init, check=check)
    return est.pmf(bins, range, reference=reference, uncertainty=uncertainty)
