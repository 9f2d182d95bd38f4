"""The Poisson-Boltzmann solver: build spaces and forms once, solve many times.

Example
-------
>>> problem = PBProblem(Electrostatics(298.15, {"water": 78.5, "membrane": 2.0},
...                                    surface_charges=[SurfaceCharge("membrane_wall", -0.05)]),
...                     salt("KCl", 150.0), model="nonlinear")          # doctest: +SKIP
>>> solution = PBSolver(channel_mesh, problem).solve()                 # doctest: +SKIP
>>> solution.energy_kj_per_mol, solution.axial_profile(100)             # doctest: +SKIP

The potential lives on the whole mesh (continuous Lagrange, degree 1 or 2); mobile ions only in
the water regions. Internally the equation is scaled (:mod:`pnp.forms.poisson`); results are
returned
in API units (mV, mM, kJ/mol, e).
"""

from __future__ import annotations

import logging
from typing import Any

import dolfinx
import ufl

from pnp.forms import poisson as _forms
from pnp.forms.charges import fixed_charge_terms
from pnp.forms.measures import (
    build_measures,
    permittivity_field,
    region_field,
)
from pnp.problems.electrostatics import PBProblem
from pnp.results.observables import assemble_scalar, fixed_charge_energy_kT
from pnp.results.pb_solution import IonModel, PBSolution
from pnp.solvers.newton import (
    AUTO_DIRECT_MAX_DOFS_2D,
    AUTO_DIRECT_MAX_DOFS_3D,
    ContinuationParameter,
    NewtonSolver,
)
from pnp.solvers.pb_correlations import correlation_field
from poreflux.errors import InputError
from poreflux.units import MOLAR, Scales

logger = logging.getLogger(__name__)

__all__ = ["PBSolver", "solve_pb"]


