"""Langevin BAOAB: kinetic temperature and Maxwellian velocities in an interacting LJ mixture."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones
from stochastic.md.observers import EnergyReporter, block_average
from stochastic.md.simulation import Simulation
from stochastic.md.system import (
    KB_KJ_PER_MOL_K,
    ParticleType,
    System,
    reduced_temperature_to_kelvin,
)

A = ParticleType("A", 1.0, 0.0, 1.0, 1.0)
B = ParticleType("B", 3.0, 0.0, 1.0, 1.0)


def test_langevin_temperature_and_maxwell_distribution():
    pos, box = fcc_lattice(5, 0.7)
    sys_ = System.from_counts([A, B], [250, 250], box)
    ff = ForceField(sys_, [LennardJones(sys_, 2.5, mode="shifted")])
    t_k = reduced_temperature_to_kelvin(1.5)
    sim = Simulation(
        ff,
        LangevinBAOAB(0.005, t_k, 5.0, seed=7),
        pos,
        maxwell_boltzmann(sys_.masses, 0.5 * t_k, seed=1),
    )
    sim.run(500)
    rep = EnergyReporter(interval=5)
    vel = []
    for _ in range(10):
        sim.run(500, [rep])
        vel.append(sim.v.copy())
    t, se = block_average(rep.arrays()["temperature"], 10)
    print(
        f"Langevin T = {t:.3f} +- {se:.3f} K (target {t_k:.3f}), deviation {abs(t / t_k - 1):.2%}"
    )
    assert t == pytest.approx(t_k, rel=0.01)
    # every component of every particle, scaled by its thermal speed, is standard normal
    v = np.array(vel)
    scaled = (v / np.sqrt(KB_KJ_PER_MOL_K * t_k / sys_.masses)[None, :, None]).ravel()
    ks = stats.kstest(scaled, "norm")
    print(f"KS test vs N(0,1): statistic {ks.statistic:.4f}, p = {ks.pvalue:.3f}")
    assert ks.pvalue > 1e-3
    # equipartition between the light and heavy species
    m = sys_.masses
    ke_a = 0.5 * np.mean(np.sum(m[None, :250, None] * v[:, :250] ** 2, axis=2))
    ke_b = 0.5 * np.mean(np.sum(m[None, 250:, None] * v[:, 250:] ** 2, axis=2))
    assert ke_a == pytest.approx(ke_b, rel=0.05)


def test_bad_integrator_input():
    with pytest.raises(MDInputError, match="time step"):
        VelocityVerlet(0.0)
    with pytest.raises(MDInputError, match="friction"):
        LangevinBAOAB(0.001, 300.0, -1.0)
