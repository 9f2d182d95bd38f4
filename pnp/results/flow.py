"""Results and observables of PNP-Stokes (electro-osmosis) solves.

- :class:`FlowSolution`: a :class:`pnp.results.pnp_solution.PNPSolution` whose currents include
  the advective (convective) part, with the velocity and pressure fields, the flow rate through
  both bath ends and the convective current of each species;
- :func:`electroosmotic_mobility`: mean axial velocity over mean axial field in a region;
- :func:`velocity_profile`: axial velocity across the pore at a height ``z``;
- :func:`electrokinetic_coefficients`: the 2x2 Onsager matrix of the pore
  (hydraulic permeance, electro-osmotic flow per volt, streaming current per pascal,
  conductance) from symmetric differences of four solves.

Signs (as for the current): a flow rate is positive when water moves from the top bath to the
bottom bath; the pressure difference is ``p_top - p_bottom``. Units: flow rate in nm^3/ns
(= 1e-18 m^3/s), velocity in nm/ns (= m/s), pressure in Pa at the API, currents in pA.

Currents stay conservative (residual-based, see :mod:`pnp.results.currents`): the steady
Nernst-Planck residual now holds the advective flux, so the weak flux through an end is
``int (J_i + c_i u) . grad(w)`` and its two parts are reported separately.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from pnp.forms import nernst_planck as transport
from pnp.results.currents import boundary_indicator
from pnp.results.pnp_solution import PNPSolution
from poreflux.errors import InputError

#: nm^3/ns -> m^3/s.
FLOW_RATE_SI = 1e-18


@dataclass(frozen=True)
class FlowSolution:
    """Fields and observables of one PNP-Stokes solve.

    Attributes
    ----------
    pnp
        The PNP part; its currents include the convective currents.
    velocity
        Velocity [nm/ns] (P2 vector on the water sub-mesh), a private copy.
    reduced_pressure
        ``p - Pi`` [MPa] (P1), the solver's pressure unknown (``Pi`` = ideal osmotic pressure).
    pressure_difference_Pa
        ``p_top - p_bottom`` [Pa] of the solve.
    flow_rate_top, flow_rate_bottom
        Flow rate [nm^3/ns] through each end (positive top -> bottom).
    convective_currents_top, convective_currents_bottom
        Advective part [pA] of each species' current through each end.
    viscosity_mPa_s
        Viscosity used.
    osmotic_scale_MPa
        ``c0 R T`` [MPa]: the total pressure is ``p~ + osmotic_scale * sum_i c_i / c0``.
    """

    pnp: Any
    velocity: Any
    reduced_pressure: Any
    pressure_difference_Pa: float
    flow_rate_top: float
    flow_rate_bottom: float
    convective_currents_top: tuple[float, ...]
    convective_currents_bottom: tuple[float, ...]
    viscosity_mPa_s: float
    osmotic_scale_MPa: float
    entity_map: Any = None

    # --- delegated PNP observables ----------------------------------------------------------
    @property
    def voltage(self) -> float:
        """Applied voltage [mV]."""
        return self.pnp.voltage

    @property
    def current(self) -> float:
        """Total current [pA], convection included (positive top -> bottom)."""
        return self.pnp.current

    @property
    def species_currents(self) -> dict[str, float]:
        """Current [pA] per species (mean of the two ends), convection included."""
        return self.pnp.species_currents

    @property
    def conductance(self) -> float:
        """``I / V`` [pS]."""
        return self.pnp.conductance

    # --- flow -------------------------------------------------------------------------------
    @property
    def flow_rate(self) -> float:
        """Volumetric flow rate [nm^3/ns] (mean of the two ends; positive top -> bottom)."""
        return 0.5 * (self.flow_rate_top + self.flow_rate_bottom)

    @property
    def flow_rate_m3_per_s(self) -> float:
        """Volumetric flow rate [m^3/s]."""
        return self.flow_rate * FLOW_RATE_SI

    @property
    def convective_currents(self) -> dict[str, float]:
        """Advective current [pA] per species (mean of the two ends)."""
        return {
            n: 0.5 * (a + b)
            for n, a, b in zip(
                self.pnp.species_names,
                self.convective_currents_top,
                self.convective_currents_bottom,
                strict=True,
            )
        }

    @property
    def convective_current(self) -> float:
        """Total advective current [pA]."""
        return float(sum(self.convective_currents.values()))

    def pressure(self) -> Any:
        """A new P1 function with the pressure ``p = p~ + Pi`` [Pa] on the water sub-mesh."""
        return total_pressure(self.pnp, self.reduced_pressure, self.osmotic_scale_MPa)

    def write(self, path: Any) -> tuple[Any, ...]:
        """Write the PNP fields (see :meth:`PNPSolution.write`) plus ``<path>_velocity.bp``
        (nm/ns) and ``<path>_pressure.bp`` (Pa)."""
        from pathlib import Path

        from pnp.results.io import write_vtx

        stem = Path(path).with_suffix("") if Path(path).suffix == ".bp" else Path(path)
        pot, conc = self.pnp.write(stem)
        vel = write_vtx(stem.parent / f"{stem.name}_velocity.bp", [self.velocity])
        pres = write_vtx(stem.parent / f"{stem.name}_pressure.bp", [self.pressure()])
        return pot, conc, vel, pres


def _copy(f: Any) -> Any:
    g = dolfinx.fem.Function(f.function_space, name=f.name)
    g.x.array[:] = f.x.array
    return g


@dataclass(frozen=True)
class FlowPNPSolution(PNPSolution):
    """The PNP part of a PNP-Stokes solve (``FlowSolution.pnp``) that also carries the flow
    fields, so that code handling PNP solutions (study states, field files) can write them.

    Attributes
    ----------
    velocity
        Velocity [nm/ns] (P2 vector on the water sub-mesh).
    reduced_pressure
        ``p - Pi`` [MPa] (P1 on the water sub-mesh).
    osmotic_scale_MPa
        ``c0 R T`` [MPa].
    """

    velocity: Any = None
    reduced_pressure: Any = None
    osmotic_scale_MPa: float = 0.0

    def pressure(self) -> Any:
        """A new P1 function with the pressure ``p = p~ + Pi`` [Pa] on the water sub-mesh."""
        return total_pressure(self, self.reduced_pressure, self.osmotic_scale_MPa)


def total_pressure(pnp: Any, reduced_pressure: Any, osmotic_scale_MPa: float) -> Any:
    """``p = p~ + Pi`` [Pa] (P1, water sub-mesh) with the local osmotic pressure ``Pi`` of the
    ion model: ``kT sum_i c_i`` (point ions), ``-kT (sum_i c_i) ln(1 - Phi) / Phi`` (steric,
    see :func:`pnp.solvers.flow.bath_osmotic_pressure`)."""
    from pnp.forms import steric
    from pnp.problems.ion_model import is_steric

    Q = reduced_pressure.function_space
    p = dolfinx.fem.Function(Q, name="pressure_Pa")
    c = dolfinx.fem.Function(Q)
    scaled = []
    for name in pnp.species_names:
        c.interpolate(pnp.concentration(name))
        scaled.append(c.x.array / pnp.c0_mM)
    osmotic = np.sum(scaled, axis=0)
    if is_steric(pnp.problem.ion_model):
        volumes = steric.scaled_volumes(pnp.problem.species_sizes, pnp.c0_mM)
        phi = np.sum([v * a for v, a in zip(volumes, scaled, strict=True)], axis=0)
        ratio = np.ones_like(phi)
        big = phi > 1e-12
        ratio[big] = -np.log1p(-phi[big]) / phi[big]
        osmotic = osmotic * ratio
    p.x.array[:] = (reduced_pressure.x.array + osmotic_scale_MPa * osmotic) * 1e6
    return p


def flow_output_fields(sol: Any) -> dict[str, tuple[Any, str]]:
    """Velocity components [nm/ns] and pressure [Pa] of a :class:`FlowPNPSolution` for a field
    file (functions on the water sub-mesh; names ``velocity_<r|z|x|y>_nm_per_ns``,
    ``pressure_Pa``)."""
    u = sol.velocity
    gdim = u.function_space.mesh.geometry.dim
    axes = "rz" if sol.axisymmetric else "xyz"[:gdim]
    out = {
        f"velocity_{a}_nm_per_ns": (u.sub(k).collapse(), "nm/ns") for k, a in enumerate(axes)
    }
    out["pressure_Pa"] = (sol.pressure(), "Pa")
    return out


class _ConvectionForms:
    """Compiled ``int c_i u . grad(w_end)`` functionals (built once per solver)."""

    def __init__(self, solver: Any) -> None:
        w_top = boundary_indicator(solver.W, solver.top_dofs_w, "w_top")
        w_bottom = boundary_indicator(solver.W, solver.bottom_dofs_w, "w_bottom")
        weight = solver.measures.weight
        self.forms = {
            end: [
                dolfinx.fem.form(
                    c * ufl.inner(solver.velocity, ufl.grad(w)) * weight * solver.dx_water,
                    entity_maps=[solver.entity_map],
                )
                for c in solver.conc  # the ion model's concentrations (steric: not exp(u))
            ]
            for end, w in (("top", w_top), ("bottom", w_bottom))
        }
        self._keep = (w_top, w_bottom)

    def currents(self, solver: Any) -> tuple[list[float], list[float]]:
        scale, zs, comm = solver.scales.current_scale_pA, solver.problem.valences, solver.comm
        out = {}
        for end, forms in self.forms.items():
            local = np.array([dolfinx.fem.assemble_scalar(f) for f in forms], dtype=float)
            out[end] = comm.allreduce(local, op=MPI.SUM)
        top = [-z * f * scale for z, f in zip(zs, out["top"], strict=True)]
        bottom = [z * f * scale for z, f in zip(zs, out["bottom"], strict=True)]
        return top, bottom


def flow_solution(solver: Any, sol: Any) -> FlowSolution:
    """Snapshot a PNP-Stokes solver's state after a solve (``sol`` = its PNP snapshot)."""
    forms = getattr(solver, "_convection_forms", None)
    if forms is None:
        forms = _ConvectionForms(solver)
        solver._convection_forms = forms
    conv_top, conv_bottom = forms.currents(solver)
    velocity, reduced = _copy(solver.velocity), _copy(solver.pressure)
    base = {f.name: getattr(sol, f.name) for f in fields(PNPSolution)}
    base.update(
        species_currents_top=tuple(np.add(sol.species_currents_top, conv_top).tolist()),
        species_currents_bottom=tuple(np.add(sol.species_currents_bottom, conv_bottom).tolist()),
    )
    pnp = FlowPNPSolution(
        **base, velocity=velocity, reduced_pressure=reduced,
        osmotic_scale_MPa=float(solver.pressure_scale),
    )  # fmt: skip
    q_top, q_bottom = solver.flow_fields.flow_rates(solver.entity_map)
    return FlowSolution(
        pnp=pnp,
        velocity=velocity,
        reduced_pressure=reduced,
        pressure_difference_Pa=float(solver._dp_pa),
        flow_rate_top=q_top,
        flow_rate_bottom=q_bottom,
        convective_currents_top=tuple(conv_top),
        convective_currents_bottom=tuple(conv_bottom),
        viscosity_mPa_s=float(solver.flow_fields.viscosity),
        osmotic_scale_MPa=float(solver.pressure_scale),
        entity_map=solver.entity_map,
    )