class PBSolver:
    """Poisson-Boltzmann on a :class:`meshes.record.ChannelMesh`.

    Parameters
    ----------
    cmesh
        Mesh record with named regions and boundaries.
    problem
        :class:`pnp.problems.electrostatics.PBProblem`; its names are checked against the mesh.
    degree
        Lagrange degree of the potential (1 or 2).
    solver, petsc_options, rtol, atol, max_it, profile
        Passed to :class:`pnp.solvers.newton.NewtonSolver`.
    quadrature_degree
        Quadrature degree of the mobile-ion (exponential) term; default ``2 * degree``.
    c0_mM
        Reference concentration of the scaling; default the ionic strength (1 M without ions).
    lag_preconditioner
        With the Krylov solver (not LU), set the (GAMG) preconditioner up once per
        :meth:`solve`, at its first Newton step, and keep it for the later steps (default
        ``True``). The Newton matrices of PB differ only in the positive reaction term
        ``K s(psi) u v`` (``s = -d rho_m/d psi``), so the first one preconditions the others
        well: on the 3D channel at 1.6e4 unknowns the CG iterations per step grew from 7.6 to
        8.0 while the set-ups fell from five to one. The Krylov solve still uses each step's
        exact Jacobian, so the solution is unchanged.
    """

    def __init__(
        self,
        cmesh: Any,
        problem: PBProblem,
        *,
        degree: int = 1,
        solver: str = "auto",
        petsc_options: dict[str, Any] | None = None,
        rtol: float = 1e-10,
        atol: float = 1e-10,
        max_it: int = 50,
        quadrature_degree: int | None = None,
        c0_mM: float | None = None,
        lag_preconditioner: bool = True,
        profile: bool = False,
        name: str = "pb",
    ):
        if not isinstance(problem, PBProblem):
            raise InputError("problem must be a pnp.problems.electrostatics.PBProblem")
        if degree not in (1, 2, 3):
            raise InputError(f"degree must be 1, 2 or 3, got {degree!r}")
        problem.check_mesh(cmesh)
        self.cmesh = cmesh
        self.problem = problem
        es = problem.electrostatics
        electrolyte = problem.electrolyte
        if c0_mM is None:
            c0_mM = electrolyte.ionic_strength if electrolyte is not None else MOLAR
        self.scales = Scales(es.temperature, c0_mM=c0_mM)
        msh = cmesh.mesh
        self.measures = build_measures(cmesh)
        self.V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
        self.psi = dolfinx.fem.Function(self.V, name="psi")
        v = ufl.TestFunction(self.V)
        self.eps_r = permittivity_field(cmesh, es.permittivity)
        self.coefficient = dolfinx.fem.Constant(msh, self.scales.poisson_coefficient)
        self.charge_scale = dolfinx.fem.Constant(msh, 1.0)
        weight = self.measures.weight

        # fixed charges (scaled); each density carries the continuation factor charge_scale
        self.fixed = fixed_charge_terms(cmesh, self.measures, es, self.scales, self.charge_scale)
        self.point_density = self.fixed.point_density
        fixed = self.fixed.source(v, weight)

        mobile, dx_water = self._mobile_ions(v, quadrature_degree, degree)
        self.correlations = None
        if problem.correlation_length is not None and mobile is not None:
            ell = problem.correlation_length / self.scales.length_nm
            self.correlations = correlation_field(
                cmesh, problem.water(cmesh), mobile, dx_water, weight, degree, ell
            )
            mobile = self.correlations.f  # Poisson sees the smoothed charge
        dx = self.measures.dx
        if mobile is not None and self.correlations is None and self._exact_stiffness(degree):
            dx, mobile = self._single_cell_integral(mobile)
            dx_water = dx
        self.F = _forms.pb_residual(
            self.psi,
            v,
            eps_r=self.eps_r,
            weight=weight,
            dx=dx,
            coefficient=self.coefficient,
            fixed_source=fixed,
            mobile=mobile,
            dx_water=dx_water,
        )

        self.bcs, self.bc_values = self._dirichlet_conditions()

        energy = self.fixed.energy(self.psi, weight)
        self._energy_form = dolfinx.fem.form(energy) if energy is not None else None
        unknowns, residuals, extra = self.psi, self.F, {}
        if self.correlations is not None:  # block system [psi, f]: LU on the monolithic matrix
            unknowns = [self.psi, self.correlations.f]
            residuals = [self.F, self.correlations.residual]
            extra = {"kind": "mpi", "entity_maps": [self.correlations.entity_map]}
            solver = "direct" if solver == "auto" else solver
        solver = self._linear_solver(solver)
        self.lag_preconditioner = bool(lag_preconditioner) and solver == "iterative"
        if self.lag_preconditioner:  # PETSc rebuilds it once (at the first step), then keeps it
            petsc_options = {"snes_lag_preconditioner": -2} | dict(petsc_options or {})
        self._solves = 0
        self.newton = NewtonSolver(
            residuals,
            unknowns,
            self.bcs,
            name=name,
            solver=solver,
            symmetric=self.correlations is None,
            petsc_options=petsc_options,
            rtol=rtol,
            atol=atol,
            max_it=max_it,
            profile=profile,
            **extra,
        )

    def _linear_solver(self, solver: str) -> str:
        """``"direct"`` or ``"iterative"`` (``"auto"`` decided by size, as the Newton solver)."""
        if solver != "auto":
            return solver
        msh = self.V.mesh
        limit = AUTO_DIRECT_MAX_DOFS_2D if msh.topology.dim <= 2 else AUTO_DIRECT_MAX_DOFS_3D
        return "direct" if self.V.dofmap.index_map.size_global <= limit else "iterative"

    def _mobile_ions(
        self, v: Any, quadrature_degree: int | None, degree: int
    ) -> tuple[Any | None, Any | None]:
        """Set up the ion model; return the scaled mobile charge and its water measure."""
        problem, msh = self.problem, self.cmesh.mesh
        electrolyte = problem.electrolyte
        self.ions = None
        self.bulk = []
        if electrolyte is None:
            return None, None
        water = problem.water(self.cmesh)
        self.ions = IonModel(
            electrolyte.names,
            electrolyte.valences,
            tuple(electrolyte.bulk),
            problem.model,
            tuple(problem.volume_fractions),
            water,
        )
        self.bulk = [dolfinx.fem.Constant(msh, c / self.scales.c0_mM) for c in electrolyte.bulk]
        nus = [dolfinx.fem.Constant(msh, nu) for nu in problem.volume_fractions]
        mobile = _forms.mobile_charge(self.psi, electrolyte.valences, self.bulk, problem.model, nus)
        qd = quadrature_degree if quadrature_degree is not None else 2 * degree
        self._quadrature = None if problem.model == "linear" else {"quadrature_degree": qd}
        return mobile, self.measures.region(water, metadata=self._quadrature)

    def _single_cell_integral(self, mobile: Any) -> tuple[Any, Any]:
        """One measure for the stiffness and the mobile-ion term: ``(dx, chi_water * mobile)``.

        Written over ``dx(water)`` next to the stiffness over ``dx``, the mobile-ion term is a
        second cell integral, and DOLFINx assembles the Jacobian in two passes over the cells,
        each inserting a full element matrix (the Jacobian assembly is the largest cost of a
        3D Newton step; one pass saved about a fifth of it on the 3D channel at 1.6e4 P1
        unknowns). Multiplied by the water indicator (DG0) and integrated with the stiffness
        under one quadrature rule, both terms form a single kernel. Used only when that rule
        integrates the stiffness exactly (:meth:`_exact_stiffness`), so the discrete equations
        are unchanged.
        """
        water = self.problem.water(self.cmesh)
        chi = region_field(self.cmesh, dict.fromkeys(water, 1.0), name="water", default=0.0)
        dx = self.measures.dx
        if self._quadrature is not None:
            dx = dx(metadata=self._quadrature)
        return dx, chi * mobile

    def _exact_stiffness(self, degree: int) -> bool:
        """Does the mobile term's quadrature integrate the stiffness exactly?

        The stiffness integrand is a polynomial of degree ``2 (degree - 1)``, +1 with the
        axisymmetric weight ``2 pi r`` (the permittivity is constant per cell).
        """
        if self._quadrature is None:  # degree estimated from the summed integrand: exact
            return True
        need = 2 * (degree - 1) + (1 if self.cmesh.axisymmetric else 0)
        return self._quadrature["quadrature_degree"] >= need

    def _dirichlet_conditions(self) -> tuple[list[Any], dict[str, tuple[Any, float]]]:
        """Dirichlet potentials as scaled constants (so that a voltage can be continued)."""
        cmesh, msh = self.cmesh, self.cmesh.mesh
        fdim = msh.topology.dim - 1
        msh.topology.create_connectivity(fdim, msh.topology.dim)
        bcs, values = [], {}
        for d in self.problem.electrostatics.dirichlet:
            facets = cmesh.facet_tags.find(cmesh.boundary(d.boundary))
            dofs = dolfinx.fem.locate_dofs_topological(self.V, fdim, facets)
            scaled = self.scales.potential_to_scaled(d.value)
            value = dolfinx.fem.Constant(msh, scaled)
            values[d.boundary] = (value, scaled)
            bcs.append(dolfinx.fem.dirichletbc(value, dofs, self.V))
        return bcs, values

    @property
    def num_dofs(self) -> int:
        """Global number of degrees of freedom of the potential."""
        return self.newton.num_dofs

    def continuation_path(self) -> list[ContinuationParameter]:
        """Default continuation: fixed charge and Dirichlet potentials ramped from 0."""
        path = []
        if self.problem.electrostatics.has_fixed_charge:
            path.append(ContinuationParameter(self.charge_scale, 1.0, 0.0, "fixed charge"))
        for name, (const, value) in self.bc_values.items():
            if value != 0.0:
                path.append(ContinuationParameter(const, value, 0.0, f"potential on {name}"))
        return path

    def close(self) -> None:
        """Release the PETSc objects now (see :meth:`pnp.solvers.newton.NewtonSolver.close`)."""
        self.newton.close()

    def solve(
        self,
        initial: PBSolution | None = None,
        continuation: list[ContinuationParameter] | None = None,
    ) -> PBSolution:
        """Solve; ``initial`` warm-starts Newton from a previous solution (same mesh).

        Without ``initial`` the guess is zero. Parameters changed on the solver's constants
        (e.g. ``bc_values``) are used as they are.

        Raises
        ------
        poreflux.errors.ConvergenceError
            When Newton fails also with continuation (the attempts are in the error).
        """
        if initial is not None:
            if initial.psi.function_space.mesh is not self.V.mesh:
                raise InputError("warm start needs a solution on the same mesh")
            self.psi.interpolate(initial.psi)
        else:
            self.psi.x.array[:] = 0.0
        self.psi.x.scatter_forward()
        if self.correlations is not None:
            self.correlations.f.x.array[:] = 0.0  # Newton's first step makes it consistent
        path = self.continuation_path() if continuation is None else continuation
        if self.lag_preconditioner and self._solves > 0:
            self.newton.snes.getKSP().getPC().reset()  # a new preconditioner for this solve
        self._solves += 1
        report = self.newton.solve(path)
        energy_scaled = (
            assemble_scalar(self._energy_form, self.cmesh.comm)
            if self._energy_form is not None
            else 0.0
        )
        psi = self.psi.copy()
        psi.name = "psi"
        phi = self.psi.copy()
        phi.name = "potential_mV"
        phi.x.array[:] *= self.scales.thermal_voltage_mV
        return PBSolution(
            problem=self.problem,
            cmesh=self.cmesh,
            scales=self.scales,
            potential=phi,
            psi=psi,
            energy_kT=fixed_charge_energy_kT(self.scales, energy_scaled),
            report=report,
            measures=self.measures,
            ions=self.ions,
        )


def solve_pb(cmesh: Any, problem: PBProblem, **kwargs: Any) -> PBSolution:
    """Build a :class:`PBSolver` and solve once."""
    return PBSolver(cmesh, problem, **kwargs).solve()
