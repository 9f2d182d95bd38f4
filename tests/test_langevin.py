"""Langevin (BAOAB) and Brownian dynamics: equipartition, Boltzmann sampling, diffusion,
velocity autocorrelation, first passage against the Smoluchowski MFPT, regimes and bad input.

Statistical tests use fixed seeds; each states its expected statistical error and checks that
a deliberately wrong physics (noise amplitude 10% too large, i.e. an effective temperature 21%
too high, or a 10% wrong friction) would fail the same criterion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid

from poreflux import units
from stochastic import langevin as lg
from stochastic import regimes
from stochastic import smoluchowski as sm
from stochastic.first_passage import first_passage_times
from stochastic.profiles import Profile, StochasticInputError

T = 300.0
KT = units.R_GAS * T / 1e3  # kJ/mol
M_K = 39.0983  # amu (K+)


def harmonic(k):
    def f(x):
        return -k * x

    f.max_curvature = k
    return f


def test_units_kT_and_gamma():
    """kT/m in nm^2/ps^2 and D = kT/gamma in nm^2/ps: gamma from D = 1.96 nm^2/ns for K+."""
    assert lg.kT(T) == pytest.approx(KT, rel=1e-14)
    g = lg.gamma_from_D(1.96, T)
    assert KT / g == pytest.approx(1.96e-3, rel=1e-14)  # nm^2/ps
    # SI cross-check: kT/(D) in kg/s -> amu/ps
    g_si = units.K_B * T / 1.96e-9
    assert g == pytest.approx(g_si / (units.AMU / 1e-12), rel=1e-8)  # R vs k_B N_A (CODATA)


@pytest.fixture(scope="module")
def equipartition_run():
    """BAOAB in a harmonic well, 20000 particles started at rest at x = 0 (far from equilibrium),
    t_mom = m/gamma = 0.2 ps, dt = 0.01 ps, 30 t_mom burn-in, then 40 snapshots 0.2 ps apart."""

    def sample(temperature_noise):
        integ = lg.baoab(
            harmonic(400.0), mass=M_K, gamma=M_K / 0.2, temperature=temperature_noise, dt=0.01
        )
        rng = np.random.default_rng(2024)
        s = integ.init_fn(np.zeros(20000), rng, v0=0.0)
        s, _ = lg.run(integ, s, 600, rng)
        _, traj = lg.run(integ, s, 800, rng, record_every=20)
        return traj

    return sample


def test_equipartition_velocity(equipartition_run):
    """Acceptance: <v^2> = kT/m within 2% (and <x^2> = kT/k). 20000 particles x 40 snapshots
    (about one t_mom apart): relative statistical error of <v^2> ~ sqrt(2/(20000*40*0.5)) ~ 0.2%;
    BAOAB's velocity bias at omega dt = 0.032 is O((omega dt)^2) ~ 1e-3."""
    traj = equipartition_run(T)
    v2 = np.mean(traj.v**2)
    assert abs(v2 / (KT / M_K) - 1) < 0.02, v2 / (KT / M_K)
    assert abs(np.mean(traj.x**2) / (KT / 400.0) - 1) < 0.02
    # noise amplitude 10% too large (= temperature 1.21 T) must fail the same check
    wrong = equipartition_run(T * 1.1**2)
    assert abs(np.mean(wrong.v**2) / (KT / M_K) - 1) > 0.02


def double_well_profile():
    """Asymmetric double well (1.5 kT barrier; wells at about -1 and +1 nm of unequal depth)."""
    return Profile.from_callables(
        lambda z: 1.5 * (z**2 - 1) ** 2 + 0.4 * z, 1.0, z_range=(-2.2, 2.2), temperature=T, n=881
    )


def boltzmann_cdf(profile):
    z = np.linspace(profile.z[0], profile.z[-1], 20001)
    w = np.exp(-(profile.W_at(z) - profile.W.min()))
    cdf = cumulative_trapezoid(w, z, initial=0.0)
    cdf /= cdf[-1]
    return lambda x: np.interp(x, z, cdf)


