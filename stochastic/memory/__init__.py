"""Non-Markovian level: friction memory kernels and generalized Langevin dynamics (issue 15).

- :mod:`~stochastic.memory.correlation`: time correlation functions (FFT, all time origins);
- :mod:`~stochastic.memory.volterra`: K(t) from a VACF (Volterra inversion), from force-velocity
  correlations (Shin et al. 2010) or from a constrained particle's force ACF;
- :mod:`~stochastic.memory.first_kind`: K(t) of a particle in a potential from its VACF and
  force-velocity correlation, without derivatives (valid for Langevin-thermostatted data);
- :mod:`~stochastic.memory.pore_site`: the kernel of an ion restrained in the MD model pore;
- :mod:`~stochastic.memory.windows`: a kernel per umbrella window (restraint-force ACF) and its
  consistency with Hummer's D(z);
- :mod:`~stochastic.memory.terms`, :mod:`~stochastic.memory.fitting`: sums of exponentials and
  damped oscillations, fitted for a Markovian embedding;
- :mod:`~stochastic.memory.tau`: ``tau_mem = int K dt / K(0)`` with block-bootstrap errors;
- :mod:`~stochastic.memory.gle`: the GLE integrator (exact Markovian embedding, numba);
- :mod:`~stochastic.memory.rates`: Grote-Hynes rates and GLE first-passage times.

Units: nm, ps, amu, kJ/mol, K; K(t) in amu/ps^2 (so ``int K dt`` is the friction gamma in amu/ps
and ``kT / int K`` the diffusion coefficient in nm^2/ps). Imports numpy, scipy, numba and
:mod:`stochastic` only.
"""

from stochastic.memory.correlation import autocorrelation, block_correlations, cross_correlation
from stochastic.memory.errors import MemoryInputError
from stochastic.memory.first_kind import kernel_in_potential
from stochastic.memory.fitting import ExponentialFit, fit_exponentials
from stochastic.memory.gle import GLEIntegrator, GLEState, drift_matrix, gle, run_gle
from stochastic.memory.pore_site import SiteMemory, site_memory
from stochastic.memory.rates import (
    BarrierRate,
    gle_first_passage,
    grote_hynes_frequency,
    grote_hynes_rate,
    kramers_frequency,
)
from stochastic.memory.tau import (
    MemoryTime,
    memory_time,
    memory_time_from_vacf_blocks,
    memory_time_from_velocities,
)
from stochastic.memory.terms import ExponentialKernel, PiecewiseKernel
from stochastic.memory.volterra import (
    MemoryKernel,
    kernel_from_correlations,
    kernel_from_force_acf,
    kernel_from_vacf,
)
from stochastic.memory.windows import WindowKernel, window_kernels

__all__ = [
    "BarrierRate",
    "ExponentialFit",
    "ExponentialKernel",
    "GLEIntegrator",
    "GLEState",
    "MemoryInputError",
    "MemoryKernel",
    "MemoryTime",
    "PiecewiseKernel",
    "SiteMemory",
    "WindowKernel",
    "autocorrelation",
    "block_correlations",
    "cross_correlation",
    "drift_matrix",
    "fit_exponentials",
    "gle",
    "gle_first_passage",
    "grote_hynes_frequency",
    "grote_hynes_rate",
    "kernel_from_correlations",
    "kernel_from_force_acf",
    "kernel_from_vacf",
    "kernel_in_potential",
    "kramers_frequency",
    "memory_time",
    "memory_time_from_vacf_blocks",
    "memory_time_from_velocities",
    "run_gle",
    "site_memory",
    "window_kernels",
]
