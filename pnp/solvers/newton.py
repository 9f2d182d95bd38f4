"""Newton solves through PETSc SNES, with residual histories, checks and continuation.

:class:`NewtonSolver` wraps :class:`dolfinx.fem.petsc.NonlinearProblem` with

- a unique ``petsc_options_prefix`` per instance (``poreflux_<name>_<n>_``), so options never leak
  between problems;
- SNES ``newtonls`` with a backtracking (``bt``) line search;
- a linear solver chosen by size: MUMPS LU for small or 2D problems, Krylov (CG for symmetric,
  GMRES otherwise) + GAMG for large ones (``solver="auto"``), overridable with PETSc options;
- the converged reason checked after every solve and the iterate checked for NaN/inf;
- residual history, Newton and linear iteration counts and assembly / solve timings;
- optional Jacobian reuse (``reuse_jacobian``): in the fast (quadratic) phase of Newton's method
  the Jacobian and its preconditioner of the previous step are kept for the next one (chord
  steps of the Shamanskii kind), decided from the measured residual reduction;
- continuation: when the direct solve fails, a path of :class:`ContinuationParameter` (each a
  ``dolfinx.fem.Constant`` ramped from ``start`` to ``target``) is followed with adaptive steps
  from the last converged state; if that fails too, :class:`~poreflux.errors.ConvergenceError` is
  raised with every attempt's residual history. The solution function is then restored to the
  initial guess, so a NaN field is never left behind.
"""

from __future__ import annotations

import itertools
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from pnp.solvers.csr_assembly import CSRAssembler, scalar_spaces
from poreflux.errors import ConvergenceError, InputError, SolveAttempt

logger = logging.getLogger(__name__)

_COUNTER = itertools.count()

#: dofs (global) below which ``solver="auto"`` picks LU in 3D.
AUTO_DIRECT_MAX_DOFS_3D = 30_000
#: dofs (global) below which ``solver="auto"`` picks LU in 2D.
AUTO_DIRECT_MAX_DOFS_2D = 400_000

_REASONS = {int(v): k for k, v in PETSc.SNES.ConvergedReason.__dict__.items() if k.isupper()}


def direct_options() -> dict[str, Any]:
    """PETSc options of the direct linear solver (MUMPS LU)."""
    return {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}


def iterative_options(symmetric: bool = True, rtol: float = 1e-9) -> dict[str, Any]:
    """PETSc options of the Krylov + GAMG linear solver (CG if ``symmetric`` else GMRES).

    The Newton steps use Eisenstat-Walker forcing terms (``snes_ksp_ew``): loose Krylov
    tolerances far from the solution, tight ones near it (measured on the 2D channel at 1e5
    dofs: 3.4 instead of 13 CG iterations per Newton step, same Newton iterations and energy to
    1e-10). ``rtol`` caps the Krylov tolerance. GAMG reuses its prolongators between Newton
    steps (same sparsity, moderately changed coefficients), so later set-ups are Galerkin
    products only.
    """
    return {
        "snes_ksp_ew": True,
        # forcing terms start and stay at <= 1e-2: PETSc's default (0.3, 0.9) gave directions so
        # inexact that the backtracking line search failed at every step on a 3D solvated ion
        # (5e4 dofs, radius 0.4 nm in 0.15 M salt); at 1e-2 it takes 4 Newton steps
        "snes_ksp_ew_rtol0": 1e-2,
        "snes_ksp_ew_rtolmax": 1e-2,
        "ksp_type": "cg" if symmetric else "gmres",
        "ksp_rtol": rtol,
        "ksp_atol": 1e-14,
        "ksp_max_it": 1000,
        "pc_type": "gamg",
        "pc_gamg_type": "agg",
        "pc_gamg_agg_nsmooths": 1,
        "pc_gamg_threshold": 0.01,
        "pc_gamg_reuse_interpolation": True,
        "mg_levels_ksp_type": "chebyshev",
        "mg_levels_pc_type": "jacobi",
    }