def _double_well_final_positions(temperature, seed=11):
    p = double_well_profile()
    integ = lg.baoab(
        lg.profile_force(p),
        mass=M_K,
        gamma=30.0,
        temperature=temperature,
        dt=0.02,
        walls=lg.Walls(-2.2, 2.2, "reflecting", "reflecting"),
    )
    rng = np.random.default_rng(seed)
    s = integ.init_fn(np.full(4000, -1.0), rng)  # all in the left well: must equilibrate
    s, _ = lg.run(integ, s, 15000, rng)  # 300 ps, ~8 inter-well relaxation times
    return p, s.x


def test_position_histogram_is_boltzmann():
    """Acceptance: final positions of 4000 independent particles (all started in the left
    well) follow the Boltzmann distribution of the double well: KS p > 0.01. With the noise 10%
    too large (T x 1.21) the same test rejects (p < 0.01)."""
    p, x = _double_well_final_positions(T)
    res = stats.kstest(x, boltzmann_cdf(p))
    assert res.pvalue > 0.01, res
    _, x_hot = _double_well_final_positions(T * 1.21)
    assert stats.kstest(x_hot, boltzmann_cdf(p)).pvalue < 0.01
    # chi-square on 20 bins as a second check
    edges = np.linspace(-2.2, 2.2, 21)
    counts, _ = np.histogram(x, edges)
    expected = np.diff(boltzmann_cdf(p)(edges)) * x.size
    keep = expected > 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 0.01


def _free_particles(gamma, seed=5, n=20000, steps=1000, record_every=0):
    integ = lg.baoab(lambda x: np.zeros_like(x), mass=M_K, gamma=gamma, temperature=T, dt=0.01)
    rng = np.random.default_rng(seed)
    s0 = integ.init_fn(np.zeros((n, 3)), rng)  # Maxwell velocities: stationary start
    s, traj = lg.run(integ, s0, steps, rng, record_every=record_every)
    return s0, s, traj


def test_diffusion_coefficient_from_msd():
    """Acceptance: D from the MSD = kT/gamma within 3%. Free particles in 3D (20000 x 3
    coordinates), t_mom = 0.2 ps, t = 10 ps; for an equilibrium start the Ornstein-Uhlenbeck
    MSD is 2 D (t - t_mom (1 - e^{-t/t_mom})) per coordinate. Statistical error of the mean
    square of 60000 Gaussian displacements: sqrt(2/60000) = 0.6%."""
    gamma = M_K / 0.2
    s0, s, _ = _free_particles(gamma)
    t, tau = 10.0, 0.2
    msd = np.mean((s.x - s0.x) ** 2)
    D_est = msd / (2 * (t - tau * (1 - math.exp(-t / tau))))
    assert abs(D_est / (KT / gamma) - 1) < 0.03, D_est / (KT / gamma)
    # a 10% wrong friction would be detected
    assert abs(D_est / (KT / (1.1 * gamma)) - 1) > 0.03


def test_velocity_autocorrelation():
    """Acceptance: C(t)/C(0) = exp(-gamma t/m) within 3% at t = m/gamma. 20000 particles x 3
    coordinates x 5 time origins 2 t_mom apart: the regression estimator's standard error is
    sqrt((1 - e^-2)/3e5) = 0.17% absolute = 0.5% of e^-1; a 10% wrong friction gives e^-1.1,
    9.5% off (would fail)."""
    tau = 0.2
    _, _, traj = _free_particles(M_K / tau, n=20000, steps=300, record_every=20)  # every 0.2 ps
    v = traj.v  # (15, n, 3)
    origins = range(0, 10, 2)
    num = sum(np.sum(v[o] * v[o + 1]) for o in origins)
    den = sum(np.sum(v[o] * v[o]) for o in origins)
    c = num / den
    assert abs(c / math.exp(-1.0) - 1) < 0.03, c
    assert abs(c / math.exp(-1.1) - 1) > 0.03
    # and at 3 t_mom
    c3 = sum(np.sum(v[o] * v[o + 3]) for o in origins) / den
    assert c3 == pytest.approx(math.exp(-3.0), abs=0.01)


