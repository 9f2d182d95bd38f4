"""One parametric builder for channel geometries: a pore through a membrane between two baths.

Layout (lengths in nm, pore axis along z, membrane centred at ``z = 0``)::

    z_max = L/2 + H  +---------------------------+   top
                     |          bath             |
    z =  L/2         +--+--+---------------------+
                     |p |pr|    membrane         |   outer / membrane_edge at r = R_bath
    z = -L/2         +--+--+---------------------+
                     |          bath             |
    z_min = -L/2 - H +---------------------------+   bottom
                    r=0  R(z)  R(z)+t          R_bath

``p`` = pore water (``0 <= r <= R(z)``), ``pr`` = optional protein lining of radial thickness t.
The pore wall R(z) is any :class:`~meshes.profile.PoreProfile` (cylinder, cone, hourglass, or a
general polyline). ``dim=2`` gives the axisymmetric (r, z) mesh, ``dim=3`` the body of revolution.

Regions: ``bath``, ``pore``, ``membrane``, ``protein`` (when ``protein_thickness > 0``).
Boundaries: ``top``, ``bottom``, ``outer`` (bath side walls), ``membrane_edge`` (membrane rim at
``r = R_bath``), ``axis`` (2D), ``membrane_wall`` (membrane-water: faces in the baths and pore
wall without protein), ``protein_wall`` (protein-water), ``membrane_protein``, and the pore
mouths ``pore_mouth_top`` / ``pore_mouth_bottom`` (bath-pore cross-sections at z = +-L/2,
interior facets). Regions and boundaries are identified by explicit
construction (fragment maps) and by which regions a facet separates, never by centroids.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

from mpi4py import MPI

from meshes import names
from meshes.cache import cache_key
from meshes.gmsh_tools import (
    MeshGenerationError,
    Timer,
    build_on_rank0,
    model_to_channel_mesh,
    use_size_field,
)
from meshes.profile import PoreProfile, check_finite, check_positive
from meshes.record import ChannelMesh
from poreflux.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "ChannelGeometry",
    "build_channel",
    "conical_pore",
    "cylindrical_pore",
    "default_channel",
    "hourglass_pore",
]

REGION_TAGS = {names.BATH: 1, names.PORE: 2, names.MEMBRANE: 3, names.PROTEIN: 4}
BOUNDARY_TAGS = {
    names.TOP: 1,
    names.BOTTOM: 2,
    names.OUTER: 3,
    names.AXIS: 4,
    names.MEMBRANE_WALL: 5,
    names.PROTEIN_WALL: 6,
    names.MEMBRANE_PROTEIN: 7,
    names.MEMBRANE_EDGE: 8,
    names.PORE_MOUTH_TOP: 9,
    names.PORE_MOUTH_BOTTOM: 10,
}
WATER = (names.BATH, names.PORE)

#: Default sizes (nm). With them :func:`default_channel` has ~8e3 vertices in 2D, so a P1 PNP
#: solve with the potential and two concentrations stays near 2.5e4 dofs (well under 1e5), with
#: ~20 cells per Debye length at 150 mM in the pore (lambda_D = 0.79 nm).
DEFAULT_H_PORE = 0.04
DEFAULT_H_BATH = 0.5
#: Default sizes for 3D meshes of :func:`default_channel` (``dim=3``): ~1.1e5 tetrahedra.
DEFAULT_H_PORE_3D = 0.15
DEFAULT_H_BATH_3D = 1.5


@dataclass(frozen=True)
class ChannelGeometry:
    """A pore through a membrane slab between two cylindrical baths (all lengths in nm).

    Parameters
    ----------
    profile
        Pore radius R(z) across the membrane (its ``thickness`` is the membrane thickness L).
    bath_radius
        Radius of the cylindrical baths (and of the membrane disc), > max R(z) + protein.
    bath_height
        Height of each bath (above and below the membrane).
    protein_thickness
        Radial thickness of the protein lining between pore water and membrane (0: no protein).
    h_pore
        Mesh size in the pore, the lining and near the mouths.
    h_bath
        Largest mesh size, far from the pore.
    growth
        Growth of the mesh size with distance from the pore (nm per nm), in (0, 1].
    """

    profile: PoreProfile
    bath_radius: float = 10.0
    bath_height: float = 10.0
    protein_thickness: float = 0.0
    h_pore: float = DEFAULT_H_PORE
    h_bath: float = DEFAULT_H_BATH
    growth: float = 0.3

    def __post_init__(self) -> None:
        if not isinstance(self.profile, PoreProfile):
            raise InputError(
                f"profile must be a meshes.profile.PoreProfile, got {type(self.profile).__name__}"
            )
        Rb = check_positive("bath radius", self.bath_radius)
        H = check_positive("bath height", self.bath_height)
        t = check_finite("protein thickness", self.protein_thickness)
        hp = check_positive("h_pore", self.h_pore)
        hb = check_positive("h_bath", self.h_bath)
        g = check_positive("growth", self.growth, unit="")
        if t < 0:
            raise InputError(f"protein thickness must be >= 0 nm (0 = no protein), got {t:g}")
        rmax = self.profile.max_radius
        if rmax >= Rb:
            raise InputError(
                f"pore radius {rmax:g} nm must be smaller than the bath radius {Rb:g} nm; "
                "enlarge the bath or narrow the pore"
            )
        if rmax + t >= Rb:
            raise InputError(
                f"protein lining of {t:g} nm around a pore of radius up to {rmax:g} nm does not "
                f"fit inside the bath radius {Rb:g} nm (needs pore radius + thickness < bath "
                "radius); make the protein thinner or the bath wider"
            )
        if hb < hp:
            raise InputError(f"h_bath ({hb:g} nm) must be >= h_pore ({hp:g} nm)")
        if hp > self.profile.min_radius:
            raise InputError(
                f"h_pore {hp:g} nm exceeds the narrowest pore radius "
                f"{self.profile.min_radius:g} nm; use h_pore <= radius / 3 to resolve the pore"
            )
        if 0 < t < hp / 4:
            raise InputError(
                f"protein thickness {t:g} nm is far below h_pore {hp:g} nm; use h_pore <= "
                "thickness or drop the protein (thickness 0)"
            )
        if g > 1.0:
            raise InputError(f"growth must be in (0, 1], got {g:g}")
        for k, v in (("bath_radius", Rb), ("bath_height", H), ("protein_thickness", t)):
            object.__setattr__(self, k, v)
        for k, v in (("h_pore", hp), ("h_bath", hb), ("growth", g)):
            object.__setattr__(self, k, v)

    @property
    def thickness(self) -> float:
        """Membrane thickness L (nm)."""
        return self.profile.thickness

    @property
    def z_min(self) -> float:
        """Lower end of the bottom bath (nm)."""
        return -self.thickness / 2 - self.bath_height

    @property
    def z_max(self) -> float:
        """Upper end of the top bath (nm)."""
        return self.thickness / 2 + self.bath_height

    @property
    def has_protein(self) -> bool:
        """True when the pore has a protein lining."""
        return self.protein_thickness > 0

    def with_sizes(
        self, h_pore: float | None = None, h_bath: float | None = None
    ) -> ChannelGeometry:
        """A copy with other mesh sizes (for refinement studies)."""
        return replace(
            self,
            h_pore=self.h_pore if h_pore is None else h_pore,
            h_bath=self.h_bath if h_bath is None else h_bath,
        )

    def refined(self, factor: float) -> ChannelGeometry:
        """A copy refined by ``factor`` everywhere: both mesh sizes and the size field's growth
        rate divided by it (a fixed growth would leave the graded zone around the pore as
        coarse as before, and convergence studies would see an order of ~0.6 instead of the
        geometry's)."""
        f = check_positive("refinement factor", factor, unit="")
        return replace(self.with_sizes(self.h_pore / f, self.h_bath / f), growth=self.growth / f)


# -- convenience constructors --------------------------------------------------------------------
def cylindrical_pore(
    radius: float = 1.0, thickness: float = 5.0, **kwargs: float
) -> ChannelGeometry:
    """A cylindrical pore; ``kwargs`` go to :class:`ChannelGeometry` (bath_radius, h_pore...)."""
    return ChannelGeometry(PoreProfile.cylinder(radius, thickness), **kwargs)


def conical_pore(
    radius_bottom: float, radius_top: float, thickness: float = 5.0, **kwargs: float
) -> ChannelGeometry:
    """A conical pore from ``radius_bottom`` (z = -L/2) to ``radius_top`` (z = L/2)."""
    return ChannelGeometry(PoreProfile.cone(radius_bottom, radius_top, thickness), **kwargs)


def hourglass_pore(
    radius_bottom: float,
    radius_top: float,
    constriction_radius: float,
    thickness: float = 5.0,
    constriction_z: float = 0.0,
    constriction_length: float = 0.0,
    **kwargs: float,
) -> ChannelGeometry:
    """Two vestibules and a constriction (see :meth:`PoreProfile.hourglass`)."""
    prof = PoreProfile.hourglass(
        radius_bottom, radius_top, constriction_radius, thickness, constriction_z,
        constriction_length,
    )  # fmt: skip
    return ChannelGeometry(prof, **kwargs)


def default_channel(dim: int = 2, **kwargs: float) -> ChannelGeometry:
    """The reference channel: a cylindrical pore of radius 1 nm through a 5 nm membrane between
    two baths of radius 10 nm and height 10 nm, with a 0.5 nm protein lining.

    Mesh sizes depend on the dimension the geometry is meant for:

    - ``dim=2`` (axisymmetric): ``h_pore = 0.04`` nm, ``h_bath = 0.5`` nm -> ~1.5e4 triangles,
      ~7.7e3 vertices (P1 PNP with phi, c+, c-: ~2.3e4 dofs), ~20 cells per Debye length at
      150 mM in the pore;
    - ``dim=3``: ``h_pore = 0.15`` nm, ``h_bath = 1.5`` nm -> ~1.1e5 tetrahedra, ~1.8e4 vertices.

    ``kwargs`` override any parameter of :func:`cylindrical_pore` / :class:`ChannelGeometry`.
    """
    if dim not in (2, 3):
        raise InputError(f"dim must be 2 (axisymmetric) or 3, got {dim!r}")
    params = {
        "radius": 1.0,
        "thickness": 5.0,
        "bath_radius": 10.0,
        "bath_height": 10.0,
        "protein_thickness": 0.5,
        "h_pore": DEFAULT_H_PORE if dim == 2 else DEFAULT_H_PORE_3D,
        "h_bath": DEFAULT_H_BATH if dim == 2 else DEFAULT_H_BATH_3D,
    }
    params.update(kwargs)
    return cylindrical_pore(**params)


# -- gmsh model ----------------------------------------------------------------------------------
def _polygon(occ, pts: list[tuple[float, float]], dim: int) -> int:
    """A plane face from (r, z) vertices: in the x-y plane (2D) or the x-z plane (3D)."""

    def point(r: float, z: float) -> int:
        return occ.addPoint(r, z, 0.0) if dim == 2 else occ.addPoint(r, 0.0, z)

    tags = [point(r, z) for r, z in pts]
    lines = [occ.addLine(a, b) for a, b in zip(tags, tags[1:] + tags[:1], strict=True)]
    return occ.addPlaneSurface([occ.addCurveLoop(lines)])


def _region_polygons(g: ChannelGeometry) -> dict[str, list[list[tuple[float, float]]]]:
    L, Rb, t = g.thickness, g.bath_radius, g.protein_thickness
    wall = [(r, z) for z, r in zip(g.profile.z, g.profile.radius, strict=True)]
    offset = [(r + t, z) for r, z in wall]
    polys = {
        names.BATH: [
            [(0.0, g.z_min), (Rb, g.z_min), (Rb, -L / 2), (0.0, -L / 2)],
            [(0.0, L / 2), (Rb, L / 2), (Rb, g.z_max), (0.0, g.z_max)],
        ],
        names.PORE: [[(0.0, -L / 2), *wall, (0.0, L / 2)]],
        names.MEMBRANE: [[offset[0], (Rb, -L / 2), (Rb, L / 2), *offset[::-1][:-1]]],
    }
    if g.has_protein:
        polys[names.PROTEIN] = [[*wall, *offset[::-1]]]
    return polys


def _make_model(g: ChannelGeometry, dim: int, model) -> None:
    import gmsh

    occ = model.occ
    inputs: list[tuple[int, int]] = []
    owner: list[str] = []
    for region, polys in _region_polygons(g).items():
        for pts in polys:
            face = _polygon(occ, pts, dim)
            if dim == 3:
                out = occ.revolve([(2, face)], 0, 0, 0, 0, 0, 1, 2 * math.pi)
                for d, tag in out:
                    if d == 3:
                        inputs.append((3, tag))
                        owner.append(region)
            else:
                inputs.append((2, face))
                owner.append(region)
    _, children = occ.fragment(inputs, [])
    occ.synchronize()

    region_of: dict[int, str] = {}
    for region, kids in zip(owner, children, strict=True):
        for d, tag in kids:
            if d == dim:
                if region_of.get(tag, region) != region:
                    raise RuntimeError(f"entity {tag} claimed by {region_of[tag]} and {region}")
                region_of[tag] = region
    for region, rtag in REGION_TAGS.items():
        tags = sorted(t for t, r in region_of.items() if r == region)
        if tags:
            model.addPhysicalGroup(dim, tags, rtag, name=region)

    facets = _classify_facets(g, dim, model, region_of)
    for bname, btag in BOUNDARY_TAGS.items():
        if facets.get(bname):
            model.addPhysicalGroup(dim - 1, sorted(facets[bname]), btag, name=bname)

    # size field: h_pore inside the box r <= max R(z) + t, |z| <= L/2 holding the pore and the
    # lining, growing linearly with the (Chebyshev) distance to that box up to h_bath. The box
    # distance never exceeds the distance to the pore, so the mouths and walls are covered too.
    fm = model.mesh.field
    inside = fm.add("MathEval")
    rmax = g.profile.max_radius + g.protein_thickness
    r_expr = "x" if dim == 2 else "Sqrt(x*x+y*y)"
    z_expr = "y" if dim == 2 else "z"
    box_dist = f"Max({r_expr} - {rmax!r}, Abs({z_expr}) - {g.thickness / 2!r})"
    fm.setString(
        inside, "F", f"Min({g.h_bath!r}, {g.h_pore!r} + {g.growth!r} * Max(0, {box_dist}))"
    )
    use_size_field(inside)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay (2D and 3D surfaces)
    # HXT (Marot et al., IJNME 117, 967 (2019)): ~10x faster than gmsh's classic Delaunay on
    # the 3D channel; single-threaded (see gmsh_model), so the mesh is reproducible.
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)
    model.mesh.generate(dim)


