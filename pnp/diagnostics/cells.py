"""Cell data for the solution-level diagnostics: DOLFINx fields read into plain numpy arrays.

:func:`cell_data_from_dolfinx` reads a mesh, its cell tags, concentration functions (any
Lagrange/DG space on the mesh or on a sub-mesh of it; their cell-midpoint values are taken, which
for P1 on simplices is the exact cell average) and the permittivity (a DG0 function or a map
region -> eps_r) into a :class:`CellData` of this rank's owned cells. Everything after this step
(:mod:`pnp.diagnostics.fields`) is numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dolfinx import fem
from dolfinx import mesh as dmesh

from poreflux.errors import InputError, MeshTagError
from poreflux.species import Species, get_species

logger = logging.getLogger(__name__)

__all__ = ["UNTAGGED", "CellData", "any_rank", "cell_data_from_dolfinx"]

#: Name given to cells without a region tag.
UNTAGGED = "untagged"


@dataclass(frozen=True, eq=False)
class CellData:
    """Per-cell inputs of this rank's owned cells (plain numpy).

    Parameters
    ----------
    comm
        MPI communicator of the mesh.
    species
        Species, in the column order of ``concentrations``.
    concentrations
        ``(n_cells, n_species)`` local concentrations [mM].
    eps_r
        ``(n_cells,)`` local relative permittivity.
    midpoints
        ``(n_cells, 3)`` cell midpoints [nm].
    volumes
        ``(n_cells,)`` cell volumes [nm^3] (axisymmetric: ``2 pi r`` times the area).
    h
        ``(n_cells,)`` cell sizes [nm] (largest vertex distance).
    region
        ``(n_cells,)`` index into ``region_names``.
    region_names
        Region names (the last may be ``"untagged"``).
    axial_axis
        Coordinate index of the pore axis (1 for 2D axisymmetric (r, z), 2 in 3D).
    cells
        Local indices of the cells (to write fields back onto the mesh).
    """

    comm: Any
    species: tuple[Species, ...]
    concentrations: np.ndarray
    eps_r: np.ndarray
    midpoints: np.ndarray
    volumes: np.ndarray
    h: np.ndarray
    region: np.ndarray
    region_names: tuple[str, ...]
    axial_axis: int
    cells: np.ndarray

    def __post_init__(self) -> None:
        n = self.eps_r.shape[0]
        if self.concentrations.shape != (n, len(self.species)):
            raise InputError(
                f"concentrations have shape {self.concentrations.shape}, expected "
                f"({n}, {len(self.species)})"
            )
        # collective checks: every rank raises, or none does (no rank left in a collective call)
        bad_eps = self.eps_r[~(np.isfinite(self.eps_r) & (self.eps_r > 0))]
        gathered = self.comm.allgather(bad_eps[:1].tolist())
        first = [value for chunk in gathered for value in chunk]
        if first:
            raise InputError(
                f"relative permittivity must be > 0 in the permittivity field, got {first[0]!r} "
                "(water ~78.5, membrane/protein interior ~2-20)"
            )
        if any_rank(self.comm, bool(np.any(~np.isfinite(self.concentrations)))):
            raise InputError("concentration field has non-finite values (NaN/inf)")
        if np.any(self.concentrations < 0):
            # small negative values are a known artefact of P1 solutions near depleted walls
            logger.warning(
                "negative concentrations clipped to 0 (min %.3g mM)",
                float(self.concentrations.min()),
            )
            object.__setattr__(self, "concentrations", np.maximum(self.concentrations, 0.0))

    @property
    def axial(self) -> np.ndarray:
        """Axial coordinate z [nm] of each cell midpoint."""
        return self.midpoints[:, self.axial_axis]


def any_rank(comm: Any, flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any rank."""
    return any(comm.allgather(bool(flag)))


def _cell_volumes(mesh: Any, cells: np.ndarray) -> np.ndarray:
    x = mesh.geometry.x
    dofmap = mesh.geometry.dofmaps[0]
    tdim = mesh.topology.dim
    name = mesh.topology.cell_name()
    if name not in ("interval", "triangle", "tetrahedron"):
        raise InputError(f"cell volumes are implemented for simplices, not {name!r} cells")
    verts = x[dofmap[cells, : tdim + 1]][:, :, :]  # affine vertices first
    edges = verts[:, 1:, :] - verts[:, :1, :]
    if tdim == 1:
        return np.linalg.norm(edges[:, 0, :], axis=1)
    if tdim == 2:
        cross = np.cross(edges[:, 0, :], edges[:, 1, :])
        return 0.5 * np.linalg.norm(np.atleast_2d(cross).reshape(len(cells), -1), axis=1)
    return np.abs(np.linalg.det(edges)) / 6.0


