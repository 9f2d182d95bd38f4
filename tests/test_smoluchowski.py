"""Steady 1D Smoluchowski transport: flux formula, GHK and Nernst limits, MFPT, Kramers rate.

Reference values are computed here independently of the library (scipy.integrate.quad on the
analytic W(z), D(z); closed forms), never from numbers the library produced.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import constants
from scipy.integrate import quad

from poreflux import units
from stochastic import smoluchowski as sm
from stochastic.profiles import Profile, StochasticInputError

T = 298.15
VT = units.R_GAS * T / units.FARADAY * 1e3  # kT/e in mV, independently of poreflux.units helpers


def barrier_W(z):
    """Smooth 5 kT barrier centred at 2.5 nm."""
    return 5.0 * np.exp(-((z - 2.5) ** 2) / 0.5)


def well_barrier_W(z):
    """-4 kT binding well at 1.5 nm next to a +6 kT barrier at 3 nm, and an offset bath level."""
    return -4.0 * np.exp(-((z - 1.5) ** 2) / 0.1) + 6.0 * np.exp(-((z - 3.0) ** 2) / 0.2) + 0.3 * z


def varying_D(z):
    return 1.2 - 0.8 * np.exp(-((z - 2.0) ** 2) / 0.5)


def reference_flux(W, D, a, b, cl, cr):
    integral = quad(lambda z: math.exp(W(z)) / D(z), a, b, epsabs=0, epsrel=1e-13, limit=400)[0]
    return (cl * math.exp(W(a)) - cr * math.exp(W(b))) / integral


@pytest.mark.parametrize(
    ("W", "D"),
    [
        (barrier_W, lambda z: 0.0 * z + 1.3),
        (well_barrier_W, lambda z: 0.0 * z + 1.3),
        (barrier_W, varying_D),
        (well_barrier_W, varying_D),
    ],
    ids=["barrier", "well+barrier", "barrier-D(z)", "well+barrier-D(z)"],
)
def test_steady_flux_matches_integral_formula(W, D):
    """Acceptance: J = (c_L e^{W_L} - c_R e^{W_R}) / int e^W/D dz to 1e-6 relative."""
    p = Profile.from_callables(W, D, z_range=(0.0, 5.0), temperature=T, n=1001)
    ref = reference_flux(lambda z: float(W(z)), lambda z: float(D(z)), 0.0, 5.0, 150.0, 30.0)
    J = sm.steady_flux(p, 150.0, 30.0)
    assert abs(J / ref - 1) < 1e-6, (J, ref)


def test_steady_density_matches_quadrature():
    """c(z) = e^{-W(z)} [c_L e^{W_L} - J int_0^z e^W/D] (from scipy quad on the analytic W, D)
    to 1e-6, meets both bath values, and its flux is uniform (finite differences)."""
    p = Profile.from_callables(well_barrier_W, varying_D, z_range=(0, 5), temperature=T, n=1001)
    zq = np.array([0.0, 0.7, 1.5, 2.2, 3.0, 4.1, 5.0])
    _, c, J = sm.steady_density(p, 100.0, 20.0, zq)
    ref_J = reference_flux(
        lambda z: float(well_barrier_W(z)), lambda z: float(varying_D(z)), 0.0, 5.0, 100.0, 20.0
    )
    for zi, ci in zip(zq, c, strict=True):
        integral = quad(
            lambda x: math.exp(well_barrier_W(x)) / varying_D(x), 0.0, zi, epsrel=1e-13, limit=400
        )[0]
        ref = math.exp(-well_barrier_W(zi)) * (100.0 - ref_J * integral)
        assert ci == pytest.approx(ref, rel=1e-6)
    assert c[0] == pytest.approx(100.0, rel=1e-12) and c[-1] == pytest.approx(20.0, rel=1e-6)
    z, c, J = sm.steady_density(p, 100.0, 20.0, np.linspace(0, 5, 2001))
    w = p.W_at(z)
    flux = -p.D_at(z) * np.exp(-w) * np.gradient(c * np.exp(w), z, edge_order=2)
    assert np.max(np.abs(flux[5:-5] / J - 1)) < 1e-2


@pytest.mark.parametrize("voltage", [-120.0, -25.0, 0.0, 1e-4, 40.0, 150.0])
@pytest.mark.parametrize("valence", [1, -1, 2])
def test_ghk_limit(voltage, valence):
    """Acceptance: flat W with a linear voltage drop gives the GHK current (< 0.1%)."""
    L, D, cl, cr = 4.0, 1.33, 140.0, 5.0
    p = Profile.from_arrays(np.linspace(0, L, 41), W_kT=0.0, D=D, temperature=T)
    u = valence * voltage / VT
    ghk = D / L * (cl - cr) if u == 0 else D / L * u * (cl - cr * math.exp(-u)) / (1 - math.exp(-u))
    ch = sm.Channel1D((sm.Permeant("X", valence, p),), area_nm2=0.5)
    current = ch.current_pA({"X": cl}, {"X": cr}, voltage)
    expected = valence * units.FARADAY * ghk * 0.5 * 1e-6  # I = z F J A, J in mol m^-2 s^-1
    assert abs(current / expected - 1) < 1e-3
    assert abs(sm.steady_flux(p, cl, cr, valence=valence, voltage_mV=voltage) / ghk - 1) < 1e-9


def test_nernst_reversal_potential_and_conductance():
    """One permeant species: zero current at V = (kT/ze) ln(c_R/c_L) (left relative to right),
    for any W(z) with equal bath levels; the chord conductance is positive, the I-V monotone."""
    p = Profile.from_callables(
        lambda z: well_barrier_W(z) - 0.3 * z, 1.0, z_range=(0, 5), temperature=T, n=801
    )
    ch = sm.Channel1D((sm.Permeant("K", 1, p),), area_nm2=0.3)
    cl, cr = {"K": 150.0}, {"K": 5.0}
    erev = ch.reversal_potential_mV(cl, cr)
    assert erev == pytest.approx(VT * math.log(5.0 / 150.0), abs=1e-6)
    v = np.linspace(-150, 150, 13)
    iv = ch.iv_curve(v, cl, cr)
    assert np.all(np.diff(iv) > 0)
    assert ch.conductance_pS(cl, cr, 50.0) > 0
    # slope conductance at reversal equals the numerical derivative of the I-V
    slope = ch.conductance_pS(cl, cr, erev, kind="slope")
    assert slope == pytest.approx(
        1e3 * (ch.current_pA(cl, cr, erev + 1e-3) - ch.current_pA(cl, cr, erev - 1e-3)) / 2e-3,
        rel=1e-4,
    )


def test_ghk_voltage_equation_for_two_species():
    """Two cations with flat W and different D: reversal potential of the GHK voltage equation
    V = (kT/e) ln((P_a c_aR + P_b c_bR) / (P_a c_aL + P_b c_bL)) with P = D/L."""
    z = np.linspace(0, 3, 31)
    pa = Profile.from_arrays(z, W_kT=0.0, D=2.0, temperature=T)
    pb = Profile.from_arrays(z, W_kT=0.0, D=0.5, temperature=T)
    ch = sm.Channel1D((sm.Permeant("A", 1, pa), sm.Permeant("B", 1, pb)), area_nm2=1.0)
    cl, cr = {"A": 10.0, "B": 140.0}, {"A": 140.0, "B": 10.0}
    expected = VT * math.log((2.0 * 140 + 0.5 * 10) / (2.0 * 10 + 0.5 * 140))
    assert ch.reversal_potential_mV(cl, cr) == pytest.approx(expected, abs=1e-6)


def test_binding_constant_of_a_flat_site_is_its_volume_times_avogadro():
    """W = 0 on a 0.5 nm site of a 2 nm^2 pore: N = c N_A V, so K_b = N_A V = 1 nm^3 x 6.022e-4
    per nm^3 per mM; a well of depth 2 kT multiplies it by e^2 (rel. 1e-9: exact quadrature)."""
    z = np.linspace(0.0, 3.0, 61)
    flat = Profile.from_arrays(z, W_kT=0.0, D=1.0, temperature=T)
    per_nm3_per_mM = constants.N_A * 1e-27  # 1 mM = 1 mol/m^3, 1 nm^3 = 1e-27 m^3
    k_b = sm.binding_constant_per_mM(flat, (1.0, 1.5), area_nm2=2.0)
    assert k_b == pytest.approx(per_nm3_per_mM * 1.0, rel=1e-9)
    ch = sm.Channel1D((sm.Permeant("K", 1, flat),), area_nm2=2.0)
    assert ch.dissociation_constant_mM("K", (1.0, 1.5)) == pytest.approx(1660.5, rel=1e-4)
    zf = np.linspace(0.0, 3.0, 601)  # smooth descent from the bath level 0 to -2 kT by z = 1
    well = Profile.from_arrays(zf, W_kT=-2.0 * -np.expm1(-((zf / 0.2) ** 2)), D=1.0, temperature=T)
    k_well = sm.binding_constant_per_mM(well, (1.0, 1.5), area_nm2=2.0)
    assert k_well == pytest.approx(per_nm3_per_mM * math.exp(2.0), rel=1e-9)


def test_selectivity_paradox_binds_more_conducts_less():
    """The seed's paradox: the species with the deeper well (smaller K_d) carries less current
    because its barrier is higher. Qualitative check of the worked example's physics."""
    z = (0.0, 4.0)

    def pmf(depth, barrier):
        return lambda x: (
            -depth * np.exp(-((x - 2.0) ** 2) / 0.1)
            + barrier * (np.exp(-((x - 1.0) ** 2) / 0.05) + np.exp(-((x - 3.0) ** 2) / 0.05))
        )

    k = Profile.from_callables(pmf(3.0, 3.0), 1.0, z_range=z, temperature=T, n=801)
    na = Profile.from_callables(pmf(5.0, 7.0), 1.0, z_range=z, temperature=T, n=801)
    ch = sm.Channel1D((sm.Permeant("K", 1, k), sm.Permeant("Na", 1, na)), area_nm2=0.2)
    site = (1.7, 2.3)
    assert ch.dissociation_constant_mM("Na", site) < ch.dissociation_constant_mM("K", site)
    assert ch.current_ratio("K", "Na", 150.0, 150.0, 100.0) > 5.0


