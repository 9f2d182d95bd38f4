"""Energy minimisation by FIRE (Bitzek et al., Phys. Rev. Lett. 97, 170201 (2006))."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinimizationResult:
    """Minimised positions [nm], final energy [kJ/mol], max force [kJ/mol/nm], steps, converged."""

    positions: np.ndarray
    energy: float
    max_force: float
    steps: int
    converged: bool


def fire(
    forcefield: ForceField,
    positions: np.ndarray,
    force_tol: float = 10.0,
    max_steps: int = 5000,
    dt_start: float = 1e-3,
    dt_max: float = 1e-2,
    max_move: float = 0.01,
    masses: np.ndarray | None = None,
) -> MinimizationResult:
    """Minimise the energy with FIRE until the largest force component is below ``force_tol``.

    Parameters
    ----------
    forcefield
        The force field.
    positions
        Start positions (N, 3) [nm] (copied).
    force_tol
        Convergence threshold on max |F| [kJ/mol/nm].
    max_steps
        Step limit (returns ``converged=False`` when reached).
    dt_start, dt_max
        Initial and largest fictitious time step [ps].
    max_move
        Largest displacement of any particle per step [nm] (keeps overlapping starts stable).
    masses
        Fictitious masses (default all 1).
    """
    if force_tol <= 0:
        raise MDInputError(f"force_tol must be > 0, got {force_tol}")
    x = np.array(positions, dtype=float)
    m = np.ones(len(x)) if masses is None else np.asarray(masses, float)
    v = np.zeros_like(x)
    dt, a, n_pos = dt_start, 0.1, 0
    res = forcefield.compute(x)
    f = res.forces
    for step in range(max_steps):
        fmax = float(np.max(np.abs(f)))
        if fmax < force_tol:
            return MinimizationResult(x, res.potential_energy, fmax, step, True)
        power = float(np.sum(f * v))
        if power > 0:
            fn = np.linalg.norm(f)
            v = (1 - a) * v + a * np.linalg.norm(v) * f / max(fn, 1e-300)
            n_pos += 1
            if n_pos > 5:
                dt = min(dt * 1.1, dt_max)
                a *= 0.99
        else:
            v[:] = 0.0
            dt *= 0.5
            a, n_pos = 0.1, 0
        v += dt * f / m[:, None]
        dx = dt * v
        big = np.max(np.linalg.norm(dx, axis=1))
        if big > max_move:
            dx *= max_move / big
        x += dx
        res = forcefield.compute(x)
        f = res.forces
    fmax = float(np.max(np.abs(f)))
    log.warning(
        "FIRE did not reach max force %.3g after %d steps (%.3g)", force_tol, max_steps, fmax
    )
    return MinimizationResult(x, res.potential_energy, fmax, max_steps, fmax < force_tol)
