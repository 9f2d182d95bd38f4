"""Test meshes and exact solutions for the PB tests (two-region boxes, exact solutions once)."""

from __future__ import annotations

import dolfinx
import numpy as np
from mpi4py import MPI

from meshes.record import ChannelMesh

LOWER, UPPER = "lower", "upper"
AXIS, BOUNDARY = "axis", "boundary"


def two_region_box(
    n: int, dim: int, axisymmetric: bool = False, split: float = 0.5, comm=MPI.COMM_WORLD
) -> ChannelMesh:
    """Unit square (r, z) or cube with regions ``lower`` (z < split) / ``upper`` and boundaries.

    The last coordinate is z. Boundaries: ``axis`` (r = 0, axisymmetric only) and ``boundary``
    (every other exterior facet). Ghost mode shared_facet (the dolfinx default of create_*).
    """
    gm = dolfinx.mesh.GhostMode.shared_facet
    if dim == 2:
        msh = dolfinx.mesh.create_unit_square(comm, n, n, ghost_mode=gm)
    else:
        msh = dolfinx.mesh.create_unit_cube(comm, n, n, n, ghost_mode=gm)
    tdim = msh.topology.dim
    zc = dim - 1
    tol = 1e-10
    lower = dolfinx.mesh.locate_entities(msh, tdim, lambda x: x[zc] <= split + tol)
    ncell = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    values = np.full(ncell, 2, dtype=np.int32)
    values[lower] = 1
    ct = dolfinx.mesh.meshtags(msh, tdim, np.arange(ncell, dtype=np.int32), values)
    msh.topology.create_connectivity(tdim - 1, tdim)
    ext = dolfinx.mesh.exterior_facet_indices(msh.topology)
    mid = dolfinx.mesh.compute_midpoints(msh, tdim - 1, ext)
    fvals = np.full(ext.size, 2, dtype=np.int32)
    boundaries = {BOUNDARY: 2}
    if axisymmetric:
        fvals[np.abs(mid[:, 0]) < tol] = 1
        boundaries[AXIS] = 1
    order = np.argsort(ext)
    ft = dolfinx.mesh.meshtags(msh, tdim - 1, ext[order].astype(np.int32), fvals[order])
    return ChannelMesh(
        mesh=msh,
        cell_tags=ct,
        facet_tags=ft,
        regions={LOWER: 1, UPPER: 2},
        boundaries=boundaries,
        axisymmetric=axisymmetric,
        water_regions=(LOWER, UPPER),
        meta={"h": 1.0 / n, "n": n},
    )


def exact_piecewise(
    x, mod, eps_lower: float, eps_upper: float, axisymmetric: bool, split: float = 0.5
):
    """Exact solution with continuous flux across z = split, for ``mod`` = ufl or numpy.

    ``u = S(x) g_i(z)``, ``g_i = 1 + (z - s)/eps_i + (z - s)^2`` so ``eps_i dg_i/dz = 1`` at the
    interface; ``S = 1 + cos(pi r)/2`` (axisymmetric, dS/dr = 0 on the axis) or
    ``1 + sin(pi x) sin(pi y)/2`` (3D).
    """
    if axisymmetric:
        S = 1 + 0.5 * mod.cos(np.pi * x[0])
        z = x[1]
    else:
        S = 1 + 0.5 * mod.sin(np.pi * x[0]) * mod.sin(np.pi * x[1])
        z = x[2]
    d = z - split
    if mod is np:
        eps = np.where(z < split, eps_lower, eps_upper)
        return S * (1 + d / eps + d * d)
    import ufl

    g_lo = 1 + d / eps_lower + d * d
    g_up = 1 + d / eps_upper + d * d
    return S * ufl.conditional(ufl.lt(z, split), g_lo, g_up)
