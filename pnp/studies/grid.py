"""Parameter grids of a study: named axes with units in their names, and the points they span.

A :class:`ParameterGrid` is the Cartesian product of its axes (in the order given). The axis
names are the column names of the study table, so every name carries its unit:

==========================  ====================================================================
axis                        meaning
==========================  ====================================================================
``voltage_mV``              applied voltage ``phi_top - phi_bottom`` [mV]
``concentration_mM``        salt concentration of both baths [mM]
``concentration_top_mM``    salt concentration of the top bath [mM] (per-side sweeps)
``concentration_bottom_mM`` salt concentration of the bottom bath [mM]
``temperature_K``           temperature [K]
``surface_charge_C_per_m2`` surface charge density of the charged walls [C/m^2]
geometry axes               see :data:`GEOMETRY_AXES` (lengths in nm, angles in degrees); a new
                            value rebuilds the mesh (once per geometry point)
``mesh_refinement``         factor dividing both mesh sizes (convergence studies)
==========================  ====================================================================

The grid itself is generic (any identifier is a valid axis name); a study model (e.g.
:class:`pnp.studies.channel.ChannelPNPModel`) says which axes it accepts.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from poreflux.errors import InputError

__all__ = [
    "CONCENTRATION",
    "CONCENTRATION_BOTTOM",
    "CONCENTRATION_TOP",
    "CONDITION_AXES",
    "GEOMETRY_AXES",
    "SURFACE_CHARGE",
    "TEMPERATURE",
    "VOLTAGE",
    "ParameterGrid",
    "StudyPoint",
    "expand_values",
]

VOLTAGE = "voltage_mV"
CONCENTRATION = "concentration_mM"
CONCENTRATION_TOP = "concentration_top_mM"
CONCENTRATION_BOTTOM = "concentration_bottom_mM"
TEMPERATURE = "temperature_K"
SURFACE_CHARGE = "surface_charge_C_per_m2"

#: Axes that change the conditions of a solve but not the mesh.
CONDITION_AXES: tuple[str, ...] = (
    VOLTAGE,
    CONCENTRATION,
    CONCENTRATION_TOP,
    CONCENTRATION_BOTTOM,
    TEMPERATURE,
    SURFACE_CHARGE,
)

#: Axes that change the geometry (and so rebuild the mesh). Lengths in nm, angles in degrees.
GEOMETRY_AXES: tuple[str, ...] = (
    "radius_nm",
    "radius_bottom_nm",
    "radius_top_nm",
    "constriction_radius_nm",
    "constriction_z_nm",
    "constriction_length_nm",
    "cone_angle_deg",
    "thickness_nm",
    "bath_radius_nm",
    "bath_height_nm",
    "protein_thickness_nm",
    "h_pore_nm",
    "h_bath_nm",
    "mesh_refinement",
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Largest number of points a grid may span (a typo guard: 10 axes of 10 values is 1e10).
MAX_POINTS = 100_000


def expand_values(spec: Any, what: str) -> tuple[float, ...]:
    """Axis values from a number, a list of numbers or a range table.

    Range tables: ``{"start": a, "stop": b, "step": s}`` (inclusive of ``stop`` when it lies on
    the step lattice), ``{"start": a, "stop": b, "num": n}`` (``n`` evenly spaced values) or
    ``{"start": a, "stop": b, "num": n, "log": true}`` (log-spaced, positive ends).

    Raises
    ------
    InputError
        For empty lists, non-numbers, non-finite values, duplicates or a bad range.
    """
    if isinstance(spec, Mapping):
        return _expand_range(spec, what)
    if isinstance(spec, bool):
        raise InputError(f"{what} must be a number or a list of numbers, got {spec!r}")
    if isinstance(spec, int | float):
        values: Sequence[Any] = [spec]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        values = list(spec)
    else:
        raise InputError(f"{what} must be a number, a list of numbers or a range, got {spec!r}")
    if not values:
        raise InputError(f"{what} is an empty list: give at least one value")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InputError(f"{what}[{i}] must be a number, got {v!r}")
        x = float(v)
        if not math.isfinite(x):
            raise InputError(f"{what}[{i}] must be finite, got {v!r}")
        out.append(x)
    dup = sorted({x for x in out if out.count(x) > 1})
    if dup:
        raise InputError(f"{what} lists {dup} more than once; give each value once")
    return tuple(out)


_RANGE_KEYS = ("start", "stop", "step", "num", "log")


def _expand_range(spec: Mapping[str, Any], what: str) -> tuple[float, ...]:
    unknown = sorted(set(spec) - set(_RANGE_KEYS))
    if unknown:
        raise InputError(
            f"{what}: unknown range key(s) {unknown}; allowed keys: {list(_RANGE_KEYS)}"
        )
    for key in ("start", "stop"):
        if key not in spec:
            raise InputError(f"{what}: a range needs 'start' and 'stop' (and 'step' or 'num')")
    if ("step" in spec) == ("num" in spec):
        raise InputError(f"{what}: give exactly one of 'step' and 'num' in a range")
    start = expand_values(spec["start"], f"{what}.start")
    stop = expand_values(spec["stop"], f"{what}.stop")
    if len(start) != 1 or len(stop) != 1:
        raise InputError(f"{what}: range start and stop must be single numbers")
    a, b = start[0], stop[0]
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise InputError(f"{what}.log must be true or false, got {log!r}")
    if "num" in spec:
        n = spec["num"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"{what}.num must be an integer >= 1, got {n!r}")
        if n == 1:
            return (a,)
        if log:
            if a <= 0 or b <= 0:
                raise InputError(f"{what}: a log range needs positive start and stop")
            ratio = (b / a) ** (1.0 / (n - 1))
            return tuple(_clean(a * ratio**k) for k in range(n))
        return tuple(_clean(a + (b - a) * k / (n - 1)) for k in range(n))
    if log:
        raise InputError(f"{what}: 'log' needs 'num', not 'step'")
    step = expand_values(spec["step"], f"{what}.step")[0]
    if step == 0 or (b - a) * step < 0:
        raise InputError(
            f"{what}: step {step:g} does not lead from {a:g} to {b:g}; use a step of the sign of "
            "stop - start"
        )
    count = math.floor((b - a) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise InputError(
            f"{what}: the range has {count} values (> {MAX_POINTS}); use a larger step"
        )
    return tuple(_clean(a + k * step) for k in range(count))


def _clean(x: float) -> float:
    """Round away float noise of range arithmetic (12 significant digits)."""
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class StudyPoint:
    """One point of a grid: its position, a stable id and the axis values.

    Attributes
    ----------
    index
        Position in the grid's Cartesian order (0-based).
    values
        Axis name -> value (units in the names).
    """

    index: int
    values: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", dict(self.values))

    @property
    def id(self) -> str:
        """Stable identifier (``p00012``), the same on every rerun of the same definition."""
        return f"p{self.index:05d}"

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """Value of an axis, or ``default`` when the grid has no such axis."""
        return self.values.get(name, default)

    def subset(self, names: Sequence[str]) -> tuple[tuple[str, float], ...]:
        """``(name, value)`` pairs of the named axes present in this point (a hashable key)."""
        return tuple((n, self.values[n]) for n in names if n in self.values)

    def label(self, skip: Sequence[str] = ()) -> str:
        """Short human label, e.g. ``"concentration_mM=150, radius_nm=1"``."""
        return ", ".join(f"{k}={v:g}" for k, v in self.values.items() if k not in skip)


@dataclass(frozen=True)
class ParameterGrid:
    """A Cartesian grid of named parameter axes.

    Parameters
    ----------
    axes
        Axis name -> values (a number, a list or a range table, see :func:`expand_values`).
        Names are identifiers with the unit in the name (``voltage_mV``); order is kept.

    Examples
    --------
    >>> g = ParameterGrid({"concentration_mM": [10, 100], "voltage_mV": [-50, 0, 50]})
    >>> g.size, g.points()[1].values["voltage_mV"]
    (6, 0.0)
    """

    axes: Mapping[str, Any]
    _values: Mapping[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.axes, Mapping):
            raise InputError("a parameter grid needs a mapping axis name -> values")
        if not self.axes:
            raise InputError(
                f"the parameter grid is empty: give at least one axis, e.g. {VOLTAGE} = [0, 50]"
            )
        values = {}
        for name, spec in self.axes.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise InputError(f"axis name {name!r} is not an identifier (e.g. {VOLTAGE})")
            values[name] = expand_values(spec, name)
        size = math.prod(len(v) for v in values.values())
        if size > MAX_POINTS:
            raise InputError(f"the grid has {size} points (> {MAX_POINTS}); sweep fewer values")
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "axes", {k: list(v) for k, v in values.items()})

    @property
    def names(self) -> tuple[str, ...]:
        """Axis names in order."""
        return tuple(self._values)

    def values(self, name: str) -> tuple[float, ...]:
        """Values of one axis."""
        try:
            return self._values[name]
        except KeyError:
            raise InputError(f"the grid has no axis {name!r}; axes: {list(self.names)}") from None

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values per axis."""
        return tuple(len(v) for v in self._values.values())

    @property
    def size(self) -> int:
        """Number of points."""
        return math.prod(self.shape)

    def __iter__(self) -> Iterator[StudyPoint]:
        return iter(self.points())

    def __len__(self) -> int:
        return self.size

    def points(self) -> tuple[StudyPoint, ...]:
        """Every point in Cartesian order (the last axis varies fastest)."""
        names = self.names
        return tuple(
            StudyPoint(i, dict(zip(names, combo, strict=True)))
            for i, combo in enumerate(itertools.product(*self._values.values()))
        )

    def to_dict(self) -> dict[str, list[float]]:
        """Plain data (for the study definition and its hash)."""
        return {k: list(v) for k, v in self._values.items()}
