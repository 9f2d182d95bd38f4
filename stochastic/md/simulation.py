"""The simulation loop: state arrays, force evaluation, integrator, reporters, progress bar."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from tqdm.auto import tqdm

from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField, ForceResult
from stochastic.md.system import KB_KJ_PER_MOL_K

if TYPE_CHECKING:
    from stochastic.md.drude import DrudeModel

log = logging.getLogger(__name__)

#: 1 kJ mol^-1 nm^-3 in bar.
KJ_PER_MOL_NM3_TO_BAR: float = 16.605390671738467


class Integrator(Protocol):
    """An integrator advances a :class:`Simulation` by one step."""

    dt: float
    conserves_momentum: bool

    def step(self, sim: Simulation) -> None: ...


class Reporter(Protocol):
    """Called every ``interval`` steps with the simulation."""

    interval: int

    def report(self, sim: Simulation) -> None: ...


@dataclass(frozen=True)
class State:
    """An immutable snapshot: positions [nm], velocities [nm/ps], step, time [ps]."""

    positions: np.ndarray
    velocities: np.ndarray
    step: int
    time: float


class Simulation:
    """Owns copies of positions and velocities and advances them with an integrator.

    Parameters
    ----------
    forcefield
        The force field (its system gives masses and the box).
    integrator
        :class:`~stochastic.md.integrators.VelocityVerlet`, ``LangevinBAOAB``...
    positions, velocities
        Initial state (N, 3) [nm], [nm/ps]; velocities default to zero. Both are copied.
    scf_drude
        A :class:`~stochastic.md.drude.DrudeModel` to relax self-consistently at every force
        evaluation (SCF scheme: Drude particles are massless and not integrated).
    """

    def __init__(
        self,
        forcefield: ForceField,
        integrator: Integrator,
        positions: np.ndarray,
        velocities: np.ndarray | None = None,
        scf_drude: DrudeModel | None = None,
    ):
        self.forcefield = forcefield
        self.system = forcefield.system
        self.integrator = integrator
        n = self.system.n_particles
        self.x = np.array(positions, dtype=np.float64, order="C")
        if self.x.shape != (n, 3):
            raise MDInputError(f"positions must have shape ({n}, 3), got {self.x.shape}")
        self.v = np.zeros_like(self.x) if velocities is None else np.array(velocities, float)
        if self.v.shape != (n, 3):
            raise MDInputError(f"velocities must have shape ({n}, 3), got {self.v.shape}")
        self.masses = self.system.masses
        self.inv_m = 1.0 / self.masses
        self.scf_drude = scf_drude
        if scf_drude is not None:
            self.inv_m[scf_drude.drudes] = 0.0
            self.v[scf_drude.drudes] = 0.0
        self.step_count = 0
        self.time = 0.0
        self.result: ForceResult = self._compute()
        self.f = self.result.forces

    def _compute(self) -> ForceResult:
        if self.scf_drude is not None:
            return self.scf_drude.relax(self.forcefield, self.x)
        return self.forcefield.compute(self.x)

    def evaluate(self) -> None:
        """Recompute forces (and energies, virial) at the current positions."""
        self.result = self._compute()
        self.f = self.result.forces

    # --- observables -----------------------------------------------------------------------
    @property
    def dof(self) -> int:
        """Kinetic degrees of freedom (3 per mobile particle, minus 3 if momentum is conserved)."""
        mobile = int(np.count_nonzero(self.inv_m))
        return 3 * mobile - (3 if self.integrator.conserves_momentum else 0)

    def kinetic_energy(self) -> float:
        """Kinetic energy [kJ/mol]."""
        return 0.5 * float(np.einsum("i,ij,ij->", self.masses * (self.inv_m > 0), self.v, self.v))

    def temperature(self) -> float:
        """Kinetic temperature [K]."""
        return 2.0 * self.kinetic_energy() / (self.dof * KB_KJ_PER_MOL_K)

    def potential_energy(self) -> float:
        """Potential energy [kJ/mol]."""
        return self.result.potential_energy

    def pressure(self) -> float:
        """Virial pressure ``(2K + W)/(3V)`` [kJ/mol/nm^3] (x 16.6054 for bar); needs a box."""
        if self.system.box is None:
            raise MDInputError("pressure needs a periodic box")
        return (2.0 * self.kinetic_energy() + self.result.virial) / (3.0 * self.system.box.volume)

    @property
    def state(self) -> State:
        """A copy of the current state."""
        return State(self.x.copy(), self.v.copy(), self.step_count, self.time)

    # --- loop --------------------------------------------------------------------------------
    def run(self, n_steps: int, reporters: Sequence[Reporter] = (), progress: bool = False) -> None:
        """Advance ``n_steps`` steps, calling each reporter every ``interval`` steps."""
        for r in reporters:
            if r.interval <= 0:
                raise MDInputError(f"reporter interval must be >= 1, got {r.interval}")
        bar = tqdm(total=n_steps, disable=not progress, unit="step", desc="MD")
        step = self.integrator.step
        for _ in range(n_steps):
            step(self)
            self.step_count += 1
            self.time += self.integrator.dt
            for r in reporters:
                if self.step_count % r.interval == 0:
                    r.report(self)
            bar.update(1)
        bar.close()
