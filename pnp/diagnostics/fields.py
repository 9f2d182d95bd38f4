"""Solution-level diagnostics: cell-wise (DG0) fields from local concentrations and permittivity.

Three steps, kept apart so that the physics is plain numpy and only the first and last touch
DOLFINx:

1. :func:`pnp.diagnostics.cells.cell_data_from_dolfinx` reads the mesh, its cell tags, the
   concentrations and the permittivity into a :class:`~pnp.diagnostics.cells.CellData` of this
   rank's owned cells.
2. :func:`compute_cell_fields` evaluates, per cell, the Bjerrum length with the local eps_r, the
   mean spacing, the largest pair coupling Gamma, the packing fraction, the local Debye length,
   the mesh-size ratio, ``R(z)/a`` from an axial profile, and severity codes (0 ok, 1 note,
   2 warning, 3 breakdown).
3. :func:`solution_findings` reduces the fields over MPI ranks into per-region findings, with the
   worst cell located by its axial position; :func:`to_functions` / :func:`write_fields` give the
   DG0 functions for ParaView.

MPI: every reduction gathers the per-rank partial results to all ranks and combines them in rank
order, and ties between equally bad cells are broken by position, so every rank builds the same
report, and the report does not depend on how the mesh is partitioned (up to round-off in sums).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)
from pnp.diagnostics import quantities as q
from pnp.diagnostics.cells import CellData
from pnp.diagnostics.findings import (
    CORRELATIONS,
    DEBYE_RESOLUTION,
    FINITE_SIZE,
    Finding,
    Severity,
    grade,
    grade_array,
)
from pnp.diagnostics.inputs import AxialProfile
from pnp.diagnostics.thresholds import Thresholds
from poreflux.errors import MeshTagError

logger = logging.getLogger(__name__)

__all__ = [
    "CellFields",
    "compute_cell_fields",
    "solution_findings",
    "to_functions",
    "write_fields",
]

@dataclass(frozen=True, eq=False)
class CellFields:
    """Cell-wise diagnostic fields on this rank's owned cells (see :func:`compute_cell_fields`).

    Severity codes: 0 ok, 1 note, 2 warning, 3 breakdown.
    """

    data: CellData
    temperature: float
    bjerrum_nm: np.ndarray
    spacing_nm: np.ndarray
    gamma: np.ndarray
    gamma_species: np.ndarray
    packing: np.ndarray
    debye_nm: np.ndarray
    mesh_ratio: np.ndarray
    radius_nm: np.ndarray
    r_over_a: np.ndarray
    severity_finite_size: np.ndarray
    severity_correlations: np.ndarray
    severity_resolution: np.ndarray

    @property
    def severity(self) -> np.ndarray:
        """Worst severity code per cell."""
        return np.maximum.reduce(
            [self.severity_finite_size, self.severity_correlations, self.severity_resolution]
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Exported fields by name (infinite values, e.g. no ions, written as 0)."""
        out = {
            "bjerrum_length_nm": self.bjerrum_nm,
            "ion_spacing_nm": self.spacing_nm,
            "coupling_gamma": self.gamma,
            "packing_fraction": self.packing,
            "debye_length_nm": self.debye_nm,
            "mesh_over_debye": self.mesh_ratio,
            "pore_radius_over_diameter": self.r_over_a,
            "severity_finite_size": self.severity_finite_size,
            "severity_correlations": self.severity_correlations,
            "severity_resolution": self.severity_resolution,
            "severity": self.severity,
        }
        return {k: np.where(np.isfinite(v), v, 0.0).astype(float) for k, v in out.items()}


