"""The on-disk mesh cache and gmsh-based uniform refinement (meshes.cache, meshes.refine)."""

from __future__ import annotations

import dolfinx
import numpy as np
import pytest

import meshes.cache as cache
from meshes.channel import build_channel, cylindrical_pore
from meshes.refine import refine_uniformly
from poreflux.errors import InputError


def _geometry(**kw):
    params = {"protein_thickness": 0.5, "h_pore": 0.15, "h_bath": 2.0}
    params.update(kw)
    return cylindrical_pore(1.0, 5.0, **params)


def _sorted_cells(cm):
    """Cells as sorted tuples of vertex coordinates, with their region tag (order-free)."""
    msh = cm.mesh
    tdim = msh.topology.dim
    x = msh.geometry.x[:, : msh.geometry.dim]
    dofs = msh.geometry.dofmaps[0]
    tags = np.zeros(dofs.shape[0], dtype=np.int32)
    tags[cm.cell_tags.indices] = cm.cell_tags.values
    keys = [tuple(sorted(map(tuple, np.round(x[c], 12)))) for c in dofs]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    assert msh.topology.index_map(tdim).size_local == len(keys)
    return [keys[i] for i in order], tags[order]


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "meshcache"
    monkeypatch.setenv("POREFLUX_MESH_CACHE", str(folder))
    monkeypatch.setattr(cache, "MIN_BUILD_SECONDS", 0.0)
    return folder


def test_cached_mesh_is_the_built_mesh(cache_folder, monkeypatch):
    first = build_channel(_geometry(), dim=2)
    files = list(cache_folder.glob("*.npz"))
    assert len(files) == 1
    # a second build must not mesh: make meshing impossible and build again
    import meshes.channel as channel

    def no_meshing(*args, **kwargs):
        raise AssertionError("meshed again although the mesh is cached")

    monkeypatch.setattr(channel, "_make_model", no_meshing)
    import gmsh

    def no_gmsh(*args, **kwargs):
        raise AssertionError("gmsh started although the mesh is cached")

    monkeypatch.setattr(gmsh, "initialize", no_gmsh)
    second = build_channel(_geometry(), dim=2)
    cells1, tags1 = _sorted_cells(first)
    cells2, tags2 = _sorted_cells(second)
    assert cells1 == cells2
    np.testing.assert_array_equal(tags1, tags2)
    assert second.regions == first.regions and second.boundaries == first.boundaries
    assert len(second.facet_tags.values) == len(first.facet_tags.values)


def test_cache_key_follows_every_parameter(cache_folder):
    base = cache.cache_key(cache.__file__, "channel", _geometry(), 2)
    assert base == cache.cache_key(cache.__file__, "channel", _geometry(), 2)
    assert base != cache.cache_key(cache.__file__, "channel", _geometry(h_pore=0.1500001), 2)
    assert base != cache.cache_key(cache.__file__, "channel", _geometry(), 3)


def test_unreadable_cache_file_is_rebuilt(cache_folder):
    build_channel(_geometry(), dim=2)
    (path,) = cache_folder.glob("*.npz")
    good = path.read_bytes()
    for bad in (b"not a mesh", good[: len(good) // 2]):  # foreign and truncated files
        path.write_bytes(bad)
        again = build_channel(_geometry(), dim=2)
        assert again.mesh.topology.index_map(2).size_global > 100
        assert path.read_bytes()[:2] == b"PK"  # replaced by a good (zip) file


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("POREFLUX_MESH_CACHE", "off")
    monkeypatch.setattr(cache, "MIN_BUILD_SECONDS", 0.0)
    assert cache.cache_dir() is None
    build_channel(_geometry(), dim=2)
    assert not list(tmp_path.rglob("*.npz")) and not list(tmp_path.rglob("*.msh"))


def _area(cm, tag):
    one = dolfinx.fem.Constant(cm.mesh, 1.0)
    import ufl

    form = one * ufl.Measure("dx", cm.mesh, subdomain_data=cm.cell_tags)(tag)
    return cm.mesh.comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(form)))


def test_gmsh_refinement_is_nested_and_keeps_tags(cache_folder):
    coarse = build_channel(_geometry(), dim=2)
    fine = refine_uniformly(coarse, times=2)
    n0 = coarse.mesh.topology.index_map(2).size_global
    assert fine.mesh.topology.index_map(2).size_global == 16 * n0
    for name, tag in coarse.regions.items():
        # straight-sided polygons in (r, z): nested refinement keeps every region's area exactly
        assert _area(fine, fine.regions[name]) == pytest.approx(_area(coarse, tag), rel=1e-12)
    for name, tag in coarse.boundaries.items():
        assert len(fine.facet_tags.find(fine.boundaries[name])) == 4 * len(
            coarse.facet_tags.find(tag)
        )
    # refining a refined mesh continues the series (2 + 1 = 3 splits)
    finer = refine_uniformly(fine)
    assert finer.mesh.topology.index_map(2).size_global == 64 * n0


def test_refine_halves_recorded_mesh_size_and_checks_times():
    from meshes.boxes import unit_box

    sq = unit_box(0.25)
    assert refine_uniformly(sq).meta["h"] == pytest.approx(sq.meta["h"] / 2)
    with pytest.raises(InputError, match="times"):
        refine_uniformly(sq, times=0)


def test_sphere_is_cached_and_refinement_points_enter_the_key(cache_folder, monkeypatch):
    import gmsh

    from meshes.sphere import SphereGeometry, build_sphere

    geo = SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.3, h_far=1.5)
    plain = build_sphere(geo, dim=2)
    refined = build_sphere(geo, dim=2, refine_at=[(0, 0, 2.5)], refine_size=0.05)
    n_plain = plain.mesh.topology.index_map(2).size_global
    n_refined = refined.mesh.topology.index_map(2).size_global
    assert n_refined > n_plain  # not the cached plain mesh
    assert len(list(cache_folder.glob("sphere2d-*.npz"))) == 2

    def no_gmsh(*args, **kwargs):
        raise AssertionError("gmsh started although the mesh is cached")

    monkeypatch.setattr(gmsh, "initialize", no_gmsh)
    again = build_sphere(geo, dim=2, refine_at=[(0, 0, 2.5)], refine_size=0.05)
    assert again.mesh.topology.index_map(2).size_global == n_refined
    cells1, tags1 = _sorted_cells(refined)
    cells2, tags2 = _sorted_cells(again)
    assert cells1 == cells2
    np.testing.assert_array_equal(tags1, tags2)
