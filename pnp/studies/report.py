"""What a finished study leaves besides its records: the analyses and figures it writes (rank 0)
and the text ``poreflux run`` / ``poreflux show`` print.

Both work from the table and the grid's axis names only (no model, no solver), so
:mod:`pnp.studies.show` can rebuild them from a study folder.

The printed table fits :data:`PRINT_WIDTH` columns: long column names are shortened (``I_pA``
for ``current_pA``, ``G_pS`` for ``conductance_pS``, ...; a legend says so), the diagnostics are
summarised in one column (``diag``, the worst severity) with the flagged checks listed below,
and columns that still do not fit are left out and named ("see table.csv"). Values that are
missing or not defined print as ``n/a``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pnp.studies.analysis import rectification_table
from pnp.studies.refinement import (
    REFINEMENT,
    MeshConvergence,
    convergence_table,
    mesh_convergence,
    plot_mesh_convergence,
)
from pnp.studies.store import StudyStore
from pnp.studies.table import StudyTable
from poreflux.errors import InputError
from poreflux.files import atomic_write_text

log = logging.getLogger(__name__)

__all__ = ["PRINT_WIDTH", "Analyses", "format_report", "printed_table", "write_analyses"]

#: Widest line of a printed table (a terminal of 100 columns).
PRINT_WIDTH = 100
_SHORT = {
    "current_pA": "I_pA",
    "conductance_pS": "G_pS",
    "newton_iterations": "newton",
    "warm_start_from": "warm_from",
    "diag_worst": "diag",
    "voltage_magnitude_mV": "|V|_mV",
    "current_plus_pA": "I(+V)_pA",
    "current_minus_pA": "I(-V)_pA",
    "rectification_ratio": "I(+V)/|I(-V)|",
}
_END_CURRENTS = ("current_pA", "current_top_pA", "current_bottom_pA")
LEGEND = "I = current, G = conductance, newton = Newton iterations (full names in table.csv)"


def short_name(column: str) -> str:
    """The printed header of a table column (``current_K+_pA`` -> ``I_K+_pA``)."""
    if column in _SHORT:
        return _SHORT[column]
    if column.startswith("current_") and column.endswith("_pA"):
        return "I_" + column.removeprefix("current_")
    return column


def printed_table(
    table: StudyTable, columns: Sequence[str], keep: int = 0, width: int = PRINT_WIDTH
) -> tuple[str, list[str]]:
    """``table.format`` of ``columns`` with short headers, within ``width`` characters.

    The first ``keep`` columns always stay; the others are dropped from the end until the text
    fits. Returns ``(text, dropped column names)``.
    """
    cols = [c for c in columns if c in table.columns]
    while True:
        short = StudyTable(
            tuple(short_name(c) for c in cols),
            tuple({short_name(c): r.get(c) for c in cols} for r in table.rows),
        )
        text = short.format()
        if max(map(len, text.splitlines()), default=0) <= width or len(cols) <= max(keep, 1):
            return text, [c for c in columns if c in table.columns and c not in cols]
        cols.pop()


def _species_currents(table: StudyTable) -> list[str]:
    return [c for c in table.columns if c.startswith("current_") and c.endswith("_pA")
            and c not in _END_CURRENTS]  # fmt: skip


def _diagnostics_lines(table: StudyTable) -> list[str]:
    """The diagnostics' worst severities per point and the flagged checks (below the table)."""
    if "diag_worst" not in table.columns:
        return []
    counts: dict[str, int] = {}
    for label in table.column("diag_worst"):
        if label:
            counts[label] = counts.get(label, 0) + 1
    summary = ", ".join(f"{k} at {n} point(s)" for k, n in sorted(counts.items()))
    checks = [c for c in table.columns if c.startswith("diag_") and c != "diag_worst"]
    flagged = [c.removeprefix("diag_") for c in checks
               if {"warning", "breakdown"} & set(table.column(c))]  # fmt: skip
    lines = [f"diagnostics (worst severity per point): {summary}"]
    if flagged:
        lines.append(f"  flagged checks: {', '.join(flagged)}")
    lines.append("  (see pnp.diagnostics.diagnose(solution, cmesh=...) for the numbers and advice)")
    return lines


