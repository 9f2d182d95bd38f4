"""Run a (CG or reference) particle model with the MD core and collect CG observables.

:class:`FluidSampler` owns one :class:`~stochastic.md.simulation.Simulation` state and continues
it from run to run (each IBI iteration starts from the previous end configuration). It samples
unwrapped frames, the virial pressure and the kinetic temperature. :class:`PerTypeLangevinBAOAB`
is a BAOAB Langevin integrator with one collision rate per particle (the MD core's
``LangevinBAOAB`` takes a single friction), needed for per-bead-type friction calibration.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.md.forcefield import ForceField, ForceTerm
from stochastic.md.init import maxwell_boltzmann
from stochastic.md.integrators import VelocityVerlet
from stochastic.md.simulation import Simulation
from stochastic.md.system import KB_KJ_PER_MOL_K, System

log = logging.getLogger(__name__)


@dataclass
class PerTypeLangevinBAOAB:
    """Langevin BAOAB (Leimkuhler & Matthews 2013) with a collision rate [1/ps] per particle.

    ``friction`` is an array of length N (0 gives Newtonian motion for that particle).
    """

    dt: float
    temperature: float
    friction: np.ndarray
    seed: int | np.random.Generator | None = None
    conserves_momentum: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        g = np.asarray(self.friction, float)
        if not (self.dt > 0) or self.temperature < 0 or np.any(g < 0):
            raise CGInputError("need dt > 0 ps, temperature >= 0 K and frictions >= 0 1/ps")
        self.friction = g
        s = self.seed
        self.rng = s if isinstance(s, np.random.Generator) else np.random.default_rng(s)

    def step(self, sim: Simulation) -> None:
        """Advance one time step."""
        h = 0.5 * self.dt
        c1 = np.exp(-self.friction * self.dt)
        sigma = np.sqrt((1.0 - c1 * c1) * KB_KJ_PER_MOL_K * self.temperature * sim.inv_m)
        sim.v += h * sim.f * sim.inv_m[:, None]
        sim.x += h * sim.v
        sim.v *= c1[:, None]
        sim.v += sigma[:, None] * self.rng.standard_normal(sim.v.shape)
        sim.x += h * sim.v
        sim.evaluate()
        sim.v += h * sim.f * sim.inv_m[:, None]


@dataclass(frozen=True)
class Sample:
    """Frames (F, N, 3) [nm] (unwrapped), their times [ps], pressure and temperature series."""

    frames: np.ndarray
    times: np.ndarray
    pressure: np.ndarray
    temperature: np.ndarray
    forces: np.ndarray | None = None

    @property
    def frame_dt(self) -> float:
        """Time between frames [ps]."""
        return float(self.times[1] - self.times[0])


@dataclass
class _Recorder:
    interval: int
    frames: list[np.ndarray] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    p: list[float] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    forces: list[np.ndarray] | None = None

    def report(self, sim: Simulation) -> None:
        if self.forces is not None:
            self.forces.append(sim.f.copy())
        self.frames.append(sim.x.copy())
        self.times.append(sim.time)
        self.p.append(sim.pressure())
        self.t.append(sim.temperature())


class FluidSampler:
    """Continue-able MD runs of one system with given force terms.

    Parameters
    ----------
    system
        The system (its box must be periodic).
    positions
        Starting positions (N, 3) [nm].
    temperature
        Temperature [K].
    dt
        Time step [ps].
    seed
        Random seed for velocities and thermostat noise.
    skin
        Neighbour-list skin [nm].
    """

    def __init__(
        self,
        system: System,
        positions: np.ndarray,
        temperature: float,
        dt: float = 0.005,
        seed: int = 0,
        skin: float = 0.3,
    ):
        if system.box is None:
            raise CGInputError("the sampler needs a periodic box (pressure, RDF)")
        self.system = system
        self.temperature = float(temperature)
        self.dt = float(dt)
        self.skin = skin
        self.rng = np.random.default_rng(seed)
        self.x = np.array(positions, float)
        self.v = maxwell_boltzmann(system.masses, self.temperature, self.rng)

    def friction_array(self, friction: float | dict[str, float]) -> np.ndarray:
        """Per-particle collision rates from one value or ``{type_name: rate}``."""
        if isinstance(friction, dict):
            missing = {t.name for t in self.system.types} - set(friction)
            if missing:
                raise CGInputError(f"no friction given for bead type(s) {sorted(missing)}")
            g = np.array([friction[t.name] for t in self.system.types], float)
            return g[self.system.type_index]
        return np.full(self.system.n_particles, float(friction))

    def run(
        self,
        terms: Sequence[ForceTerm],
        n_equil: int,
        n_prod: int,
        interval: int,
        friction: float | dict[str, float] = 1.0,
        newtonian: bool = False,
        record_forces: bool = False,
    ) -> Sample:
        """Equilibrate ``n_equil`` steps with Langevin ``friction``, then sample ``n_prod`` steps.

        With ``newtonian=True`` the production is plain velocity Verlet (NVE, no thermostat):
        the "un-thermostatted" dynamics whose diffusion CG models accelerate. With
        ``record_forces`` the conservative forces of every frame are kept (force matching).
        """
        if n_prod < 2 * interval:
            raise CGInputError("n_prod must cover at least two sampling intervals")
        ff = ForceField(self.system, terms, skin=self.skin)
        gam = self.friction_array(friction)
        seed = self.rng
        lang = PerTypeLangevinBAOAB(self.dt, self.temperature, gam, seed)
        sim = Simulation(ff, lang, self.x, self.v)
        if n_equil:
            sim.run(n_equil)
        if newtonian:
            sim.integrator = VelocityVerlet(self.dt)
        rec = _Recorder(interval, forces=[] if record_forces else None)
        sim.run(n_prod, [rec])
        self.x, self.v = sim.x.copy(), sim.v.copy()
        f = np.array(rec.forces) if rec.forces is not None else None
        return Sample(
            np.array(rec.frames), np.array(rec.times), np.array(rec.p), np.array(rec.t), f
        )
