"""Transient PNP: a voltage step relaxes to the steady solution; mass balance holds each step."""

from __future__ import annotations

import numpy as np
import pytest

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.solvers.steady import SolverOptions
from pnp.solvers.transient import TRANSIENT_KSP_RTOL, TransientPNPSolver


@pytest.fixture(scope="module")
def relaxed():
    cm = build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)
    problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
    solver = TransientPNPSolver(cm, problem, tol=1e-3)
    steady = solver.solve(100.0)
    start = solver.solve(0.0)  # equilibrium, then the voltage is switched on at t = 0
    solver.initialize(start, solver.target_params())
    result = solver.run(5000.0, 1e-3, dt_max=500.0, steady_tol=1e-10)
    return steady, result


def test_long_time_limit_equals_steady(relaxed):
    steady, result = relaxed
    assert result.solution.current == pytest.approx(steady.current, rel=1e-4)
    for name in steady.species_names:
        c_t = result.solution.concentration_values(name)
        c_s = steady.concentration_values(name)
        assert np.max(np.abs(c_t - c_s)) < 1e-4 * np.max(np.abs(c_s))


def test_mass_balance_every_step(relaxed):
    _, result = relaxed
    assert result.mass_defects.shape[0] == len(result.times) - 1
    assert np.max(result.mass_defects) < 1e-6


def test_end_currents_after_charging(relaxed):
    _, result = relaxed
    assert abs(result.current_top[0]) < 1e-6  # equilibrium before the step
    # the end currents agree at late times (charge conservation once the capacitor is charged)
    late = result.times > 0.5 * result.times[-1]
    assert np.allclose(result.current_top[late], result.current_bottom[late], rtol=1e-6)
    assert result.times[-1] > 100.0  # ran to the diffusive time scale of the reservoirs


def test_krylov_time_steps_conserve_mass_and_match_lu():
    """The Krylov path (tighter default tolerance for time steps) relaxes to the same current and
    keeps the per-step mass balance."""
    cm = build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)
    problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
    out = {}
    for name in ("lu", "krylov"):
        solver = TransientPNPSolver(cm, problem, SolverOptions(linear_solver=name), tol=1e-3)
        assert solver.options.ksp_rtol == TRANSIENT_KSP_RTOL
        start = solver.solve(0.0)
        solver.initialize(start, solver.target_params())
        result = solver.run(200.0, 1e-3, dt_max=50.0)
        assert np.max(np.abs(result.mass_defects)) < 1e-6
        out[name] = result.solution.current
        solver.close()
    assert out["krylov"] == pytest.approx(out["lu"], rel=1e-6)
