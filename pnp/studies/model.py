"""What the study engine needs from a solver: the :class:`StudyModel` protocol.

The engine (:mod:`pnp.studies.runner`) knows nothing about PNP. A model binds a solver to the
grid: it validates the grid up front, builds a mesh for a geometry point, builds a solver for a
group of points that can share one (same mesh and compiled forms), and solves one point, warm-
started from a neighbour's state when the engine has one. :class:`pnp.studies.channel.
ChannelPNPModel` is the steady-PNP binding; tests bind cheap fake solvers the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pnp.studies.grid import ParameterGrid, StudyPoint

__all__ = ["PointResult", "StudyModel"]


@dataclass(frozen=True)
class PointResult:
    """The outcome of one solved point.

    Attributes
    ----------
    results
        Observable name (with its unit, e.g. ``current_pA``) -> number or short string: the
        point's table columns.
    state
        Whatever the model needs to warm-start a neighbouring point and to write fields or
        profiles (e.g. a :class:`pnp.results.pnp_solution.PNPSolution`); not stored on disk.
    """

    results: Mapping[str, Any]
    state: Any = field(default=None, repr=False)


@runtime_checkable
class StudyModel(Protocol):
    """A solver bound to a parameter grid (see the module docstring)."""

    def definition(self) -> dict[str, Any]:
        """Plain JSON data that fixes every result (hashed into the study manifest)."""
        ...

    def check(self, grid: ParameterGrid) -> None:
        """Validate every point of ``grid`` without solving; raise InputError naming the key."""
        ...

    def geometry_key(self, point: StudyPoint) -> Hashable:
        """Points with equal keys share one mesh."""
        ...

    def solver_key(self, point: StudyPoint) -> Hashable:
        """Points with equal keys share one solver (and so warm starts); implies equal mesh."""
        ...

    def build_mesh(self, point: StudyPoint, comm: Any) -> Any:
        """The mesh of ``point``'s geometry on ``comm`` (collective)."""
        ...

    def make_solver(self, mesh: Any, point: StudyPoint) -> Any:
        """A solver on ``mesh`` for the solver group of ``point``."""
        ...

    def solve(self, solver: Any, point: StudyPoint, warm: Any | None) -> PointResult:
        """Solve one point; ``warm`` is a neighbour's :attr:`PointResult.state` or None (cold)."""
        ...

    def write_fields(self, state: Any, path: Path) -> Path:
        """Write the fields of a solved point for ParaView (collective); returns the path."""
        ...

    def axial_profile(self, state: Any) -> dict[str, Any] | None:
        """Cross-section-averaged profiles along the axis, named with their units (``z_nm``,
        ``potential_mV``, ``<species>_mM``: the CSV header), identical on every rank, or None
        when the model has none (collective)."""
        ...