@dataclass(frozen=True)
class ContinuationParameter:
    """A ``dolfinx.fem.Constant`` ramped linearly from ``start`` to ``target`` (t = 0 -> 1).

    ``target`` and ``start`` may be floats or arrays matching the constant's shape.
    """

    constant: Any
    target: Any
    start: Any = 0.0
    name: str = "parameter"

    def set(self, t: float) -> None:
        """Set the constant to ``start + t (target - start)``."""
        value = np.asarray(self.start) + t * (np.asarray(self.target) - np.asarray(self.start))
        self.constant.value = value


@dataclass(frozen=True)
class NewtonReport:
    """Outcome of :meth:`NewtonSolver.solve` (the last, successful attempt and the history)."""

    iterations: int
    linear_iterations: int
    residuals: tuple[float, ...]
    attempts: tuple[SolveAttempt, ...]
    continued: bool
    linear_solver: str
    assembly_time: float
    solve_time: float
    pc_setup_time: float
    wall_time: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def linear_iterations_per_step(self) -> float:
        """Krylov iterations per Newton step (1 for LU) over all attempts."""
        steps = sum(a.iterations for a in self.attempts)
        return self.linear_iterations / max(steps, 1)

    @property
    def total_newton_iterations(self) -> int:
        """Newton iterations summed over all attempts (including continuation)."""
        return sum(a.iterations for a in self.attempts)


def _check_settings(
    solver: str, rtol: float, atol: float, max_it: int, reuse_jacobian: float | None
) -> None:
    """Raise :class:`InputError` for invalid :class:`NewtonSolver` settings."""
    if solver not in ("auto", "direct", "iterative"):
        raise InputError(f"solver must be 'auto', 'direct' or 'iterative', got {solver!r}")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"Newton {label} must be > 0, got {value!r}")
    if int(max_it) < 1:
        raise InputError(f"Newton max_it must be >= 1, got {max_it!r}")
    if reuse_jacobian is not None and not (np.isfinite(reuse_jacobian) and 0 < reuse_jacobian < 1):
        raise InputError(
            f"reuse_jacobian must be None or a ratio in (0, 1), got {reuse_jacobian!r}"
        )


def _as_list(u: Any) -> list[Any]:
    return list(u) if isinstance(u, (list, tuple)) else [u]


def _weak_monitor(solver: Any) -> Any:
    """SNES monitor recording residual norms in ``solver._history`` (``solver`` a weak proxy)."""

    def monitor(_snes: Any, _it: int, norm: float) -> None:
        solver._history.append(float(norm))

    return monitor


