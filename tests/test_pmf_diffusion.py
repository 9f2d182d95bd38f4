"""Position-dependent diffusion: Hummer's umbrella-window formula and MSD in a region."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from stochastic.pmf import (
    PMFInputError,
    UmbrellaData,
    diffusion_profile,
    evenly_spaced_windows,
    hummer_diffusion,
    msd_diffusion,
)


def ou_window(d: float, kappa_kt: float, dt: float, n: int, rng, center: float = 0.0):
    """Exact discrete-time Ornstein-Uhlenbeck series of an overdamped particle (diffusion d) in
    a harmonic well kappa (kT/nm^2): AR(1) with a = exp(-dt/tau), tau = var/d, var = 1/kappa."""
    var = 1.0 / kappa_kt
    a = np.exp(-dt * d / var)
    eta = rng.standard_normal(n) * np.sqrt(var * (1.0 - a * a))
    eta[0] = rng.standard_normal() * np.sqrt(var)
    return center + lfilter([1.0], [1.0, -a], eta)


def test_hummer_d_on_ou_window():
    """Acceptance: D from Hummer's formula within 5 % of the exact D of an OU window, and the
    block-averaging error bar consistent with the actual error."""
    rng = np.random.default_rng(42)
    d_true, kappa = 0.3, 50.0  # nm^2/ps, kT/nm^2 -> tau = 1/(kappa D) = 0.0667 ps
    dt = 0.1 / (kappa * d_true)  # tau/10
    errs = []
    for _ in range(3):
        est = hummer_diffusion(ou_window(d_true, kappa, dt, 300_000, rng), dt, n_blocks=10)
        rel = (est.D - d_true) / d_true
        errs.append(rel)
        print(f"D = {est.D:.4f} +- {est.sigma:.4f} nm^2/ps (exact {d_true}), rel err {rel:+.4f}")
        assert abs(rel) < 0.05
        assert abs(est.D - d_true) < 4.0 * est.sigma
        assert est.variance == pytest.approx(1 / kappa, rel=0.03)
        assert est.correlation_time == pytest.approx(1 / (kappa * d_true), rel=0.05)


def test_diffusion_profile_over_windows():
    """Windows with different local D give D(z) at each window's mean position."""
    rng = np.random.default_rng(1)
    windows = evenly_spaced_windows(-1.0, 1.0, 5, kappa=40.0)
    d_of_z = lambda z: 0.2 + 0.1 * z  # noqa: E731
    dt = 0.1 / (40.0 * 0.3)  # tau/10 for the fastest window
    series = [ou_window(d_of_z(c), 40.0, dt, 400_000, rng, c) for c in windows.centers]
    prof = diffusion_profile(UmbrellaData(windows, series, dt=dt))
    rel = (prof.D - d_of_z(windows.centers)) / d_of_z(windows.centers)
    print("D(z) rel errors:", np.round(rel, 4), "sigma/D:", np.round(prof.sigma / prof.D, 4))
    # statistical error ~3 % per window at this length: check against the block error bars
    assert np.all(np.abs(rel) < 0.1)
    assert np.all(np.abs(prof.D - d_of_z(windows.centers)) < 4.0 * prof.sigma)
    assert np.allclose(prof.position, windows.centers, atol=0.02)


def test_msd_diffusion_in_region():
    """Free Brownian motion, D = 0.3 nm^2/ps: MSD in a region recovers D within 5 %."""
    rng = np.random.default_rng(9)
    d_true, dt = 0.3, 0.01
    steps = rng.standard_normal((20_000, 20)) * np.sqrt(2 * d_true * dt)
    traj = np.cumsum(steps, axis=0)
    for region in (None, (-1.0, 1.0)):
        est = msd_diffusion(traj, dt, region=region, max_lag=10)
        print(f"region {region}: D = {est.D:.4f} +- {est.sigma:.4f}")
        assert pytest.approx(d_true, rel=0.05) == est.D
        assert abs(est.D - d_true) < 4.0 * est.sigma


def test_msd_two_regions_of_different_d():
    """Two-layer medium (D = 0.1 for x < 0, 0.4 for x > 0): MSD restricted to each layer, away
    from the interface, gives the local D."""
    rng = np.random.default_rng(4)
    dt, n, p = 0.005, 40_000, 16
    x = np.empty((n, p))
    x[0] = rng.uniform(-3, 3, p)
    noise = rng.standard_normal((n, p))
    for t in range(1, n):
        d = np.where(x[t - 1] < 0.0, 0.1, 0.4)
        y = x[t - 1] + np.sqrt(2 * d * dt) * noise[t]
        y = np.where(y > 4.0, 8.0 - y, y)  # reflecting walls at +-4 nm
        x[t] = np.where(y < -4.0, -8.0 - y, y)
    for region, d_true in (((-3.5, -1.0), 0.1), ((1.0, 3.5), 0.4)):
        est = msd_diffusion(x, dt, region=region, max_lag=5)
        print(f"region {region}: D = {est.D:.4f} +- {est.sigma:.4f} (exact {d_true})")
        assert pytest.approx(d_true, rel=0.08) == est.D


def test_diffusion_bad_input():
    with pytest.raises(PMFInputError, match="dt"):
        hummer_diffusion(np.random.default_rng(0).standard_normal(100), 0.0)
    with pytest.raises(PMFInputError, match="NaN"):
        hummer_diffusion(np.array([0.0, np.nan, 1.0]), 0.1)
    with pytest.raises(PMFInputError, match="region"):
        msd_diffusion(np.zeros((100, 2)), 0.1, region=(5.0, 6.0))
