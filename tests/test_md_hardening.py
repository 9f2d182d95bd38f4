"""MD hardening: non-finite state is refused with the particle and step; Lorentz-Berthelot cross
terms against hand-computed pair energies."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann
from stochastic.md.integrators import DrudeLangevinBAOAB, LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones
from stochastic.md.simulation import NonFiniteStateError, Simulation
from stochastic.md.system import Box, ParticleType, System, reduced_temperature_to_kelvin

AR = ParticleType("A", 1.0, 0.0, 1.0, 1.0)


def small_liquid() -> tuple[ForceField, np.ndarray]:
    pos, box = fcc_lattice(3, 0.8)  # 108 particles
    sys_ = System.from_counts([AR], [len(pos)], box)
    return ForceField(sys_, [LennardJones(sys_, 2.5)]), pos


# --- non-finite state ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_initial_position_is_refused_with_the_particle(value):
    ff, pos = small_liquid()
    pos[17, 1] = value
    with pytest.raises(MDInputError, match=r"position.*particle 17.*step 0") as info:
        Simulation(ff, VelocityVerlet(0.002), pos)
    assert isinstance(info.value, NonFiniteStateError)
    assert (info.value.particle, info.value.step, info.value.quantity) == (17, 0, "position")


def test_non_finite_initial_velocity_is_refused_with_the_particle():
    ff, pos = small_liquid()
    v = np.zeros_like(pos)
    v[3, 0] = math.nan
    with pytest.raises(MDInputError, match=r"velocit.*particle 3.*step 0"):
        Simulation(ff, VelocityVerlet(0.002), pos, v)


class _CorruptAt:
    """Integrator wrapper that writes a NaN into ``array`` of particle ``index`` at step ``at``."""

    def __init__(self, inner, array: str, index: int, at: int):
        self.inner, self.array, self.index, self.at = inner, array, index, at
        self.dt, self.conserves_momentum, self.n = inner.dt, inner.conserves_momentum, 0

    def step(self, sim):
        self.inner.step(sim)
        self.n += 1
        if self.n == self.at:
            getattr(sim, self.array)[self.index, 2] = math.nan


@pytest.mark.parametrize(
    ("array", "quantity"), [("x", "position"), ("v", "velocity"), ("f", "force")]
)
def test_non_finite_state_during_a_run_names_particle_and_step(array, quantity):
    ff, pos = small_liquid()
    integ = _CorruptAt(VelocityVerlet(0.002), array, 42, at=7)
    sim = Simulation(ff, integ, pos)
    with pytest.raises(NonFiniteStateError, match=rf"{quantity}.*particle 42.*step 7") as info:
        sim.run(20)
    assert (info.value.particle, info.value.step, info.value.quantity) == (42, 7, quantity)
    assert sim.step_count == 7  # the run stopped at the step that produced the bad state


def test_non_finite_force_from_the_force_field_names_the_step():
    """A force term that returns NaN (e.g. an unstable step) is reported with the step."""
    ff, pos = small_liquid()

    class Blowup:
        name, cutoff, calls = "blowup", None, 0

        def compute(self, positions, nlist, forces):
            self.calls += 1
            if self.calls == 4:  # the 4th evaluation = step 3
                forces[9, 0] = math.nan
            return 0.0, 0.0

    ff = ForceField(ff.system, [*ff.terms, Blowup()])
    sim = Simulation(ff, VelocityVerlet(0.002), pos)
    with pytest.raises(MDInputError, match=r"particle.*9.*step 3"):
        sim.run(10)


def test_unstable_time_step_stops_the_run_at_the_step_it_happened():
    """dt* = 0.05 (10x the usual) at T* = 2: atoms collide within a few steps; the overlap error
    says at which step, and the state is the last good one before it."""
    ff, pos = small_liquid()
    v = maxwell_boltzmann(ff.system.masses, reduced_temperature_to_kelvin(2.0), seed=1)
    sim = Simulation(ff, VelocityVerlet(0.05), pos, v)
    with pytest.raises(MDInputError, match=r"overlap.*\(at step (\d+)\)") as info:
        sim.run(200)
    step = int(re.search(r"at step (\d+)", str(info.value)).group(1))
    assert step == sim.step_count + 1


def test_non_finite_integrator_parameters_are_refused():
    with pytest.raises(MDInputError, match="temperature"):
        LangevinBAOAB(0.002, math.nan, 1.0)
    with pytest.raises(MDInputError, match="friction"):
        LangevinBAOAB(0.002, 300.0, math.inf)
    with pytest.raises(MDInputError, match="drude_temperature"):
        DrudeLangevinBAOAB(0.001, 300.0, 5.0, drude=None, drude_temperature=math.nan)
    with pytest.raises(MDInputError, match="temperature"):
        DrudeLangevinBAOAB(0.001, -1.0, 5.0, drude=None)


# --- Lorentz-Berthelot mixing ----------------------------------------------------------------

#: Two unlike types; the arithmetic and geometric means of sigma differ by 4 % (0.3 vs 0.288).
TYPE_1 = ParticleType("W", 12.0, 0.0, 0.24, 0.4)
TYPE_2 = ParticleType("Z", 30.0, 0.0, 0.36, 2.5)


def _pair_energy(r: float, sigma: float, eps: float) -> float:
    return 4.0 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)


@pytest.mark.parametrize("r", [0.27, 0.3, 2 ** (1 / 6) * 0.3, 0.45, 0.8])
def test_lorentz_berthelot_cross_term_energy_of_an_unlike_pair(r):
    """U(r) of a W-Z pair uses sigma = (0.24 + 0.36)/2 = 0.30 nm, eps = sqrt(0.4 * 2.5) = 1.0.

    Hand values: at r = 0.3 nm, U = 0; at r = 2^(1/6) 0.3 nm, U = -eps = -1 kJ/mol (the minimum);
    the force along the pair is -dU/dr.
    """
    box = Box((4.0, 4.0, 4.0))
    sys_ = System.from_counts([TYPE_1, TYPE_2], [1, 1], box)
    ff = ForceField(sys_, [LennardJones(sys_, 1.5)])
    pos = np.array([[1.0, 1.0, 1.0], [1.0 + r, 1.0, 1.0]])
    res = ff.compute(pos)
    sigma, eps = 0.30, 1.0
    assert res.energies["lj"] == pytest.approx(_pair_energy(r, sigma, eps), rel=1e-12, abs=1e-12)
    du_dr = 4 * eps * (-12 * sigma**12 / r**13 + 6 * sigma**6 / r**7)
    assert res.forces[1, 0] == pytest.approx(-du_dr, rel=1e-10, abs=1e-10)
    assert res.forces[0, 0] == pytest.approx(du_dr, rel=1e-10, abs=1e-10)


def test_lorentz_berthelot_hand_values_at_contact_and_minimum():
    box = Box((4.0, 4.0, 4.0))
    sys_ = System.from_counts([TYPE_1, TYPE_2], [1, 1], box)
    ff = ForceField(sys_, [LennardJones(sys_, 1.5)])
    e_zero = ff.compute(np.array([[1.0, 1.0, 1.0], [1.3, 1.0, 1.0]])).energies["lj"]
    e_min = ff.compute(np.array([[1.0, 1.0, 1.0], [1.0 + 2 ** (1 / 6) * 0.3, 1.0, 1.0]]))
    assert e_zero == pytest.approx(0.0, abs=1e-12)  # r = sigma_12 = 0.30 nm
    assert e_min.energies["lj"] == pytest.approx(-1.0, rel=1e-12)  # -eps_12 = -sqrt(0.4 * 2.5)
    assert np.allclose(e_min.forces, 0.0, atol=1e-9)  # r_min = 2^(1/6) sigma_12


def test_like_pairs_keep_their_own_parameters_in_a_mixture():
    """Three particles W, W, Z far apart pairwise except one chosen pair at a time."""
    box = Box((6.0, 6.0, 6.0))
    sys_ = System.from_counts([TYPE_1, TYPE_2], [2, 1], box)
    ff = ForceField(sys_, [LennardJones(sys_, 1.5)])
    r = 0.33
    far = np.array([[1.0, 1.0, 1.0], [1.0 + r, 1.0, 1.0], [4.0, 4.0, 4.0]])
    assert ff.compute(far).energies["lj"] == pytest.approx(_pair_energy(r, 0.24, 0.4), rel=1e-12)
    wz = np.array([[1.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0 + r, 1.0]])
    assert ff.compute(wz).energies["lj"] == pytest.approx(_pair_energy(r, 0.30, 1.0), rel=1e-12)
