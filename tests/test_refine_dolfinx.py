"""``meshes.refine.refine_in_dolfinx``: one uniform DOLFINx refinement of a tagged 3D mesh.

A uniform (Plaza) refinement splits every tetrahedron into 8 and every triangle into 4 without
moving any surface, so the tagged regions keep their volumes and the tagged interfaces and
boundaries their areas exactly (to round-off), and every tagged facet has exactly 4 tagged
children. The serial refinement is made without a partitioner: no ghost cells appear.
"""

from __future__ import annotations

import dolfinx
import numpy as np
import pytest
import ufl

from meshes import names
from meshes.refine import refine_in_dolfinx
from meshes.sphere import SphereGeometry, build_sphere


@pytest.fixture(scope="module")
def coarse_and_fine():
    cm = build_sphere(SphereGeometry(radius=1.0, outer_radius=3.0, h_surface=0.5, h_far=1.2), dim=3)
    return cm, refine_in_dolfinx(cm)


def _size(cm, tags, dim, tag, interior):
    msh = cm.mesh
    kind = "dx" if dim == msh.topology.dim else ("dS" if interior else "ds")
    form = dolfinx.fem.form(1.0 * ufl.Measure(kind, domain=msh, subdomain_data=tags)(tag))
    return msh.comm.allreduce(dolfinx.fem.assemble_scalar(form))


def test_every_cell_in_eight_and_no_ghosts(coarse_and_fine):
    cm, fine = coarse_and_fine
    coarse_map = cm.mesh.topology.index_map(3)
    fine_map = fine.mesh.topology.index_map(3)
    assert fine_map.size_global == 8 * coarse_map.size_global
    assert fine_map.num_ghosts == 0
    assert fine.regions == cm.regions and fine.boundaries == cm.boundaries


@pytest.mark.parametrize("region", [names.SOLUTE, names.SOLVENT])
def test_region_volumes_are_kept(coarse_and_fine, region):
    cm, fine = coarse_and_fine
    tag = cm.region(region)
    coarse = _size(cm, cm.cell_tags, 3, tag, False)
    assert coarse > 0
    assert _size(fine, fine.cell_tags, 3, tag, False) == pytest.approx(coarse, rel=1e-12)
    assert len(fine.cell_tags.find(tag)) == 8 * len(cm.cell_tags.find(tag))


@pytest.mark.parametrize(
    ("boundary", "interior"), [(names.SOLUTE_SURFACE, True), (names.OUTER, False)]
)
def test_tagged_facets_keep_their_area_and_split_in_four(coarse_and_fine, boundary, interior):
    cm, fine = coarse_and_fine
    tag = cm.boundary(boundary)
    coarse = _size(cm, cm.facet_tags, 2, tag, interior)
    assert coarse > 0
    assert _size(fine, fine.facet_tags, 2, tag, interior) == pytest.approx(coarse, rel=1e-12)
    assert len(fine.facet_tags.find(tag)) == 4 * len(cm.facet_tags.find(tag))
    assert np.all(np.diff(fine.facet_tags.indices) > 0)  # sorted, no duplicates
