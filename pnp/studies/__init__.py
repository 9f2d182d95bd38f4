"""Parameter studies: grids of conditions and geometries, resumable runs, tables and plots.

Python:

>>> from pnp.studies import ChannelPNPModel, ParameterGrid, run_study
>>> model = ChannelPNPModel("cylinder", {"radius_nm": 1.0, "h_pore_nm": 0.1}, salt="KCl")
>>> grid = ParameterGrid({"concentration_mM": [100, 1000], "voltage_mV": [-50, 0, 50]})
>>> result = run_study(model, grid, "iv-study")                          # doctest: +SKIP
>>> print(result.table.format(["concentration_mM", "voltage_mV", "current_pA"]))  # doctest: +SKIP

From a TOML file (:mod:`pnp.studies.config` has the schema): :func:`load_study` + :func:`run`,
or ``poreflux run study.toml``.

Modules: :mod:`~pnp.studies.grid` (axes and points), :mod:`~pnp.studies.geometry` (geometry
parameters -> ChannelGeometry), :mod:`~pnp.studies.model` (the solver protocol),
:mod:`~pnp.studies.channel` (the steady-PNP binding), :mod:`~pnp.studies.runner` (order, warm
starts, resume, MPI), :mod:`~pnp.studies.store` (atomic output folder), :mod:`~pnp.studies.table`
(CSV table), :mod:`~pnp.studies.refinement`, :mod:`~pnp.studies.analysis`,
:mod:`~pnp.studies.figures`, :mod:`~pnp.studies.study`, :mod:`~pnp.studies.config` (TOML files),
:mod:`~pnp.studies.checks` (the parameter checks), :mod:`~pnp.studies.meshfile` (user ``.msh``
geometries), :mod:`~pnp.studies.lock` (one run per folder), :mod:`~pnp.studies.report` (the
printed report, analyses and figures of a table), :mod:`~pnp.studies.show` (``poreflux show``),
:mod:`~pnp.studies.fields` (field files of a point: ParaView and HDF5).
"""

from __future__ import annotations

import importlib
from typing import Any

from pnp.studies.grid import GEOMETRY_AXES, ParameterGrid, StudyPoint
from pnp.studies.model import PointResult, StudyModel
from pnp.studies.store import StudyMismatchError, StudyStore
from pnp.studies.table import StudyTable

# name -> module, imported on first use (they load DOLFINx / matplotlib)
_LAZY = {
    "ChannelPNPModel": "pnp.studies.channel",
    "MeshConvergence": "pnp.studies.refinement",
    "Study": "pnp.studies.study",
    "StudyOutcome": "pnp.studies.study",
    "StudyResult": "pnp.studies.runner",
    "load_study": "pnp.studies.config",
    "mesh_convergence": "pnp.studies.refinement",
    "parse_study": "pnp.studies.config",
    "rectification_table": "pnp.studies.analysis",
    "run": "pnp.studies.study",
    "run_study": "pnp.studies.runner",
}

__all__ = [
    "GEOMETRY_AXES",
    "ParameterGrid",
    "PointResult",
    "StudyMismatchError",
    "StudyModel",
    "StudyPoint",
    "StudyStore",
    "StudyTable",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pnp.studies' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
