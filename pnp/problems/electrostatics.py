"""Plain, frozen descriptions of an electrostatics / Poisson-Boltzmann problem.

These objects say *what* to solve; they hold no DOLFINx objects and are validated on
construction (:class:`~poreflux.errors.InputError` with a message saying what to change). A solver
(:class:`pnp.solvers.pb.PBSolver`, later the PNP solver) turns them into forms on a
:class:`meshes.record.ChannelMesh`; :meth:`Electrostatics.check_mesh` verifies the names.

Units (the README's table): nm, mV, mM, K, charges in e; surface charge densities in C/m^2
(the unit of the field), volume charge densities in e/nm^3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from pnp.forms.poisson import PB_MODELS, needs_ion_size
from poreflux.errors import InputError, MeshTagError
from poreflux.species import Electrolyte
from poreflux.units import N_A, NM
from poreflux.validation import check_finite, check_temperature

#: Largest |potential| or |voltage| accepted anywhere [mV] (far beyond membrane breakdown, ~0.5 V).
MAX_POTENTIAL_MV = 5000.0
#: Largest |surface charge| accepted [C/m^2] (about 6 e/nm^2; beyond any real interface).
MAX_SURFACE_CHARGE = 1.0
#: Largest |volume charge| accepted [e/nm^3].
MAX_VOLUME_CHARGE = 100.0


def _finite(value: Any, what: str) -> float:
    return check_finite(value, what)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty name (see meshes.names), got {value!r}")
    return value


@dataclass(frozen=True)
class VolumeCharge:
    """Uniform fixed charge density in a named region.

    Parameters
    ----------
    region
        Region name (cell physical group), e.g. ``meshes.names.PROTEIN``.
    density
        Charge density [e/nm^3].
    """

    region: str
    density: float

    def __post_init__(self) -> None:
        _name(self.region, "VolumeCharge.region")
        d = _finite(self.density, f"volume charge density in region {self.region!r} [e/nm^3]")
        if abs(d) > MAX_VOLUME_CHARGE:
            raise InputError(
                f"volume charge density {d:g} e/nm^3 in region {self.region!r} is unphysical "
                f"(|rho| > {MAX_VOLUME_CHARGE:g}); check the unit (e/nm^3, not C/m^3)"
            )
        object.__setattr__(self, "density", d)


@dataclass(frozen=True)
class SurfaceCharge:
    """Uniform fixed surface charge density on a named boundary or interface.

    Exterior boundaries are integrated with ``ds``, interior interfaces with ``dS`` (the solver
    decides from the mesh).

    Parameters
    ----------
    boundary
        Facet group name, e.g. ``meshes.names.MEMBRANE_WALL``.
    density
        Surface charge density [C/m^2] (1 e/nm^2 = 0.1602 C/m^2).
    """

    boundary: str
    density: float

    def __post_init__(self) -> None:
        _name(self.boundary, "SurfaceCharge.boundary")
        d = _finite(self.density, f"surface charge density on {self.boundary!r} [C/m^2]")
        if abs(d) > MAX_SURFACE_CHARGE:
            raise InputError(
                f"surface charge density {d:g} C/m^2 on {self.boundary!r} is unphysical "
                f"(|sigma| > {MAX_SURFACE_CHARGE:g} C/m^2); check the unit (C/m^2)"
            )
        object.__setattr__(self, "density", d)


@dataclass(frozen=True)
class PointCharges:
    """Point-like charges (e.g. from a PQR file) smoothed onto the mesh.

    Smoothing: each charge ``q_k`` at ``x_k`` becomes the normalised Gaussian
    ``q_k (2 pi w^2)^(-3/2) exp(-|x - x_k|^2 / (2 w^2))`` of width ``w`` (truncated at
    ``cutoff * w``), interpolated into continuous P1 and then rescaled so that its integral over
    the mesh (with the same weight as the equations: ``2 pi r`` for axisymmetric meshes) is
    exactly ``q_k``: total charge is conserved to round-off whatever the mesh. ``w`` should be at
    least about the local mesh size. In a 2D axisymmetric mesh only charges on the axis (x = y = 0)
    are allowed (an off-axis charge would be a ring).

    Parameters
    ----------
    positions
        ``(n, 3)`` coordinates [nm] (x, y, z; the pore axis is z).
    charges
        ``(n,)`` charges [e].
    width
        Gaussian width ``w`` [nm].
    cutoff
        Truncation radius in units of ``w``.
    """

    positions: np.ndarray
    charges: np.ndarray
    width: float = 0.2
    cutoff: float = 5.0

    def __post_init__(self) -> None:
        pos = np.array(self.positions, dtype=float, copy=True)
        q = np.array(self.charges, dtype=float, copy=True).reshape(-1)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise InputError(f"point charge positions must have shape (n, 3), got {pos.shape}")
        if pos.shape[0] != q.shape[0]:
            raise InputError(
                f"{pos.shape[0]} point-charge positions but {q.shape[0]} charges; give one "
                f"charge per position"
            )
        if pos.shape[0] == 0:
            raise InputError("PointCharges needs at least one charge (or pass point_charges=None)")
        if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(q))):
            raise InputError("point-charge positions and charges must be finite (found NaN/inf)")
        w = _finite(self.width, "point-charge smoothing width [nm]")
        if w <= 0:
            raise InputError(f"point-charge smoothing width must be > 0 nm, got {w:g}")
        c = _finite(self.cutoff, "point-charge cutoff [widths]")
        if c < 2:
            raise InputError(f"point-charge cutoff must be >= 2 widths, got {c:g}")
        pos.setflags(write=False)
        q.setflags(write=False)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "charges", q)
        object.__setattr__(self, "width", w)
        object.__setattr__(self, "cutoff", c)

    @property
    def total_charge(self) -> float:
        """Sum of the charges [e]."""
        return float(np.sum(self.charges))

    @classmethod
    def from_pqr(cls, path: str | Path, width: float = 0.2, cutoff: float = 5.0) -> PointCharges:
        """Read atoms from a PQR file (coordinates in Angstrom are converted to nm)."""
        from pnp.problems.pqr import read_pqr

        atoms = read_pqr(path)
        return cls(atoms.positions_nm, atoms.charges, width=width, cutoff=cutoff)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PointCharges):
            return NotImplemented
        return (
            np.array_equal(self.positions, other.positions)
            and np.array_equal(self.charges, other.charges)
            and self.width == other.width
            and self.cutoff == other.cutoff
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class DirichletPotential:
    """Fixed potential on a named boundary.

    Parameters
    ----------
    boundary
        Facet group name, e.g. ``meshes.names.TOP``.
    value
        Potential [mV].
    """

    boundary: str
    value: float

    def __post_init__(self) -> None:
        _name(self.boundary, "DirichletPotential.boundary")
        v = _finite(self.value, f"potential on {self.boundary!r} [mV]")
        if abs(v) > MAX_POTENTIAL_MV:
            raise InputError(
                f"potential {v:g} mV on {self.boundary!r} is beyond +-{MAX_POTENTIAL_MV:g} mV; "
                "the unit is mV"
            )
        object.__setattr__(self, "value", v)


def _freeze_mapping(mapping: Mapping[str, float], what: str) -> Mapping[str, float]:
    if not isinstance(mapping, Mapping) or not mapping:
        raise InputError(f"{what} must be a non-empty mapping region name -> value")
    out = {}
    for key, value in mapping.items():
        _name(key, f"{what} key")
        out[key] = _finite(value, f"{what}[{key!r}]")
    return MappingProxyType(out)


def _tuple_of(items: Any, kind: type, what: str) -> tuple:
    if items is None:
        return ()
    if isinstance(items, kind):
        return (items,)
    items = tuple(items)
    for item in items:
        if not isinstance(item, kind):
            raise InputError(f"{what} must contain {kind.__name__} objects, got {item!r}")
    return items


@dataclass(frozen=True)
class Electrostatics:
    """Poisson problem data: permittivity by region, fixed charges and Dirichlet potentials.

    Shared by the PB and PNP solvers.

    Parameters
    ----------
    temperature
        Temperature [K] (no hidden default).
    permittivity
        Region name -> relative permittivity (> 0). Every region of the mesh must be listed.
    volume_charges, surface_charges
        Fixed charges (see :class:`VolumeCharge`, :class:`SurfaceCharge`).
    point_charges
        Optional smoothed point charges (see :class:`PointCharges`).
    dirichlet
        Fixed potentials on named boundaries. Boundaries without one are natural (zero
        normal displacement unless a surface charge sits there; symmetry on the axis).
    """

    temperature: float
    permittivity: Mapping[str, float]
    volume_charges: Sequence[VolumeCharge] = ()
    surface_charges: Sequence[SurfaceCharge] = ()
    point_charges: PointCharges | None = None
    dirichlet: Sequence[DirichletPotential] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", check_temperature(self.temperature))
        perm = _freeze_mapping(self.permittivity, "permittivity")
        for region, eps in perm.items():
            if eps <= 0:
                raise InputError(
                    f"relative permittivity of region {region!r} must be > 0, got {eps:g} "
                    f"(water ~78.5, membrane ~2, protein ~2-20)"
                )
        object.__setattr__(self, "permittivity", perm)
        vol = _tuple_of(self.volume_charges, VolumeCharge, "volume_charges")
        surf = _tuple_of(self.surface_charges, SurfaceCharge, "surface_charges")
        dirichlet = _tuple_of(self.dirichlet, DirichletPotential, "dirichlet")
        names = [d.boundary for d in dirichlet]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise InputError(f"boundary {sorted(dup)} has two Dirichlet potentials; give one")
        if self.point_charges is not None and not isinstance(self.point_charges, PointCharges):
            raise InputError("point_charges must be a PointCharges object or None")
        object.__setattr__(self, "volume_charges", vol)
        object.__setattr__(self, "surface_charges", surf)
        object.__setattr__(self, "dirichlet", dirichlet)

    @property
    def has_fixed_charge(self) -> bool:
        """True when any fixed charge is present."""
        return bool(self.volume_charges or self.surface_charges or self.point_charges)

    def check_mesh(self, cmesh: Any) -> None:
        """Raise :class:`~poreflux.errors.MeshTagError` unless every name exists on ``cmesh``.

        Every region of the mesh needs a permittivity, every named region/boundary must exist.
        """
        missing = sorted(set(cmesh.regions) - set(self.permittivity))
        if missing:
            raise InputError(
                f"no permittivity given for region(s) {missing} of the mesh; add them to "
                f"permittivity= (mesh regions: {sorted(cmesh.regions)})"
            )
        for region in self.permittivity:
            cmesh.region(region)
        for vc in self.volume_charges:
            cmesh.region(vc.region)
        for sc in self.surface_charges:
            cmesh.boundary(sc.boundary)
        for d in self.dirichlet:
            cmesh.boundary(d.boundary)
        if cmesh.axisymmetric and self.point_charges is not None:
            off = np.hypot(self.point_charges.positions[:, 0], self.point_charges.positions[:, 1])
            if np.any(off > 1e-12):
                raise InputError(
                    "a 2D axisymmetric mesh can only carry point charges on the axis "
                    f"(x = y = 0); {int(np.sum(off > 1e-12))} charge(s) are off-axis. "
                    "Use a 3D mesh for a general charge distribution"
                )


@dataclass(frozen=True)
class PBProblem:
    """A Poisson-Boltzmann problem: electrostatics plus an equilibrium electrolyte.

    Mobile ions live only in the water regions and follow Boltzmann statistics relative to the
    bulk (potential 0):

    - ``"linear"``: Debye-Hückel, ``c_i = c_i^b (1 - z_i psi)``;
    - ``"nonlinear"``: ``c_i = c_i^b exp(-z_i psi)``;
    - ``"bikerman"``: size-modified (Borukhov, Andelman & Orland, PRL 79, 435 (1997)),
      ``c_i = c_i^b exp(-z_i psi) / (1 + sum_j nu_j (exp(-z_j psi) - 1))`` with the bulk
      volume fractions ``nu_j = c_j^b N_A a^3`` (``a = ion_size``, lattice cell side),

    with ``psi = e phi / kT``.

    Parameters
    ----------
    electrostatics
        Permittivity, fixed charges, Dirichlet potentials and temperature.
    electrolyte
        Bath composition; ``None`` solves plain Poisson (no mobile ions).
    model
        ``"linear"``, ``"nonlinear"`` or ``"bikerman"``.
    ion_size
        Lattice size ``a`` [nm] for ``"bikerman"`` (e.g. 0.7 nm for hydrated ions).
    water_regions
        Regions holding mobile ions; ``None`` takes the mesh's ``water_regions``.
    correlation_length
        Bazant-Storey-Kornyshev correlation length ``l_c`` [nm]: the modified PB equation
        ``eps (l_c^2 nabla^4 - nabla^2) phi = rho`` (:mod:`pnp.forms.correlations`); ``None``
        (default) = plain PB. Use it with ``model="bikerman"`` (as BSK do).
    """

    electrostatics: Electrostatics
    electrolyte: Electrolyte | None = None
    model: str = "nonlinear"
    ion_size: float | None = None
    water_regions: tuple[str, ...] | None = None
    correlation_length: float | None = None
    _nu: tuple[float, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if not isinstance(self.electrostatics, Electrostatics):
            raise InputError(
                "electrostatics must be a pnp.problems.electrostatics.Electrostatics object"
            )
        if self.electrolyte is not None and not isinstance(self.electrolyte, Electrolyte):
            raise InputError(
                "electrolyte must be a poreflux.Electrolyte (e.g. poreflux.salt('KCl', 150)) "
                "or None"
            )
        if self.model not in PB_MODELS:
            raise InputError(f"unknown PB model {self.model!r}; choose one of {PB_MODELS}")
        if needs_ion_size(self.model) and self.ion_size is None:
            raise InputError(f"the {self.model!r} model needs ion_size= [nm] (e.g. 0.7)")
        if self.ion_size is not None:
            a = _finite(self.ion_size, "ion_size [nm]")
            if a <= 0 or a > 5:
                raise InputError(f"ion_size must be in (0, 5] nm, got {a:g}")
            object.__setattr__(self, "ion_size", a)
        if needs_ion_size(self.model) and self.electrolyte is not None:
            nu = tuple(c * N_A * (self.ion_size * NM) ** 3 for c in self.electrolyte.bulk)
            if sum(nu) >= 1.0:
                raise InputError(
                    f"bulk packing fraction sum(c_i N_A a^3) = {sum(nu):.3f} >= 1 for ion_size "
                    f"{self.ion_size:g} nm: the ions do not fit; lower ion_size or the "
                    "concentration"
                )
            object.__setattr__(self, "_nu", nu)
        if self.water_regions is not None:
            wr = tuple(_name(r, "water region") for r in self.water_regions)
            object.__setattr__(self, "water_regions", wr)
        if self.correlation_length is not None:
            lc = _finite(self.correlation_length, "correlation_length [nm]")
            if not 0 < lc <= 5:
                raise InputError(f"correlation_length must be in (0, 5] nm, got {lc:g}")
            if self.electrolyte is None:
                raise InputError("correlation_length needs an electrolyte (mobile ions)")
            object.__setattr__(self, "correlation_length", lc)

    @property
    def temperature(self) -> float:
        """Temperature [K]."""
        return self.electrostatics.temperature

    @property
    def volume_fractions(self) -> tuple[float, ...]:
        """Bulk volume fractions ``nu_j`` of the Bikerman model (empty otherwise)."""
        return self._nu

    def water(self, cmesh: Any) -> tuple[str, ...]:
        """The water region names on ``cmesh`` (checked to exist)."""
        names = self.water_regions if self.water_regions is not None else cmesh.water_regions
        names = tuple(names)
        if self.electrolyte is not None:
            if not names:
                raise MeshTagError(
                    "the problem has an electrolyte but no water regions: pass water_regions= "
                    "or use a mesh whose record lists water_regions"
                )
            for name in names:
                cmesh.region(name)
        return names

    def check_mesh(self, cmesh: Any) -> None:
        """Check every name of the problem against the mesh (raises MeshTagError)."""
        self.electrostatics.check_mesh(cmesh)
        self.water(cmesh)
