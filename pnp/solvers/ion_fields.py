"""Ion-model part of the PNP solvers: unknowns -> concentrations, residuals, bath values, outputs.

One :class:`IonFields` per :class:`pnp.solvers.steady.SteadyPNPSolver` holds what depends on the
ion model (:mod:`pnp.problems.ion_model`):

- ``"point"``: unknowns ``ln(c_i/c0)`` (or ``c_i/c0`` with primitive variables), residuals of
  :mod:`pnp.forms.nernst_planck`;
- ``"steric"``: unknowns ``w_i = ln(c_i/c0) - ln(1 - Phi)`` (chemical potentials), concentrations
  from :func:`pnp.forms.steric.concentrations` (below close packing for any iterate), flux
  ``-D c grad(w + z psi + mu)``;
- ``"steric+correlations"``: the steric model plus the BSK smoothed charge ``f`` (one more P1
  unknown on the water sub-mesh, :mod:`pnp.forms.correlations`) that replaces the ionic charge
  in Poisson's equation.

Outputs: a solution always stores ``ln(c/c0)`` (:class:`pnp.results.pnp_solution.PNPSolution`
reads its unknowns as log-concentrations); for the steric models its ``mu_ex`` holds the excess
potential including the steric part ``-ln(1 - Phi)``, so cross-section fluxes stay right, and
the end currents are assembled from the model's own flux (:class:`StericEndForms`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import dolfinx
import numpy as np
import ufl

from pnp.forms import nernst_planck as transport
from pnp.forms import poisson as pforms
from pnp.forms import steric
from pnp.forms.correlations import correlation_residual
from pnp.problems.ion_model import has_correlations, is_steric
from pnp.results.currents import _EndForms, boundary_indicator
from poreflux.water import EPS_WATER_25C

__all__ = ["IonFields", "StericEndForms", "build_residuals"]


class IonFields:
    """Concentration model of a PNP solver (see the module docstring).

    Parameters
    ----------
    problem
        The :class:`pnp.problems.transport.PNPProblem`.
    scales
        Its :class:`poreflux.units.Scales`.
    variables
        ``"log"`` or ``"primitive"`` (point ions only).
    eps_water
        Relative permittivity of the electrolyte (default correlation length).
    """

    def __init__(self, problem: Any, scales: Any, variables: str, eps_water: float) -> None:
        self.model = problem.ion_model
        self.steric = is_steric(self.model)
        self.correlations = has_correlations(self.model)
        if self.steric and variables != "log":
            from poreflux.errors import InputError

            raise InputError(f"ion_model {self.model!r} needs variables='log'")
        self.variables = variables
        self.valences = problem.valences
        self.c0 = scales.c0_mM
        self.volumes: tuple[float, ...] = ()
        if self.steric:
            self.volumes = steric.scaled_volumes(problem.species_sizes, scales.c0_mM)
        self.ell = 0.0
        if self.correlations:
            self.ell = problem.correlation_length_nm(eps_water) / scales.length_nm

    def concentrations(self, us: Sequence[Any]) -> list[Any]:
        """Scaled concentrations (UFL) of the unknowns ``us``."""
        if self.steric:
            return steric.concentrations(us, self.volumes)
        return [transport.concentration(u, self.variables) for u in us]

    def bath_unknowns(self, conc_mM: Sequence[float]) -> list[float]:
        """Values of the unknowns for bath concentrations [mM] (species order)."""
        scaled = [c / self.c0 for c in conc_mM]
        if self.steric:
            return list(steric.chemical_potentials(scaled, self.volumes))
        if self.variables == "log":
            return [math.log(c) for c in scaled]
        return scaled

    def log_concentrations(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Nodal ``ln(c/c0)`` from nodal unknowns (log / steric models)."""
        if self.steric:
            return steric.log_concentration_values(arrays, self.volumes)
        return [np.asarray(a).copy() for a in arrays]

    def unknowns_from_log(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Nodal unknowns from nodal ``ln(c/c0)`` (inverse of :meth:`log_concentrations`)."""
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        if not self.steric:
            return [a.copy() for a in arrays]
        phi = sum(v * np.exp(a) for v, a in zip(self.volumes, arrays, strict=True))
        void = np.log(np.clip(1.0 - phi, 1e-300, None))
        return [a - void for a in arrays]

    def concentration_values(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Nodal scaled concentrations from nodal unknowns."""
        if self.variables == "primitive":
            return [np.asarray(a) for a in arrays]
        return [np.exp(a) for a in self.log_concentrations(arrays)]

    def steric_potential_values(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Nodal ``-ln(1 - Phi)`` (kT) from nodal steric unknowns."""
        logc = self.log_concentrations(arrays)
        return np.asarray(arrays[0]) - logc[0]

    def residual(
        self, u: Any, w: Any, c: Any, psi: Any, dx: Any, z: float, d: float, weight: Any, mu: Any
    ) -> Any:
        """Steady Nernst-Planck residual of one species (test function ``w``)."""
        if not self.steric:
            return transport.steady_residual(
                u, w, psi, dx, valence=z, diffusion=d, weight=weight, mu_ex=mu,
                variables=self.variables,
            )  # fmt: skip
        j = transport.electrochemical_flux(c, u, psi, valence=z, diffusion=d, mu_ex=mu)
        return transport.transport_residual(j, w, dx, weight=weight)


def build_residuals(solver: Any) -> list[Any]:
    """Poisson, Nernst-Planck (and correlation) residuals of a steady PNP solver.

    Sets ``solver.conc`` (concentration expressions), ``solver.rho`` (mobile charge) and, with
    correlations, ``solver.f`` (the BSK smoothed charge, an extra unknown).
    """
    pb, meas, ions = solver.problem, solver.measures, solver.ions
    weight = meas.weight
    v = ufl.TestFunction(solver.V)
    ws = [ufl.TestFunction(S) for S in solver.Ws]
    solver.conc = ions.concentrations(solver.us)
    rho = 0
    for z, c in zip(pb.valences, solver.conc, strict=True):
        rho = rho + z * c
    solver.rho = rho
    source = rho
    if ions.correlations:
        solver.F_space = dolfinx.fem.functionspace(solver.submesh, ("Lagrange", 1))
        solver.f = dolfinx.fem.Function(solver.F_space, name="bsk_charge")
        source = solver.f
    F0 = pforms.poisson_operator(solver.psi, v, solver.eps_r, weight, meas.dx)
    F0 = F0 - solver.K * solver.space_charge * source * v * weight * solver.dx_water
    if solver.fixed_source is not None:
        F0 = F0 - solver.K * solver.charge_scale * solver.fixed_source
    residuals = [F0]
    for u, w, c, z, d, mu in zip(
        solver.us, ws, solver.conc, pb.valences, pb.diffusivities, solver.mu, strict=True
    ):
        residuals.append(ions.residual(u, w, c, solver.psi, solver.dx_water, z, d, weight, mu))
    if ions.correlations:
        g = ufl.TestFunction(solver.F_space)
        ell = dolfinx.fem.Constant(solver.submesh, float(ions.ell))
        residuals.append(
            correlation_residual(solver.f, g, rho, ell, solver.dx_water, weight=weight)
        )
    return residuals


def add_time_derivative(solver: Any) -> None:
    """Add ``dc/dt`` (multistep coefficients ``solver.coef``, zero when steady) to the
    Nernst-Planck residuals; history levels ``solver.hist1``, ``solver.hist2`` hold unknowns."""
    solver.coef = [solver._constant(0.0) for _ in range(3)]
    solver.hist1 = [dolfinx.fem.Function(u.function_space, name=f"{u.name}_n") for u in solver.us]
    solver.hist2 = [dolfinx.fem.Function(u.function_space, name=f"{u.name}_nm1") for u in solver.us]
    levels = [solver.conc, solver.ions.concentrations(solver.hist1)]
    levels.append(solver.ions.concentrations(solver.hist2))
    for k, u in enumerate(solver.us):
        w = ufl.TestFunction(u.function_space)
        rates = [lev[k] for lev in levels]
        solver.residuals[k + 1] = solver.residuals[k + 1] + transport.mass_term_of(
            rates, solver.coef, w, solver.dx_water, weight=solver.measures.weight
        )


def storage_form(solver: Any, k: int, w: Any) -> Any:
    """``int (sum_k a_k c^{n+1-k}) w dV`` of species ``k`` (transient mass balance)."""
    ions = solver.ions
    rates = [
        ions.concentrations(solver.us)[k],
        ions.concentrations(solver.hist1)[k],
        ions.concentrations(solver.hist2)[k],
    ]
    return transport.mass_term_of(
        rates, solver.coef, w, solver.dx_water, weight=solver.measures.weight
    )


class StericEndForms(_EndForms):
    """Conservative end fluxes ``int J . grad(w_end)`` with the steric model's flux (same
    interface as the point-ion forms of :mod:`pnp.results.currents`)."""

    def __init__(self, solver: Any) -> None:
        pb = solver.problem
        self.w_top = boundary_indicator(solver.W, solver.top_dofs_w, "w_top")
        self.w_bottom = boundary_indicator(solver.W, solver.bottom_dofs_w, "w_bottom")
        self.forms = {}
        for end, w in (("top", self.w_top), ("bottom", self.w_bottom)):
            self.forms[end] = []
            for u, c, z, d, mu in zip(
                solver.us, solver.conc, pb.valences, pb.diffusivities, solver.mu, strict=True
            ):
                j = transport.electrochemical_flux(
                    c, u, solver.psi, valence=z, diffusion=d, mu_ex=mu
                )
                flux = -transport.transport_residual(
                    j, w, solver.dx_water, weight=solver.measures.weight
                )
                self.forms[end].append(dolfinx.fem.form(flux, entity_maps=[solver.entity_map]))
        self.valences = pb.valences
        self.scale = solver.scales.current_scale_pA


def solution_fields(solver: Any, solution: Any) -> Any:
    """A solution of a steric solver with ``ln(c/c0)`` unknowns and the steric potential added
    to ``mu_ex`` (what :class:`pnp.results.pnp_solution.PNPSolution` expects)."""
    ions = solver.ions
    if not ions.steric:
        return solution
    arrays = [u.x.array for u in solver.us]
    logs = ions.log_concentrations(arrays)
    mu_st = ions.steric_potential_values(arrays)
    unknowns, mus = [], []
    for u, lc, mu in zip(solution.unknowns, logs, solver.mu, strict=True):
        f = dolfinx.fem.Function(u.function_space, name=u.name)
        f.x.array[:] = lc
        unknowns.append(f)
        g = dolfinx.fem.Function(u.function_space, name="mu_excess")
        g.x.array[:] = mu_st + (0.0 if mu is None else mu.x.array)
        mus.append(g)
    return replace(solution, unknowns=tuple(unknowns), mu_ex=tuple(mus))


def update_cap(solver: Any, limit: float) -> Any:
    """SNES line-search pre-check capping a Newton direction: no ``psi`` (kT/e) or concentration
    unknown (``ln c`` or ``w``, kT) changes by more than ``limit``. The BSK charge ``f`` (scaled
    charge density, up to ~1e4 near charged walls at low salt) is excluded from the cap: it is
    linear in the concentrations and follows them."""
    from mpi4py import MPI
    from petsc4py import PETSc

    n_skip = 0
    if solver.ions.correlations:
        n_skip = solver.F_space.dofmap.index_map.size_local
    comm = solver.comm  # not ``solver``: the SNES keeping this callback must not keep the solver

    def norm(y: Any) -> float:
        if n_skip == 0:
            return y.norm(PETSc.NormType.NORM_INFINITY)
        if y.getType() == PETSc.Vec.Type.NEST:
            return max(v.norm(PETSc.NormType.NORM_INFINITY) for v in y.getNestSubVecs()[:-1])
        arr = y.getArray(readonly=True)[: y.getLocalSize() - n_skip]
        local = float(np.max(np.abs(arr), initial=0.0))
        return comm.allreduce(local, op=MPI.MAX)

    def damp(x: Any, y: Any) -> None:
        # x_new = x - lambda * y: cap the largest change of psi (kT/e) or of a log unknown
        big = norm(y)
        if big > limit:
            y.scale(limit / big)

    return damp


def water_permittivity(solver: Any) -> float:
    """Relative permittivity of the first water region (default correlation length)."""
    perm = solver.problem.electrostatics.permittivity
    for region in solver.water:
        if region in perm:
            return float(perm[region])
    return EPS_WATER_25C