def test_brownian_mfpt_matches_smoluchowski():
    """Acceptance: BD (Euler-Maruyama) first-passage time over a 5 kT cubic barrier within 5% of
    the Smoluchowski MFPT. 5000 particles from the well bottom, reflecting at -0.4 nm, absorbing
    at 0.85 nm (downhill, far past the barrier at 0.5 nm); D dt W''_well = 0.02. Run to twice the
    MFPT (~86% absorbed), the tail beyond it as the fitted exponential: statistical error
    ~ 1/sqrt(5000) = 1.4%; measured deviation ~1.8%."""
    a, D = 0.5, 1.0  # nm, nm^2/ns
    p = Profile.from_callables(
        lambda z: 5.0 * (3 * (z / a) ** 2 - 2 * (z / a) ** 3),
        D,
        z_range=(-0.4, 0.9),
        temperature=T,
        n=1301,
    )
    t_ref = 1e3 * sm.mfpt(p, 0.0, bounds=(-0.4, 0.85))  # ps
    gamma = lg.gamma_from_D(D, T)
    dt = 0.02 / (D * 1e-3 * 30.0 / a**2)  # W'' at the well = 6 * 5 kT / a^2
    integ = lg.brownian(
        lg.profile_force(p),
        gamma=gamma,
        temperature=T,
        dt=dt,
        walls=lg.Walls(-0.4, 0.85, "reflecting", "absorbing"),
    )
    rng = np.random.default_rng(7)
    fp = first_passage_times(integ, integ.init_fn(np.zeros(5000), rng), rng, t_max=2 * t_ref)
    assert 0.8 < fp.n_absorbed / 5000 < 0.92  # exponential survival: 1 - e^-2 = 0.865
    assert abs(fp.mean_with_tail() / t_ref - 1) < 0.05, fp.mean_with_tail() / t_ref
    assert np.all(fp.side[fp.side != 0] == 1)


def test_first_passage_free_diffusion_complete():
    """Leimkuhler-Matthews BD with both walls absorbing: every particle leaves; mean FPT from the
    centre of [0, L] is L^2/(8D) (statistical error 1/sqrt(3000)*0.8 ~ 1.5%: tolerance 5%) and
    the exits split evenly."""
    L, D_ps = 1.0, 0.05
    gamma = KT / D_ps
    integ = lg.brownian(
        lambda x: np.zeros_like(x),
        gamma=gamma,
        temperature=T,
        dt=1e-3,
        scheme="leimkuhler_matthews",
        walls=lg.Walls(0.0, L, "absorbing", "absorbing"),
    )
    rng = np.random.default_rng(3)
    fp = first_passage_times(integ, integ.init_fn(np.full(3000, L / 2), rng), rng, t_max=50.0)
    assert fp.n_absorbed == 3000
    # discrete monitoring overshoots the walls by ~0.58 sqrt(2 D dt) (Siegmund): ~1.5%
    assert fp.mean() == pytest.approx(L**2 / (8 * D_ps), rel=0.05)
    assert abs(np.mean(fp.side == 1) - 0.5) < 0.05
    assert fp.survival(np.array([0.0]))[0] == 1.0 and fp.survival(np.array([50.0]))[0] == 0.0
    assert fp.mean_with_tail() == fp.mean()  # nothing censored


def test_step_fn_is_pure_and_reproducible():
    """step_fn returns a new state and leaves the old one; equal seeds give equal trajectories."""
    integ = lg.baoab(harmonic(100.0), mass=M_K, gamma=100.0, temperature=T, dt=0.01)
    s0 = integ.init_fn(np.linspace(-0.1, 0.1, 7), 1)
    x_before = s0.x.copy()
    s1 = integ.step_fn(s0, np.random.default_rng(9))
    np.testing.assert_array_equal(s0.x, x_before)
    assert s1.t == pytest.approx(0.01)
    a, _ = lg.run(integ, s0, 50, 42)
    b, _ = lg.run(integ, s0, 50, 42)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.v, b.v)


