"""Physical-group names shared by the geometry builders, user ``.msh`` files and the solvers.

A user-made ``.msh`` works with poreflux when its physical groups use these names.
"""

from __future__ import annotations

# --- regions (cells) ---------------------------------------------------------------------------
BATH = "bath"  #: bath (reservoir) water, both sides
PORE = "pore"  #: water inside the pore
MEMBRANE = "membrane"  #: low-permittivity membrane slab
PROTEIN = "protein"  #: protein / wall lining of the pore (optional)
SOLUTE = "solute"  #: interior of a spherical solute (ion or protein proxy)
SOLVENT = "solvent"  #: water around a spherical solute

#: Regions where mobile ions live unless a mesh says otherwise.
WATER_REGIONS = (BATH, PORE, SOLVENT)

# --- boundaries (facets) -----------------------------------------------------------------------
TOP = "top"  #: far end of the upper bath (z = z_max)
BOTTOM = "bottom"  #: far end of the lower bath (z = z_min)
AXIS = "axis"  #: symmetry axis r = 0 (2D axisymmetric only)
OUTER = "outer"  #: outer side wall of the baths, or outer boundary of a solvent domain
MEMBRANE_WALL = "membrane_wall"  #: membrane-water interface (pore wall and membrane faces)
PROTEIN_WALL = "protein_wall"  #: protein-water interface
MEMBRANE_PROTEIN = "membrane_protein"  #: membrane-protein interface
SOLUTE_SURFACE = "solute_surface"  #: solute-solvent interface (sphere surface)
MEMBRANE_EDGE = "membrane_edge"  #: membrane rim cut by the outer cylinder r = R_bath (channels)
PORE_MOUTH_TOP = "pore_mouth_top"  #: bath-pore cross-section at z = +L/2 (interior facets)
PORE_MOUTH_BOTTOM = "pore_mouth_bottom"  #: bath-pore cross-section at z = -L/2 (interior facets)

# --- validation meshes (meshes.boxes) ----------------------------------------------------------
DOMAIN = "domain"  #: the single region of a unit square/cube or axisymmetric rectangle
BOUNDARY = "boundary"  #: the whole exterior boundary (minus ``axis`` in axisymmetric meshes)
WALL = "wall"  #: charged planar wall at x = 0 (Gouy-Chapman)
FAR = "far"  #: far end of a wall problem (x = L, bulk)
SIDES = "sides"  #: lateral faces of a strip/box wall problem or slab (symmetry, Neumann)
LAYER_1 = "layer_1"  #: first dielectric layer of a slab (0 <= x <= L1)
LAYER_2 = "layer_2"  #: second dielectric layer of a slab (L1 <= x <= L1 + L2)
INTERFACE = "interface"  #: planar interface between the two layers of a slab (interior facets)
LEFT = "left"  #: x = 0 end of a slab
RIGHT = "right"  #: x = L1 + L2 end of a slab
