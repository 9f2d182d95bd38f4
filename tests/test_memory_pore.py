"""Friction kernels of a particle in a potential (first-kind inversion) and of the ion in the MD
model pore, handed to the diagnostics' non-Markovian check (issue 15, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

from pnp.diagnostics import Severity, diagnose
from pnp.hierarchy import time_scales
from poreflux import salt, units
from stochastic.md.model_pore import ModelPore
from stochastic.memory import MemoryInputError, kernel_in_potential, memory_time, site_memory

T = 300.0
KT = units.kT_kj_per_mol(T)
M = 40.0


def _damped_oscillator(t, gamma, kappa, mass=M):
    """Langevin oscillator (rate gamma, spring kappa): C_vv(t) and C_Fv(t) = <F(x(t)) v(0)>,
    F = -kappa x (from C_xx = kT/kappa e^{-g t/2} [cos w t + g/(2 w) sin w t])."""
    w = np.sqrt(complex(kappa / mass - gamma**2 / 4))
    damp = np.exp(-gamma * t / 2)
    cvv = KT / mass * damp * (np.cos(w * t) - gamma / (2 * w) * np.sin(w * t))
    cfv = -kappa * KT / (mass * w) * damp * np.sin(w * t)
    return np.real(cvv), np.real(cfv)


def _exp_kernel_vacf(t, gamma, tau, mass=M):
    """Free particle, K = (gamma/tau) e^{-t/tau}: C^(s) = C0 (1 + s tau)/(tau s^2 + s + gamma/m)."""
    disc = np.sqrt(complex(1.0 - 4 * tau * gamma / mass))
    s1, s2 = (-1.0 + disc) / (2 * tau), (-1.0 - disc) / (2 * tau)
    val = ((1 + s1 * tau) * np.exp(s1 * t) - (1 + s2 * tau) * np.exp(s2 * t)) / (tau * (s1 - s2))
    return KT / mass * np.real(val)


@pytest.mark.parametrize("gamma", [5.0, 40.0])
def test_langevin_friction_is_recovered_exactly_at_every_lag(gamma):
    """Exponential VACF (memoryless friction m gamma): G = (2m/h) tanh(gamma h/2) at every lag,
    K one spike at lag 0, tau_mem = h/2 (the second-kind forms cannot take the kink at t = 0)."""
    h = 0.004
    t = np.arange(80) * h
    k = kernel_in_potential(t, KT / M * np.exp(-gamma * t), M, T)
    exact = 2 * M / h * np.tanh(gamma * h / 2)
    assert np.allclose(k.running_integral[1:], exact, rtol=1e-9)
    assert exact == pytest.approx(M * gamma, rel=(gamma * h) ** 2 / 12 * 1.01)
    assert np.max(np.abs(k.K[1:])) < 1e-9 * k.K[0]
    assert memory_time(t, k.K).tau == pytest.approx(h / 2, rel=1e-9)


@pytest.mark.parametrize(("gamma", "kappa"), [(30.0, 1000.0), (4.0, 1000.0)])
def test_the_force_velocity_term_removes_the_potential(gamma, kappa):
    """Over- and underdamped oscillator: with C_Fv the kernel is the friction alone (int K =
    m gamma to 4e-3 at h = 4 fs, second order in h); without it the spring reads as friction."""
    errs = []
    for h in (0.004, 0.002):
        t = np.arange(int(1.5 / h)) * h
        cvv, cfv = _damped_oscillator(t, gamma, kappa)
        k = kernel_in_potential(t, cvv, M, T, force_velocity=cfv)
        errs.append(np.max(np.abs(k.running_integral[1:] / (M * gamma) - 1)))
        without = kernel_in_potential(t, cvv, M, T)
        assert np.max(np.abs(without.running_integral[1:] / (M * gamma) - 1)) > 0.5
    assert errs[0] < 4e-3
    assert np.log2(errs[0] / errs[1]) > 1.8


def test_smooth_exponential_kernel_is_recovered():
    """K = (gamma/tau) e^{-t/tau} (underdamped memory): int K within 0.5% and tau_mem within
    2% at h = tau/40 (K(0) is first order in h: the midpoint cell value)."""
    gamma, tau, h = 200.0, 0.1, 0.0025
    t = np.arange(0, 2.0, h)
    k = kernel_in_potential(t, _exp_kernel_vacf(t, gamma, tau), M, T)
    assert k.integral == pytest.approx(gamma, rel=5e-3)
    assert memory_time(t, k.K).tau == pytest.approx(tau, rel=0.02)
    exact = gamma / tau * np.exp(-t / tau)
    assert np.max(np.abs(k.K - exact)) < 0.03 * exact[0]


def test_site_memory_of_the_model_pore_is_the_thermostat_and_is_markovian():
    """The implicit-solvent pore has Langevin friction: int K = m gamma of the thermostat within
    4 bootstrap standard errors (over 12 seeds the z-scores had std 1.0), tau_mem at the h/2
    resolution limit, and the diagnostics grade tau_mem/tau_hop as Markovian (tau_hop: a 1.2 nm
    hop at D = 2 nm^2/ns)."""
    from stochastic.profiles import Profile

    pore = ModelPore()
    site = site_memory(pore, "K+", n_walkers=48, n_groups=12, n_steps=1000, max_lag=20, seed=12)
    tau = site.memory_time(n_boot=400, seed=1)
    h = float(site.t[1])
    assert abs(tau.integral - site.langevin_friction) < 4 * tau.integral_sigma
    assert tau.integral_sigma < 0.1 * site.langevin_friction
    assert 0.4 * h < tau.tau < 0.6 * h
    z = np.linspace(-0.6, 0.6, 121)
    flat = Profile.from_arrays(z, D=2.0, temperature=298.15, W_kT=np.zeros_like(z))
    ts = time_scales(site.t, site.kernels, flat, n_boot=400)
    assert ts.hopping_time_ns == pytest.approx(1.2**2 / 4.0, rel=1e-3)
    report = diagnose(salt("KCl", 150.0), temperature=298.15, **ts.diagnostic_inputs())
    (finding,) = [f for f in report.findings if f.check == "non_markovian"]
    assert finding.severity == Severity.OK
    assert ts.ratio < 1e-4 and ts.ratio_sigma < ts.ratio


def test_time_scales_with_a_handed_over_hopping_error():
    t = np.arange(50) * 0.01
    kernels = 100.0 * np.exp(-t / 0.05) * (1 + 0.01 * np.arange(4))[:, None]
    ts = time_scales(t, kernels, None, hopping_time_ns=2.0, hopping_sigma_ns=0.5, n_boot=200)
    rel_mem = ts.memory_time_sigma_ns / ts.memory_time_ns
    assert ts.ratio_sigma == pytest.approx(ts.ratio * np.hypot(rel_mem, 0.25), rel=1e-12)
    assert "+-" in ts.describe()
    with pytest.raises(ValueError, match="hopping_time_ns"):
        time_scales(t, kernels, None, hopping_time_ns=-1.0)


def test_bad_input_is_refused():
    t = np.arange(10) * 0.01
    with pytest.raises(MemoryInputError, match="vacf"):
        kernel_in_potential(t, np.full(10, np.nan), M, T)
    with pytest.raises(MemoryInputError, match="force_velocity"):
        kernel_in_potential(t, np.ones(10), M, T, force_velocity=np.ones(9))
    with pytest.raises(MemoryInputError, match="n_groups"):
        site_memory(ModelPore(), "K+", n_walkers=4, n_groups=8)


def test_fit_with_a_held_integral():
    """A kernel with a negative lobe (a total-kernel difference): the fit holds int K at the
    requested friction to 1e-4 with positive terms; the decay times stay >= h/4."""
    from stochastic.memory import fit_exponentials

    t = np.arange(376) * 0.004
    k = 210 * np.exp(-t / 0.03) - 60 * np.exp(-(((t - 0.12) / 0.05) ** 2))
    for target in (0.5, 1.0, 2.0):
        fit = fit_exponentials(t, k, 2, n_oscillatory=1, integral=target)
        assert fit.kernel.integral == pytest.approx(target, rel=1e-4)
        assert np.all(fit.kernel.amplitudes > 0) and np.all(fit.kernel.taus >= 0.001 - 1e-12)
    with pytest.raises(MemoryInputError, match="integral"):
        fit_exponentials(t, k, 2, integral=-1.0)