def _classify_facets(
    g: ChannelGeometry, dim: int, model, region_of: dict[int, str]
) -> dict[str, set[int]]:
    """Name every boundary/interface entity by the regions it separates (and its position)."""
    fdim = dim - 1
    scale = max(g.z_max - g.z_min, g.bath_radius)
    tol = 1e-6 * scale
    out: dict[str, set[int]] = {}
    all_facets = {t for _, t in model.getBoundary([(dim, t) for t in region_of], oriented=False)}
    all_facets |= _interior_facets(model, dim, region_of)
    for f in sorted(all_facets):
        up, _ = model.getAdjacencies(fdim, f)
        regs = {region_of[int(v)] for v in up if int(v) in region_of}
        xmin, ymin, zmin, xmax, ymax, zmax = model.getBoundingBox(fdim, f)
        zlo, zhi = (ymin, ymax) if dim == 2 else (zmin, zmax)
        name = None
        if len(up) == 1:
            (reg,) = regs
            if abs(zlo - g.z_max) < tol and abs(zhi - g.z_max) < tol:
                name = names.TOP
            elif abs(zlo - g.z_min) < tol and abs(zhi - g.z_min) < tol:
                name = names.BOTTOM
            elif dim == 2 and xmax < tol:
                name = names.AXIS
            elif (dim == 2 and xmin > g.bath_radius - tol) or (
                dim == 3 and abs(xmax - g.bath_radius) < 1e-3 * scale
            ):
                name = names.MEMBRANE_EDGE if reg == names.MEMBRANE else names.OUTER
        elif regs == {names.BATH, names.PORE} and abs(zlo - zhi) < tol:
            name = names.PORE_MOUTH_TOP if zlo > 0 else names.PORE_MOUTH_BOTTOM
        elif len(regs) == 2:
            if names.MEMBRANE in regs and regs & set(WATER):
                name = names.MEMBRANE_WALL
            elif names.PROTEIN in regs and regs & set(WATER):
                name = names.PROTEIN_WALL
            elif regs == {names.MEMBRANE, names.PROTEIN}:
                name = names.MEMBRANE_PROTEIN
        if name is None:
            raise MeshGenerationError(
                f"could not classify facet entity {f} between regions {sorted(regs)} "
                f"(bounding box r/x [{xmin:g}, {xmax:g}], z [{zlo:g}, {zhi:g}])"
            )
        out.setdefault(name, set()).add(f)
    return out


