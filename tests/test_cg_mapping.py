"""Mapping atoms -> beads: conservation of mass, momentum, force and charge; periodic images."""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.mapping import Bead, Mapping
from stochastic.md.system import Box


def _dimers(n_mol=50, seed=0):
    rng = np.random.default_rng(seed)
    masses = np.tile([12.0, 4.0], n_mol)
    charges = np.tile([0.4, -0.9], n_mol)
    box = Box((3.0, 3.0, 3.0))
    centres = rng.random((n_mol, 3)) * 3.0
    bond = rng.normal(size=(n_mol, 3))
    bond *= 0.15 / np.linalg.norm(bond, axis=1)[:, None]
    x = np.empty((2 * n_mol, 3))
    x[0::2] = centres
    x[1::2] = centres + bond
    x = x - 3.0 * np.floor(x / 3.0)  # wrapped: some molecules are split by the boundary
    v = rng.normal(size=x.shape)
    f = rng.normal(size=x.shape)
    return masses, charges, box, x, v, f, centres, bond


def test_com_map_conserves_mass_momentum_and_force():
    masses, charges, _, _, v, f, _, _ = _dimers()
    m = Mapping.by_molecule(50, [[0, 1]], ["D"], masses, charges, "mass")
    assert np.isclose(m.bead_masses.sum(), masses.sum(), rtol=1e-14)
    assert np.allclose(m.bead_masses, 16.0)
    p_atoms = (masses[:, None] * v).sum(0)
    assert np.allclose(m.map_momenta(v).sum(0), p_atoms, rtol=1e-12, atol=1e-12)
    # P_I = M_I dR_I/dt: the velocity map is the time derivative of the position map
    assert np.allclose((m.bead_masses[:, None] * m.map_velocities(v)).sum(0), p_atoms)
    assert np.allclose(m.map_forces(f).sum(0), f.sum(0), atol=1e-12)
    assert np.isclose(m.bead_charges.sum(), charges.sum())


def test_com_map_unwraps_molecules_split_by_the_box():
    masses, charges, box, x, _, _, centres, bond = _dimers()
    m = Mapping.by_molecule(50, [[0, 1]], ["D"], masses, charges, "mass")
    com = m.map_positions(x, box)
    exact = centres + bond * 4.0 / 16.0
    d = com - exact
    d -= 3.0 * np.rint(d / 3.0)
    assert np.max(np.abs(d)) < 1e-12
    split = np.any(np.abs(x[0::2] - x[1::2]) > 1.5, axis=1)
    assert split.any(), "the fixture should contain molecules split by the boundary"


def test_map_positions_accepts_trajectories():
    masses, charges, box, x, *_ = _dimers()
    m = Mapping.by_molecule(50, [[0, 1]], ["D"], masses, charges, "geometric")
    traj = np.stack([x, x + 0.1])
    out = m.map_positions(traj, box)
    assert out.shape == (2, 50, 3)
    assert np.allclose(out[1] - out[0], 0.1)


def test_geometric_and_charge_weighted_maps():
    masses = np.array([1.0, 3.0, 1.0, 1.0])
    charges = np.array([1.0, 1.0, -0.5, -1.5])
    x = np.array([[0.0, 0, 0], [1.0, 0, 0], [0.0, 1, 0], [0.0, 3, 0]])
    beads = (Bead("P", (0, 1)), Bead("N", (2, 3)))
    geo = Mapping(beads, masses, charges, "geometric").map_positions(x)
    assert np.allclose(geo, [[0.5, 0, 0], [0, 2, 0]])
    qmap = Mapping(beads, masses, charges, "charge")
    assert np.allclose(qmap.map_positions(x), [[0.5, 0, 0], [0, 2.5, 0]])
    assert np.isclose(qmap.bead_charges.sum(), charges.sum())
    assert np.allclose(qmap.bead_charges, [2.0, -2.0])


def test_charge_weighted_map_on_many_ions_conserves_total_charge():
    rng = np.random.default_rng(3)
    q = rng.choice([-1.0, 1.0, 2.0], size=60)
    beads = tuple(Bead("B", (3 * k, 3 * k + 1, 3 * k + 2)) for k in range(20))
    good = [b for b in beads if abs(q[list(b.atoms)].sum()) > 0]
    m = Mapping(tuple(good), np.ones(60), q, "charge")
    used = np.concatenate([b.atoms for b in good])
    assert np.isclose(m.bead_charges.sum(), q[used].sum(), atol=1e-12)


def test_bad_mappings_raise():
    with pytest.raises(CGInputError, match="zero net charge"):
        Mapping((Bead("Z", (0, 1)),), np.ones(2), np.array([1.0, -1.0]), "charge")
    with pytest.raises(CGInputError, match="more than one bead"):
        Mapping((Bead("A", (0, 1)), Bead("B", (1, 2))), np.ones(3), np.zeros(3))
    with pytest.raises(CGInputError, match="not in"):
        Mapping((Bead("A", (0, 5)),), np.ones(3), np.zeros(3))
    with pytest.raises(CGInputError, match="weighting"):
        Mapping((Bead("A", (0,)),), np.ones(1), np.zeros(1), "volume")  # type: ignore[arg-type]
    m = Mapping((Bead("A", (0, 1)),), np.ones(2), np.zeros(2))
    with pytest.raises(CGInputError, match="expected"):
        m.map_positions(np.zeros((3, 3)))
