"""Steady PNP solver: robustness with continuation, failure handling, inputs, sweeps, mu_ex."""

from __future__ import annotations

import math

import numpy as np
import pytest

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.electrostatics import DirichletPotential, Electrostatics
from pnp.problems.transport import PNPProblem, channel_problem
from pnp.results import currents
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import ConvergenceError, InputError

T = 298.15


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)


@pytest.fixture(scope="module")
def default_2d():
    return build_channel(default_channel(), 2)


# ------------------------------------------------------------------------ formulation choice
def test_log_variables_beat_primitive(coarse):
    """The measurement behind the default: at -0.2 C/m^2, 150 mM, 200 mV (cold start) the log
    form converges with positive concentrations; the primitive form goes negative."""
    problem = channel_problem(
        coarse, poreflux.salt("KCl", 150.0), voltage=200.0, surface_charge=-0.2
    )
    log_sol = SteadyPNPSolver(coarse, problem, SolverOptions(variables="log")).solve()
    prim_sol = SteadyPNPSolver(coarse, problem, SolverOptions(variables="primitive")).solve()
    assert prim_sol.min_concentration() < 0  # unphysical nodal values in the double layer
    assert log_sol.newton_iterations <= prim_sol.newton_iterations


# ------------------------------------------------------------------------ robustness subset
ROBUSTNESS = [
    (300.0, 1.0, -0.2),
    (-300.0, 3000.0, -0.2),
    (-300.0, 1.0, -0.05),
    (150.0, 10.0, -0.2),
    (300.0, 3000.0, 0.0),
    (-250.0, 100.0, -0.2),
    (0.0, 1.0, -0.2),
    (-100.0, 1000.0, -0.05),
]


@pytest.mark.parametrize(("voltage", "conc", "sigma"), ROBUSTNESS)
def test_robustness_default_channel(default_2d, voltage, conc, sigma):
    """Cold start on the default channel; continuation where needed; currents conserved."""
    problem = channel_problem(
        default_2d, poreflux.salt("KCl", conc), voltage=voltage, surface_charge=sigma
    )
    sol = SteadyPNPSolver(default_2d, problem).solve()
    assert all(np.isfinite(sol.psi.x.array))
    assert math.isfinite(sol.current)
    if voltage != 0:
        assert np.sign(sol.current) == np.sign(voltage)
        assert sol.conservation_error < 1e-6  # the same current through both bath ends
        assert sol.conservation_error < 1e-6


# ------------------------------------------------------------------------ failure
def test_failure_raises_with_history_and_keeps_state(coarse):
    problem = channel_problem(coarse, poreflux.salt("KCl", 1.0), voltage=0.0, surface_charge=-0.2)
    solver = SteadyPNPSolver(coarse, problem, SolverOptions(max_it=1, max_attempts=4))
    before = solver.psi.x.array.copy()
    with pytest.raises(ConvergenceError) as info:
        solver.solve(300.0)
    err = info.value
    assert len(err.attempts) >= 2
    assert any(a.residuals for a in err.attempts)
    assert "continuation" in str(err)
    assert np.all(np.isfinite(solver.psi.x.array))
    assert np.array_equal(solver.psi.x.array, before)


# ------------------------------------------------------------------------ inputs
def test_bad_inputs_raise_input_error(coarse):
    es = Electrostatics(T, {"bath": 78.5, "pore": 78.5, "membrane": 2.0, "protein": 2.0})
    kcl = poreflux.salt("KCl", 100.0)
    with pytest.raises(InputError, match="voltage"):
        PNPProblem(es, kcl, voltage=float("nan"))
    with pytest.raises(InputError, match="neither bath"):
        PNPProblem(es, kcl, mu_ex={"Na+": lambda x: 0 * x[0]})
    es_clash = Electrostatics(T, es.permittivity, dirichlet=(DirichletPotential("top", 5.0),))
    with pytest.raises(InputError, match="remove those Dirichlet"):
        PNPProblem(es_clash, kcl)
    with pytest.raises(InputError, match="variables"):
        SolverOptions(variables="slotboom")
    solver = SteadyPNPSolver(coarse, PNPProblem(es, kcl))
    with pytest.raises(InputError, match="positive concentrations"):
        solver.solve(10.0, bath_top=(100.0,))
    with pytest.raises(InputError, match="mu_ex"):
        bad = PNPProblem(es, kcl, mu_ex={"K+": lambda x: np.ones(x.shape[1])})
        SteadyPNPSolver(coarse, bad)


# ------------------------------------------------------------------------ baths per species
def test_bi_ionic_baths_set_each_species(coarse):
    """KCl on top, NaCl below: every species gets its own bath values (absent -> ~0)."""
    problem = channel_problem(
        coarse, poreflux.salt("KCl", 100.0), bath_bottom=poreflux.salt("NaCl", 50.0), voltage=20.0
    )
    solver = SteadyPNPSolver(coarse, problem)
    sol = solver.solve()
    top, bottom = solver.top_dofs_w, solver.bottom_dofs_w
    for name, ct, cb in (("K+", 100.0, 0.0), ("Na+", 0.0, 50.0), ("Cl-", 100.0, 50.0)):
        c = sol.concentration_values(name)
        assert np.allclose(c[top], ct, atol=1e-6)
        assert np.allclose(c[bottom], cb, atol=1e-6)
    assert sol.conservation_error < 1e-6


