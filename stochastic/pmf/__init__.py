"""Potentials of mean force from umbrella sampling: windows, sampling, WHAM, MBAR, D(z).

Energies are in kT (reduced units) inside the estimators; spring constants may be given in kT or
kJ/mol per squared coordinate unit (:class:`UmbrellaWindow`). A typical analysis::

    from stochastic import pmf

    windows = pmf.evenly_spaced_windows(-1.5, 1.5, 24, kappa=40.0)     # kT/nm^2
    run = pmf.UmbrellaSampling(windows, sampler, "runs/site1", seed=1, dt=0.1)
    raw = run.run(20_000)                                              # resumable, saved per window
    data = pmf.decorrelate(raw)                                        # trim + subsample
    w_mbar = pmf.mbar(data, bins=120)                                  # PMF + analytic sigma
    boot = pmf.bootstrap_pmf(data, "wham", n_boot=100)                 # PMF + bootstrap sigma
    d_of_z = pmf.diffusion_profile(raw)                                # Hummer D at each window
"""

from __future__ import annotations

from stochastic.pmf.bootstrap import BootstrapPMF, block_resample, bootstrap_pmf
from stochastic.pmf.data import UmbrellaData, decorrelate
from stochastic.pmf.diffusion import (
    DiffusionEstimate,
    DiffusionProfile,
    diffusion_profile,
    hummer_diffusion,
    msd_diffusion,
)
from stochastic.pmf.errors import (
    BinningWarning,
    EstimatorConvergenceError,
    PMFInputError,
    SamplingWarning,
    WindowOverlapWarning,
)
from stochastic.pmf.mbar import MBAR, mbar
from stochastic.pmf.md_sampler import MDSampler, friction_for_diffusion
from stochastic.pmf.overlap import OverlapReport, check_overlap
from stochastic.pmf.pore_umbrella import PorePMF, pore_pmf
from stochastic.pmf.result import PMFResult
from stochastic.pmf.samplers import InverseCDFSampler, LangevinSampler, Sampler
from stochastic.pmf.timeseries import (
    autocovariance,
    detect_equilibration,
    statistical_inefficiency,
    subsample_indices,
)
from stochastic.pmf.umbrella import UmbrellaSampling, load_run
from stochastic.pmf.wham import wham
from stochastic.pmf.windows import UmbrellaWindow, WindowSet, evenly_spaced_windows

__all__ = [
    "MBAR",
    "BinningWarning",
    "BootstrapPMF",
    "DiffusionEstimate",
    "DiffusionProfile",
    "EstimatorConvergenceError",
    "InverseCDFSampler",
    "LangevinSampler",
    "MDSampler",
    "OverlapReport",
    "PMFInputError",
    "PMFResult",
    "PorePMF",
    "Sampler",
    "SamplingWarning",
    "UmbrellaData",
    "UmbrellaSampling",
    "UmbrellaWindow",
    "WindowOverlapWarning",
    "WindowSet",
    "autocovariance",
    "block_resample",
    "bootstrap_pmf",
    "check_overlap",
    "decorrelate",
    "detect_equilibration",
    "diffusion_profile",
    "evenly_spaced_windows",
    "friction_for_diffusion",
    "hummer_diffusion",
    "load_run",
    "mbar",
    "msd_diffusion",
    "pore_pmf",
    "statistical_inefficiency",
    "subsample_indices",
    "wham",
]
