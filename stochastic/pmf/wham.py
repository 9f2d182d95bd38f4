"""Binned WHAM (Kumar et al., J. Comput. Chem. 13, 1011 (1992)) in log space.

With histograms ``H_kb`` of window ``k`` in bin ``b``, ``N_k = sum_b H_kb``, ``H_b = sum_k H_kb``
and reduced biases ``u_kb`` at the bin centres, the self-consistent equations are::

    p_b   = H_b / sum_k N_k exp(f_k - u_kb)
    f_k   = -ln sum_b p_b exp(-u_kb)

They are evaluated with ``scipy.special.logsumexp`` so no exponential overflows. Two solvers reach
the same fixed point: ``method="sci"`` iterates the equations (slow for many windows, but the
classical algorithm), ``method="newton"`` (default) minimises the convex function whose
stationarity condition they are (Zhu & Hummer, J. Comput. Chem. 33, 453 (2012)) by trust-region
Newton. Either way convergence is declared on the self-consistency residual.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from scipy.special import logsumexp

from stochastic.pmf import core
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import BinningWarning, EstimatorConvergenceError, PMFInputError
from stochastic.pmf.overlap import check_overlap
from stochastic.pmf.result import Bins, PMFResult, apply_gauge, gauge_vector, make_bins
from stochastic.pmf.windows import WindowSet

log = logging.getLogger(__name__)

__all__ = ["histograms", "warn_empty_bins", "wham"]


def histograms(data: UmbrellaData, bins: Bins) -> np.ndarray:
    """Weighted histogram ``H_kb`` of every window on ``bins``: shape (K, B)."""
    out = np.zeros((data.n_windows, bins.n))
    for k, x in enumerate(data.samples):
        idx = bins.index(x)
        keep = idx >= 0
        w = None if data.weights is None else data.weights[k][keep]
        out[k] = np.bincount(idx[keep], weights=w, minlength=bins.n)
    return out


def warn_empty_bins(counts: np.ndarray, bins: Bins, label: str) -> None:
    """Warn (:class:`BinningWarning`) when bins hold no sample; their PMF is inf (sigma NaN)."""
    empty = np.flatnonzero(np.asarray(counts) <= 0)
    if not empty.size:
        return
    e = bins.edges
    runs = np.split(empty, np.flatnonzero(np.diff(empty) > 1) + 1)
    spans = ", ".join(f"[{e[r[0]]:.4g}, {e[r[-1] + 1]:.4g}]" for r in runs[:5])
    more = f" and {len(runs) - 5} more" if len(runs) > 5 else ""
    warnings.warn(
        f"{label}: {empty.size} of {bins.n} bins hold no sample ({spans}{more}); the PMF is "
        "inf and its sigma NaN there. Narrow the histogram range to the sampled one or add "
        "windows that cover these bins.",
        BinningWarning,
        stacklevel=3,
    )


def _wham_states(
    data: UmbrellaData, bins: Bins
) -> tuple[core.HarmonicStates, np.ndarray, np.ndarray, np.ndarray]:
    """States over the occupied bins; windows without samples in the range are left out.

    Returns ``(states, h_b, occupied_bins, active_windows)``.
    """
    h_kb = histograms(data, bins)
    n_k = h_kb.sum(axis=1)
    active = n_k > 0
    if not active.any():
        raise PMFInputError(
            f"no window has samples inside the histogram range "
            f"[{bins.edges[0]:g}, {bins.edges[-1]:g}]: widen the range"
        )
    windows = data.windows
    if not active.all():
        log.info(
            "WHAM: windows %s have no samples in [%g, %g] and are left out (f_k = NaN)",
            np.flatnonzero(~active).tolist(),
            bins.edges[0],
            bins.edges[-1],
        )
        windows = WindowSet(
            tuple(w for w, a in zip(windows, active, strict=True) if a), windows.temperature
        )
    h_b = h_kb.sum(axis=0)
    occupied = h_b > 0
    states = core.HarmonicStates(windows, bins.centers[occupied], h_b[occupied], n_k[active])
    return states, h_b, occupied, active


def solve_wham(
    data: UmbrellaData,
    bins: Bins,
    *,
    tol: float = 1e-8,
    max_iter: int = 100_000,
    method: str = "newton",
    f_init: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Free energies ``f_k`` (kT, ``f_0 = 0``) of the windows by binned WHAM, and the iterations."""
    states, _, _, active = _wham_states(data, bins)
    k = int(active.sum())
    f = np.zeros(k)
    if f_init is not None:
        f = np.asarray(f_init, float)[active]
        f = np.where(np.isfinite(f), f - f[0], 0.0)
    f_full = np.full(data.n_windows, np.nan)
    if method == "newton":
        f, _, n_it, _ = core.solve(states, f, tol=tol, max_iter=min(max_iter, 1000), label="WHAM")
        f_full[active] = f
        return f_full, n_it
    if method != "sci":
        raise PMFInputError(f"method must be 'newton' or 'sci', got {method!r}")
    history: list[float] = []
    for it in range(1, max_iter + 1):
        new = core.self_consistent_step(states, f)
        delta = float(np.max(np.abs(new - f)))
        history.append(delta)
        f = new
        if not np.isfinite(delta):
            break
        if delta < tol:
            f_full[active] = f
            return f_full, it
    raise EstimatorConvergenceError(
        f"WHAM (self-consistent iteration) did not converge to max|df_k| < {tol:g} kT in "
        f"{len(history)} iterations (last change {history[-1]:.3g} kT). Use method='newton', "
        "raise max_iter, or check the window overlap.",
        history,
        f_k=f,
        label="WHAM self-consistent iteration",
    )


