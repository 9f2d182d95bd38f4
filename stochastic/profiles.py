"""One-dimensional profiles along the pore axis: potential of mean force W(z) and diffusivity D(z).

Units (continuum column of the README's table): ``z`` in nm, ``W`` in kT (converted from kJ/mol
at an explicit temperature), ``D`` in nm^2/ns. A :class:`Profile` is frozen: methods that change
it (adding a voltage drop, shifting) return a new profile.

Friction helpers convert between diffusivity and friction: Einstein ``gamma = kT/D`` and Stokes
``gamma = 6 pi eta R``, in SI (kg/s) and in the particle units of :mod:`stochastic.langevin`
(amu/ps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline, make_interp_spline

from poreflux import units
from poreflux.errors import InputError

__all__ = [
    "Profile",
    "StochasticInputError",
    "einstein_friction_kg_per_s",
    "friction_amu_per_ps_to_kg_per_s",
    "friction_kg_per_s_to_amu_per_ps",
    "stokes_friction_kg_per_s",
]

#: 1 amu/ps in kg/s.
AMU_PER_PS_IN_KG_PER_S: float = units.AMU / units.PS


class StochasticInputError(InputError):
    """Invalid input to the stochastic (1D Smoluchowski / Langevin) models; says what to change."""


def _as_grid(z: np.ndarray) -> np.ndarray:
    z = np.array(z, dtype=float)  # a copy: the frozen profile must not alias the caller's array
    if z.ndim != 1 or z.size < 2:
        raise StochasticInputError(
            f"grid z must be a 1D array with >= 2 points, got shape {z.shape}"
        )
    if not np.all(np.isfinite(z)):
        raise StochasticInputError("grid z contains NaN or inf; give finite positions in nm")
    dz = np.diff(z)
    if np.any(dz <= 0):
        i = int(np.argmax(dz <= 0))
        raise StochasticInputError(
            f"grid z must be strictly increasing (nm); z[{i}] = {z[i]!r} >= z[{i + 1}] = "
            f"{z[i + 1]!r}. Sort the grid (and the values with it) and remove duplicates."
        )
    return z


def _as_values(name: str, values: np.ndarray | float, z: np.ndarray, unit: str) -> np.ndarray:
    v = np.array(values, dtype=float)  # a copy (see _as_grid)
    if v.ndim == 0:
        v = np.full_like(z, float(v))
    if v.shape != z.shape:
        raise StochasticInputError(f"{name} has shape {v.shape}, the grid z has shape {z.shape}")
    if not np.all(np.isfinite(v)):
        i = int(np.argmax(~np.isfinite(v)))
        raise StochasticInputError(
            f"{name} is not finite at z = {z[i]:g} nm (value {v[i]!r}); give finite {unit} values"
        )
    return v


def as_diffusivity(values: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """D on the grid ``z`` [nm^2/ns], checked finite and positive everywhere."""
    d = _as_values("D", values, z, "nm^2/ns")
    if np.any(d <= 0):
        i = int(np.argmax(d <= 0))
        raise StochasticInputError(
            f"D must be > 0 everywhere (nm^2/ns); D = {d[i]!r} at z = {z[i]:g} nm"
        )
    return d


@dataclass(frozen=True, eq=False)
class Profile:
    """Potential of mean force and diffusivity along a 1D coordinate.

    Parameters
    ----------
    z
        Strictly increasing grid [nm].
    W
        Potential of mean force at the grid points [kT] (dimensionless, in units of k_B T at
        ``temperature``).
    D
        Diffusion coefficient at the grid points [nm^2/ns], all > 0.
    temperature
        Temperature [K]; used to convert kJ/mol and mV to kT.
    kind
        Interpolation between grid points: ``"cubic"`` (not-a-knot cubic spline, default) or
        ``"linear"`` (piecewise linear; the finite-volume propagator is exact for it).
    """

    z: np.ndarray
    W: np.ndarray
    D: np.ndarray
    temperature: float
    kind: str = "cubic"

    def __post_init__(self) -> None:
        z = _as_grid(self.z)
        w = _as_values("W", self.W, z, "kT")
        d = as_diffusivity(self.D, z)
        if self.kind not in ("cubic", "linear"):
            raise StochasticInputError(f"kind must be 'cubic' or 'linear', got {self.kind!r}")
        if self.kind == "cubic" and z.size < 4:
            raise StochasticInputError("cubic interpolation needs >= 4 grid points; use 'linear'")
        t = float(self.temperature)
        if not (math.isfinite(t) and t > 0):
            raise StochasticInputError(f"temperature must be > 0 K, got {self.temperature!r}")
        for name, arr in (("z", z), ("W", w), ("D", d)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "temperature", t)

    # ----------------------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        z: np.ndarray,
        *,
        D: np.ndarray | float,
        temperature: float,
        W_kT: np.ndarray | float | None = None,
        W_kj_per_mol: np.ndarray | float | None = None,
        kind: str = "cubic",
    ) -> Profile:
        """Profile from arrays; give W in kT (``W_kT``) or in kJ/mol (``W_kj_per_mol``)."""
        if (W_kT is None) == (W_kj_per_mol is None):
            raise StochasticInputError("give exactly one of W_kT or W_kj_per_mol")
        z = _as_grid(z)
        if W_kT is None:
            w = _as_values("W_kj_per_mol", W_kj_per_mol, z, "kJ/mol")
            W_kT = w / units.kT_kj_per_mol(temperature)
        return cls(
            z=z,
            W=np.broadcast_to(W_kT, z.shape),
            D=np.broadcast_to(D, z.shape),
            temperature=temperature,
            kind=kind,
        )

    @classmethod
    def from_callables(
        cls,
        W_kT: Callable[[np.ndarray], np.ndarray],
        D: Callable[[np.ndarray], np.ndarray] | float,
        *,
        z_range: tuple[float, float],
        temperature: float,
        n: int = 2001,
        kind: str = "cubic",
    ) -> Profile:
        """Sample ``W_kT(z)`` [kT] and ``D(z)`` [nm^2/ns] on ``n`` uniform points of ``z_range``."""
        a, b = map(float, z_range)
        if not b > a:
            raise StochasticInputError(
                f"z_range must be (low, high) with high > low, got {z_range}"
            )
        z = np.linspace(a, b, int(n))
        d = D(z) if callable(D) else float(D)
        return cls(
            z=z,
            W=np.broadcast_to(W_kT(z), z.shape),
            D=np.broadcast_to(d, z.shape),
            temperature=temperature,
            kind=kind,
        )

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        temperature: float,
        energy_unit: str = "kT",
        D: float | None = None,
        kind: str = "cubic",
    ) -> Profile:
        """Read a profile from a text/CSV file (columns z [nm], W [, D]) or an ``.npz``.

        Text files: whitespace or comma separated, ``#`` comments, an optional header line.
        Two columns need a constant ``D`` [nm^2/ns]; a third column is D(z). ``.npz``: arrays
        ``z``, ``W`` and optionally ``D``. ``energy_unit`` is ``"kT"`` or ``"kJ/mol"``.
        """
        path = Path(path)
        if energy_unit not in ("kT", "kJ/mol"):
            raise StochasticInputError(f"energy_unit must be 'kT' or 'kJ/mol', got {energy_unit!r}")
        if path.suffix == ".npz":
            with np.load(path) as data:
                missing = {"z", "W"} - set(data.files)
                if missing:
                    raise StochasticInputError(f"{path} lacks arrays {sorted(missing)}")
                z, w = data["z"], data["W"]
                d = data["D"] if "D" in data.files else None
        else:
            text = path.read_text().splitlines()
            rows = []
            for line in text:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.replace(",", " ").split()
                try:
                    rows.append([float(p) for p in parts])
                except ValueError:
                    if rows:
                        raise StochasticInputError(f"{path}: cannot parse line {line!r}") from None
                    continue  # header
            arr = np.array(rows, dtype=float)
            if arr.ndim != 2 or arr.shape[1] not in (2, 3):
                raise StochasticInputError(f"{path}: expected 2 or 3 numeric columns (z, W[, D])")
            z, w = arr[:, 0], arr[:, 1]
            d = arr[:, 2] if arr.shape[1] == 3 else None
        if d is None:
            if D is None:
                raise StochasticInputError(f"{path} has no D column; pass D=<nm^2/ns>")
            d = D
        key = "W_kT" if energy_unit == "kT" else "W_kj_per_mol"
        return cls.from_arrays(z, D=d, temperature=temperature, kind=kind, **{key: w})

    @classmethod
    def from_potential(
        cls,
        z: np.ndarray,
        phi_mV: np.ndarray,
        valence: int,
        temperature: float,
        *,
        D: np.ndarray | float,
        kind: str = "cubic",
    ) -> Profile:
        """Profile ``W = z_ion e phi / kT`` from an axial electric potential (e.g. PNP/PB) [mV]."""
        z = _as_grid(z)
        phi = _as_values("phi_mV", phi_mV, z, "mV")
        w = valence * phi / units.thermal_voltage_mV(temperature)
        return cls.from_arrays(z, W_kT=w, D=D, temperature=temperature, kind=kind)

    def to_npz(self, path: str | Path) -> None:
        """Write ``z``, ``W`` [kT], ``D`` and ``temperature`` to an ``.npz`` file."""
        np.savez(path, z=self.z, W=self.W, D=self.D, temperature=self.temperature)

    # ----------------------------------------------------------------------------- derived
    @property
    def length(self) -> float:
        """Length of the profile [nm]."""
        return float(self.z[-1] - self.z[0])

    @property
    def W_kj_per_mol(self) -> np.ndarray:
        """W at the grid points [kJ/mol]."""
        return self.W * units.kT_kj_per_mol(self.temperature)

    @property
    def kT_kj_per_mol(self) -> float:
        """Thermal energy at this profile's temperature [kJ/mol]."""
        return units.kT_kj_per_mol(self.temperature)

    @cached_property
    def _w_interp(self):
        if self.kind == "linear":
            return make_interp_spline(self.z, self.W, k=1)
        return CubicSpline(self.z, self.W)

    @cached_property
    def _d_interp(self):
        if self.kind == "linear" or np.ptp(self.D) == 0.0:
            return make_interp_spline(self.z, self.D, k=1)
        return CubicSpline(self.z, self.D)

    def _check_inside(self, x: np.ndarray) -> None:
        lo, hi = self.z[0], self.z[-1]
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        if np.any(x < lo - tol) or np.any(x > hi + tol):
            raise StochasticInputError(
                f"position outside the profile [{lo:g}, {hi:g}] nm (min {np.min(x):g}, "
                f"max {np.max(x):g}); extend the profile or move the point"
            )

    def W_at(self, x: np.ndarray | float) -> np.ndarray:
        """Interpolated W(x) [kT]."""
        x = np.asarray(x, dtype=float)
        self._check_inside(x)
        return self._w_interp(x)

    def dW_at(self, x: np.ndarray | float, order: int = 1) -> np.ndarray:
        """Derivative ``d^order W/dz^order`` of the interpolant [kT/nm^order]."""
        x = np.asarray(x, dtype=float)
        self._check_inside(x)
        return self._w_interp.derivative(order)(x)

    def D_at(self, x: np.ndarray | float) -> np.ndarray:
        """Interpolated D(x) [nm^2/ns], clipped below at the smallest grid value's 1e-3."""
        x = np.asarray(x, dtype=float)
        self._check_inside(x)
        return np.maximum(self._d_interp(x), 1e-3 * float(np.min(self.D)))

    def force_kj_per_mol_nm(self, x: np.ndarray | float) -> np.ndarray:
        """Mean force ``-dW/dz`` in particle units [kJ/(mol nm)]."""
        return -self.kT_kj_per_mol * self.dW_at(x)

    def friction_kg_per_s(self, x: np.ndarray | float) -> np.ndarray:
        """Einstein friction ``gamma = kT/D(x)`` [kg/s]."""
        return einstein_friction_kg_per_s(self.D_at(x), self.temperature)

    # ----------------------------------------------------------------------------- new profiles
    def with_W(self, W_kT: np.ndarray) -> Profile:
        """Same grid and D with a new W [kT]."""
        return replace(self, W=np.asarray(W_kT, dtype=float))

    def shifted(self, reference: str | float = "left") -> Profile:
        """W shifted so that it is 0 at the left end (``"left"``), its minimum, or a value."""
        if reference == "left":
            w0 = self.W[0]
        elif reference == "min":
            w0 = np.min(self.W)
        else:
            w0 = float(reference)
        return self.with_W(self.W - w0)

    def with_linear_potential(
        self,
        voltage_mV: float,
        valence: int,
        drop: tuple[float, float] | None = None,
    ) -> Profile:
        """Add the energy of an ion of ``valence`` in a linear voltage drop.

        The electric potential is ``voltage_mV`` on the left of ``drop = (z_a, z_b)`` (default: the
        whole profile), falls linearly to 0 across it and is 0 on the right; so a positive voltage
        drives cations from left to right. ``W += valence * phi / (kT/e)``.
        """
        if voltage_mV == 0.0 or valence == 0:
            return self
        za, zb = (self.z[0], self.z[-1]) if drop is None else map(float, drop)
        if not zb > za:
            raise StochasticInputError(f"drop must be (z_a, z_b) with z_b > z_a, got {drop}")
        s = np.clip((self.z - za) / (zb - za), 0.0, 1.0)
        phi = voltage_mV * (1.0 - s)
        return self.with_W(self.W + valence * phi / units.thermal_voltage_mV(self.temperature))

    def with_electric_potential(
        self, z_phi: np.ndarray, phi_mV: np.ndarray, valence: int, kind: str = "linear"
    ) -> Profile:
        """Add ``valence * phi(z) / (kT/e)`` for a given axial potential (e.g. from PNP) [mV].

        ``phi`` is interpolated (``"linear"`` or ``"cubic"``) from its own grid ``z_phi``
        [nm], which must cover this profile. Use it instead of :meth:`with_linear_potential`
        when the voltage drop is not linear.
        """
        zp = _as_grid(z_phi)
        ph = _as_values("phi_mV", phi_mV, zp, "mV")
        if zp[0] > self.z[0] + 1e-12 or zp[-1] < self.z[-1] - 1e-12:
            raise StochasticInputError(
                f"the potential's grid [{zp[0]:g}, {zp[-1]:g}] nm does not cover the profile "
                f"[{self.z[0]:g}, {self.z[-1]:g}] nm"
            )
        interp = CubicSpline(zp, ph) if kind == "cubic" else make_interp_spline(zp, ph, k=1)
        return self.with_W(
            self.W + valence * interp(self.z) / units.thermal_voltage_mV(self.temperature)
        )

    def refined(self, n: int) -> Profile:
        """The interpolant resampled on ``n`` uniform points (same kind)."""
        z = np.linspace(self.z[0], self.z[-1], int(n))
        return replace(self, z=z, W=self.W_at(z), D=self.D_at(z))


