"""A complete study description (model, grid, outputs) and :func:`run`, which runs it and writes
its table, figures and (for a convergence study) the convergence analysis."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpi4py import MPI

from pnp.studies.analysis import rectification_table
from pnp.studies.grid import ParameterGrid
from pnp.studies.lock import StudyLock
from pnp.studies.refinement import (
    REFINEMENT,
    MeshConvergence,
    convergence_table,
    mesh_convergence,
    plot_mesh_convergence,
)
from pnp.studies.runner import FIELD_FORMATS, StudyResult, run_study
from pnp.studies.store import StudyStore, atomic_write_text, check_writable
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
    rect = rectification_table(result.table, study.grid.names)
    figures: list[Path] = []
    conv: list[MeshConvergence] = []
    if comm.rank == 0:
        figures, conv = _write_analyses(study, result, folder, rect)
    conv = comm.bcast(conv, root=0)
    figures = comm.bcast(figures, root=0)
    return StudyOutcome(result, tuple(figures), tuple(conv), rect)


def _write_analyses(
    study: Study, result: StudyResult, folder: Path, rect: StudyTable
) -> tuple[list[Path], list[MeshConvergence]]:
    """Rank 0: rectification.csv, the convergence analysis and the figures of a finished run."""
    store = StudyStore(folder)
    figures: list[Path] = []
    conv: list[MeshConvergence] = []
    if len(rect):
        atomic_write_text(folder / "rectification.csv", rect.to_csv_text())
    if study.is_convergence:
        try:
            conv = mesh_convergence(result.table, study.grid.names, study.convergence_quantities)
        except InputError as exc:
            log.warning("no convergence analysis: %s", exc)
        if conv:
            atomic_write_text(folder / "convergence.csv", convergence_table(conv).to_csv_text())
    if study.plots:
        profiles = {
            r["id"]: store.profile_path(r["id"])
            for r in result.table.rows
            if store.profile_path(r["id"]).exists()
        }
        membrane = getattr(study.model, "membrane_span", None)
        figures = study_figures_safe(result.table, study, store, profiles, membrane)
        if conv:
            figures.append(plot_mesh_convergence(conv, store.plots_dir / "convergence.png"))
    return figures, conv


def study_figures_safe(
    table: StudyTable, study: Study, store: StudyStore, profiles: dict, membrane: Any
) -> list[Path]:
    """:func:`pnp.studies.figures.study_figures`; a plotting error is logged, not fatal."""
    from pnp.studies.figures import study_figures

    try:
        return study_figures(
            table, study.grid.names, store.plots_dir, profiles=profiles,
            membrane_of=membrane, title=study.name,
        )  # fmt: skip
    except Exception as exc:  # (the results are on disk; a figure is not worth a crash)
        log.warning("could not draw the figures: %s", exc)
        return []


def format_outcome(study: Study, outcome: StudyOutcome) -> str:
    """The text ``poreflux run`` prints: table (with the diagnostics' worst severities), failed
    points, rectification ratios, convergence orders and figures."""
    table = outcome.table
    observables = ["current_pA", "conductance_pS"]
    observables += [
        c
        for c in table.columns
        if c.startswith("current_")
        and c.endswith("_pA")
        and c not in ("current_pA", "current_top_pA", "current_bottom_pA")
    ]
    observables += ["newton_iterations", "warm_start_from", "status"]
    diag = [c for c in table.columns if c.startswith("diag_")]
    cols = [*study.grid.names, *observables, *diag]
    res = outcome.result
    lines = [f"study {study.name!r}: {res.summary()}", "", table.format(cols)]
    if "diag_worst" in table.columns:
        counts: dict[str, int] = {}
        for label in table.column("diag_worst"):
            if label:
                counts[label] = counts.get(label, 0) + 1
        summary = ", ".join(f"{k} at {n} point(s)" for k, n in sorted(counts.items()))
        flagged = [
            c.removeprefix("diag_")
            for c in diag
            if c != "diag_worst" and {"warning", "breakdown"} & set(table.column(c))
        ]
        lines += [
            "",
            f"diagnostics (worst severity per point): {summary}"
            + (f"; flagged checks: {', '.join(flagged)}" if flagged else ""),
            "  (see pnp.diagnostics.diagnose(solution, cmesh=...) for the numbers and advice)",
        ]
    if res.failed:
        lines += ["", f"{len(res.failed)} failed point(s):"]
        lines += [f"  {pid} ({label}): {err.splitlines()[0]}" for pid, label, err in res.failed]
    if outcome.rectification is not None and len(outcome.rectification):
        lines += ["", "rectification I(+V)/|I(-V)|:", outcome.rectification.format()]
    for conv in outcome.convergence:
        ext = "n/a" if conv.extrapolated is None else f"{conv.extrapolated:.6g}"
        lines.append(
            f"convergence of {conv.quantity} ({conv.label}): fitted order {conv.order:.2f}, "
            f"Richardson value {ext} (order {conv.extrapolation_order:.2f}) from h_pore = "
            + ", ".join(f"{h:.3g}" for h in conv.h)
            + " nm"
        )
    if outcome.figures:
        lines += ["", "figures: " + ", ".join(str(p) for p in outcome.figures)]
    lines.append(f"table: {res.path / 'table.csv'}")
    return "\n".join(lines)