def test_reflecting_walls_keep_particles_inside():
    integ = lg.brownian(
        lambda x: np.zeros_like(x),
        gamma=10.0,
        temperature=T,
        dt=0.05,
        walls=lg.Walls(0.0, 1.0, "reflecting", "reflecting", axis=2),
    )
    rng = np.random.default_rng(0)
    s, _ = lg.run(integ, integ.init_fn(rng.uniform(0, 1, (500, 3)), rng), 200, rng)
    assert np.all((s.x[:, 2] >= 0) & (s.x[:, 2] <= 1))
    assert np.std(s.x[:, 0]) > 1.0  # free directions are unconfined


def test_seed_regime_example():
    """Seed: m = 6.5e-26 kg, gamma = 1e-12 kg/s -> t_mom = 6.5e-14 s; ns crossing: overdamped."""
    rep = regimes.assess_regime_si(6.5e-26, 1e-12, dt_s=2e-15, crossing_time_s=1e-9)
    assert rep.t_mom_s == pytest.approx(6.5e-14, rel=1e-12)
    assert rep.regime == "overdamped"
    assert "t_mom" in str(rep)
    assert regimes.assess_regime(39.1, 1.0, crossing_time_ps=50.0).regime == "inertial"
    p = Profile.from_arrays(np.linspace(0, 2, 21), W_kT=0.0, D=1.0, temperature=T)
    assert regimes.crossing_time_ps(p) == pytest.approx(1e3 * 4 / 2, rel=1e-6)  # L^2/(2D)


def test_timestep_and_bad_input_errors():
    """dt beyond the stability limit -> TimestepError (a ValueError) saying which dt to use."""
    with pytest.raises(lg.TimestepError, match="use dt <="):
        lg.baoab(harmonic(1e4), mass=1.0, gamma=1.0, temperature=T, dt=0.05)  # 2/omega = 0.02
    with pytest.raises(lg.TimestepError, match="2 gamma/k_max"):
        lg.brownian(harmonic(1e3), gamma=10.0, temperature=T, dt=0.05)  # limit 0.02 ps
    with pytest.raises(ValueError, match="dt must be"):
        lg.brownian(harmonic(1.0), gamma=10.0, temperature=T, dt=-1.0)
    with pytest.raises(StochasticInputError, match="friction"):
        lg.baoab(harmonic(1.0), mass=1.0, gamma=0.0, temperature=T, dt=0.01)
    with pytest.raises(StochasticInputError, match="reversed"):
        lg.Walls(1.0, 0.0)
    with pytest.raises(StochasticInputError, match="absorbing wall"):
        integ = lg.brownian(harmonic(1.0), gamma=10.0, temperature=T, dt=0.01)
        first_passage_times(integ, integ.init_fn(np.zeros(3), 0), 0, 1.0)
    # no curvature given: an unstable run is caught at run time
    integ = lg.brownian(lambda x: -1e4 * x, gamma=1.0, temperature=T, dt=0.01)
    with pytest.raises(lg.InstabilityError, match="too large"):
        lg.run(integ, integ.init_fn(np.ones(10), 0), 2000, 0)


def test_numba_backend_reproduces_numpy_split_steps():
    """The fused numba BAOAB kernel performs the same arithmetic as the numpy split steps with
    the same random numbers: identical trajectories (to 1e-12 nm), walls included."""
    pytest.importorskip("numba")
    p = double_well_profile()
    force = lg.profile_force(p)
    walls = lg.Walls(-1.5, 1.2, "reflecting", "reflecting")
    out = {}
    for backend in ("numpy", "numba"):
        integ = lg.baoab(
            force, mass=M_K, gamma=30.0, temperature=T, dt=0.02, walls=walls, backend=backend
        )
        s = integ.init_fn(np.linspace(-1.4, 1.1, 2000), 4)
        out[backend], _ = lg.run(integ, s, 500, lg.make_rng(17))
    np.testing.assert_allclose(out["numba"].x, out["numpy"].x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["numba"].v, out["numpy"].v, rtol=0, atol=1e-12)
    assert out["numba"].x.min() >= -1.5 and out["numba"].x.max() <= 1.2
    with pytest.raises(StochasticInputError, match="TabulatedForce"):
        lg.baoab(harmonic(1.0), mass=1.0, gamma=1.0, temperature=T, dt=0.01, backend="numba")


