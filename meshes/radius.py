"""Local pore radius R(z) along the pore axis, from a geometry description or from any mesh.

- :func:`profile_radius` evaluates the polyline of a :class:`~meshes.profile.PoreProfile`
  (exact for meshes this package built).
- :func:`mesh_radius` measures it on a mesh (e.g. a user's ``.msh``): at each height z, the
  smallest distance from the pore axis (r = 0, or x = y = 0 in 3D) to the wall facets
  (``membrane_wall`` and ``protein_wall``) cut by the plane at that height. The result is
  gathered over MPI ranks and identical on every rank.
- :func:`pore_radius` dispatches on its argument.

Lengths in nm; z is the mesh's axial coordinate (channel meshes put the membrane centre at 0).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import dolfinx
import numpy as np
import numpy.typing as npt
from mpi4py import MPI

from meshes import names
from meshes.profile import PoreProfile
from meshes.record import ChannelMesh
from poreflux.errors import InputError, MeshTagError

__all__ = ["mesh_radius", "pore_radius", "profile_radius"]

WALLS = (names.MEMBRANE_WALL, names.PROTEIN_WALL)


def _as_profile(geometry: object) -> PoreProfile:
    if isinstance(geometry, PoreProfile):
        return geometry
    prof = getattr(geometry, "profile", None)
    if isinstance(prof, PoreProfile):
        return prof
    raise InputError(
        f"cannot read a pore profile from {type(geometry).__name__}; pass a PoreProfile, a "
        "ChannelGeometry or a ChannelMesh"
    )


def profile_radius(
    geometry: object, z: npt.ArrayLike | None = None, num: int = 201
) -> tuple[np.ndarray, np.ndarray]:
    """Pore radius from a geometry description.

    Parameters
    ----------
    geometry
        A :class:`PoreProfile` or anything with a ``profile`` attribute (``ChannelGeometry``).
    z
        Axial positions (nm); default ``num`` points across the membrane.
    num
        Number of default sample points.

    Returns
    -------
    z, R
        Arrays in nm; R is NaN outside the membrane.
    """
    prof = _as_profile(geometry)
    zz = (
        np.linspace(-prof.thickness / 2, prof.thickness / 2, num)
        if z is None
        else np.asarray(z, dtype=float)
    )
    return zz, prof.radius_at(zz)


def _point_segment_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from the origin to segments a-b (arrays of shape (..., 2))."""
    d = b - a
    dd = np.einsum("...i,...i->...", d, d)
    t = np.where(dd > 0, -np.einsum("...i,...i->...", a, d) / np.where(dd > 0, dd, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    p = a + t[..., None] * d
    return np.sqrt(np.einsum("...i,...i->...", p, p))


def _radius_2d(x: np.ndarray, zs: np.ndarray, eps: float) -> np.ndarray:
    r0, r1, z0, z1 = x[:, 0, 0], x[:, 1, 0], x[:, 0, 1], x[:, 1, 1]
    lo, hi = np.minimum(z0, z1), np.maximum(z0, z1)
    flat = (hi - lo) <= eps
    out = np.full(zs.shape, np.inf)
    for k, z in enumerate(zs):
        m = (lo - eps <= z) & (z <= hi + eps)
        if not m.any():
            continue
        t = np.clip((z - z0[m]) / np.where(flat[m], 1.0, z1[m] - z0[m]), 0.0, 1.0)
        r = np.where(flat[m], np.minimum(r0[m], r1[m]), r0[m] + t * (r1[m] - r0[m]))
        out[k] = r.min()
    return out


def _radius_3d(x: np.ndarray, zs: np.ndarray, eps: float) -> np.ndarray:
    zv = x[:, :, 2]
    lo, hi = zv.min(axis=1), zv.max(axis=1)
    out = np.full(zs.shape, np.inf)
    edges = ((0, 1), (1, 2), (2, 0))
    for k, z in enumerate(zs):
        m = (lo - eps <= z) & (z <= hi + eps)
        if not m.any():
            continue
        v = x[m]
        cands, valid = [], []
        for i, j in edges:  # points where an edge crosses the plane
            za, zb = v[:, i, 2], v[:, j, 2]
            crosses = ((za - z) * (zb - z) <= 0) & (np.abs(zb - za) > eps)
            t = np.where(crosses, (z - za) / np.where(crosses, zb - za, 1.0), 0.0)
            cands.append(v[:, i, :2] + t[:, None] * (v[:, j, :2] - v[:, i, :2]))
            valid.append(crosses)
        for i in range(3):  # vertices on the plane (and horizontal triangles)
            cands.append(v[:, i, :2])
            valid.append(np.abs(v[:, i, 2] - z) <= eps)
        best = np.full(len(v), np.inf)
        for a, b in itertools.combinations(range(len(cands)), 2):
            ok = valid[a] & valid[b]
            if ok.any():
                d = _point_segment_distance(cands[a][ok], cands[b][ok])
                best[ok] = np.minimum(best[ok], d)
        single = np.sum(valid, axis=0) == 1  # touches the plane in one point
        for a in range(len(cands)):
            ok = single & valid[a]
            best[ok] = np.minimum(best[ok], np.linalg.norm(cands[a][ok], axis=1))
        out[k] = best.min()
    return out


def mesh_radius(
    cm: ChannelMesh,
    z: npt.ArrayLike | None = None,
    num: int = 201,
    walls: Sequence[str] = WALLS,
) -> tuple[np.ndarray, np.ndarray]:
    """Pore radius measured on a mesh from its wall facets; collective, same result on all ranks.

    Parameters
    ----------
    cm
        A channel mesh with at least one of the ``walls`` boundaries (2D axisymmetric: the axis
        is r = 0; 3D: the axis is x = y = 0, along z).
    z
        Axial positions (nm); default ``num`` points from the lowest to the highest wall facet.
    num
        Number of default sample points.
    walls
        Names of the wall boundaries to use.

    Returns
    -------
    z, R
        Arrays in nm; R is NaN where no wall facet crosses the plane (outside the membrane).
    """
    present = [w for w in walls if cm.has_boundary(w)]
    if not present:
        raise MeshTagError(
            f"mesh has none of the wall boundaries {list(walls)} needed to measure the pore "
            f"radius; its boundaries are {sorted(cm.boundaries)}"
        )
    msh = cm.mesh
    fdim = msh.topology.dim - 1
    ft = cm.facet_tags
    tags = [cm.boundary(w) for w in present]
    facets = np.sort(ft.indices[np.isin(ft.values, tags)]).astype(np.int32)
    gdim = msh.geometry.dim
    if gdim not in (2, 3) or msh.topology.dim != gdim:
        raise InputError(f"mesh_radius needs a 2D (r, z) or 3D mesh, got gdim={gdim}")
    nodes = dolfinx.mesh.entities_to_geometry(msh, fdim, facets)
    x = msh.geometry.x[nodes][:, :, :gdim] if len(facets) else np.zeros((0, gdim, gdim))
    zaxis = gdim - 1
    comm = msh.comm
    zlo = comm.allreduce(float(x[:, :, zaxis].min()) if len(x) else np.inf, op=MPI.MIN)
    zhi = comm.allreduce(float(x[:, :, zaxis].max()) if len(x) else -np.inf, op=MPI.MAX)
    if not np.isfinite(zlo):
        raise MeshTagError(f"the wall boundaries {present} of this mesh have no facets")
    zs = np.linspace(zlo, zhi, num) if z is None else np.asarray(z, dtype=float).ravel()
    eps = 1e-9 * max(1.0, zhi - zlo)
    if len(x) == 0:
        local = np.full(zs.shape, np.inf)
    elif gdim == 2:
        local = _radius_2d(x, zs, eps)
    else:
        local = _radius_3d(x, zs, eps)
    glob = np.empty_like(local)
    comm.Allreduce(local, glob, op=MPI.MIN)
    return zs, np.where(np.isfinite(glob), glob, np.nan)


def pore_radius(
    source: object, z: npt.ArrayLike | None = None, num: int = 201
) -> tuple[np.ndarray, np.ndarray]:
    """R(z) from a mesh (measured on its walls) or from a geometry/profile (analytic).

    A :class:`ChannelMesh` built by :func:`meshes.channel.build_channel` carries its geometry, but
    is measured anyway, so the answer is what the solver sees.
    """
    if isinstance(source, ChannelMesh):
        return mesh_radius(source, z=z, num=num)
    return profile_radius(source, z=z, num=num)