def compute_cell_fields(
    data: CellData,
    temperature: float,
    thresholds: Thresholds,
    profile: AxialProfile | None = None,
    *,
    finite_size: bool = True,
) -> CellFields:
    """Evaluate the cell-wise quantities and severity codes.

    Gamma and the packing fraction use the local concentrations and the local eps_r; ``R/a``
    compares the profile's ``R(z)`` at each cell's axial position with the largest ion diameter
    (only where ions are present). Raises :class:`InputError` if a species has no radius,
    unless ``finite_size`` is False (then packing and ``R/a`` are NaN where a radius is missing).
    """
    t = q.check_temperature(temperature)
    conc = data.concentrations
    valences = [s.valence for s in data.species]
    if finite_size:
        radii = q.species_radii_nm(data.species, thresholds.radius_kind)
    else:  # finite-size fields not requested: unknown radii are allowed (packing = NaN)
        attr = f"{thresholds.radius_kind}_radius"
        radii = np.array([getattr(s, attr) or np.nan for s in data.species], dtype=float)
    present = conc.sum(axis=1) > 0
    l_b = q.bjerrum_length_field_nm(data.eps_r, t)
    spacing = q.mean_spacing_nm(conc)
    gamma, gamma_species = q.max_coupling(valences, conc, data.eps_r, t)
    packing = q.packing_fraction(conc, radii)
    debye = q.local_debye_length_nm(conc, valences, t, data.eps_r)
    mesh_ratio = np.where(np.isfinite(debye), data.h / np.where(np.isfinite(debye), debye, 1), 0.0)
    if profile is not None:
        radius = profile.radius_at(data.axial)
    else:
        radius = np.full(conc.shape[0], np.inf)
    r_over_a = np.where(present, radius / (2.0 * np.max(radii)), np.inf)

    sev_pack = grade_array(packing, thresholds.packing_warning, thresholds.packing_breakdown)
    sev_geom = grade_array(
        r_over_a,
        thresholds.radius_warning_diameters,
        thresholds.radius_breakdown_diameters,
        larger_is_worse=False,
    )
    sev_geom[~present] = 0
    sev_corr = grade_array(gamma, thresholds.gamma_warning, thresholds.gamma_breakdown)
    sev_res = np.where(mesh_ratio > thresholds.mesh_debye, int(Severity.NOTE), 0).astype(np.int64)
    return CellFields(
        data,
        t,
        l_b,
        spacing,
        gamma,
        gamma_species,
        packing,
        debye,
        mesh_ratio,
        radius,
        r_over_a,
        np.maximum(sev_pack, sev_geom),
        sev_corr,
        sev_res,
    )


# --- MPI-safe reductions -------------------------------------------------------------------------
_TIE_RTOL = 1e-9


def _key(point: np.ndarray, axial_axis: int) -> tuple[float, ...]:
    p = np.round(np.asarray(point, dtype=float), 9)
    return (float(p[axial_axis]), *(float(x) for i, x in enumerate(p) if i != axial_axis))


def _global_extreme(
    comm: Any, values: np.ndarray, points: np.ndarray, axial_axis: int, *, largest: bool = True
) -> tuple[float, int | None, int] | None:
    """Global max (or min) of ``values`` over ranks: ``(value, local index or None, owner rank)``.

    Ties (within a relative 1e-9) go to the smallest axial position, then the other coordinates,
    so the answer does not depend on the partition. ``None`` when no rank has a value.
    """
    sign = 1.0 if largest else -1.0
    signed = np.where(np.isnan(values), -np.inf, sign * np.asarray(values, dtype=float))
    local = float(np.max(signed)) if signed.size else None
    gathered_max = [v for v in comm.allgather(local) if v is not None]
    if not gathered_max:
        return None
    best = max(gathered_max)
    tol = _TIE_RTOL * abs(best) if math.isfinite(best) else 0.0
    candidate = None
    if values.size:
        hits = np.flatnonzero(signed >= best - tol)
        if hits.size:
            p = np.round(points[hits], 9)
            others = [p[:, i] for i in range(p.shape[1]) if i != axial_axis]
            m = int(np.lexsort((*others[::-1], p[:, axial_axis]))[0])
            candidate = (_key(points[hits[m]], axial_axis), int(hits[m]))
    gathered = comm.allgather(candidate[0] if candidate is not None else None)
    owner = min((k, r) for r, k in enumerate(gathered) if k is not None)[1]
    mine = candidate[1] if (candidate is not None and comm.rank == owner) else None
    return sign * best, mine, owner


def _gsum(comm: Any, value: float) -> float:
    return float(sum(comm.allgather(float(value))))


def _bcast_from(comm: Any, owner: int, payload: Any) -> Any:
    return comm.bcast(payload, root=owner)


