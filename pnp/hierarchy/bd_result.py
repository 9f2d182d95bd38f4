"""The BD-vs-PNP comparison record: one table, CSV and a plot (:class:`BDPNPComparison`)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BDPNPComparison"]

_COLUMNS = (
    "V_mV", "I_BD_pA", "I_BD_err_pA", "I_PNP_pA", "ratio", "ratio_err", "ratio_bulk",
    "ratio_bulk_err", "verdict", "worst_check", "worst_value", "worst_message",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class BDPNPComparison:
    """GCMC/BD and PNP currents on the same channel (PNP conventions).

    Voltages are ``V = phi_top - phi_bottom`` [mV] and currents [pA] are positive from top to
    bottom, for both levels. ``ratio = I_BD / I_PNP`` with the BD standard error propagated;
    ``ratio_bulk`` divides it by the BD electrolyte's measured bulk conductivity relative to
    Nernst-Einstein (``bulk_ratio``, 1 when not measured), i.e. compares BD with a PNP whose
    bulk conductivity is the BD one.

    Attributes
    ----------
    voltages, species
        PNP voltages [mV] and species names.
    i_bd, i_bd_err, i_pnp
        Total currents [pA]: BD mean and standard error, PNP.
    species_bd, species_pnp
        Per-species currents [pA], shape ``(n_voltages, n_species)``.
    bulk_ratio, bulk_ratio_err
        ``kappa_BD / kappa_NE`` (1 and 0 when not measured).
    verdicts, worst
        The diagnostics' worst verdict per voltage, and the worst finding's check, value and
        message.
    bd_results, reports
        The :class:`stochastic.bd.BDResult` and :class:`pnp.diagnostics.Report` per voltage.
    profiles
        Axial concentration profiles [mM] at the largest ``|V|``: ``{"bd": {"z", name...},
        "pnp": {...}}``.
    meta
        Geometry, electrolyte and run settings (for the record).
    """

    voltages: np.ndarray
    species: tuple[str, ...]
    i_bd: np.ndarray
    i_bd_err: np.ndarray
    i_pnp: np.ndarray
    species_bd: np.ndarray
    species_pnp: np.ndarray
    bulk_ratio: float
    bulk_ratio_err: float
    verdicts: tuple[str, ...]
    worst: tuple[tuple[str, float, str], ...]
    bd_results: tuple[Any, ...] = field(repr=False)
    reports: tuple[Any, ...] = field(repr=False)
    profiles: dict[str, dict[str, np.ndarray]] = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> np.ndarray:
        """``I_BD / I_PNP`` (NaN where ``I_PNP = 0``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.i_pnp != 0, self.i_bd / self.i_pnp, np.nan)

    @property
    def ratio_err(self) -> np.ndarray:
        """Standard error of :attr:`ratio` (from the BD error; PNP is deterministic)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.i_pnp != 0, self.i_bd_err / np.abs(self.i_pnp), np.nan)

    @property
    def ratio_bulk(self) -> np.ndarray:
        """:attr:`ratio` over the BD bulk-conductivity ratio."""
        return self.ratio / self.bulk_ratio

    @property
    def ratio_bulk_err(self) -> np.ndarray:
        """Standard error of :attr:`ratio_bulk` (both errors, added in quadrature)."""
        rel = np.hypot(self.ratio_err / np.abs(self.ratio), self.bulk_ratio_err / self.bulk_ratio)
        return np.abs(self.ratio_bulk) * rel

    @property
    def relative_deviation(self) -> np.ndarray:
        """``|I_BD - I_PNP| / |I_PNP|``."""
        return np.abs(self.ratio - 1.0)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per voltage with the columns of :meth:`table`."""
        out = []
        for k, v in enumerate(self.voltages):
            check, value, message = self.worst[k]
            out.append(dict(zip(_COLUMNS, (
                float(v), float(self.i_bd[k]), float(self.i_bd_err[k]), float(self.i_pnp[k]),
                float(self.ratio[k]), float(self.ratio_err[k]), float(self.ratio_bulk[k]),
                float(self.ratio_bulk_err[k]), self.verdicts[k], check, value, message,
            ), strict=True)))  # fmt: skip
        return out

    def table(self) -> str:
        """A printable table (one line per voltage)."""
        head = (
            f"{'V [mV]':>8} {'I_BD [pA]':>18} {'I_PNP [pA]':>11} {'BD/PNP':>14} "
            f"{'BD/PNP bulk':>14}  verdict (worst check: value)"
        )
        lines = [head]
        for row in self.rows():
            lines.append(
                f"{row['V_mV']:8.1f} {row['I_BD_pA']:9.2f} +- {row['I_BD_err_pA']:5.2f} "
                f"{row['I_PNP_pA']:11.2f} {row['ratio']:6.3f} +- {row['ratio_err']:5.3f} "
                f"{row['ratio_bulk']:6.3f} +- {row['ratio_bulk_err']:5.3f}  {row['verdict']} "
                f"({row['worst_check']}: {row['worst_value']:.3g})"
            )
        lines.append(f"BD bulk conductivity / Nernst-Einstein: {self.bulk_ratio:.3f} +- "
                     f"{self.bulk_ratio_err:.3f}")  # fmt: skip
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write :meth:`rows` as CSV; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(_COLUMNS))
            writer.writeheader()
            writer.writerows(self.rows())
        return path

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """I-V (BD with error bars, PNP, PNP scaled by the bulk ratio) and axial profiles."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        order = np.argsort(self.voltages)
        v = self.voltages[order]
        ax1.errorbar(v, self.i_bd[order], yerr=self.i_bd_err[order], fmt="o", label="BD")
        ax1.plot(v, self.i_pnp[order], "-", label="PNP")
        if self.bulk_ratio != 1.0:
            ax1.plot(v, self.bulk_ratio * self.i_pnp[order], "--", label="PNP x kappa_BD/kappa_NE")
        ax1.set(xlabel="V = phi_top - phi_bottom [mV]", ylabel="I [pA]")
        ax1.legend()
        for level, style in (("bd", "-"), ("pnp", "--")):
            prof = self.profiles.get(level, {})
            for name in self.species:
                if name in prof:
                    ax2.plot(prof["z"], prof[name], style, label=f"{level.upper()} {name}")
        ax2.set(xlabel="z [nm]", ylabel="c [mM]")
        ax2.legend(fontsize=8)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig
