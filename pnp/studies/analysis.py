"""Derived results of a study table: curves along one axis and rectification ratios."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pnp.studies.grid import VOLTAGE
from pnp.studies.table import StudyTable

__all__ = ["Curve", "curves", "rectification_table"]


@dataclass(frozen=True)
class Curve:
    """One quantity along one axis, the other parameters fixed.

    Attributes
    ----------
    label
        The fixed parameters, e.g. ``"concentration_mM=100"`` (``""`` when there are none).
    fixed
        The fixed parameters as a dict.
    x, y
        Axis values (sorted) and the quantity (NaN where a point failed or is missing).
    """

    label: str
    fixed: dict
    x: np.ndarray
    y: np.ndarray


def curves(table: StudyTable, parameters: Sequence[str], axis: str, quantity: str) -> list[Curve]:
    """Split the finished rows into curves ``quantity(axis)``, one per combination of the others.

    Every curve shares the sorted union of the axis values (NaN where missing), so they can be
    drawn on one figure.
    """
    others = [p for p in parameters if p != axis]
    ok = [r for r in table.rows if r.get("status") == "ok" and axis in r]
    xs = np.array(sorted({float(r[axis]) for r in ok}))
    groups: dict[tuple, dict[float, float]] = {}
    for r in ok:
        key = tuple(r.get(p) for p in others)
        value = r.get(quantity)
        groups.setdefault(key, {})[float(r[axis])] = np.nan if value is None else float(value)
    out = []
    for key, values in groups.items():
        fixed = dict(zip(others, key, strict=True))
        label = ", ".join(f"{p}={v:g}" for p, v in fixed.items() if v is not None)
        y = np.array([values.get(x, np.nan) for x in xs])
        out.append(Curve(label, fixed, xs, y))
    return out


def rectification_table(table: StudyTable, parameters: Sequence[str]) -> StudyTable:
    """``I(+V) / |I(-V)|`` for every voltage magnitude swept in both signs, per curve.

    Rows: the fixed parameters, ``voltage_magnitude_mV``, ``current_plus_pA``,
    ``current_minus_pA`` and ``rectification_ratio``. Empty when no voltage is swept both ways.
    """
    rows = []
    if VOLTAGE not in parameters:
        return StudyTable.from_rows(rows)
    for c in curves(table, parameters, VOLTAGE, "current_pA"):
        by_v = dict(zip(c.x, c.y, strict=True))
        for v in c.x:
            if v > 0 and -v in by_v and np.isfinite(by_v[v]) and np.isfinite(by_v[-v]):
                ratio = by_v[v] / abs(by_v[-v]) if by_v[-v] != 0 else np.nan
                rows.append(
                    {
                        **{k: val for k, val in c.fixed.items() if val is not None},
                        "voltage_magnitude_mV": float(v),
                        "current_plus_pA": float(by_v[v]),
                        "current_minus_pA": float(by_v[-v]),
                        "rectification_ratio": float(ratio),
                    }
                )
    return StudyTable.from_rows(rows)
