"""Diagnostics quantities: Bjerrum/Debye lengths, spacing, coupling, packing, Donnan, time scales.

Expected numbers come from literature values or from formulas evaluated here with scipy.constants,
never from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import constants as sc

from pnp.diagnostics import quantities as q
from poreflux import InputError, salt

T = 298.15


def test_bjerrum_length_in_water_and_low_permittivity():
    # 0.7135 nm in water at 25 degC (eps_r 78.46); l_B scales as 1/eps_r: ~28 nm at eps_r = 2
    assert q.bjerrum_length_nm(78.46, T) == pytest.approx(0.7135, abs=0.002)
    assert q.bjerrum_length_nm(2.0, T) == pytest.approx(28.0, rel=0.01)
    field = q.bjerrum_length_field_nm(np.array([78.46, 2.0, 20.0]), T)
    hand = sc.e**2 / (4 * math.pi * sc.epsilon_0 * np.array([78.46, 2.0, 20.0]) * sc.k * T) / 1e-9
    np.testing.assert_allclose(field, hand, rtol=1e-12)


@pytest.mark.parametrize(
    "electrolyte",
    [salt("KCl", 1), salt("KCl", 10), salt("NaCl", 150), salt("KCl", 1000), salt("CaCl2", 100)],
    ids=["KCl-1mM", "KCl-10mM", "NaCl-150mM", "KCl-1M", "CaCl2-100mM"],
)
def test_debye_length_follows_the_textbook_law(electrolyte):
    # lambda_D = 0.304 nm / sqrt(I / M) in water at 298.15 K (Israelachvili, eq. 14.37)
    ionic_M = electrolyte.ionic_strength / 1000.0
    lam = q.debye_length_of_electrolyte_nm(electrolyte, T, 78.46)
    assert lam == pytest.approx(0.304 / math.sqrt(ionic_M), rel=0.01)
    # the local (array) version agrees with the electrolyte version
    local = q.local_debye_length_nm(np.asarray(electrolyte.bulk), electrolyte.valences, T, 78.46)
    assert float(local) == pytest.approx(lam, rel=1e-12)


def test_mean_spacing_and_coupling_by_hand():
    # 150 mM KCl: 300 mM of ions -> d = (N_A * 300 mol/m^3)^(-1/3)
    d_hand = (sc.N_A * 300.0) ** (-1.0 / 3.0) / 1e-9
    assert float(q.mean_spacing_nm([150.0, 150.0])) == pytest.approx(d_hand, rel=1e-12)
    assert d_hand == pytest.approx(1.77, abs=0.01)
    l_b = sc.e**2 / (4 * math.pi * sc.epsilon_0 * 78.46 * sc.k * T) / 1e-9
    gamma = q.coupling_matrix([1, -1], [150.0, 150.0], 78.46, T)
    np.testing.assert_allclose(gamma, np.full((2, 2), l_b / d_hand), rtol=1e-12)
    # CaCl2 1 M: Gamma_ij = l_B |z_i z_j| / d, d from the 3 M of ions
    d3 = (sc.N_A * 3000.0) ** (-1.0 / 3.0) / 1e-9
    gamma = q.coupling_matrix([2, -1], [1000.0, 2000.0], 78.46, T)
    np.testing.assert_allclose(gamma, l_b / d3 * np.array([[4, 2], [2, 1]]), rtol=1e-12)
    g_max, idx = q.max_coupling([2, -1], [[1000.0, 2000.0], [0.0, 0.0]], 78.46, T)
    assert g_max[0] == pytest.approx(4 * l_b / d3, rel=1e-12) and idx[0] == 0
    assert g_max[1] == 0.0 and idx[1] == -1  # no ions: no coupling


def test_packing_fraction_and_hard_sphere_excess():
    # 1 M KCl with Shannon radii 0.138 / 0.181 nm
    kcl = salt("KCl", 1000)
    radii = q.species_radii_nm(kcl.species)
    hand = sc.N_A * 1000.0 * 4 / 3 * math.pi * ((0.138e-9) ** 3 + (0.181e-9) ** 3)
    assert float(q.packing_fraction(kcl.bulk, radii)) == pytest.approx(hand, rel=1e-12)
    # Carnahan-Starling: mu_ex/kT at eta = 0.1 is (0.8 - 0.09 + 0.003)/0.9^3 = 0.97805
    assert float(q.carnahan_starling_excess_kT(0.1)) == pytest.approx(0.713 / 0.729, rel=1e-12)
    assert math.isinf(float(q.carnahan_starling_excess_kT(1.0)))


def test_donnan_concentrations_are_neutral_and_obey_the_mass_action_law():
    kcl = salt("KCl", 100)
    # sigma = -0.05 C/m^2 in a 1 nm pore: fixed charge 2 sigma / (e N_A R)
    fixed = float(q.fixed_charge_concentration_mM(-0.05, 1.0))
    assert fixed == pytest.approx(2 * -0.05 / (sc.e * sc.N_A * 1e-9), rel=1e-12)
    c_k, c_cl = q.donnan_concentrations_mM(kcl, fixed)
    assert c_k - c_cl + fixed == pytest.approx(0.0, abs=1e-9 * c_k)
    assert c_k * c_cl == pytest.approx(100.0**2, rel=1e-10)
    # closed form for a 1:1 salt: c_+ = |X|/2 + sqrt(X^2/4 + c^2)
    assert c_k == pytest.approx(abs(fixed) / 2 + math.sqrt(fixed**2 / 4 + 100.0**2), rel=1e-10)
    with pytest.raises(InputError, match="finite"):
        q.donnan_concentrations_mM(kcl, math.inf)


def test_dukhin_number():
    # Du = |sigma| / (e N_A c R): sigma = -0.1 C/m^2, 10 mM, R = 5 nm
    du = q.dukhin_number(-0.1, 10.0, 5.0)
    assert du == pytest.approx(0.1 / (sc.e * sc.N_A * 10.0 * 5e-9), rel=1e-12)
    assert du == pytest.approx(20.7, rel=0.01)


def test_wall_coupling_parameter():
    # Xi = 2 pi z^3 l_B^2 sigma/e: -0.1 C/m^2 = 0.624 e/nm^2, l_B = 0.7135 nm -> Xi = 2.0 for z = 1
    l_b = sc.e**2 / (4 * math.pi * sc.epsilon_0 * 78.46 * sc.k * T) / 1e-9
    hand = 2 * math.pi * l_b**2 * (0.1 / sc.e * 1e-18)
    assert q.wall_coupling_parameter(-0.1, 1, 78.46, T) == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(2.0, abs=0.01)
    assert q.wall_coupling_parameter(-0.1, 2, 78.46, T) == pytest.approx(8 * hand, rel=1e-12)


def test_hopping_time_from_a_number_or_a_callable():
    assert q.evaluate_hopping_time_ns(0.25) == 0.25
    assert q.evaluate_hopping_time_ns(lambda: 0.5) == 0.5
    for bad in (0.0, -1.0, math.nan, math.inf, "fast"):
        with pytest.raises(InputError, match="hopping time"):
            q.evaluate_hopping_time_ns(bad)
    with pytest.raises(InputError, match="hopping time"):
        q.evaluate_hopping_time_ns(lambda: math.nan)


def test_the_diagnostics_take_no_pmf():
    # the PMF -> hopping time step is 1D Smoluchowski physics: stochastic.smoluchowski
    assert not hasattr(q, "hopping_time_ns")


def test_memory_time_of_an_exponential_kernel():
    t = np.linspace(0.0, 0.04, 4001)  # ns
    assert q.memory_time_from_kernel_ns(t, 3.0 * np.exp(-t / 0.002)) == pytest.approx(
        0.002, rel=1e-4
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: q.check_temperature(-5.0), "temperature"),
        (lambda: q.check_temperature(float("nan")), "temperature"),
        (lambda: q.bjerrum_length_field_nm([78.0, 0.0], T), "permittivity"),
        (lambda: q.local_debye_length_nm([1.0, 1.0], [1, -1], T, -3.0), "permittivity"),
        (lambda: q.mean_spacing_nm([-1.0, 2.0]), "concentrations"),
        (lambda: q.memory_time_from_kernel_ns([0.1, 0.2], [1.0, 0.5]), "start at 0"),
    ],
)
def test_bad_inputs_raise_input_errors(call, match):
    with pytest.raises(InputError, match=match):
        call()
