"""One call: :func:`diagnose` a problem description or a solution and get a :class:`Report`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pnp.diagnostics import adapters
from pnp.diagnostics.checks import PROBLEM_CHECKS
from pnp.diagnostics.findings import FINITE_SIZE, Finding
from pnp.diagnostics.inputs import DiagnosticInputs
from pnp.diagnostics.report import Report
from pnp.diagnostics.solution_fields import SolutionFields
from pnp.diagnostics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from poreflux.errors import InputError
from poreflux.species import Electrolyte

logger = logging.getLogger(__name__)

__all__ = ["SolutionFields", "diagnose", "diagnose_problem", "diagnose_solution"]


def _describe(electrolyte: Electrolyte) -> str:
    return ", ".join(
        f"{n} {c:g} mM" for n, c in zip(electrolyte.names, electrolyte.bulk, strict=True)
    )


def _select(checks: Iterable[str] | None) -> list[str]:
    if checks is None:
        return list(PROBLEM_CHECKS)
    chosen = list(checks)
    unknown = [c for c in chosen if c not in PROBLEM_CHECKS]
    if unknown:
        raise InputError(f"unknown checks {unknown}; choose from {list(PROBLEM_CHECKS)}")
    return chosen


def diagnose_problem(
    inputs: DiagnosticInputs,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    checks: Iterable[str] | None = None,
) -> Report:
    """Problem-level report: bulk and geometric checks from the inputs alone (no solve)."""
    findings: list[Finding] = []
    for name in _select(checks):
        findings.extend(PROBLEM_CHECKS[name](inputs, thresholds))
    return Report(
        tuple(findings),
        "problem",
        inputs.temperature,
        thresholds,
        _describe(inputs.electrolyte),
        inputs.region_names,
    )


def diagnose_solution(
    solution: SolutionFields,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    checks: Iterable[str] | None = None,
    write: str | Path | None = None,
) -> Report:
    """Problem-level findings plus cell-wise findings from the solved fields. Collective (MPI).

    With ``write`` the cell-wise fields are written to that XDMF file for ParaView.
    """
    from pnp.diagnostics import fields as fl
    from pnp.diagnostics.cells import cell_data_from_dolfinx

    report = diagnose_problem(solution.inputs, thresholds, checks)
    data = cell_data_from_dolfinx(
        solution.mesh,
        solution.cell_tags,
        solution.regions,
        solution.concentrations,
        solution.permittivity,
        axisymmetric=solution.axisymmetric,
        concentration_scale_mM=solution.concentration_scale_mM,
        ion_regions=solution.ion_regions,
    )
    missing = set(solution.inputs.electrolyte.names) - {s.name for s in data.species}
    if missing:
        raise InputError(
            f"no concentration field for {sorted(missing)}; the solution has fields for "
            f"{[s.name for s in data.species]}"
        )
    wanted = set(_select(checks))
    cell_fields = fl.compute_cell_fields(
        data, solution.inputs.temperature, thresholds, solution.inputs.profile,
        finite_size=FINITE_SIZE in wanted,
    )  # fmt: skip
    extra = fl.solution_findings(cell_fields, thresholds, checks=tuple(wanted))
    if write is not None:
        fl.write_fields(write, cell_fields, solution.mesh)
    # a check that ran on the solution is no longer "skipped" for lack of a problem-level input
    ran = {f.check for f in extra}
    kept = tuple(f for f in report.findings if not (f.skipped and f.check in ran))
    base = Report(
        kept, report.level, report.temperature, thresholds, report.electrolyte, report.regions
    )
    return base.merged(extra, level="solution", fields=cell_fields)


def diagnose(
    target: DiagnosticInputs | SolutionFields | Electrolyte | Any,
    *,
    thresholds: Thresholds | None = None,
    checks: Iterable[str] | None = None,
    write: str | Path | None = None,
    **inputs: Any,
) -> Report:
    """Diagnose where mean-field PNP/PB can be trusted: one call, one :class:`Report`.

    Parameters
    ----------
    target
        A :class:`DiagnosticInputs` (problem level); a :class:`SolutionFields` (problem and
        solution level); an :class:`~poreflux.species.Electrolyte` with the keyword arguments of
        :class:`DiagnosticInputs` (``temperature=...`` is then required); a PB/PNP problem
        (problem level; ``cmesh=`` adds the channel geometry) or a PB/PNP solution (both levels;
        a PNP solution needs ``cmesh=``), see :mod:`pnp.diagnostics.adapters`.
    thresholds
        :class:`Thresholds` (default: the documented defaults).
    checks
        Names of the checks to run (default: all), e.g. ``["correlations"]``.
    write
        XDMF path for the cell-wise fields (solution level only).
    **inputs
        With an electrolyte: ``temperature``, ``permittivity``, ``profile``, ``surface_charge``,
        ``mesh_size``, ``memory_time``, ``friction_kernel``, ``hopping_time``, ``hop_region``;
        with a PB/PNP object: ``cmesh`` and the optional time-scale inputs. The hopping time is
        a number [ns] or a zero-argument callable; from a 1D PMF compute it with
        ``stochastic.smoluchowski.hopping_time_ns(profile)`` (the diagnostics take numbers only).

    Examples
    --------
    >>> from poreflux import salt
    >>> from pnp.diagnostics import diagnose
    >>> diagnose(salt("CaCl2", 1000), temperature=298.15).worst.label
    'breakdown'
    """
    th = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    if not isinstance(th, Thresholds):
        raise InputError("thresholds must be a pnp.diagnostics.Thresholds")
    if isinstance(target, Electrolyte):
        if "temperature" not in inputs:
            raise InputError("diagnose(electrolyte, ...) needs temperature= [K]")
        target = DiagnosticInputs(target, **inputs)
    elif not isinstance(target, DiagnosticInputs | SolutionFields):
        target = adapters.adapt(target, **inputs)
    elif inputs:
        raise InputError(
            f"keyword inputs {sorted(inputs)} are not accepted with a {type(target).__name__}; "
            "put them into the DiagnosticInputs"
        )
    if isinstance(target, SolutionFields):
        return diagnose_solution(target, th, checks, write)
    if write is not None:
        raise InputError("write= needs a solution; a problem has no fields")
    return diagnose_problem(target, th, checks)
