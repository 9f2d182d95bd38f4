"""Harmonic umbrella windows ``w_k(xi) = (kappa_k/2) (xi - xi_k)^2`` along one collective variable.

Energies are handled in reduced units (kT) inside the estimators. A spring constant may be given
in ``kT`` per squared coordinate unit (``energy_unit="kT"``) or in ``kJ/mol`` per squared
coordinate unit (``energy_unit="kJ/mol"``; the temperature in K then converts it). The coordinate
unit is the user's: nm for a position along a pore axis, rad for an angle.

For a periodic coordinate (an angle) give ``period``; the displacement ``xi - xi_k`` is then the
minimum image in ``[-period/2, period/2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from poreflux.units import kT_kj_per_mol
from stochastic.pmf.errors import PMFInputError

__all__ = ["UmbrellaWindow", "WindowSet", "evenly_spaced_windows", "wrap"]

_UNITS = ("kT", "kJ/mol")


def wrap(dx: np.ndarray | float, period: float | None) -> np.ndarray:
    """Minimum-image displacement in ``[-period/2, period/2)`` (identity if ``period`` is None)."""
    dx = np.asarray(dx, dtype=float)
    if period is None:
        return dx
    return dx - period * np.floor(dx / period + 0.5)


@dataclass(frozen=True)
class UmbrellaWindow:
    """One harmonic restraint ``(kappa/2) (xi - center)^2``.

    Parameters
    ----------
    center : float
        Restraint centre ``xi_k`` (coordinate units: nm, rad, ...).
    kappa : float
        Spring constant, strictly positive, in ``energy_unit`` per squared coordinate unit.
    energy_unit : {"kT", "kJ/mol"}
        Unit of the restraint energy: kT (so ``kappa`` is in kT/nm^2 for a length) or kJ/mol (so
        ``kappa`` is in kJ/mol/nm^2).
    period : float, optional
        Period of the coordinate (e.g. ``2*pi`` for an angle in rad); None for a non-periodic one.
    """

    center: float
    kappa: float
    energy_unit: str = "kT"
    period: float | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.center):
            raise PMFInputError(f"window centre must be finite, got {self.center!r}")
        if not np.isfinite(self.kappa) or self.kappa <= 0.0:
            raise PMFInputError(
                f"window at xi={self.center:g}: spring constant kappa={self.kappa!r} must be a "
                "finite positive number (a zero spring does not restrain; use an unbiased run "
                "and its histogram instead)"
            )
        if self.energy_unit not in _UNITS:
            raise PMFInputError(f"energy_unit must be one of {_UNITS}, got {self.energy_unit!r}")
        if self.period is not None and (not np.isfinite(self.period) or self.period <= 0.0):
            raise PMFInputError(f"period must be a finite positive number, got {self.period!r}")

    def kappa_kT(self, temperature: float | None = None) -> float:
        """Spring constant in kT per squared coordinate unit (temperature [K] needed for kJ/mol)."""
        if self.energy_unit == "kT":
            return float(self.kappa)
        if temperature is None:
            raise PMFInputError(
                "a window with kappa in kJ/mol needs the temperature (K) to convert it to kT"
            )
        return float(self.kappa) / kT_kj_per_mol(temperature)

    def displacement(self, xi: np.ndarray | float) -> np.ndarray:
        """``xi - center`` (minimum image for a periodic coordinate)."""
        return wrap(np.asarray(xi, dtype=float) - self.center, self.period)

    def energy(self, xi: np.ndarray | float) -> np.ndarray:
        """Restraint energy in ``energy_unit``."""
        d = self.displacement(xi)
        return 0.5 * self.kappa * d * d

    def reduced_energy(
        self, xi: np.ndarray | float, temperature: float | None = None
    ) -> np.ndarray:
        """Restraint energy in kT."""
        d = self.displacement(xi)
        return 0.5 * self.kappa_kT(temperature) * d * d

    def force(self, xi: np.ndarray | float) -> np.ndarray:
        """Restraint force ``-dw/dxi`` in ``energy_unit`` per coordinate unit."""
        return -self.kappa * self.displacement(xi)


@dataclass(frozen=True)
class WindowSet:
    """An ordered set of umbrella windows on one coordinate, at one temperature.

    Parameters
    ----------
    windows : sequence of UmbrellaWindow
        All with the same ``period``.
    temperature : float, optional
        Temperature [K]; needed only when some ``kappa`` is in kJ/mol.
    """

    windows: tuple[UmbrellaWindow, ...]
    temperature: float | None = None
    centers: np.ndarray = field(init=False, repr=False, compare=False)
    kappas: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        wins = tuple(self.windows)
        if len(wins) == 0:
            raise PMFInputError("a WindowSet needs at least one window")
        for w in wins:
            if not isinstance(w, UmbrellaWindow):
                raise PMFInputError(f"windows must be UmbrellaWindow objects, got {type(w)!r}")
        periods = {w.period for w in wins}
        if len(periods) > 1:
            raise PMFInputError(
                f"all windows must share one period, got {sorted(map(str, periods))}"
            )
        object.__setattr__(self, "windows", wins)
        object.__setattr__(self, "centers", np.array([w.center for w in wins], dtype=float))
        kap = np.array([w.kappa_kT(self.temperature) for w in wins], dtype=float)
        object.__setattr__(self, "kappas", kap)
        self.centers.setflags(write=False)
        self.kappas.setflags(write=False)

    @property
    def period(self) -> float | None:
        """Period of the coordinate (None if not periodic)."""
        return self.windows[0].period

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, k: int) -> UmbrellaWindow:
        return self.windows[k]

    def __iter__(self):
        return iter(self.windows)

    def reduced_bias(self, xi: np.ndarray) -> np.ndarray:
        """Reduced bias ``u_kn = w_k(xi_n)/kT`` of every window on samples ``xi``: shape (K, n)."""
        xi = np.asarray(xi, dtype=float).reshape(1, -1)
        d = wrap(xi - self.centers[:, None], self.period)
        return 0.5 * self.kappas[:, None] * d * d

    def to_dict(self) -> dict:
        """JSON-serialisable description (used by the run manifest)."""
        return {
            "temperature": self.temperature,
            "windows": [
                {
                    "center": w.center,
                    "kappa": w.kappa,
                    "energy_unit": w.energy_unit,
                    "period": w.period,
                }
                for w in self.windows
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> WindowSet:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(UmbrellaWindow(**w) for w in d["windows"]), d.get("temperature"))


def evenly_spaced_windows(
    lo: float,
    hi: float,
    n: int,
    kappa: float,
    *,
    energy_unit: str = "kT",
    period: float | None = None,
    temperature: float | None = None,
) -> WindowSet:
    """``n`` windows with the same spring constant, centres evenly spaced on ``[lo, hi]``.

    For a periodic coordinate the centres are ``lo + j*period/n`` (``hi`` is ignored), so the
    windows tile the whole circle and the last one neighbours the first across the boundary.
    """
    if int(n) < 1:
        raise PMFInputError(f"need at least one window, got n={n}")
    if period is None:
        if not hi > lo:
            raise PMFInputError(f"need hi > lo, got lo={lo}, hi={hi}")
        centers: Sequence[float] = np.linspace(lo, hi, int(n))
    else:
        centers = lo + period * np.arange(int(n)) / int(n)
    return WindowSet(
        tuple(UmbrellaWindow(float(c), kappa, energy_unit, period) for c in centers), temperature
    )
