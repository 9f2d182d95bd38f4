"""Several state points at once: fitting targets, multi-state IBI and held-out validation.

A CG pair potential fitted at one state point (temperature, density) is a potential of mean
force for that state; whether it transfers is an empirical question, answered only at a state
point never used in the fit. :class:`StatePoint` bundles one state's target RDFs, the engine
running the CG model there and its temperature; :class:`MultiStateIBI` fits one potential to
several states at once by averaging the IBI updates (Moore, Iacovella & McCabe, J. Chem. Phys.
140, 224104 (2014)); relative entropy sums its gradient and Hessian over states
(:mod:`stochastic.cg.relative_entropy`); force matching pools the frames of every state
(:func:`stochastic.cg.force_matching.force_match_states`). :func:`validate` runs a CG model at
a held-out state and compares g(r), pressure and D with the reference there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.cg.ibi import (
    IBIIteration,
    IBIResult,
    IBISettings,
    IterativeBoltzmannInversion,
    Pair,
    Simulate,
    pressure_and_error,
    rdf_distance,
)
from stochastic.cg.sampling import Sample
from stochastic.cg.targets import RDF, Estimate, diffusion_estimate, pressure_estimate
from stochastic.cg.validation import StatePointComparison

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatePoint:
    """One state point of a multi-state fit.

    Parameters
    ----------
    label
        Name used in reports (e.g. ``"T*=1.0"``).
    temperature
        Temperature [K].
    targets
        ``{pair: RDF}`` of the mapped reference at this state (one grid for all states).
    simulate
        ``simulate(tables) -> ({pair: RDF}, pressure)`` running the CG model at this state.
    weight
        Relative weight of this state in the fit (> 0).
    pressure
        Reference pressure [kJ/mol/nm^3] with its error, if known (reports; the pressure
        constraint of relative entropy).
    volume
        Volume [nm^3] of the CG simulation box (needed by the pressure constraint of relative
        entropy, which turns virial changes into pressure changes).
    """

    label: str
    temperature: float
    targets: dict[Pair, RDF]
    simulate: Simulate
    weight: float = 1.0
    pressure: Estimate | None = None
    volume: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise CGInputError(f"state {self.label!r}: temperature must be > 0 K")
        if not (np.isfinite(self.weight) and self.weight > 0):
            raise CGInputError(f"state {self.label!r}: weight must be > 0, got {self.weight}")
        if not self.targets:
            raise CGInputError(f"state {self.label!r} has no target RDF")
        if self.volume is not None and not (np.isfinite(self.volume) and self.volume > 0):
            raise CGInputError(f"state {self.label!r}: volume must be > 0 nm^3, got {self.volume}")
        if self.pressure is not None and not np.isfinite(self.pressure.value):
            raise CGInputError(f"state {self.label!r}: reference pressure must be finite")


def check_states(states: Sequence[StatePoint]) -> None:
    """Raise unless the states share pairs and one RDF grid and have distinct labels."""
    if not states:
        raise CGInputError("need at least one state point")
    labels = [s.label for s in states]
    if len(set(labels)) != len(labels):
        raise CGInputError(f"state labels must be unique, got {labels}")
    first = states[0]
    ref = next(iter(first.targets.values()))
    for s in states:
        if set(s.targets) != set(first.targets):
            raise CGInputError(
                f"state {s.label!r} has pairs {sorted(s.targets)}, {first.label!r} has "
                f"{sorted(first.targets)}: every state needs the same target pairs"
            )
        for t in s.targets.values():
            ref.check_same_grid(t)


class MultiStateIBI(IterativeBoltzmannInversion):
    """IBI on several states: ``dU = sum_s w_s dU_s / sum_s w_s``, one IBI/IMC update per state.

    ``dU_s`` is the single-state update with that state's target and ``kT_s``. The distance of
    an iteration is that of the worst state (with its noise floor), the pressure that of the
    first state; a ``settings.pressure_target`` refers to the first state. The initial
    potential is the Boltzmann inversion of the first state's target.
    """

    def __init__(
        self,
        states: Sequence[StatePoint],
        settings: IBISettings,
        workdir: str | Path | None = None,
    ):
        check_states(states)
        self.states = tuple(states)
        self._runs: list[dict[Pair, RDF]] = []
        first = replace(settings, temperature=states[0].temperature)
        super().__init__(states[0].targets, states[0].simulate, first, workdir)

    def _iterate(self, k: int, pots: dict[Pair, np.ndarray]) -> tuple[IBIIteration, dict]:
        t0 = time.perf_counter()
        tables = {p: self.table(u) for p, u in pots.items()}
        self._runs, worst, pressure = [], (-1.0, float("nan")), None
        for s in self.states:
            rdfs, p = s.simulate(tables)
            self._runs.append(rdfs)
            pressure = pressure_and_error(p) if pressure is None else pressure
            worst = max(worst, rdf_distance(rdfs, s.targets), key=lambda d: d[0])
            log.info("multi-state IBI %d, %s: RDF rms %.4f", k, s.label, worst[0])
        assert pressure is not None
        slim = {p: replace(g, frame_counts=None) for p, g in self._runs[0].items()}
        wall = time.perf_counter() - t0
        it = IBIIteration(k, pots, slim, worst[0], pressure[0], wall, worst[1], pressure[1])
        return it, self._runs[0]

    def update(self, potentials, rdfs, pressure, iteration=0):
        """Weighted mean over states of the single-state updates (``rdfs`` of the 1st state)."""
        runs = self._runs or [rdfs]  # after a restart only the first state's RDFs are stored
        states = self.states[: len(runs)]
        total = sum(s.weight for s in states)
        out = {p: np.zeros_like(u) for p, u in potentials.items()}
        base = self.settings
        try:
            for s, r in zip(states, runs, strict=True):
                self.targets = s.targets
                self.settings = replace(base, temperature=s.temperature)
                new = super().update(potentials, r, pressure, iteration)
                for k in out:
                    out[k] += s.weight / total * new[k]
        finally:
            self.targets, self.settings = self.states[0].targets, base
        return out


def fit_ibi_states(
    states: Sequence[StatePoint], settings: IBISettings, workdir: str | Path | None = None
) -> IBIResult:
    """Multi-state IBI (:class:`MultiStateIBI`) in one call."""
    return MultiStateIBI(states, settings, workdir).run()


def validate(
    label: str,
    reference: Sample,
    cg: Sample,
    rdf_of: Callable[[Sample], RDF],
    held_out: bool = True,
    diffusion_fit: tuple[float, float] | None = None,
) -> StatePointComparison:
    """Compare a CG run with the reference at one state point (g(r), pressure, optionally D).

    Parameters
    ----------
    label
        State label for the report.
    reference, cg
        Reference (mapped) and CG samples at the same state point; ``frames`` must be unwrapped
        bead positions for D.
    rdf_of
        Function computing the RDF of a sample on the common grid.
    held_out
        Whether the state was left out of the fit.
    diffusion_fit
        ``(t_start, t_end)`` [ps] of the MSD fit; None skips D.
    """
    d_ref = d_cg = None
    if diffusion_fit is not None:
        d_ref = diffusion_estimate(reference.frames, reference.frame_dt, *diffusion_fit)
        d_cg = diffusion_estimate(cg.frames, cg.frame_dt, *diffusion_fit)
    return StatePointComparison(
        label, held_out, rdf_of(reference), rdf_of(cg), pressure_estimate(reference.pressure),
        pressure_estimate(cg.pressure), d_ref, d_cg,
    )  # fmt: skip
