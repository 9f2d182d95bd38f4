"""Steady Poisson-Nernst-Planck solver (2D axisymmetric and 3D from one set of forms).

Unknowns
--------
- ``psi = e phi / kT`` (P1) on the **whole** mesh (water, membrane, protein);
- one concentration unknown per mobile species (P1) on the **water sub-mesh**
  (``dolfinx.mesh.create_submesh`` of the water cells, coupled to ``psi`` through the entity map):
  the walls are natural no-flux boundaries of the sub-mesh, so no ion enters membrane or protein
  and no value is pinned anywhere.

Variables
---------
Default: log-concentrations ``u_i = ln(c_i/c0)`` (``variables="log"``), positive by construction;
``"primitive"`` (``u_i = c_i/c0``) is kept for comparison (it gives negative nodal concentrations
in depleted double layers; the measurements are in ``docs/pnp_solver.md``). Each Newton direction
is scaled so that no ``psi`` or ``ln c`` changes by more than ``max_update`` (4) per step.
The steric ion models use chemical potentials instead (:mod:`pnp.solvers.ion_fields`,
``docs/continuum_models.md``).

Solvers and continuation
------------------------
Newton (PETSc SNES ``newtonls`` with backtracking, :class:`pnp.solvers.newton.NewtonSolver`),
the converged reason always checked. Linear solvers (:class:`SolverOptions`): ``"lu"`` (MUMPS),
``"krylov"`` (FGMRES preconditioned in electrochemical-potential variables,
:mod:`pnp.solvers.preconditioners`) and ``"fieldsplit"``; ``"auto"`` picks LU below
:data:`LU_DOF_LIMIT` unknowns. Forms are compiled once; voltage, bath concentrations and the
fixed-charge scale are ``dolfinx.fem.Constant`` objects, so a sweep reuses them and warm-starts
(secant predictor, then one chord step). A failed direct solve falls back to continuation from
the last converged parameters, then from the trivial state; if that fails too,
:class:`poreflux.errors.ConvergenceError` carries every attempt and the fields are restored.
``docs/pnp_solver.md`` has the details and the measurements behind these choices.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from pnp.forms.charges import fixed_charge_terms
from pnp.forms.measures import build_measures, permittivity_field
from pnp.problems.transport import PNPProblem
from pnp.results.pnp_solution import make_solution
from pnp.solvers.ion_fields import (
    IonFields,
    StericEndForms,
    add_time_derivative,
    build_residuals,
    solution_fields,
    update_cap,
    water_permittivity,
)
from pnp.solvers.newton import ContinuationParameter, NewtonSolver
from pnp.solvers.options import (
    LINEAR_SOLVERS,
    LU_DOF_LIMIT,
    Params,
    SolverOptions,
    SolveStats,
    describe,
    fieldsplit_options,
    krylov_options,
    parameter_changes,
)
from pnp.solvers.preconditioners import install_electrochemical_pc
from poreflux.errors import ConvergenceError, InputError, SolveAttempt
from poreflux.units import Scales

__all__ = [
    "LINEAR_SOLVERS",
    "LU_DOF_LIMIT",
    "Params",
    "SolveStats",
    "SolverOptions",
    "SteadyPNPSolver",
    "fieldsplit_options",
    "krylov_options",
]

log = logging.getLogger(__name__)


class SteadyPNPSolver:
    """Steady PNP on a :class:`meshes.record.ChannelMesh`: build forms once, solve many times.

    Parameters
    ----------
    cmesh
        The mesh record (regions/boundaries by name).
    problem
        The :class:`pnp.problems.transport.PNPProblem`; later :meth:`solve` calls may change
        voltage,
        bath concentrations and fixed-charge scale without recompiling.
    options
        :class:`SolverOptions`.
    time_dependent
        Also build the time-derivative terms (for :mod:`pnp.solvers.transient`).

    Examples
    --------
    >>> solver = SteadyPNPSolver(cmesh, problem)          # doctest: +SKIP
    >>> sol = solver.solve(voltage=100.0)                 # doctest: +SKIP
    >>> sol.current, sol.conductance                      # doctest: +SKIP
    """

    def __init__(
        self,
        cmesh: Any,
        problem: PNPProblem,
        options: SolverOptions | None = None,
        *,
        time_dependent: bool = False,
    ) -> None:
        if not isinstance(problem, PNPProblem):
            raise InputError("problem must be a pnp.problems.transport.PNPProblem")
        problem.check_mesh(cmesh)
        self.cmesh = cmesh
        self.problem = problem
        self.options = options or SolverOptions()
        self.comm = cmesh.comm
        self.scales = Scales(problem.temperature, c0_mM=problem.reference_concentration)
        self.stats = SolveStats()
        self._build_spaces()
        self._build_forms()
        if time_dependent:
            self._add_time_derivative()
        self._build_solver()
        self._converged: Params | None = None
        self._atol: float | None = None  # absolute Newton tolerance set by the predictor
        self._set_cold_guess(self.target_params(problem))

    def _build_spaces(self) -> None:
        cm, pb = self.cmesh, self.problem
        msh = cm.mesh
        tdim = msh.topology.dim
        self.measures = build_measures(cm)
        self.water = pb.water(cm)
        water_tags = [cm.region(r) for r in self.water]
        cells = np.unique(np.concatenate([cm.cell_tags.find(t) for t in water_tags]))
        cells = cells.astype(np.int32)
        sub, emap, vmap, _ = dolfinx.mesh.create_submesh(msh, tdim, cells)
        self.submesh, self.entity_map, self.vertex_map = sub, emap, vmap
        self.water_cells = cells
        msh.topology.create_connectivity(tdim - 1, tdim)
        sub.topology.create_connectivity(tdim - 1, tdim)
        self.sub_facet_tags = dolfinx.mesh.transfer_meshtags_to_submesh(
            cm.facet_tags, sub, vmap, emap
        )
        self.V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
        self.W = dolfinx.fem.functionspace(sub, ("Lagrange", 1))
        self.psi = dolfinx.fem.Function(self.V, name="psi")
        # one space object per species: block Dirichlet conditions are matched to their space
        self.Ws = [dolfinx.fem.functionspace(sub, ("Lagrange", 1)) for _ in pb.species]
        self.us = [dolfinx.fem.Function(S, name=f"c{i}") for i, S in enumerate(self.Ws)]
        # parent cells of the sub-mesh cells (local), for interpolation between the meshes
        nsub = sub.topology.index_map(tdim).size_local + sub.topology.index_map(tdim).num_ghosts
        self.sub_cells = np.arange(nsub, dtype=np.int32)
        self.parent_cells = np.asarray(
            emap.sub_topology_to_topology(self.sub_cells, False), dtype=np.int32
        )

    def _constant(self, value: float) -> Any:
        return dolfinx.fem.Constant(self.cmesh.mesh, PETSc.ScalarType(value))

    def _build_forms(self) -> None:
        pb, opts, sc, meas = self.problem, self.options, self.scales, self.measures
        self.eps_r = permittivity_field(self.cmesh, pb.electrostatics.permittivity)
        md = (
            None
            if opts.quadrature_degree is None
            else {"quadrature_degree": opts.quadrature_degree}
        )
        self.dx_water = meas.region(self.water, metadata=md)
        weight = meas.weight
        self.K = self._constant(sc.poisson_coefficient)
        self.charge_scale = self._constant(1.0)
        self.voltage_c = self._constant(0.0)
        n = len(pb.species)
        self.bath_top_c = [self._constant(0.0) for _ in range(n)]
        self.bath_bottom_c = [self._constant(0.0) for _ in range(n)]
        self.mu = []
        for name in pb.species_names:
            f = pb.mu_ex.get(name)
            if f is None:
                self.mu.append(None)
                continue
            g = dolfinx.fem.Function(self.W, name=f"mu_ex_{name}")
            g.interpolate(lambda x, f=f: np.asarray(f(x), dtype=float) * np.ones(x.shape[1]))
            self.mu.append(g)
        self.fixed_source = self._fixed_source(ufl.TestFunction(self.V), weight)
        self.space_charge = self._constant(1.0 if opts.space_charge else 0.0)
        self.ions = IonFields(pb, sc, opts.variables, water_permittivity(self))
        self.residuals = build_residuals(self)

    def _add_time_derivative(self) -> None:
        """Add ``dc/dt`` as the multistep mass term (:func:`ion_fields.add_time_derivative`)."""
        add_time_derivative(self)

    def _fixed_source(self, v: Any, weight: Any) -> Any:
        """Scaled fixed-charge source (linear in ``v``), shared with the PB solver."""
        es = self.problem.electrostatics
        self.fixed = fixed_charge_terms(self.cmesh, self.measures, es, self.scales)
        return self.fixed.source(v, weight)

    def _bcs(self) -> list[Any]:
        cm, pb = self.cmesh, self.problem
        tdim = cm.mesh.topology.dim
        bcs = []
        top_f = cm.facet_tags.find(cm.boundary(pb.top))
        bot_f = cm.facet_tags.find(cm.boundary(pb.bottom))
        top_d = dolfinx.fem.locate_dofs_topological(self.V, tdim - 1, top_f)
        bot_d = dolfinx.fem.locate_dofs_topological(self.V, tdim - 1, bot_f)
        bcs.append(dolfinx.fem.dirichletbc(self.voltage_c, top_d, self.V))
        bcs.append(dolfinx.fem.dirichletbc(self._constant(0.0), bot_d, self.V))
        for d in pb.electrostatics.dirichlet:
            facets = cm.facet_tags.find(cm.boundary(d.boundary))
            dofs = dolfinx.fem.locate_dofs_topological(self.V, tdim - 1, facets)
            value = self._constant(self.scales.potential_to_scaled(d.value))
            bcs.append(dolfinx.fem.dirichletbc(value, dofs, self.V))
        self.psi_bcs = list(bcs)
        sft = self.sub_facet_tags
        self.top_dofs_w = dolfinx.fem.locate_dofs_topological(
            self.W, tdim - 1, sft.find(cm.boundary(pb.top))
        )
        self.bottom_dofs_w = dolfinx.fem.locate_dofs_topological(
            self.W, tdim - 1, sft.find(cm.boundary(pb.bottom))
        )
        for S, ct, cb in zip(self.Ws, self.bath_top_c, self.bath_bottom_c, strict=True):
            bcs.append(dolfinx.fem.dirichletbc(ct, self.top_dofs_w, S))
            bcs.append(dolfinx.fem.dirichletbc(cb, self.bottom_dofs_w, S))
        self._check_mu_at_ends()
        return bcs

    def _check_mu_at_ends(self) -> None:
        for name, mu in zip(self.problem.species_names, self.mu, strict=True):
            if mu is None:
                continue
            ends = np.concatenate([self.top_dofs_w, self.bottom_dofs_w])
            worst = float(np.max(np.abs(mu.x.array[ends]), initial=0.0))
            worst = self.comm.allreduce(worst, op=MPI.MAX)
            if worst > 1e-8:
                raise InputError(
                    f"mu_ex of {name!r} is {worst:.3g} kT on a bath end; it must vanish there "
                    "(shift the PMF so that it is 0 in the baths)"
                )

    @property
    def fields(self) -> list[Any]:
        """The Newton unknowns: potential, concentration unknowns (and the BSK charge)."""
        extra = [self.f] if self.ions.correlations else []
        return [self.psi, *self.us, *extra]

    @property
    def num_dofs(self) -> int:
        """Global number of unknowns (potential + all concentrations (+ BSK charge))."""
        nv = self.V.dofmap.index_map.size_global
        nw = self.W.dofmap.index_map.size_global
        return nv + nw * (len(self.fields) - 1)

    def _build_solver(self) -> None:
        opts = self.options
        kind_name = opts.linear_solver
        if kind_name == "auto":
            limit = LU_DOF_LIMIT[min(self.cmesh.tdim, 3)] if self.cmesh.tdim >= 2 else 10**9
            krylov = "krylov" if opts.variables == "log" else "fieldsplit"
            krylov = "fieldsplit" if self.ions.correlations else krylov
            kind_name = "lu" if self.num_dofs <= limit else krylov
        if kind_name == "krylov" and self.ions.correlations:
            raise InputError(
                "linear_solver='krylov' does not support ion_model='steric+correlations' (its "
                "preconditioner has no block for the correlation field): use 'fieldsplit' or 'lu'"
            )
        self.linear_solver = kind_name
        self.bcs = self._bcs()
        unknowns = self.fields
        J = dolfinx.fem.forms.derivative_block(self.residuals, unknowns)
        petsc: dict[str, Any] = {
            "snes_stol": opts.stol,
            "snes_divergence_tolerance": 1e12,
        }
        constant_blocks: list[tuple[int, int]] = []
        if kind_name == "lu":
            kind, solver = "mpi", "direct"
        else:
            kind, solver = "nest", "iterative"
            constant_blocks = [(0, 0)]  # -div(eps grad psi): the unknowns do not enter it
            if kind_name == "krylov":
                petsc.update(krylov_options(opts.ksp_rtol or 1e-3))
            else:
                petsc.update(fieldsplit_options(len(unknowns), opts.ksp_rtol or 1e-8))
        self.preconditioner = None
        self.newton = NewtonSolver(
            self.residuals,
            unknowns,
            self.bcs,
            J=J,
            name="pnp",
            solver=solver,
            symmetric=False,
            petsc_options=petsc,
            rtol=opts.rtol,
            atol=opts.atol,
            max_it=opts.max_it,
            kind=kind,
            entity_maps=[self.entity_map],
            constant_blocks=constant_blocks,
            reuse_jacobian=opts.reuse_jacobian,
            csr_assembly=kind == "nest" and opts.csr_assembly,
        )
        if kind_name == "krylov":
            self._install_electrochemical_pc()
        if opts.max_update is not None and opts.variables == "log":
            self.newton.snes.setLineSearchPreCheck(update_cap(self, float(opts.max_update)))
        if self.ions.steric:
            self._end_forms = StericEndForms(self)  # read by pnp.results.currents.end_currents

    def _install_electrochemical_pc(self, sub_solver: str = "gamg") -> None:
        """Precondition the Krylov solves in electrochemical-potential variables."""
        if self.preconditioner is not None:
            self.preconditioner.destroy()
        self.preconditioner = install_electrochemical_pc(self, sub_solver)

    def target_params(self, problem: PNPProblem | None = None, **changes: Any) -> Params:
        """Continuation parameters of ``problem`` (default: this solver's) with ``changes``."""
        pb = problem or self.problem
        p = Params(pb.voltage, pb.bath_concentrations("top"), pb.bath_concentrations("bottom"))
        return replace(p, **changes) if changes else p

    def _save(self) -> list[np.ndarray]:
        return [f.x.array.copy() for f in self.fields]

    def _restore(self, state: Sequence[np.ndarray]) -> None:
        for f, a in zip(self.fields, state, strict=True):
            f.x.array[:] = a

    def _set_cold_guess(self, p: Params) -> None:
        """Potential and log-concentrations linear along the line from the bottom to the top end."""
        x_bot = self.cmesh.boundary_centroid(self.problem.bottom)
        x_top = self.cmesh.boundary_centroid(self.problem.top)
        axis = x_top - x_bot
        norm2 = max(float(axis @ axis), 1e-300)

        def s_of(x: np.ndarray) -> np.ndarray:
            return np.clip(((x.T - x_bot) @ axis) / norm2, 0.0, 1.0)

        vs = self.scales.potential_to_scaled(p.voltage)
        self.psi.interpolate(lambda x: vs * s_of(x))
        primitive = self.options.variables == "primitive"
        tops = self.ions.bath_unknowns(p.bath_top)
        bottoms = self.ions.bath_unknowns(p.bath_bottom)
        for u, lt, lb in zip(self.us, tops, bottoms, strict=True):
            if primitive:  # concentrations exponential along the axis
                lt, lb = math.log(lt), math.log(lb)

            def guess(x: np.ndarray, lt: float = lt, lb: float = lb) -> np.ndarray:
                val = lb + s_of(x) * (lt - lb)
                return np.exp(val) if primitive else val

            u.interpolate(guess)
        if self.ions.correlations:
            self.f.x.array[:] = 0.0
        self._converged = None
        self._recent = []

    def set_state(self, solution: Any) -> None:
        """Use a previous :class:`pnp.results.pnp_solution.PNPSolution` of this mesh as the next
        guess."""
        self.psi.x.array[:] = solution.psi.x.array
        arrays = self.ions.unknowns_from_log([src.x.array for src in solution.unknowns])
        for u, a in zip(self.us, arrays, strict=True):
            u.x.array[:] = a
        self._converged = solution.params
        self._recent = [(solution.params, self._save())]

    def _constants(self) -> list[tuple[Any, str]]:
        out = [(self.voltage_c, "voltage"), (self.charge_scale, "fixed charge")]
        out += [
            (c, f"top {n}")
            for c, n in zip(self.bath_top_c, self.problem.species_names, strict=True)
        ]
        out += [
            (c, f"bottom {n}")
            for c, n in zip(self.bath_bottom_c, self.problem.species_names, strict=True)
        ]
        return out

    def _scaled(self, p: Params) -> list[float]:
        """The constants' values at ``p`` (same order as :meth:`_constants`)."""
        return [
            self.scales.potential_to_scaled(p.voltage),
            p.charge_scale,
            *self.ions.bath_unknowns(p.bath_top),
            *self.ions.bath_unknowns(p.bath_bottom),
        ]

    def _apply(self, p: Params) -> None:
        for (const, _), value in zip(self._constants(), self._scaled(p), strict=True):
            const.value = value

    def _ramp(self, start: Params, target: Params, stage: str, max_it: int | None = None) -> None:
        """Newton at ``target`` from the current fields, continuing from ``start`` on failure.

        Raises :class:`ConvergenceError` (fields restored) when it fails; the attempts are
        appended to :attr:`stats` (labelled with ``stage``) either way. ``max_it`` caps the
        Newton iterations of each attempt of this stage.
        """
        self._apply(target)
        snes = self.newton.snes
        default_max_it = snes.getTolerances()[3]
        if max_it is not None:
            snes.setTolerances(max_it=max_it)
        if self._atol is not None:
            snes.setTolerances(atol=self._atol)
        path = [
            ContinuationParameter(const, t, s, name)
            for (const, name), s, t in zip(
                self._constants(), self._scaled(start), self._scaled(target), strict=True
            )
            if s != t
        ]
        try:
            report = self.newton.solve(
                path, min_step=self.options.min_step, max_attempts=self.options.max_attempts
            )
        except ConvergenceError as exc:
            self._record(exc.attempts, 0, stage)
            raise
        finally:
            snes.setTolerances(max_it=default_max_it, atol=self.options.atol)
        self.last_report = report
        linear = report.linear_iterations
        if linear == 0 and self.linear_solver != "lu":
            linear = self.newton.snes.getLinearSolveIterations()  # last attempt's count
        self._record(report.attempts, linear, stage)
        self._converged = target

    def _record(self, attempts: Sequence[SolveAttempt], linear: int, stage: str = "") -> None:
        for a in attempts:
            if stage:
                a.label = f"[{stage}] {a.label}"
        self.stats.attempts.extend(attempts)
        self.stats.newton_iterations += sum(a.iterations for a in attempts)
        self.stats.linear_iterations += int(linear)

    def close(self) -> None:
        """Release the PETSc objects now (see :meth:`pnp.solvers.newton.NewtonSolver.close`)."""
        self.newton.close()
        if self.preconditioner is not None:
            self.preconditioner.destroy()
            self.preconditioner = None

    def solve(
        self,
        voltage: float | None = None,
        *,
        bath_top: Sequence[float] | None = None,
        bath_bottom: Sequence[float] | None = None,
        charge_scale: float = 1.0,
        warm: bool = True,
    ) -> Any:
        """Solve the steady PNP equations; return a :class:`pnp.results.pnp_solution.PNPSolution`.

        Parameters
        ----------
        voltage
            Applied voltage ``phi_top - phi_bottom`` [mV]; ``None`` = the problem's.
        bath_top, bath_bottom
            Bath concentrations [mM] in species order (:attr:`PNPProblem.species_names`);
            ``None`` = the problem's.
        charge_scale
            Multiplies every fixed charge.
        warm
            Start from the current fields (the previous solution) when True, else from the cold
            guess.

        Raises
        ------
        ConvergenceError
            When neither the direct solve nor continuation converges; the fields are restored to
            the last converged state (never NaN) and the error lists every attempt.
        """

        changes = parameter_changes(
            self.problem.species_names, voltage, bath_top, bath_bottom, charge_scale
        )
        target = self.target_params(**changes)
        self.stats = SolveStats()
        self._atol = None
        t0 = time.perf_counter()
        caller_state = self._save()
        if not warm or self._converged is None:
            self._set_cold_guess(target)
        entry_state, entry_params = self._save(), self._converged
        if warm and entry_params is not None and self.options.predictor:
            self._predict(target)
            self._chord(target)
        try:
            if entry_params is not None:
                self._ramp(entry_params, target, f"from {describe(entry_params)}")
            else:  # cold: a short direct try, then the staged path from the trivial state
                cold_it = min(self.options.cold_max_it, self.options.max_it)
                self._ramp(target, target, "cold start", max_it=cold_it)
        except ConvergenceError:
            self._restore(entry_state)
            self._atol = None
            try:
                self._from_trivial(target)
            except ConvergenceError:
                self._restore(caller_state)
                if entry_params is not None:
                    self._apply(entry_params)
                self._converged = entry_params
                self.stats.wall_time = time.perf_counter() - t0
                raise ConvergenceError(
                    f"steady PNP did not converge at {describe(target)}, neither directly nor "
                    "with continuation in fixed charge, concentration and voltage. Try smaller "
                    "voltage steps from a converged state, a finer mesh near charged walls, or "
                    "check the input",
                    self.stats.attempts,
                ) from None
        self.stats.wall_time = time.perf_counter() - t0
        self._recent = [*self._recent[-1:], (target, self._save())]
        return self.solution(target)

    def solution(self, params: Params, *, time: float | None = None) -> Any:
        """Snapshot of the current fields as a :class:`pnp.results.pnp_solution.PNPSolution`
        (log-concentration unknowns whatever the ion model)."""
        return solution_fields(self, make_solution(self, params, time=time))

    def _predict(self, target: Params) -> None:
        """Secant predictor along the voltage: extrapolate the last two converged states.

        Used only when the last two solves and the target differ in voltage alone (an I-V
        sweep); the step ratio is capped at 2.
        """
        if len(self._recent) < 2:
            return
        (p0, s0), (p1, s1) = self._recent
        same = replace(p0, voltage=p1.voltage) == p1 and replace(target, voltage=p1.voltage) == p1
        if not same or p1.voltage == p0.voltage or p1 != self._converged:
            return
        theta = (target.voltage - p1.voltage) / (p1.voltage - p0.voltage)
        if abs(theta) > 2.0:
            return
        self._restore([a1 + theta * (a1 - a0) for a0, a1 in zip(s0, s1, strict=True)])

    def _chord(self, target: Params) -> None:
        """Tangent predictor: one Newton step with the last solve's Jacobian (no assembly)."""
        if target == self._converged:
            return
        self._apply(target)
        cap = self.options.max_update if self.options.variables == "log" else None
        step = self.newton.chord_step(max_update=cap)
        if step is not None:
            self.stats.predictor_steps += 1
            self.stats.linear_iterations += step[2]
            # SNES measures rtol from its first residual, which the predictor has lowered: keep
            # the criterion of a solve without predictor (relative to the residual before it)
            self._atol = max(self.options.atol, self.options.rtol * step[0])

    def _from_trivial(self, target: Params) -> None:
        """Continuation from the trivial state (no fixed charge, 0 V): charge, then voltage."""
        trivial = replace(target, voltage=0.0, charge_scale=0.0)
        self._set_cold_guess(trivial)
        self._ramp(trivial, trivial, "trivial state")
        charged = replace(trivial, charge_scale=target.charge_scale)
        self._ramp(trivial, charged, "fixed-charge ramp at 0 V")
        self._ramp(charged, target, "voltage and concentration ramp")

    def psi_on_water(self) -> Any:
        """The potential interpolated onto the water sub-mesh (a new P1 function)."""
        f = dolfinx.fem.Function(self.W, name="psi_water")
        f.interpolate(self.psi, cells0=self.parent_cells, cells1=self.sub_cells)
        return f
