"""Integrators: velocity Verlet (NVE), Langevin BAOAB (NVT) and the Drude dual-thermostat BAOAB.

Each integrator is a small object with ``step(sim)`` acting on a
:class:`~stochastic.md.simulation.Simulation` (positions ``sim.x``, velocities ``sim.v``, forces
``sim.f``, inverse masses ``sim.inv_m``; ``sim.evaluate()`` recomputes the forces). BAOAB follows
Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34 (2013): half kick (B), half drift (A),
exact Ornstein-Uhlenbeck velocity update (O), half drift, force, half kick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from stochastic.md import cell_kernels
from stochastic.md.errors import MDInputError
from stochastic.md.system import KB_KJ_PER_MOL_K

if TYPE_CHECKING:
    from stochastic.md.drude import DrudeModel
    from stochastic.md.simulation import Simulation


def _check_dt(dt: float) -> None:
    if not (dt > 0 and math.isfinite(dt)):
        raise MDInputError(f"time step dt must be > 0 ps, got {dt!r}")


def _check_non_negative(value: float, name: str, unit: str) -> None:
    """Raise :class:`MDInputError` unless ``value`` is finite and >= 0 (NaN is refused)."""
    if not (math.isfinite(value) and value >= 0):
        raise MDInputError(f"{name} must be finite and >= 0 {unit}, got {value!r}")


@dataclass
class VelocityVerlet:
    """Velocity Verlet (NVE, time reversible, symplectic). ``dt`` [ps]."""

    dt: float
    conserves_momentum: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        _check_dt(self.dt)

    def step(self, sim: Simulation) -> None:
        """Advance one time step (fused numba kick + drift and kick on C-contiguous arrays)."""
        h = 0.5 * self.dt
        if _fusable(sim):
            threads = cell_kernels.use_threads(len(sim.x))
            kick_drift = cell_kernels.kick_drift if threads else cell_kernels.kick_drift_serial
            kick_drift(sim.x, sim.v, sim.f, sim.inv_m, h, self.dt)
            sim.evaluate()
            (cell_kernels.kick if threads else cell_kernels.kick_serial)(sim.v, sim.f, sim.inv_m, h)
            return
        h_over_m = h * sim.inv_m[:, None]
        sim.v += sim.f * h_over_m
        sim.x += self.dt * sim.v
        sim.evaluate()
        sim.v += sim.f * h_over_m


def _fusable(sim: Simulation) -> bool:
    """True if the state arrays suit the fused kernels (C-contiguous float64)."""
    return all(
        a.dtype == np.float64 and a.flags.c_contiguous for a in (sim.x, sim.v, sim.f, sim.inv_m)
    )


def _ou(v: np.ndarray, c1: float, sigma: np.ndarray, rng: np.random.Generator) -> None:
    """In place: ``v <- c1 v + sigma * xi`` (exact OU update, sigma per particle)."""
    v *= c1
    v += sigma[:, None] * rng.standard_normal(v.shape)


@dataclass
class LangevinBAOAB:
    """Langevin dynamics (NVT) by BAOAB splitting.

    Parameters
    ----------
    dt
        Time step [ps].
    temperature
        Bath temperature [K].
    friction
        Collision rate gamma [1/ps].
    seed
        Random seed (int or Generator).
    """

    dt: float
    temperature: float
    friction: float
    seed: int | np.random.Generator | None = None
    conserves_momentum: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        _check_dt(self.dt)
        _check_non_negative(self.temperature, "Langevin temperature", "K")
        _check_non_negative(self.friction, "Langevin friction", "1/ps")
        s = self.seed
        self.rng = s if isinstance(s, np.random.Generator) else np.random.default_rng(s)

    def step(self, sim: Simulation) -> None:
        """Advance one time step."""
        h = 0.5 * self.dt
        c1 = math.exp(-self.friction * self.dt)
        kt = KB_KJ_PER_MOL_K * self.temperature
        sigma = np.sqrt((1.0 - c1 * c1) * kt * sim.inv_m)
        sim.v += h * sim.f * sim.inv_m[:, None]
        sim.x += h * sim.v
        _ou(sim.v, c1, sigma, self.rng)
        sim.x += h * sim.v
        sim.evaluate()
        sim.v += h * sim.f * sim.inv_m[:, None]


@dataclass
class DrudeLangevinBAOAB:
    """Extended-Lagrangian Drude dynamics with a dual Langevin thermostat (BAOAB).

    Each core-Drude pair is thermostatted in its centre-of-mass velocity at ``temperature`` with
    ``friction`` and in its relative velocity (reduced mass) at the cold ``drude_temperature``
    with ``drude_friction`` (Lamoureux & Roux, J. Chem. Phys. 119, 3025 (2003); the Langevin
    variant of Lemkul et al., as in OpenMM's DrudeLangevinIntegrator). Non-Drude particles get the
    ordinary thermostat. If the model has a hard wall, a Drude that strays beyond it is reflected
    back and its relative velocity reversed (Chowdhary et al., JPC B 117, 9142 (2013)).

    Note: the core-Drude spring is stiff (period ~6 fs for k_D = 418,400 kJ/mol/nm^2 and
    m_D = 0.4 amu); at dt = 1 fs (omega dt ~ 1) BAOAB's full-step velocities under-report the
    relative kinetic temperature by about (omega dt)^2 / 4 while positions sample correctly.
    """

    dt: float
    temperature: float
    friction: float
    drude: DrudeModel
    drude_temperature: float = 1.0
    drude_friction: float = 20.0
    seed: int | np.random.Generator | None = None
    conserves_momentum: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        _check_dt(self.dt)
        _check_non_negative(self.temperature, "Drude Langevin temperature", "K")
        _check_non_negative(self.friction, "Drude Langevin friction", "1/ps")
        _check_non_negative(self.drude_temperature, "drude_temperature", "K")
        _check_non_negative(self.drude_friction, "drude_friction", "1/ps")
        s = self.seed
        self.rng = s if isinstance(s, np.random.Generator) else np.random.default_rng(s)

    def _o_step(self, sim: Simulation) -> None:
        cores, drudes = self.drude.cores, self.drude.drudes
        m = sim.masses
        kt = KB_KJ_PER_MOL_K * self.temperature
        ktd = KB_KJ_PER_MOL_K * self.drude_temperature
        c1 = math.exp(-self.friction * self.dt)
        c1d = math.exp(-self.drude_friction * self.dt)
        # ordinary particles
        free = np.ones(len(m), dtype=bool)
        free[cores] = False
        free[drudes] = False
        sig = np.sqrt((1 - c1 * c1) * kt / m[free])
        vf = sim.v[free]
        _ou(vf, c1, sig, self.rng)
        sim.v[free] = vf
        # pairs: centre of mass and relative motion
        mc, md = m[cores], m[drudes]
        mt = mc + md
        mu = mc * md / mt
        vcom = (mc[:, None] * sim.v[cores] + md[:, None] * sim.v[drudes]) / mt[:, None]
        vrel = sim.v[drudes] - sim.v[cores]
        _ou(vcom, c1, np.sqrt((1 - c1 * c1) * kt / mt), self.rng)
        _ou(vrel, c1d, np.sqrt((1 - c1d * c1d) * ktd / mu), self.rng)
        sim.v[cores] = vcom - (md / mt)[:, None] * vrel
        sim.v[drudes] = vcom + (mc / mt)[:, None] * vrel

    def step(self, sim: Simulation) -> None:
        """Advance one time step."""
        h = 0.5 * self.dt
        sim.v += h * sim.f * sim.inv_m[:, None]
        sim.x += h * sim.v
        self._o_step(sim)
        sim.x += h * sim.v
        self.drude.apply_hard_wall(sim.x, sim.v, sim.masses)
        sim.evaluate()
        sim.v += h * sim.f * sim.inv_m[:, None]