def flow_columns(solution: FlowSolution) -> dict[str, float | None]:
    """Table columns of a flow solve (studies): flow rate [nm^3/ns], the advective current
    through the bath ends and, on meshes with a ``pore`` region, through the pore [pA]."""
    cm = solution.pnp.cmesh
    pore = pore_convective_current(solution) if cm.has_region("pore") else None
    return {
        "flow_rate_nm3_per_ns": solution.flow_rate,
        "convective_current_ends_pA": solution.convective_current,
        "convective_current_pore_pA": pore,
    }


def electroosmotic_mobility(solution: FlowSolution, region: str = "pore") -> float:
    """``<u_z> / <E_z>`` [m^2/(V s)] over a region (``E_z = -d phi/dz``).

    For a long charged cylinder this tends to the Helmholtz-Smoluchowski mobility
    ``-eps zeta / eta`` for thin double layers (Rice-Whitehead for finite ones).
    """
    cm = solution.pnp.cmesh
    msh = cm.mesh
    ax = msh.geometry.dim - 1
    weight = 2 * np.pi * ufl.SpatialCoordinate(msh)[0] if cm.axisymmetric else 1.0
    dx = ufl.Measure("dx", domain=msh, subdomain_data=cm.cell_tags)(cm.region(region))
    emap = solution.entity_map
    u_int = dolfinx.fem.form(solution.velocity[ax] * weight * dx, entity_maps=[emap])
    e_int = dolfinx.fem.form(-solution.pnp.psi.dx(ax) * weight * dx)
    u = msh.comm.allreduce(dolfinx.fem.assemble_scalar(u_int), op=MPI.SUM)
    e = msh.comm.allreduce(dolfinx.fem.assemble_scalar(e_int), op=MPI.SUM)
    e_si = e * solution.pnp.thermal_voltage_mV * 1e-3 / 1e-9  # V/m
    if e_si == 0.0:
        raise InputError("the mean axial field in the region is zero: solve at a voltage != 0")
    return float(u / e_si)


