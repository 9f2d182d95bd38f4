"""Transient Poisson-Nernst-Planck: variable-step BDF2 (backward Euler first step), adaptive.

Same unknowns, forms and Newton solver as :mod:`pnp.solvers.steady`: the transient solver holds a
:class:`~pnp.solvers.steady.SteadyPNPSolver` built with ``time_dependent=True``, whose residuals
carry the time-derivative term of :func:`pnp.forms.nernst_planck.mass_term` with the multistep
coefficients as ``dolfinx.fem.Constant``s, so one compiled form serves the steady start, backward
Euler and variable-step BDF2::

    BDF2 (step ratio w = dt_n / dt_{n-1}):
    dc/dt ~ [(1 + 2w)/(1 + w) c^{n+1} - (1 + w) c^n + w^2/(1 + w) c^{n-1}] / dt_n

Step control: the local error is estimated by the difference between the BDF2 solution and the
linear extrapolation of the two previous levels (max-norm of the concentration change, relative
to the largest concentration); the next step is ``dt * clamp(0.9 (tol/err)^(1/3), 0.3, 2)``; a
failed Newton solve or an error above ``2 tol`` halves the step and retries.

Mass conservation: after each step, for every species, the discrete balance
``d/dt int c dV + (outflow through top) + (outflow through bottom) = 0`` is evaluated with the
conservative (residual-based) end fluxes, and its defect relative to the largest term is recorded
(``TransientResult.mass_defects``); a defect above ``mass_tol`` logs a warning.
"""

from __future__ import annotations

import logging
import math
import time as _time
from dataclasses import dataclass, replace
from typing import Any

import dolfinx
import numpy as np
from mpi4py import MPI

from pnp.problems.transport import PNPProblem
from pnp.results.currents import end_currents
from pnp.solvers.ion_fields import storage_form
from pnp.solvers.steady import Params, SolverOptions, SteadyPNPSolver
from poreflux.errors import ConvergenceError, InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransientResult:
    """History of a transient run.

    Attributes
    ----------
    times
        Times [ns] of the accepted steps (starting with the initial time).
    current_top, current_bottom
        Total current [pA] through each end at each time (positive top -> bottom).
    masses
        ``(n_times, n_species)`` amount of each species in the water [c0 nm^3 units x c0].
    mass_defects
        ``(n_steps, n_species)`` relative defect of the discrete mass balance of each step.
    solution
        :class:`pnp.results.pnp_solution.PNPSolution` of the final state.
    rejected
        Number of rejected steps.
    """

    times: np.ndarray
    current_top: np.ndarray
    current_bottom: np.ndarray
    masses: np.ndarray
    mass_defects: np.ndarray
    solution: Any
    rejected: int


#: Default relative tolerance of the Krylov solves of a time step.
TRANSIENT_KSP_RTOL = 1e-6


