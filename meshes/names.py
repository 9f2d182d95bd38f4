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