def pore_convective_current(solution: FlowSolution, region: str = "pore") -> float:
    """Advective current [pA] through the pore, averaged over its cross-sections.

    ``-(F c0 / L) int_pore sum_i z_i (c_i/c0) u_z dV`` (``L`` the region's axial length; the
    minus makes flow of positive charge towards ``-z`` positive). At the bath ends the
    electrolyte is neutral and the convective current there nearly vanishes; inside a charged
    pore the flow carries the counter-ion excess.
    """
    from poreflux.units import FARADAY

    pnp = solution.pnp
    cm = pnp.cmesh
    msh = cm.mesh
    ax = msh.geometry.dim - 1
    weight = 2 * np.pi * ufl.SpatialCoordinate(msh)[0] if cm.axisymmetric else 1.0
    dx = ufl.Measure("dx", domain=msh, subdomain_data=cm.cell_tags)(cm.region(region))
    rho = transport.charge_density(pnp.unknowns, pnp.problem.valences, pnp.variables)
    form = dolfinx.fem.form(
        rho * solution.velocity[ax] * weight * dx, entity_maps=[solution.entity_map]
    )
    total = msh.comm.allreduce(dolfinx.fem.assemble_scalar(form), op=MPI.SUM)
    lo, hi = pnp.region_z_range(region)
    return float(-FARADAY * pnp.c0_mM * total / (hi - lo) * FLOW_RATE_SI / 1e-12)


