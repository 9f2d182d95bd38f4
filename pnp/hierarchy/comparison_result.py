"""The result of :func:`pnp.hierarchy.chain_comparison.compare_with_pnp`: a table and figures.

:class:`ChainPNPComparison` holds the currents, conductances, axial profiles and diagnostics'
verdicts of the 1D chain and of PNP (without and with the PMF) on one channel, all in the PNP
conventions (voltage ``phi_top - phi_bottom`` [mV], current positive top -> bottom [pA]);
:func:`plot_comparison` draws its I-V curves and axial profiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ChainPNPComparison", "plot_comparison"]


# ----------------------------------------------------------------------------- comparison
@dataclass(frozen=True)
class ChainPNPComparison:
    """The 1D chain next to PNP (without and with the PMF) on one channel; PNP conventions.

    Attributes
    ----------
    voltages
        PNP voltages ``phi_top - phi_bottom`` [mV].
    species
        Species in the comparison (those of the PNP problem).
    currents
        Model label -> species (and ``"total"``) -> currents [pA] at ``voltages`` (positive top ->
        bottom). Labels: ``"chain"``, ``"pnp"``, ``"pnp+pmf"`` (when solved).
    chain_std
        ``"total"`` and species -> bootstrap standard deviation of the chain currents [pA]
        (empty without bootstrap).
    conductance
        Model label -> ``I/V`` [pS] (NaN at 0 mV); also ``"chain+access"``: the chain in series
        with Hall's access resistance ``1/(2 kappa a)``, ``a = sqrt(A/pi)``.
    access_pS
        Hall access conductance ``2 kappa a`` [pS] of the top bath.
    ohmic_pS
        Conductance [pS] of the water domain as an Ohmic conductor with the top bath's
        conductivity (:func:`pnp.results.currents.ohmic_conductance`): the high-salt limit of
        ``"pnp"``.
    profile_voltage
        Voltage [mV] of the axial profiles.
    profiles
        Model label -> ``{"z": ..., <species>: c [mM]}`` along the mesh axis: PNP cross-section
        averages and the chain's steady density (its concentration per reference area, or, when
        ``pmf_options`` give ``confinement_area`` and ``reference_area_nm2``, per open
        cross-section ``A(z)``: the quantity PNP's cross-section average measures).
    verdicts
        PNP label -> diagnostics verdict (``"ok"``, ``"note"``, ``"warning"``, ``"breakdown"``).
    reports
        PNP label -> :class:`pnp.diagnostics.Report` at ``profile_voltage``.
    chain_species
        Species that have a chain profile from particle data (others got a flat profile or none).
    """

    voltages: np.ndarray
    species: tuple[str, ...]
    currents: dict[str, dict[str, np.ndarray]]
    chain_std: dict[str, np.ndarray]
    conductance: dict[str, np.ndarray]
    access_pS: float
    ohmic_pS: float
    profile_voltage: float
    profiles: dict[str, dict[str, np.ndarray]]
    verdicts: dict[str, str]
    reports: dict[str, Any] = field(repr=False)
    chain_species: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        """Model labels with currents."""
        return tuple(self.currents)

    def rows(self) -> np.ndarray:
        """Tidy structured array: one row per (model, voltage) with total and species currents
        [pA] and conductance [pS]."""
        dtype = [
            ("model", "U16"),
            ("voltage_mV", "f8"),
            ("current_pA", "f8"),
            ("conductance_pS", "f8"),
        ] + [(f"I_{s}_pA", "f8") for s in self.species]
        rows = []
        for model, cur in self.currents.items():
            for i, v in enumerate(self.voltages):
                rows.append(
                    (
                        model,
                        v,
                        cur["total"][i],
                        self.conductance[model][i],
                        *(cur[s][i] if s in cur else np.nan for s in self.species),
                    )
                )
        return np.array(rows, dtype=dtype)

    def ratio(self, model: str, reference: str = "chain") -> np.ndarray:
        """Conductance ratio ``G_model / G_reference`` at each voltage."""
        return self.conductance[model] / self.conductance[reference]

    def table(self, digits: int = 5) -> str:
        """A printable table: currents and conductances of every model, then the verdicts.

        ``digits``: significant digits of the currents and conductances (print no more than the
        mesh resolves: see the mesh convergence of the worked example, ``docs/hierarchy.md``).
        """
        d = int(digits)
        models = [*self.currents, "chain+access"]
        head = f"{'V [mV]':>8} " + " ".join(f"{'I ' + m + ' [pA]':>18}" for m in self.currents)
        head += " " + " ".join(f"{'G ' + m + ' [pS]':>20}" for m in models)
        lines = [head]
        for i, v in enumerate(self.voltages):
            cells = []
            for m in self.currents:
                s = f"{self.currents[m]['total'][i]:.{d}g}"
                if m == "chain" and "total" in self.chain_std:
                    s += f"+-{self.chain_std['total'][i]:.2g}"
                cells.append(f"{s:>18}")
            line = f"{v:8.2f} " + " ".join(cells)
            line += " " + " ".join(f"{self.conductance[m][i]:20.{d}g}" for m in models)
            lines.append(line)
        lines.append(f"Hall access conductance 2 kappa a = {self.access_pS:.5g} pS")
        lines.append(f"Ohmic conductance of the water domain = {self.ohmic_pS:.5g} pS")
        for label, verdict in self.verdicts.items():
            report = self.reports.get(label)
            checks = sorted({f.check for f in report.problems()}) if report is not None else []
            why = f" ({', '.join(checks)})" if checks else ""
            lines.append(f"diagnostics ({label}, {self.profile_voltage:g} mV): {verdict}{why}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- figures
def plot_comparison(
    result: ChainPNPComparison,
    folder: str | Path,
    *,
    membrane: tuple[float, float] | None = None,
    prefix: str = "chain_vs_pnp",
) -> list[Path]:
    """Write the I-V curves and the axial concentration profiles of a comparison (PNG).

    ``<prefix>_iv.png`` (total current of every model, the chain with its bootstrap std; each
    legend entry names the species the curve carries) and
    ``<prefix>_profiles.png`` (one panel per species: chain steady density, PNP, PNP + PMF, with
    the diagnostics' verdicts in the legend). Call on one MPI rank only. Returns the paths.
    """
    from pnp.results import plots

    folder = Path(folder)
    plt = plots.plt
    species = result.species
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.axvline(0.0, color="0.7", lw=0.8)
    for label, cur in result.currents.items():
        err = result.chain_std.get("total") if label == "chain" else None
        carried = result.chain_species if label == "chain" and result.chain_species else species
        tag = f"{label}: {' + '.join(carried)}"
        ax.errorbar(result.voltages, cur["total"], yerr=err, fmt="o-", capsize=3, label=tag)
    ax.set_xlabel("applied voltage phi_top - phi_bottom [mV]")
    ax.set_ylabel("current [pA] (top -> bottom)")
    ax.legend(loc="best")
    ax.set_title("1D chain vs PNP: current of the species in the legend")
    iv_path = plots._save(fig, folder / f"{prefix}_iv.png")
    fig, axes = plt.subplots(len(species), 1, sharex=True, figsize=(6.4, 2.6 * len(species) + 0.6))
    axes = np.atleast_1d(axes)
    styles = {
        "chain": {"color": "k", "ls": "--"},
        "pnp": {"color": "C0"},
        "pnp+pmf": {"color": "C3"},
    }
    for ax, name in zip(axes, species, strict=True):
        plots._shade(ax, membrane)
        for label, prof in result.profiles.items():
            if name not in prof:
                continue
            tag = f"{label}: {name}"
            if label in result.verdicts:
                tag += f" (diagnostics: {result.verdicts[label]})"
            ax.plot(prof["z"], prof[name], label=tag, **styles.get(label, {}))
        ax.set_ylabel(f"c({name}) [mM]")
        ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("z along the pore axis [nm]")
    axes[0].set_title(f"axial profiles at {result.profile_voltage:g} mV")
    prof_path = plots._save(fig, folder / f"{prefix}_profiles.png")
    return [iv_path, prof_path]
