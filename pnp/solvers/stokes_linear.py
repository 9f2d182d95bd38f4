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

import itertools
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from pnp.solvers.newton import NewtonSolver
from poreflux.errors import ConvergenceError, InputError

__all__ = [
    "STOKES_METHODS",
    "StokesLinearSolver",
    "assemble_by_component",
    "component_forms",
    "drop_zeros",
    "schur_options",
    "velocity_block_by_component",
]

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


_COUNTER = itertools.count()


def velocity_block_by_component(a00: Any, U: Any, bcs: Any, entity_maps: Any) -> Any:
    """The velocity block of a Stokes operator assembled one component at a time.

    ``a00`` (a UFL bilinear form on the blocked vector space ``U``) must not couple the
    components (the Laplacian form, the axisymmetric hoop term, slip friction on walls normal to
    a coordinate axis); each component's scalar form ``a00(phi e_k, psi e_k)`` is assembled on
    the collapsed sub-space with the Dirichlet rows of that component (diagonal 1) and placed at
    that component's rows and columns of ``U``. The result equals the assembly of ``a00`` on
    ``U`` without its zero cross-component entries (a ninth of the work and of the memory of the
    full 3x3 blocks in 3D). Returns a PETSc AIJ matrix with ``U``'s layout and block size.
    """
    return assemble_by_component(component_forms(a00, U, bcs, entity_maps), U)


def component_forms(a00: Any, U: Any, bcs: Any, entity_maps: Any) -> list[tuple]:
    """Per component ``k`` of ``U``: the compiled scalar form ``a00(phi e_k, psi e_k)``, the
    Dirichlet condition of that component on the collapsed sub-space, and the map from the
    sub-space's local dofs to ``U``'s (unrolled) local dofs (see
    :func:`velocity_block_by_component`)."""
    test, trial = a00.arguments()
    imap, bs = U.dofmap.index_map, U.dofmap.index_map_bs
    bc_dofs = [bc.dof_indices()[0] for bc in bcs]
    out = []
    for k in range(bs):
        Vk, mk = U.sub(k).collapse()
        mk = np.asarray(mk, dtype=np.int64).reshape(-1)
        phi, psi = ufl.TrialFunction(Vk), ufl.TestFunction(Vk)
        unit = [ufl.as_vector([f if i == k else 0 for i in range(bs)]) for f in (phi, psi)]
        form = dolfinx.fem.form(
            ufl.replace(a00, {trial: unit[0], test: unit[1]}), entity_maps=entity_maps
        )
        inv = np.full(bs * (imap.size_local + imap.num_ghosts), -1, dtype=np.int64)
        inv[mk] = np.arange(mk.size)
        mine = np.concatenate([inv[d] for d in bc_dofs]) if bc_dofs else np.zeros(0, np.int64)
        bck = dolfinx.fem.dirichletbc(
            PETSc.ScalarType(0.0), np.unique(mine[mine >= 0]).astype(np.int32), Vk
        )
        out.append((form, bck, mk))
    return out


def assemble_by_component(parts: list[tuple], U: Any) -> Any:
    """Assemble the :func:`component_forms` into one PETSc AIJ matrix on ``U``."""
    imap, bs = U.dofmap.index_map, U.dofmap.index_map_bs
    n_own = bs * imap.size_local
    rows, cols, vals = [], [], []
    for form, bck, mk in parts:
        Lk = dolfinx.fem.assemble_matrix(form, bcs=[bck])
        Lk.scatter_reverse()
        nk = form.function_spaces[0].dofmap.index_map.size_local
        ptr = np.asarray(Lk.indptr[: nk + 1])
        rows.append(np.repeat(mk[:nk], np.diff(ptr)))
        cols.append(_parent_columns(Lk, mk[:nk], imap, bs)[np.asarray(Lk.indices[: ptr[-1]])])
        vals.append(np.asarray(Lk.data[: ptr[-1]]))
    rows, cols, vals = (np.concatenate(a) for a in (rows, cols, vals))
    keep = (vals != 0.0) | (cols == rows + bs * imap.local_range[0])
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.lexsort((cols, rows))
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_own))])
    n_glob = bs * imap.size_global
    A = PETSc.Mat().createAIJ(
        ((n_own, n_glob), (n_own, n_glob)), bsize=bs, comm=U.mesh.comm,
        csr=(ptr.astype(PETSc.IntType), cols[order].astype(PETSc.IntType), vals[order]),
    )  # fmt: skip
    A.assemble()
    return A