# ------------------------------------------------------------------------ sweeps and ratios
def test_iv_sweep_default_channel_warm_starts(default_2d):
    """The demo's sweep: 7 voltages, 150 mM KCl, charged lining; warm steps <= 6 Newton its."""
    problem = channel_problem(default_2d, poreflux.salt("KCl", 150.0), surface_charge=-0.1)
    solver = SteadyPNPSolver(default_2d, problem)
    iv = currents.iv_curve(solver, np.linspace(-150.0, 150.0, 7))
    assert iv.currents[0] < 0 < iv.currents[-1]
    assert np.all(np.diff(iv.currents) > 0)
    warm = [s.newton_iterations for s in iv.solutions if s.voltage != 0.0]
    assert max(warm) <= 6, warm
    # symmetric channel and baths: no rectification
    r = iv.currents[-1] / abs(iv.currents[0])
    assert r == pytest.approx(1.0, abs=1e-3)
    # the negative lining makes the pore cation selective
    assert iv.species_currents["K+"][-1] > 10 * iv.species_currents["Cl-"][-1]


def test_rectification_and_selectivity(coarse):
    problem = channel_problem(
        coarse,
        poreflux.salt("KCl", 100.0),
        bath_bottom=poreflux.salt("KCl", 10.0),
        surface_charge=-0.1,
    )
    solver = SteadyPNPSolver(coarse, problem)
    assert abs(currents.rectification_ratio(solver, 100.0) - 1.0) > 0.05  # asymmetric baths
    # identical conditions for K+ and Na+ in a mixed bath, uncharged pore at high salt: the
    # ratio is that of the bulk mobilities D_K / D_Na
    mixed = poreflux.Electrolyte({"K+": 500.0, "Na+": 500.0, "Cl-": 1000.0})
    sol = SteadyPNPSolver(coarse, channel_problem(coarse, mixed, voltage=10.0)).solve()
    ratio = currents.selectivity_ratio(sol, "K+", "Na+")
    assert ratio == pytest.approx(
        poreflux.get_species("K+").diffusion / poreflux.get_species("Na+").diffusion, rel=0.01
    )


def test_solution_is_a_snapshot(coarse):
    problem = channel_problem(coarse, poreflux.salt("KCl", 100.0), surface_charge=-0.05)
    solver = SteadyPNPSolver(coarse, problem)
    first = solver.solve(50.0)
    current, psi = first.current, first.psi.x.array.copy()
    second = solver.solve(-50.0)
    assert first.current == current and np.array_equal(first.psi.x.array, psi)
    assert second.current == pytest.approx(-current, rel=1e-3)
    with pytest.raises(AttributeError):
        first.voltage = 3.0  # type: ignore[misc]


def test_write_fields(coarse, tmp_path):
    problem = channel_problem(coarse, poreflux.salt("KCl", 100.0), voltage=50.0)
    sol = SteadyPNPSolver(coarse, problem).solve()
    pot, conc = sol.write(tmp_path / "iv_50mV")
    assert pot.exists() and conc.exists()


def test_axial_profiles(coarse):
    problem = channel_problem(
        coarse, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1
    )
    sol = SteadyPNPSolver(coarse, problem).solve()
    prof = currents.axial_profiles(sol, [-8.0, -1.0, 0.0, 1.0, 8.0])
    inside = slice(1, 4)
    assert np.all(prof["K+"][inside] > 2 * prof["Cl-"][inside])  # counter-ion excess
    assert np.all(np.abs(prof["area"][inside] - math.pi) < 0.05 * math.pi)  # pore radius 1 nm
    assert prof["potential"][-1] > prof["potential"][0]  # V > 0: the top bath is higher
    assert np.all(prof["potential"][inside] < prof["potential"][0])  # Donnan: negative lining
    assert np.allclose(prof["current"], sol.current, rtol=0.05)


# ------------------------------------------------------------------------ excess potential
def test_mu_ex_equilibrium_and_barrier(coarse):
    """At V = 0, c = c_b exp(-z psi - mu) at every node; a barrier lowers that species' current."""

    def barrier(x):
        return 2.0 * np.exp(-(x[1] ** 2) / 0.5)

    base = channel_problem(coarse, poreflux.salt("KCl", 100.0))
    with_mu = channel_problem(coarse, poreflux.salt("KCl", 100.0), mu_ex={"K+": barrier})
    solver = SteadyPNPSolver(coarse, with_mu)
    eq = solver.solve(0.0)
    psi_w = eq.psi_water.x.array
    mu = solver.mu[0].x.array
    expected = 100.0 * np.exp(-psi_w - mu)
    assert np.allclose(eq.concentration_values("K+"), expected, rtol=1e-8)
    i_mu = solver.solve(50.0).species_currents["K+"]
    i_0 = SteadyPNPSolver(coarse, base).solve(50.0).species_currents["K+"]
    assert 0 < i_mu < 0.7 * i_0
