"""Fixed charges of an :class:`~pnp.problems.electrostatics.Electrostatics` description as scaled
UFL terms.

The one place where volume [e/nm^3], surface [C/m^2] and smoothed point charges [e] become
scaled source densities on the mesh; the PB and PNP solvers both build their fixed-charge
source (and the PB energy) from :func:`fixed_charge_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dolfinx

from pnp.forms import poisson as forms
from pnp.forms.measures import Measures, point_charge_density
from pnp.problems.electrostatics import Electrostatics
from poreflux.units import Scales


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
        point_density = point_charge_density(cmesh, measures, electrostatics.point_charges)
        to_scaled = forms.scaled_volume_charge(scales, 1.0)
        volume.append((factor * to_scaled * point_density, measures.dx))
    return FixedChargeTerms(tuple(volume), tuple(surface), point_density)
