"""Histogram overlap between neighbouring umbrella windows, with a warning that names the gaps."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import WindowOverlapWarning
from stochastic.pmf.windows import wrap

__all__ = ["OverlapReport", "check_overlap"]


@dataclass(frozen=True)
class OverlapReport:
    """Overlap of each pair of neighbouring windows (sorted by centre).

    ``pairs[i] = (k, j)`` are window indices, ``overlap[i]`` is the overlap coefficient
    ``sum_b min(p_k(b), p_j(b))`` of their normalised histograms (1: identical, 0: disjoint).
    """

    pairs: tuple[tuple[int, int], ...]
    overlap: np.ndarray
    threshold: float

    @property
    def gaps(self) -> tuple[tuple[int, int], ...]:
        """Neighbour pairs whose overlap is below the threshold."""
        return tuple(p for p, o in zip(self.pairs, self.overlap, strict=True) if o < self.threshold)


def check_overlap(
    data: UmbrellaData, threshold: float = 0.03, n_bins: int = 200, warn: bool = True
) -> OverlapReport:
    """Measure the histogram overlap of neighbouring windows and warn about gaps.

    Parameters
    ----------
    data : UmbrellaData
        Samples per window.
    threshold : float
        Overlap coefficient under which a pair counts as a gap (default 3 %).
    n_bins : int
        Histogram bins over the sampled range (or over one period).
    warn : bool
        Emit a :class:`WindowOverlapWarning` naming each gap.
    """
    wins = data.windows
    period = wins.period
    order = np.argsort(wins.centers, kind="stable")
    pairs = [(int(order[i]), int(order[i + 1])) for i in range(len(order) - 1)]
    if period is not None and len(order) > 2:
        pairs.append((int(order[-1]), int(order[0])))
    if period is None:
        lo = min(float(s.min()) for s in data.samples)
        hi = max(float(s.max()) for s in data.samples)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, n_bins + 1)
        hists = [np.histogram(s, edges)[0] / s.size for s in data.samples]
    else:
        lo = wins.centers[order[0]]
        edges = np.linspace(lo, lo + period, n_bins + 1)
        hists = [np.histogram(lo + np.mod(s - lo, period), edges)[0] / s.size for s in data.samples]
    ov = np.array([np.minimum(hists[k], hists[j]).sum() for k, j in pairs])
    report = OverlapReport(tuple(pairs), ov, float(threshold))
    if warn:
        for (k, j), o in zip(pairs, ov, strict=True):
            if o >= threshold:
                continue
            sk, sj = data.samples[k], data.samples[j]
            ck, cj = wins.centers[k], wins.centers[j]
            if period is None:
                end_k, start_j = float(sk.max()), float(sj.min())
            else:
                end_k = ck + float(wrap(sk - ck, period).max())
                start_j = ck + float(np.mod(sj - ck, period).min())
            mid = 0.5 * (ck + cj) if period is None else ck + 0.5 * float(wrap(cj - ck, period))
            where = (
                f"the interval [{end_k:.4g}, {start_j:.4g}] between them is not sampled at all"
                if start_j > end_k
                else f"only {100 * o:.2g}% of their histograms overlap"
            )
            warnings.warn(
                f"umbrella windows {k} (centre {ck:.4g}) and {j} (centre {cj:.4g}) barely overlap "
                f"(overlap {o:.3g} < {threshold:g}): {where}. The PMF across this gap is "
                f"unreliable: add a window near xi = {mid:.4g}, soften the spring constants, or "
                "sample longer.",
                WindowOverlapWarning,
                stacklevel=2,
            )
    return report
