"""Validation hygiene: compare a CG model with the reference at the fitted and held-out states.

The seed's rule: never validate on the configurations you trained on. A
:class:`StatePointComparison` holds, for one state point, the reference and CG RDFs, pressures
and (optionally) diffusion coefficients; :func:`validation_table` formats fitted and held-out
points side by side. Plot helpers draw target vs CG RDF, the potential (with an optional known
answer) and MSD curves with matplotlib (Agg backend, saved to files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stochastic.cg.tabulated import PairTable
from stochastic.cg.targets import RDF, Estimate, rdf_rms


@dataclass(frozen=True)
class StatePointComparison:
    """Reference vs CG at one state point.

    ``label`` names the state (e.g. ``"rho*=0.776 (fit)"``); ``held_out`` marks points not used
    in the fit.
    """

    label: str
    held_out: bool
    reference_rdf: RDF
    cg_rdf: RDF
    reference_pressure: Estimate
    cg_pressure: Estimate
    reference_diffusion: Estimate | None = None
    cg_diffusion: Estimate | None = None

    @property
    def rdf_rms(self) -> float:
        """RMS RDF deviation."""
        return rdf_rms(self.cg_rdf, self.reference_rdf)

    @property
    def pressure_error(self) -> float:
        """``P_CG - P_ref`` [kJ/mol/nm^3]."""
        return self.cg_pressure.value - self.reference_pressure.value

    @property
    def diffusion_ratio(self) -> float:
        """``D_CG / D_ref`` (nan without diffusion data)."""
        if self.reference_diffusion is None or self.cg_diffusion is None:
            return float("nan")
        return self.cg_diffusion.value / self.reference_diffusion.value

    def as_dict(self) -> dict[str, object]:
        """Plain numbers (JSON-friendly)."""
        return {
            "label": self.label,
            "held_out": self.held_out,
            "rdf_rms": self.rdf_rms,
            "pressure_reference": self.reference_pressure.value,
            "pressure_cg": self.cg_pressure.value,
            "pressure_error": self.pressure_error,
            "diffusion_ratio": self.diffusion_ratio,
        }


def validation_table(points: Sequence[StatePointComparison]) -> str:
    """Fitted and held-out state points side by side."""
    lines = ["state                     set       RDF rms   P_ref     P_CG      D_CG/D_ref"]
    for p in points:
        kind = "held-out" if p.held_out else "fit"
        lines.append(
            f"{p.label:25s} {kind:9s} {p.rdf_rms:.4f}   {p.reference_pressure.value:+.4f}  "
            f"{p.cg_pressure.value:+.4f}  {p.diffusion_ratio:.3f}"
        )
    return "\n".join(lines)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_rdfs(points: Sequence[StatePointComparison], path: str | Path) -> Path:
    """Reference (lines) vs CG (markers) RDF of each state point; saved to ``path``."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    for p in points:
        (line,) = ax.plot(p.reference_rdf.r, p.reference_rdf.g, label=f"{p.label} reference")
        ax.plot(p.cg_rdf.r, p.cg_rdf.g, "o", ms=2, color=line.get_color(), label=f"{p.label} CG")
    ax.set_xlabel("r [nm]")
    ax.set_ylabel("g(r)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_potential(
    tables: dict[str, PairTable], path: str | Path, exact=None, r_min: float | None = None
) -> Path:
    """Pair potentials ``{label: table}`` and optionally ``exact(r) -> U``; saved to ``path``."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, t in tables.items():
        r = t.r if r_min is None else t.r[t.r >= r_min]
        ax.plot(r, t.energy(r), label=label)
        if exact is not None:
            ax.plot(r, exact(r), "k--", lw=1, label="exact")
            exact = None
    ax.set_ylim(-1.5, 3.0)
    ax.set_xlabel("r [nm]")
    ax.set_ylabel("U [kJ/mol]")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_msd(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> Path:
    """MSD curves ``{label: (t [ps], msd [nm^2])}`` on log-log axes; saved to ``path``."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (t, m) in curves.items():
        ax.loglog(t[1:], m[1:], label=label)
    ax.set_xlabel("t [ps]")
    ax.set_ylabel("MSD [nm$^2$]")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
