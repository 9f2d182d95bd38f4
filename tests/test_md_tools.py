"""Restraints, confinement, minimisation, observers, trajectories, initial configurations, input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stochastic.md.bonded import HarmonicBonds
from stochastic.md.confinement import CylindricalPore, GaussianSite, SlabWalls
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, random_positions, salt_solution, spatial_order
from stochastic.md.integrators import LangevinBAOAB
from stochastic.md.lj import LennardJones
from stochastic.md.minimize import fire
from stochastic.md.observers import (
    CVReporter,
    block_average,
    diffusion_coefficient,
    msd,
    rdf,
    yeh_hummer_correction,
)
from stochastic.md.restraints import DistanceCV, HarmonicRestraint, PositionCV, umbrella_restraints
from stochastic.md.simulation import Simulation
from stochastic.md.system import KB_KJ_PER_MOL_K, Box, ParticleType, System
from stochastic.md.testing import numerical_forces, relative_force_error
from stochastic.md.trajectory import DCDWriter, NpzRecorder, XYZWriter, read_dcd, read_xyz

ION = ParticleType("K", 39.1, 1.0, 0.3, 0.5)
W = ParticleType("W", 18.0, 0.0, 0.3, 0.5)


def test_restraint_and_confinement_forces_are_minus_gradient():
    box = Box((4.0, 4.0, 6.0))
    sys_ = System.from_counts([ION], [6], box)
    rng = np.random.default_rng(1)
    x = rng.random((6, 3)) * [4, 4, 6] - [2, 2, 0]
    x[0] = [0.8, 0.3, 2.6]  # inside the membrane, outside the pore (radial push)
    x[1] = [1.5, 1.2, 2.1]  # inside the membrane, near its lower face
    x[5] = [0.1, -0.2, 5.8]  # beyond the upper wall
    terms = [
        HarmonicRestraint(PositionCV(2, axis=2), 500.0, 1.0, name="umb_z"),
        HarmonicRestraint(DistanceCV.in_system(sys_, 3, 4), 800.0, 0.5, name="umb_d"),
        SlabWalls(sys_, 0.5, 5.5, k=2000.0),
        CylindricalPore(sys_, 0.4, 2.0, 3.5, k=3000.0),
        GaussianSite(sys_, (0.0, 0.0, 2.75), depth=10.0, width=0.2, indices=[0, 5]),
        HarmonicBonds(sys_, [(0, 1), (2, 5)], k=[3e4, 2e4], r0=[0.2, 0.25]),
    ]
    ff = ForceField(sys_, terms)
    res = ff.compute(x)
    assert all(abs(res.energies[k]) > 0 for k in ("umb_z", "umb_d", "walls", "pore", "bonds"))
    err = relative_force_error(res.forces, numerical_forces(ff.energy, x, h=1e-6))
    assert err < 1e-6


def test_umbrella_window_samples_the_biased_gaussian():
    """A free particle in a harmonic window: <z> = z0 and var(z) = kT/k (exact for BAOAB)."""
    sys_ = System.from_counts([ION], [1], None)
    (restraint,) = umbrella_restraints(PositionCV(0, 2), [1.5], k=1e4)
    ff = ForceField(sys_, [restraint])
    sim = Simulation(ff, LangevinBAOAB(0.005, 300.0, 20.0, seed=3), np.zeros((1, 3)))
    rec = CVReporter(restraint.cv, interval=5)
    sim.run(20_000, [rec])
    z = np.array(rec.values[200:])
    var = KB_KJ_PER_MOL_K * 300.0 / 1e4
    mean, se = block_average(z, 10)
    assert abs(mean - 1.5) < 4 * se + 1e-3
    assert np.var(z) == pytest.approx(var, rel=0.15)  # ~1000 independent samples


def test_ion_passes_through_cylindrical_pore():
    """An ion pulled along z by a moving restraint goes through the pore, not the membrane.

    Weak x/y restraints (lateral spread ~0.16 nm) act as a funnel towards the pore mouth.
    """
    sys_ = System.from_counts([ION], [1], None)
    pore = CylindricalPore(sys_, 0.3, -1.0, 1.0, k=1e5, center=(0.0, 0.0))
    pull = HarmonicRestraint(PositionCV(0, 2), 2000.0, -2.0, name="pull")
    funnel = [HarmonicRestraint(PositionCV(0, a), 100.0, 0.0, name=f"funnel{a}") for a in (0, 1)]
    ff = ForceField(sys_, [pore, pull, *funnel])
    sim = Simulation(ff, LangevinBAOAB(0.002, 300.0, 10.0, seed=5), np.array([[0.1, 0.0, -2.0]]))
    max_rho_inside = 0.0
    for center in np.linspace(-2.0, 2.0, 400):  # 0.1 nm/ps
        pull.center = center
        sim.run(50)
        if -1.0 < sim.x[0, 2] < 1.0:
            max_rho_inside = max(max_rho_inside, float(np.hypot(*sim.x[0, :2])))
    assert sim.x[0, 2] > 1.5
    assert max_rho_inside < 0.3 + 0.03  # wall penetration <= F_pull / k_wall


def test_fire_removes_overlaps():
    box = Box((3.0, 3.0, 3.0))
    x = random_positions(60, box, 0.18, seed=2)
    sys_ = System.from_counts([W], [60], box)
    ff = ForceField(sys_, [LennardJones(sys_, 1.2, overlap_fraction=0.3)])
    e0 = ff.energy(x)
    res = fire(ff, x, force_tol=5.0, max_steps=20000)
    assert res.converged and res.energy < e0 and res.max_force < 5.0


def test_trajectory_writers_round_trip(tmp_path):
    pos, box = fcc_lattice(2, 0.8)
    sys_ = System.from_counts([W], [len(pos)], box)
    ff = ForceField(sys_, [LennardJones(sys_, 1.5)])
    sim = Simulation(ff, LangevinBAOAB(0.002, 300.0, 1.0, seed=1), pos)
    xyz = XYZWriter(tmp_path / "t.xyz", interval=5)
    dcd = DCDWriter(tmp_path / "t.dcd", sys_.n_particles, box, interval=5, timestep_ps=0.002)
    npz = NpzRecorder(interval=5)
    sim.run(20, [xyz, dcd, npz], progress=True)
    frames = npz.positions()
    names, from_xyz = read_xyz(tmp_path / "t.xyz")
    assert names == ["W"] * len(pos) and from_xyz.shape == (4, len(pos), 3)
    assert np.allclose(from_xyz, frames, atol=1e-6)
    assert np.allclose(read_dcd(tmp_path / "t.dcd"), frames, atol=1e-5)
    npz.save(tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as data:
        assert np.allclose(data["positions"], frames) and np.allclose(data["box"], box.lengths)


def test_rdf_of_ideal_gas_is_one_and_msd_of_random_walk():
    box = Box((5.0, 5.0, 5.0))
    rng = np.random.default_rng(0)
    frames = rng.random((20, 400, 3)) * 5.0
    idx = np.arange(400)
    _, g = rdf(frames, box, idx[:200], idx[200:], 2.4, 24)
    assert np.all(np.abs(g[4:] - 1) < 0.1)
    # random walk with per-frame variance 2 D dt per axis: MSD = 6 D t
    d, dt = 0.05, 1.0
    steps = rng.normal(0.0, math.sqrt(2 * d * dt), (400, 300, 3))
    traj = np.cumsum(steps, axis=0)
    m = msd(traj, 50)
    t = np.arange(51) * dt
    assert diffusion_coefficient(t, m, 5, 50) == pytest.approx(d, rel=0.05)


def test_yeh_hummer_correction_for_water_box():
    # k_B T xi / (6 pi eta L) at 298.15 K, eta = 0.89 mPa s, L = 3 nm
    expected = 1.380649e-23 * 298.15 * 2.837297 / (6 * math.pi * 0.89e-3 * 3e-9) * 1e6
    assert yeh_hummer_correction(298.15, 3.0, 0.89) == pytest.approx(expected, rel=1e-12)
    assert yeh_hummer_correction(298.15, 3.0, 0.89) == pytest.approx(2.32e-4, rel=0.01)


def test_salt_solution_is_neutral_at_the_requested_concentration():
    na = ParticleType("Na", 22.99, 1.0, 0.25, 0.3)
    ca = ParticleType("Ca", 40.08, 2.0, 0.25, 0.3)
    cl = ParticleType("Cl", 35.45, -1.0, 0.4, 0.4)
    sys_, pos = salt_solution(na, cl, 500.0, 4.0, solvent=W, solvent_density=10.0, seed=1)
    n_formula = round(500.0 * 6.02214076e23 * 64e-27)
    assert sys_.count("Na") == sys_.count("Cl") == n_formula
    assert sys_.count("W") == 640
    d = pos[:, None] - pos[None]
    d -= 4.0 * np.rint(d / 4.0)
    r = np.linalg.norm(d, axis=2) + np.eye(len(pos)) * 10
    assert r.min() >= 0.25
    sys2, _ = salt_solution(ca, cl, 200.0, 5.0, seed=2)
    assert sys2.count("Cl") == 2 * sys2.count("Ca") and abs(sys2.charges.sum()) < 1e-12
    _, again = salt_solution(na, cl, 500.0, 4.0, solvent=W, solvent_density=10.0, seed=1)
    assert np.array_equal(pos, again)  # reproducible with a seed


def test_bad_system_input_gives_clear_errors():
    with pytest.raises(MDInputError, match="mass must be > 0"):
        ParticleType("X", -1.0)
    with pytest.raises(MDInputError, match="sigma must be >= 0"):
        ParticleType("X", 1.0, sigma=-0.3)
    with pytest.raises(MDInputError, match="unknown type 'Q'"):
        System((W,), ("W", "Q"))
    sys_ = System.from_counts([W], [2], Box((3.0, 3.0, 3.0)))
    with pytest.raises(MDInputError, match="half the box"):
        LennardJones(sys_, 1.6)
    with pytest.raises(MDInputError, match="could not place"):
        random_positions(100, Box((1.0, 1.0, 1.0)), 0.5, seed=0)


def test_spatial_order_groups_particles_by_cell():
    box = Box((4.0, 4.0, 4.0))
    x = np.random.default_rng(3).random((500, 3)) * 4.0
    order = spatial_order(x, box, cell_size=1.0)
    assert sorted(order.tolist()) == list(range(500))
    cells = np.floor(x[order]).astype(int)
    key = (cells[:, 0] * 4 + cells[:, 1]) * 4 + cells[:, 2]
    assert np.all(np.diff(key) >= 0)


def test_trajectories_are_readable_by_mdanalysis(tmp_path):
    mda = pytest.importorskip("MDAnalysis")
    pos, box = fcc_lattice(2, 0.8)
    sys_ = System.from_counts([W], [len(pos)], box)
    sim = Simulation(
        ForceField(sys_, [LennardJones(sys_, 1.5)]), LangevinBAOAB(0.002, 300.0, 1.0, seed=1), pos
    )
    xyz = XYZWriter(tmp_path / "t.xyz", interval=5)
    dcd = DCDWriter(tmp_path / "t.dcd", sys_.n_particles, box, interval=5, timestep_ps=0.002)
    npz = NpzRecorder(interval=5)
    sim.run(20, [xyz, dcd, npz])
    ref = npz.positions() * 10.0  # MDAnalysis works in Angstrom
    u = mda.Universe(str(tmp_path / "t.xyz"), str(tmp_path / "t.dcd"))
    assert len(u.trajectory) == 4
    for k, ts in enumerate(u.trajectory):
        assert np.allclose(ts.positions, ref[k], atol=1e-4)
        assert np.allclose(ts.dimensions[:3], np.array(box.lengths) * 10.0)
    assert u.trajectory.dt == pytest.approx(0.01, rel=1e-6)  # ps
