"""Memory time and hopping time from particle data, for the diagnostics' non-Markovian check.

The diagnostics compare the memory time of the friction, ``tau_mem = int K dt / K(0)``, with the
time an ion takes to hop across its PMF, ``tau_hop`` (mean first-passage time across W(z) with
D(z), or the inverse Kramers rate). Both come from the particle levels: the kernel from MD
(:mod:`stochastic.memory`, e.g. one kernel per time block of a trajectory), the PMF and D(z) from
umbrella sampling (:mod:`stochastic.pmf`). :func:`time_scales` turns them into the numbers (in ns)
that :func:`pnp.diagnostics.diagnose` takes, with the bootstrap error of tau_mem propagated to
the ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TimeScales", "time_scales"]

_PS_PER_NS = 1e3


@dataclass(frozen=True)
class TimeScales:
    """tau_mem and tau_hop [ns], their ratio, and the standard errors (NaN when unknown)."""

    memory_time_ns: float
    memory_time_sigma_ns: float
    hopping_time_ns: float
    hopping_method: str

    @property
    def ratio(self) -> float:
        """``tau_mem / tau_hop`` (the diagnostics grade this number)."""
        return self.memory_time_ns / self.hopping_time_ns

    @property
    def ratio_sigma(self) -> float:
        """Standard error of :attr:`ratio` from that of tau_mem (tau_hop taken as exact)."""
        return self.memory_time_sigma_ns / self.hopping_time_ns

    def diagnostic_inputs(self) -> dict[str, float]:
        """Keyword arguments for :func:`pnp.diagnostics.diagnose` / ``DiagnosticInputs``."""
        return {"memory_time": self.memory_time_ns, "hopping_time": self.hopping_time_ns}


def time_scales(
    t_ps: Any,
    kernel: Any,
    profile: Any,
    *,
    hopping_method: str = "mfpt",
    n_boot: int = 1000,
    seed: int = 0,
) -> TimeScales:
    """tau_mem from friction-kernel estimates and tau_hop from a PMF, in ns.

    Parameters
    ----------
    t_ps
        Uniform lags [ps] from 0 of the kernel (cut where K has decayed).
    kernel
        One kernel K(t) (N,) or independent estimates (B, N), e.g. one per block of an MD run
        (:func:`stochastic.memory.kernel_from_vacf`); with B >= 2 tau_mem gets a bootstrap error.
    profile
        A :class:`stochastic.profiles.Profile` (W [kT] and D [nm^2/ns] along z [nm]).
    hopping_method
        ``"mfpt"`` (mean first-passage time across the profile) or ``"kramers"``
        (:func:`stochastic.smoluchowski.hopping_time_ns`).
    n_boot, seed
        Bootstrap resamples of the kernel estimates and their seed.
    """
    from stochastic import memory, smoluchowski

    tau = memory.memory_time(np.asarray(t_ps, dtype=float), kernel, n_boot=n_boot, seed=seed)
    hop = smoluchowski.hopping_time_ns(profile, hopping_method)
    sigma = tau.sigma / _PS_PER_NS if math.isfinite(tau.sigma) else math.nan
    return TimeScales(tau.tau / _PS_PER_NS, sigma, float(hop), hopping_method)
