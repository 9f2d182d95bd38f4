"""The diagnostics :class:`Report`: findings, worst severity, per-region table, text and JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pnp.diagnostics.findings import (
    ADVICE,
    ASSUMPTIONS,
    CORRELATIONS,
    DEBYE_RESOLUTION,
    DOUBLE_LAYER_OVERLAP,
    FINITE_SIZE,
    NON_MARKOVIAN,
    SURFACE_CONDUCTION,
    Finding,
    Severity,
    _jsonable,
)
from pnp.diagnostics.thresholds import Thresholds

#: Check -> (column title, key of the number shown in the table).
_COLUMNS: dict[str, tuple[str, str]] = {
    FINITE_SIZE: ("finite size R/a", "R_over_a"),
    CORRELATIONS: ("correlations Gamma", "Gamma_max"),
    NON_MARKOVIAN: ("memory tau_mem/tau_hop", "ratio"),
    DOUBLE_LAYER_OVERLAP: ("EDL overlap lD/R", "ratio"),
    DEBYE_RESOLUTION: ("mesh h/lD", "ratio"),
    SURFACE_CONDUCTION: ("Dukhin", "dukhin"),
}


@dataclass(frozen=True, eq=False)
class Report:
    """What the diagnostics found, identical on every MPI rank.

    Parameters
    ----------
    findings
        Every :class:`Finding`, problem level first, then solution level.
    level
        ``"problem"`` or ``"solution"`` (the deepest level that ran).
    temperature
        Temperature [K].
    thresholds
        The :class:`Thresholds` used.
    electrolyte
        Short description of the electrolyte, e.g. ``"K+ 150 mM, Cl- 150 mM"``.
    regions
        Region names in axial order.
    fields
        Cell-wise fields (:class:`~pnp.diagnostics.fields.CellFields`) of a solution-level run, or
        ``None``. Not part of :meth:`to_dict`.
    """

    findings: tuple[Finding, ...]
    level: str
    temperature: float
    thresholds: Thresholds
    electrolyte: str = ""
    regions: tuple[str, ...] = ()
    fields: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))
        if not self.regions:
            seen = dict.fromkeys(f.region for f in self.findings if f.region is not None)
            object.__setattr__(self, "regions", tuple(seen))

    # --- queries ---------------------------------------------------------------------------------
    @property
    def checked(self) -> tuple[Finding, ...]:
        """Findings of checks that ran."""
        return tuple(f for f in self.findings if not f.skipped)

    @property
    def skipped(self) -> tuple[Finding, ...]:
        """Findings of checks that were skipped for a missing optional input."""
        return tuple(f for f in self.findings if f.skipped)

    @property
    def worst(self) -> Severity:
        """Worst severity over the checks that ran (``OK`` if none ran)."""
        return max((f.severity for f in self.checked), default=Severity.OK)

    @property
    def trustworthy(self) -> bool:
        """True when no assumption check warns or fails (notes allowed)."""
        return self.worst <= Severity.NOTE

    def by_check(self, check: str, *, level: str | None = None) -> tuple[Finding, ...]:
        """Findings of one check (optionally one level)."""
        return tuple(
            f for f in self.findings if f.check == check and (level is None or f.level == level)
        )

    def by_region(self, region: str) -> tuple[Finding, ...]:
        """Findings located in one region."""
        return tuple(f for f in self.findings if f.region == region)

    def problems(self, at_least: Severity = Severity.WARNING) -> tuple[Finding, ...]:
        """Findings at or above a severity, worst first."""
        hits = [f for f in self.checked if f.severity >= at_least]
        return tuple(sorted(hits, key=lambda f: -int(f.severity)))

    def worst_by_region(self) -> dict[str, Severity]:
        """Region -> worst severity of the checks that ran there."""
        out = dict.fromkeys(self.regions, Severity.OK)
        for f in self.checked:
            if f.region is not None:
                out[f.region] = max(out.get(f.region, Severity.OK), f.severity)
        return out

    def columns(self, prefix: str = "diag_") -> dict[str, str]:
        """Flat verdicts for a study table: worst overall and worst per check that ran.

        E.g. ``{"diag_worst": "breakdown", "diag_finite_size": "breakdown",
        "diag_correlations": "warning", ...}``; skipped checks read ``"skipped"``.
        """
        out = {f"{prefix}worst": self.worst.label}
        for f in self.findings:
            key = f"{prefix}{f.check}"
            if f.skipped:
                out.setdefault(key, "skipped")
                continue
            current = out.get(key)
            if current in (None, "skipped") or Severity.parse(current) < f.severity:
                out[key] = f.severity.label
        return out

    # --- the per-region table --------------------------------------------------------------------
    def region_table(self) -> list[dict[str, Any]]:
        """One row per region: worst severity, and per check its severity and key number.

        Where a check ran at both levels the worse finding (then the solution level) is shown.
        """
        rows = []
        for region in self.regions:
            row: dict[str, Any] = {"region": region, "worst": Severity.OK.label}
            worst = Severity.OK
            for check, (_, key) in _COLUMNS.items():
                hits = [f for f in self.checked if f.region == region and f.check == check]
                if not hits:
                    continue
                top = max(hits, key=lambda f: (int(f.severity), f.level == "solution"))
                worst = max(worst, top.severity)
                value = top.values.get(key)
                if check == FINITE_SIZE and not _finite(value):
                    value = ("eta", top.values.get("packing_fraction"))
                row[check] = {"severity": top.severity.label, "value": value}
            row["worst"] = worst.label
            rows.append(row)
        return rows

    def table(self) -> str:
        """The per-region table as aligned text."""
        rows = self.region_table()
        checks = [c for c in _COLUMNS if any(c in r for r in rows)]
        header = ["region", "worst", *(_COLUMNS[c][0] for c in checks)]
        body = []
        for r in rows:
            cells = [r["region"], r["worst"]]
            for c in checks:
                entry = r.get(c)
                if entry is None:
                    cells.append("-")
                    continue
                cells.append(f"{entry['severity']} {_fmt(entry['value'])}")
            body.append(cells)
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
        lines = [
            "  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
            for line in [header, *body]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    # --- output ----------------------------------------------------------------------------------
    def __str__(self) -> str:
        head = (
            f"PNP breakdown diagnostics ({self.level} level, T = {self.temperature:g} K"
            + (f", {self.electrolyte}" if self.electrolyte else "")
            + f"): worst = {self.worst.label.upper()}"
        )
        lines = [head, "", self.table(), ""]
        flagged = self.problems(Severity.NOTE)
        if flagged:
            lines.append("Findings:")
            lines.extend(
                f"  [{f.severity.label}] {f.check} ({f.level}, {f.where}): {f.message}"
                for f in flagged
            )
            advice = dict.fromkeys(f.check for f in flagged if f.severity >= Severity.WARNING)
            if advice:
                lines.append("What to use instead:")
                lines.extend(f"  {c}: {ADVICE[c]} (assumption: {ASSUMPTIONS[c]})" for c in advice)
        else:
            lines.append("All checks that ran are ok: the mean-field assumptions hold.")
        if self.skipped:
            lines.append("Skipped:")
            lines.extend(
                f"  {f.check}: {f.message.removeprefix('skipped: ')}" for f in self.skipped
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form of the report (JSON-ready; the cell fields are left out)."""
        return {
            "level": self.level,
            "temperature_K": self.temperature,
            "electrolyte": self.electrolyte,
            "worst": self.worst.label,
            "worst_by_region": {k: v.label for k, v in self.worst_by_region().items()},
            "regions": list(self.regions),
            "table": _jsonable_tree(self.region_table()),
            "findings": [f.to_dict() for f in self.findings],
            "thresholds": self.thresholds.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    def merged(
        self, findings: Iterable[Finding], *, level: str | None = None, fields: Any = None
    ) -> Report:
        """A new report with more findings appended (regions extended in order of appearance)."""
        extra = tuple(findings)
        regions = tuple(
            dict.fromkeys([*self.regions, *(f.region for f in extra if f.region is not None)])
        )
        return Report(
            self.findings + extra,
            level or self.level,
            self.temperature,
            self.thresholds,
            self.electrolyte,
            regions,
            fields if fields is not None else self.fields,
        )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):  # (label, number)
        return f"{value[0]} {_fmt(value[1])}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)


def _jsonable_tree(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable_tree(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable_tree(v) for v in obj]
    return _jsonable(obj)
