"""Units, scales, species library and electrolytes: checked against literature values."""

from __future__ import annotations

import math

import pytest

from poreflux import Electrolyte, Species, define_species, get_species, salt
from poreflux import units as u
from poreflux.units import Scales


def test_thermal_quantities_at_room_temperature():
    # kT/e = 25.693 mV and RT = 2.4790 kJ/mol at 298.15 K (CODATA 2018 constants)
    assert u.thermal_voltage_mV(298.15) == pytest.approx(25.6926, rel=1e-4)
    assert u.kT_kj_per_mol(298.15) == pytest.approx(2.47896, rel=1e-5)
    assert u.kj_per_mol_to_kT(u.kT_to_kj_per_mol(3.0, 310.0), 310.0) == pytest.approx(3.0)


def test_constants_are_scipys_codata_values():
    from scipy import constants as c

    for ours, theirs in (
        (u.E_CHARGE, c.e),
        (u.K_B, c.k),
        (u.N_A, c.N_A),
        (u.R_GAS, c.R),
        (u.FARADAY, c.physical_constants["Faraday constant"][0]),
    ):  # the SI-defining constants and their products: exact
        assert ours == pytest.approx(theirs, rel=1e-15)
    # measured constants: equal to scipy's CODATA edition (2022); a later edition moves them by
    # ~1e-10 relative, far below anything poreflux computes
    assert abs(u.EPS0 / c.epsilon_0 - 1) < 1e-9
    assert abs(u.AMU / c.atomic_mass - 1) < 1e-9


def test_importing_poreflux_does_not_load_scipy_constants():
    import subprocess
    import sys

    code = "import sys, poreflux, poreflux.units; print('scipy.constants' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_coulomb_constant_in_md_units():
    # GROMACS/OpenMM ONE_4PI_EPS0 = 138.935458 kJ mol^-1 nm e^-2
    coulomb = u.COULOMB_KJ_NM
    assert coulomb == pytest.approx(138.935458, rel=1e-7)


def test_debye_and_bjerrum_lengths():
    # Debye length 0.304 nm / sqrt(I / 1 M) in water at 25 degC (Israelachvili, Intermolecular and
    # Surface Forces, 3rd ed., eq. 14.37)
    for ionic_strength_mM in (1.0, 10.0, 150.0, 1000.0):
        expected = 0.304 / math.sqrt(ionic_strength_mM / 1000.0)
        lam = u.debye_length_nm(ionic_strength_mM, 298.15, eps_r=78.46)
        assert lam == pytest.approx(expected, rel=0.01)
    assert u.bjerrum_length_nm(78.46, 298.15) == pytest.approx(0.7135, abs=0.002)
    assert u.bjerrum_length_nm(2.0, 298.15) == pytest.approx(28.0, rel=0.01)


def test_scales_make_the_poisson_equation_dimensionless():
    s = Scales(temperature=298.15, c0_mM=1000.0)
    # (L0/lambda0)^2 with L0 = 1 nm: lambda0 is the Debye length at 1 M of a 1:1 salt in vacuum
    # (eps_r = 1) times sqrt(2)
    lam_d = u.debye_length_nm(1000.0, 298.15, eps_r=1.0)
    assert s.lambda0_m / u.NM == pytest.approx(lam_d * math.sqrt(2.0), rel=1e-12)
    assert s.potential_from_scaled(s.potential_to_scaled(100.0)) == pytest.approx(100.0)
    # 1 M of unit charges is e N_A c0 = 9.6485e7 C/m^3 -> 1 in scaled units
    assert s.volume_charge_to_scaled(u.FARADAY * 1000.0) == pytest.approx(1.0)
    # Grahame check of the surface scaling: the field jump eps0 eps_r dphi/dn = sigma in SI equals
    # (kT/e)/L0 * [eps_r dpsi/dn'] with [eps_r dpsi/dn'] = K * sigma_scaled
    sigma = 0.1  # C/m^2
    jump_si = sigma / u.EPS0  # eps_r dphi/dn [V/m]
    jump_scaled = s.poisson_coefficient * s.surface_charge_to_scaled(sigma)
    assert jump_scaled * s.thermal_voltage / s.length_m == pytest.approx(jump_si, rel=1e-12)


