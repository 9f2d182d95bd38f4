"""Fixed charges of an :class:`~pnp.problems.electrostatics.Electrostatics` description as scaled
UFL terms.

The one place where volume [e/nm^3], surface [C/m^2] and smoothed point charges [e] become
scaled source densities on the mesh; the PB and PNP solvers both build their fixed-charge
source (and the PB energy) from :func:`fixed_charge_terms`, which also warns
(:class:`PointChargeResolutionWarning`) when a point charge is narrower than its mesh cells.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import dolfinx
import numpy as np
from mpi4py import MPI

from pnp.forms import poisson as forms
from pnp.forms.measures import Measures, point_charge_density
from pnp.problems.electrostatics import Electrostatics
from poreflux.units import Scales


class PointChargeResolutionWarning(UserWarning):
    """A smoothed point charge is narrower than the mesh cells around it.

    The P1 interpolant of a Gaussian narrower than the cells is sampled at a few nodes, so its
    centre of charge sits off the given position (total charge stays exact): a dipole error in
    the potential. Refine around the charges (``build_sphere(..., refine_at=positions,
    refine_size=width / 2)``: the cells around a point end up about 1.7 times
    ``refine_size``) or widen them.
    """


@dataclass(frozen=True)
class FixedChargeTerms:
    """Scaled fixed-charge densities with the measures they are integrated over.

    Attributes
    ----------
    volume
        ``(density, dx)`` pairs (scaled ``rho / (e N_A c0)``).
    surface
        ``(density, Surface)`` pairs (scaled ``sigma / (e N_A c0 L0)``).
    point_density
        The smoothed point-charge density [e/nm^3] (a P1 function), or ``None``.
    """

    volume: tuple[tuple[Any, Any], ...]
    surface: tuple[tuple[Any, Any], ...]
    point_density: Any | None

    @property
    def empty(self) -> bool:
        """True when the problem has no fixed charge."""
        return not (self.volume or self.surface)

    def source(self, v: Any, weight: Any) -> Any | None:
        """``int rho_f v w`` (scaled; ``None`` without fixed charge)."""
        return forms.fixed_charge_source(v, weight, self.volume, self.surface)

    def energy(self, psi: Any, weight: Any) -> Any | None:
        """Scaled fixed-charge energy ``1/2 int rho_f psi w`` (``None`` without fixed charge)."""
        return forms.energy_density_form(psi, weight, self.volume, self.surface)


def fixed_charge_terms(
    cmesh: Any,
    measures: Measures,
    electrostatics: Electrostatics,
    scales: Scales,
    factor: Any = 1.0,
) -> FixedChargeTerms:
    """Scaled fixed-charge terms of ``electrostatics`` on ``cmesh``.

    Parameters
    ----------
    cmesh
        The mesh record (regions and boundaries by name).
    measures
        :func:`pnp.forms.measures.build_measures` of ``cmesh``.
    electrostatics
        The problem's charges.
    scales
        The solver's non-dimensional scales.
    factor
        Multiplies every density (e.g. a ``dolfinx.fem.Constant`` for continuation in the
        fixed charge).
    """
    msh = cmesh.mesh
    volume = []
    for vc in electrostatics.volume_charges:
        density = dolfinx.fem.Constant(msh, forms.scaled_volume_charge(scales, vc.density))
        volume.append((factor * density, measures.region(vc.region)))
    surface = []
    for sc in electrostatics.surface_charges:
        density = dolfinx.fem.Constant(msh, forms.scaled_surface_charge(scales, sc.density))
        surface.append((factor * density, measures.surface(sc.boundary)))
    point_density = None
    if electrostatics.point_charges is not None:
        warn_unresolved_charges(cmesh, electrostatics.point_charges)
        point_density = point_charge_density(cmesh, measures, electrostatics.point_charges)
        to_scaled = forms.scaled_volume_charge(scales, 1.0)
        volume.append((factor * to_scaled * point_density, measures.dx))
    return FixedChargeTerms(tuple(volume), tuple(surface), point_density)


def local_cell_size(cmesh: Any, positions: np.ndarray) -> np.ndarray:
    """Size [nm] of the cells containing each position (NaN outside the mesh).

    The size of a simplex is the edge of the regular simplex of the same volume (area in 2D),
    ``(6 sqrt2 V)^(1/3)`` for a tetrahedron and ``(4 A / sqrt3)^(1/2)`` for a triangle: the
    mesh size a generator such as gmsh aims at; a position on a vertex or an edge averages over
    the cells that contain it. ``positions`` are ``(n, 3)`` in nm; on an axisymmetric mesh the
    charge at ``(0, 0, z)`` is looked up at ``(r, z) = (0, z)``. Collective.
    """
    msh = cmesh.mesh
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    if cmesh.axisymmetric:
        pts = np.column_stack([np.hypot(pos[:, 0], pos[:, 1]), pos[:, 2], np.zeros(len(pos))])
    else:
        pts = np.zeros((len(pos), 3))
        pts[:, : msh.geometry.dim] = pos[:, : msh.geometry.dim]
    tdim = msh.topology.dim
    tree = dolfinx.geometry.bb_tree(msh, tdim)
    hits = dolfinx.geometry.compute_colliding_cells(
        msh, dolfinx.geometry.compute_collisions_points(tree, pts), pts
    )
    local = np.full(len(pts), -1.0)
    for k in range(len(pts)):
        cells = np.asarray(hits.links(k), dtype=np.int64)
        if cells.size:
            local[k] = float(np.mean(_simplex_size(msh, cells)))
    msh.comm.Allreduce(MPI.IN_PLACE, local, op=MPI.MAX)  # element-wise over the ranks
    return np.where(local < 0, np.nan, local)


def _simplex_size(msh: Any, cells: np.ndarray) -> np.ndarray:
    """Edge of the regular simplex with the volume of each (affine) cell [nm]."""
    tdim = msh.topology.dim
    x = msh.geometry.x[msh.geometry.dofmaps[0][cells][:, : tdim + 1]][:, :, :tdim]
    edges = x[:, 1:, :] - x[:, :1, :]
    measure = np.abs(np.linalg.det(edges)) / (2.0 if tdim == 2 else 6.0)
    if tdim == 2:
        return np.sqrt(4.0 * measure / np.sqrt(3.0))
    if tdim == 3:
        return np.cbrt(6.0 * np.sqrt(2.0) * measure)
    return measure


def warn_unresolved_charges(cmesh: Any, point_charges: Any) -> np.ndarray:
    """Warn once per problem about point charges narrower than their cells; return the sizes.

    A :class:`PointChargeResolutionWarning` names the first unresolved charges (index, width,
    local cell size) when ``width < h``, ``h`` from :func:`local_cell_size`.
    """
    size = local_cell_size(cmesh, point_charges.positions)
    width = float(point_charges.width)
    bad = np.flatnonzero(size > width)
    if bad.size:
        shown = ", ".join(f"charge {k} (local cell size {size[k]:.3g} nm)" for k in bad[:5])
        more = f" and {bad.size - 5} more" if bad.size > 5 else ""
        warnings.warn(
            PointChargeResolutionWarning(
                f"point-charge width {width:.3g} nm is below the local cell size at {shown}"
                f"{more}: the smoothed charge sits off its position; refine the mesh there "
                f"(e.g. build_sphere(refine_at=positions, refine_size={width / 2:.3g})) or widen it"
            ),
            stacklevel=3,
        )
    return size
