"""Memory kernels: Volterra inversion against analytic VACFs, force-ACF kernels, exponential
fits, tau_mem with bootstrap errors, and bad input (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from poreflux import units
from poreflux.errors import InputError
from stochastic.memory import (
    ExponentialKernel,
    MemoryInputError,
    autocorrelation,
    cross_correlation,
    fit_exponentials,
    kernel_from_correlations,
    kernel_from_force_acf,
    kernel_from_vacf,
    memory_time,
)

T = 300.0
KT = units.kT_kj_per_mol(T)
M = 40.0


def exp_kernel_vacf(t, gamma, tau, mass=M, derivative=0):
    """Analytic VACF (or its derivatives) of the GLE with K = (gamma/tau) exp(-t/tau), free
    particle: C^(s) = C0 (1 + s tau) / (tau s^2 + s + gamma/m) by partial fractions."""
    a, c = tau, gamma / mass
    disc = np.sqrt(complex(1.0 - 4 * a * c))
    s1, s2 = (-1.0 + disc) / (2 * a), (-1.0 - disc) / (2 * a)
    r1 = (1 + s1 * tau) / (a * (s1 - s2))
    r2 = (1 + s2 * tau) / (a * (s2 - s1))
    val = r1 * s1**derivative * np.exp(s1 * t) + r2 * s2**derivative * np.exp(s2 * t)
    return KT / mass * np.real(val)


@pytest.mark.parametrize("method", ["direct", "integrated"])
def test_volterra_inversion_of_exact_vacf_converges_at_second_order(method):
    gamma, tau = 200.0, 0.1  # underdamped memory: the VACF oscillates
    errs = []
    for h in (0.01, 0.005, 0.0025):
        t = np.arange(0, 3.0, h)
        k = kernel_from_vacf(t, exp_kernel_vacf(t, gamma, tau), M, T, method=method)
        exact = gamma / tau * np.exp(-t / tau)
        errs.append(abs(k.integral / gamma - 1))
        assert k.integral == pytest.approx(gamma, rel=0.02)
        assert np.max(np.abs(k.K - exact)) < 0.025 * exact[0]
        assert k.diffusion == pytest.approx(KT / gamma, rel=0.02)
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    print(method, "integral errors", errs, "orders", orders)
    assert np.all(orders > 1.8)


def test_direct_inversion_kernel_shape_second_order():
    gamma, tau = 200.0, 0.1
    errs = []
    for h in (0.01, 0.005, 0.0025):
        t = np.arange(0, 3.0, h)
        k = kernel_from_vacf(t, exp_kernel_vacf(t, gamma, tau), M, T)
        errs.append(np.max(np.abs(k.K - gamma / tau * np.exp(-t / tau))) / (gamma / tau))
    assert errs[-1] < 1e-3
    assert np.log2(errs[0] / errs[1]) > 1.8 and np.log2(errs[1] / errs[2]) > 1.8


def test_force_velocity_inversion_shin():
    """kT K = C_FF - int K C_Fv with C_FF = -m^2 C'', C_Fv = m C' (exact derivatives)."""
    gamma, tau = 200.0, 0.1
    t = np.arange(0, 3.0, 0.005)
    cff = -(M**2) * exp_kernel_vacf(t, gamma, tau, derivative=2)
    cfv = M * exp_kernel_vacf(t, gamma, tau, derivative=1)
    k = kernel_from_correlations(t, cff, cfv, T)
    exact = gamma / tau * np.exp(-t / tau)
    assert k.K[0] == pytest.approx(exact[0], rel=1e-12)  # K(0) = C_FF(0)/kT exactly
    assert np.max(np.abs(k.K - exact)) < 2e-3 * exact[0]
    assert k.integral == pytest.approx(gamma, rel=2e-3)
    assert k.memory_time == pytest.approx(tau, rel=2e-3)


def test_force_acf_kernel_is_facf_over_kT():
    t = np.arange(0, 2.0, 0.001)
    gamma, tau = 500.0, 0.05
    facf = KT * gamma / tau * np.exp(-t / tau)
    k = kernel_from_force_acf(t, facf, T)
    # trapezoid error (h/tau)^2 / 12 = 3.3e-5
    assert k.integral == pytest.approx(gamma, rel=1e-4)
    assert k.memory_time == pytest.approx(tau, rel=1e-4)


def test_correlations_match_direct_average():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 5, 3))
    y = np.roll(x, 2, axis=0) + 0.1 * rng.standard_normal(x.shape)
    c = cross_correlation(x, y, 10)
    for lag in (0, 1, 2, 7):
        direct = np.mean(x[lag:] * y[: x.shape[0] - lag])
        assert c[lag] == pytest.approx(direct, rel=1e-10)
    a = autocorrelation(x[:, 0, 0] + 3.0, 5, remove_mean=True)
    d = x[:, 0, 0] - x[:, 0, 0].mean()
    assert a[3] == pytest.approx(np.mean(d[3:] * d[:-3]), rel=1e-10)


