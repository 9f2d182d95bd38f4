"""poreflux channel geometries: parametric gmsh builders with named regions and boundaries."""

from __future__ import annotations

from pnp import backend as _backend  # noqa: F401  (must precede any dolfinx import)
