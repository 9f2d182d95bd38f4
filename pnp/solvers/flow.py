"""Steady Poisson-Nernst-Planck-Stokes (electro-osmosis) solver.

:class:`SteadyPNPStokesSolver` extends :class:`pnp.solvers.steady.SteadyPNPSolver` with the
fluid: Taylor-Hood velocity ``u`` [nm/ns] and reduced pressure ``p~ = p - Pi`` [MPa] on the same
water sub-mesh as the concentrations (:class:`pnp.solvers.stokes.FlowFields`). The residual is
monolithic in ``(psi, ln c_i, u, p~)``:

- Poisson as in PNP;
- Nernst-Planck with the advective flux: ``-int (J_i + c_i u) . grad(w_i)``
  (:func:`pnp.forms.stokes.advective_residual`);
- Stokes with the body force ``-c0 kT sum_i c_i grad(ln c_i + z_i psi + mu_i)``, which is the
  Coulomb force ``-rho_e grad(phi)`` (and the force of any excess potential) up to the osmotic
  pressure gradient absorbed by ``p~`` (:func:`pnp.forms.stokes.electrochemical_force`); the
  bath ends carry ``p = p_end`` (``p~_end = p_end - Pi_end``).

Newton on the full system with MUMPS LU (``"lu"``), or FGMRES preconditioned by a field split
whose PNP part is the solver's multiplicative split and whose Stokes part is a Schur complement
with the pressure mass matrix over the viscosity (``"fieldsplit"``; see
:mod:`pnp.solvers.flow_pc`). Continuation, warm starts, the secant/chord predictors and the
restoration of the fields on failure are those of the PNP solver (velocity and pressure are saved
and restored with the other fields). The reference solver; on large meshes the segregated
coupling of :mod:`pnp.solvers.flow_segregated` (same discrete equations, same answers) is
several times faster. Both get their flow terms from :func:`add_flow_terms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from pnp.forms import stokes as sforms
from pnp.problems.flow import PA_TO_SOLVER, FlowProblem
from pnp.problems.transport import PNPProblem
from pnp.results.flow import FlowSolution, flow_solution
from pnp.solvers.ion_fields import StericEndForms
from pnp.solvers.newton import NewtonSolver
from pnp.solvers.options import Params, SolverOptions
from pnp.solvers.steady import SteadyPNPSolver
from pnp.solvers.stokes import FlowFields
from poreflux.errors import InputError
from poreflux.units import R_GAS

__all__ = ["FLOW_LU_DOF_LIMIT", "SteadyPNPStokesSolver"]

#: Unknowns (by topological dimension) up to which ``linear_solver="auto"`` uses MUMPS LU.
#: Measured on the default channel (bench/pnp_stokes_scaling.py set-up, one shared machine):
#: 2D, 5.3e4 unknowns: LU 41 s cold / 12.8 s warm, field split 32 s / 17 s; 3D, 4.0e4 unknowns:
#: LU 158 s cold, field split 59 s.
FLOW_LU_DOF_LIMIT = {2: 50_000, 3: 15_000}


def add_flow_terms(solver: Any, flow: FlowProblem) -> Any:
    """Give a PNP solver (after its ``_build_forms``) the fluid: ``solver.flow_fields``
    (:class:`pnp.solvers.stokes.FlowFields`), ``velocity``, ``pressure``, ``pressure_scale``
    [MPa] and the advective flux ``c_i u`` in its Nernst-Planck residuals; return the body force
    ``-c0 kT sum_i c_i grad(mu~_i)`` [MPa/nm] (:func:`pnp.forms.stokes.electrochemical_force`).

    The concentrations ``c_i`` are those of the ion model (``solver.conc``): ``exp(u_i)`` for
    point ions, the steric concentration map of the chemical-potential unknowns for the steric
    model, whose flux ``-D c grad(w + z psi)`` composes with the advective flux ``c u`` in the
    same residual. The correlation model (an extra BSK charge unknown) is refused.
    """
    pb, opts, meas = solver.problem, solver.options, solver.measures
    if solver.ions.correlations:
        raise InputError(
            f"flow is not available with ion_model={pb.ion_model!r} (the BSK correlation charge "
            "has no body-force term yet): use ion_model='point' or 'steric'"
        )
    solver.flow_fields = FlowFields(
        solver.cmesh, meas, solver.submesh, solver.sub_facet_tags, solver.dx_water, flow,
        pb.temperature, pb.top, pb.bottom,
    )  # fmt: skip
    solver.velocity = solver.flow_fields.velocity
    solver.pressure = solver.flow_fields.pressure
    # osmotic pressure of c0 [MPa]: c0 [mol/m^3] R T [J/mol] = Pa
    solver.pressure_scale = solver.scales.c0_mM * R_GAS * pb.temperature * PA_TO_SOLVER
    conc = solver.conc if solver.ions.steric else None
    force = sforms.electrochemical_force(
        solver.us, solver.psi, pb.valences, pressure_scale=solver.pressure_scale,
        mu_ex=solver.mu, variables=opts.variables, concentrations=conc,
    )  # fmt: skip
    for k, (u, S) in enumerate(zip(solver.us, solver.Ws, strict=True)):
        solver.residuals[k + 1] = solver.residuals[k + 1] + sforms.advective_residual(
            u, solver.velocity, ufl.TestFunction(S), solver.dx_water, weight=meas.weight,
            variables=opts.variables, concentration=solver.conc[k],
        )  # fmt: skip
    return force


def bath_osmotic_pressure(solver: Any, conc_mM: Sequence[float]) -> float:
    """Osmotic pressure [MPa] of a bath of the solver's ion model.

    Point ions: van 't Hoff, ``Pi = kT sum_i c_i``. Steric (lattice-gas) ions:
    ``Pi = -kT (sum_i c_i) ln(1 - Phi) / Phi`` with ``Phi = sum_j v_j c_j``, the lattice-gas
    pressure ``-(kT/v) ln(1 - Phi)`` for equal ion volumes ``v`` (Borukhov, Andelman and Orland,
    Phys. Rev. Lett. 79, 435 (1997)), with the packing-weighted mean volume otherwise (only
    baths of different composition feel this choice).
    """
    scaled = [c / solver.scales.c0_mM for c in conc_mM]
    total = sum(scaled)
    if solver.ions.steric:
        phi = sum(v * c for v, c in zip(solver.ions.volumes, scaled, strict=True))
        if phi > 0.0:
            total = total * -np.log1p(-phi) / phi
    return solver.pressure_scale * total


def restore_flow(solver: Any, solution: Any) -> Any:
    """Copy the velocity and pressure of a flow solution (a :class:`FlowSolution` or a study's
    ``FlowPNPSolution``) into ``solver``; return the PNP part for ``set_state``. A plain PNP
    solution leaves the flow fields as they are."""
    if isinstance(solution, FlowSolution):
        solution = solution.pnp
    if getattr(solution, "velocity", None) is not None:  # FlowPNPSolution (study states)
        solver.velocity.x.array[:] = solution.velocity.x.array
        solver.pressure.x.array[:] = solution.reduced_pressure.x.array
    return solution


def set_end_pressures(solver: Any, p: Params) -> None:
    """Reduced end pressures ``p_end - Pi_end`` [MPa] at the parameters ``p``."""
    fld = solver.flow_fields
    fld.p_bottom.value = -bath_osmotic_pressure(solver, p.bath_bottom)
    fld.p_top.value = solver._dp_pa * PA_TO_SOLVER - bath_osmotic_pressure(solver, p.bath_top)


class SteadyPNPStokesSolver(SteadyPNPSolver):
    """Steady PNP-Stokes on a channel mesh: build forms once, solve many times.

    Parameters
    ----------
    cmesh
        Mesh record.
    problem
        :class:`pnp.problems.transport.PNPProblem` (electrostatics, baths, voltage).
    flow
        :class:`pnp.problems.flow.FlowProblem` (pressure difference, viscosity, slip, walls);
        default: no pressure difference, water viscosity at the problem's temperature.
    options
        :class:`pnp.solvers.options.SolverOptions`; ``linear_solver="auto"`` gives LU up to
        :data:`FLOW_LU_DOF_LIMIT` unknowns and the field split above; ``"krylov"`` is not
        available with flow.

    Examples
    --------
    >>> solver = SteadyPNPStokesSolver(cmesh, problem, FlowProblem(1e5))   # doctest: +SKIP
    >>> sol = solver.solve(voltage=100.0)                                  # doctest: +SKIP
    >>> sol.current, sol.flow_rate, sol.convective_currents                # doctest: +SKIP
    """

    def __init__(
        self,
        cmesh: Any,
        problem: PNPProblem,
        flow: FlowProblem | None = None,
        options: SolverOptions | None = None,
    ) -> None:
        self.flow = FlowProblem() if flow is None else flow
        if not isinstance(self.flow, FlowProblem):
            raise InputError("flow must be a pnp.problems.flow.FlowProblem")
        if options is not None and options.linear_solver == "krylov":
            raise InputError(
                "linear_solver='krylov' has no flow block; use 'lu', 'fieldsplit' or 'auto'"
            )
        self._dp_pa = self.flow.pressure_difference_Pa
        super().__init__(cmesh, problem, options)

    # --- construction -----------------------------------------------------------------------
    def _build_forms(self) -> None:
        super()._build_forms()
        self.body_force = add_flow_terms(self, self.flow)
        self.residuals.extend(self.flow_fields.residuals(self.body_force))

    def _bcs(self) -> list[Any]:
        return super()._bcs() + self.flow_fields.bcs()

    @property
    def num_dofs(self) -> int:
        """Global number of unknowns (potential, concentrations, velocity, pressure)."""
        imap_u = self.flow_fields.U.dofmap.index_map
        nu = imap_u.size_global * self.flow_fields.U.dofmap.index_map_bs
        return super().num_dofs + nu + self.flow_fields.Q.dofmap.index_map.size_global

    def _build_solver(self) -> None:
        opts = self.options
        kind_name = opts.linear_solver
        if kind_name == "auto":
            limit = FLOW_LU_DOF_LIMIT.get(self.cmesh.tdim, 10**9)
            kind_name = "lu" if self.num_dofs <= limit else "fieldsplit"
        self.linear_solver = kind_name
        self.bcs = self._bcs()
        unknowns = [self.psi, *self.us, self.velocity, self.pressure]
        J = dolfinx.fem.forms.derivative_block(self.residuals, unknowns)
        petsc: dict[str, Any] = {"snes_stol": opts.stol, "snes_divergence_tolerance": 1e12}
        if kind_name == "lu":
            kind, solver = "mpi", "direct"
        else:
            from pnp.solvers.flow_pc import flow_fieldsplit_options

            kind, solver = "nest", "iterative"
            petsc.update(flow_fieldsplit_options(len(unknowns), opts.ksp_rtol or 1e-8))
        self.preconditioner = None
        self.newton = NewtonSolver(
            self.residuals, unknowns, self.bcs, J=J, name="pnp_stokes", solver=solver,
            symmetric=False, petsc_options=petsc, rtol=opts.rtol, atol=opts.atol,
            max_it=opts.max_it, kind=kind, entity_maps=[self.entity_map],
        )  # fmt: skip
        if kind_name != "lu":
            from pnp.solvers.flow_pc import install_flow_fieldsplit

            install_flow_fieldsplit(self)
        if opts.max_update is not None and opts.variables == "log":
            self._install_damping(float(opts.max_update), kind)
        if self.ions.steric:  # end currents from the steric flux (pnp.results.currents)
            self._end_forms = StericEndForms(self)

    def _install_damping(self, limit: float, kind: str) -> None:
        """Cap the Newton change of ``psi`` and ``ln c`` (not of velocity/pressure) at ``limit``."""
        spaces = [self.V, *self.Ws]
        nlocal = sum(S.dofmap.index_map.size_local for S in spaces)
        comm = self.comm

        def damp(x: Any, y: Any) -> None:
            if kind == "nest":
                parts = y.getNestSubVecs()[: len(spaces)]
                local = max(
                    (float(np.max(np.abs(v.getArray(readonly=True)), initial=0.0)) for v in parts),
                    default=0.0,
                )
            else:
                local = float(np.max(np.abs(y.getArray(readonly=True)[:nlocal]), initial=0.0))
            big = comm.allreduce(local, op=MPI.MAX)
            if big > limit:
                y.scale(limit / big)

        self.newton.snes.setLineSearchPreCheck(damp)

    # --- state ------------------------------------------------------------------------------
    def _save(self) -> list[np.ndarray]:
        return [*super()._save(), self.velocity.x.array.copy(), self.pressure.x.array.copy()]

    def _restore(self, state: Sequence[np.ndarray]) -> None:
        super()._restore(state[:-2])
        self.velocity.x.array[:] = state[-2]
        self.pressure.x.array[:] = state[-1]

    def _set_cold_guess(self, p: Params) -> None:
        if hasattr(self, "flow_fields"):
            self.velocity.x.array[:] = 0.0
            self.pressure.x.array[:] = 0.0
        super()._set_cold_guess(p)

    def set_state(self, solution: Any) -> None:
        """Use a previous solution of this mesh as the next guess: a
        :class:`pnp.results.flow.FlowSolution` (all fields), or a PNP solution (its potential and
        concentrations; velocity and pressure keep their current values)."""
        super().set_state(restore_flow(self, solution))

    def _apply(self, p: Params) -> None:
        """Set the PNP constants and the reduced end pressures ``p_end - Pi_end`` [MPa]."""
        super()._apply(p)
        set_end_pressures(self, p)

    # --- solve ------------------------------------------------------------------------------
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
        """Solve the steady PNP-Stokes equations; return a :class:`pnp.results.flow.FlowSolution`.

        Parameters are those of :meth:`pnp.solvers.steady.SteadyPNPSolver.solve` plus
        ``pressure_difference_Pa`` (``p_top - p_bottom`` [Pa]; ``None`` = the flow problem's).
        The flow is linear in the pressure difference, so changing it needs no continuation.
        """
        if pressure_difference_Pa is not None:
            self._dp_pa = self.flow.with_pressure(pressure_difference_Pa).pressure_difference_Pa
        else:
            self._dp_pa = self.flow.pressure_difference_Pa
        sol = super().solve(
            voltage, bath_top=bath_top, bath_bottom=bath_bottom, charge_scale=charge_scale,
            warm=warm,
        )  # fmt: skip
        return flow_solution(self, sol)
