"""The tidy study table: one row per point, one column per parameter or observable, CSV on disk.

CSV is the one table format of the studies (``table.csv``, ``convergence.csv``, profiles): it
opens everywhere (numpy, spreadsheets, ``pandas.read_csv``). Numbers are written with ``repr``
so that they read back bit for bit; empty cells are missing values (NaN in numeric columns).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from poreflux.errors import InputError

__all__ = ["NOT_AVAILABLE", "StudyTable", "format_value"]

#: How the printed table shows a value that is missing or not defined (empty in the CSV).
NOT_AVAILABLE = "n/a"


def format_value(value: Any) -> str:
    """A cell as CSV text: floats with ``repr`` (exact round trip), None/NaN as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        return "" if math.isnan(x) else repr(x)
    return str(value)


def _parse(text: str) -> Any:
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class StudyTable:
    """Rows (dicts) with a fixed column order.

    Attributes
    ----------
    columns
        Column names in order.
    rows
        One mapping per row; missing keys are missing values.
    """

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], first: Sequence[str] = ()) -> StudyTable:
        """A table of ``rows``; columns in order of first appearance, ``first`` leading."""
        rows = tuple(dict(r) for r in rows)
        cols = dict.fromkeys(first)
        for r in rows:
            cols.update(dict.fromkeys(r))
        return cls(tuple(cols), rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def column(self, name: str) -> np.ndarray:
        """A column as a numpy array (float with NaN for missing values when numeric)."""
        if name not in self.columns:
            raise InputError(f"the table has no column {name!r}; columns: {list(self.columns)}")
        values = [r.get(name) for r in self.rows]
        if all(v is None or isinstance(v, int | float) for v in values):
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        return np.array(["" if v is None else str(v) for v in values], dtype=object)

    def where(self, **conditions: Any) -> StudyTable:
        """Rows whose columns equal the given values (floats compared exactly)."""
        rows = [r for r in self.rows if all(r.get(k) == v for k, v in conditions.items())]
        return StudyTable(self.columns, tuple(rows))

    def sorted_by(self, *names: str) -> StudyTable:
        """Rows sorted by the named columns (missing values last)."""

        def key(r: Mapping[str, Any]) -> tuple:
            return tuple((r.get(n) is None, r.get(n) or 0) for n in names)

        return StudyTable(self.columns, tuple(sorted(self.rows, key=key)))

    def to_csv_text(self) -> str:
        """The table as CSV text (header + rows)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow([format_value(r.get(c)) for c in self.columns])
        return buf.getvalue()

    @classmethod
    def from_csv(cls, path: str | Path) -> StudyTable:
        """Read a table written by :meth:`to_csv_text` (numbers parsed, empty -> missing)."""
        with Path(path).open(newline="") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(f"{path} is empty: not a study table") from None
            rows = []
            for line in reader:
                if len(line) != len(header):
                    raise InputError(
                        f"{path}: a row has {len(line)} cells but the header {len(header)}"
                    )
                rows.append({k: v for k, v in zip(header, map(_parse, line), strict=True)
                             if v is not None})  # fmt: skip
        return cls(tuple(header), tuple(rows))

    def format(self, columns: Sequence[str] | None = None, floatfmt: str = ".5g") -> str:
        """Aligned text of the table (all columns, or the given ones); a missing or NaN value
        (not defined, e.g. the conductance at 0 mV) prints as :data:`NOT_AVAILABLE`."""
        cols = [c for c in (columns or self.columns) if c in self.columns]

        def cell(v: Any) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return NOT_AVAILABLE
            if isinstance(v, float):
                return format(v, floatfmt)
            return str(v)

        body = [[cell(r.get(c)) for c in cols] for r in self.rows]
        widths = [max([len(c)] + [len(b[i]) for b in body]) for i, c in enumerate(cols)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(x.rjust(w) for x, w in zip(b, widths, strict=True)) for b in body]
        return "\n".join(lines)