class TransientPNPSolver:
    """Time-dependent PNP on a channel mesh (time in ns).

    Parameters
    ----------
    cmesh, problem, options
        As for :class:`~pnp.solvers.steady.SteadyPNPSolver`, except that the Krylov tolerance
        (``options.ksp_rtol``) defaults to :data:`TRANSIENT_KSP_RTOL`: the per-step mass balance
        needs tighter linear solves than a steady solve (measured on the 2D default channel, 0 ->
        100 mV step: 1e-3 leaves a 7e-6 mass defect in the first 1 ps step, 1e-6 leaves none
        above 1e-6, at 3% more time). Time steps always assemble a new Jacobian per Newton
        step (``options.reuse_jacobian`` is set to None): a chord last step leaves the residual
        just below the Newton tolerance, and the mass balance of a step follows it (1.4e-6
        defect in the first step of the test above with reuse).
    tol
        Relative local error tolerance of the step control.
    mass_tol
        Relative mass-balance defect above which a step logs a warning.

    Attributes
    ----------
    steady
        The underlying :class:`~pnp.solvers.steady.SteadyPNPSolver` (fields, forms, Newton).
    """

    def __init__(
        self,
        cmesh: Any,
        problem: PNPProblem,
        options: SolverOptions | None = None,
        *,
        tol: float = 1e-3,
        mass_tol: float = 1e-6,
    ) -> None:
        if not (tol > 0 and mass_tol > 0):
            raise InputError("tol and mass_tol must be > 0")
        self.tol = float(tol)
        self.mass_tol = float(mass_tol)
        options = options or SolverOptions()
        if options.ksp_rtol is None:
            options = replace(options, ksp_rtol=TRANSIENT_KSP_RTOL)
        options = replace(options, reuse_jacobian=None)
        self.steady = SteadyPNPSolver(cmesh, problem, options, time_dependent=True)
        self.problem = problem
        self.options = options
        self.comm = cmesh.comm
        self.time = 0.0
        self._levels = 0  # how many history levels are valid (0, 1 or 2)
        self._dt_prev: float | None = None
        self._target = self.target_params()
        self._build_balance_forms()

    def solve(self, *args: Any, **kwargs: Any) -> Any:
        """A steady solve (time-derivative coefficients zeroed), as
        :meth:`SteadyPNPSolver.solve`."""
        for c in self.steady.coef:
            c.value = 0.0
        return self.steady.solve(*args, **kwargs)

    def target_params(self, problem: PNPProblem | None = None, **changes: Any) -> Params:
        """Continuation parameters, as :meth:`SteadyPNPSolver.target_params`."""
        return self.steady.target_params(problem, **changes)

    def close(self) -> None:
        """Release the PETSc objects now."""
        self.steady.close()

    def _build_balance_forms(self) -> None:
        st = self.steady
        end_currents(st)  # builds the end indicator functions
        ef = st._end_forms
        weight = st.measures.weight
        self._mass_forms = []
        self._storage_forms: dict[str, list[Any]] = {"top": [], "bottom": []}
        for k, c in enumerate(st.conc):
            self._mass_forms.append(
                dolfinx.fem.form(c * weight * st.dx_water, entity_maps=[st.entity_map])
            )
            for end, w in (("top", ef.w_top), ("bottom", ef.w_bottom)):
                self._storage_forms[end].append(
                    dolfinx.fem.form(storage_form(st, k, w), entity_maps=[st.entity_map])
                )

    def _sum(self, forms: list[Any]) -> np.ndarray:
        local = np.array([dolfinx.fem.assemble_scalar(f) for f in forms], dtype=float)
        return self.comm.allreduce(local, op=MPI.SUM)

    def masses(self) -> np.ndarray:
        """Amount of each species in the water (scaled: c0 x nm^3)."""
        return self._sum(self._mass_forms)

    def _outflows(self) -> tuple[np.ndarray, np.ndarray]:
        """Conservative outflow of each species through top and bottom (scaled units)."""
        ef = self.steady._end_forms
        out = {}
        for end in ("top", "bottom"):
            steady = self._sum(ef.forms[end])  # int J . grad(w_end)
            storage = self._sum(self._storage_forms[end])  # int dc/dt w_end
            out[end] = steady - storage
        return out["top"], out["bottom"]

    # --------------------------------------------------------------------------- state
    def initialize(self, solution: Any | None = None, params: Params | None = None) -> None:
        """Start at ``t = 0`` from a solution (e.g. a steady one) or the cold guess at ``params``.

        The boundary data are then set to ``params`` (default: the solver's problem), so a
        steady state at 0 V followed by ``params`` with a voltage gives a voltage-step response.
        """
        target = params or self.target_params()
        if solution is not None:
            self.steady.set_state(solution)
        else:
            self.steady._set_cold_guess(target)
        self.steady._apply(target)
        self._target = target
        self.time = 0.0
        self._levels = 0
        self._dt_prev = None
        for h1, u in zip(self.steady.hist1, self.steady.us, strict=True):
            h1.x.array[:] = u.x.array

    def _set_coefficients(self, dt: float) -> None:
        if self._levels < 2 or self._dt_prev is None:  # backward Euler
            a = (1.0 / dt, -1.0 / dt, 0.0)
        else:
            w = dt / self._dt_prev
            a = ((1 + 2 * w) / ((1 + w) * dt), -(1 + w) / dt, w * w / ((1 + w) * dt))
        for c, val in zip(self.steady.coef, a, strict=True):
            c.value = val

    def _conc(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self.steady.ions.concentration_values(arrays)

    def step(self, dt: float) -> tuple[bool, float]:
        """One step of size ``dt`` [ns]; returns (accepted, error estimate). Not accepted:
        state unchanged."""
        st = self.steady
        saved = st._save()
        self._set_coefficients(dt)
        for u, h1 in zip(st.us, st.hist1, strict=True):
            u.x.array[:] = h1.x.array  # start Newton from the last level
        try:
            report = st.newton.solve()
            st._record(report.attempts, report.linear_iterations)
        except ConvergenceError as exc:
            st._record(exc.attempts, 0)
            st._restore(saved)
            return False, math.inf
        new = self._conc([u.x.array for u in st.us])
        if self._levels >= 2 and self._dt_prev is not None:
            w = dt / self._dt_prev
            c1 = self._conc([h.x.array for h in st.hist1])
            c2 = self._conc([h.x.array for h in st.hist2])
            pred = [a + w * (a - b) for a, b in zip(c1, c2, strict=True)]
            err_l = max(
                float(np.max(np.abs(n - p), initial=0.0)) for n, p in zip(new, pred, strict=True)
            )
            scale_l = max(float(np.max(np.abs(n), initial=0.0)) for n in new)
            err = self.comm.allreduce(err_l, op=MPI.MAX) / max(
                self.comm.allreduce(scale_l, op=MPI.MAX), 1e-300
            )
            err *= w / (1 + w)  # BDF2 error constant relative to the extrapolation difference
        else:
            err = 0.0
        if err > 2 * self.tol:
            st._restore(saved)
            return False, err
        return True, err

    def _accept(self, dt: float) -> None:
        st = self.steady
        for h1, h2, u in zip(st.hist1, st.hist2, st.us, strict=True):
            h2.x.array[:] = h1.x.array
            h1.x.array[:] = u.x.array
        self.time += dt
        self._dt_prev = dt
        self._levels = min(self._levels + 1, 2)

    # --------------------------------------------------------------------------- driver
    def run(
        self,
        t_end: float,
        dt: float,
        *,
        dt_max: float | None = None,
        steady_tol: float | None = None,
        max_steps: int = 10_000,
    ) -> TransientResult:
        """Integrate to ``t_end`` [ns] from the current state with adaptive steps.

        Parameters
        ----------
        dt
            First step [ns].
        dt_max
            Largest step [ns] (default ``t_end / 5``).
        steady_tol
            Stop early once the largest relative concentration change per step falls below it
            (a steady state has been reached).
        """
        st = self.steady
        if not (t_end > self.time and dt > 0):
            raise InputError("need t_end > current time and dt > 0")
        dt_max = dt_max or (t_end - self.time) / 5
        st.stats.newton_iterations = st.stats.linear_iterations = 0
        st.stats.attempts = []
        t0 = _time.perf_counter()
        m0 = self.masses()
        times, masses = [self.time], [m0]
        top0, bot0 = self._current_pair()
        cur_top, cur_bot = [top0], [bot0]
        defects = []
        rejected = 0
        steps = 0
        while self.time < t_end * (1 - 1e-12) and steps < max_steps:
            dt = min(dt, dt_max, t_end - self.time)
            before = self._conc([h.x.array for h in st.hist1])
            ok, err = self.step(dt)
            if not ok:
                rejected += 1
                dt *= 0.5 if not math.isfinite(err) else max(0.3, 0.9 * (self.tol / err) ** (1 / 3))
                if dt < 1e-12 * max(t_end, 1.0):
                    raise ConvergenceError(
                        f"transient PNP: time step fell below {dt:.3g} ns at t = {self.time:g} ns",
                        st.stats.attempts,
                    )
                continue
            # mass balance of this step (with the coefficients used for it)
            m_new = self.masses()
            rate = st.coef[0].value * m_new + st.coef[1].value * masses[-1]
            if self._levels >= 2:
                rate = rate + st.coef[2].value * (masses[-2] if len(masses) > 1 else masses[-1])
            out_top, out_bot = self._outflows()
            size = np.maximum.reduce(
                [np.abs(rate), np.abs(out_top), np.abs(out_bot), np.full_like(rate, 1e-300)]
            )
            defect = np.abs(rate + out_top + out_bot) / size
            defects.append(defect)
            if np.max(defect) > self.mass_tol:
                log.warning("mass balance defect %.3g at t = %g ns", np.max(defect), self.time)
            change = max(
                float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), initial=0))
                for a, b in zip(self._conc([u.x.array for u in st.us]), before, strict=True)
            )
            change = self.comm.allreduce(change, op=MPI.MAX)
            self._accept(dt)
            steps += 1
            times.append(self.time)
            masses.append(m_new)
            top, bot = self._current_pair(out_top, out_bot)
            cur_top.append(top)
            cur_bot.append(bot)
            grow = 2.0 if err == 0 else min(2.0, max(0.3, 0.9 * (self.tol / err) ** (1 / 3)))
            dt *= grow
            if steady_tol is not None and change < steady_tol:
                break
        st.stats.wall_time = _time.perf_counter() - t0
        st._converged = self._target
        sol = st.solution(self._target, time=self.time)
        return TransientResult(
            times=np.array(times),
            current_top=np.array(cur_top),
            current_bottom=np.array(cur_bot),
            masses=np.array(masses),
            mass_defects=np.array(defects).reshape(len(defects), len(st.us)),
            solution=sol,
            rejected=rejected,
        )

    def _current_pair(
        self, out_top: np.ndarray | None = None, out_bot: np.ndarray | None = None
    ) -> tuple[float, float]:
        if out_top is None:
            ef = self.steady._end_forms
            out_top, out_bot = self._sum(ef.forms["top"]), self._sum(ef.forms["bottom"])
        z = np.array(self.problem.valences, dtype=float)
        scale = self.steady.scales.current_scale_pA
        # outflow at top carries charge upward (negative current); at bottom downward (positive)
        return float(-np.sum(z * out_top) * scale), float(np.sum(z * out_bot) * scale)