def _parent_columns(Lk: Any, owned: np.ndarray, imap: Any, bs: int) -> np.ndarray:
    """Global (unrolled) dof of the vector space for every local column of a component matrix.

    The matrix's column map is the sub-space's with the extra ghost columns that assembly on
    other ranks contributed; the owners send their numbers (exact in float64 below 2**53).
    """
    cmap = Lk.index_map(1)
    numbers = dolfinx.la.vector(cmap, 1, dtype=np.float64)
    numbers.array[: owned.size] = bs * imap.local_to_global((owned // bs).astype(np.int32))
    numbers.array[: owned.size] += owned % bs
    numbers.scatter_forward()
    return np.rint(numbers.array).astype(np.int64)


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
        self._u = [fields.velocity, fields.pressure]
        self._bcs = fields.bcs()
        self._ready = False
        self._objects: list[Any] = []  # PETSc objects of this solver (destroyed by close)
        self.iterations = 0  # Krylov iterations of the last solve (1 for LU)
        self.newton: Any = None
        if method == "lu":
            self.newton = NewtonSolver(
                fields.residuals(body_force), self._u, self._bcs, name="stokes_step",
                solver="direct", symmetric=False, kind="mpi", entity_maps=[entity_map],
                max_it=1,
            )  # fmt: skip
            self._x, self._b = self.newton.problem.x, self.newton.problem.b
        else:
            self._schur_forms(body_force)

    def _schur_forms(self, body_force: Any) -> None:
        """Compile the operator blocks, the load and the pressure mass forms; the vectors and
        the KSP of the ``"schur"`` method."""
        fld, emaps = self.fields, [self.entity_map]
        F_mom, F_cont = fld.residuals(body_force)
        du, dp = ufl.TrialFunction(fld.U), ufl.TrialFunction(fld.Q)
        self._a00 = ufl.derivative(F_mom, fld.velocity, du)
        self._a00_parts = component_forms(self._a00, fld.U, self._bcs, emaps)
        self._a01 = dolfinx.fem.form(ufl.derivative(F_mom, fld.pressure, dp), entity_maps=emaps)
        self._a10 = dolfinx.fem.form(ufl.derivative(F_cont, fld.velocity, du), entity_maps=emaps)
        self._load = dolfinx.fem.form(fld.load(body_force), entity_maps=emaps)
        q, r = ufl.TestFunction(fld.Q), ufl.TrialFunction(fld.Q)
        mass = -(1.0 / fld.viscosity) * q * r * fld.measures.weight * fld.dx
        self._mass_form = dolfinx.fem.form(mass, entity_maps=emaps)
        self._b_load = dolfinx.fem.petsc.create_vector(fld.U)
        self._x = dolfinx.fem.petsc.create_vector([fld.U, fld.Q], kind="nest")
        self._b = dolfinx.fem.petsc.create_vector([fld.U, fld.Q], kind="nest")
        self._bc_rows = np.unique(np.concatenate(
            [bc.dof_indices()[0][: bc.dof_indices()[1]] for bc in self._bcs]
        ))  # fmt: skip
        self.ksp = PETSc.KSP().create(fld.submesh.comm)
        self._prefix = f"poreflux_stokes_schur_{next(_COUNTER)}_"
        self.ksp.setOptionsPrefix(self._prefix)
        opts = PETSc.Options()
        for key, value in schur_options(fld.submesh.geometry.dim, self.rtol).items():
            opts[f"{self._prefix}{key}"] = value
        self._objects += [self.ksp, self._b_load, self._x, self._b]

    def _set_up(self) -> None:
        """Assemble the constant operator once (``"schur"``: the velocity block by component,
        the pressure mass block and the field split)."""
        if self.method == "lu":
            snes, x = self.newton.snes, self._x
            dolfinx.fem.petsc.assign(self._u, x)
            A, P, _ = snes.getJacobian()
            snes.computeJacobian(x, A, P)
            snes.getKSP().setOperators(A, A)
            self._ready = True
            return
        fld = self.fields
        a00 = assemble_by_component(self._a00_parts, fld.U)
        mats = [dolfinx.fem.petsc.assemble_matrix(f, bcs=self._bcs) for f in
                (self._a01, self._a10, self._mass_form)]  # fmt: skip
        for m in mats:
            m.assemble()
        a01, a10, mass = mats
        comm = fld.submesh.comm
        self._op = PETSc.Mat().createNest([[a00, a01], [a10, None]], comm=comm)
        self._pmat = PETSc.Mat().createNest([[a00, a01], [a10, mass]], comm=comm)
        self._op.assemble()
        self._pmat.assemble()
        self._objects += [a00, *mats, self._op, self._pmat]
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
        x = self._x
        ksp = self.newton.snes.getKSP() if self.method == "lu" else self.ksp
        if self.method == "schur":
            ksp.setTolerances(rtol=self.rtol if rtol is None else float(rtol))
        dolfinx.fem.petsc.assign(self._u, x)
        u = self.fields.velocity
        before = u.x.array.copy()
        b, dx = self._b, x.duplicate()
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
            dolfinx.fem.petsc.assign(x, self._u)
        finally:
            dx.destroy()
        self._clear_options()
        for f in self._u:
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
        if self.newton is not None:
            self.newton.close()
        for obj in self._objects:
            obj.destroy()
        self._objects = []


def _max_norm(a: Any, comm: Any) -> float:
    return float(comm.allreduce(float(np.max(np.abs(a), initial=0.0)), op=MPI.MAX))
