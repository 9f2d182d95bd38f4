"""The large-mesh PB path: lagged GAMG preconditioner and the single cell integral.

Neither may change the discrete solution: a nonlinear PB solve with CG + GAMG (preconditioner
set up once per solve) must reproduce the LU solve of the same equations to the Newton
tolerance, and the equations written as one cell integral (water indicator) must be those of
the two-integral form ``dx`` + ``dx(water)``.
"""

from __future__ import annotations

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import pytest
import ufl
from mpi4py import MPI
from petsc4py import PETSc

import poreflux
from meshes import names
from meshes.sphere import SphereGeometry, build_sphere
from pnp.forms import poisson as forms
from pnp.forms.measures import build_measures
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.solvers.pb import PBSolver
from poreflux.units import E_CHARGE, NM

T = 298.15


@pytest.fixture(scope="module")
def ion():
    """A charged sphere (1.5 e on r = 0.5 nm, e psi/kT ~ 2 at the surface) in 150 mM KCl."""
    cm = build_sphere(
        SphereGeometry(radius=0.5, outer_radius=4.0, h_surface=0.12, h_far=0.8), dim=3
    )
    sigma = 1.5 * E_CHARGE / (build_measures(cm).area(names.SOLUTE_SURFACE) * NM**2)
    es = Electrostatics(
        T,
        {names.SOLUTE: 2.0, names.SOLVENT: 78.5},
        surface_charges=[SurfaceCharge(names.SOLUTE_SURFACE, sigma)],
        dirichlet=[DirichletPotential(names.OUTER, 0.0)],
    )
    return cm, PBProblem(es, poreflux.salt("KCl", 150.0), model="nonlinear")


def _pc_setups() -> int:
    return int(PETSc.Log.Event("PCSetUp").getPerfInfo()["count"])


def test_lagged_gamg_gives_the_lu_solution(ion):
    """Same energy (1e-9) and potential (1e-7 kT/e) as LU; one GAMG set-up per solve."""
    cm, problem = ion
    reference = PBSolver(cm, problem, solver="direct").solve()
    PETSc.Log.begin()
    krylov = PBSolver(cm, problem, solver="iterative")
    assert krylov.lag_preconditioner
    for _ in range(2):  # a second solve builds its own preconditioner once again
        before = _pc_setups()
        sol = krylov.solve()
        assert sol.report.total_newton_iterations >= 3  # nonlinear: several Jacobians
        assert _pc_setups() - before == 1
        assert sol.energy_kT == pytest.approx(reference.energy_kT, rel=1e-9)
        diff = np.max(np.abs(sol.psi.x.array - reference.psi.x.array), initial=0.0)
        assert cm.comm.allreduce(diff, op=MPI.MAX) < 1e-7
    fresh = PBSolver(cm, problem, solver="iterative", lag_preconditioner=False)
    before = _pc_setups()
    sol = fresh.solve()
    assert _pc_setups() - before == sol.report.total_newton_iterations
    krylov.close()
    fresh.close()


def test_lu_is_never_lagged(ion):
    cm, problem = ion
    assert not PBSolver(cm, problem, solver="direct").lag_preconditioner


def test_single_cell_integral_keeps_the_equations(ion):
    """The PB residual is one cell integral, and the two-integral form vanishes at its root."""
    cm, problem = ion
    pb = PBSolver(cm, problem, solver="direct")
    jac = pb.newton.problem.J
    assert jac.num_integrals(dolfinx.fem.IntegralType.cell, 0) == 1
    sol = pb.solve()
    # the residual as written before: stiffness over dx, mobile ions over dx(water)
    v = ufl.TestFunction(pb.V)
    m = build_measures(cm)
    mobile = forms.mobile_charge(sol.psi, (1, -1), pb.bulk, "nonlinear")
    old = forms.pb_residual(
        sol.psi,
        v,
        eps_r=pb.eps_r,
        weight=m.weight,
        dx=m.dx,
        coefficient=pb.coefficient,
        fixed_source=pb.fixed.source(v, m.weight),
        mobile=mobile,
        dx_water=m.region(problem.water(cm), metadata={"quadrature_degree": 2}),
    )
    r_old = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(old))
    r_old.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(r_old, pb.bcs, sol.psi.x.petsc_vec, -1.0)
    size = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(pb.fixed.source(v, m.weight)))
    size.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    scale = pb.coefficient.value * size.norm()
    assert r_old.norm() < 1e-8 * scale
