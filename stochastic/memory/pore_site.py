"""The friction kernel of an ion at a point of the MD model pore, measured from a short MD run.

:func:`site_memory` holds copies of one ion (independent walkers,
:meth:`stochastic.md.model_pore.ModelPore.build_system`) near a height ``z`` of the pore axis with
the umbrella restraint of :mod:`stochastic.pmf` (:class:`~stochastic.pmf.md_sampler.WalkerUmbrella`)
and runs Langevin MD at the model's own friction (Einstein's ``kT/(m D)``, the physical one), the
axial velocity and conservative force (site, walls, restraint) of every walker recorded at every
step. The walkers are split into ``n_groups`` independent groups; each group's velocity
autocorrelation and force-velocity correlation give one kernel estimate by the first-kind
inversion in the potential (:func:`stochastic.memory.first_kind.kernel_in_potential`), so the
rows of :attr:`SiteMemory.kernels` are independent and
:func:`stochastic.memory.memory_time` (or :func:`pnp.hierarchy.time_scales`) bootstraps them.

What it measures for this model: the ion moves in implicit solvent with Langevin friction, which
has no memory by construction, so the run must return ``int K = m gamma`` (a check of the
pipeline: :attr:`SiteMemory.langevin_friction`) and a memory time at the resolution limit
(``tau_mem = h / 2`` for a delta kernel, h = the MD step): the model is Markovian, whatever
``tau_hop``. A model with explicit water or flexible site atoms would give a kernel with a
finite decay time through the same call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stochastic.memory.correlation import cross_correlation
from stochastic.memory.errors import MemoryInputError
from stochastic.memory.first_kind import kernel_in_potential
from stochastic.memory.tau import MemoryTime, memory_time
from stochastic.memory.volterra import MemoryKernel

__all__ = ["SiteMemory", "site_memory"]


@dataclass(frozen=True, eq=False)
class SiteMemory:
    """Kernel estimates of one ion at one height of the pore axis.

    Attributes
    ----------
    ion : str
        Species name.
    z : float
        Restraint centre [nm].
    t : numpy.ndarray
        Lags [ps] (step = the MD time step).
    kernels : numpy.ndarray
        (n_groups, len(t)) independent estimates of K(t) [amu/ps^2] along z.
    mean : MemoryKernel
        The kernel of all walkers together.
    langevin_friction : float
        ``m gamma`` [amu/ps] of the MD thermostat (the exact ``int K`` of this model).
    temperature : float
        [K].
    """

    ion: str
    z: float
    t: np.ndarray
    kernels: np.ndarray
    mean: MemoryKernel
    langevin_friction: float
    temperature: float

    def memory_time(self, n_boot: int = 1000, seed: int = 0) -> MemoryTime:
        """``tau_mem`` [ps] with the bootstrap error over the walker groups."""
        return memory_time(self.t, self.kernels, n_boot=n_boot, seed=seed)


def _check(n_walkers: int, n_groups: int, n_steps: int, max_lag: int) -> None:
    if int(n_groups) < 2 or int(n_walkers) < int(n_groups):
        raise MemoryInputError(
            f"need n_groups >= 2 and n_walkers >= n_groups, got {n_walkers} walkers in "
            f"{n_groups} groups"
        )
    if int(max_lag) < 3 or int(n_steps) < 4 * int(max_lag):
        raise MemoryInputError(
            f"need max_lag >= 3 and n_steps >= 4 max_lag, got max_lag = {max_lag}, "
            f"n_steps = {n_steps}"
        )


def _record(sim, ions: list[int], n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Axial velocities and conservative forces of the walkers at every step, (T, P) each."""
    v = np.empty((n_steps, len(ions)))
    f = np.empty_like(v)
    for i in range(n_steps):
        sim.run(1)
        v[i] = sim.v[ions, 2]
        f[i] = sim.f[ions, 2]
    return v, f


def site_memory(
    pore,
    ion: str,
    z: float | None = None,
    *,
    kappa: float = 1000.0,
    n_walkers: int = 128,
    n_groups: int = 8,
    n_steps: int = 2000,
    n_equilibration: int = 250,
    max_lag: int = 50,
    dt: float = 0.004,
    temperature: float = 298.15,
    seed: int = 0,
) -> SiteMemory:
    """Run the restrained ion at ``z`` and return its friction-kernel estimates.

    Parameters
    ----------
    pore
        A :class:`stochastic.md.model_pore.ModelPore`.
    ion
        ``"K+"`` or ``"Na+"``.
    z
        Restraint centre on the pore axis [nm]; default the binding site (or 0).
    kappa
        Restraint spring constant [kJ/(mol nm^2)] (the umbrella windows' default).
    n_walkers, n_groups
        Ion copies, split into independent groups (one kernel estimate each).
    n_steps, n_equilibration
        Recorded and discarded MD steps.
    max_lag
        Longest lag in steps (the kernel's grid; the friction of this model is spent in
        ~``1/gamma``, 8 steps of 4 fs for K+).
    dt
        MD step [ps], also the sampling interval.
    temperature
        [K].
    seed
        Random seed.
    """
    from stochastic.md.forcefield import ForceField
    from stochastic.md.integrators import LangevinBAOAB
    from stochastic.md.simulation import Simulation
    from stochastic.md.system import KB_KJ_PER_MOL_K
    from stochastic.pmf.md_sampler import WalkerUmbrella

    _check(n_walkers, n_groups, n_steps, max_lag)
    if not (np.isfinite(kappa) and kappa > 0):
        raise MemoryInputError(f"kappa must be a finite spring constant > 0 kJ/mol/nm^2: {kappa}")
    setup = pore.build_system(ion, n_copies=int(n_walkers), temperature=temperature)
    z0 = float(pore.site.z if (z is None and pore.site is not None) else (z or 0.0))
    ions = list(setup.ions)
    x = setup.positions.copy()
    x[ions, 2] = z0
    rng = np.random.default_rng(seed)
    masses = setup.system.masses
    kt = KB_KJ_PER_MOL_K * temperature
    v0 = rng.standard_normal(x.shape) * np.sqrt(kt / masses)[:, None]
    bias = WalkerUmbrella(np.array(ions), 2, float(kappa), z0, "restraint")
    ff = ForceField(setup.system, (*setup.terms, bias))
    sim = Simulation(ff, LangevinBAOAB(dt, temperature, setup.friction, rng), x, v0)
    sim.run(int(n_equilibration))
    v, f = _record(sim, ions, int(n_steps))
    t = np.arange(int(max_lag) + 1) * dt
    mass = float(masses[ions[0]])
    rows = []
    for cols in np.array_split(np.arange(len(ions)), int(n_groups)):
        cvv = cross_correlation(v[:, cols], v[:, cols], max_lag)
        cfv = cross_correlation(f[:, cols], v[:, cols], max_lag)
        rows.append(kernel_in_potential(t, cvv, mass, temperature, force_velocity=cfv).K)
    mean = kernel_in_potential(
        t,
        cross_correlation(v, v, max_lag),
        mass,
        temperature,
        force_velocity=cross_correlation(f, v, max_lag),
    )
    return SiteMemory(
        str(ion), z0, t, np.array(rows), mean, mass * setup.friction, float(temperature)
    )
