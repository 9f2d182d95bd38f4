"""Ewald summation (Madelung constants, splitting independence, forces) and reaction field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poreflux.units import COULOMB_KJ_NM
from stochastic.md.errors import MDInputError
from stochastic.md.ewald import Ewald, ewald_reference
from stochastic.md.forcefield import ForceField
from stochastic.md.init import random_positions
from stochastic.md.lj import LennardJones
from stochastic.md.reaction_field import ReactionField
from stochastic.md.reference_data import MADELUNG_CSCL, MADELUNG_NACL
from stochastic.md.system import Box, ParticleType, System
from stochastic.md.testing import numerical_forces, relative_force_error

NA = ParticleType("Na", 22.99, 1.0, 0.26, 0.06)
CL = ParticleType("Cl", 35.45, -1.0, 0.44, 0.42)


def rock_salt(n: int = 2, r0: float = 0.5) -> tuple[System, np.ndarray]:
    g = np.stack(np.meshgrid(*[np.arange(2 * n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    names = tuple("Na" if s % 2 == 0 else "Cl" for s in g.sum(1))
    return System((NA, CL), names, Box((2 * n * r0,) * 3)), g * r0


def cesium_chloride(n: int = 3, a: float = 1.0) -> tuple[System, np.ndarray]:
    g = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    pos = np.vstack([g, g + 0.5 * a])
    names = ("Na",) * len(g) + ("Cl",) * len(g)
    return System((NA, CL), names, Box((n * a,) * 3)), pos


def madelung(energy: float, n_pairs: int, r0: float) -> float:
    return -energy / n_pairs * r0 / COULOMB_KJ_NM


def test_madelung_rock_salt():
    sys_, pos = rock_salt(2, 0.5)
    e = ForceField(sys_, [Ewald(sys_, 0.99, tolerance=1e-10)]).compute(pos).potential_energy
    m = madelung(e, len(pos) // 2, 0.5)
    print(f"NaCl Madelung {m:.8f}")
    assert m == pytest.approx(MADELUNG_NACL, abs=1e-5)


def test_madelung_cesium_chloride():
    sys_, pos = cesium_chloride(3, 1.0)
    e = ForceField(sys_, [Ewald(sys_, 1.49, tolerance=1e-10)]).compute(pos).potential_energy
    m = madelung(e, len(pos) // 2, math.sqrt(3) / 2)
    print(f"CsCl Madelung {m:.8f}")
    assert m == pytest.approx(MADELUNG_CSCL, abs=1e-5)


def random_electrolyte(seed: int = 4) -> tuple[System, np.ndarray]:
    box = Box((2.4, 2.6, 2.5))
    pos = random_positions(40, box, 0.25, seed=seed)
    sys_ = System.from_counts([NA, CL], [20, 20], box)
    return sys_, pos


def test_ewald_energy_independent_of_splitting_parameter():
    sys_, pos = random_electrolyte()
    energies = [
        ForceField(sys_, [Ewald(sys_, 1.2, alpha=a, tolerance=1e-12)]).compute(pos).potential_energy
        for a in (3.5, 4.0, 4.5, 5.0)  # erfc(alpha rc) < 1e-8 for all
    ]
    spread = (max(energies) - min(energies)) / abs(np.mean(energies))
    print(f"Ewald energies {energies}, relative spread {spread:.2e}")
    assert spread < 1e-6


def test_ewald_forces_are_minus_gradient_with_exclusions_and_net_charge():
    box = Box((2.4, 2.6, 2.5))
    pos = random_positions(30, box, 0.25, seed=9)
    q3 = ParticleType("X", 10.0, 0.7)
    sys_ = System.from_counts([NA, CL, q3], [12, 10, 8], box, exclusions=[(0, 12), (3, 25)])
    ff = ForceField(sys_, [Ewald(sys_, 1.1, tolerance=1e-8)])
    f = ff.compute(pos).forces
    fnum = numerical_forces(ff.energy, pos, h=1e-5)
    err = relative_force_error(f, fnum)
    print(f"Ewald force error {err:.2e}")
    assert err < 1e-6


def test_ewald_kernels_match_numpy_reference():
    box = Box((2.4, 2.6, 2.5))
    pos = random_positions(30, box, 0.25, seed=2)
    sys_ = System.from_counts([NA, CL], [15, 15], box, exclusions=[(1, 2)])
    ew = Ewald(sys_, 1.1, tolerance=1e-7)
    res = ForceField(sys_, [ew]).compute(pos)
    e_ref, f_ref = ewald_reference(ew, pos)
    assert res.potential_energy == pytest.approx(e_ref, rel=1e-11)
    assert np.allclose(res.forces, f_ref, rtol=1e-9, atol=1e-8)


def test_ewald_virial_equals_coulomb_energy():
    """For a pure Coulomb system the virial W = sum r.F equals the energy (homogeneity -1)."""
    sys_, pos = random_electrolyte(7)
    res = ForceField(sys_, [Ewald(sys_, 1.2, tolerance=1e-10)]).compute(pos)
    assert res.virial == pytest.approx(res.potential_energy, rel=1e-6)


def test_reaction_field_forces_and_zero_energy_at_cutoff():
    sys_, pos = random_electrolyte(5)
    ff = ForceField(sys_, [ReactionField(sys_, 1.1, epsilon_rf=78.5), LennardJones(sys_, 1.1)])
    f = ff.compute(pos).forces
    fnum = numerical_forces(ff.energy, pos, h=1e-5)
    # plain LJ truncation and RF are continuous in energy; no pair sits within h of the cutoff
    assert relative_force_error(f, fnum) < 1e-6
    two = System.from_counts([NA, CL], [1, 1], Box((3.0, 3.0, 3.0)))
    rf = ForceField(two, [ReactionField(two, 1.0, epsilon_rf=math.inf)])
    e_in = rf.energy(np.array([[0.0, 0, 0], [0.999999, 0, 0]]))
    assert abs(e_in) < 1e-3  # the pair energy goes to zero at the cutoff


def test_ewald_bad_input():
    sys_, _ = rock_salt(2, 0.5)
    with pytest.raises(MDInputError, match="half the box"):
        Ewald(sys_, 1.5)
    slab = System((NA,), ("Na",), Box((3, 3, 3), periodic=(True, True, False)))
    with pytest.raises(MDInputError, match=r"fully periodic.*CoulombDirect.*ReactionField"):
        Ewald(slab, 1.0)
    # the classes the message names exist and accept the systems it names them for
    from stochastic.md.coulomb_direct import CoulombDirect

    isolated = System((NA,), ("Na",), None)
    CoulombDirect(isolated)
    ReactionField(slab, 1.0)


def test_pme_converges_to_ewald_and_forces_are_its_gradient():
    from stochastic.md.pme import PME

    sys_, pos = random_electrolyte(4)
    ref = ForceField(sys_, [Ewald(sys_, 1.2, tolerance=1e-10)]).compute(pos)
    errors = []
    for spacing in (0.1, 0.05):
        res = ForceField(sys_, [PME(sys_, 1.2, 1e-10, grid_spacing=spacing, order=6)]).compute(pos)
        e_err = abs(res.potential_energy / ref.potential_energy - 1)
        f_err = np.sqrt(np.mean((res.forces - ref.forces) ** 2) / np.mean(ref.forces**2))
        errors.append(f_err)
        print(f"PME order 6, h = {spacing}: energy error {e_err:.1e}, force rms error {f_err:.1e}")
    assert e_err < 1e-5 and f_err < 1e-4
    assert errors[0] / errors[1] > 2**4  # high-order interpolation: error falls fast with h
    ff = ForceField(sys_, [PME(sys_, 1.2, 1e-6, grid_spacing=0.1, order=6)])
    err = relative_force_error(ff.compute(pos).forces, numerical_forces(ff.energy, pos, h=1e-5))
    assert err < 1e-6


@pytest.mark.parametrize("method", ["ewald", "pme"])
def test_virial_is_minus_volume_derivative_of_energy(method):
    """W = -dE/d(ln s) under uniform scaling s of box and positions (LJ + Coulomb, net charge)."""
    from stochastic.md.pme import PME

    q3 = ParticleType("X", 10.0, 0.7, 0.3, 0.3)
    lengths = np.array([2.4, 2.6, 2.5])
    pos = random_positions(30, Box(tuple(lengths)), 0.3, seed=9)

    def evaluate(s):
        sys_ = System.from_counts(
            [NA, CL, q3], [12, 10, 8], Box(tuple(lengths * s)), exclusions=[(0, 12)]
        )
        if method == "ewald":
            coulomb = Ewald(sys_, 1.1, tolerance=1e-9, alpha=3.0)
        else:
            # a spacing that does not sit on a grid-size boundary (the grid must not change with s)
            coulomb = PME(sys_, 1.1, tolerance=1e-9, alpha=3.0, grid_spacing=0.047, order=8)
        res = ForceField(sys_, [LennardJones(sys_, 1.1), coulomb]).compute(pos * s)
        return res.potential_energy, res.virial

    h = 1e-5
    w = evaluate(1.0)[1]
    dlog = (evaluate(1 + h)[0] - evaluate(1 - h)[0]) / (2 * h)
    assert w == pytest.approx(-dlog, rel=1e-6)
