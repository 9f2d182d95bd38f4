"""The Stokes step of the segregated PNP-Stokes solver (:mod:`pnp.solvers.stokes_linear`, the
``"schur"`` Krylov method) against analytic flows and the direct solve.

- square duct (3D, no-slip): the iterated Krylov corrections reach the MUMPS solution of the same
  discrete problem (flow rate within 1e-8) and the Fourier-series flow rate (0.5 %), with at most
  40 FGMRES iterations per 1e-4 reduction of the residual;
- Navier slip in a cylinder (2D axisymmetric: hoop term on ``u_r``, slip friction on the wall):
  ``Q = Q_P (1 + 4 b / a)`` within 0.5 % (the per-component multigrid is exact for these blocks);
- the residual ``A x - load`` of the Krylov path equals the assembled Stokes residual (1e-12
  relative) for a body force and end pressures, at a velocity and pressure that satisfy the wall
  conditions;
- the velocity block assembled by component
  (:func:`pnp.solvers.stokes_linear.velocity_block_by_component`) and the full block without its
  zeros (:func:`pnp.solvers.stokes_linear.drop_zeros`) are the assembled 3D P2 block (products
  equal to 1e-13) with the same entries, fewer than half of the full block's.
"""

from __future__ import annotations

import math

import dolfinx.fem.petsc
import numpy as np
import pytest
import ufl
from petsc4py import PETSc
from test_stokes import ETA, cylinder, poiseuille_rate, square_duct

from pnp.problems.flow import FlowProblem
from pnp.solvers.stokes import StokesSolver
from pnp.solvers.stokes_linear import (
    StokesLinearSolver,
    drop_zeros,
    velocity_block_by_component,
)
from poreflux.errors import InputError


def _iterate(lin: StokesLinearSolver, tol: float = 1e-11, max_solves: int = 10) -> list[int]:
    """Krylov corrections at rtol 1e-4 until the velocity changes by < tol of its size."""
    its = []
    for _ in range(max_solves):
        change, size = lin.solve(1e-4)
        its.append(lin.iterations)
        if change <= tol * size:
            return its
    raise AssertionError(f"no convergence: {its}")


def test_schur_duct_3d_equals_direct():
    w, L, dp = 1.0, 2.0, 1e6
    cm = square_duct(w, L, 6, 4)
    direct = StokesSolver(cm, FlowProblem(dp, viscosity_mPa_s=ETA))
    direct.solve()
    q_lu = direct.flow_rate()
    fld = direct.fields
    fld.velocity.x.array[:] = 0.0
    fld.pressure.x.array[:] = 0.0
    lin = StokesLinearSolver(fld, None, direct.entity_map, "schur")
    try:
        its = _iterate(lin)
    finally:
        lin.close()
    q = direct.flow_rate()
    assert abs(q / q_lu - 1) < 1e-8, (q, q_lu)
    n = np.arange(1, 200, 2)
    series = 1 - 192 / np.pi**5 * np.sum(np.tanh(n * np.pi / 2) / n**5)
    expected = w**4 * (dp * 1e-6 / L) / (12 * ETA) * series
    assert abs(q / expected - 1) < 5e-3, (q, expected)
    assert max(its) <= 40, its


def test_schur_navier_slip_cylinder():
    a, L, dp, b = 1.0, 2.0, 1e6, 0.3
    solver = StokesSolver(
        cylinder(a, L, 8, 8), FlowProblem(dp, viscosity_mPa_s=ETA, slip_length_nm=b)
    )
    fld = solver.fields
    fld.set_pressure_difference(dp)
    lin = StokesLinearSolver(fld, None, solver.entity_map, "schur")
    try:
        _iterate(lin)
    finally:
        lin.close()
    expected = poiseuille_rate(dp, a, L) * (1 + 4 * b / a)
    assert abs(solver.flow_rate() / expected - 1) < 5e-3


def test_residual_is_operator_minus_load():
    cm = cylinder(1.0, 4.0, 6, 12)
    solver = StokesSolver(cm, FlowProblem(1e5, viscosity_mPa_s=ETA))
    fld = solver.fields
    fld.set_pressure_difference(3e5, offset_mpa=0.2)
    x = ufl.SpatialCoordinate(cm.mesh)
    force = ufl.as_vector((ufl.sin(x[1]) * x[0], 0.3 + x[0] * x[1]))
    lin = StokesLinearSolver(fld, force, solver.entity_map, "schur")
    try:
        rng = np.random.default_rng(3)
        fld.velocity.x.array[:] = rng.standard_normal(fld.velocity.x.array.size)
        fld.pressure.x.array[:] = rng.standard_normal(fld.pressure.x.array.size)
        for bc in fld.bcs():  # the Krylov path's iterates satisfy the wall conditions
            bc.set(fld.velocity.x.array, alpha=0.0)
        lin._set_up()
        forms = [dolfinx.fem.form(F, entity_maps=[solver.entity_map]) for F in fld.residuals(force)]
        refs = [dolfinx.fem.petsc.assemble_vector(f) for f in forms]
        for r in refs:
            r.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        refs[0].array_w[lin._bc_rows] = 0.0  # (Dirichlet rows: x - g = 0)
        dolfinx.fem.petsc.assign([fld.velocity, fld.pressure], lin._x)
        lin._residual(lin._x, lin._b)
        for r, o in zip(refs, lin._b.getNestSubVecs(), strict=True):
            scale = max(r.norm(), 1e-300)
            assert (o - r).norm() < 1e-12 * scale, ((o - r).norm(), scale)
            r.destroy()
    finally:
        lin.close()


def test_velocity_block_by_component():
    """Per-component assembly = the full vector assembly (3D, no-slip walls), minus zeros."""
    solver = StokesSolver(square_duct(1.0, 2.0, 3, 3), FlowProblem(1e5))
    fld = solver.fields
    F_mom = fld.residuals(None)[0]
    a00 = ufl.derivative(F_mom, fld.velocity, ufl.TrialFunction(fld.U))
    emaps = [solver.entity_map]
    full = dolfinx.fem.petsc.assemble_matrix(
        dolfinx.fem.form(a00, entity_maps=emaps), bcs=fld.bcs()
    )
    full.assemble()
    parts = velocity_block_by_component(a00, fld.U, fld.bcs(), emaps)
    dropped = drop_zeros(full)
    v = full.createVecRight()
    v.setRandom()
    ys = [full.createVecLeft() for _ in range(3)]
    for M, y in zip((full, parts, dropped), ys, strict=True):
        M.mult(v, y)
    for y in ys[1:]:
        assert (y - ys[0]).norm() <= 1e-13 * ys[0].norm()
    assert parts.getBlockSize() == dropped.getBlockSize() == 3
    kept = parts.getInfo()["nz_used"] / full.getInfo()["nz_used"]
    assert kept < 0.5, kept
    assert parts.getInfo()["nz_used"] == dropped.getInfo()["nz_used"]
    for obj in (full, parts, dropped, v, *ys):
        obj.destroy()


def test_stokes_linear_inputs():
    solver = StokesSolver(cylinder(1.0, 2.0, 2, 2), FlowProblem(1e5))
    with pytest.raises(InputError, match="method"):
        StokesLinearSolver(solver.fields, None, solver.entity_map, "cg")
    with pytest.raises(InputError, match="rtol"):
        StokesLinearSolver(solver.fields, None, solver.entity_map, "schur", math.nan)
