"""Krylov path of the steady PNP solver: the electrochemical-potential block preconditioner.

The preconditioner rests on an identity of the linearised equations (the Nernst-Planck blocks
are the same operator in ``ln c`` and in the electrochemical potential, and the Poisson block
becomes a screened Poisson operator): with exact block solves it must make the Jacobian solve
exact at equilibrium (one Krylov iteration per Newton step). A transformation with a wrong sign,
a missing boundary condition or a wrong dof map fails that test (the bug found while writing it
cost 36 iterations per step).
"""

from __future__ import annotations

import numpy as np
import pytest

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.solvers.newton import NewtonSolver
from pnp.solvers.preconditioners import water_dof_map
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import InputError


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)


def _problem(cm, voltage=100.0, sigma=-0.1, conc=150.0):
    return channel_problem(cm, poreflux.salt("KCl", conc), voltage=voltage, surface_charge=sigma)


def test_exact_block_solves_make_the_preconditioner_exact_at_equilibrium(coarse):
    solver = SteadyPNPSolver(coarse, _problem(coarse, 0.0), SolverOptions(linear_solver="krylov"))
    solver._install_electrochemical_pc(sub_solver="lu")
    solver.solve(0.0)
    sol = solver.solve(0.01)  # 10 uV: grad(mu) ~ 4e-4 kT/nm, the neglected block ~ 1e-4
    steps = sol.newton_iterations + solver.stats.predictor_steps  # Newton + chord step
    assert steps >= 1
    assert solver.stats.linear_iterations == steps
    solver.close()


def test_krylov_matches_lu_and_needs_few_iterations(coarse):
    problem = _problem(coarse, 100.0, sigma=-0.2, conc=100.0)
    lu = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="lu"))
    kr = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="krylov"))
    a, b = lu.solve(), kr.solve()
    assert kr.linear_solver == "krylov"
    assert np.allclose(b.species_currents_top, a.species_currents_top, rtol=1e-6)
    # warm I-V step: Newton keeps its quadratic convergence with 1e-4 Krylov solves
    a2, b2 = lu.solve(125.0), kr.solve(125.0)
    assert abs(b2.current - a2.current) <= 1e-6 * abs(a2.current)
    assert b2.newton_iterations <= a2.newton_iterations + 1
    assert kr.stats.linear_iterations <= 15 * b2.newton_iterations
    lu.close()
    kr.close()


def test_fieldsplit_and_krylov_agree_with_constant_poisson_block(coarse):
    """The nest solvers assemble the Poisson block once; the answer must not change."""
    problem = _problem(coarse, -80.0)
    ref = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="lu")).solve()
    fs = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="fieldsplit"))
    sol = fs.solve()
    sol2 = fs.solve(-60.0)  # second solve: the kept block is reused
    ref2 = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="lu")).solve(-60.0)
    assert abs(sol.current - ref.current) <= 1e-6 * abs(ref.current)
    assert abs(sol2.current - ref2.current) <= 1e-6 * abs(ref2.current)
    fs.close()


def test_water_dof_map_matches_coordinates(coarse):
    solver = SteadyPNPSolver(coarse, _problem(coarse), SolverOptions(linear_solver="krylov"))
    w2v = water_dof_map(solver.V, solver.W, solver.parent_cells, solver.sub_cells)
    xw = solver.W.tabulate_dof_coordinates()
    xv = solver.V.tabulate_dof_coordinates()[w2v]
    assert np.abs(xw - xv).max() < 1e-12
    with pytest.raises(InputError, match="do not coincide"):
        water_dof_map(solver.V, solver.W, solver.parent_cells[::-1].copy(), solver.sub_cells)
    solver.close()


def test_bad_solver_choices(coarse):
    with pytest.raises(InputError, match="variables='log'"):
        SolverOptions(linear_solver="krylov", variables="primitive")
    with pytest.raises(InputError, match="linear_solver must be one of"):
        SolverOptions(linear_solver="gmres")
    with pytest.raises(InputError, match="ksp_rtol"):
        SolverOptions(ksp_rtol=2.0)
    solver = SteadyPNPSolver(coarse, _problem(coarse), SolverOptions(linear_solver="lu"))
    with pytest.raises(InputError, match="nest"):
        NewtonSolver(
            solver.residuals,
            [solver.psi, *solver.us],
            solver.bcs,
            kind="mpi",
            entity_maps=[solver.entity_map],
            constant_blocks=[(0, 0)],
        )
    solver.close()


@pytest.mark.parametrize("linear_solver", ["lu", "krylov"])
def test_chord_predictor_saves_a_newton_step_without_loosening_convergence(coarse, linear_solver):
    problem = _problem(coarse, 100.0)
    with_pred = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver=linear_solver))
    without = SteadyPNPSolver(
        coarse, problem, SolverOptions(linear_solver=linear_solver, predictor=False)
    )
    cold = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver="lu")).solve(125.0)
    with_pred.solve()
    without.solve()
    a, b = with_pred.solve(125.0), without.solve(125.0)
    assert with_pred.stats.predictor_steps == 1 and without.stats.predictor_steps == 0
    assert a.newton_iterations < b.newton_iterations
    # the Newton test stays relative to the residual before the predictor: same accuracy
    assert abs(a.current - cold.current) <= 1e-7 * abs(cold.current)
    assert abs(b.current - cold.current) <= 1e-7 * abs(cold.current)
    with_pred.close()
    without.close()
