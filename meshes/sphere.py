"""A spherical solute in a spherical (or box) solvent domain: the PB / Born validation geometry.

Regions ``solute`` (``r < a``) and ``solvent``; boundaries ``solute_surface`` (interior interface
facets, for a surface charge or a ``dS`` integral), ``outer`` and, in 2D, ``axis``.

- ``dim=2``: axisymmetric half disc in (r, z), ``r >= 0``, solute centred at the origin. With
  ``outer="box"`` the solvent is the rectangle ``0 <= r <= R``, ``|z| <= R`` (a cylinder of
  revolution).
- ``dim=3``: full sphere(s) centred at the origin; ``outer="box"`` gives the cube ``[-R, R]^3``.

The mesh size is ``h_surface`` near the sphere surface and grows linearly with the distance to it
(by ``growth`` nm per nm) up to ``h_far`` (a MathEval size field, exact for the sphere), so a Born
or Debye-Hückel test can refine near the solute instead of everywhere. ``refine_at`` points (e.g.
the positions of smoothed point charges) get their own size ``refine_size`` growing at the same
rate; the background size is the minimum of all these fields.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from mpi4py import MPI

from meshes import names
from meshes.cache import cache_key
from meshes.gmsh_tools import Timer, build_on_rank0, model_to_channel_mesh, use_size_field
from meshes.profile import check_positive
from meshes.record import ChannelMesh
from poreflux import validation
from poreflux.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["SphereGeometry", "build_sphere"]

SOLUTE_TAG, SOLVENT_TAG = 1, 2
SURFACE_TAG, OUTER_TAG, AXIS_TAG = 1, 2, 3


@dataclass(frozen=True)
class SphereGeometry:
    """A spherical solute of radius ``radius`` in a solvent domain of size ``outer_radius`` (nm).

    Parameters
    ----------
    radius
        Solute radius a (nm).
    outer_radius
        Radius R of the solvent sphere, or half the side of the solvent box (nm); > ``radius``.
    h_surface
        Mesh size at the solute surface (nm).
    h_far
        Largest mesh size, reached far from the solute (nm).
    outer
        ``"sphere"`` or ``"box"``.
    growth
        Growth of the mesh size with distance from the surface (nm per nm), 0 < growth <= 1.
    """

    radius: float = 1.0
    outer_radius: float = 10.0
    h_surface: float = 0.1
    h_far: float = 1.0
    outer: Literal["sphere", "box"] = "sphere"
    growth: float = 0.3

    def __post_init__(self) -> None:
        a = check_positive("solute radius", self.radius)
        R = check_positive("outer radius", self.outer_radius)
        hs = check_positive("h_surface", self.h_surface)
        hf = check_positive("h_far", self.h_far)
        g = check_positive("growth", self.growth, unit="")
        if a >= R:
            raise InputError(
                f"outer radius {R:g} nm must exceed the solute radius {a:g} nm "
                "(make the solvent domain larger)"
            )
        if hf < hs:
            raise InputError(f"h_far ({hf:g} nm) must be >= h_surface ({hs:g} nm)")
        if hs > a:
            raise InputError(
                f"h_surface {hs:g} nm is larger than the solute radius {a:g} nm; "
                "use h_surface <= radius/4 to resolve the sphere"
            )
        if g > 1.0:
            raise InputError(f"growth must be in (0, 1], got {g:g}")
        if self.outer not in ("sphere", "box"):
            raise InputError(f"outer must be 'sphere' or 'box', got {self.outer!r}")
        for k, v in (("radius", a), ("outer_radius", R), ("h_surface", hs), ("h_far", hf)):
            object.__setattr__(self, k, v)
        object.__setattr__(self, "growth", g)

    def with_sizes(
        self, h_surface: float | None = None, h_far: float | None = None
    ) -> SphereGeometry:
        """A copy with other mesh sizes (for refinement studies)."""
        return replace(
            self,
            h_surface=self.h_surface if h_surface is None else h_surface,
            h_far=self.h_far if h_far is None else h_far,
        )


def _size_field(g: SphereGeometry, model, refine: tuple[np.ndarray, float] | None) -> None:
    fm = model.mesh.field
    f = fm.add("MathEval")
    dist = f"Abs(Sqrt(x*x+y*y+z*z)-{g.radius!r})"
    fm.setString(f, "F", f"Min({g.h_far!r}, {g.h_surface!r} + {g.growth!r}*{dist})")
    if refine is not None:
        fields = [f]
        points, size = refine
        for p in points:
            fp = fm.add("MathEval")
            d = "Sqrt(" + "+".join(_square(c, v) for c, v in zip("xyz", p, strict=True)) + ")"
            fm.setString(fp, "F", f"{size!r} + {g.growth!r}*{d}")
            fields.append(fp)
        f = fm.add("Min")
        fm.setNumbers(f, "FieldsList", fields)
    use_size_field(f)


def _square(coordinate: str, value: float) -> str:
    """``(c-v)*(c-v)`` as a gmsh MathEval term (no ``^``, no ``--``)."""
    v = float(value)
    shift = f"{coordinate}-{v!r}" if v >= 0 else f"{coordinate}+{-v!r}"
    return f"({shift})*({shift})"


def _refinement_points(
    g: SphereGeometry, dim: int, points: Sequence[Sequence[float]], size: float | None
) -> tuple[np.ndarray, float]:
    """Checked ``refine_at`` points as gmsh coordinates ((r, z) -> (x, y) in 2D) and their size.

    Raises :class:`~poreflux.errors.InputError` for a missing or non-positive ``refine_size``,
    non-finite points, points outside the solvent domain and, in 2D, points off the axis.
    """
    if size is None:
        raise InputError("refine_at needs refine_size (the mesh size at the points, nm)")
    h = validation.check_positive(size, "refine_size", "nm")
    if h > g.h_far:
        raise InputError(f"refine_size {h:g} nm exceeds h_far {g.h_far:g} nm; give a smaller one")
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 1 and pts.size == 3:
        pts = pts.reshape(1, 3)
    if pts.ndim != 2 or pts.shape[1] != 3 or pts.shape[0] == 0:
        raise InputError(f"refine_at must be a list of (x, y, z) points in nm, got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise InputError("refine_at points must be finite (found NaN/inf)")
    extent = np.abs(pts).max(axis=1) if g.outer == "box" else np.linalg.norm(pts, axis=1)
    outside = np.flatnonzero(extent >= g.outer_radius)
    if outside.size:
        raise InputError(
            f"refine_at point(s) {outside.tolist()[:5]} lie outside the {g.outer} of "
            f"size {g.outer_radius:g} nm"
        )
    if dim == 2:
        off = np.flatnonzero(np.hypot(pts[:, 0], pts[:, 1]) > 1e-12)
        if off.size:
            raise InputError(
                f"refine_at point(s) {off.tolist()[:5]} are off the axis (x = y = 0): an "
                "axisymmetric mesh can only refine around on-axis points"
            )
        pts = np.column_stack([np.zeros(len(pts)), pts[:, 2], np.zeros(len(pts))])
    return pts, h


def _make_2d(g: SphereGeometry, model, refine: tuple[np.ndarray, float] | None) -> None:
    geo = model.geo
    a, R = g.radius, g.outer_radius
    c = geo.addPoint(0, 0, 0)
    a_s, a_e, a_n = geo.addPoint(0, -a, 0), geo.addPoint(a, 0, 0), geo.addPoint(0, a, 0)
    arc1, arc2 = geo.addCircleArc(a_s, c, a_e), geo.addCircleArc(a_e, c, a_n)
    if g.outer == "sphere":
        o_s, o_e, o_n = geo.addPoint(0, -R, 0), geo.addPoint(R, 0, 0), geo.addPoint(0, R, 0)
        outer_curves = [geo.addCircleArc(o_s, c, o_e), geo.addCircleArc(o_e, c, o_n)]
    else:
        o_s, o_se = geo.addPoint(0, -R, 0), geo.addPoint(R, -R, 0)
        o_ne, o_n = geo.addPoint(R, R, 0), geo.addPoint(0, R, 0)
        outer_curves = [geo.addLine(o_s, o_se), geo.addLine(o_se, o_ne), geo.addLine(o_ne, o_n)]
    ax_low, ax_mid, ax_high = geo.addLine(o_s, a_s), geo.addLine(a_s, a_n), geo.addLine(a_n, o_n)
    solute = geo.addPlaneSurface([geo.addCurveLoop([arc1, arc2, -ax_mid])])
    solvent_loop = geo.addCurveLoop([*outer_curves, -ax_high, -arc2, -arc1, -ax_low])
    solvent = geo.addPlaneSurface([solvent_loop])
    geo.synchronize()
    model.addPhysicalGroup(2, [solute], SOLUTE_TAG, name=names.SOLUTE)
    model.addPhysicalGroup(2, [solvent], SOLVENT_TAG, name=names.SOLVENT)
    model.addPhysicalGroup(1, [arc1, arc2], SURFACE_TAG, name=names.SOLUTE_SURFACE)
    model.addPhysicalGroup(1, outer_curves, OUTER_TAG, name=names.OUTER)
    model.addPhysicalGroup(1, [ax_low, ax_mid, ax_high], AXIS_TAG, name=names.AXIS)
    _size_field(g, model, refine)
    model.mesh.generate(2)


def _make_3d(g: SphereGeometry, model, refine: tuple[np.ndarray, float] | None) -> None:
    occ = model.occ
    a, R = g.radius, g.outer_radius
    inner = occ.addSphere(0, 0, 0, a)
    if g.outer == "sphere":
        outer = occ.addSphere(0, 0, 0, R)
    else:
        outer = occ.addBox(-R, -R, -R, 2 * R, 2 * R, 2 * R)
    _, children = occ.fragment([(3, outer)], [(3, inner)])
    occ.synchronize()
    solute = sorted({t for d, t in children[1] if d == 3})
    solvent = sorted({t for d, t in children[0] if d == 3} - set(solute))
    if len(solute) != 1 or len(solvent) != 1:
        raise RuntimeError(f"unexpected fragment result: solute {solute}, solvent {solvent}")
    surf = [t for _, t in model.getBoundary([(3, s) for s in solute], oriented=False)]
    every = [(3, t) for t in solute + solvent]
    outer_s = [t for _, t in model.getBoundary(every, combined=True, oriented=False)]
    model.addPhysicalGroup(3, solute, SOLUTE_TAG, name=names.SOLUTE)
    model.addPhysicalGroup(3, solvent, SOLVENT_TAG, name=names.SOLVENT)
    model.addPhysicalGroup(2, sorted(set(surf)), SURFACE_TAG, name=names.SOLUTE_SURFACE)
    model.addPhysicalGroup(2, sorted(set(outer_s)), OUTER_TAG, name=names.OUTER)
    _size_field(g, model, refine)
    model.mesh.generate(3)


def build_sphere(
    geometry: SphereGeometry | None = None,
    dim: int = 2,
    comm: MPI.Comm = MPI.COMM_WORLD,
    *,
    refine_at: Sequence[Sequence[float]] | None = None,
    refine_size: float | None = None,
) -> ChannelMesh:
    """Mesh a spherical solute in a solvent domain; collective on ``comm``.

    Parameters
    ----------
    geometry
        The description (default: ``SphereGeometry()``, a 1 nm sphere in a 10 nm sphere).
    dim
        2 (axisymmetric, (r, z) half disc) or 3.
    comm
        MPI communicator; the mesh is built on rank 0 and distributed (ghost mode shared_facet).
        Built meshes are kept in the on-disk cache (:mod:`meshes.cache`, keyed by the geometry
        and the refinement points), so a rerun reads the mesh without gmsh.
    refine_at
        Points (x, y, z) [nm] around which the mesh is refined, e.g.
        ``PointCharges.positions`` (in 2D only on-axis points, x = y = 0).
    refine_size
        Mesh size [nm] at the ``refine_at`` points (growing with ``geometry.growth`` away from
        them); a smoothed point charge needs ``refine_size <= width``.

    Returns
    -------
    ChannelMesh
        Regions ``solute``, ``solvent``; boundaries ``solute_surface``, ``outer`` (+ ``axis``
        in 2D); ``water_regions = ("solvent",)``; ``axisymmetric = (dim == 2)``.
    """
    g = SphereGeometry() if geometry is None else geometry
    if not isinstance(g, SphereGeometry):
        raise InputError(f"build_sphere needs a SphereGeometry, got {type(g).__name__}")
    if dim not in (2, 3):
        raise InputError(f"dim must be 2 (axisymmetric) or 3, got {dim!r}")
    refine = None if refine_at is None else _refinement_points(g, dim, refine_at, refine_size)
    timer = Timer()
    make = _make_2d if dim == 2 else _make_3d
    key_of = (g, None) if refine is None else (g, refine[0].tolist(), refine[1])
    data = build_on_rank0(
        comm,
        f"sphere{dim}d",
        lambda m: make(g, m, refine),
        gdim=dim,
        cache_key=cache_key(__file__, "sphere", key_of, dim),
    )
    cm = model_to_channel_mesh(
        data,
        axisymmetric=(dim == 2),
        water_regions=(names.SOLVENT,),
        geometry=g,
        meta={
            "builder": "sphere",
            "dim": dim,
            "build_time_s": timer.elapsed(),
            "refine_points": 0 if refine is None else len(refine[0]),
            "refine_size": None if refine is None else refine[1],
        },
    )
    log.info("sphere mesh (%dD): %d cells in %.2f s", dim, _num_cells(cm), timer.elapsed())
    return cm


def _num_cells(cm: ChannelMesh) -> int:
    return cm.mesh.topology.index_map(cm.tdim).size_global
