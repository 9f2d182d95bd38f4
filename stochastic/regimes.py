"""Which stochastic limit applies: inertial Langevin or overdamped Brownian dynamics.

The momentum relaxation time ``t_mom = m/gamma`` is compared with the integration step and the
time an ion takes to cross the channel (seed: m = 6.5e-26 kg, gamma = 1e-12 kg/s gives
t_mom = 6.5e-14 s, far below nanosecond crossing times, so the overdamped Smoluchowski limit
applies). Particle units: amu, amu/ps, ps; SI variants are given for convenience.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from poreflux import units
from stochastic.profiles import AMU_PER_PS_IN_KG_PER_S, Profile, StochasticInputError

__all__ = [
    "RegimeReport",
    "assess_regime",
    "assess_regime_si",
    "crossing_time_ps",
    "momentum_relaxation_time_ps",
]


def momentum_relaxation_time_ps(mass_amu: float, gamma_amu_per_ps: float) -> float:
    """``t_mom = m/gamma`` [ps]."""
    if not (mass_amu > 0 and gamma_amu_per_ps > 0):
        raise StochasticInputError(
            f"mass (amu) and friction (amu/ps) must be > 0, got {mass_amu!r}, {gamma_amu_per_ps!r}"
        )
    return mass_amu / gamma_amu_per_ps


def crossing_time_ps(profile: Profile) -> float:
    """Mean first-passage time [ps] from the left end to the right end of a profile."""
    from stochastic.smoluchowski import mfpt

    return 1e3 * float(mfpt(profile, float(profile.z[0])))


@dataclass(frozen=True)
class RegimeReport:
    """``t_mom`` against the time step and the crossing time, with the applicable limit."""

    t_mom_ps: float
    dt_ps: float | None
    crossing_time_ps: float | None
    regime: str  # "overdamped", "inertial" or "intermediate"
    advice: str

    @property
    def t_mom_s(self) -> float:
        """Momentum relaxation time [s]."""
        return self.t_mom_ps * units.PS

    def __str__(self) -> str:
        parts = [f"t_mom = m/gamma = {self.t_mom_ps:.4g} ps"]
        if self.dt_ps is not None:
            parts.append(f"dt = {self.dt_ps:.4g} ps (dt/t_mom = {self.dt_ps / self.t_mom_ps:.3g})")
        if self.crossing_time_ps is not None:
            parts.append(
                f"crossing time = {self.crossing_time_ps:.4g} ps "
                f"(t_mom/t_cross = {self.t_mom_ps / self.crossing_time_ps:.3g})"
            )
        return "; ".join(parts) + f" -> {self.regime}: {self.advice}"


def assess_regime(
    mass_amu: float,
    gamma_amu_per_ps: float,
    *,
    dt_ps: float | None = None,
    crossing_time_ps: float | None = None,
    separation: float = 0.01,
) -> RegimeReport:
    """Say whether the overdamped limit applies and whether a step resolves the inertia.

    Overdamped when ``t_mom < separation * t_cross`` (default 1%); inertial when
    ``t_mom > 0.1 t_cross``; intermediate otherwise. With ``dt_ps`` the advice also says whether
    the step resolves t_mom (inertial Langevin; BAOAB is stable for any gamma but only resolves
    the velocity relaxation for dt < t_mom) or is long enough for Brownian dynamics (dt >> t_mom).
    """
    t_mom = momentum_relaxation_time_ps(mass_amu, gamma_amu_per_ps)
    for name, val in (("dt_ps", dt_ps), ("crossing_time_ps", crossing_time_ps)):
        if val is not None and not (math.isfinite(val) and val > 0):
            raise StochasticInputError(f"{name} must be > 0 ps, got {val!r}")
    advice = []
    if crossing_time_ps is None:
        regime = "overdamped" if t_mom < 1.0 else "intermediate"
        advice.append("give crossing_time_ps (e.g. from crossing_time_ps(profile)) to decide")
    else:
        ratio = t_mom / crossing_time_ps
        if ratio < separation:
            regime = "overdamped"
            advice.append(
                "momentum relaxes long before the ion crosses: Brownian dynamics or the 1D "
                "Smoluchowski equation are adequate"
            )
        elif ratio > 0.1:
            regime = "inertial"
            advice.append("inertia matters on the crossing time: use inertial Langevin (BAOAB)")
        else:
            regime = "intermediate"
            advice.append(
                "no clean separation of time scales: use inertial Langevin and compare with BD"
            )
    if dt_ps is not None:
        if dt_ps < t_mom:
            advice.append("the step resolves t_mom (fine for inertial Langevin)")
        elif regime == "overdamped":
            advice.append("the step is longer than t_mom: use Brownian dynamics at this step")
        else:
            advice.append(f"the step does not resolve t_mom: use dt < {t_mom:.3g} ps for inertia")
    return RegimeReport(t_mom, dt_ps, crossing_time_ps, regime, "; ".join(advice))


def assess_regime_si(
    mass_kg: float,
    gamma_kg_per_s: float,
    *,
    dt_s: float | None = None,
    crossing_time_s: float | None = None,
    separation: float = 0.01,
) -> RegimeReport:
    """:func:`assess_regime` with SI inputs (kg, kg/s, s)."""
    return assess_regime(
        mass_kg / units.AMU,
        gamma_kg_per_s / AMU_PER_PS_IN_KG_PER_S,
        dt_ps=None if dt_s is None else dt_s / units.PS,
        crossing_time_ps=None if crossing_time_s is None else crossing_time_s / units.PS,
        separation=separation,
    )
