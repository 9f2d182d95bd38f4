"""Tagged simple meshes for validation problems (lengths in nm, or dimensionless for MMS).

- :func:`wall_mesh`: a planar charged wall at ``x = 0`` and bulk at ``x = L`` (Gouy-Chapman), as an
  interval (1D), strip (2D) or box (3D), graded toward the wall.
- :func:`slab_mesh`: two dielectric layers ``0 <= x <= L1`` and ``L1 <= x <= L1 + L2`` with the
  interface facets tagged (1D, 2D or 3D).
- :func:`unit_box`: the unit square/cube with a uniform size (manufactured solutions).
- :func:`axisymmetric_rectangle`: ``0 <= r <= r_max``, ``z0 <= z <= z1`` with the ``axis`` tag.

These use ``dolfinx.mesh.create_*`` (ghost mode ``shared_facet``) and map the x coordinate to a
graded distribution where needed; interfaces always lie on mesh lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import dolfinx
import numpy as np
from mpi4py import MPI

from meshes import names
from meshes.profile import check_positive
from meshes.record import ChannelMesh
from poreflux.errors import InputError

__all__ = [
    "axisymmetric_rectangle",
    "graded_nodes",
    "slab_mesh",
    "unit_box",
    "wall_mesh",
]

Marker = Callable[[np.ndarray], np.ndarray]


def graded_nodes(length: float, h_start: float, h_end: float, growth: float = 0.2) -> np.ndarray:
    """Node positions on ``[0, length]`` with size ``h_start`` at 0 growing toward ``h_end``.

    The target size is ``h(x) = min(h_end, h_start + growth * max(0, x - h_start))``; the
    number of cells is ``ceil(int_0^L dx / h)`` and the nodes are equally spaced in
    ``s = int_0^x dx'/h``, so no cell is larger than the target size anywhere in it (the first
    cell is at most ``h_start``, every cell at most ``h_end``).
    """
    L = check_positive("length", length)
    h0 = check_positive("h_start", h_start)
    h1 = check_positive("h_end", h_end)
    g = check_positive("growth", growth, unit="")
    if h1 < h0:
        raise InputError(f"h_end ({h1:g}) must be >= h_start ({h0:g})")
    x = np.linspace(0.0, L, 20001)
    h = np.minimum(h1, h0 + g * np.maximum(0.0, x - h0))
    s = np.concatenate([[0.0], np.cumsum(0.5 * (1 / h[1:] + 1 / h[:-1]) * np.diff(x))])
    n = max(1, math.ceil(s[-1] - 1e-9))
    nodes = np.interp(np.linspace(0.0, s[-1], n + 1), s, x)
    nodes[0], nodes[-1] = 0.0, L
    return nodes


def _check_dim(dim: int, allowed: Sequence[int]) -> int:
    if dim not in allowed:
        raise InputError(f"dim must be one of {tuple(allowed)}, got {dim!r}")
    return int(dim)


def _structured(comm: MPI.Comm, nodes_x: np.ndarray, width: float, ny: int, dim: int) -> Any:
    """Structured mesh on [0, 1] x [0, width]^(dim-1) with x mapped to ``nodes_x``."""
    nx = len(nodes_x) - 1
    if dim == 1:
        msh = dolfinx.mesh.create_interval(comm, nx, [0.0, 1.0])
    elif dim == 2:
        msh = dolfinx.mesh.create_rectangle(comm, [[0.0, 0.0], [1.0, width]], [nx, ny])
    else:
        msh = dolfinx.mesh.create_box(
            comm, [np.array([0.0, 0.0, 0.0]), np.array([1.0, width, width])], [nx, ny, ny]
        )
    x = msh.geometry.x
    x[:, 0] = np.interp(x[:, 0], np.linspace(0.0, 1.0, nx + 1), nodes_x)
    return msh


def _tag(msh: Any, dim: int, items: Sequence[tuple[int, Marker]], boundary: bool) -> Any:
    """MeshTags from (value, marker) pairs; earlier pairs win where markers overlap."""
    msh.topology.create_connectivity(dim, msh.topology.dim)
    all_idx: list[np.ndarray] = []
    all_val: list[np.ndarray] = []
    taken = np.zeros(0, dtype=np.int32)
    for value, marker in items:
        if boundary:
            idx = dolfinx.mesh.locate_entities_boundary(msh, dim, marker)
        else:
            idx = dolfinx.mesh.locate_entities(msh, dim, marker)
        idx = np.setdiff1d(idx, taken).astype(np.int32)
        taken = np.union1d(taken, idx).astype(np.int32)
        all_idx.append(idx)
        all_val.append(np.full(idx.shape, value, dtype=np.int32))
    idx = np.concatenate(all_idx) if all_idx else np.zeros(0, dtype=np.int32)
    val = np.concatenate(all_val) if all_val else np.zeros(0, dtype=np.int32)
    order = np.argsort(idx)
    return dolfinx.mesh.meshtags(msh, dim, idx[order], val[order])


def _record(
    msh: Any,
    cells: Sequence[tuple[str, int, Marker]],
    exterior: Sequence[tuple[str, int, Marker]],
    interior: Sequence[tuple[str, int, Marker]] = (),
    *,
    axisymmetric: bool = False,
    water_regions: Sequence[str] = (),
    geometry: Any = None,
    meta: dict[str, Any] | None = None,
) -> ChannelMesh:
    tdim = msh.topology.dim
    ct = _tag(msh, tdim, [(t, m) for _, t, m in cells], boundary=False)
    ext = _tag(msh, tdim - 1, [(t, m) for _, t, m in exterior], boundary=True)
    if interior:
        inn = _tag(msh, tdim - 1, [(t, m) for _, t, m in interior], boundary=False)
        idx = np.concatenate([ext.indices, inn.indices])
        val = np.concatenate([ext.values, inn.values])
        idx, first = np.unique(idx, return_index=True)  # exterior wins (cannot overlap anyway)
        ft = dolfinx.mesh.meshtags(msh, tdim - 1, idx.astype(np.int32), val[first])
    else:
        ft = ext
    ct.name, ft.name = "cell_tags", "facet_tags"
    return ChannelMesh(
        mesh=msh,
        cell_tags=ct,
        facet_tags=ft,
        regions={n: t for n, t, _ in cells},
        boundaries={n: t for n, t, _ in (*exterior, *interior)},
        axisymmetric=axisymmetric,
        water_regions=tuple(water_regions),
        geometry=geometry,
        meta=dict(meta or {}),
    )


def _everywhere(x: np.ndarray) -> np.ndarray:
    return np.ones(x.shape[1], dtype=bool)


def wall_mesh(
    length: float,
    h_wall: float,
    h_far: float,
    dim: int = 1,
    width: float | None = None,
    growth: float = 0.2,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> ChannelMesh:
    """A planar wall problem: electrolyte on ``0 <= x <= length`` (nm), wall at ``x = 0``.

    Parameters
    ----------
    length
        Distance from the wall to the bulk end (nm); several Debye lengths.
    h_wall, h_far
        Cell size (nm) at the wall and the largest size far from it.
    dim
        1 (interval), 2 (strip ``[0, L] x [0, width]``) or 3 (box ``[0, L] x [0, width]^2``).
    width
        Lateral size (nm) for dim 2/3 (default: ``h_far``, one or two cells across).
    growth
        Size growth away from the wall (nm per nm).
    comm
        MPI communicator.

    Returns
    -------
    ChannelMesh
        Region ``solvent`` (water); boundaries ``wall`` (x = 0), ``far`` (x = L) and, for
        dim 2/3, ``sides`` (the lateral faces, where a symmetry/Neumann condition applies).
    """
    dim = _check_dim(dim, (1, 2, 3))
    L = check_positive("length", length)
    nodes = graded_nodes(L, h_wall, h_far, growth)
    W = check_positive("width", h_far if width is None else width)
    ny = max(1, math.ceil(W / h_far - 1e-9))
    msh = _structured(comm, nodes, W, ny, dim)
    tol = 1e-9 * L
    exterior = [
        (names.WALL, 1, lambda x: np.abs(x[0]) < tol),
        (names.FAR, 2, lambda x: np.abs(x[0] - L) < tol),
    ]
    if dim > 1:
        exterior.append((names.SIDES, 3, _everywhere))
    return _record(
        msh,
        [(names.SOLVENT, 1, _everywhere)],
        exterior,
        water_regions=(names.SOLVENT,),
        meta={"builder": "wall", "dim": dim, "num_cells_x": len(nodes) - 1, "nodes_x": nodes},
    )


def slab_mesh(
    thickness_1: float,
    thickness_2: float,
    h: float,
    dim: int = 2,
    width: float | None = None,
    water_regions: Sequence[str] = (),
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> ChannelMesh:
    """Two dielectric layers along x with a tagged planar interface at ``x = thickness_1``.

    Parameters
    ----------
    thickness_1, thickness_2
        Layer thicknesses (nm).
    h
        Uniform cell size (nm); each layer gets ``ceil(thickness / h)`` cells across.
    dim
        1, 2 or 3.
    width
        Lateral size (nm) for dim 2/3 (default ``4 h``).
    water_regions
        Which of ``layer_1`` / ``layer_2`` hold mobile ions (default none: a pure Poisson test).
    comm
        MPI communicator.

    Returns
    -------
    ChannelMesh
        Regions ``layer_1``, ``layer_2``; boundaries ``left`` (x = 0), ``right`` (x = L1 + L2),
        ``interface`` (interior facets at x = L1) and ``sides`` (dim 2/3).
    """
    dim = _check_dim(dim, (1, 2, 3))
    L1 = check_positive("thickness_1", thickness_1)
    L2 = check_positive("thickness_2", thickness_2)
    hh = check_positive("h", h)
    for w in water_regions:
        if w not in (names.LAYER_1, names.LAYER_2):
            raise InputError(f"water region {w!r} is not a slab layer (layer_1 or layer_2)")
    n1, n2 = max(1, math.ceil(L1 / hh - 1e-9)), max(1, math.ceil(L2 / hh - 1e-9))
    nodes = np.concatenate([np.linspace(0.0, L1, n1 + 1), np.linspace(L1, L1 + L2, n2 + 1)[1:]])
    W = check_positive("width", 4 * hh if width is None else width)
    ny = max(1, math.ceil(W / hh - 1e-9))
    msh = _structured(comm, nodes, W, ny, dim)
    L, tol = L1 + L2, 1e-9 * (L1 + L2)
    exterior = [
        (names.LEFT, 1, lambda x: np.abs(x[0]) < tol),
        (names.RIGHT, 2, lambda x: np.abs(x[0] - L) < tol),
    ]
    if dim > 1:
        exterior.append((names.SIDES, 3, _everywhere))
    cells = [
        (names.LAYER_1, 1, lambda x: x[0] <= L1 + tol),
        (names.LAYER_2, 2, lambda x: x[0] >= L1 - tol),
    ]
    # a cell belongs to layer_1 when all its vertices have x <= L1 (locate_entities checks all)
    interior = [(names.INTERFACE, 4, lambda x: np.abs(x[0] - L1) < tol)]
    return _record(
        msh,
        cells,
        exterior,
        interior,
        water_regions=water_regions,
        meta={"builder": "slab", "dim": dim, "h": hh, "interface_x": L1},
    )


def unit_box(h: float, dim: int = 2, comm: MPI.Comm = MPI.COMM_WORLD) -> ChannelMesh:
    """The unit square (dim 2) or cube (dim 3) with ``n = ceil(1/h)`` cells per side.

    Region ``domain``; boundary ``boundary`` (all exterior facets). ``meta["h"] = 1/n`` is the
    cell side (use it as the h in convergence fits).
    """
    dim = _check_dim(dim, (2, 3))
    n = max(1, math.ceil(1.0 / check_positive("h", h, unit="") - 1e-9))
    if dim == 2:
        msh = dolfinx.mesh.create_unit_square(comm, n, n)
    else:
        msh = dolfinx.mesh.create_unit_cube(comm, n, n, n)
    return _record(
        msh,
        [(names.DOMAIN, 1, _everywhere)],
        [(names.BOUNDARY, 1, _everywhere)],
        meta={"builder": "unit_box", "dim": dim, "h": 1.0 / n, "n": n},
    )


def axisymmetric_rectangle(
    h: float,
    r_max: float = 1.0,
    z_range: tuple[float, float] = (0.0, 1.0),
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> ChannelMesh:
    """The (r, z) rectangle ``[0, r_max] x [z0, z1]`` for axisymmetric manufactured solutions.

    Region ``domain``; boundaries ``axis`` (r = 0) and ``boundary`` (the rest);
    ``axisymmetric=True``. Cells are right triangles of side ``h`` (rounded to fit).
    """
    R = check_positive("r_max", r_max)
    z0, z1 = float(z_range[0]), float(z_range[1])
    if not (math.isfinite(z0) and math.isfinite(z1) and z1 > z0):
        raise InputError(f"z_range must be finite with z1 > z0, got {z_range!r}")
    hh = check_positive("h", h)
    nr = max(1, math.ceil(R / hh - 1e-9))
    nz = max(1, math.ceil((z1 - z0) / hh - 1e-9))
    msh = dolfinx.mesh.create_rectangle(comm, [[0.0, z0], [R, z1]], [nr, nz])
    tol = 1e-9 * R
    return _record(
        msh,
        [(names.DOMAIN, 1, _everywhere)],
        [(names.AXIS, 1, lambda x: np.abs(x[0]) < tol), (names.BOUNDARY, 2, _everywhere)],
        axisymmetric=True,
        meta={"builder": "axisymmetric_rectangle", "h": max(R / nr, (z1 - z0) / nz)},
    )
