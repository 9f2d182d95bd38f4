"""The fast MD path (cell-sorted order, split half lists, row blocks) against the reference path.

Reference: the plain cell list in the original particle order with ``kernels.lj_half`` and the
all-pairs numpy evaluation ``lj_reference``. Claims checked: the same pairs, the same energies,
forces and virials to 1e-10 relative for every cutoff mode and any number of row blocks, the
same trajectory, and second-order energy conservation of velocity Verlet (the RMS fluctuation
of the total energy falls by 4x when dt halves; Allen & Tildesley, section 3.2).
"""

from __future__ import annotations

import numpy as np
import pytest

from stochastic.md.errors import OverlapError
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones, lj_reference
from stochastic.md.neighbors import NeighborList
from stochastic.md.simulation import Simulation
from stochastic.md.system import Box, ParticleType, System, reduced_temperature_to_kelvin

A = ParticleType("A", 1.0, 0.0, 1.0, 1.0)
B = ParticleType("B", 2.0, 0.0, 1.2, 0.7)


def _liquid(cells: int, periodic=(True, True, True), noise=0.08, seed=0):
    """A two-type fcc crystal with thermal noise, coordinates unwrapped by a few boxes."""
    pos, box = fcc_lattice(cells, 0.8442)
    box = Box(box.lengths, periodic)
    rng = np.random.default_rng(seed)
    pos = pos + rng.normal(0.0, noise, pos.shape)
    pos[:, 0] += 3.0 * box.lengths[0]
    pos[:, 1] -= 2.0 * box.lengths[1]
    n = len(pos)
    system = System.from_counts([A, B], [n - n // 4, n // 4], box, exclusions=[(0, 1), (7, 40)])
    return system, pos


def _pairs(nl: NeighborList) -> set[tuple[int, int]]:
    return {tuple(sorted(p)) for p in nl.pairs().tolist()}


@pytest.mark.parametrize(
    ("cells", "periodic"), [(7, (True,) * 3), (5, (True,) * 3), (7, (True, True, False))]
)
def test_sorted_list_has_exactly_the_reference_pairs(cells, periodic):
    system, pos = _liquid(cells, periodic)
    fast = NeighborList(system, 2.5, 0.3, blocks=3)
    fast.build(pos)
    ref = NeighborList(system, 2.5, 0.3, sort=False)
    ref.build(pos)
    assert fast.is_sorted and not ref.is_sorted
    assert fast.reach == 2
    got = _pairs(fast)
    assert len(got) == fast.n_pairs  # each pair once
    assert got == _pairs(ref)
    assert (0, 1) not in got and (7, 40) not in got
    assert np.array_equal(np.sort(fast.order), np.arange(len(pos)))  # a permutation


@pytest.mark.parametrize("mode", ["plain", "shifted", "switched"])
@pytest.mark.parametrize("blocks", [1, 4])
def test_sorted_lj_equals_reference_kernel(mode, blocks):
    system, pos = _liquid(7, (True, True, False))
    lj = LennardJones(system, 2.5, mode=mode, switch_distance=2.0 if mode == "switched" else None)
    fast = NeighborList(system, 2.5, 0.3, blocks=blocks)
    ref = NeighborList(system, 2.5, 0.3, sort=False)
    out = {}
    for name, nl in (("fast", fast), ("ref", ref)):
        nl.build(pos)
        f = np.zeros_like(pos)
        e, w = lj.compute(pos, nl, f)
        out[name] = (e, f, w)
    (e, f, w), (e0, f0, w0) = out["fast"], out["ref"]
    assert e == pytest.approx(e0, rel=1e-10)
    assert w == pytest.approx(w0, rel=1e-10)
    scale = np.abs(f0).max()
    assert np.abs(f - f0).max() <= 1e-10 * scale


@pytest.mark.parametrize("mode", ["plain", "shifted"])
def test_one_type_scalar_loop_equals_reference(mode):
    """One particle type: the scalar-coefficient loop against the all-pairs numpy sum."""
    pos, box = fcc_lattice(6, 0.8442)
    pos = pos + np.random.default_rng(4).normal(0.0, 0.08, pos.shape) + 2.0 * box.lengths[0]
    system = System.from_counts([A], [len(pos)], box)
    lj = LennardJones(system, 2.5, mode=mode)
    assert lj._uniform
    nl = NeighborList(system, 2.5, 0.3, blocks=3)
    nl.build(pos)
    f = np.zeros_like(pos)
    e, w = lj.compute(pos, nl, f)
    e_np, f_np, w_np = lj_reference(lj, pos)
    assert nl.is_sorted
    assert e == pytest.approx(e_np, rel=1e-10)
    assert w == pytest.approx(w_np, rel=1e-10)
    assert np.abs(f - f_np).max() <= 1e-10 * np.abs(f_np).max()


@pytest.mark.parametrize("blocks", [None, 2])
def test_rebuild_only_when_two_particles_that_can_meet_moved_a_skin(blocks):
    """The list stays exact while no two nearby particles have moved a skin between them.

    One particle moved 0.26 (> skin/2 = 0.15, the old rule would rebuild): the list still has
    every pair within the cutoff, so no rebuild and exact forces; a neighbour of it moved 0.05
    more (0.31 together > skin): rebuilt. Two particles far apart (different, non-adjacent
    coarse cells) moved 0.2 each: not rebuilt. With two blocks (threads, when numba has two)
    the largest move comes from the threaded first pass (``max_move2``).
    """
    system, pos = _liquid(8)
    lj = LennardJones(system, 2.5)
    nl = NeighborList(system, 2.5, 0.3, blocks=blocks)
    nl.build(pos)
    assert nl._ncoarse.min() >= 4 and nl._dcap == pytest.approx(0.3)  # not all cells adjacent
    moved = pos.copy()
    moved[10] += [0.26, 0.0, 0.0]
    assert not nl.update(moved)
    fresh = NeighborList(system, 2.5, 0.3, sort=False)  # reference: a new list, plain path
    fresh.build(moved)
    f, f_ref = np.zeros_like(moved), np.zeros_like(moved)
    e, _ = lj.compute(moved, nl, f)
    e_ref, _ = lj.compute(moved, fresh, f_ref)
    assert e == pytest.approx(e_ref, rel=1e-10)
    assert np.abs(f - f_ref).max() <= 1e-10 * np.abs(f_ref).max()
    d = pos - pos[10]
    d -= system.box.lengths_array() * np.rint(d / system.box.lengths_array())
    by_distance = np.argsort(np.linalg.norm(d, axis=1))
    cell = np.empty(len(pos), dtype=np.int64)
    cell[nl.order] = nl._ccell  # coarse cell of each particle
    far = int(by_distance[-1])
    apart = moved.copy()
    apart[far] -= [0.0, 0.2, 0.0]
    assert not nl.update(apart)
    for same_cell in (True, False):  # a neighbour in the same coarse cell, then in the next one
        near = next(j for j in by_distance[1:] if (cell[j] == cell[10]) == same_cell)
        assert np.linalg.norm(d[near]) < 2.5
        closer = moved.copy()
        closer[near] += [0.0, 0.0, 0.05]
        assert nl.update(closer)
        nl.build(pos)


def test_sorted_list_survives_moves_within_the_skin():
    """Between builds, interior pairs use plain differences: still exact after small moves."""
    system, pos = _liquid(7)
    lj = LennardJones(system, 2.5)
    nl = NeighborList(system, 2.5, 0.3, blocks=2)
    nl.build(pos)
    rng = np.random.default_rng(3)
    step = rng.normal(size=pos.shape)
    moved = pos + 0.149 * step / np.linalg.norm(step, axis=1)[:, None]  # < skin/2 each
    assert not nl.update(moved)
    f = np.zeros_like(moved)
    e, _ = lj.compute(moved, nl, f)
    e_np, f_np, _ = lj_reference(lj, moved)
    assert e == pytest.approx(e_np, rel=1e-10)
    assert np.abs(f - f_np).max() <= 1e-10 * np.abs(f_np).max()
    beyond = moved.copy()
    beyond[5] = pos[5] + [0.16, 0.0, 0.0]  # 0.16 > skin/2 from the build: rebuilt
    assert nl.update(beyond)


@pytest.mark.parametrize("one_type", [False, True])
def test_overlap_named_in_original_indices(one_type):
    system, pos = _liquid(7, noise=0.0)
    if one_type:  # the scalar-coefficient loop
        system = System.from_counts([A], [len(pos)], system.box)
    pos[100] = pos[37] + [0.3, 0.0, 0.0]
    ff = ForceField(system, [LennardJones(system, 2.5)])
    assert ff.terms[0]._uniform == one_type
    with pytest.raises(OverlapError) as err:
        ff.compute(pos)
    assert set(err.value.pair) == {37, 100}


def _nve(sort: bool, dt: float, steps: int, blocks: int | None = None):
    pos, box = fcc_lattice(6, 0.8442)
    system = System.from_counts([A], [len(pos)], box)
    v = maxwell_boltzmann(system.masses, reduced_temperature_to_kelvin(1.44), seed=11)
    ff = ForceField(system, [LennardJones(system, 2.5, mode="shifted")], skin=0.3)
    ff.nlist = NeighborList(system, 2.5, 0.3, sort=sort, blocks=blocks)
    sim = Simulation(ff, VelocityVerlet(dt), pos, v)
    energy = []
    for _ in range(steps):
        sim.run(1)
        energy.append(sim.kinetic_energy() + sim.potential_energy())
    return sim, np.array(energy)


def test_same_trajectory_as_reference_path():
    fast, e_fast = _nve(True, 0.005, 150, blocks=2)
    ref, e_ref = _nve(False, 0.005, 150)
    assert fast.forcefield.nlist.is_sorted and not ref.forcefield.nlist.is_sorted
    assert fast.forcefield.nlist.n_builds > 3  # several rebuilds (and re-sorts) happened
    # rounding differs (sum order), chaos amplifies it: agreement to 1e-8 after 150 steps
    assert np.abs(fast.x - ref.x).max() < 1e-8
    assert np.abs(e_fast - e_ref).max() < 1e-8 * np.abs(e_ref).mean()


def test_velocity_verlet_energy_error_is_second_order():
    """RMS total-energy fluctuation over the same time span scales as dt^2."""
    _, e1 = _nve(True, 0.004, 250)
    _, e2 = _nve(True, 0.002, 500)
    rms1, rms2 = np.std(e1), np.std(e2)
    assert rms1 < 2e-4 * np.abs(e1.mean())  # conserved to 0.02 % of the total energy
    assert 3.0 < rms1 / rms2 < 5.0  # 4 for a second-order integrator


def test_langevin_nist_system_same_trajectory_and_pressure_on_both_paths():
    """The slow NIST test's system (500 atoms, rho* 0.776, rc 3, tail corrections, BAOAB).

    With the same seed, the sorted and the reference path give the same trajectory, kinetic
    energy and pressure to rounding: the permutation touches neither velocities, thermostat
    noise nor the tail terms.
    """
    pos, box = fcc_lattice(5, 0.776)
    system = System.from_counts([A], [len(pos)], box)
    t_k = reduced_temperature_to_kelvin(0.85)
    out = {}
    for sort in (True, False):
        ff = ForceField(system, [LennardJones(system, 3.0, tail_correction=True)], skin=0.3)
        ff.nlist = NeighborList(system, 3.0, 0.3, sort=sort)
        v = maxwell_boltzmann(system.masses, t_k, seed=776)
        sim = Simulation(ff, LangevinBAOAB(0.005, t_k, 1.0, seed=777), pos, v)
        pressure = []
        for _ in range(15):
            sim.run(10)
            pressure.append(sim.pressure())
        out[sort] = (sim, np.array(pressure))
    (fast, p_fast), (ref, p_ref) = out[True], out[False]
    assert fast.forcefield.nlist.is_sorted and not ref.forcefield.nlist.is_sorted
    assert fast.forcefield.nlist.n_builds > 5  # several re-sorts
    assert np.abs(fast.x - ref.x).max() < 1e-9
    assert np.abs(fast.v - ref.v).max() < 1e-9
    assert np.abs(p_fast - p_ref).max() < 1e-9 * np.abs(p_ref).max()