@dataclass(frozen=True)
class Analyses:
    """What :func:`write_analyses` produced from a finished table."""

    figures: tuple[Path, ...] = ()
    convergence: tuple[MeshConvergence, ...] = ()
    rectification: StudyTable | None = None


def format_report(
    name: str, parameters: Sequence[str], table: StudyTable, summary: str,
    failed: Sequence[tuple[str, str, str]], analyses: Analyses, table_path: Path,
) -> str:  # fmt: skip
    """The text ``poreflux run`` and ``poreflux show`` print (see the module docstring)."""
    columns = [*parameters, "current_pA", "conductance_pS", *_species_currents(table),
               "status", "diag_worst", "newton_iterations", "warm_start_from"]  # fmt: skip
    text, dropped = printed_table(table, columns, keep=len(parameters))
    lines = [f"study {name!r}: {summary}", "", text, "", LEGEND]
    if dropped:
        lines.append(f"not shown here (see table.csv): {', '.join(dropped)}")
    lines += ["", *_diagnostics_lines(table)] if "diag_worst" in table.columns else []
    if failed:
        lines += ["", f"{len(failed)} failed point(s):"]
        lines += [f"  {pid} ({label}): {err.splitlines()[0]}" for pid, label, err in failed]
    rect = analyses.rectification
    if rect is not None and len(rect):
        lines += ["", "rectification I(+V)/|I(-V)|:", printed_table(rect, rect.columns)[0]]
    for conv in analyses.convergence:
        ext = "n/a" if conv.extrapolated is None else f"{conv.extrapolated:.6g}"
        lines.append(
            f"convergence of {conv.quantity} ({conv.label}): fitted order {conv.order:.2f}, "
            f"Richardson value {ext} (order {conv.extrapolation_order:.2f}) from h_pore = "
            + ", ".join(f"{h:.3g}" for h in conv.h)
            + " nm"
        )
    if analyses.figures:
        lines += ["", "figures: " + ", ".join(str(p) for p in analyses.figures)]
    lines.append(f"table: {table_path}")
    return "\n".join(lines)


def write_analyses(
    table: StudyTable,
    parameters: Sequence[str],
    folder: str | Path,
    *,
    name: str,
    quantities: Sequence[str] = ("current_pA", "conductance_pS"),
    plots: bool = True,
    membrane_of: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None = None,
) -> Analyses:
    """Rank 0: ``rectification.csv``, for a convergence study ``convergence.csv``, and the figures
    (``plots/``) of a finished table; a plotting error is logged, not fatal."""
    store = StudyStore(folder)
    rect = rectification_table(table, parameters)
    if len(rect):
        atomic_write_text(store.path / "rectification.csv", rect.to_csv_text())
    conv: list[MeshConvergence] = []
    if REFINEMENT in parameters:
        try:
            conv = mesh_convergence(table, parameters, quantities)
        except InputError as exc:
            log.warning("no convergence analysis: %s", exc)
        if conv:
            atomic_write_text(store.path / "convergence.csv", convergence_table(conv).to_csv_text())
    figures: list[Path] = []
    if plots:
        profiles = {r["id"]: store.profile_path(r["id"]) for r in table.rows
                    if store.profile_path(r["id"]).exists()}  # fmt: skip
        figures = _figures(table, parameters, store, profiles, membrane_of, name)
        if conv:
            figures.append(plot_mesh_convergence(conv, store.plots_dir / "convergence.png"))
    return Analyses(tuple(figures), tuple(conv), rect)


def _figures(
    table: StudyTable, parameters: Sequence[str], store: StudyStore, profiles: dict,
    membrane_of: Any, name: str,
) -> list[Path]:  # fmt: skip
    from pnp.studies.figures import study_figures

    try:
        return study_figures(table, parameters, store.plots_dir, profiles=profiles,
                             membrane_of=membrane_of, title=name)  # fmt: skip
    except Exception as exc:  # (the results are on disk; a figure is not worth a crash)
        log.warning("could not draw the figures: %s", exc)
        return []
