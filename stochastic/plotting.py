"""Plots for the 1D stochastic models (matplotlib, imported on first use).

Every function takes an optional ``ax`` and returns it, so figures can be composed; nothing is
shown or saved here (use ``ax.figure.savefig``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochastic.profiles import Profile

__all__ = [
    "plot_histogram_vs_boltzmann",
    "plot_mfpt",
    "plot_profile",
    "plot_steady_state",
]


def _axes(ax):
    if ax is None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    return ax


def plot_profile(profile: Profile, ax=None, label: str | None = None, show_D: bool = True):
    """W(z) [kT] (and D(z) [nm^2/ns] on a twin axis)."""
    ax = _axes(ax)
    z = np.linspace(profile.z[0], profile.z[-1], 1000)
    (line,) = ax.plot(z, profile.W_at(z), label=label)
    ax.set_xlabel("z [nm]")
    ax.set_ylabel("W [kT]")
    if show_D:
        ax2 = ax.twinx()
        ax2.plot(z, profile.D_at(z), ls="--", color=line.get_color(), alpha=0.6)
        ax2.set_ylabel("D [nm$^2$/ns] (dashed)")
    return ax


def plot_steady_state(z: np.ndarray, c: np.ndarray, flux: float, ax=None, label: str | None = None):
    """Steady concentration c(z) [mM] with the flux in the legend."""
    ax = _axes(ax)
    ax.plot(z, c, label=f"{label or 'c'}: J = {flux:.4g} mM nm/ns")
    ax.set_xlabel("z [nm]")
    ax.set_ylabel("c [mM]")
    ax.legend()
    return ax


def plot_mfpt(x0: np.ndarray, times_ns: np.ndarray, ax=None, label: str | None = None):
    """Mean first-passage time [ns] against the start point [nm] (log scale)."""
    ax = _axes(ax)
    ax.semilogy(x0, times_ns, label=label)
    ax.set_xlabel("start point z0 [nm]")
    ax.set_ylabel("MFPT [ns]")
    return ax


def plot_histogram_vs_boltzmann(
    positions: np.ndarray, profile: Profile, bins: int | Sequence[float] = 60, ax=None
):
    """Histogram of sampled positions against the Boltzmann density ``e^{-W}/Z``."""
    ax = _axes(ax)
    ax.hist(positions, bins=bins, density=True, alpha=0.5, label="Langevin")
    z = np.linspace(profile.z[0], profile.z[-1], 1000)
    w = np.exp(-(profile.W_at(z) - profile.W.min()))
    ax.plot(z, w / np.trapezoid(w, z), label="Boltzmann")
    ax.set_xlabel("z [nm]")
    ax.set_ylabel("density [1/nm]")
    ax.legend()
    return ax
