"""Stokes flow on the water sub-mesh: Taylor-Hood spaces, wall conditions, pressure ends.

:class:`FlowFields` holds what the linear Stokes solver (:class:`StokesSolver`, flow under a given
body force) and the coupled PNP-Stokes solver (:mod:`pnp.solvers.flow`) share: the P2-P1
Taylor-Hood pair (Taylor and Hood 1973; inf-sup stable, Brezzi and Fortin 1991) on the water
sub-mesh, the no-slip or Navier-slip walls, the symmetry axis (``u_r = 0``), the pressure of
the two bath ends and the compiled flow-rate functionals. The weak forms are in
:mod:`pnp.forms.stokes`; units there (nm, nm/ns, MPa, mPa s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from meshes import names
from pnp.forms import stokes as sforms
from pnp.forms.measures import build_measures
from pnp.problems.flow import PA_TO_SOLVER, FlowProblem
from pnp.solvers.newton import NewtonSolver
from poreflux.errors import InputError, MeshTagError

#: Body force: callable of the UFL spatial coordinate (of the parent mesh) -> vector [MPa/nm].
BodyForce = Callable[[Any], Any]


def water_submesh(cmesh: Any, regions: tuple[str, ...]) -> tuple[Any, Any, Any]:
    """Sub-mesh of the named water regions: ``(submesh, entity_map, sub_facet_tags)``."""
    msh = cmesh.mesh
    tdim = msh.topology.dim
    cells = np.unique(np.concatenate([cmesh.cell_tags.find(cmesh.region(r)) for r in regions]))
    sub, emap, vmap, _ = dolfinx.mesh.create_submesh(msh, tdim, cells.astype(np.int32))
    msh.topology.create_connectivity(tdim - 1, tdim)
    sub.topology.create_connectivity(tdim - 1, tdim)
    tags = dolfinx.mesh.transfer_meshtags_to_submesh(cmesh.facet_tags, sub, vmap, emap)
    return sub, emap, tags


class FlowFields:
    """Taylor-Hood velocity/pressure on a water sub-mesh with walls, axis and pressure ends.

    Parameters
    ----------
    cmesh
        Mesh record.
    measures
        :class:`pnp.forms.measures.Measures` of ``cmesh``.
    submesh, sub_facet_tags
        The water sub-mesh and its facet tags (from the parent's).
    dx_water
        Parent-mesh measure of the water regions.
    flow
        :class:`pnp.problems.flow.FlowProblem`.
    temperature
        Temperature [K] (for the water viscosity).
    top, bottom
        Names of the bath ends (open, pressure given).
    """

    def __init__(
        self,
        cmesh: Any,
        measures: Any,
        submesh: Any,
        sub_facet_tags: Any,
        dx_water: Any,
        flow: FlowProblem,
        temperature: float,
        top: str = names.TOP,
        bottom: str = names.BOTTOM,
    ) -> None:
        if not isinstance(flow, FlowProblem):
            raise InputError("flow must be a pnp.problems.flow.FlowProblem")
        self.cmesh, self.measures, self.flow = cmesh, measures, flow
        self.submesh, self.sub_facet_tags, self.dx = submesh, sub_facet_tags, dx_water
        self.top, self.bottom = top, bottom
        gdim = submesh.geometry.dim
        self.U = dolfinx.fem.functionspace(submesh, ("Lagrange", 2, (gdim,)))
        self.Q = dolfinx.fem.functionspace(submesh, ("Lagrange", 1))
        self.velocity = dolfinx.fem.Function(self.U, name="velocity")
        self.pressure = dolfinx.fem.Function(self.Q, name="pressure")
        self.viscosity = flow.viscosity(temperature)
        msh = cmesh.mesh
        self.eta = dolfinx.fem.Constant(msh, PETSc.ScalarType(self.viscosity))
        self.p_top = dolfinx.fem.Constant(msh, PETSc.ScalarType(0.0))
        self.p_bottom = dolfinx.fem.Constant(msh, PETSc.ScalarType(0.0))
        self.walls = self._wall_names()
        if flow.slip_length_nm is not None:
            inner = [w for w in self.walls if measures.surface(w).interior]
            if inner:
                raise InputError(
                    f"Navier slip needs walls on the mesh boundary; {inner} are interfaces to a "
                    "solid region meshed too (membrane/protein): use slip_length_nm=None or a "
                    "mesh of the water alone"
                )
        self._rate_forms: list[Any] | None = None

    # --- geometry ---------------------------------------------------------------------------
    def _wall_names(self) -> tuple[str, ...]:
        """Given wall names (checked), or every boundary exterior to the water sub-mesh."""
        cm, sft = self.cmesh, self.sub_facet_tags
        if self.flow.walls is not None:
            for w in self.flow.walls:
                cm.boundary(w)
            return tuple(self.flow.walls)
        sub = self.submesh
        exterior = dolfinx.mesh.exterior_facet_indices(sub.topology)
        skip = {self.top, self.bottom, names.AXIS}
        out = []
        for name, tag in cm.boundaries.items():
            if name in skip:
                continue
            facets = sft.find(tag)
            n_ext = int(np.isin(facets, exterior).sum())
            if sub.comm.allreduce(n_ext, op=MPI.SUM) > 0:
                out.append(name)
        if not out:
            raise MeshTagError("the water region has no wall boundary; name them with walls=")
        named = [n for n in (*out, self.top, self.bottom, names.AXIS) if cm.has_boundary(n)]
        covered = np.concatenate([sft.find(cm.boundary(n)) for n in named])
        free = sub.comm.allreduce(int(np.setdiff1d(exterior, covered).size), op=MPI.SUM)
        if free:
            raise MeshTagError(
                f"{free} exterior facet(s) of the water carry no boundary name; tag them as a "
                "wall or a bath end (they would get no flow condition)"
            )
        return tuple(out)

    def _facets(self, name: str) -> np.ndarray:
        return self.sub_facet_tags.find(self.cmesh.boundary(name))

    def bcs(self) -> list[Any]:
        """No-slip (or normal-component) wall conditions and ``u_r = 0`` on the axis."""
        tdim = self.submesh.topology.dim
        out = []
        wall_facets = np.unique(np.concatenate([self._facets(w) for w in self.walls]))
        if self.flow.slip_length_nm is None:
            dofs = dolfinx.fem.locate_dofs_topological(self.U, tdim - 1, wall_facets)
            zero = np.zeros(self.submesh.geometry.dim, dtype=PETSc.ScalarType)
            out.append(dolfinx.fem.dirichletbc(zero, dofs, self.U))
        else:
            for k, facets in enumerate(self._facets_by_normal(wall_facets)):
                dofs = dolfinx.fem.locate_dofs_topological(self.U.sub(k), tdim - 1, facets)
                out.append(dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dofs, self.U.sub(k)))
        if self.cmesh.axisymmetric and self.cmesh.has_boundary(names.AXIS):
            axis = self._facets(names.AXIS)
            dofs = dolfinx.fem.locate_dofs_topological(self.U.sub(0), tdim - 1, axis)
            out.append(dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dofs, self.U.sub(0)))
        return out

    def _facets_by_normal(self, facets: np.ndarray) -> list[np.ndarray]:
        """Wall facets grouped by the coordinate axis of their normal (slip walls only)."""
        sub = self.submesh
        tdim, gdim = sub.topology.dim, sub.geometry.dim
        nodes = dolfinx.mesh.entities_to_geometry(sub, tdim - 1, facets.astype(np.int32))
        xg = sub.geometry.x
        groups: list[list[int]] = [[] for _ in range(gdim)]
        for f, geo in zip(facets, nodes, strict=True):
            pts = xg[geo, :gdim]
            spread = pts.max(axis=0) - pts.min(axis=0)
            k = int(np.argmin(spread))
            if spread[k] > 1e-8 * max(float(spread.max()), 1e-300):
                raise InputError(
                    "Navier slip needs walls normal to a coordinate axis (e.g. a cylindrical "
                    f"pore); a facet of {self.walls} is oblique: use slip_length_nm=None"
                )
            groups[k].append(int(f))
        return [np.asarray(g, dtype=np.int32) for g in groups]

    # --- forms ------------------------------------------------------------------------------
    def residuals(self, body_force: Any = None) -> list[Any]:
        """``[F_momentum, F_continuity]`` with the pressure ends and slip walls."""
        meas = self.measures
        v = ufl.TestFunction(self.U)
        q = ufl.TestFunction(self.Q)
        r = meas.r if self.cmesh.axisymmetric else None
        F_mom, F_cont = sforms.stokes_residual(
            self.velocity, self.pressure, v, q, self.dx, viscosity=self.eta,
            weight=meas.weight, r=r, body_force=body_force,
        )  # fmt: skip
        for end, value in ((self.top, self.p_top), (self.bottom, self.p_bottom)):
            ds = meas.surface(end).measure(self.cmesh.boundary(end))
            F_mom = F_mom + sforms.pressure_end(value, v, ds, weight=meas.weight)
        if self.flow.slip_length_nm is not None:
            for w in self.walls:
                ds = meas.surface(w).measure(self.cmesh.boundary(w))
                F_mom = F_mom + sforms.navier_slip(
                    self.velocity, v, ds, viscosity=self.eta,
                    slip_length=self.flow.slip_length_nm, weight=meas.weight,
                )  # fmt: skip
        return [F_mom, F_cont]

    def load(self, body_force: Any = None) -> Any:
        """The part of the momentum residual that does not depend on ``(u, p)``, negated:
        ``int f . v weight dx - sum_ends int p_end (v . n) weight ds``, so that the residual of
        :meth:`residuals` is ``A (u, p) - (load, 0)`` with ``A`` its (constant) Jacobian."""
        meas = self.measures
        v = ufl.TestFunction(self.U)
        zero = ufl.as_vector([0.0] * self.submesh.geometry.dim)
        form = ufl.inner(zero if body_force is None else body_force, v) * meas.weight * self.dx
        for end, value in ((self.top, self.p_top), (self.bottom, self.p_bottom)):
            ds = meas.surface(end).measure(self.cmesh.boundary(end))
            form = form - sforms.pressure_end(value, v, ds, weight=meas.weight)
        return form

    def set_pressure_difference(self, dp_pa: float, offset_mpa: float = 0.0) -> None:
        """Set ``p_top - p_bottom = dp_pa`` [Pa] (bottom at ``offset_mpa`` [MPa])."""
        self.p_bottom.value = offset_mpa
        self.p_top.value = offset_mpa + dp_pa * PA_TO_SOLVER

    # --- observables ------------------------------------------------------------------------
    def flow_rates(self, entity_map: Any) -> tuple[float, float]:
        """Flow rate [nm^3/ns] through the top and the bottom end, positive top -> bottom."""
        if self._rate_forms is None:
            meas = self.measures
            n = ufl.FacetNormal(self.cmesh.mesh)
            self._rate_forms = [
                dolfinx.fem.form(
                    ufl.dot(self.velocity, n)
                    * meas.weight
                    * meas.surface(end).measure(self.cmesh.boundary(end)),
                    entity_maps=[entity_map],
                )
                for end in (self.top, self.bottom)
            ]
        comm = self.cmesh.comm
        out_top, out_bottom = (
            comm.allreduce(dolfinx.fem.assemble_scalar(f), op=MPI.SUM) for f in self._rate_forms
        )
        # outflow through top = upward flow; positive Q is downward
        return -float(out_top), float(out_bottom)


class StokesSolver:
    """Stokes flow in the water of a mesh under a given body force and pressure difference.

    A linear problem (one Newton step with MUMPS LU); no ions. Used to validate the flow part
    (Poiseuille, Sampson access, electro-osmosis under a given potential) and as the flow
    solver of a frozen electrostatic field.

    Parameters
    ----------
    cmesh
        Mesh record (regions and boundaries by name).
    flow
        :class:`pnp.problems.flow.FlowProblem` (pressure difference, viscosity, slip, walls).
    temperature
        Temperature [K] (viscosity of water when ``flow.viscosity_mPa_s`` is ``None``).
    water_regions
        Regions holding the fluid; ``None`` = the record's ``water_regions``.
    top, bottom
        Bath-end boundaries.
    """

    def __init__(
        self,
        cmesh: Any,
        flow: FlowProblem | None = None,
        *,
        temperature: float = 298.15,
        water_regions: tuple[str, ...] | None = None,
        top: str = names.TOP,
        bottom: str = names.BOTTOM,
    ) -> None:
        flow = FlowProblem() if flow is None else flow
        regions = tuple(water_regions or cmesh.water_regions)
        if not regions:
            raise InputError("no water regions: give water_regions= (cell regions with fluid)")
        cmesh.boundary(top)
        cmesh.boundary(bottom)
        self.cmesh = cmesh
        self.measures = build_measures(cmesh)
        self.submesh, self.entity_map, sft = water_submesh(cmesh, regions)
        dx = self.measures.region(regions)
        self.fields = FlowFields(
            cmesh, self.measures, self.submesh, sft, dx, flow, temperature, top, bottom
        )
        self.flow = flow

    def solve(
        self, body_force: BodyForce | None = None, pressure_difference_Pa: float | None = None
    ) -> tuple[Any, Any]:
        """Solve; return copies of ``(velocity [nm/ns], pressure [MPa])``.

        ``body_force(x)`` gets the parent mesh's UFL spatial coordinate and returns the force
        density [MPa/nm] as a UFL vector.
        """
        fld = self.fields
        dp = (
            self.flow.pressure_difference_Pa
            if pressure_difference_Pa is None
            else float(FlowProblem(pressure_difference_Pa).pressure_difference_Pa)
        )
        fld.set_pressure_difference(dp)
        f = None
        if body_force is not None:
            f = body_force(ufl.SpatialCoordinate(self.cmesh.mesh))
        unknowns = [fld.velocity, fld.pressure]
        newton = NewtonSolver(
            fld.residuals(f), unknowns, fld.bcs(), name="stokes", solver="direct",
            symmetric=False, kind="mpi", entity_maps=[self.entity_map], rtol=1e-12,
            atol=1e-12, max_it=3,
        )  # fmt: skip
        for g in unknowns:
            g.x.array[:] = 0.0
        newton.solve()
        newton.close()
        return _copy(fld.velocity), _copy(fld.pressure)

    def flow_rate(self) -> float:
        """Flow rate [nm^3/ns] of the last solve (mean of both ends; positive top -> bottom)."""
        top, bottom = self.fields.flow_rates(self.entity_map)
        return 0.5 * (top + bottom)


def _copy(f: Any) -> Any:
    g = dolfinx.fem.Function(f.function_space, name=f.name)
    g.x.array[:] = f.x.array
    return g
