"""Smooth particle-mesh Ewald (Essmann et al., J. Chem. Phys. 103, 8577 (1995)).

Same real-space, self, exclusion and background terms as :class:`~stochastic.md.ewald.Ewald`;
the reciprocal sum is evaluated on a grid: charges are spread with cardinal B-splines of even
``order``, the grid is Fourier transformed with numpy, multiplied by
``G(m) = B(m) exp(-pi^2 m^2 / alpha^2) / (pi V m^2)`` and transformed back to the potential
``phi`` whose spline-weighted gradient gives the forces. The PME energy and forces are exactly
consistent (forces are the analytic gradient of the PME energy).
"""

from __future__ import annotations

import math

import numpy as np

from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.ewald import Ewald
from stochastic.md.system import System


def _nice_size(n: int) -> int:
    """Smallest integer >= n with only the prime factors 2, 3, 5 (fast FFT sizes)."""
    m = max(n, 4)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _spline_moduli(k: int, order: int) -> np.ndarray:
    """``|b(m)|^2`` for m = 0..K-1 (Essmann eq. 4.4)."""
    vals, dv = np.empty(order), np.empty(order)
    kernels.bspline_weights(0.0, order, vals, dv)  # vals[j] = M_n(j); need M_n(j+1), j=0..n-2
    mn = np.array([vals[j + 1] for j in range(order - 1)])
    m = np.arange(k)
    denom = np.exp(2j * np.pi * np.outer(m, np.arange(order - 1)) / k) @ mn
    return 1.0 / np.abs(denom) ** 2


class PME(Ewald):
    """Ewald summation with the reciprocal part by smooth PME.

    Parameters
    ----------
    system, cutoff, tolerance, alpha, epsilon_r, min_distance, name
        As for :class:`~stochastic.md.ewald.Ewald`.
    grid_spacing
        Largest grid spacing [nm]; the grid size per axis is the next FFT-friendly integer.
    order
        B-spline interpolation order (even: 4, 6 or 8; 4 is cubic as in GROMACS' default).
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        tolerance: float = 1e-5,
        alpha: float | None = None,
        grid_spacing: float = 0.1,
        order: int = 6,
        epsilon_r: float = 1.0,
        min_distance: float = 0.01,
        name: str = "coulomb",
    ):
        if order not in (4, 6, 8):
            raise MDInputError(f"PME order must be 4, 6 or 8, got {order}")
        if grid_spacing <= 0:
            raise MDInputError(f"PME grid_spacing must be > 0 nm, got {grid_spacing}")
        super().__init__(system, cutoff, tolerance, alpha, 1, epsilon_r, min_distance, name)
        L = self.lengths
        self.order = order
        self.grid = tuple(max(_nice_size(math.ceil(x / grid_spacing)), 2 * order) for x in L)
        mods = [_spline_moduli(k, order) for k in self.grid]
        freqs = [np.fft.fftfreq(k, d=1.0 / k) / x for k, x in zip(self.grid, L, strict=True)]
        mx, my, mz = np.meshgrid(*freqs, indexing="ij")
        m2 = mx**2 + my**2 + mz**2
        b = mods[0][:, None, None] * mods[1][None, :, None] * mods[2][None, None, :]
        vol = float(np.prod(L))
        with np.errstate(divide="ignore"):
            g = b * np.exp(-(math.pi**2) * m2 / self.alpha**2) / (math.pi * vol * m2)
        g[0, 0, 0] = 0.0
        # real-to-complex FFTs keep the last axis up to its Nyquist index; every other mode of
        # the full spectrum appears twice (m and -m), so half-spectrum sums carry weight 2
        half = self.grid[2] // 2 + 1
        weight = np.full(half, 2.0)
        weight[0] = 1.0
        if self.grid[2] % 2 == 0:
            weight[-1] = 1.0
        self.g = np.ascontiguousarray(g[:, :, :half])
        self.gw = self.g * weight
        self.gw_virial = self.gw * (1.0 - 2.0 * math.pi**2 * m2[:, :, :half] / self.alpha**2)
        self.scale = np.array(self.grid, dtype=float) / L

    def reciprocal(self, positions: np.ndarray, forces: np.ndarray) -> tuple[float, float]:
        """PME reciprocal-space energy and virial; adds its forces into ``forces``."""
        c = self.charged
        if len(c) == 0:
            return 0.0, 0.0
        frac = positions[c] / self.lengths
        u = np.ascontiguousarray((frac - np.floor(frac)) * np.array(self.grid))
        q = np.ascontiguousarray(self.q[c])
        grid = np.zeros(self.grid)
        kernels.pme_spread(u, q, grid, self.order)
        a = np.fft.rfftn(grid)
        a2 = a.real**2 + a.imag**2
        energy = 0.5 * self.ke * float(np.sum(a2 * self.gw))
        virial = 0.5 * self.ke * float(np.sum(a2 * self.gw_virial))
        phi = self.ke * grid.size * np.fft.irfftn(self.g * a, s=self.grid, axes=(0, 1, 2))
        fc = np.zeros((len(c), 3))
        kernels.pme_gather(u, q, np.ascontiguousarray(phi), self.order, self.scale, fc)
        forces[c] += fc
        return energy, virial