@dataclass(frozen=True, eq=False)
class _Cells:
    """The cells of one region that hold ions, on this rank, plus global counts."""

    region: str
    mask: np.ndarray
    points: np.ndarray
    n_cells: int
    volume: float


def _located(cells: _Cells, fields: CellFields, top: tuple[float, int | None, int]) -> list[float]:
    """Coordinates of the extreme cell, broadcast from its owner."""
    _, i_loc, owner = top
    mine = cells.points[i_loc].tolist() if i_loc is not None else None
    return _bcast_from(fields.data.comm, owner, mine)


def _finding(
    check: str,
    severity: Severity,
    message: str,
    cells: _Cells,
    point: list[float],
    values: dict[str, Any],
    axial_axis: int,
) -> Finding:
    return Finding(check, severity, message, cells.region, point[axial_axis], values,
                   "solution", position=point)  # fmt: skip


def _correlation_finding(cells: _Cells, fields: CellFields, th: Thresholds) -> Finding:
    data = fields.data
    comm = data.comm
    names = tuple(s.name for s in data.species)
    g = fields.gamma[cells.mask]
    top = _global_extreme(comm, g, cells.points, data.axial_axis)
    gmax, i_loc, owner = top  # type: ignore[misc]
    payload = None
    if i_loc is not None:
        k = np.flatnonzero(cells.mask)[i_loc]
        payload = {
            "point": cells.points[i_loc].tolist(),
            "conc": data.concentrations[k].tolist(),
            "eps_r": float(data.eps_r[k]),
            "l_b": float(fields.bjerrum_nm[k]),
            "d": float(fields.spacing_nm[k]),
            "species": int(fields.gamma_species[k]),
        }
    payload = _bcast_from(comm, owner, payload)
    vol = data.volumes[cells.mask]
    g_mean = _gsum(comm, float(np.sum(g * vol))) / cells.volume if cells.volume > 0 else math.nan
    ion = names[payload["species"]] if payload["species"] >= 0 else ""
    values: dict[str, Any] = {
        "Gamma_max": gmax,
        "Gamma_mean": g_mean,
        "pair": f"{ion}-{ion}",
        "eps_r": payload["eps_r"],
        "bjerrum_length_nm": payload["l_b"],
        "spacing_nm": payload["d"],
        "n_cells": cells.n_cells,
        "volume_nm3": cells.volume,
    }
    for name, c in zip(names, payload["conc"], strict=True):
        values[f"c[{name}]_mM"] = c
    message = (
        f"cell-wise Gamma up to {gmax:.3g} for {ion}-{ion} (mean {g_mean:.3g}; l_B = "
        f"{payload['l_b']:.3g} nm at eps_r = {payload['eps_r']:g}, d = {payload['d']:.3g} nm)"
    )
    severity = grade(gmax, th.gamma_warning, th.gamma_breakdown)
    return _finding(CORRELATIONS, severity, message, cells, payload["point"], values,
                    data.axial_axis)  # fmt: skip


def _finite_size_finding(cells: _Cells, fields: CellFields, th: Thresholds) -> Finding:
    data = fields.data
    comm = data.comm
    top_eta = _global_extreme(comm, fields.packing[cells.mask], cells.points, data.axial_axis)
    top_ra = _global_extreme(
        comm, fields.r_over_a[cells.mask], cells.points, data.axial_axis, largest=False
    )
    eta, ra = top_eta[0], top_ra[0]  # type: ignore[index]
    sev_eta = grade(eta, th.packing_warning, th.packing_breakdown)
    sev_ra = grade(ra, th.radius_warning_diameters, th.radius_breakdown_diameters,
                   larger_is_worse=False)  # fmt: skip
    where_eta = _located(cells, fields, top_eta)  # type: ignore[arg-type]
    where_ra = _located(cells, fields, top_ra)  # type: ignore[arg-type]
    point = where_ra if sev_ra > sev_eta else where_eta
    values = {
        "packing_fraction": eta,
        "hard_sphere_excess_mu_kT": float(q.carnahan_starling_excess_kT(eta)),
        "R_over_a": ra,
        "n_cells": cells.n_cells,
    }
    ra_text = f"R/a = {ra:.3g}" if math.isfinite(ra) else "no wall profile"
    message = f"cell-wise packing fraction up to {eta:.3g}; {ra_text}"
    return _finding(FINITE_SIZE, max(sev_eta, sev_ra), message, cells, point, values,
                    data.axial_axis)  # fmt: skip


