"""The memory -> diagnostics hand-over: tau_mem from kernels, tau_hop from a PMF, in ns."""

from __future__ import annotations

import numpy as np
import pytest

from pnp.diagnostics import Severity, diagnose
from pnp.hierarchy import time_scales
from poreflux import salt
from stochastic.profiles import Profile

T = 298.15
TAU_PS = 0.5  # exponential kernel K0 exp(-t/tau): tau_mem = tau (the grid reaches 10 tau)


def _kernels(n_blocks: int = 8, noise: float = 20.0, seed: int = 1):
    t = np.linspace(0.0, 10 * TAU_PS, 1001)
    rng = np.random.default_rng(seed)
    exact = 1000.0 * np.exp(-t / TAU_PS)  # amu/ps^2
    return t, exact + noise * rng.standard_normal((n_blocks, t.size))


def _flat(length_nm: float, d: float = 1.0) -> Profile:
    z = np.linspace(0.0, length_nm, 401)
    return Profile.from_arrays(z, D=d, temperature=T, W_kT=np.zeros_like(z))


def test_time_scales_recover_the_kernel_time_and_the_flat_pmf_mfpt():
    t, k = _kernels()
    ts = time_scales(t, k, _flat(0.04))
    # tau_mem within 4 bootstrap standard errors (plus the 1e-4 trapezoid/truncation bias)
    assert abs(ts.memory_time_ns - TAU_PS / 1e3) < 4 * ts.memory_time_sigma_ns + 1e-4 * TAU_PS / 1e3
    assert 0 < ts.memory_time_sigma_ns < 0.05 * ts.memory_time_ns
    assert ts.hopping_time_ns == pytest.approx(0.04**2 / 2.0, rel=1e-4)  # L^2 / (2 D)
    assert ts.ratio == pytest.approx(ts.memory_time_ns / ts.hopping_time_ns)
    assert ts.ratio_sigma == pytest.approx(ts.memory_time_sigma_ns / ts.hopping_time_ns)


@pytest.mark.parametrize(("length_nm", "flagged"), [(0.04, True), (2.0, False)])
def test_the_diagnostics_grade_the_handed_over_numbers(length_nm, flagged):
    """tau_mem = 0.5 ps against tau_hop = 0.8 ps (a 0.04 nm hop) or 2 ns (a 2 nm hop)."""
    t, k = _kernels()
    ts = time_scales(t, k, _flat(length_nm))
    report = diagnose(salt("KCl", 150.0), temperature=T, **ts.diagnostic_inputs())
    (finding,) = [f for f in report.findings if f.check == "non_markovian"]
    assert finding.values["ratio"] == pytest.approx(ts.ratio, rel=1e-9)
    assert (finding.severity >= Severity.WARNING) == flagged


def test_one_kernel_has_no_error_bar():
    t, k = _kernels(n_blocks=1)
    assert np.isnan(time_scales(t, k[0], _flat(1.0)).memory_time_sigma_ns)
