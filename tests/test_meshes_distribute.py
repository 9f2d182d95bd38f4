"""meshes.distribute: the search-free gmsh import gives DOLFINx's importer's mesh and tags."""

from __future__ import annotations

import json
from pathlib import Path

import dolfinx
import dolfinx.io.gmsh as dgmsh
import numpy as np
import pytest
from mpi4py import MPI

import meshes.channel as channel
import meshes.sphere as sphere
from meshes.distribute import facet_cell_pairs, model_to_mesh
from meshes.gmsh_tools import gmsh_model, shared_facet_partitioner
from poreflux.errors import MeshTagError


def _entity_table(data, dim: int) -> dict[tuple, int]:
    """Tagged entities of dimension ``dim`` owned here, keyed by rounded midpoint -> value."""
    msh = data.mesh
    tags = data.cell_tags if dim == msh.topology.dim else data.facet_tags
    msh.topology.create_connectivity(dim, msh.topology.dim)
    owned = msh.topology.index_map(dim).size_local
    keep = tags.indices < owned
    mids = dolfinx.mesh.compute_midpoints(msh, dim, tags.indices[keep])
    table = {tuple(np.round(m, 9)): int(v) for m, v in zip(mids, tags.values[keep], strict=True)}
    assert len(table) == int(keep.sum()), "two tagged entities share a midpoint"
    return table


def _both(make, gdim: int):
    """The same gmsh model imported by DOLFINx and by meshes.distribute."""
    comm = MPI.COMM_WORLD
    partitioner = shared_facet_partitioner()
    with gmsh_model("compare") as model:
        if comm.rank == 0:
            make(model)
        ref = dgmsh.model_to_mesh(model if comm.rank == 0 else None, comm, 0, gdim, partitioner)
        new = model_to_mesh(model if comm.rank == 0 else None, comm, 0, gdim, partitioner)
    return ref, new


CASES = {
    "channel2d": (lambda m: channel._make_model(_pore(), 2, m), 2),
    "channel3d": (lambda m: channel._make_model(_pore(h=0.3), 3, m), 3),
    "sphere2d": (lambda m: sphere._make_2d(sphere.SphereGeometry(), m, None), 2),
    "sphere3d": (lambda m: sphere._make_3d(_ball(), m, None), 3),
}


def _ball():
    return sphere.SphereGeometry(h_surface=0.3, h_far=2.0)


def _pore(h: float = 0.15):
    return channel.cylindrical_pore(1.0, 5.0, protein_thickness=0.5, h_pore=h, h_bath=2.0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_cells_facets_and_tags_as_dolfinx(case):
    make, gdim = CASES[case]
    ref, new = _both(make, gdim)
    tdim = ref.mesh.topology.dim
    assert new.physical_groups == ref.physical_groups
    for dim in (tdim, tdim - 1):
        assert _entity_table(new, dim) == _entity_table(ref, dim)
    for dim in (tdim, 0):
        ref_map, new_map = ref.mesh.topology.index_map(dim), new.mesh.topology.index_map(dim)
        assert new_map.size_global == ref_map.size_global
    # every facet on the boundary of a tagged region pair is tagged in both (counts agree)
    counts = [MPI.COMM_WORLD.allreduce(len(d.facet_tags.indices)) for d in (ref, new)]
    assert counts[0] == counts[1] > 0


def test_facet_pairs_of_two_triangles():
    cells = np.array([[0, 1, 2], [1, 3, 2]])
    facets = np.array([[2, 1], [0, 1], [3, 2]])
    cell, local, value = facet_cell_pairs(cells, facets, np.array([7, 8, 9]))
    found = sorted(zip(cell.tolist(), local.tolist(), value.tolist(), strict=True))
    # edge (1,2) is opposite vertex 0 of cell 0 (local 0) and vertex 3 of cell 1 (position 1);
    # edge (0,1) is opposite vertex 2 of cell 0; edge (3,2) is opposite vertex 1 of cell 1
    assert found == [(0, 0, 7), (0, 2, 8), (1, 0, 9), (1, 1, 7)]


def test_tagged_facet_that_is_not_a_cell_facet_is_refused():
    cells = np.array([[0, 1, 2], [1, 3, 2]])
    with pytest.raises(MeshTagError, match="not a facet of any cell"):
        facet_cell_pairs(cells, np.array([[0, 3]]), np.array([5]))


def test_same_tags_as_dolfinx_on_two_ranks():
    from conftest import run_mpi

    script = Path(__file__).parent / "mpi_scripts" / "meshes_distribute.py"
    line = [ln for ln in run_mpi(script, nprocs=2).splitlines() if ln.startswith("{")][-1]
    result = json.loads(line)
    assert result.pop("size") == 2
    assert result == {"channel2d": True, "channel3d": True}


def test_morton_order_of_a_grid_is_the_z_curve():
    from meshes.distribute import morton_order

    grid = [(i, j) for j in range(4) for i in range(4)]
    order = morton_order(np.array(grid, dtype=float) * 0.7 - 3.0)  # any offset and scale
    z_curve = [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (3, 0), (2, 1), (3, 1),
               (0, 2), (1, 2), (0, 3), (1, 3), (2, 2), (3, 2), (2, 3), (3, 3)]  # fmt: skip
    assert [grid[k] for k in order] == z_curve


def test_serial_mesh_ignores_nodes_no_cell_uses():
    """gmsh models keep geometry points no cell uses; the direct serial build must skip them."""
    from meshes.distribute import serial_mesh

    # unit square as two triangles, nodes listed with two unused ones in between
    x = np.array([[0, 0], [9, 9], [1, 0], [1, 1], [-5, 2], [0, 1]], dtype=float)
    cells = np.array([[0, 2, 3], [0, 3, 5]])
    msh = serial_mesh(cells, x, dgmsh.ufl_mesh(2, 2, np.float64))
    assert msh.topology.index_map(0).size_local == 4
    assert sorted(msh.geometry.input_global_indices) == [0, 2, 3, 5]
    corners = msh.geometry.x[msh.geometry.dofmaps[0]][:, :, :2]  # (cell, vertex, xy)
    edges = corners[:, 1:] - corners[:, :1]
    areas = np.abs(edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]) / 2
    assert areas.sum() == pytest.approx(1.0, rel=1e-14)  # the unit square, nothing else
    # the input numbering of the cells is kept (cell tags are looked up through it)
    assert sorted(msh.topology.original_cell_index) == [0, 1]


def test_facet_tagged_twice_gets_its_pairs_for_each_tag():
    cells = np.array([[0, 1, 2], [1, 3, 2]])
    facets = np.array([[2, 1], [0, 1], [1, 2]])  # edge (1, 2) tagged 7 and 9
    cell, local, value = facet_cell_pairs(cells, facets, np.array([7, 8, 9]))
    found = sorted(zip(cell.tolist(), local.tolist(), value.tolist(), strict=True))
    assert found == [(0, 0, 7), (0, 0, 9), (0, 2, 8), (1, 1, 7), (1, 1, 9)]
