"""Repeated Stokes solves with one operator: the flow step of the segregated PNP-Stokes solver.

The Stokes operator of :class:`pnp.solvers.stokes.FlowFields` does not depend on the ions (the
viscosity, the walls and the ends are fixed), only the body force and the end pressures change.
:class:`StokesLinearSolver` therefore assembles the saddle-point matrix and sets up its
preconditioner once, and each :meth:`StokesLinearSolver.solve` costs one residual assembly and one
linear solve of the correction ``(du, dp)`` from the current velocity and pressure:

- ``"lu"``: MUMPS LU, factorised at the first solve; later solves are back-substitutions;
- ``"schur"``: FGMRES with the block upper-triangular preconditioner
  ``[[A, B^T], [0, -M_p/eta]]``: one GAMG V-cycle on the velocity block ``A`` (the vector
  Laplacian; with the hoop term in axisymmetric runs) and Jacobi on the pressure mass matrix over
  the viscosity, the spectrally equivalent estimate of the Schur complement ``-B A^-1 B^T``
  (Silvester and Wathen, SIAM J. Numer. Anal. 31, 1352 (1994); Elman, Silvester and Wathen,
  *Finite Elements and Fast Iterative Solvers*, 2nd ed., ch. 9). The iteration count is bounded
  independently of the mesh size.

Because the solve is a correction, its relative tolerance is relative to the current residual: a
loose tolerance near the coupled solution is enough (inexact fixed-point iteration).
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

__all__ = ["STOKES_METHODS", "StokesLinearSolver", "schur_options"]

#: Linear solvers of :class:`StokesLinearSolver`.
STOKES_METHODS = ("lu", "schur")


def schur_options(rtol: float = 1e-8) -> dict[str, Any]:
    """PETSc options of the ``"schur"`` method (FGMRES, upper Schur factorisation)."""
    return {
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
        "fieldsplit_0_pc_type": "gamg",
        "fieldsplit_0_pc_gamg_threshold": 0.02,
        "fieldsplit_0_mg_levels_ksp_type": "chebyshev",
        "fieldsplit_0_mg_levels_pc_type": "jacobi",
        "fieldsplit_1_ksp_type": "preonly",
        "fieldsplit_1_pc_type": "jacobi",
    }


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
        Relative tolerance of the ``"schur"`` Krylov solve (relative to the correction's
        right-hand side).
    """

    def __init__(
        self,
        fields: Any,
        body_force: Any,
        entity_map: Any,
        method: str = "lu",
        rtol: float = 1e-8,
    ) -> None:
        if method not in STOKES_METHODS:
            raise InputError(f"stokes method must be one of {STOKES_METHODS}, got {method!r}")
        self.fields, self.method, self.entity_map = fields, method, entity_map
        unknowns = [fields.velocity, fields.pressure]
        if method == "lu":
            kind, solver, petsc = "mpi", "direct", {}
        else:
            kind, solver, petsc = "nest", "iterative", schur_options(rtol)
        self.newton = NewtonSolver(
            fields.residuals(body_force), unknowns, fields.bcs(), name="stokes_step",
            solver=solver, symmetric=False, petsc_options=petsc, kind=kind,
            entity_maps=[entity_map], max_it=1,
        )  # fmt: skip
        self._ready = False
        self._mass: Any = None
        self.iterations = 0  # Krylov iterations of the last solve (1 for LU)

    def _set_up(self) -> None:
        """Assemble the constant operator (and the pressure mass block) once."""
        p = self.newton.problem
        snes, x = self.newton.snes, p.x
        dolfinx.fem.petsc.assign(self.newton._u, x)
        A, P, _ = snes.getJacobian()
        snes.computeJacobian(x, A, P)
        ksp = snes.getKSP()
        if self.method == "schur":
            fld = self.fields
            q, r = ufl.TestFunction(fld.Q), ufl.TrialFunction(fld.Q)
            form = dolfinx.fem.form(
                -(1.0 / fld.viscosity) * q * r * fld.measures.weight * fld.dx,
                entity_maps=[self.entity_map],
            )
            self._mass = dolfinx.fem.petsc.assemble_matrix(form)
            self._mass.assemble()
            blocks = [[A.getNestSubMatrix(0, 0), A.getNestSubMatrix(0, 1)],
                      [A.getNestSubMatrix(1, 0), self._mass]]  # fmt: skip
            self._P = PETSc.Mat().createNest(blocks, comm=A.getComm())
            self._P.assemble()
            ksp.setOperators(A, self._P)
        else:
            ksp.setOperators(A, A)
        self._ready = True  # (set up at the first solve: KSP work vectors like the nest b, x)

    def solve(self) -> tuple[float, float]:
        """One corrected solve at the current body force and end pressures.

        Returns ``(|du|, |u|)`` (max norms of the velocity correction and of the new velocity,
        nm/ns) for the caller's convergence test.
        """
        if not self._ready:
            self._set_up()
        p = self.newton.problem
        snes, ksp, x = self.newton.snes, self.newton.snes.getKSP(), p.x
        dolfinx.fem.petsc.assign(self.newton._u, x)
        u = self.fields.velocity
        before = u.x.array.copy()
        b, dx = p.b, x.duplicate()
        try:
            snes.computeFunction(x, b)
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
        for f in self.newton._u:
            f.x.scatter_forward()
        comm = u.function_space.mesh.comm
        return _max_norm(u.x.array - before, comm), _max_norm(u.x.array, comm)

    def close(self) -> None:
        """Release the PETSc objects."""
        self.newton.close()
        for obj in (self._mass, getattr(self, "_P", None)):
            if obj is not None:
                obj.destroy()


def _max_norm(a: Any, comm: Any) -> float:
    return float(comm.allreduce(float(np.max(np.abs(a), initial=0.0)), op=MPI.MAX))