def velocity_profile(solution: FlowSolution, z: float, n: int = 50) -> tuple[Any, Any]:
    """Axial velocity [nm/ns] across the water at height ``z`` [nm].

    Returns ``(s, u_z)``: ``s`` the radius (2D axisymmetric) or the ``x`` coordinate through the
    axis (3D) from 0 to the largest water radius, ``u_z`` NaN outside the water.
    """
    u = solution.velocity
    sub = u.function_space.mesh
    tree = dolfinx.geometry.bb_tree(sub, sub.topology.dim)
    rmax = sub.comm.allreduce(float(np.max(np.abs(sub.geometry.x[:, 0]), initial=0.0)), MPI.MAX)
    probe = np.linspace(0.0, rmax, 2001)
    inside = np.flatnonzero(~np.isnan(_axial_velocity(u, probe, z, tree)))
    if inside.size == 0:
        raise InputError(f"z = {z:g} nm does not cross the water domain")
    lo = probe[inside[-1]]
    hi = probe[min(inside[-1] + 1, len(probe) - 1)]
    for _ in range(40):  # bisect the water's edge at this height
        mid = 0.5 * (lo + hi)
        if np.isnan(_axial_velocity(u, np.array([mid]), z, tree)[0]):
            hi = mid
        else:
            lo = mid
    s = np.linspace(0.0, lo, int(n))
    return s, _axial_velocity(u, s, z, tree)