@pytest.mark.parametrize(
    "bad",
    [{"temperature": -1.0}, {"temperature": float("nan")}, {"temperature": 300, "c0_mM": 0}],
)
def test_scales_reject_bad_values(bad):
    with pytest.raises(ValueError):
        Scales(**bad)


def test_species_library_values():
    k = get_species("K+")
    assert (k.valence, k.diffusion) == (1, pytest.approx(1.957))
    assert k.diameter == pytest.approx(0.276)
    assert get_species("Ca2+").valence == 2
    assert get_species("Cl-").valence == -1
    for name in ("K+", "Na+", "Cl-", "Ca2+", "Mg2+", "Li+"):
        sp = get_species(name)
        assert sp.ionic_radius and sp.hydrated_radius and sp.mass
        # hydrated radius exceeds the bare one for every ion in the table
        assert sp.hydrated_radius > sp.ionic_radius


def test_species_errors_are_clear():
    with pytest.raises(KeyError, match="unknown species 'Xx\\+'"):
        get_species("Xx+")
    with pytest.raises(ValueError, match="diffusion coefficient must be > 0"):
        Species("A+", 1, -1.0)
    with pytest.raises(ValueError, match="valence 0"):
        Species("A", 0, 1.0)
    with pytest.raises(ValueError, match="no ionic_radius"):
        _ = Species("A+", 1, 1.0).diameter


def test_define_species_and_use_it_in_an_electrolyte():
    tma = define_species("TMA+", 1, 1.19, ionic_radius=0.28, register=True)
    e = Electrolyte({tma: 50.0, "Cl-": 50.0})
    assert e.names == ("TMA+", "Cl-")
    assert get_species("TMA+") is tma


def test_electrolytes():
    kcl = salt("KCl", 150.0)
    assert kcl.names == ("K+", "Cl-")
    assert kcl.ionic_strength == pytest.approx(150.0)
    cacl2 = salt("CaCl2", 100.0)
    assert cacl2.concentration("Cl-") == pytest.approx(200.0)
    assert cacl2.ionic_strength == pytest.approx(300.0)
    assert kcl.scaled(2.0).concentration("K+") == pytest.approx(300.0)


@pytest.mark.parametrize(
    ("concentrations", "message"),
    [
        ({"K+": 150.0, "Cl-": 100.0}, "not electroneutral"),
        ({"K+": -1.0, "Cl-": -1.0}, "must be >= 0"),
        ({"K+": float("nan"), "Cl-": 1.0}, "must be finite"),
        ({"Q+": 1.0, "Cl-": 1.0}, "unknown species"),
        ({"K+": 0.0, "Cl-": 0.0}, "all concentrations are zero"),
        ({}, "at least one species"),
    ],
)
def test_bad_electrolytes(concentrations, message):
    with pytest.raises((ValueError, KeyError), match=message):
        Electrolyte(concentrations)


def test_bad_salt_formula():
    with pytest.raises(ValueError, match="cannot parse"):
        salt("potassium chloride", 1.0)
    with pytest.raises(KeyError, match="no library cation"):
        salt("XyCl", 1.0)


def test_water_viscosity_and_stokes_einstein_diffusion():
    from poreflux.species import diffusion_at
    from poreflux.water import water_viscosity

    # CRC Handbook: 0.8900 mPa s at 25 degC, 0.6913 at 37 degC, 1.0016 at 20 degC
    assert water_viscosity(298.15) == pytest.approx(0.8900e-3, rel=0.01)
    assert water_viscosity(310.15) == pytest.approx(0.6913e-3, rel=0.015)
    assert water_viscosity(293.15) == pytest.approx(1.0016e-3, rel=0.01)
    k = get_species("K+")
    assert diffusion_at(k, 298.15) == pytest.approx(k.diffusion, rel=1e-12)
    # D(37 degC)/D(25 degC) = (310.15/298.15) (0.8900/0.6913) = 1.339
    assert diffusion_at(k, 310.15) / k.diffusion == pytest.approx(1.339, rel=0.02)
    with pytest.raises(ValueError, match=r"273\.15-373\.15 K"):
        water_viscosity(200.0)
