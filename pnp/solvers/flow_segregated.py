"""Segregated (Gauss-Seidel) PNP-Stokes solver: PNP with the current flow, then Stokes.

At nanopore Peclet numbers the electro-osmotic flow is a moderate perturbation of the ion
transport, and the Stokes operator does not depend on the ions. :class:`SegregatedPNPStokesSolver`
therefore alternates

1. a steady PNP solve in which the velocity ``u`` is a given coefficient of the advective flux
   ``c_i u`` (the PNP solver's own Newton method, preconditioner, continuation and warm starts;
   the advection is in its Jacobian);
2. one Stokes solve for the body force ``-c0 kT sum_i c_i grad(mu~_i)`` of the new potential and
   concentrations (:class:`pnp.solvers.stokes_linear.StokesLinearSolver`: the operator and its
   factorisation or preconditioner are built once and reused for every coupling iteration,
   voltage and pressure difference),

until the velocity changes by less than ``coupling_rtol`` of its size (block Gauss-Seidel or
nonlinear Gummel-type iteration; the fixed point is the monolithic discrete solution, so flow
rate and current agree with :class:`pnp.solvers.flow.SteadyPNPStokesSolver` to the tolerance).
The iteration converges linearly with a rate of about the Peclet number of the pore; the
velocity iterates are accelerated by Anderson mixing (Walker and Ni, SIAM J. Numer. Anal. 49,
1715 (2011)) of depth ``anderson_depth``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from mpi4py import MPI

from pnp.problems.flow import FlowProblem
from pnp.problems.transport import PNPProblem
from pnp.results.flow import FlowSolution, flow_solution
from pnp.solvers.flow import add_flow_terms, restore_flow, set_end_pressures
from pnp.solvers.options import Params, SolverOptions, SolveStats, parameter_changes
from pnp.solvers.steady import SteadyPNPSolver
from pnp.solvers.stokes_linear import STOKES_METHODS, StokesLinearSolver
from poreflux.errors import ConvergenceError, InputError

__all__ = ["STOKES_LU_DOF_LIMIT", "SegregatedPNPStokesSolver"]

#: Relative Newton tolerance of a PNP re-solve (when a chord step is not enough).
INNER_RTOL = 1e-2

#: A chord step (old PNP Jacobian) is kept when it lowers the PNP residual by this factor.
CHORD_RATIO = 0.5

#: Velocity + pressure unknowns (by topological dimension) up to which ``stokes_solver="auto"``
#: factorises the Stokes operator once (MUMPS); the ``"schur"`` Krylov solver above. In 3D never:
#: on the default channel with 3.2e4 flow unknowns the factorisation alone took 6.2 s against
#: 1.2 s for the Krylov set-up (assembly, three scalar GAMG hierarchies) plus the first solve.
STOKES_LU_DOF_LIMIT = {2: 400_000, 3: 0}


class SegregatedPNPStokesSolver(SteadyPNPSolver):
    """Steady PNP-Stokes by Gauss-Seidel coupling of a PNP and a Stokes solver.

    Parameters
    ----------
    cmesh, problem, flow, options
        As :class:`pnp.solvers.flow.SteadyPNPStokesSolver`; ``options`` are those of the PNP
        solves (``linear_solver="auto"``: LU on small meshes, the electrochemical Krylov solver
        above).
    stokes_solver
        ``"lu"``, ``"schur"`` or ``"auto"`` (:data:`STOKES_LU_DOF_LIMIT`), see
        :mod:`pnp.solvers.stokes_linear`.
    coupling_rtol
        Stop when the last Stokes solve changed the velocity by less than this fraction of its
        largest value (max norms; then the PNP residual is brought to the PNP solve's own
        tolerance without further Stokes solves). The coupling contracts by a factor of about
        10 per iteration (Anderson-accelerated), so the remaining error is of the order of
        this: on the 3D default channel 1e-5 gave flow rate and current within 9e-8 and 7e-9
        of the converged solution, but 4e-6 on a charged 2D test pore under a pressure
        difference; the default 1e-6 costs one more coupling iteration (1e-4: 9e-6).
    coupling_atol
        Absolute velocity tolerance [nm/ns] (a flow that vanishes, e.g. an uncharged pore at
        0 V).
    max_coupling_it
        Coupling iterations before :class:`poreflux.errors.ConvergenceError`.
    anderson_depth
        Previous velocity iterates mixed by Anderson acceleration (0: plain Gauss-Seidel).
    stokes_rtol
        Relative tolerance of each ``"schur"`` Stokes solve (of the correction from the last
        velocity and pressure; 10-17 FGMRES iterations at the default 1e-2). A looser one costs
        more coupling iterations than it saves (1e-1: 22 instead of 8 for a cold solve on the 3D
        default channel), a tighter one more Krylov iterations for the same coupling
        iterations.

    Examples
    --------
    >>> solver = SegregatedPNPStokesSolver(cmesh, problem, FlowProblem(1e4))  # doctest: +SKIP
    >>> sol = solver.solve(voltage=100.0)                                     # doctest: +SKIP
    >>> sol.flow_rate, sol.current, solver.coupling_iterations                # doctest: +SKIP
    """

    def __init__(
        self,
        cmesh: Any,
        problem: PNPProblem,
        flow: FlowProblem | None = None,
        options: SolverOptions | None = None,
        *,
        stokes_solver: str = "auto",
        coupling_rtol: float = 1e-6,
        coupling_atol: float = 1e-13,
        max_coupling_it: int = 40,
        anderson_depth: int = 3,
        stokes_rtol: float = 1e-2,
    ) -> None:
        self.flow = FlowProblem() if flow is None else flow
        if not isinstance(self.flow, FlowProblem):
            raise InputError("flow must be a pnp.problems.flow.FlowProblem")
        if stokes_solver not in (*STOKES_METHODS, "auto"):
            raise InputError(f"stokes_solver must be 'auto' or one of {STOKES_METHODS}")
        for name, value in (("coupling_rtol", coupling_rtol), ("coupling_atol", coupling_atol)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a finite number > 0, got {value!r}")
        if int(max_coupling_it) < 1 or int(anderson_depth) < 0:
            raise InputError("max_coupling_it must be >= 1 and anderson_depth >= 0")
        self.coupling_rtol, self.coupling_atol = float(coupling_rtol), float(coupling_atol)
        self.max_coupling_it, self.anderson_depth = int(max_coupling_it), int(anderson_depth)
        self._dp_pa = self.flow.pressure_difference_Pa
        super().__init__(cmesh, problem, options)
        nflow = self.flow_fields.U.dofmap.index_map.size_global * self.cmesh.mesh.geometry.dim
        nflow += self.flow_fields.Q.dofmap.index_map.size_global
        if stokes_solver == "auto":
            limit = STOKES_LU_DOF_LIMIT.get(self.cmesh.tdim, 10**9)
            stokes_solver = "lu" if nflow <= limit else "schur"
        self.stokes_solver = stokes_solver
        self.stokes = StokesLinearSolver(
            self.flow_fields, self.body_force, self.entity_map, stokes_solver, stokes_rtol
        )
        self.coupling_iterations = 0
        self.stokes_iterations: list[int] = []
        self._flow_recent: list[Any] = []

    def _build_forms(self) -> None:
        super()._build_forms()
        self.body_force = add_flow_terms(self, self.flow)

    @property
    def num_dofs(self) -> int:
        """Unknowns of the coupled problem (PNP + velocity + pressure)."""
        fld = self.flow_fields
        nu = fld.U.dofmap.index_map.size_global * fld.U.dofmap.index_map_bs
        return super().num_dofs + nu + fld.Q.dofmap.index_map.size_global

    def close(self) -> None:
        """Release the PETSc objects of both solvers."""
        super().close()
        self.stokes.close()

    def set_state(self, solution: Any) -> None:
        """Next guess from a :class:`pnp.results.flow.FlowSolution` (all fields) or a PNP
        solution (potential and concentrations; the flow keeps its current values)."""
        super().set_state(restore_flow(self, solution))

    def _apply(self, p: Params) -> None:
        super()._apply(p)
        set_end_pressures(self, p)

    def solve(
        self,
        voltage: float | None = None,
        *,
        pressure_difference_Pa: float | None = None,
        bath_top: Sequence[float] | None = None,
        bath_bottom: Sequence[float] | None = None,
        charge_scale: float = 1.0,
        warm: bool = True,
    ) -> FlowSolution:
        """Solve the coupled problem (parameters of
        :meth:`pnp.solvers.flow.SteadyPNPStokesSolver.solve`); return a
        :class:`pnp.results.flow.FlowSolution`. Its ``newton_iterations`` and
        ``linear_iterations`` add up every PNP solve of the coupling; :attr:`coupling_iterations`
        and :attr:`stokes_iterations` (Krylov iterations of each Stokes solve) describe the
        coupling."""
        dp = self.flow.pressure_difference_Pa
        if pressure_difference_Pa is not None:
            dp = self.flow.with_pressure(pressure_difference_Pa).pressure_difference_Pa
        self._dp_pa = dp
        t0 = time.perf_counter()
        changes = parameter_changes(
            self.problem.species_names, voltage, bath_top, bath_bottom, charge_scale
        )
        target = self.target_params(**changes)
        if not warm or self._converged is None:
            self.velocity.x.array[:] = 0.0
            self.pressure.x.array[:] = 0.0
            self._flow_recent = []
        elif self.options.predictor:
            self._predict_flow(target, dp)
        recent = list(getattr(self, "_recent", []))
        total = SolveStats()
        self.stokes_iterations = []
        mixer = _Anderson(self.anderson_depth, self.comm)
        kwargs = {"bath_top": bath_top, "bath_bottom": bath_bottom, "charge_scale": charge_scale}
        sol = super().solve(voltage, warm=warm, **kwargs)
        _add(total, self.stats)
        r0 = self.last_report.residuals[0] if self.last_report.residuals else 0.0
        pnp_tol = max(self.options.atol, self.options.rtol * r0)
        for k in range(1, self.max_coupling_it + 1):
            u_old = self.velocity.x.array.copy()
            change, size = self.stokes.solve()
            self.stokes_iterations.append(self.stokes.iterations)
            self.coupling_iterations = k
            if change <= max(self.coupling_rtol * size, self.coupling_atol):
                self._finish_pnp(pnp_tol, voltage, kwargs, total)
                break
            self.velocity.x.array[:] = mixer.mix(u_old, self.velocity.x.array)
            self._pnp_update(voltage, kwargs, total)
        else:
            raise self._not_converged(change, size, total)
        total.wall_time = time.perf_counter() - t0
        self.stats = total
        target = sol.params
        self._recent = [*recent[-1:], (target, self._save())]
        flow_state = ((target, dp), self.velocity.x.array.copy(), self.pressure.x.array.copy())
        self._flow_recent = [*self._flow_recent[-1:], flow_state]
        return flow_solution(self, self.solution(target))

    def _predict_flow(self, target: Params, dp: float) -> None:
        """Secant predictor of velocity and pressure along the voltage (as the PNP fields')."""
        if len(self._flow_recent) < 2:
            return
        ((p0, dp0), u0, q0), ((p1, dp1), u1, q1) = self._flow_recent
        same = dp0 == dp1 == dp and replace(p0, voltage=p1.voltage) == p1
        if not same or replace(target, voltage=p1.voltage) != p1 or p1.voltage == p0.voltage:
            return
        theta = (target.voltage - p1.voltage) / (p1.voltage - p0.voltage)
        if abs(theta) <= 2.0:
            self.velocity.x.array[:] = u1 + theta * (u1 - u0)
            self.pressure.x.array[:] = q1 + theta * (q1 - q0)

    def _finish_pnp(
        self, tol: float, voltage: float | None, kwargs: dict, total: SolveStats
    ) -> None:
        """With the velocity converged, bring the PNP residual at that velocity to the PNP
        solve's own tolerance by PNP updates alone (at least one: the last Stokes step moved the
        velocity the PNP fields were solved with; the force these updates change moves the flow
        by less than the coupling tolerance: no further Stokes solve). Ion conservation between
        the ends holds to that tolerance."""
        residual = self._pnp_update(voltage, kwargs, total, tol)
        for _ in range(self.max_coupling_it):
            if residual <= tol:
                return
            residual = self._pnp_update(voltage, kwargs, total, tol)

    def _pnp_update(
        self, voltage: float | None, kwargs: dict, total: SolveStats, tol: float = 0.0
    ) -> float:
        """The PNP fields for the new velocity: a chord step (the last PNP Jacobian and its
        factorisation or preconditioner, no assembly), or a Newton re-solve to ``INNER_RTOL``
        when the chord step neither halves the residual nor brings it to ``tol``. Returns the
        PNP residual norm after it."""
        cap = self.options.max_update if self.options.variables == "log" else None
        step = self.newton.chord_step(max_update=cap)
        if step is not None and step[1] <= max(CHORD_RATIO * step[0], tol):
            total.linear_iterations += step[2]
            total.predictor_steps += 1
            return float(step[1])
        snes = self.newton.snes
        rtol = snes.getTolerances()[0]
        snes.setTolerances(rtol=INNER_RTOL)
        try:
            super().solve(voltage, warm=True, **kwargs)
        finally:
            snes.setTolerances(rtol=rtol)
        _add(total, self.stats)
        residuals = self.last_report.residuals
        return float(residuals[-1]) if residuals else 0.0

    def _not_converged(self, change: float, size: float, total: SolveStats) -> ConvergenceError:
        return ConvergenceError(
            f"PNP-Stokes coupling did not converge in {self.max_coupling_it} iterations (last "
            f"velocity change {change:.3g} of {size:.3g} nm/ns); use the monolithic "
            "pnp.solvers.flow.SteadyPNPStokesSolver for strongly coupled flows",
            list(total.attempts),
        )


def _add(total: SolveStats, stats: SolveStats) -> None:
    total.newton_iterations += stats.newton_iterations
    total.linear_iterations += stats.linear_iterations
    total.predictor_steps += stats.predictor_steps
    total.attempts.extend(stats.attempts)


class _Anderson:
    """Anderson mixing of a fixed-point map ``x -> G(x)`` on the (local) velocity array."""

    def __init__(self, depth: int, comm: Any) -> None:
        self.depth, self.comm = depth, comm
        self.xs: list[np.ndarray] = []
        self.gs: list[np.ndarray] = []

    def mix(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The next iterate from the input ``x`` and the map's output ``g = G(x)``."""
        if self.depth == 0:
            return g
        self.xs.append(x.copy())
        self.gs.append(g.copy())
        self.xs, self.gs = self.xs[-(self.depth + 1) :], self.gs[-(self.depth + 1) :]
        if len(self.xs) < 2:
            return g
        f = [gi - xi for gi, xi in zip(self.gs, self.xs, strict=True)]
        df = np.stack([f[i + 1] - f[i] for i in range(len(f) - 1)], axis=1)
        dg = np.stack([self.gs[i + 1] - self.gs[i] for i in range(len(f) - 1)], axis=1)
        gram = self.comm.allreduce(df.T @ df, op=MPI.SUM)
        rhs = self.comm.allreduce(df.T @ f[-1], op=MPI.SUM)
        gamma = np.linalg.lstsq(gram, rhs, rcond=1e-12)[0]
        return g - dg @ gamma
