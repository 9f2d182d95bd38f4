"""Channel geometries of a study: a kind plus named parameters (nm, degrees) -> ChannelGeometry.

Kinds and their parameters (every one optional, defaults in brackets):

- ``"default"``: :func:`meshes.channel.default_channel` (radius 1 nm, thickness 5 nm, 0.5 nm
  protein lining, 10 nm baths); any parameter below overrides it.
- ``"cylinder"``: ``radius_nm`` [1], ``thickness_nm`` [5].
- ``"cone"``: ``radius_bottom_nm`` (required), then ``radius_top_nm`` or ``cone_angle_deg``
  (half opening angle between the wall and the axis, positive when the pore widens towards the
  top: ``radius_top = radius_bottom + thickness * tan(angle)``), ``thickness_nm`` [5].
- ``"hourglass"``: ``radius_bottom_nm``, ``radius_top_nm``, ``constriction_radius_nm`` (required),
  ``constriction_z_nm`` [0], ``constriction_length_nm`` [0], ``thickness_nm`` [5].

- ``"msh"``: a user's gmsh ``.msh`` file (``[geometry] file`` in a study file,
  ``ChannelPNPModel(mesh_file=...)`` in Python) with the physical groups of
  :mod:`pnp.studies.meshfile`; no parameters (nothing to sweep or refine).

The generated kinds also take ``bath_radius_nm``, ``bath_height_nm``, ``protein_thickness_nm``,
``h_pore_nm``, ``h_bath_nm`` (see :class:`meshes.channel.ChannelGeometry`) and
``mesh_refinement`` (a factor dividing both mesh sizes and the size field's growth rate).
Impossible geometry (pore wider than the bath, mesh size larger than the pore...) raises
:class:`~poreflux.errors.InputError` from the geometry classes themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from poreflux.errors import InputError

__all__ = ["GEOMETRY_KINDS", "GEOMETRY_PARAMETERS", "MESH_FILE_KIND", "make_geometry"]

#: The kind of a user's mesh file.
MESH_FILE_KIND = "msh"

_COMMON = (
    "bath_radius_nm",
    "bath_height_nm",
    "protein_thickness_nm",
    "h_pore_nm",
    "h_bath_nm",
    "mesh_refinement",
)

#: Kind -> the parameters it accepts (besides the common ones).
GEOMETRY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "default": ("radius_nm", "thickness_nm", *_COMMON),
    "cylinder": ("radius_nm", "thickness_nm", *_COMMON),
    "cone": ("radius_bottom_nm", "radius_top_nm", "cone_angle_deg", "thickness_nm", *_COMMON),
    "hourglass": (
        "radius_bottom_nm",
        "radius_top_nm",
        "constriction_radius_nm",
        "constriction_z_nm",
        "constriction_length_nm",
        "thickness_nm",
        *_COMMON,
    ),
    MESH_FILE_KIND: (),
}
GEOMETRY_KINDS: tuple[str, ...] = tuple(GEOMETRY_PARAMETERS)

_RENAME = {
    "bath_radius_nm": "bath_radius",
    "bath_height_nm": "bath_height",
    "protein_thickness_nm": "protein_thickness",
    "h_pore_nm": "h_pore",
    "h_bath_nm": "h_bath",
    "thickness_nm": "thickness",
}


def check_kind(kind: str) -> None:
    """Raise :class:`InputError` unless ``kind`` is a known geometry kind."""
    if kind not in GEOMETRY_PARAMETERS:
        raise InputError(f"unknown geometry kind {kind!r}; choose one of {list(GEOMETRY_KINDS)}")


def make_geometry(kind: str, params: Mapping[str, float], dim: int = 2) -> Any:
    """Build the :class:`meshes.channel.ChannelGeometry` of a kind with ``params`` (nm, deg).

    ``mesh_refinement`` (if given) divides both mesh sizes and the growth rate of the built
    geometry (uniform refinement of the graded mesh).

    Raises
    ------
    InputError
        For an unknown kind or parameter (the message lists the allowed ones), a missing required
        parameter, or a geometry the geometry classes reject.
    """
    check_kind(kind)
    if kind == MESH_FILE_KIND:
        raise InputError(f"a {kind!r} geometry is read from its file, not built from parameters")
    allowed = GEOMETRY_PARAMETERS[kind]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(
            f"geometry kind {kind!r} does not take {unknown}; allowed parameters: {list(allowed)}"
        )
    p = {k: float(v) for k, v in params.items()}
    factor = p.pop("mesh_refinement", None)
    geometry = _build(kind, p, dim)
    if factor is None:
        return geometry
    if not factor > 0:
        raise InputError(f"mesh_refinement must be > 0, got {factor:g}")
    return geometry.refined(factor)  # sizes and growth rate, so refinement is uniform


def _build(kind: str, p: dict[str, float], dim: int) -> Any:
    from meshes import channel

    kw = {_RENAME[k]: v for k, v in p.items() if k in _RENAME}
    if kind == "default":
        if "radius_nm" in p:
            kw["radius"] = p["radius_nm"]
        return channel.default_channel(dim, **kw)
    if kind == "cylinder":
        return channel.cylindrical_pore(radius=p.get("radius_nm", 1.0), **kw)
    if kind == "cone":
        rb = _required(p, "radius_bottom_nm", kind)
        if ("radius_top_nm" in p) == ("cone_angle_deg" in p):
            raise InputError(
                "a cone needs exactly one of radius_top_nm and cone_angle_deg (half opening "
                "angle, degrees)"
            )
        thickness = kw.pop("thickness", 5.0)
        if "cone_angle_deg" in p:
            angle = p["cone_angle_deg"]
            if not -89.0 < angle < 89.0:
                raise InputError(f"cone_angle_deg must lie in (-89, 89) degrees, got {angle:g}")
            rt = rb + thickness * math.tan(math.radians(angle))
            if rt <= 0:
                raise InputError(
                    f"cone_angle_deg {angle:g} closes the pore (top radius {rt:.3g} nm <= 0) "
                    f"across {thickness:g} nm; use a smaller angle or a wider bottom"
                )
        else:
            rt = p["radius_top_nm"]
        return channel.conical_pore(rb, rt, thickness, **kw)
    rb = _required(p, "radius_bottom_nm", kind)
    rt = _required(p, "radius_top_nm", kind)
    rc = _required(p, "constriction_radius_nm", kind)
    thickness = kw.pop("thickness", 5.0)
    return channel.hourglass_pore(
        rb, rt, rc, thickness,
        constriction_z=p.get("constriction_z_nm", 0.0),
        constriction_length=p.get("constriction_length_nm", 0.0),
        **kw,
    )  # fmt: skip


def _required(p: Mapping[str, float], key: str, kind: str) -> float:
    if key not in p:
        raise InputError(f"geometry kind {kind!r} needs {key}")
    return p[key]