def wham(
    data: UmbrellaData,
    bins: int | np.ndarray = 100,
    range: tuple[float, float] | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 100_000,
    method: str = "newton",
    reference: str | float = "min",
    check: bool = True,
    f_init: np.ndarray | None = None,
) -> PMFResult:
    """Potential of mean force by binned WHAM.

    Parameters
    ----------
    data : UmbrellaData
        Decorrelated samples per window (see :func:`~stochastic.pmf.data.decorrelate`).
    bins : int or array
        Number of uniform bins over ``range``, or the uniform bin edges.
    range : (lo, hi), optional
        Histogram range (default: the sampled range; a periodic coordinate: one period).
    tol : float
        Convergence tolerance: max change of ``f_k`` per self-consistent iteration (kT) for
        ``method="sci"``; max relative self-consistency residual for ``method="newton"``.
    max_iter : int
        Iteration cap; :class:`EstimatorConvergenceError` (with the history) beyond it.
    method : {"newton", "sci"}
        Solver for the WHAM equations (same fixed point).
    reference : "min", "mean" or float
        Gauge: where W = 0.
    check : bool
        Warn (:class:`WindowOverlapWarning`) about neighbouring windows that do not overlap.
    f_init : array, optional
        Starting free energies (e.g. from an earlier run).

    Windows without any sample inside ``range`` are left out of the solve (their ``f_k`` is NaN).

    Returns
    -------
    PMFResult
        ``sigma`` is None: use :func:`~stochastic.pmf.bootstrap.bootstrap_pmf` for errors.
    """
    if check:
        check_overlap(data)
    b = make_bins(data, bins, range)
    stiff = float(np.max(data.windows.kappas)) * b.width**2
    if stiff > 0.3:
        warnings.warn(
            f"WHAM bins of width {b.width:.3g} are too wide for the stiffest window "
            f"(kappa h^2 = {stiff:.2g} kT > 0.3): taking the bias at the bin centre biases the "
            f"PMF by ~{stiff / 6:.2g} kT. Use at least "
            f"{int(np.ceil(b.n * np.sqrt(stiff / 0.1)))} bins over this range, or MBAR.",
            BinningWarning,
            stacklevel=2,
        )
    f, n_it = solve_wham(data, b, tol=tol, max_iter=max_iter, method=method, f_init=f_init)
    states, h_b, occupied, active = _wham_states(data, b)
    pmf = np.full(b.n, np.inf)
    u = states.windows.reduced_bias(b.centers[occupied])
    lden = logsumexp((states.log_n_k + f[active])[:, None] - u, axis=0)
    pmf[occupied] = -(np.log(h_b[occupied]) - lden - np.log(b.width))
    pmf = apply_gauge(pmf, gauge_vector(pmf, b.centers, reference))
    warn_empty_bins(h_b, b, "WHAM")
    log.info("WHAM: %d windows, %d bins, %d iterations", data.n_windows, b.n, n_it)
    return PMFResult(
        grid=b.centers,
        edges=b.edges,
        pmf=pmf,
        sigma=None,
        f_k=f,
        sigma_f_k=None,
        counts=h_b,
        method=f"WHAM ({method})",
        reference=reference,
        iterations=n_it,
        period=data.windows.period,
    )
