"""Severity levels and the :class:`Finding` record every check returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Any

import numpy as np


class Severity(IntEnum):
    """How much a finding undermines the mean-field answer (ordered: larger is worse).

    ``OK``: the assumption holds. ``NOTE``: informational (a regime worth knowing, such as
    overlapping double layers or a mesh that does not resolve the Debye length), never a
    failure of the theory. ``WARNING``: corrections are noticeable; compare with the suggested
    level. ``BREAKDOWN``: the assumption fails; use the suggested level instead.
    """

    OK = 0
    NOTE = 1
    WARNING = 2
    BREAKDOWN = 3

    @property
    def label(self) -> str:
        """Lower-case name, e.g. ``"breakdown"``."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        """A severity from its name (any case) or its integer code."""
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                names = ", ".join(s.label for s in cls)
                raise ValueError(f"unknown severity {value!r}; use one of {names}") from None
        return cls(int(value))


def grade(
    value: float, warning: float, breakdown: float, *, larger_is_worse: bool = True
) -> Severity:
    """Severity of ``value`` against a warning and a breakdown threshold.

    With ``larger_is_worse`` (couplings, packing, time ratios) ``value >= breakdown`` is a
    breakdown and ``value >= warning`` a warning; otherwise (radius ratios) ``value < breakdown``
    is a breakdown and ``value < warning`` a warning. NaN grades as OK (nothing to judge).
    """
    if math.isnan(value):
        return Severity.OK
    if larger_is_worse:
        if value >= breakdown:
            return Severity.BREAKDOWN
        if value >= warning:
            return Severity.WARNING
        return Severity.OK
    if value < breakdown:
        return Severity.BREAKDOWN
    if value < warning:
        return Severity.WARNING
    return Severity.OK


def grade_array(
    values: np.ndarray, warning: float, breakdown: float, *, larger_is_worse: bool = True
) -> np.ndarray:
    """Vectorised :func:`grade`: integer severity codes (NaN grades as OK)."""
    v = np.asarray(values, dtype=float)
    if larger_is_worse:
        codes = np.where(v >= breakdown, 3, np.where(v >= warning, 2, 0))
    else:
        codes = np.where(v < breakdown, 3, np.where(v < warning, 2, 0))
    return np.where(np.isnan(v), 0, codes).astype(np.int64)


#: Check names (stable keys of reports and JSON).
FINITE_SIZE = "finite_size"
CORRELATIONS = "correlations"
NON_MARKOVIAN = "non_markovian"
DOUBLE_LAYER_OVERLAP = "double_layer_overlap"
DEBYE_RESOLUTION = "debye_resolution"
SURFACE_CONDUCTION = "surface_conduction"

#: The assumption each check tests (one sentence each).
ASSUMPTIONS: dict[str, str] = {
    FINITE_SIZE: "ions are point particles that can pass each other (no steric exclusion)",
    CORRELATIONS: "each ion feels only the mean potential of the others (weak ion-ion coupling)",
    NON_MARKOVIAN: "friction is instantaneous (constant D, Markovian dynamics)",
    DOUBLE_LAYER_OVERLAP: "(informational) the pore is wide compared with the Debye length",
    DEBYE_RESOLUTION: "(informational) the mesh resolves the Debye layer",
    SURFACE_CONDUCTION: "(informational) bulk conduction dominates the pore conductance",
}

#: What to use instead when a check warns or fails.
ADVICE: dict[str, str] = {
    FINITE_SIZE: (
        'size-modified PNP for moderate crowding: ion_model = "steric" (Bikerman / '
        'Kilic-Bazant-Ajdari, per-species sizes; PB model "bikerman" at equilibrium), '
        "compare with pnp.results.model_comparison.compare_models; Brownian dynamics or MD "
        "(stochastic.langevin, stochastic.md) with a PMF for single-file or sub-2-diameter pores"
    ),
    CORRELATIONS: (
        'correlation-corrected continuum: ion_model = "steric+correlations" (Bazant-Storey-'
        "Kornyshev modified Poisson, correlation length l_c; shows overscreening and charge "
        "inversion qualitatively) for moderate coupling; a particle simulation (Brownian "
        "dynamics / MD) that resolves individual ions for strong coupling or quantitative work"
    ),
    NON_MARKOVIAN: (
        "a generalized Langevin equation with the friction kernel (memory) instead of a constant D"
    ),
    DOUBLE_LAYER_OVERLAP: (
        "nothing required; expect perm-selectivity and check the sensitivity to the wall "
        "charge (narrow pores also miss the dielectric self-energy: see Corry et al. 2000)"
    ),
    DEBYE_RESOLUTION: "refine the mesh near charged walls to a few cells per Debye length",
    SURFACE_CONDUCTION: (
        "nothing required; report surface and bulk contributions to the conductance separately"
    ),
}


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Finding:
    """The outcome of one check in one region.

    Parameters
    ----------
    check
        Check name (``"finite_size"``, ``"correlations"``, ``"non_markovian"``,
        ``"double_layer_overlap"``, ``"debye_resolution"``, ``"surface_conduction"``).
    severity
        :class:`Severity`.
    message
        One readable sentence with the numbers.
    region
        Region name, or ``None`` for a check without a place (e.g. a bulk electrolyte).
    z
        Axial position [nm] of the worst point in the region, or ``None``.
    values
        The numbers behind the verdict, by name with the unit in the name (``"R_min_nm"``).
    level
        ``"problem"`` (from the inputs alone) or ``"solution"`` (from solved fields).
    skipped
        True when an optional input was missing and the check did not run (``message`` says why).
    position
        Full coordinates [nm] of the worst cell (solution level), or ``None``.
    """

    check: str
    severity: Severity
    message: str
    region: str | None = None
    z: float | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    level: str = "problem"
    skipped: bool = False
    position: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity.parse(self.severity))
        object.__setattr__(self, "values", _freeze(self.values))
        if self.position is not None:
            object.__setattr__(self, "position", tuple(float(x) for x in self.position))
        if self.check not in ASSUMPTIONS:
            raise ValueError(f"unknown check {self.check!r}; known: {sorted(ASSUMPTIONS)}")

    @property
    def assumption(self) -> str:
        """The assumption this check tests."""
        return ASSUMPTIONS[self.check]

    @property
    def advice(self) -> str:
        """What to use instead; empty when the finding is OK or skipped."""
        if self.skipped or self.severity == Severity.OK:
            return ""
        return ADVICE[self.check]

    @property
    def where(self) -> str:
        """Region and axial position as text."""
        if self.region is None:
            return "-"
        if self.z is None:
            return self.region
        return f"{self.region} @ z={self.z:.3g} nm"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-ready)."""
        return {
            "check": self.check,
            "severity": self.severity.label,
            "skipped": self.skipped,
            "level": self.level,
            "region": self.region,
            "z_nm": self.z,
            "position_nm": list(self.position) if self.position is not None else None,
            "assumption": self.assumption,
            "message": self.message,
            "advice": self.advice,
            "values": {k: _jsonable(v) for k, v in self.values.items()},
        }

    def __str__(self) -> str:
        status = "skipped" if self.skipped else self.severity.label
        text = f"[{status}] {self.check} ({self.where}): {self.message}"
        if self.advice:
            text += f" -> use instead: {self.advice}"
        return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return value
