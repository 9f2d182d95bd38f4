"""Targets from reference data: RDFs between bead types, pressure and D with uncertainties.

The RDF convention is that of :func:`stochastic.md.observers.rdf` (same bins, same ideal-gas
normalisation ``N_a N_b' 4 pi r^2 dr / V`` with ``N_b' = N_b - 1`` for a == b); the pair
histogram is a numba loop here because IBI evaluates many RDFs (the test suite checks both
agree). Diffusion coefficients reuse :func:`stochastic.md.observers.msd` and
:func:`~stochastic.md.observers.diffusion_coefficient`; the uncertainty comes from splitting the
particles into independent groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from stochastic.cg.errors import CGInputError
from stochastic.md.observers import block_average, diffusion_coefficient, msd
from stochastic.md.system import Box


@dataclass(frozen=True)
class RDF:
    """A radial distribution function on a fixed binning.

    Attributes
    ----------
    edges
        Bin edges [nm] (uniform, starting at 0).
    g
        g(r) per bin.
    pair
        The two bead type names.
    counts
        Raw pair counts per bin (for error estimates and empty-bin checks).
    frame_counts
        Pair counts per frame and bin (F, n_bins) [pairs, each once], kept when asked for:
        their covariance is the response matrix of inverse Monte Carlo.
    ideal
        Ideal-gas pair count per frame and bin (so ``g = mean(frame_counts) / ideal``).
    g_error
        Standard error of ``g`` per bin from block averages over the frames (None if unknown):
        the statistical noise floor that convergence criteria compare with.
    """

    edges: np.ndarray
    g: np.ndarray
    pair: tuple[str, str] = ("A", "A")
    counts: np.ndarray | None = None
    frame_counts: np.ndarray | None = None
    ideal: np.ndarray | None = None
    g_error: np.ndarray | None = None

    def __post_init__(self) -> None:
        e = np.asarray(self.edges, dtype=float)
        g = np.asarray(self.g, dtype=float)
        if e.ndim != 1 or len(e) < 3 or g.shape != (len(e) - 1,):
            raise CGInputError(
                f"RDF needs n_bins + 1 edges and n_bins values, got {e.shape} and {g.shape}"
            )
        if not np.allclose(np.diff(e), e[1] - e[0], rtol=1e-9, atol=1e-12):
            raise CGInputError("RDF bins must be uniform")
        if np.any(~np.isfinite(g)) or np.any(g < 0):
            raise CGInputError("RDF values must be finite and >= 0")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "g", g)
        object.__setattr__(self, "pair", tuple(self.pair))

    @property
    def r(self) -> np.ndarray:
        """Bin centres [nm]."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def bin_width(self) -> float:
        """Bin width [nm]."""
        return float(self.edges[1] - self.edges[0])

    @property
    def r_max(self) -> float:
        """Outer edge [nm]."""
        return float(self.edges[-1])

    def check_same_grid(self, other: RDF) -> None:
        """Raise :class:`CGInputError` unless ``other`` uses exactly the same bins."""
        if self.edges.shape != other.edges.shape or not np.allclose(
            self.edges, other.edges, rtol=0, atol=1e-9
        ):
            raise CGInputError(
                f"RDF grids differ: {len(self.edges) - 1} bins up to {self.r_max:g} nm "
                f"(width {self.bin_width:g}) vs {len(other.edges) - 1} bins up to "
                f"{other.r_max:g} nm (width {other.bin_width:g}); compute both RDFs with the "
                "same r_max and bin width"
            )


def rdf_rms(a: RDF, b: RDF) -> float:
    """Root-mean-square difference of two RDFs on the same grid (over all bins)."""
    a.check_same_grid(b)
    return float(np.sqrt(np.mean((a.g - b.g) ** 2)))


def rdf_noise(a: RDF, b: RDF) -> float:
    """Expected :func:`rdf_rms` of two independent estimates of the same g(r).

    ``sqrt(mean(se_a^2 + se_b^2))`` from the per-bin standard errors (``RDF.g_error``); nan when
    either RDF carries no error. An RMS distance near this value means the two RDFs agree within
    their statistical noise.
    """
    a.check_same_grid(b)
    if a.g_error is None or b.g_error is None:
        return float("nan")
    return float(np.sqrt(np.mean(a.g_error**2 + b.g_error**2)))


def block_error(per_frame: np.ndarray, n_blocks: int = 8) -> np.ndarray:
    """Standard error of the mean over axis 0 of a (F, ...) series from ``n_blocks`` blocks.

    Block averaging (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)) accounts for the
    time correlation of successive frames as long as a block is longer than the correlation
    time. Fewer frames than blocks give nan.
    """
    x = np.asarray(per_frame, float)
    if len(x) < n_blocks or n_blocks < 2:
        return np.full(x.shape[1:], np.nan)
    m = len(x) // n_blocks
    blocks = x[: m * n_blocks].reshape(n_blocks, m, *x.shape[1:]).mean(1)
    return blocks.std(0, ddof=1) / math.sqrt(n_blocks)


@njit(cache=True)
def _pair_histogram(frames, idx_a, idx_b, same, lengths, inv, r_max, n_bins, hist):
    """Per-frame pair counts ``hist[f, k]`` (each unordered pair once when ``same``)."""
    dr = r_max / n_bins
    r2max = r_max * r_max
    for f in range(frames.shape[0]):
        for ka in range(idx_a.shape[0]):
            i = idx_a[ka]
            k0 = ka + 1 if same else 0
            for kb in range(k0, idx_b.shape[0]):
                j = idx_b[kb]
                if j == i:
                    continue
                dx = frames[f, j, 0] - frames[f, i, 0]
                dy = frames[f, j, 1] - frames[f, i, 1]
                dz = frames[f, j, 2] - frames[f, i, 2]
                dx -= lengths[0] * np.rint(dx * inv[0])
                dy -= lengths[1] * np.rint(dy * inv[1])
                dz -= lengths[2] * np.rint(dz * inv[2])
                r2 = dx * dx + dy * dy + dz * dz
                if r2 < r2max:
                    k = int(math.sqrt(r2) / dr)
                    if k < n_bins:
                        hist[f, k] += 1.0


