"""A complete study description (model, grid, outputs) and :func:`run`, which runs it and writes
its table, figures and (for a convergence study) the convergence analysis."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpi4py import MPI

from pnp.studies.grid import ParameterGrid
from pnp.studies.lock import StudyLock
from pnp.studies.refinement import REFINEMENT, MeshConvergence
from pnp.studies.report import Analyses, format_report, write_analyses
from pnp.studies.runner import FIELD_FORMATS, StudyResult, run_study
from pnp.studies.store import check_writable
from pnp.studies.table import StudyTable
from poreflux.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["Study", "StudyOutcome", "format_outcome", "run"]


@dataclass(frozen=True)
class Study:
    """Everything a study run needs (usually read from TOML by :func:`pnp.studies.load_study`).

    Making one checks every value of the model and the grid once (``model.check(grid)``); the
    run does not check them again.

    Parameters
    ----------
    name
        Study name (part of the definition hash).
    model
        The solver binding, e.g. :class:`pnp.studies.channel.ChannelPNPModel`.
    grid
        The parameter grid.
    output
        Default output folder.
    fields
        ``"none"``, ``"vtx"`` or ``"xdmf"``: fields per solved point.
    profiles
        Axial profiles per solved point (CSV + PNG).
    plots
        Draw the figures at the end.
    distribute
        Deal independent points out to the MPI ranks (see :func:`pnp.studies.run_study`).
    convergence_quantities
        Columns analysed along the ``mesh_refinement`` axis (a convergence study when that axis
        exists).
    description
        Free text.
    source
        The TOML file the study came from, if any.
    """

    name: str
    model: Any
    grid: ParameterGrid
    output: Path
    fields: str = "none"
    profiles: bool = False
    plots: bool = True
    distribute: bool = False
    convergence_quantities: tuple[str, ...] = ("current_pA", "conductance_pS")
    description: str = ""
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.fields not in FIELD_FORMATS:
            raise InputError(f"fields must be one of {FIELD_FORMATS}, got {self.fields!r}")
        object.__setattr__(self, "output", Path(self.output))
        if self.is_convergence and len(self.grid.values(REFINEMENT)) < 3:
            raise InputError(
                f"a convergence study needs >= 3 values of {REFINEMENT} (Richardson extrapolation "
                "with an estimated order)"
            )
        self.model.check(self.grid)  # the one check of every value (they enter here)

    @property
    def is_convergence(self) -> bool:
        """True when the grid has a ``mesh_refinement`` axis."""
        return REFINEMENT in self.grid.names

    def check(self, out: str | Path | None = None) -> Path:
        """Check that the output folder can be written (the model and grid were checked when
        the study was made); returns the folder."""
        folder = Path(out) if out is not None else self.output
        check_writable(folder)
        return folder


@dataclass(frozen=True)
class StudyOutcome:
    """What :func:`run` produced."""

    result: StudyResult
    figures: tuple[Path, ...] = ()
    convergence: tuple[MeshConvergence, ...] = ()
    rectification: StudyTable | None = None

    @property
    def table(self) -> StudyTable:
        """The study table."""
        return self.result.table


def run(
    study: Study,
    out: str | Path | None = None,
    *,
    distribute: bool | None = None,
    comm: MPI.Comm = MPI.COMM_WORLD,
    progress: bool = True,
    retry_failed: bool = False,
) -> StudyOutcome:
    """Run a study (resuming a previous run in the same folder) and write its outputs.

    The output folder is checked and locked first (:meth:`Study.check`, :mod:`pnp.studies.lock`,
    on rank 0, errors raised on every rank; the values were checked when the study was made);
    then :func:`pnp.studies.run_study` solves the unfinished points; rank 0 writes the figures to
    ``plots/``, ``rectification.csv`` when voltages are swept in both signs and, for a
    convergence study, ``convergence.csv`` and ``plots/convergence.png``.
    """
    folder = Path(out) if out is not None else study.output
    err = None
    if comm.rank == 0:
        try:
            study.check(folder)
            StudyLock(folder).acquire()  # held until the figures are written
        except InputError as exc:
            err = exc
    err = comm.bcast(err, root=0)
    if err is not None:
        raise err
    try:
        return _run_locked(study, folder, distribute, comm, progress, retry_failed)
    finally:
        if comm.rank == 0:
            StudyLock(folder).release()


def _run_locked(
    study: Study, folder: Path, distribute: bool | None, comm: MPI.Comm, progress: bool,
    retry_failed: bool,
) -> StudyOutcome:  # fmt: skip
    """:func:`run` once rank 0 holds the folder's lock."""
    result = run_study(
        study.model,
        study.grid,
        folder,
        comm=comm,
        distribute=study.distribute if distribute is None else distribute,
        fields=study.fields,
        profiles=study.profiles,
        progress=progress,
        retry_failed=retry_failed,
        name=study.name,
        checked=True,
    )
    analyses = Analyses()
    if comm.rank == 0:
        analyses = write_analyses(
            result.table, study.grid.names, folder, name=study.name,
            quantities=study.convergence_quantities, plots=study.plots,
            membrane_of=getattr(study.model, "membrane_span", None),
        )  # fmt: skip
    analyses = comm.bcast(analyses, root=0)
    return StudyOutcome(result, analyses.figures, analyses.convergence, analyses.rectification)


def format_outcome(study: Study, outcome: StudyOutcome) -> str:
    """The text ``poreflux run`` prints (:func:`pnp.studies.report.format_report`): the table
    within 100 columns, diagnostics, failed points, rectification ratios, convergence orders and
    figures."""
    res = outcome.result
    analyses = Analyses(outcome.figures, outcome.convergence, outcome.rectification)
    return format_report(study.name, study.grid.names, res.table, res.summary(), res.failed,
                         analyses, res.path / "table.csv")  # fmt: skip