def _resolution_finding(cells: _Cells, fields: CellFields, th: Thresholds) -> Finding:
    data = fields.data
    top = _global_extreme(data.comm, fields.mesh_ratio[cells.mask], cells.points, data.axial_axis)
    ratio, i_loc, owner = top  # type: ignore[misc]
    info = None
    if i_loc is not None:
        k = np.flatnonzero(cells.mask)[i_loc]
        info = {
            "point": cells.points[i_loc].tolist(),
            "h": float(data.h[k]),
            "lam": float(fields.debye_nm[k]),
        }
    info = _bcast_from(data.comm, owner, info)
    severity = Severity.NOTE if ratio > th.mesh_debye else Severity.OK
    message = (
        f"h/lambda_D up to {ratio:.3g} (h = {info['h']:.3g} nm, local lambda_D = "
        f"{info['lam']:.3g} nm)"
    )
    if severity == Severity.NOTE:
        message += ": the mesh does not resolve the double layer there"
    values = {"ratio": ratio, "mesh_size_nm": info["h"], "debye_length_nm": info["lam"]}
    return _finding(DEBYE_RESOLUTION, severity, message, cells, info["point"], values,
                    data.axial_axis)  # fmt: skip


_SOLUTION_CHECKS = {
    CORRELATIONS: _correlation_finding,
    FINITE_SIZE: _finite_size_finding,
    DEBYE_RESOLUTION: _resolution_finding,
}


def solution_findings(
    fields: CellFields,
    thresholds: Thresholds,
    *,
    regions: Sequence[str] | None = None,
    checks: Sequence[str] = tuple(_SOLUTION_CHECKS),
) -> list[Finding]:
    """Per-region findings from the cell-wise fields, reduced over MPI ranks.

    For each region with ions: the correlation finding (largest Gamma, its cell's concentrations,
    eps_r, l_B and d, plus the volume-weighted mean Gamma), the finite-size finding (largest
    packing fraction and smallest ``R/a``), and the Debye-resolution note (largest ``h/lambda_D``),
    each only if named in ``checks`` (other names are ignored). Collective: call on every rank.
    """
    data = fields.data
    comm = data.comm
    wanted = list(regions) if regions is not None else list(data.region_names)
    present = data.concentrations.sum(axis=1) > 0
    findings: list[Finding] = []
    for region in wanted:
        if region not in data.region_names:
            raise MeshTagError(f"no region {region!r}; regions are {data.region_names}")
        mask = (data.region == data.region_names.index(region)) & present
        n_cells = int(sum(comm.allgather(int(mask.sum()))))
        if n_cells == 0:
            continue
        cells = _Cells(
            region, mask, data.midpoints[mask], n_cells,
            _gsum(comm, float(data.volumes[mask].sum())),
        )  # fmt: skip
        for check, make in _SOLUTION_CHECKS.items():
            if check in checks:
                findings.append(make(cells, fields, thresholds))
    return findings


# --- output --------------------------------------------------------------------------------------
def to_functions(fields: CellFields, mesh: Any) -> dict[str, Any]:
    """The cell-wise fields as named DG0 ``dolfinx.fem.Function`` objects (ghosts updated)."""
    from dolfinx import fem

    dg0 = fem.functionspace(mesh, ("DG", 0))
    dofs = dg0.dofmap.list[fields.data.cells, 0]
    out = {}
    for name, values in fields.arrays().items():
        f = fem.Function(dg0, name=name)
        f.x.array[dofs] = values
        f.x.scatter_forward()
        out[name] = f
    return out


def write_fields(path: str | Path, fields: CellFields, mesh: Any) -> Path:
    """Write the cell-wise fields to an XDMF file (cell data, for ParaView). Collective."""
    from dolfinx import io

    path = Path(path).with_suffix(".xdmf")
    with io.XDMFFile(mesh.comm, str(path), "w") as xdmf:
        xdmf.write_mesh(mesh)
        for f in to_functions(fields, mesh).values():
            xdmf.write_function(f)
    return path
