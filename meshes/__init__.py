"""poreflux channel geometries: parametric gmsh builders with named regions and boundaries.

Importing :mod:`meshes` prepares the DOLFINx bindings and, where DOLFINx is installed, imports it
(:func:`meshes.backend.load_dolfinx`: with the garbage collector paused, then frozen); the
builders load on first use, and gmsh only when a mesh is not in the cache.

>>> from meshes import build_channel, default_channel      # doctest: +SKIP
>>> cm = build_channel(default_channel(), dim=2)            # doctest: +SKIP
>>> cm.region("pore"), cm.boundary("top")                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any

from meshes import backend as _backend  # (must precede any dolfinx import)

if _backend.dolfinx_available():
    # a broken install is reported by the builders (require_dolfinx) when they are used
    with contextlib.suppress(ImportError):
        _backend.load_dolfinx()

_LAZY: dict[str, str] = {
    "ChannelMesh": "meshes.record",
    "PoreProfile": "meshes.profile",
    "ChannelGeometry": "meshes.channel",
    "build_channel": "meshes.channel",
    "conical_pore": "meshes.channel",
    "cylindrical_pore": "meshes.channel",
    "default_channel": "meshes.channel",
    "hourglass_pore": "meshes.channel",
    "SphereGeometry": "meshes.sphere",
    "build_sphere": "meshes.sphere",
    "axisymmetric_rectangle": "meshes.boxes",
    "slab_mesh": "meshes.boxes",
    "unit_box": "meshes.boxes",
    "wall_mesh": "meshes.boxes",
    "mesh_radius": "meshes.radius",
    "pore_radius": "meshes.radius",
    "profile_radius": "meshes.radius",
    "load_msh": "meshes.io",
    "read_xdmf": "meshes.io",
    "write_msh": "meshes.io",
    "write_xdmf": "meshes.io",
    "MeshQuality": "meshes.quality",
    "refine_uniformly": "meshes.refine",
    "mesh_quality": "meshes.quality",
}

__all__ = ["names", *sorted(_LAZY)]

#: modules that need neither gmsh nor DOLFINx
_PURE = frozenset({"meshes.profile", "meshes.record"})


def __getattr__(name: str) -> Any:
    if name == "names":
        return importlib.import_module("meshes.names")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'meshes' has no attribute {name!r}")
    if module not in _PURE:
        _backend.require_dolfinx()
    return getattr(importlib.import_module(module), name)
