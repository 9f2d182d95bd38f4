"""Problem-level diagnostics: the acceptance cases of issue 4, severities and locations, reports.

Expected numbers are computed here from scipy.constants and the species table, not by the code
under test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import constants as sc

from pnp.diagnostics import (
    AxialProfile,
    DiagnosticInputs,
    Severity,
    Thresholds,
    diagnose,
)
from poreflux import Electrolyte, InputError, Species, get_species, salt
from poreflux.water import EPS_WATER_25C
from stochastic import smoluchowski
from stochastic.profiles import Profile

T = 298.15


def l_bjerrum(eps_r: float) -> float:
    return sc.e**2 / (4 * math.pi * sc.epsilon_0 * eps_r * sc.k * T) / 1e-9


def spacing(total_mM: float) -> float:
    return (sc.N_A * total_mM) ** (-1.0 / 3.0) / 1e-9


def channel_profile(r_pore: float, z_narrow: float | None = None) -> AxialProfile:
    """Baths (R = 5 nm) for |z| > 2 nm; a pore of radius r_pore for |z| <= 2 nm, or, with
    ``z_narrow``, a funnel from 1.5 nm at the pore ends down to r_pore at z = z_narrow."""
    z = np.linspace(-10.0, 10.0, 401)  # 0.05 nm spacing
    radius = np.full_like(z, 5.0)
    inside = np.abs(z) <= 2.0
    if z_narrow is None:
        radius[inside] = r_pore
    else:
        zi = z[inside]
        left = zi <= z_narrow
        frac = np.where(left, (zi - z_narrow) / (-2.0 - z_narrow), (zi - z_narrow) / (2 - z_narrow))
        radius[inside] = r_pore + (1.5 - r_pore) * frac
    spans = [("bath", -10, -2.0 - 1e-9), ("pore", -2.0, 2.0), ("bath", 2.0 + 1e-9, 10)]
    return AxialProfile.from_spans(z, radius, spans)


def only(report, check, region=None, level="problem"):
    hits = [f for f in report.by_check(check, level=level) if region is None or f.region == region]
    assert len(hits) == 1, hits
    return hits[0]


def test_150mM_kcl_in_a_5nm_wide_pore_is_all_ok():
    inputs = DiagnosticInputs(
        salt("KCl", 150), T, 78.46, channel_profile(2.5), surface_charge=-0.02, mesh_size=0.2
    )
    report = diagnose(inputs)
    assert report.worst == Severity.OK
    assert report.trustworthy
    for f in report.checked:
        assert f.severity == Severity.OK, str(f)
    corr = only(report, "correlations", "pore")
    # Donnan estimate in the weakly charged pore: Gamma stays below the 0.5 warning level
    assert 0.404 < corr.values["Gamma_max"] < 0.5
    bath = only(report, "correlations", "bath")
    assert bath.values["Gamma_max"] == pytest.approx(l_bjerrum(78.46) / spacing(300.0), rel=1e-10)
    assert bath.values["Gamma_max"] == pytest.approx(0.404, abs=0.002)
    size = only(report, "finite_size", "pore")
    assert size.values["R_over_a"] == pytest.approx(2.5 / (2 * 0.181), rel=1e-12)
    assert "All checks that ran are ok" in str(report)


@pytest.mark.parametrize(
    ("formula", "conc_mM"),
    [("CaCl2", 1000), ("CaCl2", 500), ("MgCl2", 500), ("MgBr2", 750)],
)
def test_divalent_salts_at_half_molar_and_above_break_mean_field(formula, conc_mM):
    electrolyte = salt(formula, conc_mM)
    report = diagnose(electrolyte, temperature=T)
    f = only(report, "correlations", "bulk")
    assert f.severity >= Severity.WARNING
    cation = electrolyte.species[0]
    assert f.values["pair"] == f"{cation.name}-{cation.name}"
    expected = l_bjerrum(EPS_WATER_25C) * 4 / spacing(3 * conc_mM)  # the default eps_r
    assert f.values["Gamma_max"] == pytest.approx(expected, rel=1e-10)
    assert f.severity == Severity.BREAKDOWN  # Gamma >= 2.7 for all of these
    assert "multivalent" in f.message and "particle simulation" in f.advice
    assert f.region == "bulk" and f.z is None


def test_low_permittivity_region_raises_gamma_by_the_permittivity_ratio():
    inputs = DiagnosticInputs(
        salt("KCl", 150), T, {"bath": 78.46, "pore": 20.0}, channel_profile(2.5)
    )
    report = diagnose(inputs, checks=["correlations"])
    bath = only(report, "correlations", "bath")
    pore = only(report, "correlations", "pore")
    assert pore.values["Gamma_max"] / bath.values["Gamma_max"] == pytest.approx(78.46 / 20.0)
    assert bath.severity == Severity.OK and pore.severity == Severity.BREAKDOWN
    assert "low permittivity" in pore.message


def test_a_03nm_pore_with_k_breaks_finite_size_at_the_constriction_not_in_the_baths():
    z_narrow = 0.7
    inputs = DiagnosticInputs(salt("KCl", 150), T, 78.46, channel_profile(0.3, z_narrow))
    report = diagnose(inputs)
    pore = only(report, "finite_size", "pore")
    assert pore.severity == Severity.BREAKDOWN
    assert pore.z == pytest.approx(z_narrow, abs=0.026)  # profile spacing 0.05 nm
    assert pore.values["R_min_nm"] == pytest.approx(0.3, abs=1e-9)
    # breakdown zone R < 2 a(Cl-) = 0.724 nm of the funnel, solved by hand for z:
    # left flank R = 0.3 + 1.2 (0.7 - z) / 2.7, right flank R = 0.3 + 1.2 (z - 0.7) / 1.3
    lo, hi = pore.values["extent_nm"]
    assert lo == pytest.approx(0.7 - 2.7 * 0.424 / 1.2, abs=0.051)
    assert hi == pytest.approx(0.7 + 1.3 * 0.424 / 1.2, abs=0.051)
    # K+ diameter 0.276 nm (Shannon radius 0.138 nm): R/a = 1.09 < 2 -> breakdown
    assert get_species("K+").diameter == pytest.approx(0.276)
    assert pore.values["R_over_a[K+]"] == pytest.approx(0.3 / 0.276, rel=1e-9)
    # Cl- (a = 0.362 nm) is wider than the constriction: single file
    assert pore.values["limiting_species"] == "Cl-" and pore.values["single_file"]
    assert "single file" in pore.message and "Brownian dynamics" in pore.advice
    for bath in report.by_check("finite_size"):
        if bath.region == "bath":
            assert bath.severity == Severity.OK
    assert report.worst_by_region() == {"bath": Severity.OK, "pore": Severity.BREAKDOWN}


def test_k_only_channel_breakdown_uses_the_k_diameter():
    # a K+ channel whose counter-charge is a big anion that stays in the bath: give the anion a
    # tiny radius so that only K+ limits; R = 0.5 nm: R/a = 1.81 -> breakdown, not single file
    anion = Species("A-", -1, 1.0, ionic_radius=0.05)
    inputs = DiagnosticInputs(
        Electrolyte({"K+": 150.0, anion: 150.0}), T, 78.46, channel_profile(0.5)
    )
    pore = only(diagnose(inputs), "finite_size", "pore")
    assert pore.severity == Severity.BREAKDOWN and not pore.values["single_file"]
    assert pore.values["limiting_species"] == "K+"
    assert pore.values["R_over_a"] == pytest.approx(0.5 / 0.276, rel=1e-9)


def test_charged_narrow_pore_counterion_excess_raises_gamma_and_packing():
    sigma, radius = -0.1, 0.8
    inputs = DiagnosticInputs(
        salt("KCl", 100), T, 78.46, channel_profile(radius), surface_charge=sigma
    )
    report = diagnose(inputs)
    pore = only(report, "correlations", "pore")
    bath = only(report, "correlations", "bath")
    assert pore.values["Gamma_max"] > bath.values["Gamma_max"]
    # hand: Donnan for a 1:1 salt, X = 2 sigma / (e N_A R)
    x = abs(2 * sigma / (sc.e * sc.N_A * radius * 1e-9))
    c_plus = x / 2 + math.sqrt(x**2 / 4 + 100.0**2)
    c_minus = 100.0**2 / c_plus
    assert pore.values["c[K+]_mM"] == pytest.approx(c_plus, rel=1e-9)
    expected = l_bjerrum(78.46) / spacing(c_plus + c_minus)
    assert pore.values["Gamma_max"] == pytest.approx(expected, rel=1e-9)
    assert "Donnan" in pore.values["concentrations"]
    du = only(report, "surface_conduction", "pore")
    assert du.severity == Severity.NOTE
    assert du.values["dukhin"] == pytest.approx(0.1 / (sc.e * sc.N_A * 100 * 0.8e-9), rel=1e-10)
    overlap = only(report, "double_layer_overlap", "pore")
    assert overlap.severity == Severity.NOTE  # lambda_D = 0.96 nm > R/2


@pytest.mark.parametrize(
    ("formula", "conc_mM", "xi", "expected"),
    [("KCl", 150, 2.0, Severity.WARNING), ("CaCl2", 10, 16.0, Severity.BREAKDOWN)],
)
def test_counterions_at_a_charged_wall_graded_by_the_coupling_parameter(
    formula, conc_mM, xi, expected
):
    # sigma = -0.1 C/m^2 in a wide (R = 2.5 nm) pore: Xi = 2 pi z^3 l_B^2 sigma/e
    inputs = DiagnosticInputs(
        salt(formula, conc_mM), T, 78.46, channel_profile(2.5), surface_charge=-0.1
    )
    f = only(diagnose(inputs, checks=["correlations"]), "correlations", "pore")
    assert f.values["wall_coupling_Xi"] == pytest.approx(xi, rel=0.01)
    assert f.values["counterion"] == salt(formula, conc_mM).species[0].name
    assert f.severity == expected
    bath = only(diagnose(inputs, checks=["correlations"]), "correlations", "bath")
    assert "wall_coupling_Xi" not in bath.values  # no wall charge in the baths


@pytest.mark.parametrize(
    ("tau_mem", "expected"),
    [(0.001, Severity.OK), (0.05, Severity.WARNING), (0.8, Severity.BREAKDOWN)],
)
def test_non_markovian_grading_against_a_pmf_hopping_time(tau_mem, expected):
    # flat PMF over 1 nm with D = 1 nm^2/ns: tau_hop = L^2 / (2 D) = 0.5 ns
    z = np.linspace(0.0, 1.0, 1001)
    pmf = Profile.from_arrays(z, D=1.0, temperature=T, W_kT=np.zeros_like(z))
    inputs = DiagnosticInputs(
        salt("KCl", 150),
        T,
        78.46,
        channel_profile(2.5),
        memory_time=tau_mem,
        hopping_time=lambda: smoluchowski.hopping_time_ns(pmf),
    )
    f = only(diagnose(inputs), "non_markovian")
    assert f.values["tau_hop_ns"] == pytest.approx(0.5, rel=1e-5)
    assert f.values["ratio"] == pytest.approx(tau_mem / 0.5, rel=1e-5)
    assert f.severity == expected
    assert f.region == "pore"  # where the profile is narrowest
    if expected > Severity.OK:
        assert "generalized Langevin" in f.advice


def test_non_markovian_from_a_kernel_and_a_callable_hopping_time():
    t = np.linspace(0.0, 1.0, 10001)
    inputs = DiagnosticInputs(
        salt("KCl", 150), T, friction_kernel=(t, np.exp(-t / 0.05)), hopping_time=lambda: 0.1
    )
    f = only(diagnose(inputs), "non_markovian")
    assert f.values["ratio"] == pytest.approx(0.5, rel=1e-3) and f.severity == Severity.WARNING


def test_missing_memory_time_skips_the_check_and_says_so():
    report = diagnose(salt("KCl", 150), temperature=T)
    f = only(report, "non_markovian")
    assert f.skipped and f.severity == Severity.OK and "no memory time" in f.message
    assert f in report.skipped and f not in report.checked
    assert "Skipped:" in str(report) and "no memory time given" in str(report)
    data = json.loads(report.to_json())
    entry = next(x for x in data["findings"] if x["check"] == "non_markovian")
    assert entry["skipped"] is True
    # memory time without a hopping time is skipped too, naming what is missing
    report = diagnose(salt("KCl", 150), temperature=T, memory_time=0.01)
    f = only(report, "non_markovian")
    assert f.skipped and "no hopping time" in f.message


def test_debye_resolution_note():
    inputs = DiagnosticInputs(salt("KCl", 1000), T, mesh_size=0.5)  # lambda_D = 0.304 nm
    f = only(diagnose(inputs), "debye_resolution")
    assert f.severity == Severity.NOTE
    assert f.values["ratio"] == pytest.approx(0.5 / (0.304), rel=0.01)


def test_report_dict_json_and_table():
    inputs = DiagnosticInputs(salt("KCl", 150), T, 78.46, channel_profile(0.3, 0.7))
    report = diagnose(inputs)
    data = json.loads(report.to_json())
    assert data["worst"] == "breakdown"
    assert data["worst_by_region"] == {"bath": "ok", "pore": "breakdown"}
    assert [row["region"] for row in data["table"]] == ["bath", "pore"]
    assert data["table"][1]["finite_size"]["severity"] == "breakdown"
    assert data["thresholds"]["gamma_breakdown"] == 1.0
    text = str(report)
    assert "pore @ z=0.7 nm" in text and "What to use instead" in text
    assert report.table().splitlines()[0].split()[:2] == ["region", "worst"]
    columns = report.columns()
    assert columns["diag_worst"] == "breakdown" and columns["diag_finite_size"] == "breakdown"
    assert columns["diag_correlations"] == "ok" and columns["diag_non_markovian"] == "skipped"


def test_thresholds_are_parameters():
    electrolyte = salt("KCl", 150)  # Gamma = 0.404
    strict = Thresholds(gamma_warning=0.3, gamma_breakdown=0.4)
    f = only(diagnose(electrolyte, temperature=T, thresholds=strict), "correlations")
    assert f.severity == Severity.BREAKDOWN
    with pytest.raises(InputError, match="must not exceed"):
        Thresholds(gamma_warning=2.0, gamma_breakdown=1.0)
    with pytest.raises(InputError, match="positive"):
        Thresholds(packing_warning=-0.1)


def test_invalid_inputs_raise_clear_errors():
    kcl = salt("KCl", 150)
    with pytest.raises(InputError, match="temperature"):
        diagnose(kcl, temperature=-10.0)
    with pytest.raises(InputError, match="temperature"):
        DiagnosticInputs(kcl, 0.0)
    with pytest.raises(InputError, match="permittivity"):
        diagnose(kcl, temperature=T, permittivity=0.0)
    with pytest.raises(InputError, match="permittivity must be > 0 in region 'pore'"):
        DiagnosticInputs(kcl, T, {"bath": 78.46, "pore": -1.0}, channel_profile(1.0))
    with pytest.raises(InputError, match="no permittivity for region 'pore'"):
        DiagnosticInputs(kcl, T, {"bath": 78.46}, channel_profile(1.0))
    with pytest.raises(InputError, match="needs temperature"):
        diagnose(kcl)
    with pytest.raises(InputError, match="radius"):
        AxialProfile(np.array([0.0, 1.0]), np.array([1.0, -1.0]), ("pore", "pore"))
    # a species without a radius: the finite-size check needs it and says how to give one
    bare = Species("X-", -1, 2.0)
    mixture = Electrolyte({"K+": 100.0, bare: 100.0})
    with pytest.raises(InputError, match="'X-' has no ionic_radius"):
        diagnose(mixture, temperature=T)
    # ... while the other checks run without it
    report = diagnose(mixture, temperature=T, checks=["correlations"])
    assert only(report, "correlations").severity == Severity.OK
    # hydrated radii as the diameter: K+ 0.331 nm
    th = Thresholds(radius_kind="hydrated")
    inputs = DiagnosticInputs(kcl, T, 78.46, channel_profile(1.0))
    f = only(diagnose(inputs, thresholds=th), "finite_size", "pore")
    assert f.values["R_over_a[K+]"] == pytest.approx(1.0 / 0.662, rel=1e-9)


def test_docstring_examples_run():
    import doctest

    import pnp.diagnostics
    import pnp.diagnostics.api

    for module in (pnp.diagnostics, pnp.diagnostics.api):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_the_inputs_are_numbers_not_a_pmf():
    # a PMF's hopping time is computed by stochastic.smoluchowski.hopping_time_ns and passed in
    z = np.linspace(0.0, 1.0, 101)
    pmf = Profile.from_arrays(z, D=1.0, temperature=T, W_kT=np.zeros_like(z))
    with pytest.raises(TypeError, match="pmf"):
        DiagnosticInputs(salt("KCl", 150), T, pmf=pmf)
    with pytest.raises(TypeError, match="hopping_method"):
        DiagnosticInputs(salt("KCl", 150), T, hopping_method="kramers")
    with pytest.raises(InputError, match="hopping_time"):
        DiagnosticInputs(salt("KCl", 150), T, hopping_time=-1.0)
