"""gmsh model -> distributed DOLFINx mesh with its cell and facet tags, without entity searches.

:func:`dolfinx.io.gmsh.model_to_mesh` tags cells and facets by sending every tagged entity, as a
list of its vertices, to the process that owns it and searching it there
(``distribute_entity_data`` + ``meshtags_from_entities``). For a 3D channel of 7e5 tetrahedra
that costs more than creating the mesh itself. The tags can be found without any search:

- a cell's tag is known from its input index, which DOLFINx keeps for every local cell
  (``topology.original_cell_index``), so the cell tags are one array lookup;
- a tagged facet of a simplex mesh is local facet ``i`` of an input cell (the facet opposite
  vertex ``i``, DOLFINx's reference numbering); rank 0 finds the (cell, i) pairs once with a
  sort of packed vertex triples, and every rank reads its facet numbers from the cell-to-facet
  connectivity.

Everything the mesh and its tags are made from fits in a few arrays (:class:`MeshArrays`, taken
from the gmsh model by :func:`extract_arrays`), which is also what the mesh cache
(:mod:`meshes.cache`) stores, so a cached mesh needs no gmsh at all.

In serial, :func:`mesh_from_arrays` builds the DOLFINx topology and geometry directly
(``create_topology`` + ``create_geometry``): :func:`dolfinx.mesh.create_mesh` would compute the
dual graph of the cells to find the vertices a partition could share and reorder the cells
(Gibbs-Poole-Stockmeyer), which on one process is work without use (the dofs are still
reordered by DOLFINx's dofmap builder); on the 6.8e5-cell 3D channel this is about 5x less CPU
time. Under MPI the mesh goes through ``create_mesh`` with the given partitioner.

The result is the same :class:`dolfinx.io.gmsh.MeshData` as DOLFINx's importer gives (same
entities, same values; tested in serial and under MPI). Models DOLFINx's importer handles but
this path does not (mixed cell types, tags of codimension 2 or more, non-simplex cells, more
than 2^21 nodes in 3D) are passed to :func:`dolfinx.io.gmsh.model_to_mesh` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dolfinx
import dolfinx.io.gmsh as dgmsh
import numpy as np
from mpi4py import MPI

from poreflux.errors import MeshTagError

__all__ = [
    "MeshArrays",
    "extract_arrays",
    "facet_cell_pairs",
    "mesh_from_arrays",
    "model_to_mesh",
    "morton_order",
    "serial_mesh",
]

_SIMPLEX_TYPES = {2: "triangle", 3: "tetrahedron"}
#: gmsh element type of the linear triangle and tetrahedron
_GMSH_SIMPLEX = {2: 2, 3: 4}


@dataclass(frozen=True)
class MeshArrays:
    """A tagged simplex mesh as plain arrays (rank 0), ready to become a DOLFINx mesh.

    Attributes
    ----------
    x
        Node coordinates, shape (n, 3).
    cells
        Cells as node numbers (rows of ``x``), shape (m, tdim + 1), int64.
    cell_values
        Tag of each cell, shape (m,), int32.
    facet_cell, facet_local, facet_values
        One entry per cell side of each tagged facet (:func:`facet_cell_pairs`); empty arrays
        when no facet is tagged.
    groups
        Physical group name -> (dim, tag).
    """

    x: np.ndarray
    cells: np.ndarray
    cell_values: np.ndarray
    facet_cell: np.ndarray
    facet_local: np.ndarray
    facet_values: np.ndarray
    groups: dict[str, tuple[int, int]]

    @property
    def tdim(self) -> int:
        """Topological dimension (2 or 3)."""
        return int(self.cells.shape[1]) - 1

    def physical_groups(self) -> dict[str, dgmsh.PhysicalGroup]:
        """The groups as DOLFINx's importer reports them."""
        return {n: dgmsh.PhysicalGroup(int(d), int(t)) for n, (d, t) in self.groups.items()}


def _all_unique(values: np.ndarray) -> bool:
    s = np.sort(values, kind="stable")
    return bool(np.all(s[1:] != s[:-1]))


