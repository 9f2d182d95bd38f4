"""Repeated Stokes solves with one operator: the flow step of the segregated PNP-Stokes solver.

The Stokes operator of :class:`pnp.solvers.stokes.FlowFields` does not depend on the ions (the
viscosity, the walls and the ends are fixed), only the body force and the end pressures change.
:class:`StokesLinearSolver` therefore assembles the saddle-point matrix and sets up its
preconditioner once, and each :meth:`StokesLinearSolver.solve` costs one residual and one linear
solve of the correction ``(du, dp)`` from the current velocity and pressure:

- ``"lu"``: MUMPS LU, factorised at the first solve; later solves are back-substitutions;
- ``"schur"``: FGMRES with the block upper-triangular preconditioner
  ``[[A, B^T], [0, -M_p/eta]]`` and the pressure mass matrix over the viscosity as the
  spectrally equivalent estimate of the Schur complement ``-B A^-1 B^T`` (Silvester and Wathen,
  SIAM J. Numer. Anal. 31, 1352 (1994); Elman, Silvester and Wathen, *Finite Elements and Fast
  Iterative Solvers*, 2nd ed., ch. 9), Jacobi on it. The velocity block ``A`` (the vector
  Laplacian, with the hoop term on ``u_r`` in axisymmetric runs and the slip friction of walls
  normal to a coordinate axis) does not couple the velocity components, so it is preconditioned
  by one GAMG V-cycle per component (an additive field split by component: the scalar
  Laplacian's multigrid, three times cheaper to build and apply in 3D than a V-cycle on the
  coupled 3x3 blocks). Its assembled matrix stores those blocks in full, with the
  cross-component entries exactly zero (80 % of the entries of the 3D P2 matrix); the operator
  and the preconditioner use a copy without them. The iteration count is bounded independently
  of the mesh size.

In the ``"schur"`` path the residual is ``A x - b`` with the constant assembled ``A`` and the
load ``b`` (body force and end pressures, :meth:`pnp.solvers.stokes.FlowFields.load`), which
is all that is re-assembled per solve. Because the solve is a correction, its relative tolerance
is relative to the current residual: a loose tolerance is enough inside a coupling iteration
that converges at its own rate (an inexact fixed-point iteration).
"""

from __future__ import annotations

from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from pnp.solvers.newton import NewtonSolver
from poreflux.errors import ConvergenceError, InputError

__all__ = ["STOKES_METHODS", "StokesLinearSolver", "drop_zeros", "schur_options"]

#: Linear solvers of :class:`StokesLinearSolver`.
STOKES_METHODS = ("lu", "schur")


def schur_options(gdim: int, rtol: float = 1e-2) -> dict[str, Any]:
    """PETSc options of the ``"schur"`` method (FGMRES, upper Schur factorisation, one GAMG
    V-cycle per velocity component, Jacobi on the pressure mass matrix)."""
    opts: dict[str, Any] = {
        "ksp_type": "fgmres",
        "ksp_rtol": rtol,
        "ksp_atol": 1e-30,
        "ksp_max_it": 500,
        "ksp_gmres_restart": 100,
        "pc_type": "fieldsplit",
        "pc_fieldsplit_type": "schur",
        "pc_fieldsplit_schur_fact_type": "upper",
        "pc_fieldsplit_schur_precondition": "a11",
        "fieldsplit_0_ksp_type": "preonly",
        "fieldsplit_0_pc_type": "fieldsplit",
        "fieldsplit_0_pc_fieldsplit_type": "additive",
        "fieldsplit_0_pc_fieldsplit_block_size": gdim,
        "fieldsplit_1_ksp_type": "preonly",
        "fieldsplit_1_pc_type": "jacobi",
    }
    for k in range(gdim):
        pre = f"fieldsplit_0_fieldsplit_{k}_"
        opts.update({
            f"{pre}ksp_type": "preonly", f"{pre}pc_type": "gamg",
            f"{pre}pc_gamg_threshold": 0.02, f"{pre}mg_levels_ksp_type": "chebyshev",
            f"{pre}mg_levels_pc_type": "jacobi",
        })  # fmt: skip
    return opts


