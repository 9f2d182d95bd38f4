"""Direct-sum Coulomb for open boundaries: Coulomb's law, gradients, Newton III, exclusions,
and the large-box limit of Ewald summation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poreflux.units import COULOMB_KJ_NM
from stochastic.md.coulomb_direct import CoulombDirect, coulomb_direct_reference
from stochastic.md.errors import MDInputError, OverlapError
from stochastic.md.ewald import Ewald
from stochastic.md.forcefield import ForceField
from stochastic.md.init import random_positions
from stochastic.md.lj import LennardJones
from stochastic.md.system import Box, ParticleType, System
from stochastic.md.testing import numerical_forces, relative_force_error

NA = ParticleType("Na", 22.99, 1.0, 0.26, 0.06)
CL = ParticleType("Cl", 35.45, -1.0, 0.44, 0.42)
CA = ParticleType("Ca", 40.08, 2.0, 0.30, 0.5)
NEUTRAL = ParticleType("Ar", 39.95, 0.0, 0.34, 1.0)
OPEN = Box((1.6, 1.6, 1.6), periodic=(False, False, False))


def cluster(seed: int = 2, exclusions=()) -> tuple[System, np.ndarray]:
    """Mixed-valence cluster (net charge +2, neutral particles included) in a 1.6 nm region."""
    pos = random_positions(24, OPEN, 0.3, seed=seed)
    system = System.from_counts([NA, CL, CA, NEUTRAL], [8, 10, 2, 4], None, exclusions)
    return system, pos - pos.mean(axis=0)


@pytest.mark.parametrize("eps", [1.0, 78.3])
def test_two_charges_obey_coulombs_law(eps):
    system = System.from_counts([CA, CL], [1, 1], None)
    r = 0.37
    direction = np.array([1.0, -2.0, 0.5]) / math.sqrt(5.25)
    pos = np.array([[0.1, 0.2, -0.3], [0.1, 0.2, -0.3] + r * direction])
    res = ForceField(system, [CoulombDirect(system, epsilon_r=eps)]).compute(pos)
    energy = COULOMB_KJ_NM * 2.0 * -1.0 / (eps * r)
    assert res.potential_energy == pytest.approx(energy, rel=1e-13)
    # attraction: the force on particle 0 points towards particle 1, magnitude |U| / r
    assert res.forces[0] == pytest.approx(abs(energy) / r * direction, rel=1e-12)
    assert res.forces[1] == pytest.approx(-res.forces[0], rel=1e-13)
    assert res.virial == pytest.approx(energy, rel=1e-13)


def test_forces_are_minus_gradient_and_obey_newtons_third_law():
    system, pos = cluster(exclusions=[(0, 8), (3, 20)])
    ff = ForceField(system, [CoulombDirect(system), LennardJones(system, 1.0)])
    res = ff.compute(pos)
    err = relative_force_error(res.forces, numerical_forces(ff.energy, pos, h=1e-5))
    print(f"direct Coulomb + LJ force error vs finite differences {err:.1e}")
    assert err < 1e-6
    coulomb = ForceField(system, [CoulombDirect(system)]).compute(pos)
    f = coulomb.forces
    scale = np.max(np.abs(f))
    assert np.max(np.abs(f.sum(axis=0))) < 1e-12 * scale * len(f)  # no net force
    assert np.max(np.abs(np.cross(pos, f).sum(axis=0))) < 1e-12 * scale * len(f)  # no net torque
    assert coulomb.virial == pytest.approx(coulomb.potential_energy, rel=1e-12)


def test_kernel_matches_numpy_reference():
    system, pos = cluster(seed=7, exclusions=[(1, 2), (4, 19)])
    res = ForceField(system, [CoulombDirect(system, epsilon_r=2.5)]).compute(pos)
    e_ref, f_ref = coulomb_direct_reference(system, pos, epsilon_r=2.5)
    assert res.potential_energy == pytest.approx(e_ref, rel=1e-12)
    assert np.allclose(res.forces, f_ref, rtol=1e-10, atol=1e-9)


def test_exclusion_removes_exactly_one_pair():
    pos = np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0], [0.0, 0.5, 0.0]])

    def energy_forces(exclusions):
        system = System.from_counts([CA, CL], [1, 2], None, exclusions)
        res = ForceField(system, [CoulombDirect(system)]).compute(pos)
        return res.potential_energy, res.forces

    e_all, f_all = energy_forces(())
    e_ex, f_ex = energy_forces([(1, 0)])
    pair = COULOMB_KJ_NM * 2.0 * -1.0 / 0.3
    assert e_all - e_ex == pytest.approx(pair, rel=1e-12)
    f_pair = np.array([abs(pair) / 0.3, 0.0, 0.0])  # the pair pulled 0 towards +x, 1 towards -x
    assert f_all[0] - f_ex[0] == pytest.approx(f_pair, rel=1e-12)
    assert f_all[1] - f_ex[1] == pytest.approx(-f_pair, rel=1e-12)
    assert f_all[2] == pytest.approx(f_ex[2], rel=1e-14)


def test_ewald_of_a_neutral_cluster_tends_to_direct_sum_in_a_large_box():
    """Tin-foil Ewald of a neutral cluster in a cubic box L plus the surface term
    ``2 pi ke M^2 / (3 V)`` (de Leeuw, Perram & Smith, Proc. R. Soc. A 373, 27 (1980)) equals the
    vacuum direct sum up to O(L^-5) (image quadrupoles; the image-dipole sum vanishes by cubic
    symmetry). Measured relative energy / force errors 3.5e-6 / 6.5e-5 at L = 8 nm and
    4.4e-7 / 8.5e-6 at 12 nm (slopes 5.1, 5.0); without the surface term the energy error
    falls only as L^-3 (1.9e-4, 5.5e-5)."""
    pos = random_positions(20, Box((1.2, 1.2, 1.2), (False, False, False)), 0.3, seed=2)
    pos -= pos.mean(axis=0)
    isolated = System.from_counts([NA, CL], [10, 10], None)
    direct = ForceField(isolated, [CoulombDirect(isolated)]).compute(pos)
    q = isolated.charges
    m = q @ pos
    e_err, f_err, raw = [], [], []
    for L in (8.0, 12.0):
        periodic = System.from_counts([NA, CL], [10, 10], Box((L, L, L)))
        res = ForceField(periodic, [Ewald(periodic, 1.9, tolerance=1e-12)]).compute(pos + L / 2)
        vol = L**3
        energy = res.potential_energy + 2 * math.pi * COULOMB_KJ_NM * (m @ m) / (3 * vol)
        forces = res.forces - 4 * math.pi * COULOMB_KJ_NM / (3 * vol) * np.outer(q, m)
        raw.append(abs(res.potential_energy / direct.potential_energy - 1))
        e_err.append(abs(energy / direct.potential_energy - 1))
        f_err.append(np.sqrt(np.sum((forces - direct.forces) ** 2) / np.sum(direct.forces**2)))
        print(f"L = {L}: energy error {e_err[-1]:.2e} (raw {raw[-1]:.2e}), force {f_err[-1]:.2e}")
    assert e_err[1] < 2e-6 and f_err[1] < 3e-5
    slope = [math.log(a[0] / a[1]) / math.log(12 / 8) for a in (e_err, f_err, raw)]
    assert slope[0] == pytest.approx(5, abs=0.6)
    assert slope[1] == pytest.approx(5, abs=0.6)
    assert slope[2] == pytest.approx(3, abs=0.4)


def test_bad_input_and_overlap():
    periodic = System.from_counts([NA, CL], [1, 1], Box((3.0, 3.0, 3.0)))
    with pytest.raises(MDInputError, match="periodic"):
        CoulombDirect(periodic)
    slab = System.from_counts([NA, CL], [1, 1], Box((3.0, 3.0, 3.0), (True, True, False)))
    with pytest.raises(MDInputError, match="Ewald or PME"):
        CoulombDirect(slab)
    isolated = System.from_counts([NA, CL], [1, 1], None)
    for eps in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(MDInputError, match="epsilon_r"):
            CoulombDirect(isolated, epsilon_r=eps)
    open_box = System.from_counts([NA, CL], [1, 1], OPEN)
    ff = ForceField(open_box, [CoulombDirect(open_box, min_distance=0.05)])
    with pytest.raises(OverlapError, match="overlap"):
        ff.compute(np.array([[0.0, 0.0, 0.0], [0.01, 0.0, 0.0]]))
