"""Jacobian blocks assembled through DOLFINx's CSR matrix and handed to PETSc as COO values.

:class:`pnp.solvers.csr_assembly.CSRAssembler` must give the matrix of DOLFINx's PETSc assembler
(``dolfinx.fem.petsc.assemble_matrix``: Dirichlet rows and columns zeroed, 1 on the diagonal of a
diagonal block) to rounding, for the forms of a PNP Jacobian (mixed-dimensional blocks between
the whole mesh and the water sub-mesh included); a PNP solve with it must give the currents of
the per-element PETSc path to the Newton tolerance. Two ranks: ``tests/mpi_scripts``.
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
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.solvers.csr_assembly import CSRAssembler
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import InputError


def _difference(form, bcs, asm_mat=None):
    """``|A_csr - A_petsc|_F / |A_petsc|_F`` of one form (and the CSR matrix's nonzeros)."""
    ref = dolfinx.fem.petsc.assemble_matrix(form, bcs=bcs, diag=1.0)
    ref.assemble()
    asm = CSRAssembler(form, asm_mat)
    B = asm.assemble(bcs, diag=1.0)
    D = ref.copy()
    D.axpy(-1.0, B, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
    ref_norm = ref.norm()
    rel = D.norm() / max(ref_norm, 1e-300)
    nz = (B.getInfo()["nz_used"], ref.getInfo()["nz_used"])
    for m in (ref, D):
        m.destroy()
    asm.destroy()
    return rel, ref_norm, nz


def test_poisson_matrix_with_dirichlet_rows_equals_petsc_assembly():
    msh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 12, 9)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(msh)
    a = dolfinx.fem.form((1 + x[0] ** 2) * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx)
    dofs = dolfinx.fem.locate_dofs_geometrical(V, lambda p: np.isclose(p[0], 0.0))
    bc = dolfinx.fem.dirichletbc(0.0, dofs, V)
    rel, norm, (nz_csr, nz_ref) = _difference(a, [bc])
    assert norm > 1.0
    assert rel <= 1e-14  # the same element matrices, summed in another order at most
    assert nz_csr == nz_ref
    # reassembly after a coefficient change: values replaced, not added
    c = dolfinx.fem.Constant(msh, PETSc.ScalarType(2.0))
    a2 = dolfinx.fem.form(c * u * v * ufl.dx)
    asm = CSRAssembler(a2)
    first = asm.assemble().norm()
    second = asm.assemble().norm()
    c.value = 4.0
    third = asm.assemble().norm()
    asm.destroy()
    assert abs(second - first) <= 1e-14 * first
    assert abs(third - 2 * first) <= 1e-13 * first


@pytest.fixture(scope="module")
def channel():
    # 2D axisymmetric: the same mixed-dimensional blocks (mesh <-> water sub-mesh) as in 3D
    return build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)


@pytest.mark.parametrize("model", ["point", "steric"])
def test_every_pnp_jacobian_block_equals_petsc_assembly(channel, model):
    extra = {} if model == "point" else {"ion_model": "steric", "ion_size": 0.5}
    problem = channel_problem(
        channel, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1, **extra
    )
    solver = SteadyPNPSolver(channel, problem, SolverOptions(linear_solver="krylov"))
    solver.solve()  # Jacobian at a converged, current-carrying state (all blocks nonzero)
    newton = solver.newton
    A = newton.problem.A
    nonzero = 0
    for i, row in enumerate(newton.problem.J):
        for j, form in enumerate(row):
            if form is None:
                continue
            sub = A.getNestSubMatrix(i, j).duplicate()
            rel, norm, _ = _difference(form, newton._bcs, sub)
            sub.destroy()
            nonzero += norm > 0
            assert rel <= 1e-13, (i, j, rel)
    # point ions: Poisson, 2 x (Poisson <- c, NP <- psi, NP <- c); steric adds the 2 cross blocks
    assert nonzero == (7 if model == "point" else 9)
    solver.close()


def test_pnp_currents_equal_the_per_element_petsc_path(channel):
    problem = channel_problem(
        channel, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1
    )
    out = {}
    for csr in (True, False):
        solver = SteadyPNPSolver(
            channel, problem, SolverOptions(linear_solver="krylov", csr_assembly=csr)
        )
        cold = solver.solve()
        warm = solver.solve(125.0)
        out[csr] = (cold.current, warm.current, cold.newton_iterations)
        assert bool(solver.newton._assemblers) == csr
        solver.close()
    (c1, w1, n1), (c0, w0, n0) = out[True], out[False]
    # Newton rtol 1e-8 on the residual: the currents agree far below the 1e-6 asked for
    assert abs(c1 - c0) <= 1e-7 * abs(c0)
    assert abs(w1 - w0) <= 1e-7 * abs(w0)
    assert n1 == n0


def test_bad_matrix_layout_and_vector_spaces_are_rejected():
    msh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 4, 4)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    V2 = dolfinx.fem.functionspace(msh, ("Lagrange", 2))
    a2 = dolfinx.fem.form(ufl.TrialFunction(V2) * ufl.TestFunction(V2) * ufl.dx)
    wrong = dolfinx.fem.petsc.create_matrix(
        dolfinx.fem.form(ufl.TrialFunction(V) * ufl.TestFunction(V) * ufl.dx)
    )
    with pytest.raises(InputError, match="local sizes"):
        CSRAssembler(a2, wrong)
    wrong.destroy()
    W = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (2,)))
    aw = dolfinx.fem.form(ufl.inner(ufl.TrialFunction(W), ufl.TestFunction(W)) * ufl.dx)
    assert V.dofmap.index_map_bs == 1
    with pytest.raises(InputError, match="block size 1"):
        CSRAssembler(aw)