def test_fit_recovers_two_exponentials_and_an_oscillation():
    t = np.arange(0, 3.0, 0.005)
    k2 = ExponentialKernel([300.0, 100.0], [0.03, 0.4])
    fit = fit_exponentials(t, k2(t), 2)
    order = np.argsort(fit.kernel.taus)
    assert np.allclose(fit.kernel.taus[order], [0.03, 0.4], rtol=1e-6)
    assert np.allclose(fit.kernel.amplitudes[order], [300.0, 100.0], rtol=1e-6)
    assert fit.r2 > 1 - 1e-12
    kosc = ExponentialKernel([300.0, 100.0], [0.1, 0.4], [20.0, 0.0])
    noise = np.random.default_rng(0).normal(0.0, 3.0, t.size)
    fit = fit_exponentials(t, kosc(t) + noise, 1, n_oscillatory=1)
    assert fit.rms == pytest.approx(3.0, rel=0.1)  # residual = the noise
    assert fit.kernel.integral == pytest.approx(kosc.integral, rel=0.02)
    assert np.max(fit.kernel.frequencies) == pytest.approx(20.0, rel=0.02)
    assert fit.r2 > 0.99


def test_exponential_kernel_analytic_properties():
    k = ExponentialKernel([300.0, 100.0], [0.1, 0.4], [20.0, 0.0])
    t = np.linspace(0, 10, 200001)
    assert k.integral == pytest.approx(np.trapezoid(k(t), t), rel=1e-6)
    s = 3.0
    assert k.laplace(s) == pytest.approx(np.trapezoid(k(t) * np.exp(-s * t), t), rel=1e-6)
    assert k.n_aux == 3
    assert k.memory_time == pytest.approx(k.integral / 400.0)


def test_memory_time_bootstrap_error_matches_scatter():
    """Independent noisy kernel estimates: the bootstrap error of tau_mem matches the scatter
    of per-estimate taus divided by sqrt(B) (linear regime: small noise)."""
    t = np.arange(0, 1.0, 0.002)
    tau0 = 0.05
    rng = np.random.default_rng(7)
    rows = np.array([(1 + 0.05 * rng.standard_normal()) * np.exp(-t / (tau0 * (1 + 0.05 *
                    rng.standard_normal()))) for _ in range(40)])  # fmt: skip
    mt = memory_time(t, rows * 1e3, n_boot=2000)
    per_row = np.array([memory_time(t, r).tau for r in rows])
    expected = np.std(per_row, ddof=1) / np.sqrt(rows.shape[0])
    assert mt.tau == pytest.approx(tau0, rel=3 * expected / tau0 + 0.01)
    assert mt.sigma == pytest.approx(expected, rel=0.3)
    assert mt.ci95[0] < mt.tau < mt.ci95[1]
    single = memory_time(t, rows[0])
    assert np.isnan(single.sigma)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: kernel_from_vacf([0, 0.2, 0.1, 0.3], np.ones(4), M, T), "strictly increasing"),
        (lambda: kernel_from_vacf([0, 0.1, 0.3, 0.4], np.ones(4), M, T), "uniformly spaced"),
        (lambda: kernel_from_vacf([0.1, 0.2, 0.3], np.ones(3), M, T), "start at lag 0"),
        (lambda: kernel_from_vacf([0, np.nan, 0.2], np.ones(3), M, T), "non-finite"),
        (lambda: kernel_from_vacf([0, 0.1, 0.2], [1, np.inf, 0], M, T), "non-finite"),
        (lambda: kernel_from_vacf([0, 0.1, 0.2], [1, 0.5, 0], M, -5.0), "temperature"),
        (lambda: kernel_from_vacf([0, 0.1, 0.2], [1, 0.5, 0], 0.0, T), "mass"),
        (lambda: kernel_from_vacf([0, 0.1, 0.2], [1, 0.5], M, T), "3 values"),
        (lambda: kernel_from_force_acf([0, 0.1, 0.2], [1, 0.5, 0], float("nan")), "temperature"),
        (lambda: kernel_from_vacf([0, 0.1, 0.2], [1, 0.5, 0], M, T, method="x"), "method"),
        (lambda: ExponentialKernel([-1.0], [0.1]), "amplitudes must be > 0"),
        (lambda: ExponentialKernel([1.0], [0.0]), "taus must be > 0"),
        (lambda: memory_time([0, 0.1, 0.2], [-1.0, 0.5, 0.1]), "K\\(0\\) must be > 0"),
        (lambda: fit_exponentials([0, 0.1, 0.2, 0.3], np.ones(4), 0), "at least one term"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_window_kernels_bad_input():
    from stochastic.memory import window_kernels
    from stochastic.pmf.data import UmbrellaData
    from stochastic.pmf.windows import UmbrellaWindow, WindowSet

    x = np.random.default_rng(0).normal(0.0, 0.1, 200)
    data = UmbrellaData(WindowSet((UmbrellaWindow(0.0, 100.0),)), (x,), dt=0.01)
    with pytest.raises(InputError, match="give the temperature"):
        window_kernels(data)
    with pytest.raises(InputError, match="UmbrellaData"):
        window_kernels([x], 300.0)
    with pytest.raises(InputError, match="dt"):
        window_kernels(UmbrellaData(data.windows, data.samples), 300.0)
    with pytest.raises(InputError, match="temperature"):
        window_kernels(data, -1.0)


def test_memory_errors_are_input_errors():
    assert issubclass(MemoryInputError, InputError)
