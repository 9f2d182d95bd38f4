"""The solved fields the solution-level diagnostics read (:class:`SolutionFields`).

Its own module so that :mod:`pnp.diagnostics.adapters` (which builds it from PB/PNP solutions) and
:mod:`pnp.diagnostics.api` (which reads it) depend on it, not on each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pnp.diagnostics.inputs import DiagnosticInputs
from poreflux.species import Species

__all__ = ["SolutionFields"]


@dataclass(frozen=True, eq=False)
class SolutionFields:
    """Solved fields on a DOLFINx mesh, plus the problem inputs, for solution-level diagnostics.

    Parameters
    ----------
    inputs
        The problem-level :class:`DiagnosticInputs` (electrolyte, temperature, profile, ...).
    mesh, cell_tags, regions
        ``dolfinx.mesh.Mesh`` [nm], its cell ``MeshTags`` and the map region name -> tag.
    concentrations
        Species (or name) -> ``dolfinx.fem.Function`` of the concentration on ``mesh``.
    permittivity
        DG0 ``Function`` of eps_r or a map region -> eps_r.
    axisymmetric
        True for a 2D (r, z) mesh of a body of revolution.
    concentration_scale_mM
        Factor from the functions' values to mM.
    ion_regions
        Regions where ions live (cells elsewhere get zero concentration); default all.
    """

    inputs: DiagnosticInputs
    mesh: Any
    cell_tags: Any
    regions: Mapping[str, int]
    concentrations: Mapping[str | Species, Any]
    permittivity: Any
    axisymmetric: bool = False
    concentration_scale_mM: float = 1.0
    ion_regions: tuple[str, ...] | None = None
