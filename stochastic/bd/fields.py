"""External fields on regular grids for Brownian dynamics: the static potential and self-energy.

A :class:`GridField` is plain data: uniformly spaced axes [nm] and values on their tensor grid,
with a unit. Two layouts are accepted:

- axisymmetric: ``axes = (r, z)``, ``values[i, j] = f(r_i, z_j)``, interpolated bilinearly in
  ``(r, z)`` with ``r = sqrt(x^2 + y^2)``; ``r`` must start at 0;
- Cartesian: ``axes = (x, y, z)``, interpolated trilinearly.

This is the format a finite-element solution is exported to: sample the Poisson-Boltzmann
potential (fixed charges, with or without the applied voltage) at the grid nodes in mV (or kT/e)
and the dielectric self-energy of a unit charge in kT. The grid must cover the BD box (checked
when the system is built).

:class:`ExternalField` combines them. The ion energy is ``U_s = z_s phi/(kT/e) + z_s^2 S`` [kT]
(``S`` the self-energy of a unit charge, or a per-species self-energy given by name) plus, when no
grid carries the applied voltage, the constant-field drop: ``phi = V`` for ``z < -L/2``, linear
across the membrane, 0 for ``z > L/2`` (``V`` = left minus right bath potential). The constant
field is the Goldman approximation (D. E. Goldman, J. Gen. Physiol. 27, 37 (1943)): it ignores
the field's focusing into the pore and the reaction field of the membrane.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from poreflux import units
from stochastic.bd.geometry import BDInputError, ChannelGeometry

__all__ = ["ExternalField", "GridField"]

_UNITS = ("mV", "kT/e", "kT")


@dataclass(frozen=True, eq=False)
class GridField:
    """Values on a regular axisymmetric ``(r, z)`` or Cartesian ``(x, y, z)`` grid.

    Parameters
    ----------
    axes
        ``(r, z)`` or ``(x, y, z)`` [nm]; each uniformly spaced and increasing, >= 2 points.
    values
        Array of shape ``tuple(len(ax) for ax in axes)``; finite.
    unit
        ``"mV"`` or ``"kT/e"`` for a potential, ``"kT"`` for an energy.
    """

    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    unit: str

    def __post_init__(self) -> None:
        if len(self.axes) not in (2, 3):
            raise BDInputError(f"grid axes must be (r, z) or (x, y, z), got {len(self.axes)} axes")
        axes = tuple(np.array(ax, dtype=float) for ax in self.axes)
        for k, ax in enumerate(axes):
            h = np.diff(ax)
            if ax.ndim != 1 or ax.size < 2 or not np.all(np.isfinite(ax)):
                raise BDInputError(f"grid axis {k} must be a finite 1D array of >= 2 points")
            if np.any(h <= 0) or np.ptp(h) > 1e-6 * h[0]:
                raise BDInputError(
                    f"grid axis {k} must be uniformly spaced and increasing (resample the "
                    "field onto a regular grid first)"
                )
        if len(axes) == 2 and abs(axes[0][0]) > 1e-12:
            raise BDInputError(
                f"the r axis of an axisymmetric grid must start at 0, got {axes[0][0]}"
            )
        values = np.array(self.values, dtype=float)
        shape = tuple(ax.size for ax in axes)
        if values.shape != shape:
            raise BDInputError(f"grid values have shape {values.shape}, the axes need {shape}")
        if not np.all(np.isfinite(values)):
            raise BDInputError("grid values must be finite (no NaN/inf)")
        if self.unit not in _UNITS:
            raise BDInputError(f"grid unit must be one of {_UNITS}, got {self.unit!r}")
        for arr in (*axes, values):
            arr.setflags(write=False)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "values", values)

    @property
    def axisymmetric(self) -> bool:
        """True for an ``(r, z)`` grid."""
        return len(self.axes) == 2

    def in_kT(self, temperature: float) -> np.ndarray:
        """Values in kT (energies) or kT/e (potentials)."""
        if self.unit == "mV":
            return self.values / units.thermal_voltage_mV(temperature)
        return np.asarray(self.values)

    def check_covers(self, geometry: ChannelGeometry, name: str) -> None:
        """Raise :class:`BDInputError` unless the grid covers the BD box of ``geometry``."""
        (x0, x1), (y0, y1), (z0, z1) = geometry.box
        need = (
            [(0.0, geometry.bath_radius), (z0, z1)]
            if self.axisymmetric
            else [(x0, x1), (y0, y1), (z0, z1)]
        )
        labels = ("r", "z") if self.axisymmetric else ("x", "y", "z")
        for ax, (lo, hi), lab in zip(self.axes, need, labels, strict=True):
            tol = 1e-9 * max(1.0, abs(lo), abs(hi))
            if ax[0] > lo + tol or ax[-1] < hi - tol:
                raise BDInputError(
                    f"{name}: the grid's {lab} axis [{ax[0]:g}, {ax[-1]:g}] nm does not cover "
                    f"the BD box [{lo:g}, {hi:g}] nm; extend the grid (or shrink the baths)"
                )

    def resampled(self, axes: tuple[np.ndarray, ...]) -> np.ndarray:
        """Values (in the stored unit) interpolated onto the tensor grid ``axes``."""
        if len(axes) != len(self.axes):
            raise BDInputError("potential and self-energy grids must both be (r, z) or (x, y, z)")
        interp = RegularGridInterpolator(
            self.axes, self.values, bounds_error=False, fill_value=None
        )
        mesh = np.meshgrid(*axes, indexing="ij")
        return interp(np.stack([m.ravel() for m in mesh], axis=-1)).reshape(mesh[0].shape)


@dataclass(frozen=True, eq=False)
class ExternalField:
    """The static external energy of the ions.

    Parameters
    ----------
    voltage_mV
        Applied voltage ``V`` = left bath minus right bath [mV]; positive drives cations left
        to right (positive current).
    potential
        Static potential grid (fixed charges, and the applied voltage if
        ``voltage_in_potential``) in mV or kT/e; ``None``: no fixed charges.
    voltage_in_potential
        True if ``potential`` already contains the applied voltage; otherwise the constant-field
        drop of ``voltage_mV`` is added to it (superposition, exact for a linear Poisson problem).
    self_energy
        Dielectric self-energy [kT] of a unit charge (scaled by ``z^2``), or a mapping species
        name -> self-energy grid of that species; ``None``: no dielectric boundary.
    """

    voltage_mV: float = 0.0
    potential: GridField | None = None
    voltage_in_potential: bool = False
    self_energy: GridField | Mapping[str, GridField] | None = None

    def __post_init__(self) -> None:
        v = float(self.voltage_mV)
        if not math.isfinite(v):
            raise BDInputError(f"voltage_mV must be finite, got {self.voltage_mV!r}")
        object.__setattr__(self, "voltage_mV", v)
        if self.potential is not None:
            if not isinstance(self.potential, GridField):
                raise BDInputError("potential must be a GridField")
            if self.potential.unit == "kT":
                raise BDInputError("potential must be in mV or kT/e, not kT (that is an energy)")
        if self.voltage_in_potential and self.potential is None:
            raise BDInputError("voltage_in_potential=True needs a potential grid")
        for name, grid in self._self_grids().items():
            if not isinstance(grid, GridField) or grid.unit != "kT":
                raise BDInputError(f"self-energy {name!r} must be a GridField in kT")

    def _self_grids(self) -> dict[str, GridField]:
        if self.self_energy is None:
            return {}
        if isinstance(self.self_energy, GridField):
            return {"*": self.self_energy}
        return dict(self.self_energy)

    @property
    def constant_field(self) -> bool:
        """True when the applied voltage enters as the analytic constant-field drop."""
        return not self.voltage_in_potential

    def tabulate(
        self,
        geometry: ChannelGeometry,
        names: tuple[str, ...],
        valences: tuple[int, ...],
        temperature: float,
    ) -> tuple[int, tuple[np.ndarray, ...], np.ndarray]:
        """Per-species energy tables [kT] on one grid for the kernels.

        Returns ``(mode, axes, table)``: mode 0 (no grid), 2 (axisymmetric) or 3 (Cartesian);
        ``table`` has shape ``(n_species, n1, n2, n3)`` (``n3 = 1`` for axisymmetric grids). The
        constant-field drop is not in the table (the kernels add it analytically).
        """
        selfs = self._self_grids()
        unknown = set(selfs) - {"*", *names}
        if unknown:
            raise BDInputError(f"self-energy given for unknown species {sorted(unknown)}")
        grids = ([self.potential] if self.potential is not None else []) + list(selfs.values())
        if not grids:
            unit = np.array([0.0, 1.0])
            return 0, (unit, unit, unit), np.zeros((len(names), 2, 2, 2))
        for k, g in enumerate(grids):
            g.check_covers(geometry, "potential" if (k == 0 and self.potential) else "self-energy")
        axes = grids[0].axes
        table = np.zeros((len(names), *(ax.size for ax in axes)))
        if self.potential is not None:
            phi = self.potential.in_kT(temperature)
            for s, zv in enumerate(valences):
                table[s] += zv * phi
        for s, (name, zv) in enumerate(zip(names, valences, strict=True)):
            if name in selfs:
                table[s] += _on(selfs[name], axes)
            elif "*" in selfs:
                table[s] += zv**2 * _on(selfs["*"], axes)
        if len(axes) == 2:
            return 2, (*axes, np.array([0.0, 1.0])), table[..., None]
        return 3, axes, table


def _on(grid: GridField, axes: tuple[np.ndarray, ...]) -> np.ndarray:
    same = len(grid.axes) == len(axes) and all(
        a.shape == b.shape and np.allclose(a, b) for a, b in zip(grid.axes, axes, strict=True)
    )
    return np.asarray(grid.values) if same else grid.resampled(axes)
