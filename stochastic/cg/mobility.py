"""Mobility preservation: calibrate the CG Langevin friction so that D_CG equals D_ref.

Why: a CG potential (from IBI or force matching) reproduces structure, but the smoother free
energy surface and the missing fast degrees of freedom make Newtonian CG dynamics too fast
(typically 4-10x). Adding a Langevin friction per bead type restores the reference mobility.

Procedure (:func:`calibrate_friction`):

1. ``D_free`` of the un-thermostatted CG dynamics gives the speed-up ``D_free / D_ref`` that is
   reported (before calibration).
2. First guess by friction additivity: the CG bead's total friction is the intrinsic one of the
   CG dynamics plus the Langevin one, ``kT/D_ref = kT/D_free + M gamma`` so
   ``gamma_0 = (kT/M) (1/D_ref - 1/D_free)``. (For a bead of n atoms with atomistic Langevin
   frictions this is the usual sum rule ``zeta_bead = sum_i m_i gamma_i`` when the CG potential
   itself adds no friction.)
3. A few MD evaluations with a secant iteration on ``ln D`` vs ``ln gamma`` (the first step
   uses the slope ``d ln D / d ln gamma = -(1 - D/D_free)`` of the additivity model; with more
   than two points a least-squares line through the last four, which averages the MD noise of
   D), per bead type at once, until every ``|D/D_ref - 1|`` is below ``tolerance``. (A
   bracketing solver such as ``scipy.optimize.brentq`` assumes a deterministic function; with
   noisy D the regression secant is more robust.)

Difference from the data-driven route (Bag, Meinel & Mueller-Plathe, JCTC 18, 7108 (2022), the
mobility-preserving CG seed): there a neural network trained on a synthetic database predicts
the *potential* from the bead mass, the pair correlation function and the target D, so that
Newtonian CG dynamics with that potential has the right D and structure (trading a little of
each). Here the potential is left as fitted (structure exact) and the *dynamics* is changed by a
friction; this needs no training data but makes the CG dynamics Langevin, and D is matched at the
state point of the calibration only. :class:`PotentialPredictor` is the plug-in point for a
data-driven predictor: anything with ``predict(mass, rdf, diffusion, temperature)`` returning
pair tables can replace IBI/force matching in a workflow.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stochastic.cg.errors import CGConvergenceError, CGInputError
from stochastic.cg.tabulated import PairTable
from stochastic.cg.targets import RDF, Estimate
from stochastic.md.system import KB_KJ_PER_MOL_K

log = logging.getLogger(__name__)

#: ``evaluate({type: gamma [1/ps]}) -> {type: D estimate [nm^2/ps]}`` (one CG MD run).
DiffusionEvaluator = Callable[[dict[str, float]], dict[str, Estimate]]


class PotentialPredictor(Protocol):
    """A model that predicts a mobility-preserving CG potential (data-driven route).

    Implementations (e.g. a network trained as in Bag et al. 2022) take the bead masses [amu],
    the target RDFs, the target self-diffusion coefficients [nm^2/ps] and the temperature [K]
    and return pair tables usable by :class:`stochastic.cg.tabulated.TabulatedPair`.
    """

    def predict(
        self,
        masses: dict[str, float],
        rdfs: dict[tuple[str, str], RDF],
        diffusion: dict[str, float],
        temperature: float,
    ) -> dict[tuple[str, str], PairTable]: ...


@dataclass(frozen=True)
class CalibrationStep:
    """One MD evaluation: frictions used and D measured per type."""

    friction: dict[str, float]
    diffusion: dict[str, Estimate]

    def describe(self, target: dict[str, float]) -> str:
        """One line with the relative deviation per type."""
        parts = [
            f"{k}: gamma {self.friction[k]:.4g}/ps D {v.value:.4g} ({v.value / target[k] - 1:+.1%})"
            for k, v in self.diffusion.items()
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class FrictionCalibration:
    """Result: calibrated frictions [1/ps], final D, uncalibrated speed-up, all evaluations."""

    friction: dict[str, float]
    diffusion: dict[str, Estimate]
    d_reference: dict[str, float]
    d_free: dict[str, float]
    initial_guess: dict[str, float]
    history: tuple[CalibrationStep, ...]

    @property
    def speedup(self) -> dict[str, float]:
        """``D_free / D_ref`` per type: acceleration of the un-thermostatted CG dynamics."""
        return {k: self.d_free[k] / self.d_reference[k] for k in self.d_reference}

    @property
    def relative_error(self) -> dict[str, float]:
        """``D_CG / D_ref - 1`` after calibration."""
        return {k: self.diffusion[k].value / self.d_reference[k] - 1 for k in self.d_reference}

    def report(self) -> str:
        """Human-readable summary."""
        lines = ["type  D_ref      D_free     speed-up  gamma0    gamma     D_CG      error"]
        for k, dref in self.d_reference.items():
            lines.append(
                f"{k:5s} {dref:.4e} {self.d_free[k]:.4e} {self.speedup[k]:8.2f}  "
                f"{self.initial_guess[k]:.4g}  {self.friction[k]:.4g}  "
                f"{self.diffusion[k].value:.4e} {self.relative_error[k]:+.2%}"
            )
        return "\n".join(lines)


def additivity_guess(d_ref: float, d_free: float, mass: float, temperature: float) -> float:
    """``gamma_0 = (kT/M)(1/D_ref - 1/D_free)`` [1/ps] (friction additivity)."""
    if d_ref <= 0 or d_free <= 0:
        raise CGInputError("diffusion coefficients must be > 0")
    if d_free <= d_ref:
        raise CGInputError(
            f"the un-thermostatted CG model already diffuses slower (D_free = {d_free:.4g}) than "
            f"the reference (D_ref = {d_ref:.4g}): a Langevin friction can only slow it down; "
            "make the CG potential smoother or check the reference D"
        )
    kt = KB_KJ_PER_MOL_K * temperature
    return kt / mass * (1.0 / d_ref - 1.0 / d_free)


def calibrate_friction(
    evaluate: DiffusionEvaluator,
    d_reference: dict[str, float],
    d_free: dict[str, float],
    masses: dict[str, float],
    temperature: float,
    tolerance: float = 0.02,
    max_evaluations: int = 6,
) -> FrictionCalibration:
    """Find per-type Langevin frictions giving ``D_CG = D_ref`` (see the module docstring).

    Parameters
    ----------
    evaluate
        Runs the CG model with ``{type: gamma}`` and returns ``{type: Estimate(D, err)}``.
    d_reference
        Reference D per bead type [nm^2/ps] (mapped reference, e.g. centre-of-mass MSD).
    d_free
        D of the un-thermostatted CG dynamics per type [nm^2/ps].
    masses
        Bead mass per type [amu].
    temperature
        Temperature [K].
    tolerance
        Stop when every ``|D/D_ref - 1| < tolerance``.
    max_evaluations
        MD evaluations allowed; exceeding them raises :class:`CGConvergenceError` with history.
    """
    if set(d_reference) != set(d_free) or set(d_reference) - set(masses):
        raise CGInputError("d_reference, d_free and masses must cover the same bead types")
    guess = {
        k: additivity_guess(d_reference[k], d_free[k], masses[k], temperature) for k in d_reference
    }
    history: list[CalibrationStep] = []
    logg = {k: math.log(g) for k, g in guess.items()}
    pts: dict[str, list[tuple[float, float]]] = {k: [] for k in d_reference}
    for _ in range(max_evaluations):
        gam = {k: math.exp(v) for k, v in logg.items()}
        dmeas = evaluate(gam)
        step = CalibrationStep(gam, dmeas)
        history.append(step)
        log.info("friction calibration: %s", step.describe(d_reference))
        res = {k: math.log(dmeas[k].value / d_reference[k]) for k in d_reference}
        if all(abs(math.exp(v) - 1) < tolerance for v in res.values()):
            return FrictionCalibration(
                gam, dmeas, dict(d_reference), dict(d_free), guess, tuple(history)
            )
        for k in d_reference:
            pts[k].append((logg[k], res[k]))
            logg[k] = _next_log_gamma(pts[k][-4:], dmeas[k].value / d_free[k])
    lines = "\n".join(h.describe(d_reference) for h in history)
    raise CGConvergenceError(
        f"friction calibration did not reach |D/D_ref - 1| < {tolerance} in {max_evaluations} "
        f"MD evaluations:\n{lines}\nUse longer CG runs (less noisy D) or more evaluations.",
        history,
    )


def _next_log_gamma(points: list[tuple[float, float]], d_over_dfree: float) -> float:
    """Root of ``ln(D/D_ref)`` vs ``ln gamma``: a line through the recent points (a secant
    for two, least squares for more, which averages MD noise); the first step and any
    non-negative fitted slope use the additivity slope ``-(1 - D/D_free)``."""
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    slope = -(1.0 - min(d_over_dfree, 0.95))
    if len(points) >= 2 and np.ptp(x) > 1e-6:
        fitted = float(np.polyfit(x, y, 1)[0])
        if fitted < -0.05:
            slope = fitted
            intercept = float(np.mean(y) - slope * np.mean(x))
            return float(np.clip(-intercept / slope, x[-1] - 2.0, x[-1] + 2.0))
    return float(x[-1] - np.clip(y[-1] / slope, -2.0, 2.0))
