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

from poreflux.errors import InputError

__all__ = ["TimeScales", "time_scales"]

_PS_PER_NS = 1e3


@dataclass(frozen=True)
class TimeScales:
    """tau_mem and tau_hop [ns], their ratio, and the standard errors (NaN when unknown)."""

    memory_time_ns: float
    memory_time_sigma_ns: float
    hopping_time_ns: float
    hopping_method: str
    hopping_time_sigma_ns: float = math.nan

    @property
    def ratio(self) -> float:
        """``tau_mem / tau_hop`` (the diagnostics grade this number)."""
        return self.memory_time_ns / self.hopping_time_ns

    @property
    def ratio_sigma(self) -> float:
        """Standard error of :attr:`ratio`: the relative errors of tau_mem and tau_hop added in
        quadrature (a NaN tau_hop error counts as exact tau_hop)."""
        rel_hop = self.hopping_time_sigma_ns / self.hopping_time_ns
        rel_hop = 0.0 if math.isnan(rel_hop) else rel_hop
        if rel_hop == 0.0:
            return self.memory_time_sigma_ns / self.hopping_time_ns
        rel_mem = self.memory_time_sigma_ns / self.memory_time_ns
        return self.ratio * math.hypot(rel_mem, rel_hop)

    def describe(self) -> str:
        """One line: ``tau_mem = .. +- .. ps, tau_hop = .. +- .. ns, ratio = .. +- ..``."""
        return (
            f"tau_mem = {self.memory_time_ns * _PS_PER_NS:.3g} +- "
            f"{self.memory_time_sigma_ns * _PS_PER_NS:.2g} ps, tau_hop ({self.hopping_method}) = "
            f"{self.hopping_time_ns:.3g} +- {self.hopping_time_sigma_ns:.2g} ns, "
            f"tau_mem/tau_hop = {self.ratio:.3g} +- {self.ratio_sigma:.2g}"
        )

    def diagnostic_inputs(self) -> dict[str, float]:
        """Keyword arguments for :func:`pnp.diagnostics.diagnose` / ``DiagnosticInputs``."""
        return {"memory_time": self.memory_time_ns, "hopping_time": self.hopping_time_ns}


def time_scales(
    t_ps: Any,
    kernel: Any,
    profile: Any,
    *,
    hopping_method: str = "mfpt",
    hopping_time_ns: float | None = None,
    hopping_sigma_ns: float = math.nan,
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
        A :class:`stochastic.profiles.Profile` (W [kT] and D [nm^2/ns] along z [nm]); may be
        None when ``hopping_time_ns`` is given.
    hopping_method
        ``"mfpt"`` (mean first-passage time across the profile) or ``"kramers"``
        (:func:`stochastic.smoluchowski.hopping_time_ns`); with ``hopping_time_ns``, a label
        of where that number comes from.
    hopping_time_ns, hopping_sigma_ns
        tau_hop [ns] computed elsewhere and its standard error, e.g. the bootstrap of
        :meth:`stochastic.chain.HierarchyChain.mfpt_ns` over the PMF's and D(z)'s errors
        (default: tau_hop from ``profile``, without an error).
    n_boot, seed
        Bootstrap resamples of the kernel estimates and their seed.
    """
    from stochastic import memory, smoluchowski

    tau = memory.memory_time(np.asarray(t_ps, dtype=float), kernel, n_boot=n_boot, seed=seed)
    if hopping_time_ns is None:
        hop = smoluchowski.hopping_time_ns(profile, hopping_method)
    else:
        hop = float(hopping_time_ns)
        if not (math.isfinite(hop) and hop > 0):
            raise InputError(f"hopping_time_ns must be a finite time > 0 ns, got {hopping_time_ns}")
        if not (math.isnan(hopping_sigma_ns) or hopping_sigma_ns >= 0):
            raise InputError(f"hopping_sigma_ns must be >= 0 ns (or NaN), got {hopping_sigma_ns}")
    sigma = tau.sigma / _PS_PER_NS if math.isfinite(tau.sigma) else math.nan
    return TimeScales(
        tau.tau / _PS_PER_NS, sigma, float(hop), hopping_method, float(hopping_sigma_ns)
    )
