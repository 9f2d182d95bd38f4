"""Profiles: construction, interpolation, unit conversions, friction and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poreflux import units
from poreflux.errors import InputError
from stochastic.profiles import (
    Profile,
    StochasticInputError,
    einstein_friction_kg_per_s,
    friction_amu_per_ps_to_kg_per_s,
    friction_kg_per_s_to_amu_per_ps,
    stokes_friction_kg_per_s,
)

T = 298.15


def smooth_W(z):
    return 3.0 * np.exp(-((z - 1.0) ** 2) / 0.2) - 2.0 * np.sin(z)


def test_cubic_interpolation_converges_fourth_order():
    """Not-a-knot cubic spline of a smooth W: max error ~ h^4 (fitted order within 0.3 of 4)."""
    zq = np.linspace(0.05, 2.95, 997)
    hs, errs, derrs = [], [], []
    for n in (21, 41, 81, 161):
        p = Profile.from_callables(smooth_W, 1.0, z_range=(0, 3), temperature=T, n=n)
        hs.append(3 / (n - 1))
        errs.append(np.max(np.abs(p.W_at(zq) - smooth_W(zq))))
        d_exact = -6.0 * (zq - 1.0) / 0.2 * np.exp(-((zq - 1.0) ** 2) / 0.2) - 2 * np.cos(zq)
        derrs.append(np.max(np.abs(p.dW_at(zq) - d_exact)))
    order = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    dorder = np.polyfit(np.log(hs), np.log(derrs), 1)[0]
    assert abs(order - 4.0) < 0.3, order
    assert abs(dorder - 3.0) < 0.3, dorder


def test_kj_per_mol_conversion_and_files(tmp_path):
    """W given in kJ/mol is divided by RT at the stated temperature; text, CSV and npz agree."""
    z = np.linspace(0, 2, 11)
    w_kj = 2.5 * np.cos(z)
    p = Profile.from_arrays(z, W_kj_per_mol=w_kj, D=0.5, temperature=310.0)
    rt = units.R_GAS * 310.0 / 1e3
    np.testing.assert_allclose(p.W, w_kj / rt, rtol=1e-14)
    np.testing.assert_allclose(p.W_kj_per_mol, w_kj, rtol=1e-14)

    txt = tmp_path / "pmf.dat"
    np.savetxt(txt, np.column_stack([z, w_kj]), header="z_nm W_kJmol")
    csv = tmp_path / "pmf.csv"
    csv.write_text("z,W,D\n" + "\n".join(f"{a},{b},0.5" for a, b in zip(z, w_kj, strict=True)))
    p_txt = Profile.from_file(txt, temperature=310.0, energy_unit="kJ/mol", D=0.5)
    p_csv = Profile.from_file(csv, temperature=310.0, energy_unit="kJ/mol")
    npz = tmp_path / "p.npz"
    p.to_npz(npz)
    p_npz = Profile.from_file(npz, temperature=310.0)
    for q in (p_txt, p_csv, p_npz):
        np.testing.assert_allclose(q.W, p.W, rtol=1e-12)
        np.testing.assert_allclose(q.D, 0.5)
    with pytest.raises(StochasticInputError, match="no D column"):
        Profile.from_file(txt, temperature=310.0)


def test_from_potential_is_z_e_phi_over_kT():
    """A PNP/PB axial potential of 25.69 mV is 1 kT for a monovalent cation at 298.15 K."""
    z = np.linspace(-1, 1, 9)
    vt = units.thermal_voltage_mV(T)
    phi = vt * np.linspace(1, -1, 9)
    p = Profile.from_potential(z, phi, valence=2, temperature=T, D=1.0)
    np.testing.assert_allclose(p.W, 2 * np.linspace(1, -1, 9), rtol=1e-14)
    assert abs(vt - 25.693) < 1e-3


def test_linear_voltage_drop():
    """with_linear_potential: W shifts by z e V/kT on the left and 0 on the right, linear inside."""
    z = np.linspace(0, 4, 41)
    p = Profile.from_arrays(z, W_kT=0.0, D=1.0, temperature=T)
    q = p.with_linear_potential(50.0, valence=-1, drop=(1.0, 3.0))
    u = -50.0 / units.thermal_voltage_mV(T)
    assert q.W[0] == pytest.approx(u) and q.W[-1] == pytest.approx(0.0)
    assert q.W[20] == pytest.approx(u / 2)


def test_friction_einstein_and_stokes():
    """Seed numbers: gamma = 1e-12 kg/s is 602 amu/ps; Einstein and Stokes friction for K+."""
    g_amu = friction_kg_per_s_to_amu_per_ps(1e-12)
    assert g_amu == pytest.approx(1e-12 / (units.AMU / 1e-12), rel=1e-14)
    assert friction_amu_per_ps_to_kg_per_s(g_amu) == pytest.approx(1e-12, rel=1e-14)
    # Einstein: D = 1.96 nm^2/ns (K+ in water) -> gamma = kT/D
    g = einstein_friction_kg_per_s(1.96, T)
    assert g == pytest.approx(units.K_B * T / 1.96e-9, rel=1e-14)
    # Stokes-Einstein consistency: D = kT/(6 pi eta R) for R = 0.125 nm, eta = 0.89 mPa s
    gs = stokes_friction_kg_per_s(0.89e-3, 0.125)
    assert gs == pytest.approx(6 * math.pi * 0.89e-3 * 0.125e-9, rel=1e-14)
    assert units.K_B * T / gs / 1e-9 == pytest.approx(1.96, rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"z": [0, 1, 0.5, 2], "W": 0.0, "D": 1.0}, "strictly increasing"),
        ({"z": [0, 1, 1, 2], "W": 0.0, "D": 1.0}, "strictly increasing"),
        ({"z": [0, 1, 2, 3], "W": [0, np.nan, 0, 0], "D": 1.0}, "not finite"),
        ({"z": [0, 1, 2, 3], "W": 0.0, "D": [1, 0, 1, 1]}, "D must be > 0"),
        ({"z": [0, 1, 2, 3], "W": 0.0, "D": -1.0}, "D must be > 0"),
    ],
)
def test_bad_profiles_raise(kwargs, match):
    """Non-monotone grid, NaN in W, D <= 0 -> InputError (a ValueError) naming the fix."""
    z = np.asarray(kwargs["z"], dtype=float)
    with pytest.raises(InputError, match=match) as exc:
        Profile.from_arrays(z, W_kT=kwargs["W"], D=kwargs["D"], temperature=T)
    assert isinstance(exc.value, ValueError)


def test_out_of_range_and_reversed_ranges_raise():
    p = Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="outside the profile"):
        p.W_at(1.5)
    with pytest.raises(StochasticInputError, match="high > low"):
        Profile.from_callables(np.sin, 1.0, z_range=(2, 1), temperature=T)
    with pytest.raises(StochasticInputError, match="temperature"):
        Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=-5)


def test_profile_is_frozen_and_does_not_alias_inputs():
    z = np.linspace(0, 1, 11)
    w = np.zeros(11)
    p = Profile.from_arrays(z, W_kT=w, D=1.0, temperature=T)
    w[3] = 100.0
    z[0] = -5.0
    assert p.W[3] == 0.0 and p.z[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        p.W[0] = 1.0
    with pytest.raises(AttributeError):
        p.temperature = 310.0


def test_given_electric_potential_profile():
    """A tabulated axial potential adds z e phi/kT; a linear one equals with_linear_potential."""
    z = np.linspace(0, 4, 41)
    p = Profile.from_arrays(z, W_kT=np.sin(z), D=1.0, temperature=T)
    zp = np.linspace(-1, 5, 13)
    phi = 80.0 * np.clip(1 - zp / 4, 0, 1)  # 80 mV left, 0 right, linear across [0, 4]
    q = p.with_electric_potential(zp, phi, valence=-1)
    np.testing.assert_allclose(q.W, p.with_linear_potential(80.0, valence=-1).W, atol=1e-12)
    with pytest.raises(StochasticInputError, match="does not cover"):
        p.with_electric_potential(np.linspace(1, 3, 5), np.zeros(5), valence=1)