# --------------------------------------------------------------------------------- friction
def einstein_friction_kg_per_s(D_nm2_per_ns: np.ndarray | float, temperature: float):
    """Einstein friction ``gamma = kT/D`` [kg/s] from D [nm^2/ns]."""
    d = np.asarray(D_nm2_per_ns, dtype=float)
    if np.any(~(d > 0)):
        raise StochasticInputError(f"D must be > 0 nm^2/ns, got {D_nm2_per_ns!r}")
    return units.kT_joule(temperature) / (d * units.NM2_PER_NS)


def stokes_friction_kg_per_s(viscosity_pa_s: float, radius_nm: float, stick: bool = True) -> float:
    """Stokes friction ``6 pi eta R`` (stick) or ``4 pi eta R`` (slip) [kg/s].

    Water at 298 K has ``eta`` = 0.89e-3 Pa s.
    """
    if not (viscosity_pa_s > 0 and radius_nm > 0):
        raise StochasticInputError(
            f"viscosity (Pa s) and radius (nm) must be > 0, got {viscosity_pa_s!r}, {radius_nm!r}"
        )
    return (6.0 if stick else 4.0) * math.pi * viscosity_pa_s * radius_nm * units.NM


def friction_kg_per_s_to_amu_per_ps(gamma_kg_per_s: float) -> float:
    """Friction [kg/s] -> particle units [amu/ps] (1 amu/ps = 1.6605e-15 kg/s)."""
    return gamma_kg_per_s / AMU_PER_PS_IN_KG_PER_S


def friction_amu_per_ps_to_kg_per_s(gamma_amu_per_ps: float) -> float:
    """Friction [amu/ps] -> [kg/s]."""
    return gamma_amu_per_ps * AMU_PER_PS_IN_KG_PER_S
