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
from dataclasses import dataclass, field
from typing import Any

import dolfinx
import numpy as np
import ufl

from pnp.forms import poisson as _forms
from pnp.forms.charges import fixed_charge_terms
from pnp.forms.measures import (
    Measures,
    build_measures,
    permittivity_field,
    region_field,
)
from pnp.problems.electrostatics import PBProblem
from pnp.results.observables import (
    assemble_scalar,
    axial_profile,
    charge_e_from_scaled,
    fixed_charge_energy_kT,
    solvation_energy_kj_per_mol,
)
from pnp.solvers.newton import ContinuationParameter, NewtonReport, NewtonSolver
from poreflux.errors import InputError
from poreflux.units import MOLAR, Scales, kT_kj_per_mol

logger = logging.getLogger(__name__)

__all__ = [
    "PBSolution",
    "PBSolver",
    "solvation_energy_kj_per_mol",
    "solve_pb",
]


@dataclass(frozen=True)
class _IonModel:
    """What a solution needs to rebuild concentrations from its potential."""

    names: tuple[str, ...]
    valences: tuple[int, ...]
    bulk_mM: tuple[float, ...]
    model: str
    volume_fractions: tuple[float, ...]
    water: tuple[str, ...]


@dataclass(frozen=True)
class PBSolution:
    """An immutable PB result (its functions are private copies, never touched by the solver).

    Attributes
    ----------
    potential
        Potential [mV] (``dolfinx.fem.Function``).
    psi
        Scaled potential ``e phi / kT`` (used for warm starts).
    energy_kT, energy_kj_per_mol
        Fixed-charge electrostatic energy ``1/2 int rho_f phi`` (for linear PB the free energy).
    report
        The Newton report (iterations, residual history, timings).
    """

    problem: PBProblem
    cmesh: Any
    scales: Scales
    potential: Any
    psi: Any
    energy_kT: float
    report: NewtonReport
    measures: Measures = field(repr=False)
    ions: _IonModel | None = field(repr=False)

    @property
    def energy_kj_per_mol(self) -> float:
        """Fixed-charge energy [kJ/mol]."""
        return self.energy_kT * kT_kj_per_mol(self.scales.temperature)

    def _concentration_exprs(self) -> list[Any]:
        if self.ions is None:
            raise InputError("this PB problem has no electrolyte, so no concentrations")
        ions = self.ions
        bulk = [c / self.scales.c0_mM for c in ions.bulk_mM]
        return _forms.ion_concentrations(
            self.psi, ions.valences, bulk, ions.model, ions.volume_fractions
        )

    def concentration(self, species: str) -> Any:
        """Concentration [mM] of a species as a function in the potential's space.

        This is the Boltzmann expression of the local potential, interpolated everywhere; ions
        exist only in the water regions (:meth:`ionic_charge` and :meth:`axial_profile` account
        for that).
        """
        if self.ions is None or species not in self.ions.names:
            known = () if self.ions is None else self.ions.names
            raise InputError(f"unknown species {species!r}; this solution has {known}")
        i = self.ions.names.index(species)
        expr = self._concentration_exprs()[i] * self.scales.c0_mM
        V = self.psi.function_space
        c = dolfinx.fem.Function(V, name=f"c_{species}")
        c.interpolate(dolfinx.fem.Expression(expr, V.element.interpolation_points))
        c.x.scatter_forward()
        return c

    def ionic_charge(self, regions: str | tuple[str, ...] | None = None) -> float:
        """Total mobile ionic charge [e] in the named water regions (all water when ``None``)."""
        if self.ions is None:
            return 0.0
        regions = self.ions.water if regions is None else regions
        regions = (regions,) if isinstance(regions, str) else tuple(regions)
        unknown = set(regions) - set(self.ions.water)
        if unknown:
            raise InputError(
                f"region(s) {sorted(unknown)} hold no ions; water regions are {self.ions.water}"
            )
        rho = 0
        for z, c in zip(self.ions.valences, self._concentration_exprs(), strict=True):
            rho = rho + z * c
        scaled = assemble_scalar(
            rho * self.measures.weight * self.measures.region(regions), self.cmesh.comm
        )
        return charge_e_from_scaled(self.scales, scaled)

    def axial_profile(self, z: np.ndarray | int = 200) -> dict[str, np.ndarray]:
        """Potential [mV] and concentrations [mM] along the pore axis (same on all ranks).

        Returns a dict with ``"z"`` [nm], ``"potential"`` [mV] and one entry per species
        (0 outside the water regions, NaN outside the mesh).
        """
        zz, phi = axial_profile(self.potential, self.cmesh, z)
        out = {"z": zz, "potential": phi}
        if self.ions is not None:
            water = region_field(self.cmesh, dict.fromkeys(self.ions.water, 1.0), default=0.0)
            inside = axial_profile(water, self.cmesh, zz)[1]
            for name in self.ions.names:
                out[name] = axial_profile(self.concentration(name), self.cmesh, zz)[1] * inside
        return out


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

        # mobile ions
        self.ions: _IonModel | None = None
        mobile = dx_water = None
        self.bulk: list[Any] = []
        if electrolyte is not None:
            water = problem.water(cmesh)
            self.ions = _IonModel(
                electrolyte.names,
                electrolyte.valences,
                tuple(electrolyte.bulk),
                problem.model,
                tuple(problem.volume_fractions),
                water,
            )
            self.bulk = [dolfinx.fem.Constant(msh, c / self.scales.c0_mM) for c in electrolyte.bulk]
            nus = [dolfinx.fem.Constant(msh, nu) for nu in problem.volume_fractions]
            mobile = _forms.mobile_charge(
                self.psi, electrolyte.valences, self.bulk, problem.model, nus
            )
            qd = quadrature_degree if quadrature_degree is not None else 2 * degree
            meta = None if problem.model == "linear" else {"quadrature_degree": qd}
            dx_water = self.measures.region(water, metadata=meta)
        self.F = _forms.pb_residual(
            self.psi,
            v,
            eps_r=self.eps_r,
            weight=weight,
            dx=self.measures.dx,
            coefficient=self.coefficient,
            fixed_source=fixed,
            mobile=mobile,
            dx_water=dx_water,
        )

        # Dirichlet potentials (scaled constants, so a voltage can be continued)
        fdim = msh.topology.dim - 1
        msh.topology.create_connectivity(fdim, msh.topology.dim)
        self.bcs, self.bc_values = [], {}
        for d in es.dirichlet:
            facets = cmesh.facet_tags.find(cmesh.boundary(d.boundary))
            dofs = dolfinx.fem.locate_dofs_topological(self.V, fdim, facets)
            value = dolfinx.fem.Constant(msh, self.scales.potential_to_scaled(d.value))
            self.bc_values[d.boundary] = (value, self.scales.potential_to_scaled(d.value))
            self.bcs.append(dolfinx.fem.dirichletbc(value, dofs, self.V))

        energy = self.fixed.energy(self.psi, weight)
        self._energy_form = dolfinx.fem.form(energy) if energy is not None else None
        self.newton = NewtonSolver(
            self.F,
            self.psi,
            self.bcs,
            name=name,
            solver=solver,
            symmetric=True,
            petsc_options=petsc_options,
            rtol=rtol,
            atol=atol,
            max_it=max_it,
            profile=profile,
        )

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
        path = self.continuation_path() if continuation is None else continuation
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