def test_free_diffusion_mfpt():
    """Acceptance: free diffusion, reflecting at 0, absorbing at L: T = (L^2 - x0^2)/(2D) to 1e-6
    (and the mirror image, and two absorbing ends: x0 (L - x0)/(2D))."""
    L, D = 3.0, 0.7
    p = Profile.from_arrays(np.linspace(0, L, 31), W_kT=0.0, D=D, temperature=T)
    x0 = np.array([0.0, 0.3, 1.234, 2.9, 3.0])
    np.testing.assert_allclose(sm.mfpt(p, x0), (L**2 - x0**2) / (2 * D), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(
        sm.mfpt(p, x0, left="absorbing", right="reflecting"),
        (L**2 - (L - x0) ** 2) / (2 * D),
        rtol=1e-6,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        sm.mfpt(p, x0, left="absorbing", right="absorbing"),
        x0 * (L - x0) / (2 * D),
        rtol=1e-6,
        atol=1e-12,
    )
    # sub-interval bounds
    assert sm.mfpt(p, 1.0, bounds=(0.5, 2.0)) == pytest.approx(
        (2.0 - 0.5) ** 2 / (2 * D) - 0.25 / (2 * D), rel=1e-6
    )


def test_mfpt_with_potential_matches_quadrature():
    """MFPT over a well-plus-barrier profile with D(z) vs a nested scipy quad (1e-6)."""
    p = Profile.from_callables(well_barrier_W, varying_D, z_range=(0, 5), temperature=T, n=1001)

    def inner(y):
        return quad(lambda u: math.exp(-well_barrier_W(u)), 0.0, y, epsrel=1e-12, limit=200)[0]

    ref = quad(
        lambda y: math.exp(well_barrier_W(y)) / varying_D(y) * inner(y),
        1.0,
        5.0,
        epsrel=1e-11,
        limit=200,
    )[0]
    assert sm.mfpt(p, 1.0) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(("barrier", "tol"), [(6.0, 0.10), (10.0, 0.05)])
@pytest.mark.parametrize("shape", ["cubic", "double-well"])
def test_mfpt_matches_kramers_rate(barrier, tol, shape):
    """Acceptance: MFPT from the well over a 6 kT (10 kT) barrier to an absorbing point beyond it
    equals the overdamped Kramers time 1/k within 10% (5%); the gap shrinks with the barrier."""
    D = 0.8
    if shape == "cubic":  # W = dW (3 s^2 - 2 s^3), s = z/a: well at 0, barrier at a
        a = 1.0
        p = Profile.from_callables(
            lambda z: barrier * (3 * (z / a) ** 2 - 2 * (z / a) ** 3),
            D,
            z_range=(-1.5, 1.8),
            temperature=T,
            n=2001,
        )
        well, top = 0.0, a
        k_exact = D * math.sqrt(6 * barrier * 6 * barrier) / (2 * math.pi) * math.exp(-barrier)
    else:  # W = dW (z^2 - 1)^2: wells at -1, +1, barrier at 0; absorb at the other minimum
        p = Profile.from_callables(
            lambda z: barrier * (z**2 - 1) ** 2, D, z_range=(-2.0, 1.0), temperature=T, n=2001
        )
        well, top = -1.0, 0.0
        k_exact = D * math.sqrt(8 * barrier * 4 * barrier) / (2 * math.pi) * math.exp(-barrier)
    k = sm.kramers_rate(p, well, top)
    assert k.rate_per_ns == pytest.approx(k_exact, rel=1e-6)  # extrema and curvatures found
    assert k.barrier_kT == pytest.approx(barrier, rel=1e-8)
    t = sm.mfpt(p, well)
    assert abs(t * k.rate_per_ns - 1) < tol, t * k.rate_per_ns


def test_particle_rate_and_current_units():
    """1 mM nm/ns through 1 nm^2 is 6.022e-4 ions/ns and F*1e-6 = 0.0965 pA per unit charge."""
    # 1 mM = 1 mol/m^3; 1 nm/ns = 1 m/s; 1 nm^2 = 1e-18 m^2: 1e-18 mol/s = 6.022e5 ions/s
    per_ns = constants.N_A * 1.0 * 1.0 * 1e-18 * 1e-9
    assert per_ns == pytest.approx(6.022e-4, rel=1e-4)
    assert sm.particle_rate_per_ns(1.0, 1.0) == pytest.approx(per_ns, rel=1e-12)
    to_pa = sm.FLUX_AREA_TO_PA
    assert to_pa == pytest.approx(
        units.E_CHARGE * units.N_A * 1.0 * 1.0 * 1e-18 / 1e-12,
        rel=1e-12,  # C/mol mol/m^3 m/s m^2
    )


def test_bad_input_raises():
    p = Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="reversed or empty"):
        sm.mfpt(p, 0.5, bounds=(0.8, 0.2))
    with pytest.raises(StochasticInputError, match="both ends reflecting"):
        sm.mfpt(p, 0.5, left="reflecting", right="reflecting")
    with pytest.raises(StochasticInputError, match=r"in \[0, 1\]"):
        sm.mfpt(p, 1.5)
    with pytest.raises(StochasticInputError, match=">= 0 mM"):
        sm.steady_flux(p, -1.0, 1.0)
    with pytest.raises(StochasticInputError, match="z_b > z_a"):
        sm.steady_flux(p, 1.0, 1.0, valence=1, voltage_mV=10.0, drop=(0.9, 0.1))
    with pytest.raises(StochasticInputError, match="unique"):
        sm.Channel1D((sm.Permeant("K", 1, p), sm.Permeant("K", 1, p)), area_nm2=1.0)
    ch = sm.Channel1D((sm.Permeant("K", 1, p),), area_nm2=1.0)
    with pytest.raises(StochasticInputError, match="reversal"):
        ch.reversal_potential_mV({"K": 0.0}, {"K": 0.0})


