"""WHAM and MBAR on exactly sampled umbrella windows of analytic 1D potentials.

Reference: the exact PMF of a 1D potential is the potential itself. Histogram estimators return
the PMF averaged over a bin, ``-ln((1/h) int_bin exp(-U))``, so that is what they are compared with
(at a bin width of 0.05 x0 it differs from U at the bin centre by up to ~0.1 kT on the steep walls).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings

import numpy as np
import pytest

from stochastic.pmf import (
    MBAR,
    EstimatorConvergenceError,
    InverseCDFSampler,
    PMFInputError,
    UmbrellaData,
    UmbrellaWindow,
    WindowOverlapWarning,
    WindowSet,
    bootstrap_pmf,
    check_overlap,
    evenly_spaced_windows,
    mbar,
    wham,
)

EB = 5.0  # barrier height, kT
X0 = 1.0  # well position, nm
LO, HI = -1.5 * X0, 1.5 * X0  # assessment range


def double_well(x: np.ndarray) -> np.ndarray:
    """U(x) = Eb ((x/x0)^2 - 1)^2 in kT."""
    return EB * ((np.asarray(x) / X0) ** 2 - 1.0) ** 2


def bin_averaged_pmf(u, edges: np.ndarray) -> np.ndarray:
    """Exact PMF averaged over each bin: -ln((1/h) int_bin exp(-U) dx) (kT)."""
    out = np.empty(edges.size - 1)
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        t = np.linspace(a, b, 401)
        out[i] = -np.log(np.trapezoid(np.exp(-u(t)), t) / (b - a))
    return out


def rms_aligned(w: np.ndarray, ref: np.ndarray) -> float:
    """RMS of w - ref after removing the mean difference (the PMF's arbitrary constant)."""
    d = w - ref
    d = d - d.mean()
    return float(np.sqrt(np.mean(d * d)))


@pytest.fixture(scope="module")
def dw_data() -> UmbrellaData:
    """24 windows on [-1.8, 1.8] x0, kappa = 60 kT/nm^2, 3000 exact independent samples each."""
    windows = evenly_spaced_windows(-1.8 * X0, 1.8 * X0, 24, kappa=60.0, energy_unit="kT")
    sampler = InverseCDFSampler(double_well, -3.0 * X0, 3.0 * X0)
    rng = np.random.default_rng(20261122)
    return UmbrellaData(windows, [sampler(w, 3000, rng) for w in windows])


@pytest.fixture(scope="module")
def dw_estimates(dw_data):
    kw = {"bins": 60, "range": (LO, HI), "reference": "mean"}
    return wham(dw_data, **kw), mbar(dw_data, **kw)


def test_sampler_is_exact_for_biased_density():
    """The inverse-CDF sampler reproduces exp(-U - w) (chi-square per bin ~ 1)."""
    win = UmbrellaWindow(0.4, 30.0)
    s = InverseCDFSampler(double_well, -3.0, 3.0)
    x = s(win, 400_000, np.random.default_rng(1))
    edges = np.linspace(-0.6, 1.4, 41)
    h = np.histogram(x, edges)[0]
    grid = np.linspace(-3, 3, 200_001)
    z = np.trapezoid(np.exp(-double_well(grid) - win.reduced_energy(grid)), grid)
    p = np.exp(-bin_averaged_pmf(lambda t: double_well(t) + win.reduced_energy(t), edges))
    expect = x.size * p * (edges[1] - edges[0]) / z
    chi2 = np.sum((h - expect) ** 2 / expect) / expect.size
    assert chi2 < 1.6, chi2


def test_wham_and_mbar_recover_double_well(dw_estimates):
    """Acceptance: both within 0.1 kT RMS of the exact PMF on [-1.5, 1.5] x0, and of each other
    within 0.05 kT."""
    w, m = dw_estimates
    exact = bin_averaged_pmf(double_well, w.edges)
    rms_w, rms_m = rms_aligned(w.pmf, exact), rms_aligned(m.pmf, exact)
    rms_wm = rms_aligned(w.pmf, m.pmf)
    print(f"RMS vs exact: WHAM {rms_w:.4f} kT, MBAR {rms_m:.4f} kT; WHAM-MBAR {rms_wm:.4f} kT")
    assert rms_w < 0.1
    assert rms_m < 0.1
    assert rms_wm < 0.05
    # the barrier height (an observable, not an offset): exact 5 kT at 0.05 x0 resolution
    for r in (w, m):
        barrier = (
            r.pmf[np.argmin(np.abs(r.grid))] - r.pmf[np.abs(np.abs(r.grid) - X0) < 0.03].mean()
        )
        assert barrier == pytest.approx(EB, abs=0.25)


def test_wham_solvers_agree(dw_data, dw_estimates):
    """The self-consistent iteration and the Newton solver reach the same fixed point."""
    w_newton = dw_estimates[0]
    w_sci = wham(dw_data, bins=60, range=(LO, HI), reference="mean", method="sci", tol=1e-10)
    assert np.max(np.abs(w_sci.f_k - w_newton.f_k)) < 1e-6
    assert np.max(np.abs(w_sci.pmf - w_newton.pmf)) < 1e-6


def test_wham_convergence_error_carries_history(dw_data):
    with pytest.raises(EstimatorConvergenceError) as info:
        wham(dw_data, bins=60, method="sci", max_iter=5)
    assert len(info.value.history) == 5
    assert info.value.f_k is not None
    assert "did not converge" in str(info.value)


def test_bootstrap_bands_cover_exact_pmf(dw_data):
    """Acceptance: 2-sigma bootstrap bands cover the exact PMF in >= 80 % of the grid points,
    for WHAM and MBAR; the MBAR analytic sigma agrees with the bootstrap one."""
    cover = {}
    for est in ("wham", "mbar"):
        b = bootstrap_pmf(
            dw_data, est, n_boot=40, bins=60, range=(LO, HI), reference="mean", seed=5
        )
        r = b.estimate
        exact = bin_averaged_pmf(double_well, r.edges)
        d = r.pmf - exact
        d -= d.mean()
        cover[est] = float(np.mean(np.abs(d) <= 2.0 * b.sigma))
        assert b.n_failed == 0
        assert np.all(b.sigma > 0)
    m = mbar(dw_data, bins=60, range=(LO, HI), reference="mean")
    exact = bin_averaged_pmf(double_well, m.edges)
    d = m.pmf - exact
    d -= d.mean()
    cover["mbar analytic"] = float(np.mean(np.abs(d) <= 2.0 * m.sigma))
    print("2-sigma coverage:", cover)
    assert all(c >= 0.8 for c in cover.values()), cover
    ratio = np.median(m.sigma / b.sigma)
    print(f"median analytic/bootstrap sigma (MBAR): {ratio:.3f}")
    assert 0.7 < ratio < 1.4


def test_periodic_angle_pmf_is_continuous_across_boundary():
    """U = A cos(theta) on (-pi, pi], windows tiling the circle (one centred on the boundary):
    the PMF is right everywhere and has no jump between the last and the first bin."""
    amp = 3.0

    def u(t):
        return amp * np.cos(t)

    windows = evenly_spaced_windows(-np.pi, np.pi, 16, kappa=25.0, period=2 * np.pi)
    sampler = InverseCDFSampler(u, -np.pi, np.pi)
    rng = np.random.default_rng(7)
    data = UmbrellaData(windows, [sampler(w, 3000, rng) for w in windows])
    assert check_overlap(data).gaps == ()
    for est in (wham, mbar):
        r = est(data, bins=72, range=(-np.pi, np.pi), reference="mean")
        exact = bin_averaged_pmf(u, r.edges)
        rms = rms_aligned(r.pmf, exact)
        jump = abs(r.pmf[0] - r.pmf[-1])  # neighbours across theta = +-pi
        typical = np.median(np.abs(np.diff(r.pmf)))
        print(f"{r.method}: RMS {rms:.4f} kT, jump across boundary {jump:.4f} kT")
        assert rms < 0.1
        assert jump < 0.1
        assert jump < 3 * typical + 0.05


def test_mbar_matches_pymbar(dw_data):
    """Same data, same objective: free energies, their analytic errors and the PMF agree with
    pymbar 4 (test-only dependency) to 0.01 kT. (First 1000 samples per window: pymbar is slow.)"""
    pymbar = pytest.importorskip("pymbar")
    from stochastic.pmf.core import blas_threads

    data = UmbrellaData(dw_data.windows, [s[:1000] for s in dw_data.samples])
    x = np.concatenate(data.samples)
    u_kn = data.windows.reduced_bias(x)
    n_k = data.counts
    ours = MBAR(data)
    with blas_threads(1):
        theirs = pymbar.MBAR(u_kn, n_k)
        df = theirs.compute_free_energy_differences()
    assert np.max(np.abs(ours.f_k - theirs.f_k)) < 0.01
    assert np.allclose(ours.sigma_f(), df["dDelta_f"][0], rtol=1e-3, atol=1e-6)
    r = ours.pmf(60, (LO, HI), reference="min")
    with blas_threads(1):
        fes = pymbar.FES(u_kn, n_k, mbar_options={"initial_f_k": theirs.f_k})
        fes.generate_fes(
            np.zeros(x.size), x, fes_type="histogram", histogram_parameters={"bin_edges": r.edges}
        )
        res = fes.get_fes(r.grid, reference_point="from-lowest", uncertainty_method="analytical")
    dp = (res["f_i"] - res["f_i"].mean()) - (r.pmf - r.pmf.mean())
    print(
        f"max |f_k| diff {np.max(np.abs(ours.f_k - theirs.f_k)):.2e}, "
        f"max |PMF| diff {np.max(np.abs(dp)):.2e} kT"
    )
    assert np.max(np.abs(dp)) < 0.01
    assert np.allclose(r.sigma, res["df_i"], rtol=1e-3, atol=1e-6)


def test_kj_per_mol_windows_match_kT_windows():
    t = 300.0
    from poreflux.units import kT_kj_per_mol

    w_kt = UmbrellaWindow(0.5, 40.0, "kT")
    w_kj = UmbrellaWindow(0.5, 40.0 * kT_kj_per_mol(t), "kJ/mol")
    x = np.linspace(-1, 2, 7)
    assert np.allclose(w_kj.reduced_energy(x, t), w_kt.reduced_energy(x))
    assert np.allclose(WindowSet((w_kj,), temperature=t).reduced_bias(x), w_kt.reduced_energy(x))
    with pytest.raises(PMFInputError, match="temperature"):
        WindowSet((w_kj,))


# --- bad input ---------------------------------------------------------------------------------
def test_gap_between_windows_warns_naming_it():
    windows = WindowSet(tuple(UmbrellaWindow(c, 400.0) for c in (-1.0, -0.8, 0.6, 0.8)))
    sampler = InverseCDFSampler(double_well, -3, 3)
    rng = np.random.default_rng(3)
    data = UmbrellaData(windows, [sampler(w, 500, rng) for w in windows])
    with pytest.warns(
        WindowOverlapWarning, match=r"windows 1 \(centre -0.8\) and 2 \(centre 0.6\)"
    ):
        rep = check_overlap(data)
    assert rep.gaps == ((1, 2),)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        # disconnected windows have no defined relative free energy: may also fail to converge
        with contextlib.suppress(EstimatorConvergenceError):
            wham(data, bins=50)
    assert any(issubclass(w.category, WindowOverlapWarning) for w in rec)
    assert any("not sampled at all" in str(w.message) for w in rec)


def test_mismatched_shapes_raise():
    windows = evenly_spaced_windows(-1, 1, 3, kappa=10.0)
    with pytest.raises(PMFInputError, match="2 sample arrays for 3 windows"):
        UmbrellaData(windows, [np.zeros(10), np.zeros(10)])
    with pytest.raises(PMFInputError, match=r"window 1: samples must be a 1D"):
        UmbrellaData(windows, [np.zeros(10), np.zeros((10, 2)), np.zeros(10)])
    with pytest.raises(PMFInputError, match="weight arrays"):
        UmbrellaData(windows, [np.zeros(10)] * 3, weights=[np.ones(10)])


def test_zero_spring_constant_raises():
    with pytest.raises(PMFInputError, match=r"kappa=0\.0 must be a finite positive"):
        UmbrellaWindow(0.0, 0.0)
    with pytest.raises(PMFInputError, match="kappa"):
        evenly_spaced_windows(-1, 1, 5, kappa=-3.0)
    with pytest.raises(PMFInputError, match="energy_unit"):
        UmbrellaWindow(0.0, 1.0, "kcal/mol")


def test_nan_samples_raise():
    windows = evenly_spaced_windows(-1, 1, 3, kappa=10.0)
    bad = np.zeros(10)
    bad[4] = np.nan
    with pytest.raises(PMFInputError, match=r"window 2: 1 of 10 samples are NaN/inf .*index 4"):
        UmbrellaData(windows, [np.zeros(10), np.zeros(10), bad])


def test_wham_range_leaves_out_empty_windows_and_warns_on_wide_bins(dw_data):
    """Windows with no sample in the histogram range drop out (f_k = NaN) without changing the
    PMF; bins too wide for the spring constant give a BinningWarning."""
    from stochastic.pmf import BinningWarning

    narrow = wham(dw_data, bins=30, range=(-0.75, 0.75), reference="mean")
    assert np.isnan(narrow.f_k).any() and np.isfinite(narrow.f_k).sum() >= 8
    full = wham(dw_data, bins=60, range=(LO, HI), reference="mean")
    inner = np.abs(full.grid) < 0.75
    assert rms_aligned(narrow.pmf, full.pmf[inner]) < 0.02
    with pytest.warns(BinningWarning, match="too wide"):
        wham(dw_data, bins=8, range=(LO, HI))


def test_mbar_memory_is_lean(monkeypatch):
    """MBAR never holds a dense K x N matrix: with K = 40 windows, N = 2.4e5 samples (77 MB as
    u_kn) and chunks of 2^16 matrix entries, the peak traced allocation (solve, PMF and analytic
    covariance) stays below a third of that: only length-N vectors and K x chunk blocks."""
    import tracemalloc

    from stochastic.pmf import core

    monkeypatch.setattr(core, "CHUNK_ENTRIES", 1 << 16)

    windows = evenly_spaced_windows(-1.8, 1.8, 40, kappa=100.0)
    sampler = InverseCDFSampler(double_well, -3.0, 3.0)
    rng = np.random.default_rng(8)
    data = UmbrellaData(windows, [sampler(w, 6000, rng) for w in windows])
    dense = 8 * 40 * 40 * 6000
    tracemalloc.start()
    est = MBAR(data, check=False)
    est.pmf(100, (LO, HI))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak {peak / 2**20:.1f} MiB vs dense u_kn {dense / 2**20:.1f} MiB")
    assert peak < dense / 3


# --- empty bins ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_data() -> UmbrellaData:
    """8 windows on [-1, 1] x0, 400 exact samples each (samples reach about +-1.3 x0)."""
    windows = evenly_spaced_windows(-1.0 * X0, 1.0 * X0, 8, kappa=60.0, energy_unit="kT")
    sampler = InverseCDFSampler(double_well, -3.0 * X0, 3.0 * X0)
    rng = np.random.default_rng(77)
    return UmbrellaData(windows, [sampler(w, 400, rng) for w in windows])


@pytest.mark.parametrize(
    "span",
    [(-2.5, 1.0), (-1.0, 2.5), (-2.5, 2.5)],
    ids=["empty-low-end", "empty-high-end", "empty-both-ends"],
)
@pytest.mark.parametrize("estimator", ["wham", "mbar-analytic", "mbar-none"])
def test_empty_bins_give_inf_pmf_nan_sigma_and_a_warning(small_data, estimator, span):
    """Bins beyond the sampled range (either end) hold no sample: W = inf there, sigma = NaN,
    a BinningWarning names them, and the occupied bins are the same as on the sampled range."""
    from stochastic.pmf import BinningWarning

    lo, hi = span
    edges = np.linspace(lo, hi, round((hi - lo) / 0.05) + 1)  # h = 0.05: kappa h^2 = 0.15 kT
    run = {
        "wham": lambda e: wham(small_data, bins=e, check=False, reference=0.0),
        "mbar-analytic": lambda e: mbar(small_data, bins=e, check=False, reference=0.0),
        "mbar-none": lambda e: mbar(
            small_data, bins=e, check=False, reference=0.0, uncertainty=None
        ),
    }[estimator]
    with pytest.warns(BinningWarning, match=r"\d+ of \d+ bins hold no sample"):
        res = run(edges)
    smin = min(float(s.min()) for s in small_data.samples)
    smax = max(float(s.max()) for s in small_data.samples)
    empty = (edges[1:] <= smin) | (edges[:-1] > smax)
    assert empty.any()
    assert np.all(np.isposinf(res.pmf[empty]))
    assert np.all(np.isfinite(res.pmf[~empty]))
    if res.sigma is not None:
        assert np.all(np.isnan(res.sigma[empty]))
        assert np.all(np.isfinite(res.sigma[~empty]))
    # the occupied bins agree with a run on edges restricted to the sampled span
    inner = edges[np.flatnonzero(~empty)[0] : np.flatnonzero(~empty)[-1] + 2]
    ref = run(inner)
    assert np.allclose(res.pmf[~empty], ref.pmf, atol=1e-6)
    if res.sigma is not None:
        assert np.allclose(res.sigma[~empty], ref.sigma, rtol=1e-6, atol=1e-9)


def test_empty_bins_inside_the_range_warn_and_stay_finite_elsewhere():
    """A gap in the sampling (two groups of windows) leaves interior bins empty: inf, NaN, warning,
    no exception, for WHAM and MBAR alike."""
    from stochastic.pmf import BinningWarning

    windows = WindowSet(tuple(UmbrellaWindow(c, 400.0) for c in (-1.2, -1.0, -0.8, 0.6, 0.8)))
    sampler = InverseCDFSampler(double_well, -3, 3)
    rng = np.random.default_rng(5)
    data = UmbrellaData(windows, [sampler(w, 500, rng) for w in windows])
    edges = np.linspace(-1.5, 1.1, 53)
    for est in (wham, mbar):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            with contextlib.suppress(EstimatorConvergenceError):
                res = est(data, bins=edges, check=False)
        assert any(issubclass(w.category, BinningWarning) for w in rec), est
        gap = (res.grid > -0.5) & (res.grid < 0.3)
        assert np.all(np.isposinf(res.pmf[gap]))
        if res.sigma is not None:
            assert np.all(np.isnan(res.sigma[gap]))


def test_bootstrap_with_empty_bins_warns_once(small_data):
    """Replicates inherit the empty bins of the full data: one warning (the point estimate's)."""
    from stochastic.pmf import BinningWarning

    smax = max(float(s.max()) for s in small_data.samples)
    edges = np.arange(-1.2, 2.0 + 1e-9, 0.05)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        boot = bootstrap_pmf(small_data, "mbar", n_boot=6, bins=edges, check=False)
    assert sum(issubclass(w.category, BinningWarning) for w in rec) == 1
    empty = edges[:-1] > smax
    assert np.all(np.isnan(boot.sigma[empty]))
    assert np.all(np.isfinite(boot.sigma[~empty & (edges[1:] < smax - 0.1)]))
