"""PMF on a grid: binning of the coordinate, the gauge (where W = 0) and the result record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poreflux.units import kT_kj_per_mol
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import PMFInputError

__all__ = ["Bins", "PMFResult", "make_bins"]


@dataclass(frozen=True)
class Bins:
    """Uniform bins on ``[lo, hi)``; for a periodic coordinate ``hi - lo`` is the period."""

    edges: np.ndarray
    period: float | None = None

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def width(self) -> float:
        return float(self.edges[1] - self.edges[0])

    @property
    def n(self) -> int:
        return self.edges.size - 1

    def index(self, x: np.ndarray) -> np.ndarray:
        """Bin index of each sample, -1 outside the range (periodic: wrapped into it)."""
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        if self.period is not None:
            x = lo + np.mod(x - lo, self.period)
        idx = np.floor((x - lo) / self.width).astype(np.int64)
        idx[(idx < 0) | (idx >= self.n) | (x >= hi) | (x < lo)] = -1
        return idx


def make_bins(
    data: UmbrellaData, bins: int | np.ndarray = 100, range: tuple[float, float] | None = None
) -> Bins:
    """Uniform bins for a PMF: ``bins`` bins over ``range`` (default: the sampled range).

    For a periodic coordinate the range defaults to one period starting at the smallest window
    centre minus half a window spacing; a given range must span exactly one period.
    """
    period = data.windows.period
    if isinstance(bins, np.ndarray) or not np.isscalar(bins):
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise PMFInputError("bin edges must be a strictly increasing 1D array of >= 2 values")
        if not np.allclose(np.diff(edges), edges[1] - edges[0], rtol=1e-9, atol=0):
            raise PMFInputError("bin edges must be uniformly spaced")
    else:
        nb = int(bins)
        if nb < 2:
            raise PMFInputError(f"need at least 2 bins, got {bins}")
        if range is None:
            if period is None:
                lo = min(float(s.min()) for s in data.samples)
                hi = max(float(s.max()) for s in data.samples)
                hi = np.nextafter(hi, np.inf)
            else:
                lo = float(np.min(data.windows.centers)) - 0.5 * period / len(data.windows)
                hi = lo + period
        else:
            lo, hi = map(float, range)
            if not hi > lo:
                raise PMFInputError(f"range must have hi > lo, got {range}")
        edges = np.linspace(lo, hi, nb + 1)
    if period is not None and not np.isclose(edges[-1] - edges[0], period, rtol=1e-9):
        raise PMFInputError(
            f"for a periodic coordinate the bins must span one period ({period:g}), "
            f"got [{edges[0]:g}, {edges[-1]:g}]"
        )
    return Bins(edges, period)


def gauge_vector(pmf: np.ndarray, centers: np.ndarray, reference: str | float) -> np.ndarray:
    """Weights ``d`` such that the aligned PMF is ``W - d @ W`` (finite bins only).

    ``"min"``: zero at the minimum; ``"mean"``: zero mean over the finite bins; a number: zero in
    the bin containing that coordinate.
    """
    finite = np.isfinite(pmf)
    if not finite.any():
        raise PMFInputError("the PMF has no finite bin: no samples fall in the chosen range")
    d = np.zeros(pmf.size)
    if isinstance(reference, str):
        if reference == "min":
            d[np.flatnonzero(finite)[np.argmin(pmf[finite])]] = 1.0
        elif reference == "mean":
            d[finite] = 1.0 / finite.sum()
        else:
            raise PMFInputError(
                f"reference must be 'min', 'mean' or a coordinate, got {reference!r}"
            )
    else:
        j = int(np.argmin(np.abs(centers - float(reference)) + np.where(finite, 0, np.inf)))
        d[j] = 1.0
    return d


def apply_gauge(pmf: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``W - d @ W`` over the finite bins (infinite bins stay infinite)."""
    finite = np.isfinite(pmf)
    return np.where(finite, pmf - float(d[finite] @ pmf[finite]), pmf)


@dataclass(frozen=True)
class PMFResult:
    """A potential of mean force on a grid.

    Attributes
    ----------
    grid : (B,) array
        Bin centres (coordinate units).
    edges : (B+1,) array
        Bin edges.
    pmf : (B,) array
        W(xi) in kT, gauge set by ``reference``; ``inf`` in bins without samples.
    sigma : (B,) array or None
        Standard error of W in kT, in the same gauge (None if not computed).
    f_k : (K,) array
        Dimensionless free energies of the biased windows (kT, ``f_0 = 0``).
    sigma_f_k : (K,) array or None
        Standard error of ``f_k - f_0`` in kT.
    counts : (B,) array
        Weighted number of samples in each bin.
    method : str
        ``"WHAM"`` or ``"MBAR"`` (plus how sigma was obtained).
    reference : str or float
        Gauge of ``pmf``.
    iterations : int
        Iterations (WHAM) or passes over the samples (MBAR) the solver used.
    period : float or None
        Period of the coordinate.
    """

    grid: np.ndarray
    edges: np.ndarray
    pmf: np.ndarray
    sigma: np.ndarray | None
    f_k: np.ndarray
    sigma_f_k: np.ndarray | None
    counts: np.ndarray
    method: str
    reference: str | float
    iterations: int
    period: float | None = None

    def pmf_kj_per_mol(self, temperature: float) -> np.ndarray:
        """W(xi) in kJ/mol at ``temperature`` [K]."""
        return self.pmf * kT_kj_per_mol(temperature)

    def aligned(self, reference: str | float) -> np.ndarray:
        """The PMF in another gauge (sigma is not re-gauged: recompute it with that reference)."""
        return apply_gauge(self.pmf, gauge_vector(self.pmf, self.grid, reference))
