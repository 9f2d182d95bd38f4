"""Forces and walls for Langevin and Brownian dynamics (:mod:`stochastic.langevin`).

Units: positions nm, forces kJ/(mol nm). A force is any callable ``f(x) -> F`` on an array of
positions; :func:`profile_force` tabulates the mean force ``-kT dW/dz`` of a 1D profile and
:func:`axial_force` lifts a 1D force to 3D (along one axis, with an optional radial spring).
:class:`Walls` are absorbing or reflecting planes along one axis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stochastic.profiles import Profile, StochasticInputError

__all__ = ["ForceFn", "TabulatedForce", "Walls", "axial_force", "profile_force"]

ForceFn = Callable[[np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------ forces
@dataclass(frozen=True, eq=False)
class TabulatedForce:
    """Force [kJ/(mol nm)] on a uniform table with linear interpolation (fast, vectorised).

    Outside ``[z0, z0 + h (n-1)]`` the end values are used; confine particles with walls.
    ``max_curvature`` = max |dF/dz| [kJ/(mol nm^2)] is used to validate the time step.
    """

    z0: float
    h: float
    table: np.ndarray
    max_curvature: float

    def __post_init__(self) -> None:
        t = np.asarray(self.table, dtype=float)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "_slope", np.append(np.diff(t), 0.0))

    supports_out = True

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        s = np.subtract(x, self.z0, out=out)
        s *= 1.0 / self.h
        np.clip(s, 0.0, self.table.size - 1.0, out=s)
        i = s.astype(np.intp)
        s -= i
        s *= np.take(self._slope, i)
        s += np.take(self.table, i)
        return s


def profile_force(profile: Profile, n_table: int | None = None) -> TabulatedForce:
    """Mean force ``-kT dW/dz`` [kJ/(mol nm)] of a profile, tabulated on a uniform grid.

    ``n_table`` points (default ``max(4 n_grid, 4001)``) of the profile's interpolant.
    """
    n = max(4 * profile.z.size, 4001) if n_table is None else int(n_table)
    z = np.linspace(profile.z[0], profile.z[-1], n)
    f = -profile.kT_kj_per_mol * profile.dW_at(z)
    curv = float(np.max(np.abs(profile.kT_kj_per_mol * profile.dW_at(z, 2))))
    return TabulatedForce(float(z[0]), float(z[1] - z[0]), f, curv)


def axial_force(force_1d: ForceFn, axis: int = 2, radial_spring: float = 0.0) -> ForceFn:
    """3D force: ``force_1d`` along ``axis``, optional harmonic confinement [kJ/(mol nm^2)]
    towards the axis in the other two coordinates."""

    def f(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x) if radial_spring else np.zeros_like(x)
        if radial_spring:
            np.multiply(x, -radial_spring, out=out)
        out[:, axis] = force_1d(x[:, axis])
        return out

    f.max_curvature = max(getattr(force_1d, "max_curvature", 0.0), radial_spring)  # type: ignore[attr-defined]
    return f


# ------------------------------------------------------------------------------ walls
@dataclass(frozen=True)
class Walls:
    """Planar walls on one coordinate (the only one in 1D, ``axis`` in 3D).

    ``low_kind``/``high_kind`` are ``"reflecting"`` or ``"absorbing"``; ``None`` means no wall.
    """

    low: float | None = None
    high: float | None = None
    low_kind: str = "reflecting"
    high_kind: str = "absorbing"
    axis: int = 2

    def __post_init__(self) -> None:
        for k in (self.low_kind, self.high_kind):
            if k not in ("reflecting", "absorbing"):
                raise StochasticInputError(
                    f"wall kind must be 'reflecting' or 'absorbing', got {k!r}"
                )
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise StochasticInputError(
                f"walls reversed or empty: low = {self.low!r} must be < high = {self.high!r} (nm)"
            )

    def coordinate(self, x: np.ndarray) -> np.ndarray:
        """The walled coordinate of every particle (a view)."""
        return x if x.ndim == 1 else x[:, self.axis]

    def reflect(self, x: np.ndarray, v: np.ndarray | None) -> None:
        """Mirror particles that crossed a reflecting wall (and flip that velocity) in place."""
        c = self.coordinate(x)
        cv = None if v is None else self.coordinate(v)
        if c.size == 0:
            return
        for wall, kind, beyond, extreme in (
            (self.low, self.low_kind, np.less, np.min),
            (self.high, self.high_kind, np.greater, np.max),
        ):
            if wall is None or kind != "reflecting" or not beyond(extreme(c), wall):
                continue  # one reduction: nobody crossed
            m = beyond(c, wall)
            c[m] = 2.0 * wall - c[m]
            if cv is not None:
                cv[m] = -cv[m]

    def absorbed(self, x: np.ndarray) -> np.ndarray:
        """Side of absorption per particle: -1 (low), +1 (high), 0 (not absorbed)."""
        c = self.coordinate(x)
        side = np.zeros(c.shape, dtype=np.int8)
        if c.size == 0:
            return side
        if self.low is not None and self.low_kind == "absorbing" and np.min(c) <= self.low:
            side[c <= self.low] = -1
        if self.high is not None and self.high_kind == "absorbing" and np.max(c) >= self.high:
            side[c >= self.high] = 1
        return side

    def any_absorbed(self, x: np.ndarray) -> bool:
        """True when at least one particle is on or beyond an absorbing wall (cheap check)."""
        c = self.coordinate(x)
        if c.size == 0:
            return False
        low = self.low is not None and self.low_kind == "absorbing" and np.min(c) <= self.low
        high = self.high is not None and self.high_kind == "absorbing" and np.max(c) >= self.high
        return bool(low or high)

    @property
    def has_absorbing(self) -> bool:
        """True when at least one wall absorbs."""
        return (self.low is not None and self.low_kind == "absorbing") or (
            self.high is not None and self.high_kind == "absorbing"
        )