@pytest.mark.parametrize(
    ("c_left", "c_right", "match"),
    [
        ({"Na": 150.0}, {"Na": 150.0}, r"'Na'.*not a permeant.*\['K'\]"),  # another channel's ion
        ({"k": 150.0}, {"K": 150.0}, r"c_left_mM names 'k'.*\['K'\]"),  # a typo
        ({"K": 150.0}, {"K+": 5.0}, r"c_right_mM names 'K\+'"),
        ({"K": math.nan}, {"K": 5.0}, r"c_left_mM\['K'\] must be a finite"),
        ({"K": 150.0}, {"K": -1.0}, r"c_right_mM\['K'\] must be a finite"),
        ({"K": "lots"}, {"K": 5.0}, r"c_left_mM\['K'\] must be a finite"),
        ([("K", 150.0)], {"K": 5.0}, "must be a map"),
    ],
)
def test_unknown_or_bad_bath_species_raise(c_left, c_right, match):
    """A key that is not a permeant used to give 0 pA silently; now every entry point says so."""
    p = Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=T)
    ch = sm.Channel1D((sm.Permeant("K", 1, p),), area_nm2=1.0)
    calls = [
        lambda: ch.current_pA(c_left, c_right, 10.0),
        lambda: ch.species_currents_pA(c_left, c_right, 10.0),
        lambda: ch.iv_curve([10.0], c_left, c_right),
        lambda: ch.reversal_potential_mV(c_left, c_right),
        lambda: ch.conductance_pS(c_left, c_right, 10.0, kind="slope"),
    ]
    for call in calls:
        with pytest.raises(StochasticInputError, match=match):
            call()


