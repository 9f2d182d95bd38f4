"""Integration measures, the axisymmetric weight and region-wise fields from a ChannelMesh.

Regions and boundaries enter the forms only through this module, looked up *by name* from the
mesh record. For a 2D axisymmetric mesh every integral carries the weight ``2 pi r``
(``x[0] = r``), so volume integrals are true 3D volumes and surface integrals true areas; for a
3D mesh the weight is 1. Forms are written once with that weight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from poreflux.errors import InputError, MeshTagError


@dataclass(frozen=True)
class Surface:
    """A named facet group with its measure; knows whether it is interior (``dS``) or not.

    Use :meth:`integral` to integrate an expression over it: on an interior interface the
    integrand is restricted to the ``'+'`` side (valid for continuous integrands such as a P1/P2
    test function times a constant charge density).
    """

    name: str
    tag: int
    interior: bool
    measure: Any

    def integral(self, integrand: Any) -> Any:
        """``integrand * ds(tag)`` or ``integrand('+') * dS(tag)``."""
        if self.interior:
            return integrand("+") * self.measure(self.tag)
        return integrand * self.measure(self.tag)


@dataclass(frozen=True)
class Measures:
    """Measures of a :class:`meshes.record.ChannelMesh` by name.

    Attributes
    ----------
    cmesh
        The mesh record.
    dx, ds, dS
        UFL measures carrying the cell and facet tags.
    weight
        ``2 pi r`` (axisymmetric) or ``1`` (3D / planar 2D), a UFL expression.
    r
        ``x[0]`` for axisymmetric meshes, else ``None``.
    """

    cmesh: Any
    dx: Any
    ds: Any
    dS: Any
    weight: Any
    r: Any
    _interior: Mapping[str, bool]

    def region(self, names: str | Iterable[str], metadata: dict | None = None) -> Any:
        """``dx`` restricted to the named region(s)."""
        if isinstance(names, str):
            names = (names,)
        tags = tuple(self.cmesh.region(n) for n in names)
        if not tags:
            raise InputError("no region names given")
        dx = self.dx if metadata is None else self.dx(metadata=metadata)
        return dx(tags)

    def surface(self, name: str) -> Surface:
        """The named facet group as a :class:`Surface` (interior ``dS`` or exterior ``ds``)."""
        tag = self.cmesh.boundary(name)
        interior = self._interior[name]
        return Surface(name, tag, interior, self.dS if interior else self.ds)

    def volume(self, names: str | Iterable[str] | None = None) -> float:
        """Volume [nm^3] of the named regions (all cells when ``None``), MPI-reduced."""
        from pnp.results.observables import assemble_scalar

        dx = self.dx if names is None else self.region(names)
        return assemble_scalar(self.weight * dx, self.cmesh.comm)

    def area(self, name: str) -> float:
        """Area [nm^2] of a named facet group, MPI-reduced."""
        from pnp.results.observables import assemble_scalar

        one = dolfinx.fem.Constant(self.cmesh.mesh, 1.0)
        return assemble_scalar(self.surface(name).integral(one * self.weight), self.cmesh.comm)


def _classify_facet_groups(cmesh: Any) -> dict[str, bool]:
    """name -> True when the facet group lies in the interior (an interface), MPI-consistent."""
    msh = cmesh.mesh
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    exterior = dolfinx.mesh.exterior_facet_indices(msh.topology)
    ft = cmesh.facet_tags
    if ft is None:
        if cmesh.boundaries:
            raise MeshTagError("the mesh record names boundaries but has no facet_tags")
        return {}
    nowned = msh.topology.index_map(tdim - 1).size_local
    out = {}
    for name, tag in cmesh.boundaries.items():
        facets = ft.find(tag)
        facets = facets[facets < nowned]
        n_ext = int(np.isin(facets, exterior).sum())
        n_tot = facets.size
        n_ext, n_tot = msh.comm.allreduce(np.array([n_ext, n_tot]), op=MPI.SUM)
        if n_tot == 0:
            raise MeshTagError(
                f"boundary {name!r} (tag {tag}) has no facets on this mesh; check the tags"
            )
        if 0 < n_ext < n_tot:
            raise MeshTagError(
                f"boundary {name!r} mixes {n_ext} exterior and {n_tot - n_ext} interior facets; "
                f"split it into an exterior boundary and an interface group"
            )
        out[name] = n_ext == 0
    return out


def build_measures(cmesh: Any) -> Measures:
    """Measures, weight and interface classification of a mesh record.

    Raises
    ------
    MeshTagError
        When the record lacks cell tags, or a named facet group is empty or mixes interior and
        exterior facets.
    """
    msh = cmesh.mesh
    if cmesh.cell_tags is None:
        raise MeshTagError(
            "the mesh has no cell tags: regions must be tagged (physical groups of cells)"
        )
    if cmesh.axisymmetric and msh.geometry.dim != 2:
        raise InputError(
            f"an axisymmetric mesh must be 2D (r, z); this one has geometric dimension "
            f"{msh.geometry.dim}"
        )
    dx = ufl.Measure("dx", domain=msh, subdomain_data=cmesh.cell_tags)
    ft = cmesh.facet_tags
    ds = ufl.Measure("ds", domain=msh, subdomain_data=ft)
    dS = ufl.Measure("dS", domain=msh, subdomain_data=ft)
    if cmesh.axisymmetric:
        x = ufl.SpatialCoordinate(msh)
        r = x[0]
        weight = 2 * np.pi * r
    else:
        r = None
        weight = dolfinx.fem.Constant(msh, 1.0)
    return Measures(cmesh, dx, ds, dS, weight, r, _classify_facet_groups(cmesh))


def region_field(
    cmesh: Any, values: Mapping[str, float], name: str = "field", default: float | None = None
) -> Any:
    """A DG0 function with one value per named region (from the cell tags).

    Parameters
    ----------
    values
        Region name -> value; names must exist on the mesh.
    default
        Value of cells in no listed region; ``None`` requires every cell to be covered.
    """
    msh = cmesh.mesh
    Q = dolfinx.fem.functionspace(msh, ("DG", 0))
    f = dolfinx.fem.Function(Q, name=name)
    tdim = msh.topology.dim
    ncells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    arr = np.full(ncells, np.nan)
    for region, value in values.items():
        cells = cmesh.cell_tags.find(cmesh.region(region))
        arr[cells] = value
    nowned = msh.topology.index_map(tdim).size_local
    missing = np.isnan(arr)
    nmiss = msh.comm.allreduce(int(missing[:nowned].sum()))
    if nmiss and default is None:
        raise MeshTagError(
            f"{nmiss} cell(s) of the mesh are in no region listed for {name!r} "
            f"(listed: {sorted(values)}); tag every cell with a region"
        )
    arr[missing] = 0.0 if default is None else default  # ghosts are overwritten below
    dofs = Q.dofmap.list[:ncells, 0]
    f.x.array[dofs] = arr
    f.x.scatter_forward()
    return f


def permittivity_field(cmesh: Any, permittivity: Mapping[str, float]) -> Any:
    """Relative permittivity as a DG0 function from the cell tags (every cell must be covered)."""
    for region, eps in permittivity.items():
        if not (np.isfinite(eps) and eps > 0):
            raise InputError(f"relative permittivity of region {region!r} must be > 0, got {eps}")
    known = {k: v for k, v in permittivity.items() if k in cmesh.regions}
    return region_field(cmesh, known, name="eps_r")


def point_charge_density(cmesh: Any, measures: Measures, point_charges: Any) -> Any:
    """Smoothed density [e/nm^3] of :class:`pnp.problems.electrostatics.PointCharges` as a P1
    function.

    Each charge ``q_k`` becomes the Gaussian ``(2 pi w^2)^(-3/2) exp(-d^2/(2 w^2))`` (``d`` the 3D
    distance; in an axisymmetric mesh ``d^2 = r^2 + (z - z_k)^2`` for an on-axis charge),
    truncated at ``cutoff * w`` and interpolated at the P1 nodes, then rescaled by
    ``q_k / int g_k w dx`` (integral of the interpolant on this mesh, exact for P1), so that the
    total charge is conserved exactly. A charge whose Gaussian does not meet the mesh raises
    :class:`~poreflux.errors.InputError`.
    """
    from scipy.spatial import cKDTree

    msh = cmesh.mesh
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    v = ufl.TestFunction(V)
    mass = dolfinx.fem.assemble_vector(dolfinx.fem.form(v * measures.weight * measures.dx))
    mass.scatter_reverse(dolfinx.la.InsertMode.add)
    nowned = V.dofmap.index_map.size_local
    m = mass.array[:nowned]
    xyz = V.tabulate_dof_coordinates()
    pos = np.asarray(point_charges.positions, dtype=float)
    if cmesh.axisymmetric:
        centres = np.column_stack([np.zeros(len(pos)), pos[:, 2]])
        coords = xyz[:, :2]
    else:
        centres = pos
        coords = xyz[:, :3]
    w = point_charges.width
    cutoff = point_charges.cutoff * w
    norm = (2 * np.pi * w * w) ** -1.5
    tree = cKDTree(coords)
    neighbours = tree.query_ball_point(centres, cutoff)
    values = []
    integrals = np.zeros(len(pos))
    for k, idx in enumerate(neighbours):
        idx = np.asarray(idx, dtype=np.int64)
        d2 = np.sum((coords[idx] - centres[k]) ** 2, axis=1)
        g = norm * np.exp(-0.5 * d2 / (w * w))
        values.append((idx, g))
        own = idx < nowned
        integrals[k] = float(np.dot(g[own], m[idx[own]]))
    integrals = msh.comm.allreduce(integrals, op=MPI.SUM)
    lost = np.flatnonzero(integrals < 1e-3)
    if lost.size:
        raise InputError(
            f"point charge(s) {lost.tolist()[:10]} (positions {pos[lost][:3].tolist()} nm) do not "
            f"overlap the mesh within {point_charges.cutoff:g} widths; check the coordinates "
            f"(PQR files are in Angstrom) or the mesh extent"
        )
    rho = dolfinx.fem.Function(V, name="point_charge_density")
    q = np.asarray(point_charges.charges, dtype=float)
    for k, (idx, g) in enumerate(values):
        rho.x.array[idx] += g * (q[k] / integrals[k])
    return rho
