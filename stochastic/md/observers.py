"""Observers and analysis: energy reporter, block averages, RDF, MSD, diffusion coefficient."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from poreflux.units import K_B
from stochastic.md.errors import MDInputError
from stochastic.md.system import Box

if TYPE_CHECKING:
    from stochastic.md.simulation import Simulation

#: Yeh-Hummer constant xi for a cubic periodic box (J. Phys. Chem. B 108, 15873 (2004)).
YEH_HUMMER_XI: float = 2.837297


@dataclass
class EnergyReporter:
    """Records time, energies by term, kinetic energy, temperature and pressure every ``interval``.

    After the run, :meth:`arrays` gives everything as numpy arrays (energies in kJ/mol, T in K,
    pressure in kJ/mol/nm^3).
    """

    interval: int = 100
    rows: list[dict[str, float]] = field(default_factory=list)

    def report(self, sim: Simulation) -> None:
        """Append the current observables."""
        row = {"step": float(sim.step_count), "time": sim.time}
        row.update({f"E_{k}": v for k, v in sim.result.energies.items()})
        ke = sim.kinetic_energy()
        row["E_potential"] = sim.potential_energy()
        row["E_kinetic"] = ke
        row["E_total"] = row["E_potential"] + ke
        row["temperature"] = sim.temperature()
        if sim.system.box is not None:
            row["pressure"] = sim.pressure()
        self.rows.append(row)

    def arrays(self) -> dict[str, np.ndarray]:
        """Column arrays of the recorded rows."""
        if not self.rows:
            return {}
        return {k: np.array([r[k] for r in self.rows]) for k in self.rows[0]}


@dataclass
class CVReporter:
    """Records a collective variable (anything with ``value_and_grad``) every ``interval`` steps.

    The time series of each umbrella window is what WHAM/MBAR need: ``times``, ``values``.
    """

    cv: object
    interval: int = 10
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def report(self, sim: Simulation) -> None:
        """Append the current CV value."""
        self.times.append(sim.time)
        self.values.append(self.cv.value_and_grad(sim.x)[0])  # type: ignore[attr-defined]


def block_average(x: np.ndarray, n_blocks: int = 10) -> tuple[float, float]:
    """Mean and its standard error from ``n_blocks`` block means (Flyvbjerg & Petersen 1989)."""
    x = np.asarray(x, dtype=float)
    if n_blocks < 2 or len(x) < n_blocks:
        raise MDInputError(
            f"need >= 2 blocks and at least n_blocks samples, got {n_blocks}, {len(x)}"
        )
    m = len(x) // n_blocks
    blocks = x[: m * n_blocks].reshape(n_blocks, m).mean(1)
    return float(blocks.mean()), float(blocks.std(ddof=1) / math.sqrt(n_blocks))


def rdf(
    frames: np.ndarray,
    box: Box,
    idx_a: np.ndarray,
    idx_b: np.ndarray,
    r_max: float,
    n_bins: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Radial distribution function g_ab(r) averaged over ``frames`` (F, N, 3) [nm].

    Normalised by the ideal-gas pair count ``N_a N_b' 4 pi r^2 dr / V`` (with ``N_b' = N_b - 1``
    when a == b). Returns bin centres [nm] and g.
    """
    frames = np.asarray(frames, dtype=float).reshape(-1, *np.shape(frames)[-2:])
    if r_max > 0.5 * min(box.lengths):
        raise MDInputError(
            f"r_max {r_max} exceeds half the box; use r_max <= {0.5 * min(box.lengths)}"
        )
    L, inv = box.lengths_array(), box.inverse_periodic()
    edges = np.linspace(0.0, r_max, n_bins + 1)
    hist = np.zeros(n_bins)
    same = np.array_equal(np.asarray(idx_a), np.asarray(idx_b))
    for x in frames:
        a, b = x[idx_a], x[idx_b]
        for k in range(len(a)):
            d = b - a[k]
            d -= L * np.rint(d * inv)
            r = np.sqrt(np.einsum("ij,ij->i", d, d))
            if same:
                r = r[r > 0]
            hist += np.histogram(r, bins=edges)[0]
    shell = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    nb = len(idx_b) - (1 if same else 0)
    ideal = len(frames) * len(idx_a) * nb * shell / box.volume
    return 0.5 * (edges[1:] + edges[:-1]), hist / ideal


def msd(unwrapped: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Mean-squared displacement vs lag (in frames) from unwrapped positions (F, N, 3) [nm^2].

    Averages over particles and all time origins; ``msd[0] = 0``.
    """
    x = np.asarray(unwrapped, dtype=float)
    n_frames = len(x)
    max_lag = n_frames - 1 if max_lag is None else min(max_lag, n_frames - 1)
    out = np.zeros(max_lag + 1)
    for lag in range(1, max_lag + 1):
        d = x[lag:] - x[:-lag]
        out[lag] = float(np.mean(np.einsum("fij,fij->fi", d, d)))
    return out


def diffusion_coefficient(
    times: np.ndarray, msd_values: np.ndarray, fit_start: float, fit_end: float, dim: int = 3
) -> float:
    """Self-diffusion coefficient [nm^2/ps] from the slope of MSD(t) = 2 dim D t + c.

    Fit between ``fit_start`` and ``fit_end`` [ps] (the diffusive regime). In a periodic box the
    result carries a finite-size error; see :func:`yeh_hummer_correction`.
    """
    t = np.asarray(times, float)
    m = (t >= fit_start) & (t <= fit_end)
    if np.count_nonzero(m) < 2:
        raise MDInputError("need at least two MSD points inside the fit window")
    slope = np.polyfit(t[m], np.asarray(msd_values, float)[m], 1)[0]
    return float(slope / (2 * dim))


def yeh_hummer_correction(temperature: float, box_length: float, viscosity_mpa_s: float) -> float:
    """Finite-size correction to D [nm^2/ps] for a cubic periodic box: add it to the MD value.

    ``D_inf = D_PBC + k_B T xi / (6 pi eta L)`` with ``xi = 2.837297`` (Yeh & Hummer,
    J. Phys. Chem. B 108, 15873 (2004)); ``eta`` in mPa s (water: 0.89 at 298 K), ``L`` in nm.
    """
    if temperature <= 0 or box_length <= 0 or viscosity_mpa_s <= 0:
        raise MDInputError("temperature, box_length and viscosity must be > 0")
    d_si = (
        K_B
        * temperature
        * YEH_HUMMER_XI
        / (6 * math.pi * viscosity_mpa_s * 1e-3 * box_length * 1e-9)
    )
    return d_si * 1e6  # m^2/s -> nm^2/ps