def test_a_permeant_in_neither_bath_raises_for_the_total_current():
    """Total current / reversal potential: every permeant must be in a bath (0 mM is explicit);
    a permeant in one bath only is at 0 mM in the other (bi-ionic conditions, GHK)."""
    z = np.linspace(0, 3, 31)
    pa = Profile.from_arrays(z, W_kT=0.0, D=2.0, temperature=T)
    pb = Profile.from_arrays(z, W_kT=0.0, D=0.5, temperature=T)
    ch = sm.Channel1D((sm.Permeant("A", 1, pa), sm.Permeant("B", 1, pb)), area_nm2=1.0)
    for call in (
        lambda: ch.current_pA({"A": 150.0}, {"A": 150.0}, 20.0),
        lambda: ch.reversal_potential_mV({"A": 150.0}, {"A": 15.0}),
        lambda: ch.iv_curve([20.0], {"A": 150.0}, {"A": 150.0}),
    ):
        with pytest.raises(StochasticInputError, match=r"\['B'\] in neither bath.*0 mM"):
            call()
    # explicit zeros are fine and give the one-species current
    alone = ch.current_pA({"A": 150.0, "B": 0.0}, {"A": 150.0, "B": 0.0}, 20.0)
    u = 20.0 / VT
    ghk = 2.0 / 3.0 * u * 150.0 * (1 - math.exp(-u)) / -math.expm1(-u)  # c_L = c_R
    assert alone == pytest.approx(sm.FLUX_AREA_TO_PA * ghk, rel=1e-9)
    # bi-ionic: A only left, B only right, P_A/P_B = 4: E = (kT/e) ln(P_B c / P_A c)
    assert ch.reversal_potential_mV({"A": 100.0}, {"B": 100.0}) == pytest.approx(
        VT * math.log(0.5 / 2.0), abs=1e-6
    )
    # per-species currents: a species in neither bath carries none (the chain's "ion alone")
    per = ch.species_currents_pA({"A": 150.0}, {"A": 150.0}, 20.0)
    assert per["B"] == 0.0 and per["A"] == pytest.approx(alone, rel=1e-12)