def _axial_velocity(u: Any, s: np.ndarray, z: float, tree: Any) -> np.ndarray:
    """``u_z`` at ``(s, z)`` (2D) or ``(s, 0, z)`` (3D), NaN outside the mesh (all ranks)."""
    sub = u.function_space.mesh
    gdim = sub.geometry.dim
    pts = np.zeros((len(s), 3))
    pts[:, 0] = s
    pts[:, gdim - 1] = z
    vals = np.full(len(s), np.nan)
    cand = dolfinx.geometry.compute_collisions_points(tree, pts)
    hits = dolfinx.geometry.compute_colliding_cells(sub, cand, pts)
    found = [i for i in range(len(s)) if len(hits.links(i))]
    if found:
        cells = np.array([hits.links(i)[0] for i in found], dtype=np.int32)
        values = np.asarray(u.eval(pts[found], cells)).reshape(len(found), -1)
        vals[found] = values[:, gdim - 1]
    out = np.full(len(s), np.nan)
    for g in sub.comm.allgather(vals):
        mask = np.isnan(out) & ~np.isnan(g)
        out[mask] = g[mask]
    return out


@dataclass(frozen=True)
class ElectrokineticCoefficients:
    """Linear-response (Onsager) matrix of a pore, SI units.

    ``Q = L_QP dp + L_QV V`` and ``I = L_IP dp + L_IV V`` with ``dp = p_top - p_bottom``,
    ``V = phi_top - phi_bottom``, ``Q`` and ``I`` positive top -> bottom. Onsager reciprocity
    (Onsager 1931; for electrokinetics Mazur and Overbeek 1951) requires ``L_QV = L_IP``:
    the electro-osmotic flow per volt equals the streaming current per pascal.

    Attributes
    ----------
    hydraulic_permeance
        ``L_QP`` [m^3/(s Pa)] (inverse hydraulic resistance).
    electroosmotic_flow_per_volt
        ``L_QV`` [m^3/(s V)].
    streaming_conductance
        ``L_IP`` [A/Pa] (streaming current per pascal).
    conductance
        ``L_IV`` [S].
    """

    hydraulic_permeance: float
    electroosmotic_flow_per_volt: float
    streaming_conductance: float
    conductance: float

    @property
    def reciprocity_error(self) -> float:
        """``|L_QV - L_IP| / max(|L_QV|, |L_IP|)``."""
        a, b = self.electroosmotic_flow_per_volt, self.streaming_conductance
        return abs(a - b) / max(abs(a), abs(b), 1e-300)


def electrokinetic_coefficients(
    solver: Any, voltage: float = 5.0, pressure_difference_Pa: float = 1e4
) -> ElectrokineticCoefficients:
    """Onsager matrix from four solves: ``+-voltage`` [mV] at no pressure difference and
    ``+-pressure_difference_Pa`` at 0 V (symmetric differences cancel the quadratic terms).

    ``solver`` is a :class:`pnp.solvers.flow.SteadyPNPStokesSolver`; its state is left at the
    last solve.
    """
    if not (voltage > 0 and pressure_difference_Pa > 0):
        raise InputError("voltage and pressure_difference_Pa must be > 0 (the probe amplitudes)")
    runs = {}
    for key, v, dp in (
        ("+V", voltage, 0.0), ("-V", -voltage, 0.0),
        ("+P", 0.0, pressure_difference_Pa), ("-P", 0.0, -pressure_difference_Pa),
    ):  # fmt: skip
        sol = solver.solve(v, pressure_difference_Pa=dp)
        runs[key] = (sol.flow_rate_m3_per_s, sol.current * 1e-12)
    dv, dp = 2 * voltage * 1e-3, 2 * pressure_difference_Pa
    return ElectrokineticCoefficients(
        hydraulic_permeance=(runs["+P"][0] - runs["-P"][0]) / dp,
        electroosmotic_flow_per_volt=(runs["+V"][0] - runs["-V"][0]) / dv,
        streaming_conductance=(runs["+P"][1] - runs["-P"][1]) / dp,
        conductance=(runs["+V"][1] - runs["-V"][1]) / dv,
    )