class NewtonSolver:
    """Newton's method for ``F(u; v) = 0`` with PETSc SNES.

    Parameters
    ----------
    F
        Residual UFL form (or list of forms for a block problem).
    u
        Unknown function (or list of functions).
    bcs
        Dirichlet boundary conditions.
    J
        Jacobian form(s); derived automatically when ``None``.
    name
        Short label used in the options prefix and messages.
    solver
        ``"auto"``, ``"direct"`` or ``"iterative"``.
    symmetric
        The Jacobian is symmetric positive definite (PB): CG instead of GMRES when iterative.
    petsc_options
        Extra SNES/KSP/PC options (without prefix); they override the defaults.
    rtol, atol, max_it
        SNES relative / absolute residual tolerances and iteration limit.
    kind, entity_maps, form_compiler_options
        Passed to :class:`dolfinx.fem.petsc.NonlinearProblem`.
    profile
        Record the PETSc ``PCSetUp`` time (enables PETSc logging).
    constant_blocks
        ``(i, j)`` blocks of a nest Jacobian (``kind="nest"``) that do not depend on ``u``: they
        are assembled at the first Jacobian evaluation and kept (e.g. the Poisson block of PNP,
        ``-div(eps grad)``, whose re-assembly was a fifth of each 3D Newton step).
    reuse_jacobian
        ``None`` (default): a new Jacobian at every Newton step. A ratio ``theta`` in (0, 1):
        keep the last Jacobian, its factorisation or preconditioner for the next step when the
        last step reduced the residual norm by at least ``1/theta`` (``|F_k| <= theta
        |F_{k-1}|``; also across a :meth:`chord_step` predictor). Near the solution the
        Jacobian changes by ``O(|du|)``, so such a chord step contracts the error nearly as a
        Newton step does at the cost of one residual and one linear solve (Shamanskii's method
        with an adaptive refresh; C. T. Kelley, *Solving Nonlinear Equations with Newton's
        Method*, SIAM 2003, sec. 2.3 and 2.7). An attempt that fails after reusing is retried
        once with a new Jacobian at every step, so reuse never costs robustness.
    csr_assembly
        Assemble the blocks of a nest Jacobian (``kind="nest"``, scalar spaces) through DOLFINx's
        CSR matrix and hand the values to PETSc in one COO call
        (:class:`pnp.solvers.csr_assembly.CSRAssembler`) instead of per-element PETSc insertion:
        the same matrix, assembled faster.
    """

    def __init__(
        self,
        F: Any,
        u: Any,
        bcs: Sequence[Any] = (),
        *,
        J: Any = None,
        name: str = "newton",
        solver: str = "auto",
        symmetric: bool = True,
        petsc_options: dict[str, Any] | None = None,
        rtol: float = 1e-10,
        atol: float = 1e-10,
        max_it: int = 50,
        kind: Any = None,
        entity_maps: Any = None,
        form_compiler_options: dict[str, Any] | None = None,
        profile: bool = False,
        constant_blocks: Sequence[tuple[int, int]] = (),
        reuse_jacobian: float | None = None,
        csr_assembly: bool = False,
    ):
        _check_settings(solver, rtol, atol, max_it, reuse_jacobian)
        self.reuse_jacobian = reuse_jacobian
        self.jacobian_evaluations = 0  # Jacobians assembled (all solves of this solver)
        self.jacobian_reuses = 0  # Newton steps that kept the previous Jacobian
        self._reuse_allowed = reuse_jacobian is not None
        self._have_jacobian = False
        self._prior_ratio: float | None = None  # residual reduction of the last chord step
        self._reused_in_attempt = 0
        self._u = _as_list(u)
        self.name = name
        msh = self._u[0].function_space.mesh
        self.comm = msh.comm
        ndofs = sum(
            f.function_space.dofmap.index_map.size_global * f.function_space.dofmap.index_map_bs
            for f in self._u
        )
        self.num_dofs = int(ndofs)
        if solver == "auto":
            limit = AUTO_DIRECT_MAX_DOFS_2D if msh.topology.dim <= 2 else AUTO_DIRECT_MAX_DOFS_3D
            solver = "direct" if ndofs <= limit else "iterative"
        self.linear_solver = solver
        options = {
            "snes_type": "newtonls",
            "snes_linesearch_type": "bt",
            "snes_rtol": rtol,
            "snes_atol": atol,
            "snes_stol": 1e-14,
            "snes_max_it": int(max_it),
            "snes_max_linear_solve_fail": 1,
        }
        linear = direct_options() if solver == "direct" else iterative_options(symmetric)
        if petsc_options and "pc_type" in petsc_options:
            # the caller chose its own preconditioner (e.g. a field split): take its linear-solver
            # linear-solver options alone (keeping the Newton-level ones such as Eisenstat-Walker),
            # so no unused default (GAMG) options are left in PETSc's database
            linear = {k: v for k, v in linear.items() if k.startswith("snes_")}
        options.update(linear)
        options.update(petsc_options or {})
        if not options.get("snes_ksp_ew"):  # forcing-term settings unused: PETSc would warn
            options = {k: v for k, v in options.items() if not k.startswith("snes_ksp_ew_")}
        self.petsc_options = dict(options)
        self.prefix = f"poreflux_{name}_{next(_COUNTER)}_"
        kwargs = {}
        if form_compiler_options is not None:
            kwargs["form_compiler_options"] = form_compiler_options
        if entity_maps is not None:
            kwargs["entity_maps"] = entity_maps
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            F,
            u,
            bcs=list(bcs),
            J=J,
            kind=kind,
            petsc_options=options,
            petsc_options_prefix=self.prefix,
            **kwargs,
        )
        self.snes = self.problem.solver
        self._bcs = list(bcs)
        self._constant_blocks = {(int(i), int(j)) for i, j in constant_blocks}
        if (self._constant_blocks or csr_assembly) and kind != "nest":
            raise InputError("constant_blocks and csr_assembly need a nest Jacobian (kind='nest')")
        self._csr_assembly = bool(csr_assembly)
        self._assemblers: dict[tuple[int, int], CSRAssembler] = {}
        self._constant_ready = False
        self._linear_ready = False  # a Newton step has set up the linear solver
        self._history: list[float] = []
        self.snes.setMonitor(_weak_monitor(weakref.proxy(self)))
        self._assembly_time = 0.0
        self._install_timers()
        self._profile = profile
        if profile:
            PETSc.Log.begin()

    # --- timing ----------------------------------------------------------------------------
    def _install_timers(self) -> None:
        b, (ffunc, fargs, fkw) = self.snes.getFunction()
        A, P, (jfunc, jargs, jkw) = self.snes.getJacobian()
        # The SNES keeps its callbacks alive, and the SNES is kept by this solver: callbacks that
        # held ``self`` would form a cycle that Python's garbage collector cannot see through
        # PETSc, so the solver (and its MPI communicators) would never be freed. They hold a
        # weak proxy instead.
        me = weakref.proxy(self)

        def residual(snes, x, bvec, *args, **kw):
            t0 = time.perf_counter()
            ffunc(snes, x, bvec, *args, **kw)
            me._assembly_time += time.perf_counter() - t0

        def jacobian(snes, x, Amat, Pmat, *args, **kw):
            if me._keep_jacobian():
                me.jacobian_reuses += 1
                me._reused_in_attempt += 1
                return
            me._prior_ratio = None
            me.jacobian_evaluations += 1
            me._have_jacobian = True
            t0 = time.perf_counter()
            if me._constant_blocks or me._csr_assembly:
                me._nest_jacobian(x, Amat)
            else:
                jfunc(snes, x, Amat, Pmat, *args, **kw)
            me._assembly_time += time.perf_counter() - t0

        self.snes.setFunction(residual, b, args=fargs, kargs=fkw)
        self.snes.setJacobian(jacobian, A, P, args=jargs, kargs=jkw)

    def _keep_jacobian(self) -> bool:
        """Keep the last Jacobian for this step (see ``reuse_jacobian``)?"""
        if not (self._reuse_allowed and self._have_jacobian):
            return False
        theta = float(self.reuse_jacobian)
        h = self._history
        if len(h) >= 2:
            return bool(h[-1] <= theta * h[-2])
        return self._prior_ratio is not None and self._prior_ratio <= theta

    def _nest_jacobian(self, x: Any, A: Any) -> None:
        """Assemble a nest Jacobian block by block, the constant blocks only the first time."""
        for sub in x.getNestSubVecs():
            sub.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        dolfinx.fem.petsc.assign(x, self._u)
        for i, row in enumerate(self.problem.J):
            for j, form in enumerate(row):
                if form is None or (self._constant_ready and (i, j) in self._constant_blocks):
                    continue
                self._assemble_block(i, j, form, A)
        A.assemble()
        self._constant_ready = True

    def _assemble_block(self, i: int, j: int, form: Any, A: Any) -> None:
        """Block ``(i, j)`` of the nest Jacobian ``A`` (through a CSR matrix when enabled)."""
        sub = A.getNestSubMatrix(i, j)
        if self._csr_assembly and form.rank == 2 and scalar_spaces(form):
            asm = self._assemblers.get((i, j))
            if asm is None:
                asm = self._assemblers[(i, j)] = CSRAssembler(form, sub)
            asm.assemble(self._bcs, diag=1.0)
            return
        sub.zeroEntries()
        dolfinx.fem.petsc.assemble_matrix(sub, form, bcs=self._bcs, diag=1.0)

    @staticmethod
    def _pc_setup_time() -> float:
        try:
            return float(PETSc.Log.Event("PCSetUp").getPerfInfo()["time"])
        except Exception:  # pragma: no cover - logging disabled
            return 0.0

    # --- state -----------------------------------------------------------------------------
    def _save(self) -> list[np.ndarray]:
        return [f.x.array.copy() for f in self._u]

    def _restore(self, saved: list[np.ndarray]) -> None:
        for f, arr in zip(self._u, saved, strict=True):
            f.x.array[:] = arr
            f.x.scatter_forward()

    def _finite(self) -> bool:
        ok = all(bool(np.all(np.isfinite(f.x.array))) for f in self._u)
        return bool(self.comm.allreduce(ok, op=MPI.LAND))

    def chord_step(self, max_update: float | None = None) -> tuple[float, float, int] | None:
        """One Newton step with the Jacobian and preconditioner of the last solve (no assembly).

        Used as a predictor when only parameters changed since the last converged solve (a warm
        I-V step): the lifted residual at the new boundary values, solved with the factorisation
        or preconditioner already set up, is the tangent (Euler) predictor of continuation
        methods, at the cost of one residual and one linear solve instead of a Newton step. The
        step is kept only if it lowers the residual norm.

        Returns
        -------
        ``(norm_before, norm_after, linear_iterations)``, or None when no solve has set up the
        linear solver yet or the linear solve failed (``u`` unchanged then).
        """
        if not self._linear_ready:
            return None
        snes, ksp = self.snes, self.snes.getKSP()
        x = self.problem.x
        dolfinx.fem.petsc.assign(self._u, x)
        b, dx = x.duplicate(), x.duplicate()
        try:
            snes.computeFunction(x, b)
            before = b.norm()
            ksp.solve(b, dx)
            if ksp.getConvergedReason() < 0:
                return None
            if max_update is not None:
                big = dx.norm(PETSc.NormType.NORM_INFINITY)
                if big > max_update:
                    dx.scale(max_update / big)
            saved = self._save()
            x.axpy(-1.0, dx)
            snes.computeFunction(x, b)  # also copies x into u
            after = b.norm()
            if not (np.isfinite(after) and after < before):
                self._restore(saved)
                return None
            self._prior_ratio = after / before if before > 0 else None
            dolfinx.fem.petsc.assign(x, self._u)
            for f in self._u:
                f.x.scatter_forward()
            return before, after, int(ksp.getIterationNumber())
        finally:
            b.destroy()
            dx.destroy()

    def _attempt(self, label: str) -> tuple[SolveAttempt, int]:
        """One SNES solve from the current ``u``; retried with fresh Jacobians if it failed
        after reusing one (the iterations of both are counted)."""
        start = self._save() if self._reuse_allowed else None
        attempt, linear = self._snes_attempt(label)
        if attempt.converged or start is None or self._reused_in_attempt == 0:
            return attempt, linear
        logger.info("%s failed after Jacobian reuse; retrying with fresh Jacobians", label)
        self._restore(start)
        self._reuse_allowed = False
        try:
            retry, linear2 = self._snes_attempt(f"{label} (fresh Jacobians)")
        finally:
            self._reuse_allowed = True
        retry.iterations += attempt.iterations
        return retry, linear + linear2

    def _snes_attempt(self, label: str) -> tuple[SolveAttempt, int]:
        self._history = []
        self._reused_in_attempt = 0
        try:
            self.problem.solve()
            reason = int(self.snes.getConvergedReason())
            error = ""
        except PETSc.Error as exc:  # a PETSc failure inside assembly or the linear solve
            reason = -99
            error = f"PETSc error {exc}"
        iterations = int(self.snes.getIterationNumber())
        self._linear_ready = self._linear_ready or iterations > 0
        # SNESSolve resets the counter: after the solve it holds this attempt's total
        linear = int(self.snes.getLinearSolveIterations())
        finite = self._finite()
        converged = reason > 0 and finite and all(np.isfinite(self._history))
        if not error:
            error = _REASONS.get(reason, str(reason))
            if reason > 0 and not converged:
                error = "non-finite iterate (NaN/inf)"
        attempt = SolveAttempt(
            label=label,
            converged=converged,
            iterations=iterations,
            residuals=list(self._history),
            reason="" if converged else error,
        )
        logger.debug("%s", attempt)
        return attempt, max(linear, 0)

    # --- public ----------------------------------------------------------------------------
    def close(self) -> None:
        """Destroy the PETSc objects (SNES, matrices, vectors) now; the solver is unusable after.

        A solver that goes out of scope is freed as well (its SNES callbacks hold only weak
        references to it, so no reference cycle runs through PETSc); ``close`` frees the
        matrices and the MPI communicators (MPICH allows about 2048 per process) at once instead
        of at the next garbage collection, which matters in parallel, where PETSc destroys
        objects collectively.
        """
        for asm in self._assemblers.values():
            asm.destroy()
        self._assemblers = {}
        p = self.problem
        for obj in (p.solver, p.A, p.b, p.x, getattr(p, "P_mat", None)):
            if obj is not None:
                obj.destroy()

    def solve(
        self,
        continuation: Sequence[ContinuationParameter] = (),
        *,
        initial_step: float = 0.25,
        min_step: float = 1.0 / 512,
        max_attempts: int = 60,
    ) -> NewtonReport:
        """Solve from the current value of ``u``; continue in ``continuation`` on failure.

        The parameters are at their targets when this returns. On failure ``u`` is restored to
        the initial guess and :class:`~poreflux.errors.ConvergenceError` lists every attempt.
        """
        t_start = time.perf_counter()
        self._assembly_time = 0.0
        pc0 = self._pc_setup_time() if self._profile else 0.0
        attempts: list[SolveAttempt] = []
        linear_total = 0
        saved = self._save()
        for p in continuation:
            p.set(1.0)
        attempt, lin = self._attempt(f"{self.name}: direct Newton")
        attempts.append(attempt)
        linear_total += lin
        continued = False
        if not attempt.converged:
            if not continuation:
                self._restore(saved)
                raise ConvergenceError(
                    f"Newton solve '{self.name}' failed ({attempt.reason}); no continuation "
                    f"parameter was available. Try a better initial guess, smaller fixed "
                    f"charges or potentials, or more iterations",
                    attempts,
                )
            continued = True
            names = ", ".join(p.name for p in continuation)
            logger.info("%s failed (%s); continuation in %s", self.name, attempt.reason, names)
            self._restore(saved)
            t, step = 0.0, initial_step
            good = saved
            ok_first = False
            for p in continuation:
                p.set(0.0)
            attempt, lin = self._attempt(f"{self.name}: continuation t=0 ({names})")
            attempts.append(attempt)
            linear_total += lin
            ok_first = attempt.converged
            if ok_first:
                good = self._save()
            while ok_first and t < 1.0 and len(attempts) < max_attempts:
                t_new = min(1.0, t + step)
                for p in continuation:
                    p.set(t_new)
                attempt, lin = self._attempt(f"{self.name}: continuation t={t_new:.4f} ({names})")
                attempts.append(attempt)
                linear_total += lin
                if attempt.converged:
                    t, good = t_new, self._save()
                    step = min(2 * step, 1.0)
                else:
                    self._restore(good)
                    step /= 2
                    if step < min_step:
                        break
            if not (ok_first and t >= 1.0):
                for p in continuation:
                    p.set(1.0)
                self._restore(saved)
                raise ConvergenceError(
                    f"Newton solve '{self.name}' failed, also with continuation in {names} "
                    f"(reached t = {t:.4f} of 1). Try finer continuation, a better initial "
                    f"guess, or check the input for unphysical values",
                    attempts,
                )
        pc_time = (self._pc_setup_time() - pc0) if self._profile else 0.0
        wall = time.perf_counter() - t_start
        return NewtonReport(
            iterations=attempts[-1].iterations,
            linear_iterations=linear_total,
            residuals=tuple(attempts[-1].residuals),
            attempts=tuple(attempts),
            continued=continued,
            linear_solver=self.linear_solver,
            assembly_time=self._assembly_time,
            solve_time=wall - self._assembly_time,
            pc_setup_time=pc_time,
            wall_time=wall,
        )
