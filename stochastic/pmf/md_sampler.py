"""Umbrella sampling on the particle-MD core: a sampler that runs :mod:`stochastic.md`.

:class:`MDSampler` implements the sampler protocol of :mod:`stochastic.pmf.samplers`
(``sampler(window, n_samples, rng, start=None) -> xi``): for one umbrella window it builds a
:class:`~stochastic.md.forcefield.ForceField` from the unbiased force terms plus the window's
harmonic bias on a Cartesian coordinate of tagged particles (the ``PositionCV`` of
:mod:`stochastic.md.restraints`, vectorised over walkers), integrates Langevin dynamics with
:class:`~stochastic.md.integrators.LangevinBAOAB`, discards ``n_equilibration`` steps and stores the
coordinate every ``stride`` steps.

Walkers
    ``tagged`` may list several particles: each is one independent walker (a copy of the tagged
    molecule). The caller must make sure the copies do not interact with each other (only with
    fixed/external terms), so that the run is equivalent to ``len(tagged)`` independent
    single-walker simulations sharing one time loop (cheap: the Python overhead per step is paid
    once). The returned series is the walkers' series concatenated, walker after walker, exactly as
    :class:`~stochastic.pmf.samplers.LangevinSampler` does. The junctions between walkers do not
    bias W(z). For Hummer's D(z) they do, slightly: the uncorrelated pairs straddling the
    junctions lower the autocorrelation integral by about ``tau / T_walker`` (``tau = var/D``,
    the window's correlation time; ``T_walker = stride * dt * n_samples / n_walkers``), so give
    each walker >= 50 tau (fewer, longer walkers) when D is wanted.

Units
    MD units throughout: nm, ps, amu, kJ/mol, e, K. A window's ``kappa`` in kT per nm^2 is
    converted with ``kT = R T`` at the sampler's temperature; ``kappa`` in kJ/mol/nm^2 is used as
    is. The time between stored samples is :attr:`MDSampler.sample_interval` = ``stride * dt`` [ps]:
    pass it as ``dt`` to :class:`~stochastic.pmf.umbrella.UmbrellaSampling` so that
    :func:`~stochastic.pmf.diffusion.diffusion_profile` returns D in nm^2/ps (x 1000 for the
    continuum unit nm^2/ns).

Friction
    ``friction`` is the Langevin collision rate gamma [1/ps] of the MD core. The bulk diffusion
    coefficient it implies for a particle of mass m is Einstein's ``D = kT / (m gamma)``;
    :func:`friction_for_diffusion` inverts it.

Resuming
    Only the coordinate xi is stored by the umbrella driver. When a window is extended or a run is
    resumed, the sampler receives the last stored xi as ``start``. Without ``place`` the tagged
    coordinate of every walker is put there and everything else (the other coordinates, the
    velocities) is re-initialised (from ``positions``; velocities from the Maxwell-Boltzmann
    distribution); with ``place`` the starting configuration is whatever ``place`` returns. Either
    way the new chunk is re-equilibrated for ``n_equilibration`` unrecorded steps: the
    continuation is statistically, not bitwise, continuous.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from poreflux.units import kT_kj_per_mol
from stochastic.md.forcefield import ForceField
from stochastic.md.integrators import LangevinBAOAB
from stochastic.md.neighbors import NeighborList
from stochastic.md.simulation import Simulation
from stochastic.md.system import KB_KJ_PER_MOL_K, System
from stochastic.pmf.errors import PMFInputError
from stochastic.pmf.windows import UmbrellaWindow

log = logging.getLogger(__name__)

__all__ = ["MDSampler", "WalkerUmbrella", "friction_for_diffusion"]


def friction_for_diffusion(diffusion: float, mass: float, temperature: float) -> float:
    """Langevin collision rate gamma [1/ps] giving the bulk ``D = kT/(m gamma)`` (Einstein).

    Parameters
    ----------
    diffusion : float
        Target diffusion coefficient [nm^2/ps] (the continuum unit nm^2/ns is 1000x larger).
    mass : float
        Particle mass [amu].
    temperature : float
        Temperature [K].
    """
    for name, v in (("diffusion", diffusion), ("mass", mass), ("temperature", temperature)):
        if not (math.isfinite(v) and v > 0):
            raise PMFInputError(f"{name} must be a finite positive number, got {v!r}")
    return KB_KJ_PER_MOL_K * temperature / (mass * diffusion)


class WalkerUmbrella:
    """Harmonic bias ``sum_i k/2 (x_i[axis] - center)^2`` on the tagged particles (a force term).

    The vectorised form of one :class:`~stochastic.md.restraints.HarmonicRestraint` on a
    :class:`~stochastic.md.restraints.PositionCV` per walker. ``k`` in kJ/mol/nm^2, ``center`` in
    nm (raw, unwrapped coordinate).
    """

    cutoff = None

    def __init__(self, tagged: np.ndarray, axis: int, k: float, center: float, name: str):
        self.idx = np.asarray(tagged, dtype=np.int64)
        self.axis, self.k, self.center, self.name = int(axis), float(k), float(center), name
        # consecutive walkers (the usual layout): a slice, a view instead of a gather/scatter
        first = int(self.idx[0]) if self.idx.size else 0
        consecutive = np.array_equal(self.idx, np.arange(first, first + self.idx.size))
        self._rows = slice(first, first + self.idx.size) if consecutive else self.idx

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the bias forces; return (energy, 0) [kJ/mol]."""
        dev = positions[self._rows, self.axis] - self.center
        forces[self._rows, self.axis] -= self.k * dev
        return 0.5 * self.k * float(dev @ dev), 0.0


