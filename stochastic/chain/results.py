"""Results of the chain: values with bootstrap uncertainty (:class:`Uncertain`) and I-V curves."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["ChainIV", "Uncertain"]


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Uncertain:
    """A bootstrapped observable (scalar or array; the bootstrap axis of ``samples`` is 0).

    Attributes
    ----------
    value
        From the central profiles.
    mean, std
        Mean and standard deviation (ddof = 1) over the finite bootstrap samples.
    low, high
        Percentile interval at ``level`` (e.g. 2.5 % and 97.5 %).
    samples
        ``(n_boot, ...)`` bootstrap values (empty without bootstrap: then std, low and high are
        NaN).
    level
        Coverage of ``[low, high]``.
    """

    value: Any
    mean: Any
    std: Any
    low: Any
    high: Any
    samples: np.ndarray = field(repr=False)
    level: float = 0.95

    @classmethod
    def from_samples(cls, value: Any, samples: np.ndarray, level: float = 0.95) -> Uncertain:
        """Statistics of ``samples`` (NaN/inf samples are ignored, and counted in the log)."""
        value = np.asarray(value, dtype=float)
        s = np.asarray(samples, dtype=float)
        if s.shape[0] < 2:
            nan = np.full_like(value, np.nan)
            return cls(
                _scalar(value), _scalar(value), _scalar(nan), _scalar(nan), _scalar(nan), s, level
            )
        bad = ~np.isfinite(s)
        if bad.any():
            logger.warning("%d non-finite bootstrap values left out", int(bad.sum()))
            s_use = np.where(bad, np.nan, s)
        else:
            s_use = s
        q = 50.0 * (1.0 - level)
        return cls(
            value=_scalar(value),
            mean=_scalar(np.nanmean(s_use, axis=0)),
            std=_scalar(np.nanstd(s_use, axis=0, ddof=1)),
            low=_scalar(np.nanpercentile(s_use, q, axis=0)),
            high=_scalar(np.nanpercentile(s_use, 100.0 - q, axis=0)),
            samples=s,
            level=level,
        )

    @property
    def n_boot(self) -> int:
        """Number of bootstrap samples."""
        return int(self.samples.shape[0])

    def __str__(self) -> str:
        if np.ndim(self.value) == 0:
            return (
                f"{self.value:.6g} +- {self.std:.2g} "
                f"[{self.low:.6g}, {self.high:.6g}] ({100 * self.level:.0f}%, n={self.n_boot})"
            )
        return f"Uncertain(shape={np.shape(self.value)}, n={self.n_boot})"


def _scalar(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


@dataclass(frozen=True, eq=False)
class ChainIV:
    """I-V curve of the chain: voltages [mV] and currents [pA] with uncertainties."""

    voltages: np.ndarray
    species: dict[str, Uncertain]
    total: Uncertain

    def table(self) -> str:
        """Printable table: V, total current +- std and 95% interval, species currents."""
        names = list(self.species)
        head = f"{'V [mV]':>8} {'I [pA]':>11} {'+-':>9} {'low':>11} {'high':>11} " + " ".join(
            f"{'I_' + n:>11}" for n in names
        )
        rows = [head]
        t = self.total
        for i, v in enumerate(self.voltages):
            std = np.atleast_1d(t.std)[i] if t.n_boot else float("nan")
            lo = np.atleast_1d(t.low)[i] if t.n_boot else float("nan")
            hi = np.atleast_1d(t.high)[i] if t.n_boot else float("nan")
            rows.append(
                f"{v:8.2f} {t.value[i]:11.5g} {std:9.2g} {lo:11.5g} {hi:11.5g} "
                + " ".join(f"{self.species[n].value[i]:11.5g}" for n in names)
            )
        return "\n".join(rows)
