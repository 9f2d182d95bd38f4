"""The figures of a finished study, drawn with :mod:`pnp.results.plots` (rank 0 only).

- ``iv.png``: current against voltage, one curve per combination of the other parameters (total
  and per species when there is a single curve);
- ``conductance.png``: conductance against bath concentration on log axes, one curve per
  non-zero voltage and other parameters (when a concentration axis has >= 2 values);
- ``profile_<id>.png``: cross-section-averaged potential and concentrations along the axis for
  every point with a stored profile (the first :data:`MAX_PROFILE_FIGURES`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pnp.studies.analysis import curves
from pnp.studies.grid import CONCENTRATION, CONCENTRATION_TOP, VOLTAGE
from pnp.studies.table import StudyTable

log = logging.getLogger(__name__)

__all__ = ["study_figures"]

#: Most curves drawn on one figure (more are split over numbered files).
MAX_CURVES = 10
#: Most profile figures drawn (the first in point order; every profile stays in its CSV).
MAX_PROFILE_FIGURES = 24


def _chunks(items: list, n: int) -> list[list]:
    return [items[i : i + n] for i in range(0, len(items), n)] or [[]]


def _name(stem: str, k: int, total: int) -> str:
    return f"{stem}.png" if total == 1 else f"{stem}_{k + 1}.png"


def study_figures(
    table: StudyTable,
    parameters: Sequence[str],
    folder: str | Path,
    *,
    profiles: Mapping[str, Path] | None = None,
    membrane_of: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None = None,
    title: str = "",
) -> list[Path]:
    """Draw the study's figures into ``folder``; returns the written PNG paths.

    Parameters
    ----------
    table
        The study table.
    parameters
        The grid's axis names.
    folder
        Where the PNGs go.
    profiles
        Point id -> profile CSV (``z``, ``potential``, species columns).
    membrane_of
        Row -> ``(z_bottom, z_top)`` of the membrane, shaded in the profile plots.
    title
        Prefix of the figure titles.
    """
    folder = Path(folder)
    ok = [r for r in table.rows if r.get("status") == "ok"]
    if not ok:
        return []
    written = _iv_figures(table, parameters, folder, ok, title)
    written += _conductance_figures(table, parameters, folder, ok, title)
    written += _profile_figures(parameters, folder, ok, profiles or {}, membrane_of, title)
    log.info("wrote %d figures to %s", len(written), folder)
    return written


def _iv_figures(
    table: StudyTable, parameters: Sequence[str], folder: Path, ok: list[dict], title: str
) -> list[Path]:
    """``iv.png`` (total and per species for a single curve), split every MAX_CURVES curves."""
    from pnp.results.plots import plot_iv

    if VOLTAGE not in parameters or len({r[VOLTAGE] for r in ok}) < 2:
        return []
    species_cols = [c for c in table.columns if c.startswith("current_") and c.endswith("_pA")
                    and c not in ("current_pA", "current_top_pA", "current_bottom_pA")]  # fmt: skip
    iv = [c for c in curves(table, parameters, VOLTAGE, "current_pA") if np.any(np.isfinite(c.y))]
    parts = _chunks(iv, MAX_CURVES)
    written = []
    for k, part in enumerate(parts):
        if len(iv) == 1:
            data = {"total": part[0].y}
            for col in species_cols:
                sp = curves(table, parameters, VOLTAGE, col)[0]
                data[col.removeprefix("current_").removesuffix("_pA")] = sp.y
        else:
            data = {c.label or "total": c.y for c in part}
        label = f"{title}: " if title else ""
        sub = f" ({part[0].label})" if len(iv) == 1 and part[0].label else ""
        written.append(
            plot_iv(part[0].x, data, folder / _name("iv", k, len(parts)),
                    title=f"{label}I-V{sub}")
        )  # fmt: skip
    return written


def _conductance_figures(
    table: StudyTable, parameters: Sequence[str], folder: Path, ok: list[dict], title: str
) -> list[Path]:
    """``conductance.png`` against the bath concentration (log axes), when it is swept."""
    from pnp.results.plots import plot_conductance

    conc = next((a for a in (CONCENTRATION, CONCENTRATION_TOP) if a in parameters), None)
    if conc is None or len({r[conc] for r in ok}) < 2:
        return []
    gc = [
        c for c in curves(table, parameters, conc, "conductance_pS")
        if np.any(np.isfinite(c.y) & (c.y > 0))
    ]  # fmt: skip
    parts = _chunks(gc, MAX_CURVES)
    written = []
    for k, part in enumerate(parts):
        if not part:
            continue
        data = {c.label or "G": np.where(c.y > 0, c.y, np.nan) for c in part}
        written.append(
            plot_conductance(part[0].x, data, folder / _name("conductance", k, len(parts)),
                             title=f"{title}: conductance" if title else "conductance")
        )  # fmt: skip
    return written


def _profile_figures(
    parameters: Sequence[str],
    folder: Path,
    ok: list[dict],
    profiles: Mapping[str, Path],
    membrane_of: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None,
    title: str = "",
) -> list[Path]:
    """``profile_<id>.png`` of the first MAX_PROFILE_FIGURES stored profiles; the title names the
    study, the point and its parameters."""
    from pnp.results.plots import plot_axial_profiles

    by_id = {r["id"]: r for r in ok}
    chosen = sorted(profiles.items())
    if len(chosen) > MAX_PROFILE_FIGURES:
        log.info("drawing %d of %d profiles (all are in profiles/*.csv)", MAX_PROFILE_FIGURES,
                 len(chosen))  # fmt: skip
        chosen = chosen[:MAX_PROFILE_FIGURES]
    written = []
    for pid, csv_path in chosen:
        row = by_id.get(pid)
        if row is None or not Path(csv_path).exists():
            continue
        z, potential, conc_cols = _profile_columns(StudyTable.from_csv(csv_path))
        label = ", ".join(f"{p}={row[p]:g}" for p in parameters if p in row)
        head = f"{title}, point {pid}" if title else f"point {pid}"
        written.append(
            plot_axial_profiles(
                z, potential, conc_cols, folder / f"profile_{pid}.png",
                membrane=membrane_of(row) if membrane_of else None,
                title=f"{head}: {label}" if label else head,
            )
        )  # fmt: skip
    return written


def _profile_columns(prof: StudyTable) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``z`` [nm], potential [mV] and species -> concentration [mM] of a profile CSV (columns
    ``z_nm``, ``potential_mV``, ``<species>_mM``; also the unit-less names of older folders)."""
    if "z_nm" in prof.columns:
        conc = {c.removesuffix("_mM"): prof.column(c) for c in prof.columns
                if c.endswith("_mM")}  # fmt: skip
        return prof.column("z_nm"), prof.column("potential_mV"), conc
    conc = {c: prof.column(c) for c in prof.columns
            if c not in ("z", "area", "potential", "current")}  # fmt: skip
    return prof.column("z"), prof.column("potential"), conc
