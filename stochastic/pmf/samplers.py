"""Samplers of the restrained coordinate: the protocol the umbrella driver calls, and two of them.

A sampler is any callable ``sampler(window, n_samples, rng) -> xi`` returning a time series of
the coordinate (length ``n_samples``) drawn in the ensemble biased by ``window``. It may accept a
keyword ``start`` (the last stored xi of that window, or None) to continue a trajectory when a run
is extended or resumed. The same protocol wraps Langevin dynamics (:class:`LangevinSampler`) or
the particle-MD core (a callable that adds the restraint force and records xi).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from stochastic.pmf.errors import PMFInputError
from stochastic.pmf.windows import UmbrellaWindow

log = logging.getLogger(__name__)

__all__ = ["InverseCDFSampler", "LangevinSampler", "Sampler", "langevin_available"]


@runtime_checkable
class Sampler(Protocol):
    """``sampler(window, n_samples, rng) -> (n_samples,) array of xi``."""

    def __call__(
        self, window: UmbrellaWindow, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class InverseCDFSampler:
    """Exact, independent samples of a 1D biased Boltzmann density ``exp(-U(xi) - w_k(xi))``.

    The density is tabulated on a fine uniform grid; inside each grid cell it is taken as the
    exponential of the linearly interpolated exponent, whose CDF is inverted in closed form, so
    the samples follow the biased density up to O(h^2) of the grid spacing ``h``.

    Parameters
    ----------
    potential : callable
        ``U(xi)`` in kT (vectorised).
    lo, hi : float
        Support of the density (for a periodic coordinate ``hi - lo`` must be the period).
    n_grid : int
        Grid points (default 20001).
    temperature : float, optional
        Needed for windows whose kappa is in kJ/mol.
    """

    potential: Callable[[np.ndarray], np.ndarray]
    lo: float
    hi: float
    n_grid: int = 20001
    temperature: float | None = None
    _grid: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.hi > self.lo:
            raise PMFInputError(f"need hi > lo, got lo={self.lo}, hi={self.hi}")
        if self.n_grid < 3:
            raise PMFInputError("n_grid must be >= 3")
        object.__setattr__(self, "_grid", np.linspace(self.lo, self.hi, int(self.n_grid)))

    def log_density(self, window: UmbrellaWindow | None) -> np.ndarray:
        """``-U - w`` on the grid (kT)."""
        e = np.asarray(self.potential(self._grid), dtype=float)
        if window is not None:
            e = e + window.reduced_energy(self._grid, self.temperature)
        if not np.all(np.isfinite(e)):
            raise PMFInputError("the potential is not finite on the whole sampling grid")
        return -e

    def __call__(
        self, window: UmbrellaWindow | None, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        x = self._grid
        h = x[1] - x[0]
        a = self.log_density(window)
        a = a - a.max()
        # cell j: log p(x_j + t h) = a_j + t (a_{j+1} - a_j), t in [0, 1]
        da = np.diff(a)
        pa = np.exp(a[:-1])
        small = np.abs(da) < 1e-8
        safe = np.where(small, 1.0, da)
        mass = np.where(small, pa, pa * np.expm1(safe) / safe) * h
        cdf = np.concatenate(([0.0], np.cumsum(mass)))
        u = rng.random(int(n_samples)) * cdf[-1]
        j = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, x.size - 2)
        r = (u - cdf[j]) / (pa[j] * h)  # = (exp(da t) - 1)/da
        dj = safe[j]
        t = np.where(small[j], r, np.log1p(np.clip(r * dj, -1.0 + 1e-16, None)) / dj)
        return x[j] + np.clip(t, 0.0, 1.0) * h


def langevin_available() -> bool:
    """True once :mod:`stochastic.langevin` (issue 5) is importable."""
    return importlib.util.find_spec("stochastic.langevin") is not None


@dataclass(frozen=True)
class LangevinSampler:
    """Umbrella sampling on Langevin/Brownian dynamics from :mod:`stochastic.langevin`.

    Adds the window's restraint force to ``force`` and integrates ``n_walkers`` independent
    walkers with :func:`stochastic.langevin.brownian` (overdamped, ``mass=None``) or
    :func:`stochastic.langevin.baoab` (inertial). Each walker starts at ``start`` (the last stored
    xi when a run is extended) or at the window centre, runs ``n_equilibration`` steps unrecorded,
    then stores xi every ``stride`` steps. The returned series is the walkers' series
    concatenated (walker after walker): analyse it per window as usual.

    Parameters
    ----------
    force : callable
        Unbiased force ``F(x)`` in kJ/(mol nm) on positions of shape (n_walkers,).
    temperature : float
        Temperature [K].
    gamma : float
        Friction coefficient [amu/ps] (``D = kT/gamma`` in nm^2/ps).
    dt : float
        Time step [ps].
    stride : int
        Steps between stored samples.
    n_equilibration : int
        Unrecorded steps before the first sample.
    n_walkers : int
        Independent walkers per window (vectorised).
    mass : float, optional
        Mass [amu] for inertial BAOAB; None for overdamped Brownian dynamics.
    scheme : str
        Brownian scheme (``"leimkuhler_matthews"`` or ``"euler_maruyama"``).
    max_curvature : float, optional
        Largest ``|U''|`` of the unbiased potential [kJ/(mol nm^2)], for the time-step check.

    Notes
    -----
    This is the hook to :mod:`stochastic.langevin` (issue 5); the particle-MD core plugs in the
    same way, as any callable ``(window, n_samples, rng, start=None) -> xi``.
    """

    force: Callable[[np.ndarray], np.ndarray]
    temperature: float
    gamma: float
    dt: float
    stride: int = 10
    n_equilibration: int = 1000
    n_walkers: int = 1
    mass: float | None = None
    scheme: str = "leimkuhler_matthews"
    max_curvature: float | None = None

    def __post_init__(self) -> None:
        if int(self.stride) < 1 or int(self.n_walkers) < 1 or int(self.n_equilibration) < 0:
            raise PMFInputError("stride and n_walkers must be >= 1, n_equilibration >= 0")

    def __call__(
        self,
        window: UmbrellaWindow,
        n_samples: int,
        rng: np.random.Generator,
        start: float | None = None,
    ) -> np.ndarray:
        if not langevin_available():
            raise PMFInputError(
                "LangevinSampler needs stochastic.langevin (issue 5), which is not installed here"
            )
        lg = importlib.import_module("stochastic.langevin")
        from poreflux.units import kT_kj_per_mol

        to_kj = kT_kj_per_mol(self.temperature) if window.energy_unit == "kT" else 1.0
        base = self.force

        def total_force(x: np.ndarray) -> np.ndarray:
            return np.asarray(base(x), dtype=float) + to_kj * window.force(x)

        curv = None
        if self.max_curvature is not None:
            curv = self.max_curvature + to_kj * window.kappa
        common = {"temperature": self.temperature, "dt": self.dt, "max_curvature": curv}
        if self.mass is None:
            integ = lg.brownian(total_force, gamma=self.gamma, scheme=self.scheme, **common)
        else:
            integ = lg.baoab(total_force, mass=self.mass, gamma=self.gamma, **common)
        p = int(self.n_walkers)
        per_walker = -(-int(n_samples) // p)
        x0 = np.full(p, window.center if start is None else float(start))
        state = integ.init_fn(x0, rng)
        if self.n_equilibration:
            state, _ = lg.run(integ, state, int(self.n_equilibration), rng)
        _, traj = lg.run(
            integ, state, per_walker * int(self.stride), rng, record_every=int(self.stride)
        )
        xi = np.asarray(traj.x, dtype=float).reshape(per_walker, p).T.reshape(-1)
        return xi[: int(n_samples)]
