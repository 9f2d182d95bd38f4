"""Umbrella sampling of one ion through the MD model pore: W(z) and D(z) for the transport chain.

:func:`pore_pmf` runs :class:`~stochastic.pmf.umbrella.UmbrellaSampling` with
:class:`~stochastic.pmf.md_sampler.MDSampler` on :class:`~stochastic.md.model_pore.ModelPore`
windows along the pore axis z, from the lower bath through the pore to the upper bath (resumable:
every window is saved in ``folder``), then estimates

- the PMF W(z) [kT] by MBAR on decorrelated samples, with its analytic standard error, in the
  gauge W = 0 at the lower end of the window range (in the bath, beyond the reach of the site);
- the local diffusion coefficient D(z) [nm^2/ps] at every window by Hummer's method on the raw
  (correlated) series; the time between samples is ``MDSampler.sample_interval`` [ps].

The result :class:`PorePMF` holds exactly the :class:`~stochastic.pmf.result.PMFResult` and
:class:`~stochastic.pmf.diffusion.DiffusionProfile` that ``stochastic.chain`` consumes
(``TransportProfile.from_pmf(name, 1, r.pmf, r.diffusion, temperature=r.temperature,
D_unit="nm2/ps")``). The z axis is the one of :func:`pnp.hierarchy.channel_geometry` (membrane
centred
at z = 0).

Cost: umbrella sampling of a diffusive coordinate has an error of roughly
``sigma(W) ~ Z sqrt(2 / (D T))`` [kT] accumulated over a path of length ``Z`` from a total
simulated time ``T`` (all windows and walkers), whatever the spring constant. With the species' D
(~1.5e-3 nm^2/ps) a 3 nm path needs ~2e5 ps for 0.3 kT: hence many cheap non-interacting walkers
per window, and the ``friction`` option when only W(z) is wanted. Each window starts from the
equilibrium distribution of the bare pore (walls exactly, the site by importance resampling),
because the lateral search for the pore entrance is much slower than a window's run. A default
run takes about a minute per ion: :func:`pore_pmf` shows a tqdm progress bar (in samples over
all windows) unless ``progress=False``.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stochastic.md.model_pore import ModelPore, ion_model
from stochastic.pmf.data import UmbrellaData, decorrelate
from stochastic.pmf.diffusion import DiffusionProfile, diffusion_profile
from stochastic.pmf.errors import PMFInputError, SamplingWarning
from stochastic.pmf.mbar import mbar
from stochastic.pmf.md_sampler import MDSampler
from stochastic.pmf.result import PMFResult
from stochastic.pmf.umbrella import UmbrellaSampling
from stochastic.pmf.windows import evenly_spaced_windows

log = logging.getLogger(__name__)

__all__ = ["PorePMF", "pore_pmf"]


@dataclass(frozen=True)
class PorePMF:
    """PMF and diffusivity of one ion along the model pore's axis.

    Attributes
    ----------
    ion : str
        ``"K+"`` or ``"Na+"``.
    pmf : PMFResult
        W(z) [kT] (MBAR, analytic sigma), zero at the lower bath end of the range.
    diffusion : DiffusionProfile
        Hummer D [nm^2/ps] at each window's mean z (x 1000 for nm^2/ns).
    temperature : float
        [K].
    timings : dict
        Cost of the call: wall and CPU seconds of the sampling and of the estimators
        (``sampling_wall_s``, ``sampling_cpu_s``, ``estimate_wall_s``, ``estimate_cpu_s``) and
        the number of samples drawn (``new_samples``, 0 when every window was resumed).
    """

    ion: str
    pmf: PMFResult
    diffusion: DiffusionProfile
    temperature: float
    timings: dict = field(default_factory=dict, compare=False)

    def value_at(self, z: float) -> tuple[float, float]:
        """W and its sigma [kT] in the bin containing ``z`` [nm]."""
        j = int(np.clip(np.searchsorted(self.pmf.edges, z) - 1, 0, self.pmf.grid.size - 1))
        sig = np.nan if self.pmf.sigma is None else float(self.pmf.sigma[j])
        return float(self.pmf.pmf[j]), sig


@dataclass(frozen=True)
class _Plan:
    """The resolved sampling parameters of one :func:`pore_pmf` call."""

    z_max: float
    n_windows: int
    n_walkers: int
    n_samples: int
    stride: int
    n_equilibration: int


def _plan(
    pore: ModelPore,
    quick: bool,
    bath_extent: float | None,
    n_windows: int | None,
    n_walkers: int | None,
    n_samples: int | None,
    stride: int | None,
    n_equilibration: int | None,
) -> _Plan:
    """Fill in the defaults of :func:`pore_pmf` (``quick`` or production) and check them."""
    if bath_extent is None:
        bath_extent = 1.0 if pore.site is None else pore.site.cutoff + 0.5
    if not bath_extent > 0:
        raise PMFInputError(f"bath_extent must be > 0 nm, got {bath_extent}")
    z_max = 0.5 * pore.length + float(bath_extent)
    if n_windows is None:
        n_windows = math.ceil(2 * z_max / (0.12 if quick else 0.08)) + 1
    if n_walkers is None:
        n_walkers = 128 if quick else 32
    if n_samples is None:
        n_samples = n_walkers * (100 if quick else 1600)
    if stride is None:
        stride = 10 if quick else 25
    if n_equilibration is None:
        n_equilibration = 300 if quick else 1000
    if int(n_windows) < 2:
        raise PMFInputError(f"need at least 2 windows, got {n_windows}")
    return _Plan(
        z_max, int(n_windows), int(n_walkers), int(n_samples), int(stride), int(n_equilibration)
    )


def _sampler(
    pore: ModelPore,
    species: str,
    plan: _Plan,
    temperature: float,
    friction: float | None,
    dt: float,
) -> MDSampler:
    """The Langevin sampler of ``plan.n_walkers`` non-interacting ion copies in the pore."""
    setup = pore.build_system(species, n_copies=plan.n_walkers, temperature=temperature)
    return MDSampler(
        setup.system,
        setup.terms,
        setup.positions,
        setup.ions,
        temperature,
        setup.friction if friction is None else float(friction),
        dt,
        stride=plan.stride,
        n_equilibration=plan.n_equilibration,
        place=setup.place,
    )


def _warn_short_walkers(sampler: MDSampler, species: str, plan: _Plan, kappa: float) -> None:
    """:class:`SamplingWarning` if a walker runs < 20 window correlation times (D(z) biased)."""
    tau = sampler.system.masses[0] * sampler.friction / kappa  # var/D = (kT/kappa)/(kT/(m gamma))
    t_walker = sampler.sample_interval * plan.n_samples / plan.n_walkers
    if t_walker < 20 * tau:
        warnings.warn(
            f"{species}: each walker runs {t_walker:.3g} ps = {t_walker / tau:.1f} window "
            f"correlation times (want >= 20): W(z) is fine, but Hummer's D(z) is biased high by "
            f"~{100 * tau / t_walker:.0f} %; use fewer walkers with more samples each",
            SamplingWarning,
            stacklevel=3,
        )


def _estimate(
    raw: UmbrellaData, plan: _Plan, bins_per_window: int
) -> tuple[PMFResult, DiffusionProfile]:
    """MBAR W(z) on the decorrelated samples (zero in the lowest bin) and Hummer D(z) on raw."""
    z_max = plan.z_max
    spacing = 2 * z_max / (plan.n_windows - 1)
    n_bins = max(2, round(2 * z_max / spacing * bins_per_window))
    half_bin = z_max / n_bins
    pmf = mbar(decorrelate(raw), bins=n_bins, range=(-z_max, z_max), reference=-z_max + half_bin)
    return pmf, diffusion_profile(raw, n_blocks=5)


def _timed_run(
    run: UmbrellaSampling, plan: _Plan, bins_per_window: int
) -> tuple[PMFResult, DiffusionProfile, dict]:
    """Sample (or resume) and estimate; the wall and CPU seconds of both (``PorePMF.timings``)."""
    new = int(np.maximum(0, plan.n_samples - run.counts).sum())
    wall, cpu = time.perf_counter(), time.process_time()
    raw = run.run(plan.n_samples)
    sampled = time.perf_counter() - wall, time.process_time() - cpu
    pmf, diff = _estimate(raw, plan, bins_per_window)
    timings = {
        "sampling_wall_s": sampled[0],
        "sampling_cpu_s": sampled[1],
        "estimate_wall_s": time.perf_counter() - wall - sampled[0],
        "estimate_cpu_s": time.process_time() - cpu - sampled[1],
        "new_samples": new,
    }
    return pmf, diff, timings


def pore_pmf(
    pore: ModelPore,
    ion: str,
    folder: str | Path | None,
    *,
    n_windows: int | None = None,
    n_samples: int | None = None,
    kappa: float = 1000.0,
    temperature: float = 298.15,
    seed: int = 0,
    quick: bool = False,
    bath_extent: float | None = None,
    n_walkers: int | None = None,
    friction: float | None = None,
    dt: float = 0.004,
    stride: int | None = None,
    n_equilibration: int | None = None,
    bins_per_window: int = 4,
    progress: bool = True,
) -> PorePMF:
    """Umbrella-sample ``ion`` through ``pore`` and return W(z) +- sigma and D(z) +- sigma.

    Parameters
    ----------
    pore : ModelPore
        The model.
    ion : str
        ``"K+"`` or ``"Na+"``.
    folder : path or None
        Where the run is stored and resumed from (None: in memory). Use one folder per ion and
        pore: a folder holding other windows is refused.
    n_windows : int, optional
        Windows between ``-(L/2 + bath_extent)`` and ``+(L/2 + bath_extent)`` (default: spacing
        <= 0.08 nm, <= 0.12 nm when ``quick``).
    n_samples : int, optional
        Stored samples per window, all walkers together (default ``n_walkers`` x 1600, x 100
        when ``quick``).
    kappa : float
        Spring constant [kJ/mol/nm^2] (1000 ~ 400 kT/nm^2: sigma_z ~ 0.05 nm in a flat region).
    temperature : float
        [K].
    seed : int
        Root seed of the umbrella driver.
    quick : bool
        Smaller defaults (fewer windows and samples, shorter stride and equilibration), for
        tests and demonstrations; with ``friction=5`` a 0.8 nm pore costs ~10 s per ion and
        sigma(W) ~ 0.3-0.5 kT across the whole profile.
    bath_extent : float, optional
        How far the windows reach into each bath beyond the membrane faces [nm]; default: the
        site's cutoff + 0.5 nm (the PMF is then flat over the outer ~0.5 nm), 1.0 nm without site.
    n_walkers : int, optional
        Independent ion copies sampled together in each window (default 32, 128 when
        ``quick``). Many short walkers sample W(z) cheaply; D(z) needs each walker to run many
        window correlation times ``tau = m gamma / kappa`` (bias ~ ``tau / T_walker``; a
        :class:`~stochastic.pmf.errors.SamplingWarning` is issued below 20 tau).
    friction : float, optional
        Langevin collision rate [1/ps]. None (default): Einstein's ``kT/(m D)`` with the species'
        D, so that ``diffusion`` is the physical D(z) of the model. The PMF does not depend on the
        friction, so a smaller value (e.g. 5/ps, near critical damping in a window) samples W(z)
        several times faster; ``diffusion`` is then the D(z) of *that* friction (bulk
        ``kT/(m friction)``), not the species'.
    dt, stride, n_equilibration
        MD time step [ps], steps between samples (default 25, 10 when ``quick``), unrecorded
        steps per sampler call (default 1000, 300 when ``quick``).
    bins_per_window : int
        PMF bins per window spacing.
    progress : bool
        tqdm progress bar of the umbrella sampling (samples over all windows); False: silent.

    See the module docstring for the cost of the sampling and the choice of walkers.
    """
    if not isinstance(pore, ModelPore):
        raise PMFInputError(f"pore must be a stochastic.md.model_pore.ModelPore, got {pore!r}")
    model = ion_model(ion)
    plan = _plan(pore, quick, bath_extent, n_windows, n_walkers, n_samples, stride, n_equilibration)
    z, n = plan.z_max, plan.n_windows
    windows = evenly_spaced_windows(-z, z, n, kappa, energy_unit="kJ/mol", temperature=temperature)
    sampler = _sampler(pore, model.species, plan, temperature, friction, dt)
    _warn_short_walkers(sampler, model.species, plan, kappa)
    run = UmbrellaSampling(
        windows, sampler, folder, seed=seed, dt=sampler.sample_interval, progress=progress
    )
    pmf, diff, timings = _timed_run(run, plan, bins_per_window)
    log.info(
        "%s through the model pore: %d windows x %d samples, W(0) = %.2f kT",
        model.species,
        len(windows),
        plan.n_samples,
        float(pmf.pmf[pmf.grid.size // 2]),
    )
    return PorePMF(model.species, pmf, diff, float(temperature), timings)