def test_progress_bars_run(capsys):
    """progress=True shows a tqdm bar (stderr) for runs and first-passage runs."""
    integ = lg.brownian(
        lambda x: np.zeros_like(x),
        gamma=10.0,
        temperature=T,
        dt=0.01,
        walls=lg.Walls(-0.2, 0.2, "absorbing", "absorbing"),
    )
    lg.run(integ, integ.init_fn(np.zeros(10), 0), 20, 0, progress=True)
    fp = first_passage_times(integ, integ.init_fn(np.zeros(50), 0), 0, 50.0, progress=True)
    assert fp.n_absorbed == 50
    assert "absorbed" in capsys.readouterr().err


def test_brownian_in_profile_with_position_dependent_D():
    """BD in W(z) with D(z) (Ito, noise-induced drift dD/dz included) samples the Boltzmann
    density e^{-W}: KS p > 0.01 for 10000 particles started uniformly (~8 relaxation times).
    Without the dD/dz drift the stationary density would be e^{-W}/D (D varies 5-fold here):
    the same sample rejects that density (p < 1e-6)."""
    p = Profile.from_callables(
        lambda z: 1.5 * np.sin(2 * np.pi * z),
        lambda z: 150 + 100 * np.cos(2 * np.pi * z),
        z_range=(0, 1),
        temperature=T,
        n=201,
    )
    integ = lg.brownian_in_profile(p, dt=0.002, walls=lg.Walls(0, 1, "reflecting", "reflecting"))
    rng = lg.make_rng(1)
    s, _ = lg.run(integ, integ.init_fn(rng.uniform(0, 1, 10000)), 4000, rng)
    z = np.linspace(0, 1, 20001)
    for weight, accept in ((np.exp(-p.W_at(z)), True), (np.exp(-p.W_at(z)) / p.D_at(z), False)):
        cdf = cumulative_trapezoid(weight, z, initial=0.0)
        pval = stats.kstest(s.x, lambda x, c=cdf / cdf[-1]: np.interp(x, z, c)).pvalue
        assert (pval > 0.01) if accept else (pval < 1e-6), pval
    with pytest.raises(lg.TimestepError, match="unstable"):
        lg.brownian_in_profile(p, dt=1.0)


@pytest.mark.slow
def test_brownian_in_profile_mfpt_with_D_of_z_matches_smoluchowski():
    """BD with D(z) (1 -> 1.5 nm^2/ns across the barrier) over a 5 kT cubic barrier: the mean
    first-passage time equals the Smoluchowski MFPT with the same D(z) within 5% (statistical
    error 1/sqrt(5000) = 1.4%, Euler-Maruyama bias ~1-2% at D dt W'' = 0.02; measured 3.3%)."""
    a = 0.5
    p = Profile.from_callables(
        lambda z: 5.0 * (3 * (z / a) ** 2 - 2 * (z / a) ** 3),
        lambda z: 1.0 + 0.5 * np.tanh((z - 0.3) / 0.2),
        z_range=(-0.4, 0.9),
        temperature=T,
        n=1301,
    )
    t_ref = 1e3 * sm.mfpt(p, 0.0, bounds=(-0.4, 0.85))
    dt = 0.02 / (1.5e-3 * 120.0)
    walls = lg.Walls(-0.4, 0.85, "reflecting", "absorbing")
    integ = lg.brownian_in_profile(p, dt=dt, walls=walls)
    rng = lg.make_rng(11)
    fp = first_passage_times(integ, integ.init_fn(np.zeros(5000)), rng, t_max=2 * t_ref)
    assert abs(fp.mean_with_tail() / t_ref - 1) < 0.05