def test_selectivity_paradox_example_runs(tmp_path, capsys):
    """The worked example runs, prints its table and writes the PNG; its numbers show the paradox
    (smaller K_d for Na, larger current for K, P_Na/P_K < 1 from the bi-ionic reversal)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "selectivity_paradox.py"
    spec = importlib.util.spec_from_file_location("selectivity_paradox", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(tmp_path)
    assert (tmp_path / "selectivity_paradox.png").stat().st_size > 10_000
    assert "K_d" in capsys.readouterr().out
    assert res["Na"]["Kd_mM"] < res["K"]["Kd_mM"]
    assert res["K"]["current_pA"] > 5 * res["Na"]["current_pA"]
    assert res["bi-ionic"]["P_Na/P_K"] < 1.0
    # chord conductance at symmetric baths (E_rev = 0) is I/V
    assert res["K"]["conductance_pS"] == pytest.approx(1e3 * res["K"]["current_pA"] / 100.0)


def test_plotting_functions(tmp_path):
    """Each plot helper draws on an Agg figure and returns its axes."""
    from stochastic import plotting

    p = Profile.from_callables(barrier_W, varying_D, z_range=(0, 5), temperature=T, n=201)
    ax = plotting.plot_profile(p, label="barrier")
    z, c, J = sm.steady_density(p, 100.0, 10.0, np.linspace(0, 5, 200))
    plotting.plot_steady_state(z, c, J)
    x0 = np.linspace(0, 4.9, 30)
    plotting.plot_mfpt(x0, sm.mfpt(p, x0))
    rng = np.random.default_rng(0)
    plotting.plot_histogram_vs_boltzmann(rng.uniform(0, 5, 1000), p)
    ax.figure.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").exists()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_partial_voltage_drop_matches_closed_form():
    """Flat W, drop only across [1, 3] of a 4 nm profile: int e^W/D has a closed form
    (e^u + 2 (e^u - 1)/u + 1)/D; the cached whole-range path agrees with an explicit drop."""
    D, u_mV = 0.9, 60.0
    p = Profile.from_arrays(np.linspace(0, 4, 41), W_kT=0.0, D=D, temperature=T)
    u = u_mV / VT
    integral = (math.exp(u) + 2 * (math.exp(u) - 1) / u + 1) / D
    expected = (100.0 * math.exp(u) - 20.0) / integral
    got = sm.steady_flux(p, 100.0, 20.0, valence=1, voltage_mV=u_mV, drop=(1.0, 3.0))
    assert got == pytest.approx(expected, rel=1e-10)
    whole = sm.steady_flux(p, 100.0, 20.0, valence=1, voltage_mV=u_mV)
    explicit = sm.steady_flux(p, 100.0, 20.0, valence=1, voltage_mV=u_mV, drop=(0.0, 4.0 - 1e-13))
    assert whole == pytest.approx(explicit, rel=1e-9)


# ------------------------------------------------------------------------------ hopping time
def test_hopping_time_of_free_diffusion_is_l_squared_over_2d():
    # reflecting at 0, absorbing at L: MFPT = L^2 / (2 D) (Szabo, Schulten & Schulten 1980)
    z = np.linspace(0.0, 2.0, 201)
    pmf = Profile.from_arrays(z, D=1.5, temperature=T, W_kT=np.zeros_like(z))
    assert sm.hopping_time_ns(pmf) == pytest.approx(2.0**2 / (2 * 1.5), rel=1e-9)


def test_kramers_and_mfpt_hopping_times_agree_for_a_high_barrier():
    # W = dW sin^2(pi z / L): well at 0, barrier at L/2, reflecting at -L/2, absorbing at L
    d_w, length, diff = 10.0, 1.0, 2.0
    z = np.linspace(-length / 2, length, 601)
    pmf = Profile.from_arrays(z, D=diff, temperature=T, W_kT=d_w * np.sin(np.pi * z / length) ** 2)
    tau_kramers = sm.hopping_time_ns(pmf, "kramers")
    # closed form of the Kramers time for this potential: W'' = +-2 dW pi^2 / L^2
    curv = 2 * d_w * math.pi**2 / length**2
    assert tau_kramers == pytest.approx(2 * math.pi * math.exp(d_w) / (diff * curv), rel=1e-4)
    assert sm.hopping_time_ns(pmf, "mfpt") == pytest.approx(tau_kramers, rel=0.15)  # O(1/dW)
    with pytest.raises(StochasticInputError, match="method"):
        sm.hopping_time_ns(pmf, "transition-state")
    with pytest.raises(StochasticInputError, match="Profile"):
        sm.hopping_time_ns((z, z), "mfpt")
    flat = Profile.from_arrays(z, D=diff, temperature=T, W_kT=np.zeros_like(z))
    with pytest.raises(StochasticInputError, match="interior well"):
        sm.hopping_time_ns(flat, "kramers")