def _interior_facets(model, dim: int, region_of: dict[int, str]) -> set[int]:
    """Facet entities shared by two cells-entities (interfaces are not in the combined boundary)."""
    faces: set[int] = set()
    for t in region_of:
        faces |= {int(f) for f in model.getAdjacencies(dim, t)[1]}
    return faces


def build_channel(
    geometry: ChannelGeometry | None = None, dim: int = 2, comm: MPI.Comm = MPI.COMM_WORLD
) -> ChannelMesh:
    """Mesh a channel geometry in 2D axisymmetric (r, z) or 3D; collective on ``comm``.

    Parameters
    ----------
    geometry
        The channel description (default ``default_channel(dim)``).
    dim
        2 (axisymmetric, ``x[0] = r``, ``x[1] = z``) or 3 (pore axis along ``x[2]``).
    comm
        MPI communicator; built on rank 0 with gmsh (one thread) and distributed with the ghost
        mode ``shared_facet``.

    Returns
    -------
    ChannelMesh
        With ``regions``, ``boundaries`` as described in the module docstring,
        ``water_regions = ("bath", "pore")``, ``geometry`` = the description and ``meta`` with
        ``build_time_s``.
    """
    g = default_channel(dim if dim in (2, 3) else 2) if geometry is None else geometry
    if not isinstance(g, ChannelGeometry):
        raise InputError(f"build_channel needs a ChannelGeometry, got {type(g).__name__}")
    if dim not in (2, 3):
        raise InputError(f"dim must be 2 (axisymmetric) or 3, got {dim!r}")
    timer = Timer()
    data = build_on_rank0(
        comm,
        f"channel{dim}d",
        lambda m: _make_model(g, dim, m),
        gdim=dim,
        cache_key=cache_key(__file__, "channel", g, dim),
    )
    cm = model_to_channel_mesh(
        data,
        axisymmetric=(dim == 2),
        water_regions=WATER,
        geometry=g,
        meta={"builder": "channel", "dim": dim, "build_time_s": timer.elapsed()},
    )
    ncells = cm.mesh.topology.index_map(cm.tdim).size_global
    log.info("channel mesh (%dD): %d cells in %.2f s", dim, ncells, timer.elapsed())
    return cm