@dataclass(frozen=True)
class MDSampler:
    """Umbrella windows sampled by Langevin MD on the particle core.

    Parameters
    ----------
    system : stochastic.md.system.System
        The particles (masses, charges, box).
    terms : sequence of force terms
        The unbiased force terms (LJ, Coulomb, confinement, external sites...), built on
        ``system``; the window's bias is added per window.
    positions : (N, 3) array
        Initial positions [nm]; the tagged coordinate is overwritten by the window centre (or by
        ``start``). Ignored when ``place`` is given.
    tagged : sequence of int
        Particles whose coordinate ``axis`` is the collective variable, one per independent
        walker (see the module docstring: they must not interact with each other).
    temperature : float
        Bath temperature [K].
    friction : float
        Langevin collision rate gamma [1/ps] (bulk ``D = kT/(m gamma)``).
    dt : float
        MD time step [ps].
    stride : int
        Steps between stored samples (sample interval ``stride*dt`` ps).
    n_equilibration : int
        Unrecorded steps at the start of every sampler call.
    axis : int
        0, 1, 2 for x, y, z.
    place : callable, optional
        ``place(window, start, rng) -> (N, 3) positions``: a window-dependent starting
        configuration (``start`` is the resume value of xi or None), e.g. ions spread over the
        pore and the bath near a pore mouth in proportion to the open cross-sections, which
        saves the slow search for the pore entrance during equilibration. Default: ``positions``
        with the tagged coordinate set to ``start`` (or the window centre).
    """

    system: System
    terms: tuple
    positions: np.ndarray
    tagged: tuple[int, ...]
    temperature: float
    friction: float
    dt: float
    stride: int = 10
    n_equilibration: int = 1000
    axis: int = 2
    place: Callable[[UmbrellaWindow, float | None, np.random.Generator], np.ndarray] | None = None
    _masses: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.system.n_particles
        object.__setattr__(self, "terms", tuple(self.terms))
        pos = np.array(self.positions, dtype=float)
        if pos.shape != (n, 3):
            raise PMFInputError(f"positions must have shape ({n}, 3), got {pos.shape}")
        object.__setattr__(self, "positions", pos)
        tagged = tuple(int(i) for i in np.atleast_1d(np.asarray(self.tagged, dtype=np.int64)))
        if not tagged or min(tagged) < 0 or max(tagged) >= n or len(set(tagged)) != len(tagged):
            raise PMFInputError(
                f"tagged must list distinct particle indices in 0..{n - 1}, got {self.tagged!r}"
            )
        object.__setattr__(self, "tagged", tagged)
        if self.axis not in (0, 1, 2):
            raise PMFInputError(f"axis must be 0, 1 or 2 (x, y, z), got {self.axis!r}")
        for name in ("temperature", "friction", "dt"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise PMFInputError(f"{name} must be a finite positive number, got {v!r}")
        if int(self.stride) < 1 or int(self.n_equilibration) < 0:
            raise PMFInputError(
                f"stride must be >= 1 and n_equilibration >= 0, got {self.stride}, "
                f"{self.n_equilibration}"
            )
        object.__setattr__(self, "_masses", self.system.masses)

    @property
    def sample_interval(self) -> float:
        """Time between stored samples of one walker [ps] (``stride * dt``)."""
        return int(self.stride) * float(self.dt)

    @property
    def n_walkers(self) -> int:
        """Independent walkers per window."""
        return len(self.tagged)

    def einstein_diffusion(self, index: int | None = None) -> float:
        """Bulk ``D = kT/(m gamma)`` [nm^2/ps] of a tagged particle (default the first)."""
        i = self.tagged[0] if index is None else int(index)
        return KB_KJ_PER_MOL_K * self.temperature / (float(self._masses[i]) * self.friction)

    def _kappa_kj(self, window: UmbrellaWindow) -> float:
        if window.energy_unit == "kT":
            return float(window.kappa) * kT_kj_per_mol(self.temperature)
        return float(window.kappa)

    def _initial(
        self, window: UmbrellaWindow, start: float | None, rng: np.random.Generator
    ) -> np.ndarray:
        if self.place is not None:
            x = np.array(self.place(window, start, rng), dtype=float)
            if x.shape != self.positions.shape or not np.all(np.isfinite(x)):
                raise PMFInputError(
                    f"place() returned positions of shape {x.shape} (finite: "
                    f"{bool(np.all(np.isfinite(x)))}), expected finite {self.positions.shape}"
                )
            return x
        x = self.positions.copy()
        x[list(self.tagged), self.axis] = float(window.center if start is None else start)
        return x

    def __call__(
        self,
        window: UmbrellaWindow,
        n_samples: int,
        rng: np.random.Generator,
        start: float | None = None,
    ) -> np.ndarray:
        """Run one window: equilibrate, then record xi of every walker every ``stride`` steps.

        Returns the ``n_samples`` values, walker after walker (each walker's series is
        ``ceil(n_samples / n_walkers)`` long; the last one may be cut).
        """
        if window.period is not None:
            raise PMFInputError(
                "MDSampler restrains a Cartesian coordinate; periodic windows are not supported"
            )
        n_samples = int(n_samples)
        if n_samples < 1:
            raise PMFInputError(f"n_samples must be >= 1, got {n_samples}")
        x = self._initial(window, start, rng)
        kt = KB_KJ_PER_MOL_K * self.temperature
        v = rng.standard_normal(x.shape) * np.sqrt(kt / self._masses)[:, None]
        bias = WalkerUmbrella(
            np.array(self.tagged), self.axis, self._kappa_kj(window), window.center, "umbrella"
        )
        ff = ForceField(self.system, (*self.terms, bias))
        integ = LangevinBAOAB(float(self.dt), float(self.temperature), float(self.friction), rng)
        sim = Simulation(ff, integ, x, v)
        if self.n_equilibration:
            sim.run(int(self.n_equilibration))
        w = self.n_walkers
        per_walker = -(-n_samples // w)
        rec = np.empty((per_walker, w))
        tagged = list(self.tagged)
        stride = int(self.stride)
        for i in range(per_walker):
            sim.run(stride)
            rec[i] = sim.x[tagged, self.axis]
        return rec.T.reshape(-1)[:n_samples]