def cell_data_from_dolfinx(
    mesh: Any,
    cell_tags: Any,
    regions: Mapping[str, int],
    concentrations: Mapping[str | Species, Any],
    permittivity: Any,
    *,
    axisymmetric: bool = False,
    concentration_scale_mM: float = 1.0,
    ion_regions: Sequence[str] | None = None,
) -> CellData:
    """Read DOLFINx fields into a :class:`CellData` of the owned cells.

    Parameters
    ----------
    mesh
        ``dolfinx.mesh.Mesh`` in nm (2D axisymmetric (r, z) or 3D with the axis along z).
    cell_tags
        ``MeshTags`` of the cells; ``regions`` maps region names to their tag values.
    regions
        Region name -> cell tag.
    concentrations
        Species (or library name) -> ``dolfinx.fem.Function`` of its concentration (in mM times
        ``1/concentration_scale_mM``), on ``mesh`` or on a sub-mesh of it (e.g. the water
        sub-mesh of the PNP solver; then ``ion_regions`` must name the sub-mesh's regions).
    permittivity
        A DG0 ``Function`` of eps_r, or a map region name -> eps_r (every tagged region).
    axisymmetric
        Weight cell volumes by ``2 pi r`` (2D meshes in the (r, z) half-plane).
    concentration_scale_mM
        Factor from the functions' values to mM (e.g. the solver's ``c0``).
    ion_regions
        Regions where ions live (e.g. ``("bath", "pore")``); cells elsewhere get zero
        concentration, so a P1 field that is non-zero on the nodes of a water-membrane interface
        does not put ions into membrane cells. Default: every region.
    """
    tdim = mesh.topology.dim
    n_owned = mesh.topology.index_map(tdim).size_local
    cells = np.arange(n_owned, dtype=np.int32)
    region, names = _cell_regions(mesh, cell_tags, regions)
    if ion_regions is not None:
        unknown = set(ion_regions) - set(names)
        if unknown:
            raise MeshTagError(f"ion_regions {sorted(unknown)} are not regions of the mesh {names}")
        keep = np.isin(region, [names.index(n) for n in ion_regions])
    else:
        keep = np.ones(n_owned, dtype=bool)
    dg0 = fem.functionspace(mesh, ("DG", 0))
    species = tuple(get_species(s) for s in concentrations)
    conc = _cell_concentrations(dg0, concentrations.values(), cells[keep]) * concentration_scale_mM
    conc[~keep] = 0.0
    eps = _cell_permittivity(dg0, permittivity, region, names)
    midpoints = dmesh.compute_midpoints(mesh, tdim, cells)
    volumes = _cell_volumes(mesh, cells)
    if axisymmetric:
        volumes = volumes * 2.0 * np.pi * np.abs(midpoints[:, 0])
    h = mesh.h(tdim, cells)
    axial_axis = 1 if mesh.geometry.dim == 2 else 2
    return CellData(
        mesh.comm,
        species,
        conc,
        eps,
        midpoints,
        volumes,
        h,
        region,
        tuple(names),
        axial_axis,
        cells,
    )


def _cell_regions(
    mesh: Any, cell_tags: Any, regions: Mapping[str, int]
) -> tuple[np.ndarray, list[str]]:
    """Region index of every owned cell, and the region names (``untagged`` added if needed)."""
    n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
    names = list(regions)
    tag_to_index = {int(regions[n]): k for k, n in enumerate(names)}
    region = np.full(n_owned, len(names), dtype=np.int64)
    tagged = cell_tags.indices < n_owned
    for idx, val in zip(cell_tags.indices[tagged], cell_tags.values[tagged], strict=True):
        region[idx] = tag_to_index.get(int(val), len(names))
    if any_rank(mesh.comm, bool(np.any(region == len(names)))):
        names.append(UNTAGGED)
    return region, names


def _cell_concentrations(dg0: Any, functions: Any, ion_cells: np.ndarray) -> np.ndarray:
    """Cell values (owned cells x species) of concentration functions, in their own unit."""
    mesh = dg0.mesh
    n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
    dofs = dg0.dofmap.list[:n_owned, 0]
    functions = list(functions)
    conc = np.zeros((n_owned, len(functions)))
    work = fem.Function(dg0)
    transfer: dict[int, Any] = {}
    for k, func in enumerate(functions):
        work.x.array[:] = 0.0
        if func.function_space.mesh is mesh:
            work.interpolate(func)
        else:
            # e.g. concentrations on a water sub-mesh: evaluate them at the parent's ion cells
            key = id(func.function_space)
            if key not in transfer:
                transfer[key] = fem.create_interpolation_data(dg0, func.function_space, ion_cells)
            work.interpolate_nonmatching(func, ion_cells, transfer[key])
        conc[:, k] = work.x.array[dofs]
    return conc


def _cell_permittivity(
    dg0: Any, permittivity: Any, region: np.ndarray, names: Sequence[str]
) -> np.ndarray:
    """eps_r of every owned cell from a DG0 function or a map region name -> eps_r."""
    n_owned = region.shape[0]
    if isinstance(permittivity, Mapping):
        missing = [n for n in names if n not in permittivity]
        if missing:  # names are the same on every rank: all raise together
            hint = " (cells without a region tag)" if UNTAGGED in missing else ""
            raise MeshTagError(
                f"no permittivity for region(s) {missing}{hint}; the map has {sorted(permittivity)}"
            )
        eps = np.empty(n_owned)
        for k, name in enumerate(names):
            eps[region == k] = float(permittivity[name])
        return eps
    work = fem.Function(dg0)
    work.interpolate(permittivity)
    return work.x.array[dg0.dofmap.list[:n_owned, 0]].copy()
