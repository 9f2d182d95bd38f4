"""First passage of independent ions in the BD channel model (validation against 1D theory).

With the ion-ion interaction switched off (``interactions=False``) the ions of a
:class:`~stochastic.bd.system.BDSystem` are independent copies of one ion in the external field,
the walls and ``D(z)``. :func:`first_passage_times` starts ``n`` of them at one point and records
when each first leaves the slab ``z_lo < z < z_hi`` (absorbing planes): the particle counterpart
of :func:`stochastic.smoluchowski.mfpt` with both ends absorbing.
"""

from __future__ import annotations

import numpy as np

from stochastic.bd import kernels as K
from stochastic.bd.geometry import BDInputError
from stochastic.bd.state import IonState
from stochastic.bd.system import BDSystem
from stochastic.langevin import as_generator

__all__ = ["first_passage_times"]


def first_passage_times(
    system: BDSystem,
    start: tuple[float, float, float],
    bounds: tuple[float, float],
    n: int,
    *,
    seed: int | np.random.Generator,
    max_time_ns: float,
    species: int = 0,
) -> np.ndarray:
    """Exit times [ns] of ``n`` independent ions from ``bounds = (z_lo, z_hi)``.

    Ions that have not left by ``max_time_ns`` get ``inf``. The system must have no ion-ion
    interaction (``interactions=False``).
    """
    if system.interactions:
        raise BDInputError(
            "first_passage_times needs independent ions: build the system with interactions=False"
        )
    z_lo, z_hi = map(float, bounds)
    if not z_lo < start[2] < z_hi:
        raise BDInputError(f"start z = {start[2]:g} must lie inside bounds {bounds}")
    rng = as_generator(seed)
    m = system.compile()
    st = IonState(system, capacity=int(n))
    for _ in range(int(n)):
        st.add(int(species), *start)
    times = np.full(int(n), np.inf)
    alive = np.arange(int(n))
    cross = np.zeros(len(system.names))
    n_steps = round(max_time_ns / system.dt)
    for step in range(1, n_steps + 1):
        noise = rng.standard_normal((1, st.n, 3))
        K.advance_state(st, m, noise, cross)
        z = st.z[: st.n]
        out = np.flatnonzero((z <= z_lo) | (z >= z_hi))
        if out.size:
            times[alive[out]] = step * system.dt
            for i in sorted(out.tolist(), reverse=True):
                st.remove(i)
                alive[i] = alive[st.n]
            alive = alive[: st.n]
        if st.n == 0:
            break
    return times
