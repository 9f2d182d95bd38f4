"""The typed mesh record every geometry builder returns and every solver consumes.

Conventions
-----------
- Lengths are in nm.
- 2D axisymmetric meshes live in the (r, z) half-plane: ``x[0] = r >= 0``, ``x[1] = z``; the
  symmetry axis is ``r = 0``. Integrals carry the weight ``2 pi r`` (the forms add it).
- 3D meshes have the pore axis along ``z`` (``x[2]``) through ``x = y = 0``.
- Regions (cells) and boundaries (facets) are looked up by *name* (see :mod:`meshes.names`),
  never by bare numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poreflux.errors import MeshTagError


@dataclass(frozen=True)
class ChannelMesh:
    """A DOLFINx mesh with named cell regions and facet boundaries.

    Parameters
    ----------
    mesh
        ``dolfinx.mesh.Mesh`` (coordinates in nm).
    cell_tags, facet_tags
        ``dolfinx.mesh.MeshTags`` of the cells (regions) and facets (boundaries, interfaces).
    regions
        Region name -> cell tag value.
    boundaries
        Boundary name -> facet tag value.
    axisymmetric
        True for a 2D (r, z) mesh of a body of revolution.
    water_regions
        Names of the regions where mobile ions live (the electrolyte).
    geometry
        The parameter object the builder was called with (``None`` for a loaded file), so a study
        can rebuild the mesh with other sizes or dimensions.
    """

    mesh: Any
    cell_tags: Any
    facet_tags: Any
    regions: dict[str, int]
    boundaries: dict[str, int]
    axisymmetric: bool
    water_regions: tuple[str, ...] = ()
    geometry: Any = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def gdim(self) -> int:
        """Geometric dimension (2 for axisymmetric meshes, 3 otherwise)."""
        return self.mesh.geometry.dim

    @property
    def tdim(self) -> int:
        """Topological dimension of the cells."""
        return self.mesh.topology.dim

    @property
    def comm(self) -> Any:
        """The mesh's MPI communicator."""
        return self.mesh.comm

    def region(self, name: str) -> int:
        """Cell tag of a region; raises :class:`MeshTagError` naming the known regions."""
        try:
            return self.regions[name]
        except KeyError:
            raise MeshTagError(
                f"mesh has no region {name!r}; its regions are {sorted(self.regions)}. "
                f"Tag it as a physical group of dimension {self.tdim} with that name."
            ) from None

    def boundary(self, name: str) -> int:
        """Facet tag of a boundary; raises :class:`MeshTagError` naming the known boundaries."""
        try:
            return self.boundaries[name]
        except KeyError:
            raise MeshTagError(
                f"mesh has no boundary {name!r}; its boundaries are {sorted(self.boundaries)}. "
                f"Tag it as a physical group of dimension {self.tdim - 1} with that name."
            ) from None

    def has_region(self, name: str) -> bool:
        """True when the mesh has a region with this name."""
        return name in self.regions

    def has_boundary(self, name: str) -> bool:
        """True when the mesh has a boundary with this name."""
        return name in self.boundaries

    def boundary_centroid(self, name: str) -> Any:
        """Mean of the midpoints of the facets of boundary ``name`` (a point; same on all ranks)."""
        import dolfinx
        from mpi4py import MPI

        msh = self.mesh
        tdim = msh.topology.dim
        facets = self.facet_tags.find(self.boundary(name))
        facets = facets[facets < msh.topology.index_map(tdim - 1).size_local]  # owned only
        mid = dolfinx.mesh.compute_midpoints(msh, tdim - 1, facets)
        total = self.comm.allreduce(mid.sum(axis=0), op=MPI.SUM)
        count = self.comm.allreduce(len(facets), op=MPI.SUM)
        return total / max(count, 1)
