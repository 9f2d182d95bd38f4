"""Bad input to the BD channel model raises BDInputError (an InputError) naming what to change;
geometry and grid plumbing checked against closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from poreflux.errors import InputError
from poreflux.species import Electrolyte, Species, get_species, salt
from stochastic.bd import (
    BDInputError,
    BDSimulation,
    BDSystem,
    ChannelGeometry,
    ExternalField,
    GridField,
    RadiusProfile,
)


def _geometry(**kw) -> ChannelGeometry:
    args = {"membrane_thickness": 2.0, "pore": 0.8, "bath_radius": 2.5, "bath_length": 3.0}
    args.update(kw)
    return ChannelGeometry(**args)


def test_error_is_an_input_error():
    assert issubclass(BDInputError, InputError)


def test_negative_diffusion_is_refused():
    # the species library refuses D <= 0; a D(z) profile with a negative value too
    with pytest.raises(ValueError, match="diffusion"):
        Species("X+", 1, -1.0, 0.1)
    z = np.linspace(-5.0, 5.0, 11)
    with pytest.raises(BDInputError, match=r"D\(z\) of K\+ must be finite and > 0"):
        BDSystem(_geometry(), salt("KCl", 500.0), diffusion={"K+": (z, -np.ones_like(z))})
    # a constant D: accepted when > 0, refused (not a TypeError) when negative, zero or NaN
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(BDInputError, match=r"D\(z\) of K\+ must be finite and > 0"):
            BDSystem(_geometry(), salt("KCl", 500.0), diffusion={"K+": bad})
    ok = BDSystem(_geometry(), salt("KCl", 500.0), diffusion={"K+": 1.5})
    assert np.all(ok.compile().dtab[0] == 1.5)


def test_diffusion_profile_must_cover_the_box():
    z = np.linspace(-1.0, 1.0, 11)
    with pytest.raises(BDInputError, match="covers"):
        BDSystem(_geometry(), salt("KCl", 500.0), diffusion={"K+": (z, np.ones_like(z))})


def test_overlapping_ions_at_start():
    system = BDSystem(_geometry(), salt("KCl", 500.0))
    pos = np.array([[0.0, 0.0, 3.0], [0.1, 0.0, 3.0]])
    with pytest.raises(BDInputError, match="overlap"):
        BDSimulation(system, 1, positions=pos, species=np.array([0, 1]))


def test_ion_inside_the_membrane_at_start():
    system = BDSystem(_geometry(), salt("KCl", 500.0))
    with pytest.raises(BDInputError, match="inside the membrane"):
        BDSimulation(system, 1, positions=np.array([[2.0, 0.0, 0.0]]), species=np.array([0]))


def test_grid_that_does_not_cover_the_box():
    g = _geometry()
    r = np.linspace(0.0, 2.0, 5)  # bath radius is 2.5
    z = np.linspace(-g.z_max, g.z_max, 9)
    field = ExternalField(potential=GridField((r, z), np.zeros((5, 9)), "mV"))
    with pytest.raises(BDInputError, match="does not cover"):
        BDSystem(g, salt("KCl", 500.0), field=field)


def test_grid_must_be_regular_and_finite():
    r = np.array([0.0, 1.0, 3.0])
    z = np.linspace(-6, 6, 4)
    with pytest.raises(BDInputError, match="uniformly spaced"):
        GridField((r, z), np.zeros((3, 4)), "mV")
    with pytest.raises(BDInputError, match="finite"):
        GridField((np.linspace(0, 3, 3), z), np.full((3, 4), np.nan), "mV")
    with pytest.raises(BDInputError, match="unit"):
        GridField((np.linspace(0, 3, 3), z), np.zeros((3, 4)), "V")


def test_bath_target_the_buffer_cannot_reach():
    # too dilute: the buffer would hold < 1 ion on average
    with pytest.raises(BDInputError, match="cannot keep that concentration"):
        BDSimulation(BDSystem(_geometry(), salt("KCl", 5.0)), 1)
    # too dense: ions would fill > 30 % of the volume
    big = dataclasses.replace(get_species("K+"), name="Big+", ionic_radius=0.5)
    dense = Electrolyte({big: 2000.0, "Cl-": 2000.0})
    with pytest.raises(BDInputError, match="cannot reach"):
        BDSimulation(BDSystem(_geometry(), dense), 1)


def test_species_without_radius_and_bad_numbers():
    nameless = Electrolyte({Species("A+", 1, 1.0): 100.0, "Cl-": 100.0})
    with pytest.raises(BDInputError, match="ionic_radius"):
        BDSystem(_geometry(), nameless)
    with pytest.raises(BDInputError, match="dt"):
        BDSystem(_geometry(), salt("KCl", 100.0), dt=-1.0)
    with pytest.raises(BDInputError, match="too large for the wall"):
        BDSystem(_geometry(), salt("KCl", 100.0), dt=1e-2)
    with pytest.raises(BDInputError, match="voltage_mV"):
        ExternalField(voltage_mV=float("nan"))


def test_geometry_checks():
    with pytest.raises(BDInputError, match="bath_radius"):
        _geometry(pore=3.0)
    with pytest.raises(BDInputError, match="buffer_length"):
        _geometry(buffer_length=2.0)
    with pytest.raises(BDInputError, match="membrane_thickness"):
        _geometry(membrane_thickness=0.0)
    with pytest.raises(BDInputError, match="span the membrane"):
        _geometry(pore=RadiusProfile(np.array([-0.5, 0.5]), np.array([1.0, 1.0])))


def test_wall_distance_closed_forms():
    g = _geometry(pore=RadiusProfile.from_callable(lambda z: 0.8 + 0.1 * z, 2.0))
    # inside the pore: R(z) - r; in a bath beyond the rim: distance to the face; in front of the
    # mouth: distance to the rim circle; in the solid: negative
    x = np.array([0.3, 1.2, 0.0, 1.5])
    z = np.array([0.5, 2.0, 1.6, 0.0])
    expect = [0.85 - 0.3, 1.0, np.hypot(0.9, 0.6), -(1.5 - 0.8)]
    np.testing.assert_allclose(g.wall_distance(x, 0 * x, z), expect, rtol=1e-12)
    # the compiled distance agrees with the numpy one
    from stochastic.bd import kernels as K

    system = BDSystem(g, salt("KCl", 500.0))
    m = system.compile()
    for xi, zi, d in zip(x, z, expect, strict=True):
        assert K.wall_distance(xi, 0.0, zi, m.fp, m.pore_r)[0] == pytest.approx(d, abs=1e-12)


def test_grid_fields_interpolate_linear_functions_exactly():
    # phi = 10 mV * (x + 2 y - z) / nm on a Cartesian grid: trilinear interpolation reproduces
    # it and the force is minus its gradient; S = 0.5 kT * r/nm on an (r, z) grid likewise
    from poreflux import units
    from stochastic.bd import kernels as K

    g = _geometry()
    (x0, x1), (y0, y1), (z0, z1) = g.box
    ax = (np.linspace(x0, x1, 11), np.linspace(y0, y1, 11), np.linspace(z0, z1, 21))
    xx, yy, zz = np.meshgrid(*ax, indexing="ij")
    phi = GridField(ax, 10.0 * (xx + 2 * yy - zz), "mV")
    system = BDSystem(g, salt("KCl", 500.0), field=ExternalField(potential=phi))
    vt = units.thermal_voltage_mV(system.temperature)
    m = system.compile()
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(1.8, 3.5)])
        u, fx, fy, fz = K.external(0, *p, m.fp, m.ip, m.table, m.pore_r, m.sq, m.sa)
        assert u == pytest.approx(10.0 * (p[0] + 2 * p[1] - p[2]) / vt, abs=1e-9)
        np.testing.assert_allclose([fx, fy, fz], -10.0 / vt * np.array([1, 2, -1]), atol=1e-9)
    rz = (np.linspace(0.0, g.bath_radius, 6), np.linspace(z0, z1, 5))
    self_e = GridField(rz, 0.5 * np.meshgrid(*rz, indexing="ij")[0], "kT")
    system = BDSystem(g, salt("KCl", 500.0), field=ExternalField(self_energy=self_e))
    m = system.compile()
    u, fx, fy, _ = K.external(1, 0.6, 0.8, 3.0, m.fp, m.ip, m.table, m.pore_r, m.sq, m.sa)
    assert u == pytest.approx(0.5, abs=1e-12)  # r = 1 nm, q^2 = 1
    np.testing.assert_allclose([fx, fy], [-0.5 * 0.6, -0.5 * 0.8], atol=1e-12)


def test_neutral_groups_of_mixtures():
    from stochastic.bd.gcmc import neutral_groups

    g = _geometry()
    mix = Electrolyte({"K+": 100.0, "Ca2+": 50.0, "Cl-": 200.0})
    groups = neutral_groups(BDSystem(g, mix))
    q = np.array([1, 2, -1])
    assert {tuple(int(v) for v in nu) for nu in groups} == {(1, 0, 1), (0, 1, 2)}
    for nu in groups:
        assert int(np.dot(nu, q)) == 0


def test_mixed_precision_pair_forces_match_the_float64_sum():
    """The float32 pair sum (kernels.pair_forces) against a float64 numpy sum: a lattice of
    ~500 ions of alternating sign with random offsets, no overlaps (nearest pair >= 0.28 nm)."""
    from stochastic.bd import kernels as K

    rng = np.random.default_rng(5)
    grid = np.stack(np.meshgrid(*[np.arange(8) * 0.45] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = grid + rng.uniform(-0.08, 0.08, grid.shape)
    n = pos.shape[0]
    q = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    a = np.where(q > 0, 0.138, 0.181)
    d = pos[:, None, :] - pos[None, :, :]
    r = np.linalg.norm(d, axis=-1)
    np.fill_diagonal(r, np.inf)
    qq, s = q[:, None] * q[None, :], a[:, None] + a[None, :]
    ref = np.einsum("ij,ijk->ki", 0.7 / r**3 * (qq + np.abs(qq) * (s / r) ** 8), d)
    out = np.zeros((3, n))
    K.pair_forces(*pos.T.copy(), q, a, n, 0.7, *out)
    err = np.linalg.norm(out - ref, axis=0)
    assert np.max(err) < 1e-4 * np.sqrt(np.mean(ref**2)), np.max(err)
    assert np.median(err / np.linalg.norm(ref, axis=0)) < 1e-5


def test_unknown_buffer_reference_is_refused():
    with pytest.raises(BDInputError, match="reference must be 'buffer', 'zero' or 'ends'"):
        BDSimulation(BDSystem(_geometry(), salt("KCl", 500.0)), 1, reference="electrode")
