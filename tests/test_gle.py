"""GLE integrator (exact Markovian embedding): free-particle VACF and equipartition against the
analytic exponential-kernel results, reduction to BAOAB Langevin, recovery of a two-exponential
kernel by Volterra inversion, window kernels vs Hummer D(z), bad input (issue 15)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from poreflux import units
from poreflux.errors import InputError
from stochastic import langevin as lg
from stochastic.forces import TabulatedForce
from stochastic.memory import (
    ExponentialKernel,
    GLEState,
    MemoryInputError,
    PiecewiseKernel,
    autocorrelation,
    fit_exponentials,
    gle,
    memory_time_from_vacf_blocks,
    run_gle,
    window_kernels,
)
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.diffusion import diffusion_profile
from stochastic.pmf.windows import UmbrellaWindow, WindowSet

T = 300.0
KT = units.kT_kj_per_mol(T)
M = 40.0
FLAT = TabulatedForce(-1e3, 1e3, np.zeros(3), 0.0)  # free particle through the fused 1D path


def exp_kernel_vacf(t, gamma, tau, mass=M):
    """Analytic VACF of a free particle with K = (gamma/tau) exp(-t/tau) (partial fractions of
    C^(s) = C0 (1 + s tau) / (tau s^2 + s + gamma/m))."""
    a, c = tau, gamma / mass
    disc = np.sqrt(complex(1.0 - 4 * a * c))
    s1, s2 = (-1.0 + disc) / (2 * a), (-1.0 - disc) / (2 * a)
    r1 = (1 + s1 * tau) / (a * (s1 - s2))
    r2 = (1 + s2 * tau) / (a * (s2 - s1))
    return KT / mass * np.real(r1 * np.exp(s1 * t) + r2 * np.exp(s2 * t))


def _vacf_from_origin(v0, traj_v):
    """C(t) from one time origin in exact equilibrium: mean over particles, with its SE."""
    prod = v0.reshape(1, -1) * traj_v.reshape(traj_v.shape[0], -1)
    return prod.mean(axis=1), prod.std(axis=1, ddof=1) / np.sqrt(prod.shape[1])


@pytest.mark.parametrize("dim", [1, 3])
def test_free_particle_vacf_matches_analytic(dim):
    """The embedding is exact in distribution: VACF at every lag within 4.5 SE (any dt)."""
    gamma, tau, n = 200.0, 0.3, 20000 // dim
    kern = ExponentialKernel.single(gamma, tau)
    force = FLAT if dim == 1 else (lambda x: np.zeros_like(x))
    integ = gle(force, mass=M, temperature=T, dt=0.01, kernel=kern)
    s0 = integ.init_state(np.zeros(n) if dim == 1 else np.zeros((n, 3)), 1)
    _, tr = run_gle(integ, s0, 120, 2, record_every=1)
    c, se = _vacf_from_origin(s0.v, tr.v)
    z = (c - exp_kernel_vacf(tr.times, gamma, tau)) / se
    print(f"dim {dim}: max |z| = {np.max(np.abs(z)):.2f} over {z.size} lags")
    assert np.max(np.abs(z)) < 4.5
    assert (
        np.min(exp_kernel_vacf(tr.times, gamma, tau)) < -0.1 * KT / M
    )  # oscillating: memory matters


def test_equipartition_within_one_percent():
    """Free particles with a two-exponential kernel, started at rest (v = 0, auxiliary variables
    0), relax to <v^2> = kT/m: fluctuation-dissipation of the embedding. Within 3 SE, SE < 0.33%
    (frames 0.5 ps apart, beyond the VACF's decay, are independent)."""
    kern = ExponentialKernel([2000.0, 400.0], [0.02, 0.3])
    integ = gle(FLAT, mass=M, temperature=T, dt=0.01, kernel=kern)
    n = 30000
    rest = GLEState(np.zeros(n), np.zeros(n), np.zeros((n, kern.n_aux)), np.zeros(n))
    s, _ = run_gle(integ, rest, 500, 4)  # 5 ps >> m/gamma = 0.25 ps
    _, tr = run_gle(integ, s, 600, 5, record_every=50)
    per_frame = (tr.v**2).mean(axis=1) / (KT / M)
    ratio, se = per_frame.mean(), per_frame.std(ddof=1) / np.sqrt(per_frame.size)
    print(f"<v^2>/(kT/m) = {ratio:.5f} +- {se:.5f} (expected SE {np.sqrt(2 / tr.v.size):.5f})")
    assert se < 0.0033
    assert abs(ratio - 1.0) < 3 * se


def test_no_kernel_is_baoab_step_for_step():
    """kernel=None, markovian_friction=gamma: the same trajectory as stochastic.langevin's fused
    BAOAB with the same random stream (to rounding)."""
    z = np.linspace(-2.5, 2.5, 4001)
    tab = TabulatedForce(z[0], z[1] - z[0], -16.0 * z * (z * z - 1.0), 200.0)
    lang = lg.baoab(tab, mass=39.1, gamma=600.0, temperature=T, dt=0.002, backend="numba")
    ours = gle(tab, mass=39.1, temperature=T, dt=0.002, markovian_friction=600.0)
    x0 = np.random.default_rng(1).normal(-1.0, 0.1, 500)
    s_l, _ = lg.run(lang, lang.init_fn(x0, lg.make_rng(7)), 400, lg.make_rng(8))
    s_g, _ = run_gle(ours, ours.init_state(x0, lg.make_rng(7)), 400, lg.make_rng(8))
    assert np.allclose(s_g.x, s_l.x, rtol=0, atol=1e-10)
    assert np.allclose(s_g.v, s_l.v, rtol=0, atol=1e-9)


def test_short_memory_kernel_statistics_match_langevin():
    """An exponential kernel with tau = 1e-4 ps << dt, m/gamma and the fixed integral gamma gives
    Langevin statistics: <x^2> and the position ACF in a harmonic well agree with BAOAB within
    4 combined SE."""
    gamma, kappa, n, dt = 400.0, 2000.0, 2000, 0.004
    z = np.linspace(-1.0, 1.0, 4001)
    tab = TabulatedForce(z[0], z[1] - z[0], -kappa * z, kappa)
    short = gle(tab, mass=M, temperature=T, dt=dt, kernel=ExponentialKernel.single(gamma, 1e-4))
    lang = lg.baoab(tab, mass=M, gamma=gamma, temperature=T, dt=dt, backend="numba")
    x0 = np.random.default_rng(2).normal(0.0, np.sqrt(KT / kappa), n)
    _, tr_g = run_gle(short, short.init_state(x0, 3), 3000, 4, record_every=5)
    _, tr_l = lg.run(lang, lang.init_fn(x0, lg.make_rng(3)), 3000, lg.make_rng(4), record_every=5)
    lags = [0, 2, 5, 10, 20]
    stats = []
    for tr in (tr_g, tr_l):
        c = np.array([autocorrelation(tr.x[:, :400], 30)[lag] for lag in lags])
        blocks = np.array([[autocorrelation(tr.x[:, k : k + 400], 30)[lag] for lag in lags]
                           for k in range(0, n, 400)])  # fmt: skip
        stats.append((blocks.mean(axis=0), blocks.std(axis=0, ddof=1) / np.sqrt(len(blocks))))
        assert c.shape == (5,)
    (cg, sg), (cl, sl) = stats
    print("GLE", cg, "BAOAB", cl)
    assert np.all(np.abs(cg - cl) < 4 * np.hypot(sg, sl))
    assert cg[0] == pytest.approx(KT / kappa, rel=0.02)


def _two_exp_vacf_blocks(kern, n_particles, n_segments, seg_steps, dt, max_lag, seed):
    integ = gle(FLAT, mass=M, temperature=T, dt=dt, kernel=kern)
    s = integ.init_state(np.zeros(n_particles), seed)
    rows = []
    for k in range(n_segments):
        s, tr = run_gle(integ, s, seg_steps, seed + 1 + k, record_every=1)
        rows.append(autocorrelation(tr.v, max_lag))
    return np.arange(max_lag + 1) * dt, np.array(rows)


def test_two_exponential_kernel_recovered_by_volterra_inversion():
    """GLE trajectories with K = 5000 e^{-t/0.02} + 500 e^{-t/0.2} (gamma = 200 amu/ps,
    tau_mem = 0.0364 ps): the inverted kernel's integral and tau_mem within 5%."""
    kern = ExponentialKernel([5000.0, 500.0], [0.02, 0.2])
    t, rows = _two_exp_vacf_blocks(kern, 2000, 8, 1000, 0.002, 600, 11)
    mt, k = memory_time_from_vacf_blocks(t, rows, M, T, n_boot=30)
    print(f"gamma {mt.integral:.1f} +- {mt.integral_sigma:.1f} (exact {kern.integral:.1f}); "
          f"tau_mem {mt.tau:.4f} +- {mt.sigma:.4f} (exact {kern.memory_time:.4f})")  # fmt: skip
    assert mt.integral == pytest.approx(kern.integral, rel=0.05)
    assert mt.tau == pytest.approx(kern.memory_time, rel=0.05)
    assert mt.integral_sigma < 0.02 * kern.integral  # the 5% test is not loose by noise
    fit = fit_exponentials(k.t[:300], k.K[:300], 2)
    print("fitted taus", np.sort(fit.kernel.taus), "amplitudes", fit.kernel.amplitudes)
    assert np.sort(fit.kernel.taus) == pytest.approx([0.02, 0.2], rel=0.15)


@pytest.mark.slow
def test_two_exponential_kernel_recovered_full_size():
    """Full size: dt = 1 fs (h/tau_1 = 0.05), 4000 particles x 16 segments of 2 ps each:
    int K and tau_mem within 2.5%, K(t) within 5% of K(0) at every lag."""
    kern = ExponentialKernel([5000.0, 500.0], [0.02, 0.2])
    t, rows = _two_exp_vacf_blocks(kern, 4000, 16, 2000, 0.001, 1200, 31)
    mt, k = memory_time_from_vacf_blocks(t, rows, M, T, n_boot=30)
    print(f"gamma {mt.integral:.2f} +- {mt.integral_sigma:.2f}; tau_mem {mt.tau:.5f} +- "
          f"{mt.sigma:.5f} (exact {kern.integral}, {kern.memory_time:.5f})")  # fmt: skip
    assert mt.integral == pytest.approx(kern.integral, rel=0.025)
    assert mt.tau == pytest.approx(kern.memory_time, rel=0.025)
    assert np.max(np.abs(k.K - kern(t))) < 0.05 * kern(0.0)


def test_window_kernels_integral_is_the_friction_and_matches_hummer():
    """GLE particles (exponential memory) in stiff umbrella springs on a flat PMF: int K of the
    restraint-force kernel = gamma (exact for a harmonic window, memory or not) and
    int K = r^2 kT / D_Hummer for the same windows.

    Tolerance: 4 SE plus the upward bias of cutting a noisy ACF at its first zero crossing,
    ~ sqrt(tau_spring / T_window) (the error of C where it reaches zero, over ~tau_spring)."""
    gamma, kappa, dt, n_steps = 2000.0, 8000.0, 0.01, 200_000
    tau_spring = gamma / kappa  # 0.25 ps >> tau_mem = 0.02 ps, m/gamma = 0.02 ps; overdamped
    z = np.linspace(-1.0, 1.0, 2001)
    spring = TabulatedForce(z[0], z[1] - z[0], -kappa * z, kappa)  # every window is the same
    integ = gle(spring, mass=M, temperature=T, dt=dt, kernel=ExponentialKernel.single(gamma, 0.02))
    centers = np.linspace(-1.0, 1.0, 80)
    s0 = integ.init_state(np.zeros(centers.size), 21)
    _, tr = run_gle(integ, s0, n_steps, 22, record_every=2)
    wins = WindowSet(tuple(UmbrellaWindow(c, kappa, "kJ/mol") for c in centers), T)
    data = UmbrellaData(wins, tuple(tr.x[:, k] + c for k, c in enumerate(centers)), dt=2 * dt)
    wk = window_kernels(data)
    integrals = np.array([w.integral for w in wk])
    mean, se = integrals.mean(), integrals.std(ddof=1) / np.sqrt(integrals.size)
    bias = np.sqrt(tau_spring / (n_steps * dt))
    print(f"int K = {mean:.1f} +- {se:.1f} amu/ps (gamma {gamma}, cut-off bias ~{bias:.3f})")
    assert abs(mean / gamma - 1) < 4 * se / gamma + bias
    assert bias + 4 * se / gamma < 0.05
    hummer = diffusion_profile(data)
    r = np.array([w.stiffness_ratio for w in wk])
    assert np.allclose(r, 1.0, atol=0.05)
    assert np.allclose(integrals, r**2 * KT / hummer.D, rtol=0.01)  # same integral up to 1/2 bin
    assert np.allclose([w.diffusion for w in wk], hummer.D, rtol=0.01)
    assert np.allclose([w.position for w in wk], centers, atol=0.01)


def test_piecewise_kernel_with_equal_windows_is_the_single_kernel():
    """Three identical windows: the same trajectory as one kernel (fused 1D and 3D paths)."""
    kern = ExponentialKernel([3000.0, 300.0], [0.02, 0.3])
    pw = PiecewiseKernel([-0.5, 0.5], (kern, kern, kern))
    x0 = np.random.default_rng(4).normal(0.0, 0.5, 300)
    for force, start in ((FLAT, x0), (lambda x: -100.0 * x, np.column_stack([x0, x0, x0]))):
        one = gle(force, mass=M, temperature=T, dt=0.004, kernel=kern, max_curvature=100.0)
        three = gle(force, mass=M, temperature=T, dt=0.004, kernel=pw, max_curvature=100.0)
        a, _ = run_gle(one, one.init_state(start, 5), 200, 6)
        b, _ = run_gle(three, three.init_state(start, 5), 200, 6)
        assert np.array_equal(a.x, b.x) and np.array_equal(a.w, b.w)


def test_piecewise_kernel_keeps_the_boltzmann_distribution():
    """Double well (2 kT barrier) with different memory on either side of the barrier top: the
    position histogram stays exp(-W/kT) (each bin within 4 SE; SE from the scatter of frames
    5 ps apart) and <v^2> = kT/m within 4 SE."""
    eb, a = 2 * KT, 0.1
    z = np.linspace(-0.3, 0.3, 3001)
    tab = TabulatedForce(
        z[0], z[1] - z[0], -4 * eb * (z / a) * ((z / a) ** 2 - 1) / a, 8 * eb / a**2
    )
    pw = PiecewiseKernel(
        [0.0],
        (ExponentialKernel([2e4, 2e3], [0.01, 0.1]), ExponentialKernel([500.0, 100.0], [0.2, 1.0])),
    )
    integ = gle(tab, mass=M, temperature=T, dt=0.004, kernel=pw)
    s = integ.init_state(np.full(2500, -a), 7)
    s, _ = run_gle(integ, s, 5000, 8)  # 20 ps
    _, tr = run_gle(integ, s, 25000, 9, record_every=1250)  # 20 frames, 5 ps apart
    bins = np.linspace(-0.2, 0.2, 11)
    per_frame = np.array([np.histogram(x, bins)[0] / x.size for x in tr.x])
    p_sim = per_frame.mean(axis=0)
    se = per_frame.std(axis=0, ddof=1) / np.sqrt(per_frame.shape[0])
    fine = np.linspace(-0.3, 0.3, 60001)
    boltz = np.exp(-eb * ((fine / a) ** 2 - 1) ** 2 / KT)
    p_exact = (
        np.array([boltz[(fine >= lo) & (fine < hi)].sum() for lo, hi in itertools.pairwise(bins)])
        / boltz.sum()
    )
    print(
        "p_sim",
        np.round(p_sim, 4),
        "\np_exact",
        np.round(p_exact, 4),
        "\nz",
        np.round((p_sim - p_exact) / se, 2),
    )
    assert np.all(np.abs(p_sim - p_exact) < 4 * se + 1e-3)  # + floor: outer bins ~1 count/frame
    v2 = (tr.v**2).mean(axis=1) / (KT / M)
    assert abs(v2.mean() - 1.0) < 4 * v2.std(ddof=1) / np.sqrt(v2.size)
    assert 0.4 < np.mean(tr.x > 0) < 0.6  # both sides visited


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": -1.0}, "temperature"),
        ({"mass": 0.0}, "mass"),
        ({"markovian_friction": -1.0}, "markovian_friction"),
        ({"dt": float("nan")}, "dt"),
        ({"kernel": None}, "no thermostat"),
    ],
)
def test_gle_bad_input(kwargs, match):
    args = {"mass": M, "temperature": T, "dt": 0.002, "kernel": ExponentialKernel.single(1.0, 1.0)}
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        gle(FLAT, **args)


def test_gle_refuses_non_finite_positions():
    integ = gle(FLAT, mass=M, temperature=T, dt=0.002, markovian_friction=10.0)
    with pytest.raises(MemoryInputError, match="non-finite"):
        integ.init_state(np.array([0.0, np.nan]), 1)