def compute_rdf(
    frames: np.ndarray,
    box: Box,
    idx_a: np.ndarray,
    idx_b: np.ndarray | None = None,
    r_max: float = 2.5,
    bin_width: float = 0.02,
    pair: tuple[str, str] = ("A", "A"),
    keep_frames: bool = False,
    n_blocks: int = 8,
) -> RDF:
    """g_ab(r) averaged over ``frames`` (F, N, 3) [nm], bins of ``bin_width`` up to ``r_max``.

    ``idx_b = None`` means the same set as ``idx_a``. ``r_max / bin_width`` must be an integer
    (so that targets and CG RDFs share one grid) and ``r_max`` at most half the shortest box side.
    With ``keep_frames`` the per-frame pair counts are kept (inverse Monte Carlo). The per-bin
    standard error ``g_error`` comes from ``n_blocks`` block averages (nan with fewer frames).
    """
    x = np.ascontiguousarray(np.asarray(frames, dtype=float).reshape(-1, *np.shape(frames)[-2:]))
    if r_max > 0.5 * min(box.lengths) + 1e-12:
        raise CGInputError(
            f"r_max {r_max} nm exceeds half the box ({0.5 * min(box.lengths)} nm); lower r_max"
        )
    n_bins = round(r_max / bin_width)
    if n_bins < 2 or not math.isclose(n_bins * bin_width, r_max, rel_tol=1e-9):
        raise CGInputError(
            f"r_max ({r_max}) must be an integer multiple (>= 2) of bin_width ({bin_width})"
        )
    ia = np.asarray(idx_a, dtype=np.int64)
    ib = ia if idx_b is None else np.asarray(idx_b, dtype=np.int64)
    same = bool(np.array_equal(ia, ib))
    per_frame = np.zeros((len(x), n_bins))
    _pair_histogram(
        x, ia, ib, same, box.lengths_array(), box.inverse_periodic(), r_max, n_bins, per_frame
    )
    edges = np.linspace(0.0, r_max, n_bins + 1)
    shell = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    nb = len(ib) - (1 if same else 0)
    # ideal-gas count of (unordered, if same) pairs per frame
    ideal = len(ia) * nb * shell / box.volume / (2.0 if same else 1.0)
    hist = per_frame.sum(0)
    err = block_error(per_frame / ideal, n_blocks)
    frames_kept = per_frame if keep_frames else None
    return RDF(edges, hist / (len(x) * ideal), pair, hist, frames_kept, ideal, err)


def check_target(target: RDF, g_min: float = 0.0) -> int:
    """Index of the first populated bin of a target RDF; raise on empty bins after it.

    Leading empty bins (the excluded core) are normal and handled by extrapolation; an empty
    bin *after* the first populated one means the reference was sampled too briefly (or the
    bins are too fine) and its Boltzmann inversion would be infinite.
    """
    filled = target.g > g_min
    if not np.any(filled):
        raise CGInputError(f"target RDF {target.pair} is empty: no pair within {target.r_max} nm")
    first = int(np.argmax(filled))
    holes = np.flatnonzero(~filled[first:]) + first
    if len(holes):
        r = target.r[holes]
        raise CGInputError(
            f"target RDF {target.pair} has {len(holes)} empty bin(s) beyond the core, at r = "
            f"{np.array2string(r[:5], precision=3)} nm: sample the reference longer or use "
            "wider bins"
        )
    return first


@dataclass(frozen=True)
class Estimate:
    """A mean with its standard error."""

    value: float
    error: float


def pressure_estimate(series: np.ndarray, n_blocks: int = 5) -> Estimate:
    """Mean pressure and block-average standard error from a time series."""
    m, e = block_average(np.asarray(series, float), n_blocks)
    return Estimate(m, e)


def diffusion_estimate(
    unwrapped: np.ndarray,
    frame_dt: float,
    fit_start: float,
    fit_end: float,
    n_groups: int = 4,
) -> Estimate:
    """Self-diffusion coefficient [nm^2/ps] with its standard error.

    The MSD of unwrapped positions (F, N, 3) is fitted between ``fit_start`` and ``fit_end``
    [ps] (``frame_dt`` [ps] between frames); the error is the standard error over ``n_groups``
    disjoint groups of particles (each fitted alone).
    """
    x = np.asarray(unwrapped, float)
    if x.ndim != 3 or x.shape[2] != 3:
        raise CGInputError(f"need unwrapped positions (F, N, 3), got {x.shape}")
    max_lag = math.ceil(fit_end / frame_dt - 1e-9)
    if max_lag >= len(x):
        raise CGInputError(
            f"fit_end {fit_end} ps needs {max_lag + 1} frames, the trajectory has {len(x)}"
        )
    t = np.arange(max_lag + 1) * frame_dt
    d_all = diffusion_coefficient(t, msd(x, max_lag), fit_start, fit_end)
    if n_groups < 2 or x.shape[1] < n_groups:
        return Estimate(d_all, float("nan"))
    groups = np.array_split(np.arange(x.shape[1]), n_groups)
    ds = [diffusion_coefficient(t, msd(x[:, g], max_lag), fit_start, fit_end) for g in groups]
    return Estimate(d_all, float(np.std(ds, ddof=1) / math.sqrt(n_groups)))
