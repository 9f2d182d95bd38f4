"""First-passage statistics of Langevin / Brownian particles between absorbing walls.

:func:`first_passage_times` advances a :class:`stochastic.langevin.Integrator` (BAOAB or Brownian
dynamics) in place until every particle hits an absorbing wall of its :class:`stochastic.forces.
Walls` or ``t_max`` [ps], removing absorbed particles from the simulated set (only survivors cost
time). :class:`FirstPassage` holds the times with censoring and gives the mean (also from censored
data with an exponential tail), its standard error and the survival curve; the 1D Smoluchowski
counterpart is :func:`stochastic.smoluchowski.mfpt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stochastic.langevin import Integrator, ParticleState, as_generator, check_finite
from stochastic.profiles import StochasticInputError

__all__ = ["FirstPassage", "first_passage_times"]


@dataclass(frozen=True, eq=False)
class FirstPassage:
    """First-passage times [ps] (NaN where the particle had not been absorbed by ``t_max``)."""

    times: np.ndarray
    side: np.ndarray  # -1 low wall, +1 high wall, 0 survived
    t_max: float

    @property
    def n_absorbed(self) -> int:
        """Number of absorbed particles."""
        return int(np.count_nonzero(self.side))

    def mean(self) -> float:
        """Mean first-passage time [ps]; raises if any particle survived (censored data)."""
        if self.n_absorbed < self.times.size:
            raise StochasticInputError(
                f"{self.times.size - self.n_absorbed} particles not absorbed by t_max = "
                f"{self.t_max:g} ps: the mean would be biased; run longer"
            )
        return float(np.mean(self.times))

    def mean_with_tail(self) -> float:
        """Mean first-passage time [ps] from censored data with an exponential tail.

        ``<t> = int_0^T S(t) dt + S(T)/lambda``: the empirical survival up to ``T = t_max`` and,
        beyond it, the exponential decay of the slowest relaxation mode, with the escape rate
        ``lambda`` = events / exposure time in ``[T/2, T]``. Valid when the survival is
        exponential by T/2 (barrier crossing: the well relaxes much faster than the escape).
        Equals :meth:`mean` when every particle was absorbed.
        """
        n = self.times.size
        done = self.side != 0
        if done.all():
            return self.mean()
        t_cap = np.where(done, self.times, self.t_max)
        integral = float(np.sum(t_cap)) / n  # int_0^T S_emp(t) dt
        s_end = 1.0 - np.count_nonzero(done) / n
        half = 0.5 * self.t_max
        events = np.count_nonzero(done & (self.times > half))
        exposure = float(np.sum(np.clip(t_cap - half, 0.0, None)))
        if events < 20:
            raise StochasticInputError(
                f"only {events} absorptions in [t_max/2, t_max]: too few to fit the tail; "
                "run longer"
            )
        return integral + s_end * exposure / events

    def stderr(self) -> float:
        """Standard error of the mean [ps]."""
        t = self.times[self.side != 0]
        return float(np.std(t, ddof=1) / math.sqrt(t.size))

    def survival(self, t: np.ndarray) -> np.ndarray:
        """Empirical survival probability at times ``t`` [ps]."""
        done = np.sort(self.times[self.side != 0])
        return 1.0 - np.searchsorted(done, np.asarray(t), side="right") / self.times.size


def first_passage_times(
    integrator: Integrator,
    state: ParticleState,
    rng: np.random.Generator | int,
    t_max: float,
    *,
    progress: bool = False,
) -> FirstPassage:
    """Run until every particle hits an absorbing wall or ``t_max`` [ps]; absorbed particles are
    removed from the simulated set (only survivors cost time)."""
    walls = integrator.walls
    if walls is None or not walls.has_absorbing:
        raise StochasticInputError("first-passage statistics need an absorbing wall (Walls)")
    rng = as_generator(rng)
    s = state.copy()
    n = s.n
    idx = np.arange(n)
    fpt = np.full(n, np.nan)
    side = np.zeros(n, dtype=np.int8)
    start = walls.absorbed(s.x)
    if start.any():
        raise StochasticInputError("some particles start on or beyond an absorbing wall")
    buf = np.empty_like(s.x)
    n_steps = math.ceil(t_max / integrator.dt)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="absorbed", unit="particle", mininterval=0.5)
    t = s.t
    for k in range(1, n_steps + 1):
        integrator.advance(s, rng, buf)
        t = state.t + k * integrator.dt
        if walls.any_absorbed(s.x):
            hit = walls.absorbed(s.x)
            m = hit != 0
            fpt[idx[m]] = t - state.t
            side[idx[m]] = hit[m]
            keep = ~m
            idx = idx[keep]
            s = ParticleState(
                s.x[keep],
                None if s.v is None else s.v[keep],
                s.f[keep],
                s.t,
                None if s.noise is None else s.noise[keep],
            )
            buf = np.empty_like(s.x)
            if bar is not None:
                bar.update(int(m.sum()))
            if idx.size == 0:
                break
        if k % 1000 == 0:
            check_finite(s, integrator)
    if bar is not None:
        bar.close()
    return FirstPassage(fpt, side, float(t_max))
