"""Mesh-convergence studies of observables (current, conductance) from a study table.

A convergence study is an ordinary study with a ``mesh_refinement`` axis (a factor dividing both
mesh sizes of the geometry, :meth:`meshes.channel.ChannelGeometry.refined`), so it resumes,
distributes and stores like any other. :func:`mesh_convergence` then takes, for every combination
of the other parameters, the quantity on the sequence of meshes and reports

- the Richardson-extrapolated value ``Q(h -> 0)`` and the order it implies (from the three finest
  meshes, :func:`pnp.results.refinement.richardson`);
- the fitted order: slope of ``log |Q_h - Q_extrapolated|`` against ``log h``
  (:func:`pnp.results.refinement.fitted_order`), with ``h`` the pore mesh size.

When the three finest values are not monotone (no Richardson order) the errors are taken against
the finest mesh instead and no extrapolated value is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pnp.results.refinement import fitted_order, richardson
from pnp.studies.table import StudyTable
from poreflux.errors import InputError

__all__ = [
    "REFINEMENT",
    "MeshConvergence",
    "convergence_table",
    "mesh_convergence",
    "plot_mesh_convergence",
]

REFINEMENT = "mesh_refinement"
H_COLUMN = "mesh_h_pore_nm"


@dataclass(frozen=True)
class MeshConvergence:
    """Convergence of one quantity for one combination of the other parameters.

    Attributes
    ----------
    label
        The other parameters, e.g. ``"voltage_mV=10"``.
    quantity
        Column name, e.g. ``"current_pA"``.
    h
        Pore mesh sizes [nm], coarse to fine.
    values
        The quantity on each mesh.
    extrapolated
        Richardson-extrapolated value (None when the values are not monotone).
    extrapolation_order
        The order implied by the three finest meshes (NaN when not monotone).
    errors
        ``|Q_h - Q_extrapolated|`` (or ``|Q_h - Q_finest|`` without extrapolation, finest left out).
    order
        Fitted order of ``errors`` against ``h``.
    num_dofs
        Unknowns per mesh.
    """

    label: str
    quantity: str
    h: np.ndarray
    values: np.ndarray
    extrapolated: float | None
    extrapolation_order: float
    errors: np.ndarray
    order: float
    num_dofs: np.ndarray

    @property
    def relative_errors(self) -> np.ndarray:
        """``errors`` over ``|extrapolated|`` (or the finest value)."""
        ref = self.extrapolated if self.extrapolated is not None else self.values[-1]
        return self.errors / max(abs(ref), 1e-300)


def mesh_convergence(
    table: StudyTable,
    parameters: Sequence[str],
    quantities: Sequence[str] = ("current_pA", "conductance_pS"),
    *,
    h_column: str = H_COLUMN,
) -> list[MeshConvergence]:
    """Convergence of ``quantities`` along the ``mesh_refinement`` axis of a study table.

    Parameters
    ----------
    table
        The study table (failed rows are ignored).
    parameters
        The grid's axis names (rows are grouped by all of them except ``mesh_refinement``).
    quantities
        Columns to analyse.
    h_column
        Column with the mesh size of each row.
    """
    if REFINEMENT not in parameters:
        raise InputError(f"a mesh-convergence study needs a {REFINEMENT!r} axis in the grid")
    others = [p for p in parameters if p != REFINEMENT]
    ok = [r for r in table.rows if r.get("status") == "ok"]
    groups: dict[tuple, list] = {}
    for r in ok:
        groups.setdefault(tuple(r.get(p) for p in others), []).append(r)
    out = []
    for key, rows in groups.items():
        label = ", ".join(f"{p}={v:g}" for p, v in zip(others, key, strict=True)) or "base"
        rows = sorted(rows, key=lambda r: r[REFINEMENT])
        if len(rows) < 3:
            raise InputError(
                f"{label}: only {len(rows)} finished meshes; a convergence study needs >= 3 "
                f"(values of {REFINEMENT})"
            )
        h = np.array([float(r[h_column]) for r in rows])
        dofs = np.array([float(r.get("num_dofs", np.nan)) for r in rows])
        for q in quantities:
            if any(r.get(q) is None for r in rows):
                continue  # e.g. the conductance at 0 V
            vals = np.array([float(r[q]) for r in rows])
            ext, p = richardson(h, vals)
            if math.isfinite(p):
                errors = np.abs(vals - ext)
                hh = h
            else:
                ext, errors, hh = None, np.abs(vals[:-1] - vals[-1]), h[:-1]
            order = fitted_order(hh, errors) if np.all(errors > 0) else float("nan")
            out.append(MeshConvergence(label, q, h, vals, ext, p, errors, order, dofs))
    return out


def convergence_table(results: Sequence[MeshConvergence]) -> StudyTable:
    """One row per (group, quantity, mesh): h, value, error, fitted order, extrapolated value.

    ``value``, ``error`` and ``extrapolated`` are in the row's ``unit`` (the unit suffix of the
    quantity's column name, e.g. ``pA`` for ``current_pA``); the orders are dimensionless.
    """
    rows = []
    for res in results:
        errors = list(res.errors) + [None] * (len(res.h) - len(res.errors))
        unit = res.quantity.rsplit("_", 1)[-1] if "_" in res.quantity else ""
        for h, v, e, n in zip(res.h, res.values, errors, res.num_dofs, strict=True):
            rows.append(
                {
                    "group": res.label,
                    "quantity": res.quantity,
                    "unit": unit,
                    "h_pore_nm": float(h),
                    "num_dofs": float(n),
                    "value": float(v),
                    "error": e,
                    "fitted_order": res.order,
                    "extrapolated": res.extrapolated,
                    "extrapolation_order": res.extrapolation_order,
                }
            )
    return StudyTable.from_rows(rows)


def plot_mesh_convergence(results: Sequence[MeshConvergence], path: str | Path) -> Path:
    """Relative errors against h (log-log, fitted orders in the legend): one PNG."""
    from pnp.results.plots import plot_convergence

    errors, orders = {}, {}
    for res in results:
        ext = "" if res.extrapolated is None else f" -> {res.extrapolated:.6g}"
        label = f"{res.quantity} ({res.label}){ext}"
        h = res.h[: len(res.errors)]
        errors[label] = res.relative_errors
        orders[label] = res.order
    first = results[0]
    h = first.h[: len(first.errors)]
    if any(len(r.errors) != len(h) or not np.allclose(r.h[: len(r.errors)], h) for r in results):
        raise InputError("the convergence groups use different meshes; plot them one by one")
    quantities = ", ".join(dict.fromkeys(r.quantity for r in results))
    refs = {"Richardson extrapolation" if r.extrapolated is not None else "finest mesh"
            for r in results}  # fmt: skip
    ref = " or ".join(sorted(refs))
    return plot_convergence(
        h, errors, path, orders=orders, title=f"mesh convergence of {quantities}",
        ylabel=f"relative error of {quantities}\n|Q_h - Q_ref| / |Q_ref|, Q_ref = {ref}",
    )  # fmt: skip
