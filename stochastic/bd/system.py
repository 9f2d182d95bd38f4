"""The BD channel system as plain data (:class:`BDSystem`) and its compiled parameter arrays.

A :class:`BDSystem` holds the geometry, the electrolyte (species from :mod:`poreflux.species`
with their bath concentrations), temperature, solvent permittivity, the external field and the
numerical parameters; everything is validated on construction. :meth:`BDSystem.compile` turns
it into the flat arrays of :mod:`stochastic.bd.kernels` (:class:`KernelModel`).

Diffusion coefficients: the library value at 25 degC scaled to ``temperature`` by Stokes-Einstein
(:func:`poreflux.species.diffusion_at`), or a position-dependent ``D(z)`` per species given as
``(z, D)`` arrays [nm, nm^2/ns] or a callable of z; the Ermak-McCammon step then carries the
drift ``dD/dz`` (Ito convention), which keeps the Boltzmann distribution stationary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from poreflux import units
from poreflux.species import Electrolyte, Species, diffusion_at
from poreflux.water import EPS_WATER_25C
from stochastic.bd import kernels as K
from stochastic.bd.fields import ExternalField
from stochastic.bd.geometry import BDInputError, ChannelGeometry

__all__ = ["MM_TO_PER_NM3", "BDSystem", "KernelModel"]

#: number density [1/nm^3] of 1 mM
MM_TO_PER_NM3: float = units.N_A * 1e-27

DiffusionSpec = tuple[np.ndarray, np.ndarray] | Callable[[np.ndarray], np.ndarray] | float


@dataclass(frozen=True, eq=False)
class KernelModel:
    """Flat arrays for the compiled kernels (see :mod:`stochastic.bd.kernels`)."""

    fp: np.ndarray
    ip: np.ndarray
    table: np.ndarray
    dtab: np.ndarray
    dgrad: np.ndarray
    pore_r: np.ndarray
    sq: np.ndarray
    sa: np.ndarray

    def external_energy(self, s: int, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """External energy [kT] (walls, grid, drop) of species ``s`` at many points."""
        return np.array(
            [
                K.external(
                    s, px, py, pz, self.fp, self.ip, self.table, self.pore_r, self.sq, self.sa
                )[0]
                for px, py, pz in zip(np.ravel(x), np.ravel(y), np.ravel(z), strict=True)
            ]
        )


@dataclass(frozen=True, eq=False)
class BDSystem:
    """A channel system for grand-canonical Brownian dynamics.

    Parameters
    ----------
    geometry
        Membrane, pore, baths and buffers.
    electrolyte
        Species and bath concentrations [mM] (the targets of both buffers); every species needs
        an ``ionic_radius``.
    temperature
        [K].
    eps_r
        Solvent relative permittivity (ion-ion Coulomb in a uniform dielectric).
    field
        External field (applied voltage, static potential and self-energy grids).
    diffusion
        Optional ``D(z)`` per species name: ``(z, D)`` arrays, a callable or a constant
        [nm^2/ns] (finite and > 0 everywhere, else :class:`BDInputError`).
    dt
        Time step [ns] (default 1e-4 ns = 0.1 ps).
    wall_stiffness
        ``k_w`` of the harmonic ion-wall repulsion [kT/nm^2].
    max_drift
        Largest drift displacement per step and component [nm] before clipping.
    n_planes
        Number of equally spaced planes inside the pore at which crossings are counted (the
        current is their average).
    interactions
        False: no ion-ion forces (independent ions, an ideal solution; for validation).
    """

    geometry: ChannelGeometry
    electrolyte: Electrolyte
    temperature: float = 298.15
    eps_r: float = EPS_WATER_25C
    field: ExternalField = field(default_factory=ExternalField)
    diffusion: Mapping[str, DiffusionSpec] | None = None
    dt: float = 1e-4
    wall_stiffness: float = 500.0
    max_drift: float = 0.1
    n_planes: int = 9
    interactions: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.geometry, ChannelGeometry):
            raise BDInputError("geometry must be a ChannelGeometry")
        if not isinstance(self.electrolyte, Electrolyte):
            raise BDInputError("electrolyte must be a poreflux.species.Electrolyte")
        if not isinstance(self.field, ExternalField):
            raise BDInputError("field must be an ExternalField")
        for sp in self.electrolyte.species:
            if sp.ionic_radius is None:
                raise BDInputError(
                    f"species {sp.name!r} has no ionic_radius; give one with "
                    "dataclasses.replace(species, ionic_radius=...)"
                )
        for name, unit in (
            ("temperature", "K"),
            ("eps_r", ""),
            ("dt", "ns"),
            ("wall_stiffness", "kT/nm^2"),
            ("max_drift", "nm"),
        ):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise BDInputError(f"{name} must be finite and > 0 {unit}, got {v!r}")
            object.__setattr__(self, name, v)
        if (
            isinstance(self.n_planes, bool)
            or int(self.n_planes) != self.n_planes
            or self.n_planes < 1
        ):
            raise BDInputError(f"n_planes must be an integer >= 1, got {self.n_planes!r}")
        object.__setattr__(self, "n_planes", int(self.n_planes))
        unknown = set(self.diffusion or {}) - set(self.electrolyte.names)
        if unknown:
            raise BDInputError(f"D(z) given for species not in the electrolyte: {sorted(unknown)}")
        stiff = self.wall_stiffness * max(self.diffusions) * self.dt
        if stiff > 1.0:
            raise BDInputError(
                f"dt = {self.dt:g} ns is too large for the wall stiffness: D k_w dt = {stiff:.2g} "
                "> 1 (unstable); lower dt or wall_stiffness"
            )
        self.compile()  # validates the grids (coverage, species) and D(z) once

    # ----------------------------------------------------------------------------- species
    @property
    def species(self) -> tuple[Species, ...]:
        """The ion species, in order."""
        return self.electrolyte.species

    @property
    def names(self) -> tuple[str, ...]:
        """Species names."""
        return self.electrolyte.names

    @property
    def valences(self) -> np.ndarray:
        """Valences as floats."""
        return np.array(self.electrolyte.valences, dtype=float)

    @property
    def radii(self) -> np.ndarray:
        """Ionic radii [nm]."""
        return np.array([sp.ionic_radius for sp in self.species], dtype=float)

    @property
    def diffusions(self) -> np.ndarray:
        """Bulk diffusion coefficients [nm^2/ns] at ``temperature`` (Stokes-Einstein)."""
        return np.array([diffusion_at(sp, self.temperature) for sp in self.species])

    @property
    def targets_mM(self) -> np.ndarray:
        """Bath (buffer target) concentrations [mM]."""
        return np.array(self.electrolyte.bulk, dtype=float)

    @property
    def bjerrum_nm(self) -> float:
        """Bjerrum length of the solvent [nm]."""
        return units.bjerrum_length_nm(self.eps_r, self.temperature)

    @property
    def thermal_voltage_mV(self) -> float:
        """kT/e [mV]."""
        return units.thermal_voltage_mV(self.temperature)

    # ----------------------------------------------------------------------------- compile
    def _diffusion_tables(self, n: int = 2001) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        zm = self.geometry.z_max
        zg = np.linspace(-zm, zm, n)
        dtab = np.empty((len(self.names), n))
        for s, (name, d0) in enumerate(zip(self.names, self.diffusions, strict=True)):
            spec = (self.diffusion or {}).get(name)
            if spec is None:
                dtab[s] = d0
            elif isinstance(spec, int | float | np.floating) and not isinstance(spec, bool):
                dtab[s] = float(spec)  # a constant D, checked below like a profile
            elif callable(spec):
                dtab[s] = np.asarray(spec(zg), dtype=float) * np.ones_like(zg)
            else:
                zs, ds = (np.asarray(v, dtype=float) for v in spec)
                if zs.ndim != 1 or zs.shape != ds.shape or np.any(np.diff(zs) <= 0):
                    raise BDInputError(f"D(z) of {name}: give increasing z and D of equal length")
                if zs[0] > -zm or zs[-1] < zm:
                    raise BDInputError(
                        f"D(z) of {name} covers [{zs[0]:g}, {zs[-1]:g}] nm, the box needs "
                        f"[{-zm:g}, {zm:g}] nm"
                    )
                dtab[s] = np.interp(zg, zs, ds)
            if not (np.all(np.isfinite(dtab[s])) and np.all(dtab[s] > 0)):
                raise BDInputError(f"D(z) of {name} must be finite and > 0 nm^2/ns everywhere")
        return zg, dtab, np.gradient(dtab, zg, axis=1)

    def compile(self) -> KernelModel:
        """The flat parameter arrays of the kernels."""
        g = self.geometry
        zg, dtab, dgrad = self._diffusion_tables()
        mode, axes, table = self.field.tabulate(
            g, self.names, tuple(int(v) for v in self.valences), self.temperature
        )
        fp = np.zeros(K.N_FP)
        ip = np.zeros(K.N_IP, dtype=np.int64)
        fp[K.F_LB] = self.bjerrum_nm if self.interactions else 0.0
        fp[K.F_H] = g.half_length
        fp[K.F_RB] = g.bath_radius
        fp[K.F_ZMAX] = g.z_max
        fp[K.F_KW] = self.wall_stiffness
        fp[K.F_ABATH] = float(np.max(self.radii))
        if self.field.constant_field:
            fp[K.F_UDROP] = self.field.voltage_mV / self.thermal_voltage_mV
        for k, ax in enumerate(axes):
            fp[K.F_G0 + k] = ax[0]
            fp[K.F_GI + k] = 1.0 / (ax[1] - ax[0])
            ip[K.I_GN + k] = ax.size
        ip[K.I_MODE] = mode
        fp[K.F_D0], fp[K.F_DI] = zg[0], 1.0 / (zg[1] - zg[0])
        fp[K.F_P0], fp[K.F_PI] = g.pore.z[0], 1.0 / (g.pore.z[1] - g.pore.z[0])
        fp[K.F_DT] = self.dt
        fp[K.F_MAXDRIFT] = self.max_drift
        spacing = 2.0 * g.half_length / (self.n_planes + 1)
        fp[K.F_PL0], fp[K.F_PLD] = -g.half_length + spacing, spacing
        ip[K.I_NPL] = self.n_planes
        ip[K.I_ND] = zg.size
        ip[K.I_NP] = g.pore.z.size
        return KernelModel(
            fp,
            ip,
            np.ascontiguousarray(table),
            dtab,
            dgrad,
            np.ascontiguousarray(g.pore.radius, dtype=float),
            self.valences,
            self.radii,
        )