def drop_zeros(M: Any) -> Any:
    """Copy of the AIJ matrix ``M`` without its stored exact zeros (the diagonal is kept), with
    ``M``'s sizes and block size: the same operator, cheaper to apply and to coarsen."""
    indptr, cols, vals = M.getValuesCSR()
    first = M.getOwnershipRange()[0]
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr)) + first
    keep = (vals != 0.0) | (cols == rows)
    counts = np.bincount(rows[keep] - first, minlength=indptr.size - 1)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(PETSc.IntType)
    F = PETSc.Mat().createAIJ(
        M.getSizes(), bsize=M.getBlockSize(), comm=M.getComm(),
        csr=(ptr, cols[keep].astype(PETSc.IntType), vals[keep]),
    )  # fmt: skip
    F.assemble()
    return F


class StokesLinearSolver:
    """Solve the Stokes equations of ``fields`` many times with one assembled operator.

    Parameters
    ----------
    fields
        :class:`pnp.solvers.stokes.FlowFields` (velocity and pressure are updated in place).
    body_force
        UFL force density [MPa/nm] (may depend on coefficients that change between solves, e.g.
        the potential and concentrations of a PNP solver), or ``None``.
    entity_map
        Entity map between the parent mesh and the water sub-mesh.
    method
        ``"lu"`` or ``"schur"`` (see the module docstring).
    rtol
        Default relative tolerance of the ``"schur"`` Krylov solve (relative to the residual of
        the current velocity and pressure); :meth:`solve` takes another per call.
    """

    def __init__(
        self,
        fields: Any,
        body_force: Any,
        entity_map: Any,
        method: str = "lu",
        rtol: float = 1e-2,
    ) -> None:
        if method not in STOKES_METHODS:
            raise InputError(f"stokes method must be one of {STOKES_METHODS}, got {method!r}")
        if not (np.isfinite(rtol) and 0.0 < rtol < 1.0):
            raise InputError(f"the Stokes rtol must be in (0, 1), got {rtol!r}")
        self.fields, self.method, self.entity_map = fields, method, entity_map
        self.rtol = float(rtol)
        unknowns = [fields.velocity, fields.pressure]
        kind = "mpi" if method == "lu" else "nest"
        self.newton = NewtonSolver(
            fields.residuals(body_force), unknowns, fields.bcs(), name="stokes_step",
            solver="direct", symmetric=False, kind=kind, entity_maps=[entity_map], max_it=1,
        )  # fmt: skip
        self._ready = False
        self._objects: list[Any] = []  # PETSc objects of this solver (destroyed by close)
        self.iterations = 0  # Krylov iterations of the last solve (1 for LU)
        if method == "schur":
            self._schur_forms(body_force)

    def _schur_forms(self, body_force: Any) -> None:
        """Compile the load and the pressure mass forms; the KSP of the ``"schur"`` method."""
        fld, emaps = self.fields, [self.entity_map]
        self._load = dolfinx.fem.form(fld.load(body_force), entity_maps=emaps)
        q, r = ufl.TestFunction(fld.Q), ufl.TrialFunction(fld.Q)
        mass = -(1.0 / fld.viscosity) * q * r * fld.measures.weight * fld.dx
        self._mass_form = dolfinx.fem.form(mass, entity_maps=emaps)
        self._b_load = dolfinx.fem.petsc.create_vector(fld.U)
        self._bc_rows = np.unique(np.concatenate(
            [bc.dof_indices()[0][: bc.dof_indices()[1]] for bc in self.newton._bcs]
        ))  # fmt: skip
        self.ksp = PETSc.KSP().create(self.newton.comm)
        self._prefix = f"{self.newton.prefix}schur_"
        self.ksp.setOptionsPrefix(self._prefix)
        opts = PETSc.Options()
        for key, value in schur_options(fld.submesh.geometry.dim, self.rtol).items():
            opts[f"{self._prefix}{key}"] = value
        self._objects += [self.ksp, self._b_load]

    def _set_up(self) -> None:
        """Assemble the constant operator once (``"schur"``: its copy without the zero
        cross-component entries, the pressure mass block and the field split)."""
        p = self.newton.problem
        snes, x = self.newton.snes, p.x
        dolfinx.fem.petsc.assign(self.newton._u, x)
        A, P, _ = snes.getJacobian()
        snes.computeJacobian(x, A, P)
        if self.method == "lu":
            snes.getKSP().setOperators(A, A)
            self._ready = True
            return
        mass = dolfinx.fem.petsc.assemble_matrix(self._mass_form)
        mass.assemble()
        a00 = drop_zeros(A.getNestSubMatrix(0, 0))
        a01, a10 = A.getNestSubMatrix(0, 1), A.getNestSubMatrix(1, 0)
        self._op = PETSc.Mat().createNest([[a00, a01], [a10, None]], comm=A.getComm())
        self._pmat = PETSc.Mat().createNest([[a00, a01], [a10, mass]], comm=A.getComm())
        self._op.assemble()
        self._pmat.assemble()
        self._objects += [mass, a00, self._op, self._pmat]
        self.ksp.setOperators(self._op, self._pmat)
        pc = self.ksp.getPC()
        pc.setType("fieldsplit")
        u_is, p_is = self._pmat.getNestISs()[0]
        pc.setFieldSplitIS(("0", u_is), ("1", p_is))
        self.ksp.setFromOptions()
        self._ready = True

    def _residual(self, x: Any, b: Any) -> None:
        """``b = F(x)``: the assembled residual (``"lu"``) or ``A x - load`` (``"schur"``;
        zero on the Dirichlet rows, whose homogeneous values ``x`` already has)."""
        if self.method == "lu":
            self.newton.snes.computeFunction(x, b)
            return
        bl = self._b_load
        with bl.localForm() as loc:
            loc.set(0.0)
        dolfinx.fem.petsc.assemble_vector(bl, self._load)
        bl.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self._op.mult(x, b)
        bu = b.getNestSubVecs()[0]
        bu.axpy(-1.0, bl)
        bu.array_w[self._bc_rows] = 0.0

    def solve(self, rtol: float | None = None) -> tuple[float, float]:
        """One corrected solve at the current body force and end pressures (``"schur"``: to the
        relative tolerance ``rtol``, default the solver's).

        Returns ``(|du|, |u|)`` (max norms of the velocity correction and of the new velocity,
        nm/ns) for the caller's convergence test.
        """
        if not self._ready:
            self._set_up()
        p = self.newton.problem
        x = p.x
        ksp = self.newton.snes.getKSP() if self.method == "lu" else self.ksp
        if self.method == "schur":
            ksp.setTolerances(rtol=self.rtol if rtol is None else float(rtol))
        dolfinx.fem.petsc.assign(self.newton._u, x)
        u = self.fields.velocity
        before = u.x.array.copy()
        b, dx = p.b, x.duplicate()
        try:
            self._residual(x, b)
            dx.set(0.0)
            ksp.solve(b, dx)
            if ksp.getConvergedReason() < 0:
                raise ConvergenceError(
                    f"Stokes solve failed ({ksp.getConvergedReason()}) after "
                    f"{ksp.getIterationNumber()} iterations",
                    [],
                )
            self.iterations = max(int(ksp.getIterationNumber()), 1)
            x.axpy(-1.0, dx)
            dolfinx.fem.petsc.assign(x, self.newton._u)
        finally:
            dx.destroy()
        self._clear_options()
        for f in self.newton._u:
            f.x.scatter_forward()
        comm = u.function_space.mesh.comm
        return _max_norm(u.x.array - before, comm), _max_norm(u.x.array, comm)

    def _clear_options(self) -> None:
        """Remove this solver's options from PETSc's database once the KSP has read them (at its
        first solve, which sets up the field split's sub-solvers)."""
        if self.method == "schur" and self._prefix is not None:
            opts = PETSc.Options()
            for key in list(opts.getAll()):
                if key.startswith(self._prefix):
                    opts.delValue(key)
            self._prefix = None

    def close(self) -> None:
        """Release the PETSc objects."""
        self._clear_options()
        self.newton.close()
        for obj in self._objects:
            obj.destroy()
        self._objects = []


def _max_norm(a: Any, comm: Any) -> float:
    return float(comm.allreduce(float(np.max(np.abs(a), initial=0.0)), op=MPI.MAX))
