"""meshes/: geometry builders, R(z), file round trips, quality, bad input, MPI consistency.

Volumes and areas are compared with closed forms. 2D axisymmetric meshes have straight edges in
(r, z), so their revolved volumes (with the 2 pi r weight) are exact up to rounding for polygonal
profiles; 3D meshes approximate circles by chords of length ~h, so a revolved volume is low by
about (h/R)^2/6 relative; the tolerances below say which bound they use.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import dolfinx
import numpy as np
import pytest
import ufl
from conftest import run_mpi
from mpi4py import MPI

from meshes import names
from meshes.boxes import axisymmetric_rectangle, graded_nodes, slab_mesh, unit_box, wall_mesh
from meshes.channel import (
    ChannelGeometry,
    build_channel,
    conical_pore,
    cylindrical_pore,
    default_channel,
    hourglass_pore,
)
from meshes.gmsh_tools import (
    MeshGenerationError,
    build_on_rank0,
    distance_threshold_field,
    model_to_channel_mesh,
    use_size_field,
)
from meshes.io import load_msh, read_xdmf, write_msh, write_xdmf
from meshes.profile import PoreProfile
from meshes.quality import mesh_quality
from meshes.radius import mesh_radius, pore_radius, profile_radius
from meshes.sphere import SphereGeometry, build_sphere
from poreflux.errors import InputError, MeshTagError

pi = math.pi
MPI_SCRIPT = Path(__file__).parent / "mpi_scripts" / "meshes_volumes.py"


def measures(cm) -> dict[str, float]:
    """Region volumes (dx) and facet-group areas (ds exterior + dS interior), 2 pi r in 2D."""
    x = ufl.SpatialCoordinate(cm.mesh)
    w = 2 * pi * x[0] if cm.axisymmetric else 1.0
    ws = 2 * pi * x[0]("+") if cm.axisymmetric else 1.0
    one = dolfinx.fem.Constant(cm.mesh, 1.0)
    dx = ufl.Measure("dx", cm.mesh, subdomain_data=cm.cell_tags)
    ds = ufl.Measure("ds", cm.mesh, subdomain_data=cm.facet_tags)
    dS = ufl.Measure("dS", cm.mesh, subdomain_data=cm.facet_tags)

    def total(form) -> float:
        return cm.comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(form)))

    out = {n: total(one * w * dx(t)) for n, t in cm.regions.items()}
    for n, t in cm.boundaries.items():
        out[n] = total(one * w * ds(t)) + total(one * ws * dS(t))
    return out


# -- fixtures: a few small meshes shared by several tests ----------------------------------------
A, L, RB, H, T = 1.0, 5.0, 10.0, 10.0, 0.5


@pytest.fixture(scope="module")
def geom():
    return cylindrical_pore(A, L, bath_radius=RB, bath_height=H, protein_thickness=T,
                            h_pore=0.2, h_bath=2.0)  # fmt: skip


@pytest.fixture(scope="module")
def chan2d(geom):
    return build_channel(geom, dim=2)


@pytest.fixture(scope="module")
def chan3d(geom):
    return build_channel(geom.with_sizes(h_pore=0.25, h_bath=2.5), dim=3)


def channel_exact(a: float, t: float) -> dict[str, float]:
    """Closed-form volumes/areas of the cylindrical channel with a lining of thickness t."""
    b = a + t
    return {
        names.BATH: 2 * pi * RB**2 * H,
        names.PORE: pi * a**2 * L,
        names.PROTEIN: pi * (b**2 - a**2) * L,
        names.MEMBRANE: pi * (RB**2 - b**2) * L,
        names.TOP: pi * RB**2,
        names.BOTTOM: pi * RB**2,
        names.OUTER: 2 * pi * RB * 2 * H,
        names.MEMBRANE_EDGE: 2 * pi * RB * L,
        names.MEMBRANE_WALL: 2 * pi * (RB**2 - b**2),
        names.PROTEIN_WALL: 2 * pi * a * L + 2 * pi * (b**2 - a**2),
        names.MEMBRANE_PROTEIN: 2 * pi * b * L,
        names.PORE_MOUTH_TOP: pi * a**2,
        names.PORE_MOUTH_BOTTOM: pi * a**2,
    }


# -- channel -------------------------------------------------------------------------------------
def test_channel_2d_names_volumes_and_areas_exact(chan2d):
    assert set(chan2d.regions) == {names.BATH, names.PORE, names.MEMBRANE, names.PROTEIN}
    expected_b = {names.TOP, names.BOTTOM, names.OUTER, names.AXIS, names.MEMBRANE_WALL,
                  names.PROTEIN_WALL, names.MEMBRANE_PROTEIN, names.MEMBRANE_EDGE,
                  names.PORE_MOUTH_TOP, names.PORE_MOUTH_BOTTOM}  # fmt: skip
    assert set(chan2d.boundaries) == expected_b
    assert chan2d.axisymmetric and chan2d.gdim == 2
    assert chan2d.water_regions == (names.BATH, names.PORE)
    got = measures(chan2d)
    # straight edges in (r, z): exact up to rounding
    for key, value in channel_exact(A, T).items():
        assert got[key] == pytest.approx(value, rel=1e-10), key
    assert got[names.AXIS] == pytest.approx(0.0, abs=1e-12)  # r = 0: zero weighted area


def test_channel_3d_volumes_within_chord_error(chan3d, geom):
    assert not chan3d.axisymmetric and chan3d.gdim == 3
    assert names.AXIS not in chan3d.boundaries
    got = measures(chan3d)
    for key, value in channel_exact(A, T).items():
        radius = RB if key in (names.BATH, names.TOP, names.OUTER, names.MEMBRANE) else A
        h = 2.5 if radius == RB else 0.25
        # polygonal circles of chord ~h: relative deficit ~ (h/R)^2 / 6; allow 2x
        tol = 2 * (h / radius) ** 2 / 6 + 1e-3
        assert got[key] == pytest.approx(value, rel=tol), key
    assert chan3d.geometry == geom.with_sizes(h_pore=0.25, h_bath=2.5)


def test_channel_without_protein_tags_pore_wall_as_membrane_wall():
    g = cylindrical_pore(0.8, 4.0, bath_radius=5.0, bath_height=4.0, h_pore=0.2, h_bath=1.5)
    cm = build_channel(g, dim=2)
    assert names.PROTEIN not in cm.regions and names.PROTEIN_WALL not in cm.boundaries
    got = measures(cm)
    # membrane faces in the baths plus the pore wall
    wall = 2 * pi * (5.0**2 - 0.8**2) + 2 * pi * 0.8 * 4.0
    assert got[names.MEMBRANE_WALL] == pytest.approx(wall, rel=1e-10)
    assert got[names.PORE] == pytest.approx(pi * 0.8**2 * 4.0, rel=1e-10)


@pytest.mark.parametrize(
    "geometry, pore_volume",
    [
        # cone frustum: pi L/3 (r1^2 + r1 r2 + r2^2)
        (conical_pore(1.5, 0.6, 4.0, bath_radius=5.0, bath_height=3.0, h_pore=0.15, h_bath=1.5),
         pi * 4.0 / 3 * (1.5**2 + 1.5 * 0.6 + 0.6**2)),
        # hourglass: two frusta + a cylinder of length 1 at z in [0, 1]
        (hourglass_pore(2.0, 1.5, 0.5, 6.0, 0.5, 1.0, bath_radius=6.0, bath_height=3.0,
                        protein_thickness=0.3, h_pore=0.1, h_bath=1.5),
         pi * 3.0 / 3 * (4 + 1 + 0.25) + pi * 0.25 * 1.0 + pi * 2.0 / 3 * (0.25 + 0.75 + 2.25)),
    ],
)  # fmt: skip
def test_cone_and_hourglass_pore_volume_exact_2d(geometry, pore_volume):
    cm = build_channel(geometry, dim=2)
    got = measures(cm)
    assert got[names.PORE] == pytest.approx(pore_volume, rel=1e-10)
    Rb, Lm = geometry.bath_radius, geometry.thickness
    total = pi * Rb**2 * (Lm + 2 * geometry.bath_height)
    assert sum(got[r] for r in cm.regions) == pytest.approx(total, rel=1e-10)


def test_radius_from_geometry_and_mesh_agree_within_h(chan2d, chan3d):
    # 2D: the wall facets lie on the polyline -> agreement to rounding
    for geometry in (
        conical_pore(1.5, 0.6, 4.0, bath_radius=5.0, bath_height=3.0, h_pore=0.15, h_bath=1.5),
        hourglass_pore(2.0, 1.5, 0.5, 6.0, 0.5, 1.0, bath_radius=6.0, bath_height=3.0,
                       h_pore=0.1, h_bath=1.5),
    ):  # fmt: skip
        cm = build_channel(geometry, dim=2)
        z, r_mesh = mesh_radius(cm)
        _, r_exact = profile_radius(geometry, z)
        assert not np.isnan(r_mesh).any()
        assert np.max(np.abs(r_mesh - r_exact)) < 1e-9
    z, r_mesh = pore_radius(chan2d)
    assert np.allclose(r_mesh, A, atol=1e-9)
    assert z[0] == pytest.approx(-L / 2) and z[-1] == pytest.approx(L / 2)
    # 3D: chords of the circular wall -> within h (actually ~h^2/(8R))
    z, r3 = mesh_radius(chan3d)
    assert np.max(np.abs(r3 - A)) < chan3d.geometry.h_pore
    assert np.max(r3) <= A + 1e-9
    # outside the membrane there is no wall: NaN
    _, r_out = mesh_radius(chan2d, z=[-L / 2 - 1.0, 0.0, L / 2 + 1.0])
    assert np.isnan(r_out[0]) and np.isnan(r_out[2]) and r_out[1] == pytest.approx(A)


def test_radius_cone_3d_within_h():
    g = conical_pore(1.5, 0.6, 4.0, bath_radius=4.0, bath_height=2.0, h_pore=0.2, h_bath=1.5)
    cm = build_channel(g, dim=3)
    z, r_mesh = mesh_radius(cm, num=41)
    _, r_exact = profile_radius(g, z)
    assert np.max(np.abs(r_mesh - r_exact)) < g.h_pore


def test_smaller_h_pore_refines_the_pore(geom):
    counts = []
    for h in (0.2, 0.1):
        q = mesh_quality(build_channel(geom.with_sizes(h_pore=h), dim=2))
        counts.append(q.cells_per_region[names.PORE])
    # cell count in the pore scales like 1/h^2 in 2D: ratio ~4
    assert 3.0 < counts[1] / counts[0] < 5.5


def test_default_channel_parameters_and_size():
    g = default_channel()
    assert g.profile.radius == (1.0, 1.0) and g.thickness == 5.0
    assert (g.bath_radius, g.bath_height, g.protein_thickness) == (10.0, 10.0, 0.5)
    q = mesh_quality(build_channel(g, dim=2))
    # three P1 fields (phi, c+, c-) stay well below 1e5 dofs
    assert 3 * q.dofs_p1 < 1e5
    assert q.min_angle_deg > 20.0


def test_builds_are_reproducible(geom):
    """gmsh runs single-threaded: the same input gives the same mesh, node for node."""
    a, b = (build_channel(geom, dim=2).mesh.geometry.x for _ in range(2))
    assert a.shape == b.shape and np.array_equal(a, b)
    g = SphereGeometry(1.0, 3.0, 0.4, 1.5)
    a, b = (build_sphere(g, dim=3).mesh.geometry.x for _ in range(2))
    assert a.shape == b.shape and np.array_equal(a, b)


def test_default_channel_3d_sizes():
    g3 = default_channel(dim=3)
    assert g3.h_pore > default_channel().h_pore and g3.profile == default_channel().profile


def test_gmsh_failure_is_reported_and_gmsh_finalized():
    import gmsh

    def broken(model):
        model.occ.addBox(0, 0, 0, 1, 1, 1)
        raise RuntimeError("boom")

    with pytest.raises(MeshGenerationError, match="boom"):
        build_on_rank0(MPI.COMM_WORLD, "broken", broken, gdim=3)
    assert not gmsh.isInitialized()


def test_custom_builder_with_distance_size_field():
    """The shared helpers make a custom builder short: a square refined toward its left side."""

    def make(model):
        sq = model.occ.addRectangle(0, 0, 0, 4.0, 4.0)
        model.occ.synchronize()
        left = [t for _, t in model.getEntitiesInBoundingBox(-0.1, -0.1, -1, 0.1, 4.1, 1, dim=1)]
        model.addPhysicalGroup(2, [sq], 1, name=names.DOMAIN)
        model.addPhysicalGroup(1, left, 1, name=names.WALL)
        use_size_field(distance_threshold_field(1, left, 0.05, 0.5, dist_min=0.1, growth=0.3))
        model.mesh.generate(2)

    data = build_on_rank0(MPI.COMM_WORLD, "square", make, gdim=2)
    cm = model_to_channel_mesh(data, axisymmetric=False, water_regions=(names.DOMAIN,))
    assert cm.regions == {names.DOMAIN: 1} and cm.boundaries == {names.WALL: 1}
    assert measures(cm)[names.WALL] == pytest.approx(4.0)
    q = mesh_quality(cm)
    assert q.h_min < 0.06 and q.h_max > 0.4


def test_user_gmsh_session_survives_a_build():
    import gmsh

    gmsh.initialize()
    try:
        gmsh.model.add("mine")
        build_sphere(SphereGeometry(1.0, 3.0, 0.4, 1.5), dim=2)
        assert gmsh.isInitialized()
        assert "mine" in gmsh.model.list()
    finally:
        gmsh.finalize()


# -- sphere --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [2, 3])
def test_sphere_volumes_and_surface(dim):
    a, R, h = 1.0, 4.0, 0.15
    cm = build_sphere(SphereGeometry(a, R, h_surface=h, h_far=1.0), dim=dim)
    assert set(cm.regions) == {names.SOLUTE, names.SOLVENT}
    b = {names.SOLUTE_SURFACE, names.OUTER} | ({names.AXIS} if dim == 2 else set())
    assert set(cm.boundaries) == b
    assert cm.water_regions == (names.SOLVENT,) and cm.axisymmetric == (dim == 2)
    got = measures(cm)
    # inscribed polygon: relative deficit ~ (h/a)^2 / 6 (2x margin); inscribed polyhedron with
    # triangles of circumradius ~h/sqrt(3): ~ (h/a)^2 / 4 (2x margin)
    tol = (h / a) ** 2 / 3 if dim == 2 else (h / a) ** 2 / 2
    assert got[names.SOLUTE] == pytest.approx(4 / 3 * pi * a**3, rel=tol)
    assert got[names.SOLUTE_SURFACE] == pytest.approx(4 * pi * a**2, rel=tol)
    # the outer sphere is resolved with h_far = 1
    tol_outer = tol * (1.0 / h) ** 2 / R**2
    total = got[names.SOLVENT] + got[names.SOLUTE]
    assert total == pytest.approx(4 / 3 * pi * R**3, rel=tol_outer)
    assert got[names.OUTER] == pytest.approx(4 * pi * R**2, rel=tol_outer)


def test_sphere_refines_near_surface_not_everywhere():
    g = SphereGeometry(0.3, 5.0, h_surface=0.05, h_far=1.0)
    cm = build_sphere(g, dim=2)
    q = mesh_quality(cm)
    # the graded mesh holds far fewer cells than a uniform h_surface mesh of the half disc
    uniform = (pi * 5.0**2 / 2) / (math.sqrt(3) / 4 * 0.05**2)
    assert q.num_cells < uniform / 20
    assert q.h_min < 0.06 and q.h_max > 0.6


def test_sphere_box_outer_3d():
    cm = build_sphere(SphereGeometry(1.0, 2.0, 0.3, 0.8, outer="box"), dim=3)
    got = measures(cm)
    assert got[names.SOLUTE] + got[names.SOLVENT] == pytest.approx(64.0, rel=1e-10)
    assert got[names.OUTER] == pytest.approx(6 * 16.0, rel=1e-10)


def test_sphere_box_outer_2d():
    cm = build_sphere(SphereGeometry(1.0, 3.0, 0.2, 1.0, outer="box"), dim=2)
    got = measures(cm)
    # box in (r, z) = cylinder of radius 3 and height 6; outer = side + two caps
    assert got[names.SOLUTE] + got[names.SOLVENT] == pytest.approx(pi * 9 * 6, rel=1e-10)
    assert got[names.OUTER] == pytest.approx(2 * pi * 3 * 6 + 2 * pi * 9, rel=1e-10)


# -- validation boxes ----------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_wall_mesh_tags_and_grading(dim):
    cm = wall_mesh(8.0, 0.05, 0.8, dim=dim, width=0.8)
    got = measures(cm)
    area = 1.0 if dim == 1 else 0.8 ** (dim - 1)
    assert got[names.SOLVENT] == pytest.approx(8.0 * area, rel=1e-12)
    assert got[names.WALL] == pytest.approx(area, rel=1e-12)
    assert got[names.FAR] == pytest.approx(area, rel=1e-12)
    nodes = cm.meta["nodes_x"]
    dx = np.diff(nodes)
    assert dx[0] <= 0.05 * 1.01 and dx.max() <= 0.8 * 1.01 and np.all(np.diff(dx) > -1e-12)


def test_graded_nodes_size_bounds():
    x = graded_nodes(10.0, 0.01, 1.0, growth=0.2)
    h = np.diff(x)
    assert x[0] == 0 and x[-1] == 10.0
    assert h[0] <= 0.0101 and h.max() <= 1.0 + 1e-9
    assert np.max(h[1:] / h[:-1]) < 1.25  # neighbouring cells differ by less than the growth


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_slab_layers_and_interface(dim):
    cm = slab_mesh(1.0, 2.0, 0.25, dim=dim, width=0.5)
    got = measures(cm)
    area = 1.0 if dim == 1 else 0.5 ** (dim - 1)
    assert got[names.LAYER_1] == pytest.approx(1.0 * area, rel=1e-12)
    assert got[names.LAYER_2] == pytest.approx(2.0 * area, rel=1e-12)
    assert got[names.INTERFACE] == pytest.approx(area, rel=1e-12)
    assert got[names.LEFT] == pytest.approx(area, rel=1e-12)


def test_unit_box_and_axisymmetric_rectangle():
    for dim in (2, 3):
        cm = unit_box(0.25, dim)
        got = measures(cm)
        assert got[names.DOMAIN] == pytest.approx(1.0) and got[names.BOUNDARY] == pytest.approx(
            2 * dim
        )
        assert cm.meta["h"] == 0.25
    cm = axisymmetric_rectangle(0.1)
    got = measures(cm)
    assert cm.axisymmetric
    assert got[names.DOMAIN] == pytest.approx(pi)  # cylinder r=1, height 1
    assert got[names.BOUNDARY] == pytest.approx(2 * pi + 2 * pi * 0.5 * 2)  # side + two caps


# -- files ---------------------------------------------------------------------------------------
def test_msh_round_trip_keeps_names_and_volumes(tmp_path, chan2d):
    path = write_msh(chan2d, tmp_path / "chan.msh")
    back = load_msh(path, gdim=2)
    assert back.regions == chan2d.regions and back.boundaries == chan2d.boundaries
    assert back.axisymmetric and back.water_regions == (names.BATH, names.PORE)
    a, b = measures(chan2d), measures(back)
    for key, value in a.items():
        assert b[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_msh_round_trip_3d_sphere(tmp_path):
    cm = build_sphere(SphereGeometry(1.0, 3.0, 0.3, 1.0), dim=3)
    back = load_msh(write_msh(cm, tmp_path / "s.msh"))  # gdim from the file
    assert back.gdim == 3 and not back.axisymmetric
    a, b = measures(cm), measures(back)
    for key, value in a.items():
        assert b[key] == pytest.approx(value, rel=1e-12), key


def test_xdmf_round_trip(tmp_path, chan2d):
    path = write_xdmf(chan2d, tmp_path / "chan.xdmf")
    table = json.loads(path.with_suffix(".names.json").read_text())
    assert table["regions"] == chan2d.regions
    back = read_xdmf(path)
    assert back.boundaries == chan2d.boundaries and back.axisymmetric
    a, b = measures(chan2d), measures(back)
    for key, value in a.items():
        assert b[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def user_msh(path: Path, untagged_cells: bool = False) -> Path:
    """Write a .msh the way a user would with gmsh (format 4.1): an (r, z) rectangle 2 x 3."""
    import gmsh

    gmsh.initialize()
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        rect = gmsh.model.occ.addRectangle(0, 0, 0, 2.0, 3.0)
        if untagged_cells:
            gmsh.model.occ.addRectangle(3.0, 0, 0, 1.0, 1.0)  # in no physical group
            gmsh.option.setNumber("Mesh.SaveAll", 1)  # else gmsh drops untagged cells
        gmsh.model.occ.synchronize()
        axis = gmsh.model.getEntitiesInBoundingBox(-0.1, -0.1, -1, 0.1, 3.1, 1, dim=1)
        top = gmsh.model.getEntitiesInBoundingBox(-0.1, 2.9, -1, 2.1, 3.1, 1, dim=1)
        gmsh.model.addPhysicalGroup(2, [rect], 7, name=names.BATH)
        gmsh.model.addPhysicalGroup(1, [t for _, t in axis], 3, name=names.AXIS)
        gmsh.model.addPhysicalGroup(1, [t for _, t in top], 5, name=names.TOP)
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.3)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()
    return path


def test_load_user_msh_written_by_gmsh(tmp_path):
    """A .msh made directly with gmsh by a user, with the standard names."""
    path = user_msh(tmp_path / "user.msh")
    cm = load_msh(path, required_regions=(names.BATH,), required_boundaries=(names.TOP,))
    assert cm.gdim == 2 and cm.axisymmetric and cm.water_regions == (names.BATH,)
    assert cm.regions == {names.BATH: 7} and cm.boundaries == {names.AXIS: 3, names.TOP: 5}
    got = measures(cm)
    assert got[names.BATH] == pytest.approx(pi * 4.0 * 3.0, rel=1e-12)
    assert got[names.TOP] == pytest.approx(pi * 4.0, rel=1e-12)
    assert cm.geometry is None


def test_load_msh_errors(tmp_path, chan2d):
    with pytest.raises(InputError, match="does not exist"):
        load_msh(tmp_path / "missing.msh")
    cm3 = build_sphere(SphereGeometry(1.0, 3.0, 0.4, 1.5), dim=3)
    p3 = write_msh(cm3, tmp_path / "s3.msh")
    with pytest.raises(InputError, match="3D cells"):
        load_msh(p3, gdim=2)
    p2 = write_msh(chan2d, tmp_path / "c2.msh")
    with pytest.raises(MeshTagError, match="solute"):
        load_msh(p2, required_regions=(names.SOLUTE,))
    with pytest.raises(MeshTagError, match="surface_charge_wall"):
        load_msh(p2, required_boundaries=("surface_charge_wall",))
    unnamed = tmp_path / "unnamed.msh"
    unnamed.write_text(p2.read_text().replace('"bath"', '""'))
    with pytest.raises(MeshTagError):
        load_msh(unnamed)
    with pytest.raises(MeshTagError, match="belong to no region"):
        load_msh(user_msh(tmp_path / "untagged.msh", untagged_cells=True))
    with pytest.raises(MeshTagError, match=r"names\.json"):
        (tmp_path / "orphan.xdmf").write_text("<Xdmf/>")
        read_xdmf(tmp_path / "orphan.xdmf")


# -- quality -------------------------------------------------------------------------------------
def test_quality_numbers(chan2d, chan3d):
    q = mesh_quality(unit_box(0.25, 2))
    # right isosceles triangles: 45 deg, R/(2r) = (sqrt2/2)/(2 - sqrt2)
    assert q.min_angle_deg == pytest.approx(45.0)
    assert q.max_aspect_ratio == pytest.approx((math.sqrt(2) / 2) / (2 - math.sqrt(2)))
    q = mesh_quality(unit_box(0.5, 3))
    assert q.min_angle_deg == pytest.approx(45.0)  # Kuhn tetrahedra: dihedral 45/60/90 deg
    assert q.num_vertices == 27 and q.num_cells == 48
    q2 = mesh_quality(chan2d)
    assert q2.min_angle_deg > 20 and q2.max_aspect_ratio < 3
    assert sum(q2.cells_per_region.values()) == q2.num_cells
    q3 = mesh_quality(chan3d)
    assert q3.min_angle_deg > 5 and q3.max_aspect_ratio < 10
    assert "cells" in str(q3) and "dihedral" in str(q3)


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: cylindrical_pore(10.0, 5.0, bath_radius=10.0), "smaller than the bath radius"),
        (lambda: cylindrical_pore(1.0, 5.0, protein_thickness=9.5), "does not fit"),
        (lambda: cylindrical_pore(1.0, -5.0), "thickness must be > 0"),
        (lambda: cylindrical_pore(float("nan"), 5.0), "finite"),
        (lambda: cylindrical_pore(1.0, 5.0, h_pore=0.0), "h_pore must be > 0"),
        (lambda: cylindrical_pore(1.0, 5.0, h_pore=0.5, h_bath=0.2), "h_bath"),
        (lambda: cylindrical_pore(0.2, 5.0, h_pore=0.5), "narrowest pore radius"),
        (lambda: cylindrical_pore(1.0, 5.0, protein_thickness=-0.1), "protein thickness"),
        (lambda: cylindrical_pore(1.0, 5.0, bath_height=float("inf")), "finite"),
        (lambda: hourglass_pore(1.0, 1.0, 1.5, 5.0), "exceeds the bottom mouth"),
        (lambda: hourglass_pore(2.0, 2.0, 0.5, 5.0, 2.4, 1.0), "strictly inside"),
        (lambda: PoreProfile(5.0, (-2.5, 1.0, 0.0, 2.5), (1, 1, 1, 1)), "increase"),
        (lambda: PoreProfile(5.0, (-2.0, 2.5), (1, 1)), "span the membrane"),
        (lambda: ChannelGeometry("cylinder"), "PoreProfile"),
        (lambda: SphereGeometry(2.0, 1.0), "must exceed the solute radius"),
        (lambda: SphereGeometry(1.0, 5.0, outer="cube"), "sphere' or 'box"),
        (lambda: build_channel(default_channel(), dim=4), "dim must be"),
        (lambda: wall_mesh(5.0, 0.5, 0.1), "must be >="),
    ],
)
def test_bad_geometry_raises_clear_input_error(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_missing_tag_message_names_known_tags(chan2d):
    with pytest.raises(MeshTagError, match="its regions are"):
        chan2d.region(names.SOLUTE)
    with pytest.raises(MeshTagError, match="wall boundaries"):
        mesh_radius(build_sphere(SphereGeometry(1.0, 3.0, 0.4, 1.5), dim=2))


# -- MPI -----------------------------------------------------------------------------------------
@pytest.mark.mpi
def test_two_ranks_give_the_same_volumes_and_radius(tmp_path):
    out = run_mpi(MPI_SCRIPT, str(tmp_path), nprocs=2)
    par = json.loads(out.strip().splitlines()[-1])
    assert par["nranks"] == 2.0
    import runpy

    serial = runpy.run_path(str(MPI_SCRIPT))["main"](str(tmp_path))
    assert MPI.COMM_WORLD.size == 1
    assert set(par) - {"nranks"} == set(serial) - {"nranks"}
    for key, value in serial.items():
        if key != "nranks":
            assert par[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_uniform_refinement_keeps_regions_and_boundaries():
    from meshes.refine import refine_uniformly
    from meshes.sphere import SphereGeometry, build_sphere

    cm = build_sphere(SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.4, h_far=1.5))
    fine = refine_uniformly(cm)
    cells = cm.mesh.topology.index_map(2).size_global
    assert fine.mesh.topology.index_map(2).size_global == 4 * cells  # 2D: every triangle in 4
    # the region volumes and the interface length are those of the coarse mesh (nested refinement)
    for tags, dim, name in ((cm.cell_tags, 2, "solute"), (cm.facet_tags, 1, "solute_surface")):
        coarse = _measure(cm, tags, dim, cm.regions.get(name, cm.boundaries.get(name)))
        fine_tags = fine.cell_tags if dim == 2 else fine.facet_tags
        tag = fine.regions.get(name, fine.boundaries.get(name))
        assert _measure(fine, fine_tags, dim, tag) == pytest.approx(coarse, rel=1e-12)
        assert len(fine_tags.find(tag)) >= 2 * len(tags.find(tag))


def _measure(cm, tags, dim, tag):
    """Total size (area or length in the (r, z) plane) of the tagged entities."""
    import dolfinx
    import ufl

    msh = cm.mesh
    if dim == msh.topology.dim:
        form = 1.0 * ufl.Measure("dx", domain=msh, subdomain_data=tags)(tag)
    else:
        form = 1.0 * ufl.Measure("dS", domain=msh, subdomain_data=tags)(tag)
    value = dolfinx.fem.assemble_scalar(dolfinx.fem.form(form))
    return msh.comm.allreduce(value)
