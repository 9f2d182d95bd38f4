"""The hierarchy chain: transport profiles -> 1D Smoluchowski observables with bootstrap errors.

Every expected value is computed independently in the test (scipy.integrate.quad, closed forms,
linear error propagation), never taken from the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import constants
from scipy.integrate import quad

from stochastic.chain import HierarchyChain, TransportProfile, Uncertain, WindowDiffusion
from stochastic.pmf import (
    BootstrapPMF,
    DiffusionProfile,
    InverseCDFSampler,
    PMFResult,
    UmbrellaData,
    bootstrap_pmf,
    evenly_spaced_windows,
)
from stochastic.profiles import StochasticInputError

T = 298.15
VT_MV = 1e3 * constants.k * T / constants.e  # thermal voltage [mV]
F_PA = constants.physical_constants["Faraday constant"][0] * 1e-6  # pA per (mM nm/ns nm^2)
L = 6.0  # nm
Z = np.linspace(-3.0, 3.0, 601)


def barrier(z):
    return 2.5 * np.exp(-(z**2) / (2 * 0.6**2)) - 1.0 * np.exp(-((z - 1.2) ** 2) / 0.2)


def d_of_z(z):
    return 1.9 * (1.0 - 0.4 * np.exp(-(z**2)))


def quad_current(w, d, cl, cr, valence, voltage, area, drop=(-3.0, 3.0)):
    """Independent Smoluchowski current [pA]: I = z F A (cL e^{W_L} - cR e^{W_R}) / int e^W/D."""
    za, zb = drop
    u = valence * voltage / VT_MV

    def wt(x):
        return w(x) + u * (1.0 - min(max((x - za) / (zb - za), 0.0), 1.0))

    pts = sorted({-3.0, 3.0, za, zb, 0.0, 1.2})
    denom = sum(
        quad(lambda x: math.exp(wt(x)) / d(x), a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
        for a, b in itertools.pairwise(pts)
    )
    j = (cl * math.exp(wt(-3.0)) - cr * math.exp(wt(3.0))) / denom
    return valence * F_PA * area * j


# ----------------------------------------------------------------------------- analytic flux
@pytest.mark.parametrize(("voltage", "drop"), [(0.0, None), (60.0, None), (-45.0, (-1.5, 2.0))])
def test_current_matches_quad_integral(voltage, drop):
    """Gaussian barrier + well, z-dependent D, two species: the chain's currents equal the
    Smoluchowski integral formula evaluated with quad to < 1e-6 (measured <= 3e-10)."""
    k = TransportProfile.from_arrays("K+", 1, Z, barrier(Z), d_of_z(Z), temperature=T)
    cl_ = TransportProfile.from_arrays("Cl-", -1, Z, 0.5 * barrier(Z), 2.03, temperature=T)
    area = 0.8
    chain = HierarchyChain((k, cl_), area_nm2=area, drop=drop)
    cur = chain.species_currents(
        {"K+": 150.0, "Cl-": 150.0}, {"K+": 20.0, "Cl-": 20.0}, voltage, n_boot=0
    )
    dr = (-3.0, 3.0) if drop is None else drop
    exp_k = quad_current(
        lambda x: float(barrier(x)), lambda x: float(d_of_z(x)), 150.0, 20.0, 1, voltage, area, dr
    )
    exp_cl = quad_current(
        lambda x: 0.5 * float(barrier(x)), lambda x: 2.03, 150.0, 20.0, -1, voltage, area, dr
    )
    for name, expected in (("K+", exp_k), ("Cl-", exp_cl)):
        rel = abs(cur[name].value / expected - 1)
        print(f"{name}: chain {cur[name].value:.10g} pA, quad {expected:.10g} pA, rel {rel:.1e}")
        assert rel < 1e-6
    assert cur["total"].value == pytest.approx(exp_k + exp_cl, rel=1e-6)
    # the I-V curve gives the same numbers
    iv = chain.iv_curve([voltage], {"K+": 150.0, "Cl-": 150.0}, {"K+": 20.0, "Cl-": 20.0}, n_boot=0)
    assert iv.total.value[0] == pytest.approx(exp_k + exp_cl, rel=1e-6)


def test_zero_sigma_gives_zero_spread():
    k = TransportProfile.from_arrays("K+", 1, Z, barrier(Z), d_of_z(Z), temperature=T)
    chain = HierarchyChain((k,), area_nm2=1.0)
    u = chain.species_currents({"K+": 100.0}, {"K+": 10.0}, 30.0, n_boot=20)["K+"]
    assert u.n_boot == 20
    assert u.std <= 1e-12 * abs(u.value)
    assert u.low == pytest.approx(u.value, rel=1e-12)
    assert u.high == pytest.approx(u.value, rel=1e-12)
    m = chain.mfpt_ns("K+", n_boot=5)
    assert m.std <= 1e-12 * m.value


# ----------------------------------------------------------------------------- propagation
def _linear_rel_std(w, d, sigma, ell):
    """Linear propagation of a Gaussian W error into ln J at V = 0, c_R = 0, on a fine grid:
    d ln J = -int delta e^W/D / int e^W/D, so var = g^T C g with g = sigma e^W/D dz / norm."""
    x = np.linspace(-3.0, 3.0, 3001)
    dz = np.gradient(x)
    g = np.exp(w(x)) / d(x) * dz
    g = g / g.sum() * sigma(x)
    if math.isinf(ell):
        return abs(g.sum())
    corr = np.exp(-0.5 * ((x[:, None] - x[None, :]) / ell) ** 2)
    return math.sqrt(g @ corr @ g)


@pytest.mark.parametrize("ell", [math.inf, 0.4])
def test_bootstrap_std_matches_linear_propagation_of_W_noise(ell):
    """sigma_W(z) = 0.1 kT bump in the pore: bootstrap std of the current within 10 % of linear
    error propagation (measured: inf -> +0.3 %, 0.4 nm -> -1.5 % with n_boot = 800)."""

    def sig(x):
        return 0.1 * np.exp(-(x**2) / (2 * 0.7**2))

    k = TransportProfile.from_arrays(
        "K+", 1, Z, barrier(Z), d_of_z(Z), temperature=T, sigma_W=sig(Z), correlation_length_nm=ell
    )
    chain = HierarchyChain((k,), area_nm2=1.0)
    u = chain.species_currents({"K+": 100.0}, {"K+": 0.0}, 0.0, n_boot=800, seed=3)["K+"]
    expected = _linear_rel_std(barrier, d_of_z, sig, ell)
    got = u.std / abs(u.value)
    print(f"ell={ell}: bootstrap rel std {got:.5f}, linear propagation {expected:.5f}")
    assert expected > 0.01
    assert got == pytest.approx(expected, rel=0.10)
    assert u.low < u.value < u.high


def test_bootstrap_std_of_D_noise_is_relative_sigma():
    """A fully correlated 5 % error of D: I is proportional to D, so std(I)/I = 5 % (log-normal
    draws with matched mean and std); within 10 % (measured 4.90 %)."""
    k = TransportProfile.from_arrays(
        "K+", 1, Z, barrier(Z), 2.0, temperature=T, sigma_D=0.1, correlation_length_nm=math.inf
    )
    chain = HierarchyChain((k,), area_nm2=1.0)
    u = chain.species_currents({"K+": 100.0}, {"K+": 10.0}, 20.0, n_boot=800, seed=1)["K+"]
    print(f"rel std {u.std / u.value:.4f} (expected 0.05), mean/value {u.mean / u.value:.4f}")
    assert u.std / u.value == pytest.approx(0.05, rel=0.10)
    assert u.mean / u.value == pytest.approx(1.0, abs=0.015)


# ----------------------------------------------------------------------------- MFPT
def test_mfpt_flat_profile_is_L2_over_2D():
    d = 1.5
    k = TransportProfile.from_arrays("K+", 1, Z, 0.0, d, temperature=T)
    chain = HierarchyChain((k,), area_nm2=1.0)
    m = chain.mfpt_ns("K+", n_boot=0)
    assert m.value == pytest.approx(L**2 / (2 * d), rel=1e-9)
    # from the middle: T(x) = (L^2 - (x - a)^2) / (2D) for reflecting a, absorbing b
    mid = chain.mfpt_ns("K+", x0=0.0, n_boot=0).value
    assert mid == pytest.approx((L**2 - 3.0**2) / (2 * d), rel=1e-9)


def test_mfpt_barrier_matches_double_integral():
    """T(a) = int_a^b e^{W(y)}/D(y) int_a^y e^{-W(u)} du dy by nested quad, < 1e-6."""
    k = TransportProfile.from_arrays("K+", 1, Z, barrier(Z), d_of_z(Z), temperature=T)
    chain = HierarchyChain((k,), area_nm2=1.0)

    def inner(y):
        return quad(lambda u: math.exp(-float(barrier(u))), -3.0, y, epsrel=1e-11, limit=200)[0]

    expected = quad(
        lambda y: math.exp(float(barrier(y))) / float(d_of_z(y)) * inner(y),
        -3.0,
        3.0,
        epsrel=1e-10,
        limit=200,
        points=[0.0, 1.2],
    )[0]
    got = chain.mfpt_ns("K+", n_boot=0).value
    print(f"MFPT chain {got:.10g} ns, double integral {expected:.10g} ns")
    assert got == pytest.approx(expected, rel=1e-6)


# ----------------------------------------------------------------------------- selectivity
def test_selectivity_and_permeability_ratio_flat_profiles():
    """Flat W, constant D: current ratio in identical baths and the bi-ionic permeability ratio
    both equal D_K/D_Na (GHK is exact for a flat profile with a linear drop)."""
    dk, dna = 1.96, 1.33
    k = TransportProfile.from_arrays("K+", 1, Z, 0.0, dk, temperature=T)
    na = TransportProfile.from_arrays("Na+", 1, Z, 0.0, dna, temperature=T)
    chain = HierarchyChain((k, na), area_nm2=1.0)
    s = chain.selectivity("K+", "Na+", 150.0, 50.0, n_boot=0)
    assert s.value == pytest.approx(dk / dna, rel=1e-9)
    ratio, erev = chain.permeability_ratio("K+", "Na+", 150.0, n_boot=0)
    assert ratio.value == pytest.approx(dk / dna, rel=1e-7)
    assert erev.value == pytest.approx(-VT_MV * math.log(dk / dna), abs=1e-6)


def test_selectivity_of_a_binding_site_has_uncertainty():
    """A deeper well for K+ (with PMF errors): the bootstrap interval contains the point value
    and the spread is positive."""
    z = np.linspace(-3.0, 3.0, 201)
    k = TransportProfile.from_arrays(
        "K+",
        1,
        z,
        -2.0 * np.exp(-(z**2)),
        1.96,
        temperature=T,
        sigma_W=0.2,
        correlation_length_nm=0.5,
    )
    na = TransportProfile.from_arrays("Na+", 1, z, 1.0 * np.exp(-(z**2)), 1.33, temperature=T)
    chain = HierarchyChain((k, na), area_nm2=1.0)
    s = chain.selectivity("K+", "Na+", 150.0, 100.0, n_boot=60)
    assert s.std > 0
    assert s.low < s.value < s.high
    ratio, _ = chain.permeability_ratio("K+", "Na+", 150.0, n_boot=30)
    assert ratio.value > 1.0 and ratio.std > 0


def test_conductance_of_a_flat_pore():
    """Flat W, constant D, area A, length L: G = (F^2/RT) sum z^2 D c A / L."""
    k = TransportProfile.from_arrays("K+", 1, Z, 0.0, 1.96, temperature=T)
    cl = TransportProfile.from_arrays("Cl-", -1, Z, 0.0, 2.03, temperature=T)
    chain = HierarchyChain((k, cl), area_nm2=math.pi)
    g = chain.conductance_pS({"K+": 1000.0, "Cl-": 1000.0}, {"K+": 1000.0, "Cl-": 1000.0}, n_boot=0)
    faraday = constants.physical_constants["Faraday constant"][0]
    kappa = faraday**2 / (constants.R * T) * (1.96 + 2.03) * 1e-9 * 1000.0  # S/m
    expected = kappa * math.pi * 1e-18 / (L * 1e-9) * 1e12
    assert g.value == pytest.approx(expected, rel=1e-6)


# ----------------------------------------------------------------------------- from PMF
def _pmf_result(grid, w, sigma=None):
    h = grid[1] - grid[0]
    edges = np.concatenate([grid - h / 2, [grid[-1] + h / 2]])
    return PMFResult(grid, edges, w, sigma, np.zeros(3), None, np.ones_like(grid), "WHAM", "min", 1)


def _diffusion(pos, d, sigma):
    return DiffusionProfile(np.asarray(pos), np.asarray(d), np.asarray(sigma), ())


def test_from_pmf_interpolates_D_and_converts_units():
    grid = np.linspace(-2.0, 2.0, 41)
    w = 0.5 * grid**2
    pmf = _pmf_result(grid, w, sigma=0.05 * np.abs(grid))
    diff = _diffusion([-1.5, 0.0, 1.5], [2e-3, 1e-3, 2e-3], [1e-4, 1e-4, 1e-4])  # nm^2/ps
    p = TransportProfile.from_pmf("K+", 1, pmf, diff, temperature=T, D_bath=1.96)
    assert np.allclose(p.z, grid) and np.allclose(p.W, w)
    inside = np.abs(grid) <= 1.5
    assert np.allclose(p.D[inside], 1.0 + np.abs(grid[inside]) / 1.5)  # nm^2/ns, linear
    assert np.allclose(p.D[~inside], 1.96)
    assert np.allclose(p.sigma_D[inside], 0.1) and np.allclose(p.sigma_D[~inside], 0.0)
    assert p.correlation_length_nm == pytest.approx(1.5)  # one window spacing
    assert p.kind == "linear"
    # without a bath value: constant extrapolation of the end windows
    q = TransportProfile.from_pmf("K+", 1, pmf, diff, temperature=T, D_unit="nm2/ps")
    assert np.allclose(q.D[~inside], 2.0)
    # offset of the axis
    r = TransportProfile.from_pmf("K+", 1, pmf, diff, temperature=T, z_offset=1.0)
    assert np.allclose(r.z, grid + 1.0) and np.allclose(r.D_windows.position, [-0.5, 1.0, 2.5])


def test_from_pmf_inf_bins():
    grid = np.linspace(-2.0, 2.0, 41)
    w = 0.5 * grid**2
    w[:3] = np.inf
    w[-2:] = np.inf
    diff = _diffusion([-1.0, 1.0], [1.0, 1.0], [0.0, 0.0])
    p = TransportProfile.from_pmf(
        "K+", 1, _pmf_result(grid, w), diff, temperature=T, D_unit="nm2/ns"
    )
    assert p.z.size == 36 and p.z[0] == pytest.approx(grid[3]) and np.all(np.isfinite(p.W))
    with pytest.raises(StochasticInputError, match="inf_bins='trim'"):
        TransportProfile.from_pmf(
            "K+", 1, _pmf_result(grid, w), diff, temperature=T, inf_bins="error"
        )
    w2 = 0.5 * grid**2
    w2[20] = np.inf
    with pytest.raises(StochasticInputError, match="gap between umbrella windows"):
        TransportProfile.from_pmf("K+", 1, _pmf_result(grid, w2), diff, temperature=T)


def test_from_bootstrap_replicas_are_the_W_noise():
    grid = np.linspace(-2.0, 2.0, 21)
    reps = np.array([0.5 * grid**2 + 0.1 * i * grid + 0.05 * i * grid**2 for i in range(4)])
    reps[1, 0] = np.nan  # a replicate without samples in a bin takes the point estimate
    est = _pmf_result(grid, 0.5 * grid**2, sigma=np.full(21, 0.1))
    boot = BootstrapPMF(est, reps.mean(0), np.nanstd(reps, 0), reps, np.zeros(3), 0)
    diff = _diffusion([-1.0, 1.0], [1.0, 1.0], [0.0, 0.0])
    filled = [np.where(np.isnan(r), est.pmf, r) for r in reps]
    free = TransportProfile.from_pmf(
        "K+", 1, boot, diff, temperature=T, D_unit="nm2/ns", pin_ends=False
    )
    pinned = TransportProfile.from_pmf("K+", 1, boot, diff, temperature=T, D_unit="nm2/ns")
    rng = np.random.default_rng(0)
    for _ in range(10):
        w, d = free.draw(rng)
        assert any(np.allclose(w, r) for r in filled)
        assert np.allclose(d, 1.0)
        w, _ = pinned.draw(rng)
        # pinned: the replica's deviation minus its end-to-end line; ends stay central
        assert w[0] == pytest.approx(est.pmf[0]) and w[-1] == pytest.approx(est.pmf[-1])
        dev = [r - est.pmf for r in filled]
        lines = [x[0] + (x[-1] - x[0]) * (grid + 2.0) / 4.0 for x in dev]
        assert any(np.allclose(w, est.pmf + x - ln) for x, ln in zip(dev, lines, strict=True))


def test_pinned_ends_give_no_equilibrium_current():
    """Identical baths at 0 mV exchange no ions in any draw when the ends are pinned; with free
    ends the noise there makes W_L != W_R and a spurious current appears."""
    kw = {"temperature": T, "sigma_W": 0.2, "correlation_length_nm": 0.5}
    z = np.linspace(-3.0, 3.0, 201)
    w = 2.0 * np.exp(-(z**2))  # symmetric: W_L = W_R
    for pin, zero in ((True, True), (False, False)):
        k = TransportProfile.from_arrays("K+", 1, z, w, 1.9, pin_ends=pin, **kw)
        u = HierarchyChain((k,), 1.0).species_currents({"K+": 100.0}, {"K+": 100.0}, 0.0, n_boot=30)
        assert (np.max(np.abs(u["K+"].samples)) < 1e-9) == zero
        assert u["K+"].value == pytest.approx(0.0, abs=1e-12)


def test_chain_from_umbrella_sampling_covers_the_exact_current():
    """End to end: exact (inverse-CDF) umbrella samples of a 3 kT barrier, WHAM + block
    bootstrap -> TransportProfile (replica noise) -> current at 50 mV, for 6 independent data
    sets. The bootstrap error must be honest: the exact-PMF current inside the 95 % interval in
    >= 5 of 6 runs, every |estimate - exact| < 3.5 sigma and the RMS z-score < 2 (measured
    z = 0.98, 0.07, 0.75, -1.32, 0.18, 0.58; relative std ~6 %)."""

    def u(x):
        return 3.0 * np.exp(-(x**2) / 0.5)

    windows = evenly_spaced_windows(-2.0, 2.0, 21, kappa=30.0)
    sampler = InverseCDFSampler(u, -3.0, 3.0, n_grid=6001)
    diff = _diffusion(windows.centers, np.full(21, 1.5e-3), np.full(21, 1e-4))  # nm^2/ps
    zs, covered = [], 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        data = UmbrellaData(windows, [sampler(w, 1500, rng) for w in windows])
        boot = bootstrap_pmf(
            data, "wham", n_boot=40, bins=np.linspace(-2.0, 2.0, 61), block_length=1, seed=2
        )
        prof = TransportProfile.from_pmf("K+", 1, boot, diff, temperature=T)
        chain = HierarchyChain((prof,), area_nm2=1.0)
        got = chain.species_currents({"K+": 100.0}, {"K+": 10.0}, 50.0, n_boot=100, seed=5)["K+"]
        exact_prof = TransportProfile.from_arrays(
            "K+", 1, prof.z, u(prof.z), prof.D, temperature=T, kind="linear"
        )
        exact = (
            HierarchyChain((exact_prof,), area_nm2=1.0)
            .species_currents({"K+": 100.0}, {"K+": 10.0}, 50.0, n_boot=0)["K+"]
            .value
        )
        assert got.std > 0
        zs.append((got.value - exact) / got.std)
        covered += got.low < exact < got.high
        print(f"I = {got.value:.4f} +- {got.std:.4f} pA, exact {exact:.4f}, z = {zs[-1]:+.2f}")
    assert covered >= 5
    assert np.max(np.abs(zs)) < 3.5
    assert math.sqrt(np.mean(np.square(zs))) < 2.0


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    z = np.linspace(0, 1, 11)
    mk = TransportProfile.from_arrays
    with pytest.raises(StochasticInputError, match="shape"):
        mk("K+", 1, z, np.zeros(10), 1.0, temperature=T)  # mismatched lengths
    with pytest.raises(StochasticInputError, match="D must be > 0"):
        mk("K+", 1, z, 0.0, -1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="not finite"):
        mk("K+", 1, z, np.where(z > 0.5, np.nan, 0.0), 1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="sigma_W has shape"):
        mk("K+", 1, z, 0.0, 1.0, temperature=T, sigma_W=np.ones(5), correlation_length_nm=0.1)
    with pytest.raises(StochasticInputError, match="sigma_D must be finite and >= 0"):
        mk("K+", 1, z, 0.0, 1.0, temperature=T, sigma_D=-0.1, correlation_length_nm=0.1)
    with pytest.raises(StochasticInputError, match="correlation_length_nm"):
        mk("K+", 1, z, 0.0, 1.0, temperature=T, sigma_W=0.1)
    with pytest.raises(StochasticInputError, match="valence must be an integer"):
        mk("K+", 1.5, z, 0.0, 1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="temperature"):
        mk("K+", 1, z, 0.0, 1.0, temperature=-3.0)
    k = mk("K+", 1, z, 0.0, 1.0, temperature=T)
    na = mk("Na+", 1, z, 0.0, 1.0, temperature=310.0)
    with pytest.raises(StochasticInputError, match="temperature mismatch"):
        HierarchyChain((k, na), area_nm2=1.0)
    with pytest.raises(StochasticInputError, match="unique"):
        HierarchyChain((k, k), area_nm2=1.0)
    with pytest.raises(StochasticInputError, match="area_nm2"):
        HierarchyChain((k,), area_nm2=0.0)
    chain = HierarchyChain((k,), area_nm2=1.0)
    with pytest.raises(StochasticInputError, match="no profile in the chain"):
        chain.species_currents({"Na+": 10.0}, {}, 0.0)
    with pytest.raises(StochasticInputError, match=">= 0 mM"):
        chain.species_currents({"K+": -1.0}, {}, 0.0)
    with pytest.raises(StochasticInputError, match="n_boot"):
        chain.species_currents({"K+": 1.0}, {}, 0.0, n_boot=1)
    with pytest.raises(StochasticInputError, match="non-zero voltage"):
        HierarchyChain((k, mk("Na+", 1, z, 0.0, 1.0, temperature=T)), 1.0).selectivity(
            "K+", "Na+", 10.0, 0.0
        )
    with pytest.raises(StochasticInputError, match="same non-zero valence"):
        HierarchyChain((k, mk("Cl-", -1, z, 0.0, 1.0, temperature=T)), 1.0).permeability_ratio(
            "K+", "Cl-", 10.0
        )
    with pytest.raises(StochasticInputError, match="no species"):
        chain.mfpt_ns("Na+")
    with pytest.raises(StochasticInputError, match="sigma_D"):
        WindowDiffusion(np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([np.nan, 0.1]))
    win = WindowDiffusion(np.array([0.2, 0.8]), np.array([1.0, 2.0]), np.array([0.1, 0.1]))
    with pytest.raises(StochasticInputError, match="interpolation of D_windows"):
        TransportProfile("K+", 1, z, np.zeros(11), np.ones(11), T, D_windows=win)
    with pytest.raises(StochasticInputError, match="pin_ends"):
        TransportProfile("K+", 1, z, np.zeros(11), np.ones(11), T, pin_ends="yes")
    with pytest.raises(StochasticInputError, match="PMFResult"):
        TransportProfile.from_pmf("K+", 1, np.zeros(3), None, temperature=T)


def test_uncertain_without_bootstrap_has_nan_spread():
    u = Uncertain.from_samples(1.5, np.empty((0,)))
    assert u.value == 1.5 and math.isnan(u.std) and u.n_boot == 0


def test_failed_draws_become_nan_or_raise():
    z = np.linspace(-3.0, 3.0, 61)
    k = TransportProfile.from_arrays(
        "K+", 1, z, 0.0, 1.0, temperature=T, sigma_W=0.1, correlation_length_nm=1.0
    )
    chain = HierarchyChain((k,), area_nm2=1.0)
    calls = {"n": 0}

    def flaky(ch):
        calls["n"] += 1
        if calls["n"] == 3:  # the second draw (the first call is the central value)
            raise StochasticInputError("no root")
        return 1.0

    u = chain.propagate(flaky, n_boot=20)
    assert np.isnan(u.samples[1]) and u.mean == 1.0 and u.std == 0.0

    def broken(ch):
        if calls["n"] > 0:
            calls["n"] += 1
            if calls["n"] > 100:
                raise StochasticInputError("no root")
        return 1.0

    calls["n"] = 99
    with pytest.raises(StochasticInputError, match="failed on"):
        chain.propagate(broken, n_boot=20)
