"""Finite-volume (Scharfetter-Gummel) Smoluchowski propagator: exactness, conservation,
equilibrium, convergence order and first-passage statistics against the MFPT formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from stochastic import propagator as pg
from stochastic import smoluchowski as sm
from stochastic.profiles import Profile, StochasticInputError

T = 300.0


def W_smooth(z):
    return 4.0 * np.exp(-((z - 2.5) ** 2) / 0.3) - 3.0 * np.exp(-((z - 1.5) ** 2) / 0.1)


def D_smooth(z):
    return 1.0 + 0.5 * np.tanh(z - 2.0)


def test_bernoulli_function():
    x = np.array([-50.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 50.0, 800.0])
    ref = np.array([v / math.expm1(v) if v != 0 else 1.0 for v in x[:-1]] + [0.0])
    np.testing.assert_allclose(pg.bernoulli(x), ref, rtol=1e-12, atol=1e-300)


def test_exact_for_piecewise_linear_W():
    """SG fluxes are exact for piecewise-linear W with constant D: FV flux = integral formula
    (1e-12) and the nodal concentrations equal the exact steady profile."""
    z = np.array([0.0, 1.0, 1.5, 2.2, 3.0, 4.0])
    w = np.array([0.0, 2.0, -1.0, 3.0, 0.5, 0.2])
    p = Profile.from_arrays(z, W_kT=w, D=1.3, temperature=T, kind="linear")
    c, flux = pg.fv_steady_state(p, 100.0, 10.0)
    # exact: int e^W/D over linear pieces in closed form
    integral = (
        sum(
            (z[i + 1] - z[i]) * (math.exp(w[i + 1]) - math.exp(w[i])) / (w[i + 1] - w[i])
            for i in range(5)
        )
        / 1.3
    )
    J_exact = (100.0 * math.exp(w[0]) - 10.0 * math.exp(w[-1])) / integral
    assert flux == pytest.approx(J_exact, rel=1e-12)
    assert sm.steady_flux(p, 100.0, 10.0) == pytest.approx(J_exact, rel=1e-12)
    _, c_exact, _ = sm.steady_density(p, 100.0, 10.0)
    np.testing.assert_allclose(c, c_exact, rtol=1e-10)


def test_fv_steady_flux_converges_second_order():
    """Smooth W and D(z): FV flux -> integral-formula flux with fitted order 2 (within 0.1)."""
    ref = quad(lambda x: math.exp(W_smooth(x)) / D_smooth(x), 0, 5, epsrel=1e-13, limit=400)[0]
    J_ref = (150 * math.exp(W_smooth(0.0)) - 50 * math.exp(W_smooth(5.0))) / ref
    hs, errs = [], []
    for n in (51, 101, 201, 401):
        p = Profile.from_callables(W_smooth, D_smooth, z_range=(0, 5), temperature=T, n=n)
        _, J = pg.fv_steady_state(p, 150.0, 50.0)
        hs.append(5.0 / (n - 1))
        errs.append(abs(J / J_ref - 1))
    order = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert abs(order - 2.0) < 0.1, (order, errs)
    assert errs[-1] < 5e-4


def test_fv_current_with_voltage_matches_ghk():
    p = Profile.from_arrays(np.linspace(0, 3, 61), W_kT=0.0, D=2.0, temperature=T, kind="linear")
    _, flux = pg.fv_steady_state(p, 140.0, 5.0, valence=1, voltage_mV=80.0)
    assert flux == pytest.approx(sm.ghk_flux(2.0, 3.0, 140.0, 5.0, 1, 80.0, T), rel=1e-10)


@pytest.mark.parametrize("scheme", ["euler", "bdf2"])
def test_conserves_probability_and_relaxes_to_boltzmann(scheme):
    """Acceptance: reflecting walls conserve sum V_i p_i to 1e-10; the density relaxes to the
    Boltzmann distribution e^{-W}/Z (discrete detailed balance: 1e-8 after long times)."""
    p = Profile.from_callables(W_smooth, D_smooth, z_range=(0, 5), temperature=T, n=201)
    prop = pg.Propagator(p, pg.Reflecting(), "reflecting")
    res = prop.run(pg.delta_density(p, 1.0), t_end=20.0, dt=0.01, scheme=scheme)
    assert np.max(np.abs(res.survival - 1.0)) < 1e-10
    long = prop.run(pg.delta_density(p, 4.5), t_end=5000.0, dt=5.0, scheme=scheme, save_every=1000)
    # round-off of the (nearly singular) large-dt solves accumulates ~1e-12 per step
    assert np.max(np.abs(long.survival - 1.0)) < 1e-8
    eq = np.exp(-p.W) / np.sum(prop.volumes * np.exp(-p.W))
    np.testing.assert_allclose(long.snapshots[-1], eq, rtol=1e-8)


def test_first_passage_distribution_mean_equals_mfpt():
    """Acceptance: reflecting at 0, absorbing at 5 nm over the well+barrier profile: the mean of
    the first-passage-time density equals the MFPT formula within 1% (measured ~0.1%)."""
    p = Profile.from_callables(W_smooth, D_smooth, z_range=(0, 5), temperature=T, n=401)
    x0 = float(p.z[120])  # 1.5 nm, the bottom of the well
    t_ref = sm.mfpt(p, x0)
    prop = pg.Propagator(p, pg.Reflecting(), pg.Absorbing())
    res = prop.run(pg.delta_density(p, x0), t_end=6 * t_ref, dt=t_ref / 1500)
    assert abs(res.fpt_mean() / t_ref - 1) < 0.01
    assert abs(res.mean_survival_time() / t_ref - 1) < 0.01
    # survival + absorbed = 1 at every step (discrete conservation with an absorbing end;
    # backward Euler: S^{n+1} - S^n = -dt f^{n+1})
    eu = prop.run(pg.delta_density(p, x0), t_end=t_ref, dt=t_ref / 200, scheme="euler")
    absorbed = np.concatenate(([0.0], np.cumsum(eu.fpt_density[1:] * np.diff(eu.times))))
    np.testing.assert_allclose(eu.survival + absorbed, 1.0, atol=1e-10)


def test_free_diffusion_survival_matches_series():
    """Free diffusion on [0, L], reflecting at 0, absorbing at L, start at 0: S(t) =
    sum_n 4(-1)^n/((2n+1) pi) exp(-(2n+1)^2 pi^2 D t / (4 L^2)); BDF2 on 401 nodes to 1e-4."""
    L, D = 2.0, 0.5
    p = Profile.from_arrays(np.linspace(0, L, 401), W_kT=0.0, D=D, temperature=T, kind="linear")
    res = pg.Propagator(p, "reflecting", "absorbing").run(pg.delta_density(p, 0.0), 4.0, 2e-3)
    t = res.times[200::200]
    k = np.arange(200)
    s = np.sum(
        4
        * (-1) ** k
        / ((2 * k + 1) * np.pi)
        * np.exp(-((2 * k + 1) ** 2) * np.pi**2 * D * t[:, None] / (4 * L**2)),
        axis=1,
    )
    np.testing.assert_allclose(res.survival[200::200], s, atol=1e-4)


def test_fixed_concentration_relaxes_to_steady_flux():
    """Bath boundaries: the transient approaches the exact steady flux."""
    p = Profile.from_callables(W_smooth, 1.0, z_range=(0, 5), temperature=T, n=801)
    prop = pg.Propagator(p, pg.FixedConcentration(100.0), pg.FixedConcentration(0.0))
    res = prop.run(np.zeros_like(p.z), t_end=3000.0, dt=2.0, save_every=1500)
    J = prop.edge_fluxes(res.snapshots[-1])
    assert np.mean(J) == pytest.approx(sm.steady_flux(p, 100.0, 0.0), rel=1e-4)


def test_bad_input_raises():
    p = Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=T)
    with pytest.raises(StochasticInputError, match="boundary"):
        pg.Propagator(p, "sticky", "reflecting")
    with pytest.raises(StochasticInputError, match=">= 0"):
        pg.FixedConcentration(-1.0)
    prop = pg.Propagator(p)
    with pytest.raises(StochasticInputError, match="dt and t_end"):
        prop.run(np.ones(11), t_end=1.0, dt=-0.1)
    with pytest.raises(StochasticInputError, match="shape"):
        prop.run(np.ones(5), t_end=1.0, dt=0.1)
    with pytest.raises(StochasticInputError, match="equilibrium"):
        prop.steady_state()


def test_progress_bar(capsys):
    p = Profile.from_arrays(np.linspace(0, 1, 11), W_kT=0.0, D=1.0, temperature=T)
    pg.Propagator(p).run(np.ones(11), t_end=0.1, dt=0.01, progress=True)
    assert "propagate" in capsys.readouterr().err
