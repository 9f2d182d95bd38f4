"""Block preconditioner of the PNP-Stokes Newton steps (Krylov path).

FGMRES on the nest Jacobian of ``(psi, ln c_1, ..., ln c_n, u, p~)`` preconditioned by a
multiplicative field split (block Gauss-Seidel) of a preconditioning matrix that equals the
Jacobian except in the pressure-pressure block, where the zero block is replaced by
``-(1/eta) M_p`` (``M_p`` the pressure mass matrix): the classical spectrally equivalent
approximation of the Stokes Schur complement ``-B A^-1 B^T`` (Silvester and Wathen, SIAM J.
Numer. Anal. 31, 1352 (1994); Elman, Silvester and Wathen, *Finite Elements and Fast Iterative
Solvers*, 2nd ed., ch. 9). Each field gets one application of its own preconditioner: a GAMG
V-cycle for the potential, concentrations and the (vector) velocity, Jacobi for the pressure
mass matrix. The preconditioning matrix shares the Jacobian's blocks (no copy): only the mass
block is assembled, once.
"""

from __future__ import annotations

from typing import Any

import dolfinx
import dolfinx.fem.petsc
import ufl
from petsc4py import PETSc

from pnp.solvers.options import fieldsplit_options


def flow_fieldsplit_options(nfields: int, ksp_rtol: float = 1e-8) -> dict[str, Any]:
    """PETSc options: the PNP field split for every field, Jacobi on the last (pressure)."""
    opts = fieldsplit_options(nfields, ksp_rtol)
    last = nfields - 1
    for key in [k for k in opts if k.startswith(f"fieldsplit_{last}_")]:
        del opts[key]
    opts[f"fieldsplit_{last}_ksp_type"] = "preonly"
    opts[f"fieldsplit_{last}_pc_type"] = "jacobi"
    opts["ksp_max_it"] = 1000
    return opts


def pressure_mass_form(solver: Any) -> Any:
    """Compiled ``-(1/eta) int p q weight dx`` on the water (the Schur complement estimate)."""
    fld = solver.flow_fields
    p, q = ufl.TrialFunction(fld.Q), ufl.TestFunction(fld.Q)
    a = -(1.0 / fld.eta) * p * q * solver.measures.weight * solver.dx_water
    return dolfinx.fem.form(a, entity_maps=[solver.entity_map])


def install_flow_fieldsplit(solver: Any) -> None:
    """Give the SNES of a :class:`pnp.solvers.flow.SteadyPNPStokesSolver` the preconditioning
    matrix described in the module docstring (the Jacobian callback is kept)."""
    snes = solver.newton.snes
    A, _, (jfunc, jargs, jkw) = snes.getJacobian()
    # assemble the Jacobian once first: a final assembly of the still empty sub-matrices
    # (through the nest below) would drop their preallocated sparsity
    x = A.createVecRight()
    dolfinx.fem.petsc.assign(solver.newton.problem.u, x)
    jfunc(snes, x, A, A, *jargs, **jkw)
    x.destroy()
    mass = dolfinx.fem.petsc.assemble_matrix(pressure_mass_form(solver))
    mass.assemble()
    forms = solver.newton.problem.J
    n = len(forms)
    blocks = [
        [A.getNestSubMatrix(i, j) if forms[i][j] is not None else None for j in range(n)]
        for i in range(n)
    ]
    blocks[n - 1][n - 1] = mass
    P = PETSc.Mat().createNest(blocks, comm=solver.comm)
    P.assemble()

    def jacobian(snes_: Any, x: Any, Amat: Any, Pmat: Any, *args: Any, **kw: Any) -> None:
        jfunc(snes_, x, Amat, Amat, *args, **kw)
        Pmat.assemble()

    snes.setJacobian(jacobian, A, P, args=jargs, kargs=jkw)
    solver._flow_pc = (P, mass)  # keep the PETSc objects alive with the solver
