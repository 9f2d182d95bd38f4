"""Matplotlib figures for continuum results: axial profiles, I-V curves, conductance sweeps.

Functions take plain arrays (so they serve PB, PNP, studies and the 1D level alike), write a PNG
and return its path. They use the non-interactive Agg backend and should be called on one MPI
rank only (callers pass ``comm`` to :func:`on_root` or check the rank themselves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def _shade(ax, span: tuple[float, float] | None, label: str = "membrane") -> None:
    if span is not None:
        ax.axvspan(span[0], span[1], color="0.9", zorder=0, label=label)


def plot_axial_profiles(
    z: Sequence[float],
    potential_mV: Sequence[float],
    concentrations_mM: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    membrane: tuple[float, float] | None = None,
    title: str = "",
) -> Path:
    """Potential and concentrations along the pore axis (two stacked panels).

    Parameters
    ----------
    z
        Axial positions [nm].
    potential_mV
        Potential at ``z`` [mV].
    concentrations_mM
        Species name -> concentration at ``z`` [mM].
    path
        PNG file to write.
    membrane
        ``(z_bottom, z_top)`` of the membrane, shaded in both panels.
    title
        Figure title.
    """
    z = np.asarray(z, dtype=float)
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.0))
    _shade(ax1, membrane)
    ax1.plot(z, np.asarray(potential_mV, dtype=float), color="k")
    ax1.set_ylabel("potential [mV]")
    _shade(ax2, membrane, label="_nolegend_")
    for name, c in concentrations_mM.items():
        ax2.semilogy(z, np.maximum(np.asarray(c, dtype=float), 1e-12), label=name)
    ax2.set_xlabel("z along the pore axis [nm]")
    ax2.set_ylabel("concentration [mM]")
    ax2.legend(loc="best")
    if membrane is not None:
        ax1.legend(loc="best")
    if title:
        ax1.set_title(title)
    return _save(fig, path)


def plot_transport_profiles(
    pmfs: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float] | None]],
    diffusivities: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float] | None]],
    path: str | Path,
    *,
    membrane: tuple[float, float] | None = None,
    title: str = "",
) -> Path:
    """W(z) and D(z) of several species with their error bars (two stacked panels).

    Parameters
    ----------
    pmfs
        Species -> ``(z [nm], W [kT], sigma_W [kT] or None)``.
    diffusivities
        Species -> ``(z [nm], D [nm^2/ns], sigma_D or None)``.
    path
        PNG file to write.
    membrane
        ``(z_bottom, z_top)``, shaded.
    title
        Figure title.
    """
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.0))
    _shade(ax1, membrane)
    _shade(ax2, membrane, label="_nolegend_")
    for name, (z, w, sw) in pmfs.items():
        z, w = np.asarray(z, dtype=float), np.asarray(w, dtype=float)
        (line,) = ax1.plot(z, w, label=name)
        if sw is not None:
            sw = np.asarray(sw, dtype=float)
            ax1.fill_between(z, w - sw, w + sw, color=line.get_color(), alpha=0.25, lw=0)
    for name, (z, d, sd) in diffusivities.items():
        ax2.errorbar(np.asarray(z), np.asarray(d), yerr=sd, fmt="o-", ms=3, capsize=2, label=name)
    ax1.set_ylabel("W [kT]")
    ax1.legend(loc="best")
    ax2.set_xlabel("z along the pore axis [nm]")
    ax2.set_ylabel("D [nm^2/ns]")
    ax2.legend(loc="best")
    if title:
        ax1.set_title(title)
    return _save(fig, path)


def plot_iv(
    voltage_mV: Sequence[float],
    currents_pA: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """Current-voltage curves; ``currents_pA`` maps a label (``"total"``, a species) to currents."""
    v = np.asarray(voltage_mV, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.axvline(0.0, color="0.7", lw=0.8)
    for label, i in currents_pA.items():
        style = {"color": "k", "lw": 2} if label == "total" else {}
        ax.plot(v, np.asarray(i, dtype=float), "o-", label=label, **style)
    ax.set_xlabel("applied voltage [mV]")
    ax.set_ylabel("current [pA]")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_conductance(
    concentration_mM: Sequence[float],
    conductance_pS: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """Conductance against bath concentration on log-log axes."""
    c = np.asarray(concentration_mM, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    for label, g in conductance_pS.items():
        ax.loglog(c, np.asarray(g, dtype=float), "o-", label=label)
    ax.set_xlabel("bath concentration [mM]")
    ax.set_ylabel("conductance [pS]")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_convergence(
    h: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    orders: Mapping[str, float] | None = None,
    title: str = "",
    ylabel: str = "error",
) -> Path:
    """Errors against mesh size on log-log axes, with the fitted orders in the legend.

    ``ylabel`` should say which error of which observable (e.g. "relative error of current_pA
    vs the Richardson extrapolation").
    """
    h = np.asarray(h, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    for label, e in errors.items():
        tag = f"{label} (order {orders[label]:.2f})" if orders and label in orders else label
        ax.loglog(h, np.asarray(e, dtype=float), "o-", label=tag)
    ax.set_xlabel("mesh size h [nm]")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return _save(fig, path)
