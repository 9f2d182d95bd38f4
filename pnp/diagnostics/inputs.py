"""Plain descriptions the problem-level checks read: the axial pore profile and the inputs.

These are numbers and arrays only (a hopping time from a PMF is computed by the caller, e.g.
``stochastic.smoluchowski.hopping_time_ns``); they are validated on construction (bad values raise
:class:`poreflux.errors.InputError` saying what to change) and never mutated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pnp.diagnostics import quantities as q
from poreflux.errors import InputError
from poreflux.species import Electrolyte

#: Region name used when no profile is given (a bulk electrolyte).
BULK = "bulk"
#: Region names that are reservoirs: a scalar surface charge does not apply to them.
BATH_NAMES = ("bath", "bath_top", "bath_bottom", "reservoir")


def _readonly(a: npt.ArrayLike) -> np.ndarray:
    arr = np.array(a, dtype=float)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class AxialProfile:
    """Pore radius along the axis, ``R(z)``, with the region each sample belongs to.

    Parameters
    ----------
    z
        Axial positions [nm], strictly increasing.
    radius
        Radius of the water-filled cross-section [nm] at each ``z`` (> 0; ``inf`` allowed for an
        unbounded bath).
    region
        Region name of each sample (e.g. ``"bath"``, ``"pore"``).

    Use :meth:`from_spans` to label samples by z ranges.
    """

    z: np.ndarray
    radius: np.ndarray
    region: tuple[str, ...]

    def __post_init__(self) -> None:
        z = _readonly(self.z)
        r = _readonly(self.radius)
        if z.ndim != 1 or z.size < 1 or r.shape != z.shape:
            raise InputError("an axial profile needs matching 1D arrays z [nm] and radius [nm]")
        if not np.all(np.isfinite(z)) or np.any(np.diff(z) <= 0):
            raise InputError("profile positions z must be finite and strictly increasing")
        if np.any(np.isnan(r)) or np.any(r <= 0):
            raise InputError("pore radius R(z) must be > 0 nm everywhere (inf for an open bath)")
        region = tuple(str(x) for x in self.region)
        if len(region) != z.size:
            raise InputError(f"{z.size} profile samples but {len(region)} region labels")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "radius", r)
        object.__setattr__(self, "region", region)

    @classmethod
    def from_spans(
        cls,
        z: npt.ArrayLike,
        radius: npt.ArrayLike,
        spans: Mapping[str, tuple[float, float]] | Sequence[tuple[str, float, float]],
    ) -> AxialProfile:
        """Label samples by z ranges: ``{"pore": (-2, 2), "bath": (-10, -2)}`` or a list of
        ``(name, z_min, z_max)`` (a name may repeat). Ranges are closed; the first match wins;
        every sample must fall in one."""
        items = (
            [(name, lo, hi) for name, (lo, hi) in spans.items()]
            if isinstance(spans, Mapping)
            else [tuple(s) for s in spans]
        )
        zz = np.asarray(z, dtype=float)
        labels: list[str | None] = [None] * zz.size
        for k, zk in enumerate(zz):
            for name, lo, hi in items:
                if lo <= zk <= hi:
                    labels[k] = str(name)
                    break
        missing = [float(zk) for zk, lab in zip(zz, labels, strict=True) if lab is None]
        if missing:
            raise InputError(f"profile samples at z = {missing[:5]} nm lie in no region span")
        return cls(zz, np.asarray(radius, dtype=float), tuple(labels))  # type: ignore[arg-type]

    @property
    def region_names(self) -> tuple[str, ...]:
        """Distinct region names in axial order of first appearance."""
        return tuple(dict.fromkeys(self.region))

    def indices(self, name: str) -> np.ndarray:
        """Sample indices of a region."""
        return np.flatnonzero(np.asarray(self.region) == name)

    def radius_at(self, z: npt.ArrayLike) -> np.ndarray:
        """``R`` [nm] at arbitrary ``z`` by linear interpolation (nearest value outside; an
        infinite neighbour gives ``inf``)."""
        zq = np.asarray(z, dtype=float)
        finite = np.where(np.isfinite(self.radius), self.radius, np.nan)
        with np.errstate(invalid="ignore"):
            out = np.interp(zq, self.z, finite)
        return np.where(np.isnan(out), np.inf, out)


def _positive(name: str, value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number in {unit}, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{name} must be > 0 {unit}, got {value!r}")
    return v


@dataclass(frozen=True, eq=False)
class DiagnosticInputs:
    """What the problem-level checks need, before any solve.

    Parameters
    ----------
    electrolyte
        Bath electrolyte (species carry valence and radii).
    temperature
        Temperature [K].
    permittivity
        Relative permittivity of the water, one number or per region name (default 78.46, water at
        298.15 K; give the value for your temperature).
    profile
        Pore radius profile ``R(z)`` with region labels; without it the checks see one bulk region.
    surface_charge
        Wall surface charge [C/m^2], one number (for every region that is not a bath) or per region.
    mesh_size
        Cell size [nm], one number or per region (for the Debye-layer resolution note).
    memory_time
        Memory time of the ion's friction [ns] (e.g. from MD); or give ``friction_kernel``.
    friction_kernel
        ``(t [ns], K(t))`` arrays; the memory time is ``int K dt / K(0)``.
    hopping_time
        Hopping time [ns] of an ion across the pore, a number or a zero-argument callable
        returning one (evaluated when the check runs). From a 1D PMF:
        ``stochastic.smoluchowski.hopping_time_ns(profile)`` (MFPT, or ``method="kramers"``).
    hop_region
        Region where the hop takes place (for the location of the non-Markovian finding); by
        default the region holding the narrowest point of the profile.
    """

    electrolyte: Electrolyte
    temperature: float
    permittivity: float | Mapping[str, float] = q.EPS_WATER_298
    profile: AxialProfile | None = None
    surface_charge: float | Mapping[str, float] | None = None
    mesh_size: float | Mapping[str, float] | None = None
    memory_time: float | None = None
    friction_kernel: tuple[npt.ArrayLike, npt.ArrayLike] | None = None
    hopping_time: float | Callable[[], float] | None = None
    hop_region: str | None = None
    _eps: dict[str, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.electrolyte, Electrolyte):
            raise InputError(
                f"electrolyte must be a poreflux.Electrolyte (e.g. poreflux.salt('KCl', 150)), got "
                f"{type(self.electrolyte).__name__}"
            )
        object.__setattr__(self, "temperature", q.check_temperature(self.temperature))
        if self.profile is not None and not isinstance(self.profile, AxialProfile):
            raise InputError("profile must be an AxialProfile (see AxialProfile.from_spans)")
        names = self.region_names
        eps: dict[str, float] = {}
        if isinstance(self.permittivity, Mapping):
            for name in names:
                value = self.permittivity.get(name)
                if value is None and name == BULK:
                    value = self.permittivity.get("bath")
                if value is None:
                    raise InputError(
                        f"no permittivity for region {name!r}; the map has "
                        f"{sorted(self.permittivity)}"
                    )
                eps[name] = float(q.check_permittivity(value, where=f"region {name!r}"))
        else:
            value = float(q.check_permittivity(self.permittivity))
            eps = dict.fromkeys(names, value)
        object.__setattr__(self, "_eps", eps)
        for name, value in self._per_region(self.surface_charge, "surface_charge").items():
            if not math.isfinite(value):
                raise InputError(f"surface charge of {name!r} must be finite C/m^2")
        for name, value in self._per_region(self.mesh_size, "mesh_size").items():
            _positive(f"mesh size of {name!r}", value, "nm")
        object.__setattr__(self, "memory_time", _positive("memory_time", self.memory_time, "ns"))
        if self.friction_kernel is not None:
            q.memory_time_from_kernel_ns(*self.friction_kernel)
        if self.hopping_time is not None and not callable(self.hopping_time):
            object.__setattr__(
                self, "hopping_time", _positive("hopping_time", self.hopping_time, "ns")
            )
        if self.hop_region is not None and self.hop_region not in names:
            raise InputError(f"hop_region {self.hop_region!r} is not one of the regions {names}")

    # --- per-region look-ups ---------------------------------------------------------------------
    @property
    def region_names(self) -> tuple[str, ...]:
        """Regions in axial order (``("bulk",)`` without a profile)."""
        return self.profile.region_names if self.profile is not None else (BULK,)

    def eps_r(self, region: str) -> float:
        """Relative permittivity of a region."""
        return self._eps[region]

    def _per_region(
        self, value: float | Mapping[str, float] | None, label: str
    ) -> dict[str, float]:
        if value is None:
            return {}
        if isinstance(value, Mapping):
            unknown = set(value) - set(self.region_names)
            if unknown:
                raise InputError(
                    f"{label} given for unknown regions {sorted(unknown)}; regions are "
                    f"{self.region_names}"
                )
            return {k: float(v) for k, v in value.items()}
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{label} must be a number or a map region -> number") from None
        if label == "surface_charge":
            return {n: v for n in self.region_names if n not in BATH_NAMES and n != BULK}
        return dict.fromkeys(self.region_names, v)

    def surface_charge_of(self, region: str) -> float:
        """Wall charge [C/m^2] of a region (0 when none given)."""
        return self._per_region(self.surface_charge, "surface_charge").get(region, 0.0)

    def mesh_size_of(self, region: str) -> float | None:
        """Cell size [nm] of a region, or ``None``."""
        return self._per_region(self.mesh_size, "mesh_size").get(region)

    # --- time scales -----------------------------------------------------------------------------
    def resolved_memory_time(self) -> tuple[float | None, str]:
        """``(tau_mem [ns] or None, where it came from)``."""
        if self.memory_time is not None:
            return self.memory_time, "given"
        if self.friction_kernel is not None:
            return q.memory_time_from_kernel_ns(*self.friction_kernel), "friction kernel"
        return None, ""

    def resolved_hopping_time(self) -> tuple[float | None, str]:
        """``(tau_hop [ns] or None, where it came from)``."""
        if self.hopping_time is not None:
            return q.evaluate_hopping_time_ns(self.hopping_time), "given"
        return None, ""
