"""A tagged heavy particle in the Lennard-Jones fluid of the MD core: the friction kernel from
its force/velocity correlations (Volterra inversion) integrates to kT / D with D from the
Einstein relation (mean squared displacement) of the same NVE run (issue 15).

Reduced LJ units map onto the API units (sigma = 1 nm, epsilon = 1 kJ/mol, m = 1 amu, so the
time unit is 1 ps); T* = 1.5, rho* = 0.8; the tagged particles have the solvent's size and ten
times its mass. Both sides come from the same trajectories, so the finite-size (Yeh-Hummer)
correction cancels in the comparison.
"""

from __future__ import annotations

import numpy as np
import pytest

from poreflux import units
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones
from stochastic.md.observers import diffusion_coefficient, msd
from stochastic.md.simulation import Simulation
from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin
from stochastic.memory import (
    autocorrelation,
    cross_correlation,
    kernel_from_correlations,
    kernel_from_vacf,
)

T = reduced_temperature_to_kelvin(1.5)
M_HEAVY = 10.0
DT = 0.005


class _Tagged:
    """Reporter: positions, velocities and total forces of the tagged particles."""

    def __init__(self, idx: np.ndarray, interval: int):
        self.idx, self.interval = idx, interval
        self.x, self.v, self.f = [], [], []

    def report(self, sim: Simulation) -> None:
        self.x.append(sim.x[self.idx].copy())
        self.v.append(sim.v[self.idx].copy())
        self.f.append(sim.f[self.idx].copy())


def run_tagged(cells: int, n_heavy: int, n_steps: int, seed: int, every: int = 1) -> dict:
    """Equilibrate with Langevin (20 or 100 ps), then record an NVE run every ``every`` steps."""
    pos, box = fcc_lattice(cells, 0.8)
    n = len(pos)
    heavy = np.linspace(0, n, n_heavy, endpoint=False).astype(int)
    names = ["S"] * n
    for h in heavy:
        names[h] = "H"
    solvent, tagged = ParticleType("S", 1.0, 0, 1.0, 1.0), ParticleType("H", M_HEAVY, 0, 1.0, 1.0)
    system = System((solvent, tagged), tuple(names), box)
    ff = ForceField(system, [LennardJones(system, 2.5, mode="shifted")])
    v0 = maxwell_boltzmann(system.masses, T, seed=seed)
    sim = Simulation(ff, LangevinBAOAB(DT, T, 2.0, seed=seed + 1), pos, v0)
    sim.run(20000 if n_steps > 50000 else 4000)
    sim = Simulation(ff, VelocityVerlet(DT), sim.x, sim.v)
    rec = _Tagged(heavy, every)
    sim.run(n_steps, [rec])
    return {"x": np.array(rec.x), "v": np.array(rec.v), "f": np.array(rec.f), "dt": every * DT}


def friction_vs_einstein(run: dict, t_kernel: float = 3.0) -> dict[str, float]:
    """int K [amu/ps] and K(0) [amu/ps^2] from the F/v correlations (Shin) and from the VACF,
    and kT / D_Einstein [amu/ps] (MSD slope between 2 and 8 ps)."""
    h = run["dt"]
    lags = round(t_kernel / h)
    t = np.arange(lags + 1) * h
    cff = autocorrelation(run["f"], lags)
    cfv = cross_correlation(run["f"], run["v"], lags)
    k_fv = kernel_from_correlations(t, cff, cfv, T)
    k_vv = kernel_from_vacf(t, autocorrelation(run["v"], lags), M_HEAVY, T)
    max_lag = round(8.0 / h)
    m = msd(run["x"], max_lag)
    d = diffusion_coefficient(np.arange(max_lag + 1) * h, m, 2.0, 8.0)
    return {
        "fv": k_fv.integral,
        "vv": k_vv.integral,
        "einstein": units.kT_kj_per_mol(T) / d,
        "k0_fv": float(k_fv.K[0]),
        "k0_vv": float(k_vv.K[0]),
    }


def test_lj_tagged_particle_kernel_integral_matches_einstein_small():
    """CI size: 108 atoms (4 tagged), 100 ps NVE. The VACF route within 20% of kT/D_Einstein
    (six seeds gave 0.89-1.06), and K(0) of both routes within 5% (m^2 <a^2> = <F^2>; sampled
    every step, h = 5 fs: at h = 10 fs the VACF route's O(h^2) error in K(0) is ~6%). The
    force/velocity route's integral is too noisy at this length (0.56-1.69 over six seeds: the
    force ACF's tail) and is only checked in the slow test."""
    r = friction_vs_einstein(run_tagged(3, 4, 20000, 5))
    print(r)
    assert r["vv"] / r["einstein"] == pytest.approx(1.0, abs=0.20)
    assert r["k0_vv"] / r["k0_fv"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.slow
def test_lj_tagged_particle_kernel_integral_matches_einstein():
    """256 atoms (16 tagged), 1 ns NVE: both routes within 10% of kT/D_Einstein (measured
    F/v 1.015, block SE 0.047) and within 5% of each other."""
    r = friction_vs_einstein(run_tagged(4, 16, 200000, 7, every=2))
    print(r)
    assert r["fv"] / r["einstein"] == pytest.approx(1.0, abs=0.10)
    assert r["vv"] / r["einstein"] == pytest.approx(1.0, abs=0.10)
    assert r["vv"] / r["fv"] == pytest.approx(1.0, abs=0.05)