def extract_arrays(model: Any) -> MeshArrays | None:
    """The arrays of a one-cell-type linear simplex model; None when the fast path does not fit.

    Raises
    ------
    MeshTagError
        When a tagged facet is not a facet of any cell.
    """
    x = dgmsh.extract_geometry(model)
    topologies, groups = dgmsh.extract_topology_and_markers(model)
    if not groups:
        return None
    by_dim: dict[int, list[int]] = {}
    for etype in topologies:
        _, dim, _, num_nodes, _, _ = model.mesh.getElementProperties(etype)
        if num_nodes != dim + 1:  # not a linear simplex (quads, hexes, curved cells)
            return None
        by_dim.setdefault(int(dim), []).append(int(etype))
    tdim = max(by_dim)
    if tdim not in _SIMPLEX_TYPES or any(len(v) > 1 for v in by_dim.values()):
        return None
    if set(by_dim) - {tdim, tdim - 1} or len(x) >= 2 ** (63 // tdim):
        return None
    perm = dgmsh.cell_perm_array(dolfinx.mesh.to_type(_SIMPLEX_TYPES[tdim]), tdim + 1)
    if list(perm) != list(range(tdim + 1)):  # gmsh and DOLFINx order simplex vertices alike
        return None
    cell = topologies[by_dim[tdim][0]]
    _, all_tags, _ = model.mesh.getElements(dim=tdim, tag=-1)
    total = sum(len(t) for t in all_tags)
    if total != len(cell["entity_tags"]) or not _all_unique(np.asarray(cell["entity_tags"])):
        return None  # untagged or twice-tagged cells: let DOLFINx's importer report it
    cells = np.asarray(cell["topology"], dtype=np.int64)
    if tdim - 1 in by_dim:
        facet = topologies[by_dim[tdim - 1][0]]
        pairs = facet_cell_pairs(
            cells,
            np.asarray(facet["topology"], dtype=np.int64),
            np.asarray(facet["cell_data"], dtype=np.int32),
        )
    else:
        pairs = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
    return MeshArrays(
        x=np.ascontiguousarray(x, dtype=np.float64),
        cells=cells,
        cell_values=np.asarray(cell["cell_data"], dtype=np.int32),
        facet_cell=pairs[0].astype(np.int64),
        facet_local=pairs[1].astype(np.int64),
        facet_values=pairs[2].astype(np.int32),
        groups={n: (int(g.dim), int(g.tag)) for n, g in groups.items()},
    )


def _pack(vertices: np.ndarray, base: int) -> np.ndarray:
    """One int64 key per row of sorted vertex numbers (exact while ``base**k < 2**63``)."""
    key = np.zeros(len(vertices), dtype=np.int64)
    for column in np.sort(vertices, axis=1).T:
        key = key * base + column
    return key


def facet_cell_pairs(
    cells: np.ndarray, facets: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (cell, local facet) pair of each tagged facet, with the facet's value.

    The tagged facets (a small part of all facets) are sorted once; each cell facet is looked
    up among them by bisection, so no array of all cell facets is ever sorted.

    Parameters
    ----------
    cells
        Simplex cells, shape (n, tdim + 1), input vertex numbers.
    facets
        Tagged facets, shape (m, tdim), input vertex numbers.
    values
        Tag of each facet, shape (m,).

    Returns
    -------
    cell, local_facet, value
        One entry per cell side of a tagged facet (two for interior facets); local facet ``i``
        is the facet opposite vertex ``i`` of the cell.

    Raises
    ------
    MeshTagError
        When a tagged facet is not a facet of any cell.
    """
    n, k = cells.shape
    base = int(max(cells.max(initial=0), facets.max(initial=0))) + 1
    wanted = _pack(facets, base)
    worder = np.argsort(wanted, kind="stable")
    wsorted = wanted[worder]
    if np.any(wsorted[1:] == wsorted[:-1]):  # a facet tagged twice: every copy gets its pairs
        return _pairs_by_sorting(cells, facets, values, base)
    # rows sorted once, so the facet opposite sorted vertex j is the row without column j,
    # already in increasing order; vertex_of[c, j] is that vertex's place in the input row
    vertex_of = np.argsort(cells, axis=1, kind="stable")
    rows = np.take_along_axis(cells, vertex_of, axis=1)
    hit_cell, hit_local, hit_value, found = [], [], [], np.zeros(len(wanted), dtype=bool)
    for j in range(k):
        key = np.zeros(n, dtype=np.int64)
        for column in np.delete(rows, j, axis=1).T:
            key = key * base + column
        pos = np.minimum(np.searchsorted(wsorted, key), len(wsorted) - 1)
        hit = np.flatnonzero(wsorted[pos] == key)
        which = worder[pos[hit]]
        found[which] = True
        hit_cell.append(hit)
        hit_local.append(vertex_of[hit, j])
        hit_value.append(values[which])
    if not found.all():
        bad = int(np.flatnonzero(~found)[0])
        _missing(facets[bad], values[bad])
    return tuple(np.concatenate(a) for a in (hit_cell, hit_local, hit_value))


def _missing(facet: np.ndarray, value: int) -> None:
    raise MeshTagError(
        f"tagged facet {facet.tolist()} (tag {int(value)}) is not a facet of any cell: the "
        "boundary groups of the gmsh model do not match its volume mesh"
    )


def _pairs_by_sorting(
    cells: np.ndarray, facets: np.ndarray, values: np.ndarray, base: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`facet_cell_pairs` by sorting all cell facets (any facet may be tagged twice)."""
    n, k = cells.shape
    keys = np.concatenate([_pack(np.delete(cells, i, axis=1), base) for i in range(k)])
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = _pack(facets, base)
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    counts = hi - lo
    if np.any(counts == 0):
        bad = int(np.flatnonzero(counts == 0)[0])
        _missing(facets[bad], values[bad])
    owner = np.repeat(np.arange(len(wanted)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    hits = order[lo[owner] + np.arange(len(owner)) - start]
    return hits % n, hits // n, values[owner]


def _local_cells(mesh: dolfinx.mesh.Mesh, input_cells: np.ndarray) -> tuple[np.ndarray, ...]:
    """Local numbers of the given input cells present on this process, and which ones they are."""
    original = np.asarray(mesh.topology.original_cell_index, dtype=np.int64)
    if len(original) == 0:
        return np.zeros(0, np.int32), np.zeros(len(input_cells), bool)
    sorter = np.argsort(original)
    pos = np.minimum(np.searchsorted(original, input_cells, sorter=sorter), len(original) - 1)
    present = original[sorter[pos]] == input_cells
    return sorter[pos[present]].astype(np.int32), present


def _cell_tags(mesh: dolfinx.mesh.Mesh, cell_values: np.ndarray) -> dolfinx.mesh.MeshTags:
    tdim = mesh.topology.dim
    original = np.asarray(mesh.topology.original_cell_index, dtype=np.int64)
    local = np.arange(len(original), dtype=np.int32)
    tags = dolfinx.mesh.meshtags(mesh, tdim, local, cell_values[original].astype(np.int32))
    tags.name = "cell_tags"
    return tags


def _facet_tags(
    mesh: dolfinx.mesh.Mesh, cell: np.ndarray, local_facet: np.ndarray, value: np.ndarray
) -> dolfinx.mesh.MeshTags:
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim, tdim - 1)
    c_to_f = mesh.topology.connectivity(tdim, tdim - 1)
    local, present = _local_cells(mesh, cell)
    facets = c_to_f.array[c_to_f.offsets[local] + local_facet[present]]
    facets, first = np.unique(facets, return_index=True)
    tags = dolfinx.mesh.meshtags(
        mesh, tdim - 1, facets.astype(np.int32), value[present][first].astype(np.int32)
    )
    tags.name = "facet_tags"
    return tags


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Insert two zero bits after each of the low 21 bits (the 3D Morton interleave)."""
    v = v.astype(np.uint64) & np.uint64(0x1FFFFF)
    for shift, mask in ((32, 0x1F00000000FFFF), (16, 0x1F0000FF0000FF), (8, 0x100F00F00F00F00F),
                        (4, 0x10C30C30C30C30C3), (2, 0x1249249249249249)):  # fmt: skip
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def morton_order(points: np.ndarray) -> np.ndarray:
    """Permutation sorting ``points`` (n, gdim) along the Morton (Z-order) curve.

    Points close in space come close in the order (Morton 1966; the ordering of e.g. octree
    codes), so cells numbered this way touch memory locally during assembly.
    """
    p = np.asarray(points, dtype=np.float64)
    lo, hi = p.min(axis=0, initial=np.inf), p.max(axis=0, initial=-np.inf)
    scale = (2**21 - 1) / np.where(hi > lo, hi - lo, 1.0)
    q = ((p - lo) * scale).astype(np.int64)
    key = np.zeros(len(p), dtype=np.uint64)
    for k in range(p.shape[1]):
        key |= _spread_bits(q[:, k]) << np.uint64(k)
    return np.argsort(key, kind="stable")


def serial_mesh(
    cells: np.ndarray, x: np.ndarray, domain: Any, comm: MPI.Comm = MPI.COMM_SELF
) -> dolfinx.mesh.Mesh:
    """A one-process DOLFINx mesh of linear simplices, cells numbered along a Morton curve.

    Builds the topology and the geometry directly (``dolfinx.cpp.mesh.create_topology`` and
    ``create_geometry``): without a partition no vertex can be shared, so
    :func:`dolfinx.mesh.create_mesh`'s dual graph (which finds the boundary vertices a partition
    could share) and its Gibbs-Poole-Stockmeyer cell reordering are not needed; the cells are
    ordered by the Morton code of their centroids instead (:func:`morton_order`; cheaper, and
    at least as local for assembly). ``topology.original_cell_index`` and
    ``geometry.input_global_indices`` are the input numbers, as with ``create_mesh``.

    Parameters
    ----------
    cells
        Node numbers of each cell (rows of ``x``), shape (m, tdim + 1).
    x
        Node coordinates, shape (n, gdim).
    domain
        The UFL mesh (coordinate element) of the cells.
    comm
        A communicator of size 1 (the mesh's).
    """
    cpp = dolfinx.cpp
    tdim = int(cells.shape[1]) - 1
    xc = np.ascontiguousarray(x, dtype=np.float64)
    cells = np.asarray(cells, dtype=np.int64)
    order = morton_order(xc[cells].mean(axis=1)).astype(np.int64)
    flat = np.ascontiguousarray(cells[order]).reshape(-1)
    cell_type = dolfinx.mesh.to_type(_SIMPLEX_TYPES[tdim])
    topology = cpp.mesh.create_topology(
        comm, [cell_type], [flat], [order], [np.zeros(0, np.int32)], np.zeros(0, np.int64), 1
    )
    cmap = dolfinx.fem.coordinate_element(domain.ufl_coordinate_element().basix_element)
    used = np.zeros(len(xc), dtype=bool)
    used[flat] = True  # gmsh models may hold nodes no cell uses (geometry points)
    nodes = np.flatnonzero(used).astype(np.int64)
    coords = np.ascontiguousarray(xc[nodes]).reshape(-1)
    geometry = cpp.mesh.create_geometry(
        topology, [cmap._cpp_object], nodes, flat, coords, xc.shape[1]
    )
    return dolfinx.mesh.Mesh(cpp.mesh.Mesh_float64(comm, topology, geometry), domain)


def mesh_from_arrays(
    arrays: MeshArrays | None,
    comm: MPI.Comm,
    rank: int,
    gdim: int,
    partitioner: Callable | None = None,
) -> dgmsh.MeshData:
    """The distributed mesh and its cell and facet tags from arrays held on ``rank``.

    Collective on ``comm``; ``arrays`` is only used on ``rank``. On one process the mesh is
    built by :func:`serial_mesh`, else by :func:`dolfinx.mesh.create_mesh` with ``partitioner``.
    """
    mine = comm.rank == rank
    header = (arrays.tdim, arrays.physical_groups()) if mine else None
    tdim, groups = comm.bcast(header, root=rank)
    domain = dgmsh.ufl_mesh(_GMSH_SIMPLEX[tdim], gdim, np.float64)
    if comm.size == 1:
        mesh = serial_mesh(arrays.cells, arrays.x[:, :gdim], domain, comm)
        cell_values = arrays.cell_values
        pairs = (arrays.facet_cell, arrays.facet_local, arrays.facet_values)
    else:
        if mine:
            cells, x = arrays.cells, arrays.x[:, :gdim]
        else:
            cells, x = np.empty((0, tdim + 1), np.int64), np.empty((0, gdim), np.float64)
        mesh = dolfinx.mesh.create_mesh(comm, cells, domain, x, partitioner)
        cell_values = comm.bcast(arrays.cell_values if mine else None, root=rank)
        pairs = comm.bcast(
            (arrays.facet_cell, arrays.facet_local, arrays.facet_values) if mine else None,
            root=rank,
        )
    has_facets = any(group.dim == tdim - 1 for group in groups.values())
    facet_tags = _facet_tags(mesh, *pairs) if has_facets else None
    return dgmsh.MeshData(
        mesh,
        cell_tags=_cell_tags(mesh, cell_values),
        facet_tags=facet_tags,
        ridge_tags=None,
        peak_tags=None,
        physical_groups=groups,
    )


def model_to_mesh(
    model: Any, comm: MPI.Comm, rank: int, gdim: int, partitioner: Callable | None = None
) -> dgmsh.MeshData:
    """Distribute a gmsh model held on ``rank`` as a DOLFINx mesh with cell and facet tags.

    Drop-in replacement of :func:`dolfinx.io.gmsh.model_to_mesh` (collective on ``comm``;
    ``model`` is only used on ``rank``), several times faster on large simplex meshes; other
    models go to DOLFINx's importer.
    """
    arrays = extract_arrays(model) if comm.rank == rank else None
    usable = comm.bcast(arrays is not None, root=rank)
    if not usable:
        return dgmsh.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
    return mesh_from_arrays(arrays, comm, rank, gdim, partitioner)
