"""Mesh files: load a user's gmsh ``.msh``, write ``.msh``, write/read XDMF through meshio.

- :func:`load_msh` reads any ``.msh`` whose physical groups use the names of :mod:`meshes.names`
  (checks the dimension, that every group is named, and the names a problem needs).
- :func:`write_msh` gathers a (possibly distributed) :class:`ChannelMesh` on rank 0 and writes
  it with meshio (gmsh 2.2 format, named physical groups); meshio is serial and runs on rank 0.
- :func:`write_xdmf` / :func:`read_xdmf`: XDMF + HDF5 through ``dolfinx.io.XDMFFile`` (parallel
  read and write; meshio's XDMF writer needs h5py, which this stack does not ship), with grids
  ``mesh``, ``cell_tags`` and ``facet_tags``; the name table (regions, boundaries, axisymmetric
  flag, water regions) goes to a JSON side file ``<name>.names.json``. Any meshio-readable tool
  (ParaView, meshio with h5py) opens the XDMF file.

Every function here is collective.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dolfinx
import numpy as np
from mpi4py import MPI

from meshes import names
from meshes.gmsh_tools import build_on_rank0, model_to_channel_mesh
from meshes.record import ChannelMesh
from poreflux.errors import InputError, MeshTagError

log = logging.getLogger(__name__)

__all__ = ["load_msh", "read_xdmf", "require_names", "write_msh", "write_xdmf"]

_MESHIO_CELL = {(2, 3): "triangle", (3, 4): "tetra", (1, 2): "line"}
_MESHIO_FACET = {"triangle": "line", "tetra": "triangle", "line": "vertex"}


def require_names(
    cm: ChannelMesh, regions: Sequence[str] = (), boundaries: Sequence[str] = ()
) -> None:
    """Raise :class:`MeshTagError` listing every required region/boundary the mesh lacks."""
    miss_r = [r for r in regions if not cm.has_region(r)]
    miss_b = [b for b in boundaries if not cm.has_boundary(b)]
    if miss_r or miss_b:
        parts = []
        if miss_r:
            parts.append(
                f"regions {miss_r} (physical groups of dimension {cm.tdim}; has "
                f"{sorted(cm.regions)})"
            )
        if miss_b:
            parts.append(
                f"boundaries {miss_b} (physical groups of dimension {cm.tdim - 1}; has "
                f"{sorted(cm.boundaries)})"
            )
        raise MeshTagError("mesh lacks " + " and ".join(parts) + "; name them in the .msh file")


def _check_path(path: str | Path, comm: MPI.Comm) -> Path:
    p = Path(path)
    ok = comm.bcast(p.is_file() if comm.rank == 0 else None, root=0)
    if not ok:
        raise InputError(f"mesh file {str(p)!r} does not exist or is not a file")
    return p


# -- gmsh .msh -----------------------------------------------------------------------------------
def _inspect_msh(path: Path, gdim: int | None, model: Any, result: dict[str, int]) -> None:
    import gmsh

    try:
        gmsh.merge(str(path))
    except Exception as exc:
        raise InputError(f"gmsh cannot read {str(path)!r}: {exc}") from None
    groups = model.getPhysicalGroups()
    if not groups:
        raise MeshTagError(
            f"{path.name} has no physical groups; tag the regions (cells) and boundaries "
            f"(facets) with named physical groups ({names.BATH!r}, {names.TOP!r}, ...)"
        )
    tdim = max(d for d, _ in groups)
    unnamed = [(d, t) for d, t in groups if not model.getPhysicalName(d, t)]
    if unnamed:
        raise MeshTagError(
            f"{path.name} has physical groups without names {unnamed} (dim, tag); poreflux "
            "looks regions and boundaries up by name - give every physical group a name"
        )
    _, coords, _ = model.mesh.getNodes()
    xyz = np.asarray(coords).reshape(-1, 3)
    flat_z = bool(np.all(np.abs(xyz[:, 2]) <= 1e-12 * max(1.0, float(np.abs(xyz).max()))))
    if gdim is None:
        gdim = 2 if (tdim == 2 and flat_z) else tdim
    if gdim not in (2, 3):
        raise InputError(f"gdim must be 2 or 3, got {gdim!r}")
    if tdim != gdim:
        raise InputError(
            f"{path.name} has {tdim}D cells (highest physical group) but a {gdim}D mesh was "
            f"asked for; pass gdim={tdim} or tag the {gdim}D cells"
        )
    if gdim == 2 and not flat_z:
        raise InputError(f"{path.name} is a 2D mesh but its nodes do not lie in the plane z = 0")
    _check_cells_tagged_once(path, model, tdim)
    result["gdim"] = gdim


def _check_cells_tagged_once(path: Path, model: Any, tdim: int) -> None:
    """Every cell must be in exactly one region (physical group of the highest dimension)."""
    ents: list[int] = []
    for _, tag in model.getPhysicalGroups(tdim):
        ents.extend(int(e) for e in model.getEntitiesForPhysicalGroup(tdim, tag))
    if len(ents) != len(set(ents)):
        raise MeshTagError(
            f"{path.name}: some {tdim}D entities belong to several regions; each cell must be in "
            "exactly one region (physical group)"
        )
    untagged = [t for _, t in model.getEntities(tdim) if t not in set(ents)]
    n_untagged = 0
    for t in untagged:
        _, elem_tags, _ = model.mesh.getElements(tdim, t)
        n_untagged += sum(len(e) for e in elem_tags)
    if n_untagged:
        raise MeshTagError(
            f"{path.name}: {n_untagged} cells (in {tdim}D entities {untagged}) belong to no "
            "region; add them to a named physical group"
        )


def load_msh(
    path: str | Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    gdim: int | None = None,
    *,
    axisymmetric: bool | None = None,
    water_regions: Sequence[str] | None = None,
    required_regions: Sequence[str] = (),
    required_boundaries: Sequence[str] = (),
) -> ChannelMesh:
    """Load a gmsh ``.msh`` file with named physical groups; collective on ``comm``.

    Parameters
    ----------
    path
        The file (any version gmsh reads).
    comm
        MPI communicator (read on rank 0, distributed with ghost mode ``shared_facet``).
    gdim
        2 (axisymmetric (r, z) mesh in the plane z = 0) or 3; default: from the file.
    axisymmetric
        Default ``gdim == 2``; a 2D axisymmetric mesh must have ``r = x >= 0``.
    water_regions
        Default: the standard water region names present in the file.
    required_regions, required_boundaries
        Names the caller's problem needs; missing ones raise :class:`MeshTagError`.

    Raises
    ------
    InputError
        Missing/unreadable file, dimension mismatch, nodes at r < 0 for an axisymmetric mesh.
    MeshTagError
        No physical groups, unnamed groups, missing required names.
    """
    p = _check_path(path, comm)
    info: dict[str, int] = {}
    data = build_on_rank0(
        comm,
        f"msh:{p.name}",
        lambda model: _inspect_msh(p, gdim, model, info),
        gdim=lambda: info["gdim"],
    )
    dim = data.mesh.geometry.dim
    axi = (dim == 2) if axisymmetric is None else bool(axisymmetric)
    rmin = comm.allreduce(float(data.mesh.geometry.x[:, 0].min(initial=np.inf)), op=MPI.MIN)
    if axi and (dim != 2 or rmin < -1e-9):
        raise InputError(
            f"{p.name} cannot be axisymmetric: needs a 2D mesh with r = x >= 0 "
            f"(gdim {dim}, min x = {rmin:g})"
        )
    water = names.WATER_REGIONS if water_regions is None else tuple(water_regions)
    cm = model_to_channel_mesh(
        data,
        axisymmetric=axi,
        water_regions=water,
        meta={"source": str(p)},
    )
    if water_regions is not None:
        require_names(cm, regions=tuple(water_regions))
    require_names(cm, required_regions, required_boundaries)
    return cm


# -- gather to rank 0 ----------------------------------------------------------------------------
def _gather(cm: ChannelMesh) -> dict[str, Any] | None:
    """Points, cells, facets and tag values of a distributed mesh, in global numbering on rank 0."""
    msh = cm.mesh
    tdim, fdim, gdim = msh.topology.dim, msh.topology.dim - 1, msh.geometry.dim
    comm = msh.comm
    gmap = msh.geometry.index_map()
    n_own = gmap.size_local
    gids = gmap.local_to_global(np.arange(n_own, dtype=np.int32))
    x = msh.geometry.x[:n_own, :gdim]
    ncell = msh.topology.index_map(tdim).size_local
    dofs = msh.geometry.dofmaps[0][:ncell]
    cells = gmap.local_to_global(dofs.ravel()).reshape(dofs.shape)
    cvals = np.zeros(ncell, dtype=np.int32)
    ct = cm.cell_tags
    own = ct.indices < ncell
    cvals[ct.indices[own]] = ct.values[own]
    msh.topology.create_connectivity(fdim, tdim)
    nfac = msh.topology.index_map(fdim).size_local
    ft = cm.facet_tags
    own_f = ft.indices < nfac
    fidx = ft.indices[own_f].astype(np.int32)
    fnodes = dolfinx.mesh.entities_to_geometry(msh, fdim, fidx)
    facets = gmap.local_to_global(fnodes.ravel()).reshape(fnodes.shape)
    fvals = ft.values[own_f]
    parts = comm.gather((gids, x, cells, cvals, facets, fvals), root=0)
    if comm.rank != 0:
        return None
    n_glob = gmap.size_global
    points = np.zeros((n_glob, gdim))
    for g, xx, *_ in parts:
        points[g] = xx
    return {
        "points": points,
        "cells": np.concatenate([p[2] for p in parts]).astype(np.int64),
        "cell_values": np.concatenate([p[3] for p in parts]).astype(np.int32),
        "facets": np.concatenate([p[4] for p in parts]).astype(np.int64),
        "facet_values": np.concatenate([p[5] for p in parts]).astype(np.int32),
    }


def _names_table(cm: ChannelMesh) -> dict[str, Any]:
    return {
        "regions": cm.regions,
        "boundaries": cm.boundaries,
        "axisymmetric": cm.axisymmetric,
        "water_regions": list(cm.water_regions),
        "gdim": cm.gdim,
        "tdim": cm.tdim,
    }


def _cell_type(cm: ChannelMesh) -> str:
    key = (cm.tdim, cm.mesh.geometry.dofmaps[0].shape[1])
    if key not in _MESHIO_CELL:
        raise InputError(f"only linear simplex meshes can be written, got {key} (tdim, nodes)")
    return _MESHIO_CELL[key]


def write_msh(cm: ChannelMesh, path: str | Path) -> Path:
    """Write a :class:`ChannelMesh` as a gmsh 2.2 ``.msh`` with named physical groups.

    :func:`load_msh` reads it back with the same names. Collective; rank 0 writes.
    """
    import meshio

    p = Path(path)
    ctype = _cell_type(cm)
    data = _gather(cm)
    if cm.comm.rank == 0:
        assert data is not None
        pts = np.zeros((len(data["points"]), 3))
        pts[:, : cm.gdim] = data["points"]
        field_data = {n: np.array([t, cm.tdim]) for n, t in cm.regions.items()}
        field_data |= {n: np.array([t, cm.tdim - 1]) for n, t in cm.boundaries.items()}
        out = meshio.Mesh(
            pts,
            [(ctype, data["cells"]), (_MESHIO_FACET[ctype], data["facets"])],
            cell_data={
                "gmsh:physical": [data["cell_values"], data["facet_values"]],
                "gmsh:geometrical": [data["cell_values"], data["facet_values"]],
            },
            field_data=field_data,
        )
        p.parent.mkdir(parents=True, exist_ok=True)
        meshio.write(p, out, file_format="gmsh22", binary=False)
    cm.comm.Barrier()
    return p


def _side_file(path: Path) -> Path:
    return path.with_suffix(".names.json")


def write_xdmf(cm: ChannelMesh, path: str | Path) -> Path:
    """Write mesh + cell/facet tags as XDMF/HDF5 (parallel) and the name table as JSON.

    The tags are the XDMF grids ``"cell_tags"`` and ``"facet_tags"`` (ParaView shows them);
    the name table goes to ``path.with_suffix(".names.json")``. Collective.
    """
    p = Path(path)
    if p.suffix != ".xdmf":
        raise InputError(f"XDMF file name must end in .xdmf, got {p.name!r}")
    comm = cm.comm
    if comm.rank == 0:
        p.parent.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    cm.mesh.topology.create_connectivity(cm.tdim - 1, cm.tdim)
    cm.cell_tags.name, cm.facet_tags.name = "cell_tags", "facet_tags"
    with dolfinx.io.XDMFFile(comm, str(p), "w") as f:
        f.write_mesh(cm.mesh)
        f.write_meshtags(cm.cell_tags, cm.mesh.geometry)
        f.write_meshtags(cm.facet_tags, cm.mesh.geometry)
    if comm.rank == 0:
        _side_file(p).write_text(json.dumps(_names_table(cm), indent=1))
    comm.Barrier()
    return p


def read_xdmf(path: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> ChannelMesh:
    """Read a mesh written by :func:`write_xdmf` (needs its ``.names.json``); collective.

    The mesh is distributed with the ghost mode ``shared_facet``.
    """
    p = _check_path(path, comm)
    side = _side_file(p)
    table = None
    if comm.rank == 0 and side.is_file():
        table = json.loads(side.read_text())
    table = comm.bcast(table, root=0)
    if table is None:
        raise MeshTagError(
            f"name table {side.name} missing next to {p.name}; write the mesh with "
            "meshes.io.write_xdmf (regions and boundaries are looked up by name)"
        )
    with dolfinx.io.XDMFFile(comm, str(p), "r") as f:
        msh = f.read_mesh(ghost_mode=dolfinx.mesh.GhostMode.shared_facet, name="mesh")
        tdim = msh.topology.dim
        msh.topology.create_connectivity(tdim - 1, tdim)
        ct = f.read_meshtags(msh, name="cell_tags")
        ft = f.read_meshtags(msh, name="facet_tags")
    return ChannelMesh(
        mesh=msh,
        cell_tags=ct,
        facet_tags=ft,
        regions={k: int(v) for k, v in table["regions"].items()},
        boundaries={k: int(v) for k, v in table["boundaries"].items()},
        axisymmetric=bool(table["axisymmetric"]),
        water_regions=tuple(table["water_regions"]),
        meta={"source": str(p)},
    )
