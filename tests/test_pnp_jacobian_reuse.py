"""Jacobian reuse in Newton's method (``NewtonSolver(reuse_jacobian=theta)``).

A step keeps the previous Jacobian (and its factorisation or preconditioner) only when the
residual has just fallen by at least ``1/theta``: the converged answer must be the one of plain
Newton to the solver tolerance, with fewer Jacobian assemblies, and an attempt spoiled by reuse
must be repeated with fresh Jacobians instead of failing.
"""

from __future__ import annotations

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import pytest
import ufl
from mpi4py import MPI

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.solvers.newton import NewtonSolver
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import InputError


def _mms(reuse, stiffness=1.0, max_it=50, n=200):
    """-u'' + s u^3 = f on (0, 1), u = sin(pi x): P1 solution, Newton solver, exact solution."""
    msh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, n)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    u, v = dolfinx.fem.Function(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(msh)
    exact = ufl.sin(ufl.pi * x[0])
    f = ufl.pi**2 * exact + stiffness * exact**3
    F = (ufl.inner(ufl.grad(u), ufl.grad(v)) + stiffness * u**3 * v - f * v) * ufl.dx
    dofs = dolfinx.fem.locate_dofs_geometrical(
        V, lambda p: np.isclose(p[0], 0) | np.isclose(p[0], 1)
    )
    bc = dolfinx.fem.dirichletbc(0.0, dofs, V)
    u.x.array[:] = 3.0  # far from the solution: several Newton steps
    newton = NewtonSolver(
        F, u, [bc], name="reuse_mms", solver="direct", rtol=1e-12, atol=1e-13, max_it=max_it,
        reuse_jacobian=reuse,
    )  # fmt: skip
    report = newton.solve()
    err = dolfinx.fem.form((u - exact) ** 2 * ufl.dx)
    l2 = float(np.sqrt(dolfinx.fem.assemble_scalar(err)))
    out = (u.x.array.copy(), l2, newton.jacobian_evaluations, newton.jacobian_reuses, report)
    newton.close()
    return out


def test_reuse_gives_plain_newtons_answer_with_fewer_jacobians():
    u0, err0, jac0, reuse0, _ = _mms(None)
    u1, err1, jac1, reuse1, _ = _mms(0.02)
    assert reuse0 == 0 and reuse1 >= 1
    assert jac1 < jac0
    # both converged to 1e-12: same discrete solution, the P1 error (h = 1/200) untouched
    assert np.abs(u1 - u0).max() <= 1e-9
    # P1 L2 error ~ h^2 pi^2 / sqrt(120) = 2.3e-5 for the interpolant; the Galerkin one below it
    assert err1 <= 2.3e-5 and abs(err1 - err0) <= 1e-8


def test_attempt_spoiled_by_reuse_is_repeated_with_fresh_jacobians():
    # theta = 0.9: nearly every step is a chord step (linear convergence); 10 steps cannot reach
    # 1e-12 from u = 3 with a stiff cubic term, plain Newton can (8 steps)
    _, err0, _, _, _ = _mms(None, stiffness=50.0, max_it=6 + 20)
    _, err, _, reuses, report = _mms(0.9, stiffness=50.0, max_it=10)
    assert report.attempts[-1].converged
    assert "fresh Jacobians" in report.attempts[-1].label
    assert reuses >= 1
    assert abs(err - err0) <= 1e-8


def test_reuse_ratio_is_validated():
    for bad in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(InputError, match="reuse_jacobian"):
            _mms(bad, n=4)


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)


@pytest.mark.parametrize("linear_solver", ["lu", "krylov"])
def test_pnp_currents_unchanged_by_reuse(coarse, linear_solver):
    """Cold solve and a warm I-V step: currents equal to 1e-6 relative with and without reuse;
    the Krylov path sets its preconditioner up once per assembled Jacobian only."""
    problem = channel_problem(
        coarse, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1
    )
    plain = SteadyPNPSolver(
        coarse, problem, SolverOptions(linear_solver=linear_solver, reuse_jacobian=None)
    )
    fast = SteadyPNPSolver(coarse, problem, SolverOptions(linear_solver=linear_solver))
    assert fast.options.reuse_jacobian is not None  # the default
    setups = []
    if linear_solver == "krylov":
        pc = fast.preconditioner
        original = pc.setUp
        pc.setUp = lambda p: (setups.append(1), original(p))
        fast.newton.snes.getKSP().getPC().setPythonContext(pc)
    for voltage in (100.0, 125.0, 150.0):
        a, b = plain.solve(voltage), fast.solve(voltage)
        assert abs(b.current - a.current) <= 1e-6 * abs(a.current)
        assert b.conservation_error <= 1e-6
    assert fast.newton.jacobian_reuses >= 1
    assert fast.newton.jacobian_evaluations < plain.newton.jacobian_evaluations
    if linear_solver == "krylov":
        assert len(setups) == fast.newton.jacobian_evaluations
    plain.close()
    fast.close()
