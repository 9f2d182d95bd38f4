"""Plain, frozen description of a Poisson-Nernst-Planck problem.

A :class:`PNPProblem` composes the electrostatics description shared with the PB solver
(:class:`pnp.problems.electrostatics.Electrostatics`: permittivity by region, fixed
volume/surface/point charges
-- the wall surface charges are its ``surface_charges`` --, extra Dirichlet potentials,
temperature) with what only transport needs: the bath electrolytes on the two reservoir ends (they
may differ), the applied voltage and optional per-species excess chemical potentials.

Sign conventions
----------------
- The applied voltage is ``V = phi_top - phi_bottom`` [mV]: the potential is ``V`` on the ``top``
  boundary (largest z) and 0 on the ``bottom`` boundary.
- A current is positive when positive charge flows from top to bottom (through the pore in the
  ``-z`` direction), so that an Ohmic pore has ``I = G V`` with ``G > 0``.

It holds no DOLFINx objects; :class:`pnp.solvers.steady.SteadyPNPSolver` turns it into forms on a
mesh.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from meshes import names
from pnp.forms.correlations import default_correlation_length_nm
from pnp.problems.electrostatics import MAX_POTENTIAL_MV, Electrostatics, SurfaceCharge
from pnp.problems.ion_model import (
    check_correlation_length,
    check_ion_model,
    check_packing,
    is_steric,
    species_sizes,
)
from poreflux.errors import InputError
from poreflux.species import Electrolyte, Species
from poreflux.units import E_CHARGE, MM, N_A, NM2_PER_NS, kT_joule
from poreflux.water import EPS_WATER_25C

#: Scaled concentration given to a species absent from one bath (its log must stay finite):
#: this fraction of the total ion concentration of that bath.
ABSENT_FRACTION = 1e-9

#: Default relative permittivities of the standard regions (used by :func:`channel_problem`).
DEFAULT_PERMITTIVITY: Mapping[str, float] = MappingProxyType(
    {
        names.BATH: EPS_WATER_25C,
        names.PORE: EPS_WATER_25C,
        names.SOLVENT: EPS_WATER_25C,
        names.MEMBRANE: 2.0,
        names.PROTEIN: 2.0,
        names.SOLUTE: 2.0,
    }
)

#: Excess chemical potential: callable ``f(x) -> values`` with ``x`` of shape ``(3, n)`` [nm],
#: returning ``n`` values in kT. Must vanish on the bath ends.
MuEx = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PNPProblem:
    """A steady or transient PNP problem on a channel mesh.

    Parameters
    ----------
    electrostatics
        Permittivity, fixed charges (wall surface charges included), extra Dirichlet potentials
        and the temperature; must not fix the potential on ``top`` / ``bottom`` (the applied
        voltage does).
    bath_top
        Electrolyte at the ``top`` end [mM].
    bath_bottom
        Electrolyte at the ``bottom`` end; ``None`` = same as ``bath_top``. Species present in one
        bath only get ``ABSENT_FRACTION`` times that bath's total concentration in the other.
    voltage
        Applied voltage ``V = phi_top - phi_bottom`` [mV].
    mu_ex
        Species name -> excess chemical potential ``mu_ex(x)`` in kT (callable on coordinates of
        shape ``(3, n)`` in nm), e.g. a PMF from a particle model. It must vanish on the bath ends.
    diffusion
        Species name -> diffusion coefficient override [nm^2/ns] (e.g. a reduced in-pore value
        for a whole run); by default the species' own value.
    water_regions
        Regions holding mobile ions; ``None`` takes the mesh record's ``water_regions``.
    top, bottom
        Names of the two bath-end boundaries.
    c0
        Reference concentration [mM] of the scaled equations; ``None`` = the largest bath
        concentration (keeps the scaled unknowns of order 1).
    ion_model
        ``"point"`` (default), ``"steric"`` or ``"steric+correlations"``
        (:mod:`pnp.problems.ion_model`).
    ion_size, ion_sizes
        Steric models: lattice size [nm] of every species, and per-species overrides; default
        the hydrated diameter of each species.
    correlation_length
        BSK correlation length ``l_c`` [nm] (``"steric+correlations"``); ``None`` =
        :func:`pnp.forms.correlations.default_correlation_length_nm`.
    """

    electrostatics: Electrostatics
    bath_top: Electrolyte
    bath_bottom: Electrolyte | None = None
    voltage: float = 0.0
    mu_ex: Mapping[str, MuEx] = field(default_factory=dict)
    diffusion: Mapping[str, float] = field(default_factory=dict)
    water_regions: tuple[str, ...] | None = None
    top: str = names.TOP
    bottom: str = names.BOTTOM
    c0: float | None = None
    ion_model: str = "point"
    ion_size: float | None = None
    ion_sizes: Mapping[str, float] = field(default_factory=dict)
    correlation_length: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.electrostatics, Electrostatics):
            raise InputError(
                "electrostatics must be a pnp.problems.electrostatics.Electrostatics object"
            )
        if not isinstance(self.bath_top, Electrolyte):
            raise InputError("bath_top must be an Electrolyte, e.g. poreflux.salt('KCl', 150)")
        if self.bath_bottom is None:
            object.__setattr__(self, "bath_bottom", self.bath_top)
        elif not isinstance(self.bath_bottom, Electrolyte):
            raise InputError("bath_bottom must be an Electrolyte or None (same as bath_top)")
        try:
            v = float(self.voltage)
        except (TypeError, ValueError):
            raise InputError(f"voltage must be a number in mV, got {self.voltage!r}") from None
        if not math.isfinite(v) or abs(v) > MAX_POTENTIAL_MV:
            raise InputError(
                f"voltage must be finite and within +-{MAX_POTENTIAL_MV:g} mV, got {self.voltage!r}"
            )
        object.__setattr__(self, "voltage", v)
        fixed = {d.boundary for d in self.electrostatics.dirichlet}
        clash = fixed & {self.top, self.bottom}
        if clash:
            raise InputError(
                f"electrostatics fixes the potential on {sorted(clash)}; the PNP problem sets the "
                "bath ends from voltage= (V = phi_top - phi_bottom): remove those Dirichlet "
                "entries"
            )
        if self.top == self.bottom:
            raise InputError("top and bottom must be different boundaries")
        known = set(self.species_names)
        for label, mapping in (("mu_ex", self.mu_ex), ("diffusion", self.diffusion)):
            unknown = set(mapping) - known
            if unknown:
                raise InputError(
                    f"{label} names species {sorted(unknown)} that are in neither bath "
                    f"(species: {sorted(known)})"
                )
        for name, f in self.mu_ex.items():
            if not callable(f):
                raise InputError(f"mu_ex[{name!r}] must be a callable f(x) -> values in kT")
        for name, d in self.diffusion.items():
            if not (isinstance(d, int | float) and math.isfinite(d) and d > 0):
                raise InputError(f"diffusion[{name!r}] must be > 0 nm^2/ns, got {d!r}")
        object.__setattr__(self, "mu_ex", MappingProxyType(dict(self.mu_ex)))
        object.__setattr__(self, "diffusion", MappingProxyType(dict(self.diffusion)))
        if self.c0 is not None and not (math.isfinite(self.c0) and self.c0 > 0):
            raise InputError(f"reference concentration c0 must be > 0 mM, got {self.c0!r}")
        if self.water_regions is not None:
            object.__setattr__(self, "water_regions", tuple(self.water_regions))
        self._check_ion_model()

    def _check_ion_model(self) -> None:
        check_ion_model(self.ion_model)
        unknown = set(self.ion_sizes) - set(self.species_names)
        if unknown:
            raise InputError(f"ion_sizes names species {sorted(unknown)} that are in neither bath")
        object.__setattr__(self, "ion_sizes", MappingProxyType(dict(self.ion_sizes)))
        lc = check_correlation_length(self.correlation_length)
        object.__setattr__(self, "correlation_length", lc)
        if is_steric(self.ion_model):
            sizes = self.species_sizes
            for end in ("top", "bottom"):
                check_packing(self.bath_concentrations(end), sizes, end)

    @property
    def species_sizes(self) -> tuple[float, ...]:
        """Ion sizes [nm] in solver order (steric models; see :mod:`pnp.problems.ion_model`)."""
        return species_sizes(self.species, self.ion_size, self.ion_sizes)

    def correlation_length_nm(self, eps_r: float = EPS_WATER_25C) -> float:
        """BSK correlation length [nm]: the given one, else the default for these ions in water
        of relative permittivity ``eps_r``."""
        if self.correlation_length is not None:
            return float(self.correlation_length)
        size = max(self.species_sizes) if is_steric(self.ion_model) else None
        return default_correlation_length_nm(self.valences, eps_r, self.temperature, size)

    # --- derived data -----------------------------------------------------------------------
    @property
    def temperature(self) -> float:
        """Temperature [K]."""
        return self.electrostatics.temperature

    @property
    def species(self) -> tuple[Species, ...]:
        """Mobile species: those of the top bath, then any only in the bottom bath."""
        out = list(self.bath_top.species)
        for sp in self.bath_bottom.species:
            if sp.name not in (s.name for s in out):
                out.append(sp)
        return tuple(out)

    @property
    def species_names(self) -> tuple[str, ...]:
        """Names of the mobile species, in solver order."""
        return tuple(s.name for s in self.species)

    @property
    def valences(self) -> tuple[int, ...]:
        """Valences, in solver order."""
        return tuple(s.valence for s in self.species)

    @property
    def diffusivities(self) -> tuple[float, ...]:
        """Diffusion coefficients [nm^2/ns], in solver order (overrides applied)."""
        return tuple(self.diffusion.get(s.name, s.diffusion) for s in self.species)

    def bath_concentrations(self, end: str) -> tuple[float, ...]:
        """Bath concentrations [mM] at ``"top"``/``"bottom"`` in solver order (absent -> tiny)."""
        bath = {"top": self.bath_top, "bottom": self.bath_bottom}.get(end)
        if bath is None:
            raise InputError(f"end must be 'top' or 'bottom', got {end!r}")
        floor = ABSENT_FRACTION * bath.total_concentration
        conc = dict(bath.concentrations)
        return tuple(max(conc.get(name, 0.0), floor) for name in self.species_names)

    @property
    def reference_concentration(self) -> float:
        """``c0`` [mM] of the scaled equations."""
        if self.c0 is not None:
            return float(self.c0)
        return max(max(self.bath_top.bulk), max(self.bath_bottom.bulk))

    def water(self, cmesh: Any) -> tuple[str, ...]:
        """Water region names on ``cmesh`` (checked)."""
        regions = self.water_regions if self.water_regions is not None else cmesh.water_regions
        regions = tuple(r for r in regions if cmesh.has_region(r)) if regions else ()
        if not regions:
            raise InputError(
                "no water region on the mesh: give water_regions= naming the regions that hold "
                f"mobile ions (mesh regions: {sorted(cmesh.regions)})"
            )
        return regions

    def check_mesh(self, cmesh: Any) -> None:
        """Raise :class:`~poreflux.errors.MeshTagError` unless every name exists on ``cmesh``."""
        self.electrostatics.check_mesh(cmesh)
        cmesh.boundary(self.top)
        cmesh.boundary(self.bottom)
        self.water(cmesh)

    def with_voltage(self, voltage: float) -> PNPProblem:
        """The same problem at another applied voltage [mV]."""
        return replace(self, voltage=voltage)

    def with_baths(self, top: Electrolyte, bottom: Electrolyte | None = None) -> PNPProblem:
        """The same problem with other bath electrolytes."""
        return replace(self, bath_top=top, bath_bottom=bottom)


def channel_problem(
    cmesh: Any,
    electrolyte: Electrolyte,
    *,
    voltage: float = 0.0,
    surface_charge: float = 0.0,
    temperature: float = 298.15,
    bath_bottom: Electrolyte | None = None,
    permittivity: Mapping[str, float] | None = None,
    walls: tuple[str, ...] = (names.MEMBRANE_WALL, names.PROTEIN_WALL),
    **kwargs: Any,
) -> PNPProblem:
    """A PNP problem on a channel mesh with the usual defaults.

    Permittivities from :data:`DEFAULT_PERMITTIVITY` (overridden by ``permittivity``) for the
    regions present on the mesh, and a uniform ``surface_charge`` [C/m^2] on each of ``walls``
    present on the mesh. Other keyword arguments go to :class:`PNPProblem`.
    """
    perm = {r: DEFAULT_PERMITTIVITY[r] for r in cmesh.regions if r in DEFAULT_PERMITTIVITY}
    perm.update(permittivity or {})
    charges = ()
    if surface_charge != 0.0:
        charges = tuple(SurfaceCharge(w, surface_charge) for w in walls if cmesh.has_boundary(w))
        if not charges:
            raise InputError(
                f"surface_charge given but the mesh has none of the wall boundaries {walls}"
            )
    es = Electrostatics(temperature=temperature, permittivity=perm, surface_charges=charges)
    problem = PNPProblem(es, electrolyte, bath_bottom, voltage=voltage, **kwargs)
    problem.check_mesh(cmesh)
    return problem


def conductivity_S_per_m(problem: PNPProblem, end: str = "top") -> float:
    """Bulk conductivity ``kappa = (e^2 N_A / kT) sum_i z_i^2 D_i c_i`` [S/m] of a bath."""
    kt = kT_joule(problem.temperature)
    conc = problem.bath_concentrations(end)
    total = sum(
        z * z * d * NM2_PER_NS * c * MM
        for z, d, c in zip(problem.valences, problem.diffusivities, conc, strict=True)
    )
    return E_CHARGE**2 * N_A / kt * total
