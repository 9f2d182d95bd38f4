"""Umbrella-sampling driver, time-series statistics, storage/resume and the Langevin adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import lfilter

from stochastic.pmf import (
    InverseCDFSampler,
    PMFInputError,
    UmbrellaData,
    UmbrellaSampling,
    decorrelate,
    detect_equilibration,
    evenly_spaced_windows,
    load_run,
    mbar,
    statistical_inefficiency,
    subsample_indices,
    wham,
)
from stochastic.pmf.samplers import langevin_available


def ar1(n: int, a: float, rng: np.random.Generator, x0: float = 0.0) -> np.ndarray:
    """Stationary AR(1) x_{t+1} = a x_t + sqrt(1 - a^2) eta (unit variance)."""
    eta = rng.standard_normal(n) * np.sqrt(1 - a * a)
    eta[0] = x0 if x0 else rng.standard_normal()
    return lfilter([1.0], [1.0, -a], eta)


def test_statistical_inefficiency_of_ar1():
    """Exact g = (1 + a)/(1 - a) for an AR(1) series; within 10 % from 2e5 samples."""
    rng = np.random.default_rng(11)
    for a in (0.5, 0.9, 0.97):
        g = statistical_inefficiency(ar1(200_000, a, rng))
        exact = (1 + a) / (1 - a)
        print(f"a={a}: g={g:.3f} exact {exact:.3f}")
        assert g == pytest.approx(exact, rel=0.1)
    assert statistical_inefficiency(rng.standard_normal(50_000)) == pytest.approx(1.0, abs=0.1)
    assert statistical_inefficiency(np.ones(100)) == 1.0
    idx = subsample_indices(100, 3.5)
    assert idx[0] == 0 and np.all(np.diff(idx) >= 3) and idx.size == 29


def test_equilibration_detection_removes_transient():
    """A window started 4 sigma off, relaxing with time constant 400 samples: the detected start
    discards at least one relaxation time and at most a quarter of the run (Chodera 2016)."""
    a = 0.95
    for seed in range(3):
        x = ar1(20_000, a, np.random.default_rng(seed))
        x[:2000] += 4.0 * np.exp(-np.arange(2000) / 400.0)
        t0, g, neff = detect_equilibration(x)
        print(f"t0={t0}, g={g:.2f} (exact {(1 + a) / (1 - a):.1f}), N_eff={neff:.0f}")
        assert 400 <= t0 <= 5000
        assert g == pytest.approx((1 + a) / (1 - a), rel=0.25)
    w = evenly_spaced_windows(0, 1, 1, kappa=1.0)
    d = decorrelate(UmbrellaData(w, [x]))
    assert d.n_discarded[0] == t0
    assert d.samples[0].size == pytest.approx((x.size - t0) / g, rel=0.05)
    dw = decorrelate(UmbrellaData(w, [x]), mode="weight")
    assert dw.effective_counts[0] == pytest.approx((x.size - t0) / dw.g[0])


def test_driver_saves_resumes_and_extends(tmp_path):
    """Data are stored per window with a manifest; a new driver on the same folder draws only
    the missing samples; extend adds samples; load_run returns what was stored."""

    def u(x):
        return 2.0 * x**2

    windows = evenly_spaced_windows(-1, 1, 5, kappa=20.0)
    calls = []
    base = InverseCDFSampler(u, -4, 4)

    def sampler(window, n, rng):
        calls.append(n)
        return base(window, n, rng)

    run = UmbrellaSampling(windows, sampler, tmp_path / "run", seed=3, progress=False)
    first = run.run(300)
    assert first.counts.tolist() == [300] * 5 and calls == [300] * 5
    man = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [s["n_samples"] for s in man["state"]] == [300] * 5
    assert not list((tmp_path / "run").glob("*.tmp"))

    calls.clear()
    again = UmbrellaSampling(windows, sampler, tmp_path / "run", seed=3, progress=False)
    same = again.run(300)
    assert calls == []  # nothing to do
    assert all(np.array_equal(a, b) for a, b in zip(first.samples, same.samples, strict=True))
    more = again.extend(200)
    assert calls == [200] * 5 and more.counts.tolist() == [500] * 5
    assert all(np.array_equal(a, b[:300]) for a, b in zip(first.samples, more.samples, strict=True))
    stored = load_run(tmp_path / "run")
    assert all(np.array_equal(a, b) for a, b in zip(stored.samples, more.samples, strict=True))

    other = evenly_spaced_windows(-1, 1, 6, kappa=20.0)
    with pytest.raises(PMFInputError, match="different windows"):
        UmbrellaSampling(other, sampler, tmp_path / "run", seed=3)


def test_driver_rejects_sampler_nan_and_chunks(tmp_path):
    windows = evenly_spaced_windows(-1, 1, 2, kappa=20.0)

    def bad(window, n, rng):
        x = rng.standard_normal(n)
        x[-1] = np.nan
        return x

    with pytest.raises(PMFInputError, match="NaN/inf values in window 0"):
        UmbrellaSampling(windows, bad, progress=False).run(10)

    starts = []

    def stateful(window, n, rng, start=None):
        starts.append(start)
        return window.center + 0.1 * rng.standard_normal(n)

    run = UmbrellaSampling(windows, stateful, tmp_path / "c", chunk_size=40, progress=False)
    run.run(100)
    assert len(starts) == 6  # 40 + 40 + 20 per window
    assert starts[0] is None and starts[1] is not None


def test_driver_pipeline_gives_pmf():
    """Driver -> decorrelate -> WHAM/MBAR on a harmonic PMF U = 2 x^2 (kT)."""

    def u(x):
        return 2.0 * x**2

    windows = evenly_spaced_windows(-1.5, 1.5, 13, kappa=30.0)
    data = UmbrellaSampling(windows, InverseCDFSampler(u, -4, 4), seed=1, progress=False).run(2000)
    data = decorrelate(data)
    assert all(g < 1.3 for g in data.g)  # independent samples
    for est in (wham, mbar):
        r = est(data, bins=40, range=(-1.2, 1.2), reference="mean")
        exact = u(r.grid)
        d = r.pmf - exact
        d -= d.mean()
        assert np.sqrt(np.mean(d * d)) < 0.1


@pytest.mark.skipif(not langevin_available(), reason="stochastic.langevin not available")
def test_langevin_sampled_windows_recover_double_well():
    """Acceptance: windows sampled by overdamped Langevin dynamics give the double-well PMF
    within 0.2 kT RMS on [-1.5, 1.5] x0 (WHAM and MBAR). 16 walkers x 1000 samples per window,
    statistical inefficiency ~12, so ~1300 independent samples per window."""
    from poreflux.units import kT_kj_per_mol
    from stochastic.pmf import LangevinSampler

    eb = 5.0

    def double_well(x):
        return eb * (x * x - 1.0) ** 2

    def bin_averaged_pmf(edges):
        t = np.linspace(edges[:-1], edges[1:], 401)
        return -np.log(np.trapezoid(np.exp(-double_well(t)), t, axis=0) / np.diff(edges))

    temperature = 300.0
    kt = kT_kj_per_mol(temperature)

    def force(x):
        return -kt * 4.0 * eb * x * (x * x - 1.0)  # kJ/(mol nm)

    windows = evenly_spaced_windows(-1.8, 1.8, 24, kappa=60.0)
    gamma = kt / 0.5  # D = 0.5 nm^2/ps
    sampler = LangevinSampler(
        force,
        temperature,
        gamma,
        dt=2e-4,
        stride=20,
        n_equilibration=500,
        n_walkers=16,
        max_curvature=kt * 8 * eb * 3,
    )
    raw = UmbrellaSampling(windows, sampler, seed=4, dt=20 * 2e-4, progress=False).run(16000)
    data = decorrelate(raw)
    for est in (wham, mbar):
        r = est(data, bins=60, range=(-1.5, 1.5), reference="mean")
        exact = bin_averaged_pmf(r.edges)
        d = r.pmf - exact
        d -= d.mean()
        rms = float(np.sqrt(np.mean(d * d)))
        print(f"Langevin-sampled {r.method}: RMS {rms:.3f} kT")
        assert rms < 0.2


def test_correlated_windows_subsample_or_weight():
    """Correlated (AR(1), g = 19) exact series of windows on a harmonic PMF U = 2 x^2 kT: both
    subsampling and 1/g weighting give the PMF within 0.1 kT, and for each the block-bootstrap
    sigma (blocks of 3g samples for the weighted series) is the size of the actual error."""
    from stochastic.pmf import bootstrap_pmf

    stiff, a = 4.0, 0.9
    windows = evenly_spaced_windows(-1.5, 1.5, 13, kappa=30.0)
    rng = np.random.default_rng(21)
    series = []
    for w in windows:
        k_tot = stiff + w.kappa
        mean, sd = w.kappa * w.center / k_tot, 1.0 / np.sqrt(k_tot)
        series.append(mean + sd * ar1(20_000, a, rng))
    raw = UmbrellaData(windows, series)
    for mode in ("subsample", "weight"):
        data = decorrelate(raw, equilibration=None, mode=mode)
        assert np.mean(data.g) == pytest.approx((1 + a) / (1 - a), rel=0.2)
        for est in (wham, mbar):
            r = est(data, bins=40, range=(-1.2, 1.2), reference="mean")
            d = r.pmf - 0.5 * stiff * r.grid**2
            d -= d.mean()
            rms = float(np.sqrt(np.mean(d * d)))
            print(f"{mode} {r.method}: RMS {rms:.3f} kT")
            assert rms < 0.1
        b = bootstrap_pmf(data, "wham", n_boot=30, bins=40, range=(-1.2, 1.2), reference="mean")
        d = b.estimate.pmf - 0.5 * stiff * b.estimate.grid**2
        d -= d.mean()
        ratio = float(np.sqrt(np.mean(d * d)) / np.sqrt(np.mean(b.sigma**2)))
        print(f"{mode}: RMS error / RMS bootstrap sigma = {ratio:.2f}")
        assert 0.4 < ratio < 2.0


@pytest.mark.parametrize("progress", [None, False])
def test_pore_pmf_shows_a_progress_bar_unless_disabled(capsys, progress):
    """pore_pmf runs about a minute per ion by default: a tqdm bar (samples over all windows) is
    on by default; progress=False silences it."""
    import warnings

    from stochastic.md.model_pore import ModelPore
    from stochastic.pmf.pore_umbrella import pore_pmf

    opts = {"n_windows": 4, "n_walkers": 2, "n_samples": 40, "stride": 2, "n_equilibration": 5}
    if progress is not None:
        opts["progress"] = progress
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # far too short for statistics: only the bar is tested
        pore_pmf(ModelPore(site=None, length=0.8), "K+", None, seed=1, friction=5.0, **opts)
    err = capsys.readouterr().err
    if progress is False:
        assert err == ""
    else:
        assert "umbrella" in err and "160/160" in err  # 4 windows x 40 samples
