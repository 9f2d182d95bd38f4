"""``poreflux show DIR``: the table and figures of a study folder, without solving anything.

Everything comes from the folder (:mod:`pnp.studies.store`): the manifest (name, axes, model
definition) and the point records. :func:`show_study` prints what ``poreflux run`` printed at the
end of the run and redraws ``plots/`` (and ``rectification.csv`` / ``convergence.csv``), e.g.
after a plot was deleted or the plotting code changed. No mesh is built and no equation is
solved. While a run holds the folder's lock (:mod:`pnp.studies.lock`), or when the folder is
read-only, the table so far is printed and nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pnp.studies.lock import StudyLock
from pnp.studies.refinement import REFINEMENT
from pnp.studies.report import Analyses, format_report, write_analyses
from pnp.studies.store import StudyStore
from pnp.studies.table import StudyTable
from poreflux.errors import InputError

__all__ = ["show_study"]


def _membrane_of(model: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Any] | None:
    """The membrane span of a table row, from a stored channel-model definition."""
    if model.get("model") != "channel_pnp" or "geometry_kind" not in model:
        return None
    from pnp.studies.channel import membrane_span_of

    kind, geometry, dim = model["geometry_kind"], model.get("geometry", {}), model.get("dim", 2)
    return lambda row: membrane_span_of(kind, geometry, dim, row)


def _quantities(store: StudyStore) -> tuple[str, ...]:
    """The quantities of an earlier convergence analysis (default: current and conductance)."""
    path = store.path / "convergence.csv"
    if path.exists():
        found = tuple(dict.fromkeys(StudyTable.from_csv(path).column("quantity")))
        if found:
            return found
    return ("current_pA", "conductance_pS")


def _failed(table: StudyTable, parameters: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [
        (r["id"], ", ".join(f"{k}={r[k]:g}" for k in parameters if k in r), str(r.get("error")))
        for r in table.rows
        if r.get("status") == "failed"
    ]


def show_study(folder: str | Path, *, plots: bool = True) -> tuple[str, int]:
    """The report of the study in ``folder``; redraws its figures unless ``plots`` is False.

    Returns
    -------
    text, failed
        What to print, and the number of failed points.

    Raises
    ------
    InputError
        ``folder`` is not a study folder (no readable manifest).
    """
    store = StudyStore(folder)
    if not store.manifest_path.exists():
        raise InputError(
            f"{folder} is not a study folder (no {store.manifest_path.name}); give the output "
            "folder of `poreflux run` or `poreflux demo`"
        )
    try:
        definition = store.manifest()["definition"]
        name, grid = str(definition["name"]), dict(definition["grid"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{store.manifest_path} is not a readable manifest ({exc})") from None
    parameters = tuple(grid)
    table = store.table(parameters)
    failed = _failed(table, parameters)
    total = math.prod(len(v) for v in grid.values())
    summary = (f"{len(table)} of {total} points in {store.path}: "
               f"{len(table) - len(failed)} finished, {len(failed)} failed")  # fmt: skip
    note = ""
    lock = StudyLock(store.path)
    try:
        lock.acquire()
    except InputError as exc:  # a run holds the folder (StudyLockedError), or it is read-only
        note = f"\n(figures not redrawn: {exc})"
        analyses = Analyses()
    else:
        try:
            analyses = write_analyses(
                table, parameters, store.path, name=name, plots=plots,
                quantities=_quantities(store) if REFINEMENT in parameters else (),
                membrane_of=_membrane_of(definition.get("model", {})),
            )  # fmt: skip
        finally:
            lock.release()
    text = format_report(name, parameters, table, summary, failed, analyses, store.table_path)
    return text + note, len(failed)
